// The balancer is a pure function of the pool's state: checked here without interpreters.

import { describe, expect, it } from "vitest";
import { chooseInterpreter, type SlotView } from "../../src/pool/balance.js";

const free = (load = 0, tenant?: string): SlotView => ({ alive: true, load, tenant });

describe("chooseInterpreter", () => {
  it("takes the least loaded interpreter", () => {
    expect(chooseInterpreter([free(3), free(1), free(2)], 0, undefined, false)).toBe(1);
  });

  it("breaks ties round-robin from the start index", () => {
    const slots = [free(1), free(1), free(1)];
    expect(chooseInterpreter(slots, 0, undefined, false)).toBe(0);
    expect(chooseInterpreter(slots, 1, undefined, false)).toBe(1);
    expect(chooseInterpreter(slots, 2, undefined, false)).toBe(2);
  });

  it("skips dead interpreters, and answers -1 when none is alive", () => {
    expect(chooseInterpreter([{ alive: false, load: 0 }, free(5)], 0, undefined, false)).toBe(1);
    expect(chooseInterpreter([{ alive: false, load: 0 }], 0, undefined, false)).toBe(-1);
  });

  it("with exclusive tenancy, prefers the package's own or free interpreters, even when busier", () => {
    const slots = [free(0, "p1"), free(4, "p2"), free(2)];
    expect(chooseInterpreter(slots, 0, "p2", true)).toBe(2);
    expect(chooseInterpreter([free(0, "p1"), free(4, "p2")], 0, "p2", true)).toBe(1);
    // Without exclusivity (trusted isolation) tenants do not matter.
    expect(chooseInterpreter(slots, 0, "p2", false)).toBe(0);
  });

  it("with exclusive tenancy and every interpreter taken by others, takes the least loaded (it will switch tenant)", () => {
    expect(chooseInterpreter([free(3, "p1"), free(1, "p3")], 0, "p2", true)).toBe(1);
  });
});

describe("chooseInterpreter with interpreters sharing threads (WASI)", () => {
  const on = (thread: number, load = 0, tenant?: string): SlotView => ({ alive: true, load, tenant, thread });

  it("prefers an idle interpreter on a thread with no running call", () => {
    // Threads 0 and 1 hold two interpreters each; one on thread 0 is busy.
    const slots = [on(0, 1), on(0), on(1), on(1)];
    expect(chooseInterpreter(slots, 0, undefined, false)).toBe(2);
    // Even when round-robin starts at the idle interpreter on the busy thread.
    expect(chooseInterpreter(slots, 1, undefined, false)).toBe(2);
  });

  it("spreads concurrent calls over threads before stacking them on one", () => {
    const slots = [on(0), on(0), on(1), on(1)];
    const picked: number[] = [];
    for (let k = 0; k < 2; k++) {
      const i = chooseInterpreter(slots, k, undefined, false);
      picked.push(i);
      slots[i] = { ...slots[i]!, load: slots[i]!.load + 1 };
    }
    expect(new Set(picked.map((i) => slots[i]!.thread)).size).toBe(2);
  });

  it("still takes the least loaded interpreter first (its own queue beats a busy neighbour)", () => {
    // Interpreter 0 idles on a busy thread; interpreter 1 has a queued job on an otherwise idle one.
    expect(chooseInterpreter([on(0), on(0, 2), on(1, 1)], 0, undefined, false)).toBe(0);
  });

  it("keeps tenancy ahead of thread balance", () => {
    const slots = [on(0, 0, "p1"), on(0, 1, "p2"), on(1, 0, "p1"), on(1, 0, "p3")];
    expect(chooseInterpreter(slots, 0, "p1", true)).toBe(2);
    expect(chooseInterpreter(slots, 0, "p2", true)).toBe(1);
  });

  it("treats interpreters without a shared thread as each on its own", () => {
    expect(chooseInterpreter([free(0), on(0, 1), on(0)], 1, undefined, false)).toBe(0);
  });
});
