// How much slower a little JavaScript runs right after a long stretch of other work than back to
// back (issue 26: the fixed part of a host-replayed call grew with the graph it surrounds). The
// same chain of five small async functions (a call path's shape: objects, a Map, a string, an
// await per layer) is timed hot, after a busy loop of 0.5 ms and of 10 ms, after a 10 ms sweep
// over 64 MB (what a convnet's run does to the caches), and after sleeping 10 ms. Median µs.
//
//   node bench/experiments/js-after-a-run.mjs [--rounds 300]

import { parseArgs } from "node:util";

const { values } = parseArgs({ options: { rounds: { type: "string", default: "300" } } });
const rounds = Number(values.rounds);

class Entry {
  constructor(x) {
    this.x = x;
    this.m = new Map();
  }
}
async function f5(x) {
  const e = new Entry(x);
  e.m.set(`k${x}`, [x, x + 1]);
  return e;
}
const f4 = async (x) => await f5(x);
const f3 = async (x) => await f4({ ...{ a: 1, b: 2 }, x }.x);
const f2 = async (x) => JSON.stringify(await f3(x)).length;
const chain = async (x) => await f2(x);

const big = Buffer.alloc(64 << 20);
const sab = new Int32Array(new SharedArrayBuffer(4));
const busy = (ms) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const before = {
  "back to back": () => {},
  "after a 0.5 ms busy loop": () => busy(0.5),
  "after a 10 ms busy loop": () => busy(10),
  "after a 10 ms sweep of 64 MB": () => {
    const end = performance.now() + 10;
    for (let k = 0; performance.now() < end; k++) big.fill(k & 255, 0, 16 << 20);
  },
  "after sleeping 10 ms": () => Atomics.wait(sab, 0, 0, 10),
};

for (let i = 0; i < 5000; i++) await chain(i); // optimized, as a server's hot path would be
const times = Object.fromEntries(Object.keys(before).map((k) => [k, []]));
for (let r = 0; r < rounds; r++) {
  for (const [k, f] of Object.entries(before)) {
    f();
    const t = performance.now();
    await chain(r);
    times[k].push(performance.now() - t);
  }
}
for (const [k, xs] of Object.entries(times)) {
  xs.sort((a, b) => a - b);
  const q = (p) => (xs[Math.floor(p * (xs.length - 1))] * 1000).toFixed(1);
  console.log(`${k.padEnd(32)} median ${q(0.5)} µs (p10 ${q(0.1)}, p90 ${q(0.9)})`);
}
