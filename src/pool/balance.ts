// Load balancing as a pure function of the pool's state, so it can be read and tested alone.

/** What the balancer sees of one interpreter. */
export interface SlotView {
  alive: boolean;
  /** Queued + running jobs + pinned sessions. */
  load: number;
  /** Exclusive tenancy: the one package this interpreter serves, if any. */
  tenant?: string;
}

/**
 * The interpreter to run the next job on: least load wins, ties go round-robin from `start`
 * so load spreads. With `exclusive` tenancy (sandboxed), a package's jobs go first to
 * interpreters that serve no other package; when every interpreter serves someone else, the
 * least loaded is taken anyway (it switches tenant by being replaced). Returns -1 when no
 * interpreter is alive.
 */
export function chooseInterpreter(slots: readonly SlotView[], start: number, pkg: string | undefined, exclusive: boolean): number {
  const n = slots.length;
  const tenantOk = (s: SlotView) => !exclusive || pkg === undefined || s.tenant === undefined || s.tenant === pkg;
  for (const strict of [true, false]) {
    let best = -1;
    for (let k = 0; k < n; k++) {
      const i = (start + k) % n;
      const s = slots[i]!;
      if (!s.alive || (strict && !tenantOk(s))) continue;
      if (best < 0 || s.load < slots[best]!.load) best = i;
      if (slots[best]!.load === 0) break;
    }
    if (best >= 0) return best;
  }
  return -1;
}
