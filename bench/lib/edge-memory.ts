// What a workerd isolate serving a `wasmdeploy edge` project holds, read from outside: V8's heap
// through the inspector, the linear memories the worker reports (GET /edge/memory) and the
// process RSS. Shared by bench/edge-soak.ts and bench/edge-two.ts.

import { rssBytes } from "../../test/edge/workerd.js";
import { attachInspector, type HeapUsage, type InspectedWorkerd } from "./inspector.js";

export interface EdgeMemory {
  heap: HeapUsage;
  /** GET /edge/memory: the interpreters' linear memories, how many interpreters, ort-web's. */
  interpreterLinearMemory: number;
  interpreters: number;
  ortLinearMemory: number;
  /** workerd's resident memory, bytes. */
  rss: number;
}

export interface EdgeMemoryReader {
  read(): Promise<EdgeMemory>;
  close(): void;
}

/** Waits (up to 30 s) until the project at `url` answers, then attaches to its isolate's inspector. */
export async function edgeMemoryReader(w: InspectedWorkerd, url: string): Promise<EdgeMemoryReader> {
  for (const until = Date.now() + 30000; ; ) {
    try {
      await (await fetch(`${url}/v2/health/live`)).arrayBuffer();
      break;
    } catch (e) {
      if (Date.now() > until) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const inspector = await attachInspector(w.inspectorPort);
  return {
    async read() {
      const heap = await inspector.heapUsage();
      const mem = (await (await fetch(`${url}/edge/memory`)).json()) as { interpreterLinearMemory: number; interpreters: number; ortLinearMemory: number };
      return { heap, interpreterLinearMemory: mem.interpreterLinearMemory, interpreters: mem.interpreters, ortLinearMemory: mem.ortLinearMemory, rss: rssBytes(w.proc.pid!) };
    },
    close: () => inspector.close(),
  };
}
