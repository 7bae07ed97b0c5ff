// glibc keeps what a thread frees in that thread's malloc arena; malloc-trim gives it back. A
// worker thread allocates and frees 96 MB in blocks small enough to come from its arena: the
// process must hold them after the free, and not after the trim, whether this thread trims or
// queues the trim to libuv's pool (trimMallocInBackground). The addon is built by
// `npm run build`; under CI its absence is a failure, not a skip.

import { readFileSync } from "node:fs";
import { Worker } from "node:worker_threads";
import { describe, expect, it } from "vitest";
import { mallocTrimAvailable, trimMalloc, trimMallocInBackground } from "../../dist/platform/node/malloc-trim.js";

const MB = 2 ** 20;
const anon = () => Number(/^Anonymous:\s+(\d+) kB/m.exec(readFileSync("/proc/self/smaps_rollup", "utf8"))![1]) * 1024;

// One 8 MB buffer freed first raises glibc's mmap threshold (it follows the largest mapping
// freed, up to 32 MB), so the 256 KB blocks after it come from the thread's arena, not mmap.
const WORKER = `
const { parentPort } = require("node:worker_threads");
const { setFlagsFromString } = require("node:v8");
const { runInNewContext } = require("node:vm");
setFlagsFromString("--expose-gc");
const collect = runInNewContext("gc");
let big = Buffer.alloc(8 * 2 ** 20, 1);
big = undefined;
collect();
let blocks = Array.from({ length: 384 }, (_, i) => Buffer.alloc(256 * 1024, i & 255));
parentPort.postMessage("allocated");
parentPort.once("message", () => {
  blocks = undefined;
  collect();
  collect();
  parentPort.postMessage("freed");
  parentPort.once("message", () => process.exit(0));
});
`;

const next = (w: Worker) => new Promise<unknown>((r) => w.once("message", r));

describe.runIf(process.platform === "linux")("malloc-trim", () => {
  it("is built (CI builds it)", () => {
    if (process.env.CI) expect(mallocTrimAvailable()).toBe(true);
  });

  for (const background of [false, true]) {
    it.runIf(mallocTrimAvailable())(`gives back what a thread freed and its arena kept${background ? ", from a pool thread while this one goes on" : ""}`, async () => {
      trimMalloc();
      const start = anon();
      const w = new Worker(WORKER, { eval: true });
      try {
        await next(w);
        const allocated = anon() - start;
        expect(allocated).toBeGreaterThan(80 * MB);
        w.postMessage("free");
        await next(w);
        // Freed, but the arena keeps it.
        const kept = anon() - start;
        expect(kept).toBeGreaterThan(0.4 * allocated); // 70 of 103 MB when written
        if (background) {
          trimMallocInBackground();
          // Done when libuv's pool runs it: wait for it, 2 s at most.
          for (let i = 0; i < 100 && anon() - start > kept - 0.4 * allocated; i++) await new Promise((r) => setTimeout(r, 20));
        } else expect(trimMalloc()).toBe(true);
        const after = anon() - start;
        console.log(`malloc-trim: allocated ${(allocated / MB).toFixed(1)} MB, kept after the free ${(kept / MB).toFixed(1)} MB, after the trim ${(after / MB).toFixed(1)} MB`);
        expect(after).toBeLessThan(kept - 0.4 * allocated); // 7.5 MB when written
      } finally {
        w.postMessage("exit");
        await new Promise((r) => w.once("exit", r));
      }
    });
  }
});
