// Load balancing as a pure function of the pool's state, so it can be read and tested alone.

/** What the balancer sees of one interpreter. */
export interface SlotView {
  alive: boolean;
  /** Queued + running jobs + pinned sessions. */
  load: number;
  /** Exclusive tenancy: the one package this interpreter serves, if any. */
  tenant?: string;
  /**
   * The thread it runs on, when several interpreters share one (WASI): interpreters on one
   * thread run one call at a time. Undefined: a thread or process of its own.
   */
  thread?: number;
}

/** Load of every thread: the sum of its interpreters' loads. */
function threadLoads(slots: readonly SlotView[]): Map<number, number> {
  const loads = new Map<number, number>();
  for (const s of slots) if (s.alive && s.thread !== undefined) loads.set(s.thread, (loads.get(s.thread) ?? 0) + s.load);
  return loads;
}

/**
 * The interpreter to run the next job on: least load wins; among equally loaded ones, the one
 * whose thread is least busy (an idle interpreter on a thread already running a call would
 * only wait behind it); remaining ties go round-robin from `start` so load spreads. With
 * `exclusive` tenancy (sandboxed), a package's jobs go first to interpreters that serve no
 * other package; when every interpreter serves someone else, the least loaded is taken anyway
 * (it switches tenant by being replaced). Returns -1 when no interpreter is alive.
 */
export function chooseInterpreter(slots: readonly SlotView[], start: number, pkg: string | undefined, exclusive: boolean): number {
  const n = slots.length;
  const byThread = threadLoads(slots);
  const threadLoad = (s: SlotView) => (s.thread === undefined ? s.load : byThread.get(s.thread)!);
  const better = (a: SlotView, b: SlotView) => a.load < b.load || (a.load === b.load && threadLoad(a) < threadLoad(b));
  const tenantOk = (s: SlotView) => !exclusive || pkg === undefined || s.tenant === undefined || s.tenant === pkg;
  for (const strict of [true, false]) {
    let best = -1;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const s = slots[i]!;
      if (!s.alive || (strict && !tenantOk(s))) continue;
      if (best < 0 || better(s, slots[best]!)) best = i;
      if (threadLoad(slots[best]!) === 0) break; // idle on an idle thread: nothing beats it
    }
    if (best >= 0) return best;
  }
  return -1;
}
