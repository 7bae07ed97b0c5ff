// Tidying a thread (a collection of its heap, glibc's malloc_trim) once it has gone idle after
// work that left garbage: a compile, a package's load, a long call.
//
// A trim walks every malloc arena of the process, each under its lock, and takes 4-47 ms on this
// VM after a model's first compile; the collection takes the thread's own time. Run at a fixed
// delay after the work, they landed on the next call: the second interpreter's unpickling of
// resnet18, right after the first model's first call, took 33-73 ms against 22-24 ms with no
// trim at all (one process each, 4 runs). So a pending tidy waits until its thread has had no
// work for `idleMs`, and each piece of work that starts or ends pushes it back. One postponed
// for `maxPostponeMs` by several pieces of work runs at the next end of work, so a thread that
// is never idle still tidies (one long piece, a model's first call, is not a reason: the next
// call often follows it at once).

export interface IdleTidyOptions {
  /** How long the thread must have had no work before the tidy runs. */
  idleMs: number;
  /** At least this long between two tidies (a trim frees nothing new when repeated at once). */
  gapMs?: number;
  /** A tidy postponed this long, by POSTPONES_FOR_OVERDUE pieces of work, runs at the next end of work anyway. */
  maxPostponeMs: number;
  /** The pending tidy does not keep the process alive (on the host thread, whose exit it must not delay). */
  unref?: boolean;
}

const POSTPONES_FOR_OVERDUE = 3;

export class IdleTidy {
  readonly #tidy: () => void;
  readonly #o: Required<IdleTidyOptions>;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** When the pending tidy was first wanted; undefined when none is pending. */
  #wantedSince: number | undefined;
  /** Pieces of work started since it was wanted. */
  #postponed = 0;
  #tidiedAt = -Infinity;
  /** Pieces of work under way on this thread (async runs can overlap). */
  #working = 0;

  constructor(tidy: () => void, options: IdleTidyOptions) {
    this.#tidy = tidy;
    this.#o = { gapMs: 0, unref: false, ...options };
  }

  /** Work left something to give back: tidy once the thread is idle. */
  want(): void {
    this.#wantedSince ??= performance.now();
    if (this.#working === 0) this.#arm();
  }

  /** Work starts on this thread: a pending tidy waits for it. */
  begin(): void {
    this.#working++;
    if (this.#wantedSince !== undefined) this.#postponed++;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Work ends: a pending tidy waits `idleMs` more, or runs now if postponed long enough. */
  end(): void {
    this.#working = Math.max(0, this.#working - 1);
    if (this.#wantedSince === undefined) return;
    const overdue = performance.now() - this.#wantedSince >= this.#o.maxPostponeMs && this.#postponed >= POSTPONES_FOR_OVERDUE;
    if (overdue) this.#run();
    else if (this.#working === 0) this.#arm();
  }

  #arm(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    const wait = Math.max(this.#o.idleMs, this.#tidiedAt + this.#o.gapMs - performance.now());
    this.#timer = setTimeout(() => this.#run(), wait);
    if (this.#o.unref) this.#timer.unref();
  }

  #run(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (performance.now() - this.#tidiedAt < this.#o.gapMs) return this.#arm();
    this.#wantedSince = undefined;
    this.#postponed = 0;
    this.#tidiedAt = performance.now();
    this.#tidy();
  }
}
