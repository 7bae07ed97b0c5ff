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
