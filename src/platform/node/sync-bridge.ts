// The interpreter end of the bridge: a synchronous function Python calls to reach the
// engine on the host. It posts the request on a MessagePort, blocks the worker thread on
// Atomics.wait until the host signals, then takes the reply with receiveMessageOnPort
// (the worker's event loop is not running while Python runs, so no listener could see it).

import { type MessagePort, receiveMessageOnPort } from "node:worker_threads";
import type { BridgeReply, SyncBridge } from "../../protocol.js";
import { checkBridgeSize } from "../../bridge/requests.js";

export type { SyncBridge };

export function makeSyncBridge(port: MessagePort, flagBuffer: SharedArrayBuffer): SyncBridge {
  const flag = new Int32Array(flagBuffer);
  let seq = 0;
  return (kind, json, buffers) => {
    // Refused here, before the request is copied to the host.
    checkBridgeSize(json.length, buffers.reduce((n, b) => n + b.byteLength, 0));
    const id = ++seq;
    Atomics.store(flag, 0, 0);
    port.postMessage({ id, kind, json, buffers: [...buffers] });
    for (;;) {
      Atomics.wait(flag, 0, 0, 1000);
      const got = receiveMessageOnPort(port) as { message: BridgeReply } | undefined;
      if (!got) continue;
      const reply = got.message;
      if (reply.id !== id) continue; // a stale reply to a request abandoned by an interrupt
      if (!reply.ok) throw new Error(reply.error);
      return [reply.json, reply.buffers];
    }
  };
}
