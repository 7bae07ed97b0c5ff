// WASI CPython instances inside one isolate (no threads): each interpreter is a WasiInstance
// whose engine bridge is a promise, reached through JSPI. While one instance waits for the
// engine, the isolate serves other requests and other instances run their Python.
//
// Deadlines: the interrupt slot is read by CPython's periodic eval-loop check, but JavaScript
// (the deadline timer) only runs while Python is suspended on the bridge or in time.sleep. So a
// call is interrupted at its next engine call or sleep; pure Python that never yields cannot be
// (the platform's CPU-time limit ends the request instead; docs/edge.md).

import { fileTree, WasiInstance } from "../../interpreter/wasi/instance.js";
import { faultOf, type MemoryUse } from "../../interpreter/wasi/instance-call.js";
import type { Transport, TransportFactory } from "../../interpreter/transport.js";
import { answerBridge, type FromInterpreter, type InterpreterBoot } from "../../protocol.js";
import type { EdgeAssets } from "./assets.js";
import { recordPhase } from "./timings.js";

export interface EdgeSpawnOptions {
  /** Linear memory cap per instance, bytes. */
  memoryMaxBytes: number;
}

export function edgeTransports(assets: EdgeAssets, opts: EdgeSpawnOptions): TransportFactory {
  const tree = fileTree(assets.files);
  return (boot: InterpreterBoot, h): Transport => {
    let signal = 0;
    let wake: (() => void) | undefined;
    let gone = false;
    let wi: WasiInstance | undefined;
    let bridgeSeq = 0;
    const emit = (m: FromInterpreter) => {
      if (!gone) h.onMessage(m);
    };
    const die = (reason: string, memory?: MemoryUse) => {
      if (gone) return;
      emit({ type: "fatal", reason, memory });
      gone = true;
      h.onExit(reason);
    };
    // Start after the pool has attached its handlers (it expects an asynchronous "ready").
    const started = Date.now();
    const booting = Promise.resolve().then(async () => {
      try {
        const snapshot = await assets.snapshot?.();
        const bootStarted = performance.now();
        wi = new WasiInstance(assets.python, assets.minPages, tree, opts.memoryMaxBytes, {
          output: (stream, text) => emit({ type: "stdout", stream, text }),
          interrupt: () => {
            const s = signal;
            signal = 0;
            return s;
          },
          sleep: () => false, // unused: sleepAsync replaces it under JSPI
          sleepAsync: (ms) =>
            new Promise<boolean>((resolve) => {
              const t = setTimeout(() => {
                wake = undefined;
                resolve(false);
              }, ms);
              wake = () => {
                clearTimeout(t);
                wake = undefined;
                resolve(true);
              };
            }),
          asyncBridge: async (kind, json, buffers) => {
            const t = performance.now();
            const reply = await answerBridge(h.bridge, { id: ++bridgeSeq, kind: kind as never, json, buffers });
            recordPhase(`engine request "${kind}" (Python waits)`, t);
            if (!reply.ok) throw new Error(reply.error);
            return [reply.json, reply.buffers];
          },
        });
        if (snapshot) wi.restore(snapshot, Boolean(boot.eager));
        else {
          wi.boot();
          wi.afterBoot(Boolean(boot.eager));
        }
        recordPhase(snapshot ? "interpreter: instantiate python.wasm and restore the snapshot" : "interpreter: instantiate python.wasm and boot CPython", bootStarted);
        emit({ type: "ready", bootMs: Date.now() - started, fromSnapshot: Boolean(assets.snapshot), heapBytes: wi.heapBytes });
      } catch (e) {
        die(`boot failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    });
    return {
      send(msg) {
        signal = 0; // a deadline of an earlier call must not hit this one
        void booting.then(async () => {
          if (gone || !wi) return;
          try {
            const t = performance.now();
            const r = await wi.callAsync(msg.op, msg.json, msg.buffers);
            recordPhase(`host request "${msg.op}" to Python (engine requests included)`, t);
            const oom = wi.memoryFault(r);
            if (oom) {
              die(oom.message, oom.memory);
              return;
            }
            emit({ type: "result", id: msg.id, ok: r.ok, json: r.json, buffers: r.buffers, heapBytes: wi.heapBytes, release: r.release });
          } catch (e) {
            const f = faultOf(e);
            die(f.reason, f.memory);
          }
        });
      },
      interrupt() {
        signal = 2;
        wake?.();
      },
      async terminate() {
        // A call suspended on the engine is abandoned: its promise is never resumed.
        gone = true;
        wi = undefined;
      },
      residentBytes: () => undefined,
    };
  };
}
