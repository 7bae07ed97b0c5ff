// A thread's tidy (collection, malloc_trim) waits until the thread has been idle, so that it does
// not land on the next call (src/platform/node/idle-tidy.ts).

import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { IdleTidy } from "../../src/platform/node/idle-tidy.js";

describe("IdleTidy", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });
  const make = (o: { idleMs: number; gapMs?: number; maxPostponeMs: number }) => {
    const ran: number[] = [];
    const tidy = new IdleTidy(() => ran.push(performance.now()), o);
    /** One piece of work that takes `ms`. */
    const work = (ms: number) => {
      tidy.begin();
      vi.advanceTimersByTime(ms);
      tidy.end();
    };
    return { tidy, ran, work };
  };

  it("runs once the thread has been idle, and not before", () => {
    const { tidy, ran } = make({ idleMs: 100, maxPostponeMs: 10_000 });
    vi.advanceTimersByTime(500);
    expect(ran).toHaveLength(0); // nothing wanted
    tidy.want();
    vi.advanceTimersByTime(99);
    expect(ran).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(ran).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(ran).toHaveLength(1); // once per want
  });

  it("waits for work that starts while it is pending, and for idleMs after it", () => {
    const { tidy, ran, work } = make({ idleMs: 100, maxPostponeMs: 10_000 });
    tidy.want();
    vi.advanceTimersByTime(90);
    work(300); // a timer due during the work would fire here if begin() did not hold it
    expect(ran).toHaveLength(0);
    vi.advanceTimersByTime(99);
    expect(ran).toHaveLength(0);
    vi.advanceTimersByTime(1);
    expect(ran).toHaveLength(1);
  });

  it("wanted during work, runs only after the work ends and the thread has been idle", () => {
    const { tidy, ran } = make({ idleMs: 100, maxPostponeMs: 10_000 });
    tidy.begin();
    tidy.want();
    vi.advanceTimersByTime(500);
    expect(ran).toHaveLength(0);
    tidy.end();
    vi.advanceTimersByTime(100);
    expect(ran).toHaveLength(1);
  });

  it("one long piece of work does not make it overdue; a stream of short ones does", () => {
    const { tidy, ran, work } = make({ idleMs: 100, maxPostponeMs: 2000 });
    tidy.want();
    work(5000); // a model's first call: longer than maxPostponeMs, one piece
    expect(ran).toHaveLength(0);
    // Calls 50 ms apart: never idle for 100 ms, so only the overdue rule can run it.
    for (let i = 0; i < 100 && ran.length === 0; i++) {
      vi.advanceTimersByTime(50);
      work(10);
    }
    expect(ran).toHaveLength(1);
    expect(ran[0]).toBeLessThanOrEqual(5000 + 2 * 60 + 60); // at the end of the stream's next work
  });

  it("keeps gapMs between two tidies", () => {
    const { tidy, ran } = make({ idleMs: 100, gapMs: 2000, maxPostponeMs: 10_000 });
    tidy.want();
    vi.advanceTimersByTime(100);
    expect(ran).toHaveLength(1);
    tidy.want();
    vi.advanceTimersByTime(1000);
    expect(ran).toHaveLength(1);
    vi.advanceTimersByTime(1000);
    expect(ran).toHaveLength(2);
    expect(ran[1]! - ran[0]!).toBeGreaterThanOrEqual(2000);
  });
});
