// One model's request queue: at most `concurrency` calls in flight (one per interpreter, so
// waiting happens here where it is measured and bounded), at most `maxQueue` waiting (then
// 429), deadlines that expire queued requests, and opt-in dynamic batching: requests whose
// tensors agree after dim 0 are concatenated along dim 0 and the results split back.
//
// Admission happens before a request's body is read: `admit` hands out a ticket (a place in
// the queue) while fewer than `readAhead` requests are read or being read ahead of the
// interpreters; past that, the request waits *unread* (its body stays in the socket, costing no
// CPU) until a place frees. Only a full line (`maxQueue`, read and unread together) is refused,
// and that refusal costs no body read and no parse.

import { Tensor } from "../tensor.js";
import { HttpError } from "./errors.js";

export interface CallOutcome {
  value: unknown;
  queueMs: number;
  computeMs: number;
  /** Requests that shared the call (1 without batching). */
  batch: number;
}

export interface SchedulerOptions {
  concurrency: number;
  maxQueue: number;
  /** Largest batch (sum of dim 0). 0 turns batching off. */
  maxBatch: number;
  maxDelayMs: number;
  /** Runs the model. `timeoutMs` is what is left of the tightest deadline in the call. */
  invoke(args: unknown[], timeoutMs: number | undefined): Promise<unknown>;
  /** A batch could not be split back (the model's outputs do not follow dim 0). */
  onUnsplittable?(reason: string): void;
  /**
   * Requests read and parsed ahead of the interpreters (the rest of the queue waits unread).
   * Default: enough to keep every interpreter and a forming batch fed, at least 4.
   */
  readAhead?: number;
  /** Every model call: the requests it served, its duration, whether it succeeded (statistics). */
  onCall?(requests: number, computeMs: number, ok: boolean): void;
}

/** A place in the queue, taken before the body is read; `submit` uses it, `release` gives it back. */
export interface Ticket {
  /** performance.now() when the request arrived (its wait counts from here). */
  readonly arrived: number;
  readonly deadline: number | undefined;
  /** Give the place back (the request failed before it was queued). Idempotent; a no-op once submitted. */
  release(): void;
}

/** Admission's answer: a place now, or a wait (unread) for one that `cancel` abandons. */
export type Admission = { ticket: Ticket } | { wait: Promise<Ticket>; cancel(): void };

interface Waiter {
  arrived: number;
  deadline: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  resolve(t: Ticket): void;
  reject(e: unknown): void;
}

interface Job {
  args: unknown[];
  key: string | undefined;
  rows: number;
  deadline: number | undefined;
  enqueued: number;
  resolve(o: CallOutcome): void;
  reject(e: unknown): void;
}

export class Scheduler {
  #queue: Job[] = [];
  #inFlight = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #idle: (() => void)[] = [];
  /** Tickets handed out whose requests are being read and parsed. */
  #reserved = 0;
  /** Requests admitted to the line but not read yet, first come first served. */
  #waiters: Waiter[] = [];
  #closed: unknown;
  readonly #readAhead: number;

  constructor(private readonly opts: SchedulerOptions) {
    const fed = Math.max(4, 2 * opts.concurrency * Math.max(1, opts.maxBatch));
    this.#readAhead = Math.max(1, Math.min(opts.maxQueue, opts.readAhead ?? fed));
  }

  /** Requests waiting for an interpreter: read, being read, and unread. */
  get queued(): number {
    return this.#queue.length + this.#reserved + this.#waiters.length;
  }

  /** Requests in the queue whose bodies have not been read yet. */
  get unread(): number {
    return this.#waiters.length;
  }

  get readAhead(): number {
    return this.#readAhead;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  get concurrency(): number {
    return this.opts.concurrency;
  }

  /** One error for every refusal: a refusal should cost no allocation it can avoid (a stack trace). */
  #fullError?: HttpError;
  #full(): HttpError {
    return (this.#fullError ??= new HttpError(429, `the model's queue is full (${this.opts.maxQueue} waiting); retry later`));
  }

  /**
   * A place in the queue for a request whose body is not read yet. Throws (at once, without
   * waiting) HttpError 429 when the line is full, or the unload error once closed. Otherwise a
   * ticket now, or a wait for one: waiting requests are not read until a place frees, and get
   * 504 if their deadline passes first.
   */
  admit(deadline: number | undefined, arrived = performance.now()): Admission {
    if (this.#closed !== undefined) throw this.#closed;
    if (this.#waiting() >= this.opts.maxQueue) throw this.#full();
    if (!this.#waiters.length && this.#canRead()) return { ticket: this.#ticket(arrived, deadline) };
    let waiter!: Waiter;
    const wait = new Promise<Ticket>((resolve, reject) => {
      waiter = { arrived, deadline, timer: undefined, resolve, reject };
    });
    if (deadline !== undefined) {
      waiter.timer = setTimeout(() => {
        if (!this.#drop(waiter)) return;
        waiter.reject(new HttpError(504, `the request's deadline passed after ${(performance.now() - arrived).toFixed(0)} ms in the queue`));
      }, Math.max(0, deadline - performance.now()));
    }
    this.#waiters.push(waiter);
    return {
      wait,
      cancel: () => {
        if (this.#drop(waiter)) waiter.reject(new HttpError(499, "the client went away"));
      },
    };
  }

  #drop(w: Waiter): boolean {
    const i = this.#waiters.indexOf(w);
    if (i < 0) return false;
    this.#waiters.splice(i, 1);
    if (w.timer) clearTimeout(w.timer);
    this.#checkIdle();
    return true;
  }

  #ticket(arrived: number, deadline: number | undefined): Ticket {
    this.#reserved++;
    let held = true;
    const give = () => {
      if (!held) return false;
      held = false;
      this.#reserved--;
      return true;
    };
    const ticket: Ticket = {
      arrived,
      deadline,
      release: () => {
        if (!give()) return;
        this.#wake();
        this.#checkIdle();
      },
    };
    tickets.set(ticket, { owner: this, take: give });
    return ticket;
  }

  /** Interpreters with nothing to run yet: requests read for them start at once. */
  #free(): number {
    return Math.max(0, this.opts.concurrency - this.#inFlight);
  }

  /** Requests that will have to wait for an interpreter (those that will start at once are not waiting). */
  #waiting(): number {
    return Math.max(0, this.queued - this.#free());
  }

  /** May one more request be read now: fewer than `readAhead` read ahead of the interpreters. */
  #canRead(): boolean {
    return this.#queue.length + this.#reserved < this.#readAhead + this.#free();
  }

  /** Admit waiting requests while the read-ahead has room, oldest first. */
  #wake(): void {
    while (this.#waiters.length && this.#canRead()) {
      const w = this.#waiters.shift()!;
      if (w.timer) clearTimeout(w.timer);
      w.resolve(this.#ticket(w.arrived, w.deadline));
    }
  }

  /**
   * Queue a call. `deadline` is a performance.now() time. With a ticket from `admit`, the call
   * takes the ticket's place; without one it must find room (429 when the queue is full).
   */
  submit(args: unknown[], deadline: number | undefined, ticket?: Ticket): Promise<CallOutcome> {
    const t = ticket && tickets.get(ticket);
    const placed = t?.owner === this && t.take();
    if (this.#closed !== undefined) {
      if (placed) this.#wake();
      return Promise.reject(this.#closed);
    }
    if (!placed && this.#waiting() >= this.opts.maxQueue) return Promise.reject(this.#full());
    const { key, rows } = this.opts.maxBatch > 0 ? batchKey(args) : { key: undefined, rows: 0 };
    return new Promise<CallOutcome>((resolve, reject) => {
      this.#queue.push({ args, key, rows, deadline, enqueued: ticket?.arrived ?? performance.now(), resolve, reject });
      this.#pump();
    });
  }

  /** Resolves when nothing is queued (read or unread), being read, or running. */
  idle(): Promise<void> {
    if (!this.queued && !this.#inFlight) return Promise.resolve();
    return new Promise((r) => this.#idle.push(r));
  }

  /** Fails every queued request, read or not, and every later one (unload); running calls finish. */
  rejectQueued(e: unknown): void {
    this.#closed = e;
    for (const j of this.#queue.splice(0)) j.reject(e);
    for (const w of this.#waiters.splice(0)) {
      if (w.timer) clearTimeout(w.timer);
      w.reject(e);
    }
    this.#checkIdle();
  }

  #pump(): void {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    while (this.#inFlight < this.opts.concurrency && this.#queue.length) {
      const now = performance.now();
      const head = this.#queue[0]!;
      if (head.deadline !== undefined && now >= head.deadline) {
        this.#queue.shift();
        head.reject(new HttpError(504, `the request's deadline passed after ${(now - head.enqueued).toFixed(0)} ms in the queue`));
        this.#wake();
        continue;
      }
      let jobs = [head];
      if (head.key !== undefined) {
        let rows = head.rows;
        let overflow = false;
        const same = [head];
        for (const j of this.#queue.slice(1)) {
          if (j.key !== head.key) continue;
          if (rows + j.rows <= this.opts.maxBatch) {
            same.push(j);
            rows += j.rows;
          } else overflow = true;
        }
        const waitLeft = head.enqueued + this.opts.maxDelayMs - now;
        // Wait for more only while a bigger batch can still form and the head may still wait.
        if (rows < this.opts.maxBatch && !overflow && waitLeft > 0) {
          this.#timer = setTimeout(() => this.#pump(), Math.ceil(waitLeft));
          break;
        }
        jobs = preferredPrefix(same, this.opts.maxBatch);
      }
      const taken = new Set(jobs);
      this.#queue = this.#queue.filter((j) => !taken.has(j));
      this.#run(jobs, now);
      // Places freed in the read-ahead: the next waiting requests may be read now.
      this.#wake();
    }
    // An interpreter that came free with nothing read for it: read the next waiting request.
    this.#wake();
    this.#checkIdle();
  }

  #run(jobs: Job[], started: number): void {
    this.#inFlight++;
    const deadlines = jobs.map((j) => j.deadline).filter((d): d is number => d !== undefined);
    const timeoutMs = deadlines.length ? Math.max(1, Math.min(...deadlines) - started) : undefined;
    // The next call is dispatched before this one's requests are answered, so the
    // interpreter does not wait while responses are encoded and written.
    const finish = () => {
      this.#inFlight--;
      this.#pump();
    };
    const outcome = (j: Job, value: unknown, computeMs: number): CallOutcome => ({
      value,
      queueMs: started - j.enqueued,
      computeMs,
      batch: jobs.length,
    });
    const called = (n: number, ok: boolean, since = started) => this.opts.onCall?.(n, performance.now() - since, ok);
    if (jobs.length === 1) {
      const j = jobs[0]!;
      this.opts.invoke(j.args, timeoutMs).then(
        (v) => {
          const computeMs = performance.now() - started;
          called(1, true);
          finish();
          j.resolve(outcome(j, v, computeMs));
        },
        (e) => {
          called(1, false);
          finish();
          j.reject(e);
        },
      );
      return;
    }
    const args = jobs[0]!.args.map((_, i) => concat(jobs.map((j) => j.args[i] as Tensor)));
    this.opts.invoke(args, timeoutMs).then(
      (v) => {
        const computeMs = performance.now() - started;
        let parts: unknown[];
        try {
          parts = split(v, jobs.map((j) => j.rows));
        } catch (e) {
          // The model's outputs do not follow dim 0: answer each request on its own.
          this.opts.onUnsplittable?.((e as Error).message);
          void Promise.all(
            jobs.map((j) => {
              const t0 = performance.now();
              return this.opts.invoke(j.args, timeoutMs).then(
                (v1) => {
                  called(1, true, t0);
                  j.resolve({ ...outcome(j, v1, performance.now() - t0), batch: 1 });
                },
                (e1) => {
                  called(1, false, t0);
                  j.reject(e1);
                },
              );
            }),
          ).finally(finish);
          return;
        }
        called(jobs.length, true);
        finish();
        jobs.forEach((j, k) => j.resolve(outcome(j, parts[k], computeMs)));
      },
      (e) => {
        called(jobs.length, false);
        finish();
        jobs.forEach((j) => j.reject(e));
      },
    );
  }

  #checkIdle(): void {
    if (!this.queued && !this.#inFlight) for (const r of this.#idle.splice(0)) r();
  }
}

/** Which scheduler a ticket belongs to, and how to take its place (once). */
const tickets = new WeakMap<Ticket, { owner: Scheduler; take: () => boolean }>();

/**
 * The longest prefix of the gathered requests whose rows sum to a power of two or to the
 * maximum. Every distinct batch shape costs the engine a graph compilation (per engine
 * thread), so batch sizes are kept to a few: 1, 2, 4, 8, ... and max. The rest wait for the
 * next call.
 */
function preferredPrefix<J extends { rows: number }>(jobs: J[], max: number): J[] {
  let best = 1;
  let sum = 0;
  jobs.forEach((j, i) => {
    sum += j.rows;
    if (sum === max || (sum & (sum - 1)) === 0) best = i + 1;
  });
  return jobs.slice(0, best);
}

/** Requests batch together when every argument is a tensor with dim 0 of one size and the rest equal. */
export function batchKey(args: unknown[]): { key: string | undefined; rows: number } {
  if (!args.length) return { key: undefined, rows: 0 };
  let rows = -1;
  const parts: string[] = [];
  for (const a of args) {
    if (!(a instanceof Tensor) || a.shape.length === 0) return { key: undefined, rows: 0 };
    if (rows === -1) rows = a.shape[0]!;
    else if (a.shape[0] !== rows) return { key: undefined, rows: 0 };
    parts.push(`${a.dtype}[${a.shape.slice(1).join(",")}]`);
  }
  return { key: parts.join(";"), rows };
}

export function concat(ts: Tensor[]): Tensor {
  const first = ts[0]!;
  const total = ts.reduce((n, t) => n + t.data.length, 0);
  const Ctor = first.data.constructor as new (n: number) => Tensor["data"];
  const out = new Ctor(total);
  let off = 0;
  for (const t of ts) {
    (out as unknown as { set(a: ArrayLike<unknown>, o: number): void }).set(t.data as ArrayLike<unknown>, off);
    off += t.data.length;
  }
  return new Tensor(first.dtype, out, [ts.reduce((n, t) => n + t.shape[0]!, 0), ...first.shape.slice(1)]);
}

/** Splits a batched result back into one result per request, following dim 0. */
export function split(v: unknown, rows: number[]): unknown[] {
  const total = rows.reduce((a, b) => a + b, 0);
  if (v instanceof Tensor) {
    if (v.shape.length === 0 || v.shape[0] !== total) {
      throw new Error(`an output of shape [${v.shape.join(", ")}] does not have the batch's ${total} rows in dim 0`);
    }
    const per = v.data.length / total;
    let off = 0;
    return rows.map((r) => {
      const part = v.data.slice(off * per, (off + r) * per);
      off += r;
      return new Tensor(v.dtype, part, [r, ...v.shape.slice(1)]);
    });
  }
  if (Array.isArray(v)) {
    const cols = v.map((x) => split(x, rows));
    return rows.map((_, k) => {
      const items = cols.map((c) => c[k]);
      const out = new (v.constructor as ArrayConstructor)();
      out.push(...items);
      return out;
    });
  }
  if (typeof v === "object" && v !== null && Object.getPrototypeOf(v) === Object.prototype) {
    const entries = Object.entries(v).map(([k, x]) => [k, split(x, rows)] as const);
    return rows.map((_, i) => Object.fromEntries(entries.map(([k, c]) => [k, c[i]])));
  }
  throw new Error(`a ${v === null ? "None" : typeof v} output cannot be split by rows`);
}
