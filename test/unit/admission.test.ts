// The scheduler's admission (src/server/scheduler.ts), with a fake model call: places are taken
// before a body is read, requests past the read-ahead wait unread in arrival order, only a full
// line is refused (at once), requests that will start at once do not count as waiting, deadlines
// and cancellation free a waiting place, unload fails the unread too. No interpreters.

import { describe, expect, it } from "vitest";
import { HttpError } from "../../src/server/errors.js";
import { type Admission, Scheduler, type Ticket } from "../../src/server/scheduler.js";

/** A scheduler whose calls finish when the test says. */
function fake(opts: { concurrency?: number; maxQueue: number; readAhead?: number }) {
  const running: (() => void)[] = [];
  const s = new Scheduler({
    concurrency: opts.concurrency ?? 1,
    maxQueue: opts.maxQueue,
    maxBatch: 0,
    maxDelayMs: 0,
    readAhead: opts.readAhead,
    invoke: () => new Promise((resolve) => running.push(() => resolve("done"))),
  });
  return { s, finishOne: () => running.shift()?.(), running };
}

const ticketOf = (a: Admission): Ticket | undefined => ("ticket" in a ? a.ticket : undefined);
const tick = () => new Promise((r) => setTimeout(r, 0));

describe("admission before the body is read", () => {
  it("hands out places up to the read-ahead (plus free interpreters), holds the rest unread in order, refuses only a full line", async () => {
    const { s, finishOne } = fake({ maxQueue: 4, readAhead: 1 });
    // One for the idle interpreter, one read ahead: both read now.
    const a = ticketOf(s.admit(undefined))!;
    const b = ticketOf(s.admit(undefined))!;
    expect(a && b).toBeTruthy();
    // The rest wait unread.
    const c = s.admit(undefined);
    const d = s.admit(undefined);
    expect("wait" in c && "wait" in d).toBe(true);
    expect(s.unread).toBe(2);
    // a will start at once (its interpreter is free): waiting are b, c, d, so one more fits.
    const e = s.admit(undefined);
    expect("wait" in e).toBe(true);
    expect(() => s.admit(undefined)).toThrow(HttpError);
    try {
      s.admit(undefined);
    } catch (err) {
      expect((err as HttpError).status).toBe(429);
    }
    // a is read and runs; b is read and queued: a place in the read-ahead stays taken until a call ends.
    const pa = s.submit(["a"], undefined, a);
    const pb = s.submit(["b"], undefined, b);
    expect(s.unread).toBe(3);
    // a's call ends: b runs, and c (first come) may be read now; d and e still wait.
    finishOne();
    await pa;
    const order: string[] = [];
    const waitOf = (x: Admission) => (x as { wait: Promise<Ticket> }).wait;
    for (const [name, x] of [["c", c], ["d", d], ["e", e]] as const) void waitOf(x).then(() => order.push(name));
    await tick();
    expect(order).toStrictEqual(["c"]);
    expect(s.unread).toBe(2);
    // b's call ends: the interpreter is free, so d may be read too.
    finishOne();
    await pb;
    await tick();
    expect(order).toStrictEqual(["c", "d"]);
    // c's request failed before it was queued: its place is given back, and e is read.
    (await waitOf(c)).release();
    await tick();
    expect(order).toStrictEqual(["c", "d", "e"]);
    expect(s.unread).toBe(0);
  });

  it("a waiting request whose deadline passes gets a 504 and frees its place; a client that leaves frees its place", async () => {
    const { s } = fake({ maxQueue: 3, readAhead: 1 });
    ticketOf(s.admit(undefined));
    ticketOf(s.admit(undefined));
    const late = s.admit(performance.now() + 20);
    const gone = s.admit(undefined);
    expect(() => s.admit(undefined)).toThrow(/queue is full/);
    await expect((late as { wait: Promise<Ticket> }).wait).rejects.toMatchObject({ status: 504 });
    (gone as { cancel(): void }).cancel();
    await expect((gone as { wait: Promise<Ticket> }).wait).rejects.toMatchObject({ status: 499 });
    expect(s.unread).toBe(0);
    expect("wait" in s.admit(undefined)).toBe(true);
  });

  it("unload fails the requests waiting unread and every later admission; idle waits for places being read", async () => {
    const { s } = fake({ maxQueue: 3, readAhead: 1 });
    const held = ticketOf(s.admit(undefined))!;
    ticketOf(s.admit(undefined))!.release();
    ticketOf(s.admit(undefined));
    const waiting = s.admit(undefined);
    let idle = false;
    void s.idle().then(() => (idle = true));
    s.rejectQueued(new HttpError(503, "unloaded"));
    await expect((waiting as { wait: Promise<Ticket> }).wait).rejects.toMatchObject({ status: 503 });
    expect(() => s.admit(undefined)).toThrow(/unloaded/);
    await tick();
    expect(idle).toBe(false); // two places are still taken by requests being read
    await expect(s.submit(["x"], undefined, held)).rejects.toMatchObject({ status: 503 });
    expect(idle).toBe(false);
  });
});
