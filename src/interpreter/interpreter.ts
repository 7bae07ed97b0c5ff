// Host-side handle to one interpreter worker: a queue of jobs run one at a time,
// deadlines enforced with Pyodide's interrupt buffer (then termination), crash
// detection and respawn. Jobs that have not started when the worker dies are kept
// and run on the respawned worker, so no call is lost or answered twice.

import { CallTimeoutError, ClosedError, InterpreterCrashedError, MemoryLimitError, PythonError, WasmdeployError } from "../errors.js";
import type { BridgeRequest, FromInterpreter, HostOp, PyErrorPayload, WireMessage } from "../protocol.js";
import type { Transport, TransportFactory, TransportHandlers } from "./transport.js";
import { EngineMemoryError } from "../engine/errors.js";

const mb = (bytes: number) => (bytes / 2 ** 20).toFixed(1);

type Timer = ReturnType<typeof setTimeout>;

export interface JobSpec {
  op: HostOp;
  /**
   * The job's message, or how to make it when it is first sent to `interp` (a job the host may
   * answer need not be encoded).
   */
  msg: WireMessage | ((interp: Interpreter) => WireMessage);
  /** Human description for errors, e.g. "calling tok.encode". */
  context: string;
  timeoutMs?: number;
  /** Interpreter memory allowed while this job runs (bytes); past it the interpreter is replaced. */
  memoryLimitBytes?: number;
  /** Bytes the engine may allocate (graph results, written tensors) during this job. */
  engineBytesPerRun?: number;
  /** Work the interpreter must have done before this job (load a package, ...); checked at dispatch. */
  prepare?: (interp: Interpreter) => JobSpec | undefined;
  /** Refuse the job at dispatch time (e.g. its package was unloaded meanwhile). */
  check?: () => Error | undefined;
  /** Runs with its reply when a prerequisite job succeeds (e.g. mark the package loaded). */
  onDone?: (reply: WireMessage) => void;
  /** A prerequisite that replaces the interpreter with a fresh one instead of running anything. */
  recycle?: boolean;
  /** Runs as the job is sent to the interpreter (e.g. hand its input tensors to this generation). */
  onStart?: (interp: Interpreter) => void;
  /**
   * Answer the job on the host, without the interpreter (host replay, src/pool/host-replay.ts):
   * runs when the job's turn comes; undefined sends the job to Python as usual.
   */
  local?: (interp: Interpreter) => Promise<LocalResult | undefined>;
  /** Sees a successful reply before anything else is sent to this interpreter. */
  onReply?: (msg: WireMessage) => void;
}

/** A job's result made on the host (`JobSpec.local`), already a JS value. */
export class LocalResult {
  constructor(readonly value: unknown) {}
}

interface Job extends JobSpec {
  resolve: (msg: WireMessage | LocalResult) => void;
  reject: (e: Error) => void;
  timer?: Timer;
  escalation?: Timer;
  watchdog?: ReturnType<typeof setInterval>;
  timedOut?: boolean;
  memoryExceeded?: number;
  /** The linear memory cap the instance reached (WASI), when no per-call limit applied. */
  memoryCap?: number;
  engineBytesUsed?: number;
  settled?: boolean;
  /** Being answered on the host (JobSpec.local). */
  runningLocally?: boolean;
  id: number;
}

/**
 * A job with every field present from the start: one object shape for all jobs, so the per-call
 * path's property accesses stay monomorphic (a spread of the spec made objects of many shapes).
 */
function newJob(spec: JobSpec, resolve: Job["resolve"], reject: Job["reject"]): Job {
  // Every key of Job, so a field added to JobSpec and not copied here fails to compile.
  const job: Record<keyof Job, unknown> = {
    op: spec.op,
    msg: spec.msg,
    context: spec.context,
    timeoutMs: spec.timeoutMs,
    memoryLimitBytes: spec.memoryLimitBytes,
    engineBytesPerRun: spec.engineBytesPerRun,
    prepare: spec.prepare,
    check: spec.check,
    onDone: spec.onDone,
    recycle: spec.recycle,
    onStart: spec.onStart,
    local: spec.local,
    onReply: spec.onReply,
    resolve,
    reject,
    timer: undefined,
    escalation: undefined,
    watchdog: undefined,
    timedOut: undefined,
    memoryExceeded: undefined,
    memoryCap: undefined,
    engineBytesUsed: undefined,
    settled: undefined,
    runningLocally: undefined,
    id: nextJobId++,
  };
  return job as Job;
}

export interface InterpreterOptions {
  index: number;
  /** Starts a generation of this interpreter (a thread, a process, ...). */
  spawn: TransportFactory;
  /** How long interrupted Python code may take to stop before the worker is terminated. */
  interruptGraceMs: number;
  onOutput: (index: number, stream: "stdout" | "stderr", text: string) => void;
  /** Harden the realm Python can reach (sandboxed isolation). */
  sandboxed: boolean;
  /** Debug mode of the torch layer: materialize after every op. */
  eager?: boolean;
  /** Serves the interpreter's synchronous engine requests; `owner` names this interpreter generation. */
  bridge?: (req: BridgeRequest, from: Interpreter, owner: string) => Promise<WireMessage>;
  /** Engine tensors Python released (delivered after the result that carried them is decoded). */
  onRelease?: (ids: string[], owner: string) => void;
  /** A generation of this interpreter is gone: free what it owned. */
  onOwnerGone?: (owner: string) => void;
  /** Any operation is about to reach this interpreter's Python (it may change its state). */
  onSend?: (interp: Interpreter) => void;
  /**
   * Replace the interpreter after a call that left its memory above this many bytes: linear
   * memory never shrinks, so a fresh generation is how that memory goes back. Default: never.
   */
  recycleAboveBytes?: number;
}

export interface BootInfo {
  bootMs: number;
  fromSnapshot: boolean;
  snapshotError?: string;
}

const MAX_BOOT_FAILURES = 3;
let nextJobId = 1;

export class Interpreter {
  readonly index: number;
  /** Incremented at each respawn; handles from an older generation are void. */
  generation = 0;
  state: "booting" | "ready" | "dead" | "closed" = "booting";
  completed = 0;
  crashes = 0;
  heapBytes = 0;
  lastBoot?: BootInfo;

  private transport?: Transport;
  private queue: Job[] = [];
  private inFlight?: Job;
  private bootFailures = 0;
  private readyWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];

  constructor(private readonly opts: InterpreterOptions) {
    this.index = opts.index;
    this.spawn();
  }

  /** Queued + running jobs (the pool adds pinned sessions to make the balancer's load). */
  get pending(): number {
    return this.queue.length + (this.inFlight ? 1 : 0);
  }

  get alive(): boolean {
    return this.state === "booting" || this.state === "ready";
  }

  ready(): Promise<void> {
    if (this.state === "ready") return Promise.resolve();
    if (!this.alive) return Promise.reject(new ClosedError(`interpreter ${this.index} is ${this.state}`));
    return new Promise((resolve, reject) => this.readyWaiters.push({ resolve, reject }));
  }

  submit(spec: JobSpec): Promise<WireMessage | LocalResult> {
    if (!this.alive) {
      return Promise.reject(
        this.state === "closed"
          ? new ClosedError("the interpreter manager is closed; create a new one")
          : new InterpreterCrashedError(this.index, "it failed to boot repeatedly and was retired"),
      );
    }
    return new Promise<WireMessage | LocalResult>((resolve, reject) => {
      const job = newJob(spec, resolve, reject);
      if (spec.timeoutMs !== undefined && spec.timeoutMs > 0) {
        job.timer = setTimeout(() => this.onDeadline(job), spec.timeoutMs);
      }
      this.queue.push(job);
      this.pump();
    });
  }

  /** Kill the worker as if it crashed (tests and fault injection use this). */
  kill(reason = "killed"): Promise<void> {
    const t = this.transport;
    if (!t) return Promise.resolve();
    // One termination per transport, however many watchdogs and deadlines ask for it.
    this.#killing ??= t.terminate().then(() => {
      this.#killing = undefined;
      if (t === this.transport) this.onWorkerDied(reason);
    });
    return this.#killing;
  }
  #killing?: Promise<void>;

  /** The thread this generation shares with other interpreters, if its kind packs several per thread. */
  get thread(): number | undefined {
    return this.transport?.thread;
  }

  /** Resident memory of this interpreter's own process (sandboxed isolation only). */
  residentBytes(): number | undefined {
    return this.transport?.residentBytes();
  }

  async close(): Promise<void> {
    if (this.state === "closed") return;
    this.state = "closed";
    const err = new ClosedError("the interpreter manager was closed while this call was pending");
    for (const job of this.queue.splice(0)) this.settle(job, err);
    if (this.inFlight) this.settle(this.inFlight, err);
    this.inFlight = undefined;
    for (const w of this.readyWaiters.splice(0)) w.reject(err);
    const transport = this.transport;
    this.transport = undefined;
    await (transport?.close ?? transport?.terminate)?.call(transport);
  }

  // ----- internals -----
  /** Names this interpreter generation as the owner of engine tensors. */
  get owner(): string {
    return `${this.index}:${this.generation}`;
  }

  private spawn() {
    this.state = "booting";
    const owner = this.owner;
    const handlers: TransportHandlers = {
      onMessage: (msg) => {
        if (transport === this.transport) this.onMessage(msg);
      },
      onExit: (reason) => {
        if (transport === this.transport) this.onWorkerDied(reason);
      },
      bridge: this.opts.bridge
        ? (req) => {
            this.flushReleases();
            return this.opts.bridge!(req, this, owner);
          }
        : undefined,
    };
    const transport = this.opts.spawn({ mode: "serve", index: this.index, sandboxed: this.opts.sandboxed, eager: this.opts.eager }, handlers);
    this.transport = transport;
  }

  /** Releases that arrived with results, not yet handed to the engine (see onMessage). */
  private pendingReleases: { ids: string[]; owner: string }[] = [];
  /** Generations replaced because a call left them too large (stats). */
  recycled = 0;

  private flushReleases(): void {
    for (const { ids, owner } of this.pendingReleases.splice(0)) this.opts.onRelease?.(ids, owner);
  }

  private onMessage(msg: FromInterpreter) {
    switch (msg.type) {
      case "ready":
        this.state = "ready";
        this.bootFailures = 0;
        this.heapBytes = msg.heapBytes;
        this.lastBoot = { bootMs: msg.bootMs, fromSnapshot: msg.fromSnapshot, snapshotError: msg.snapshotError };
        for (const w of this.readyWaiters.splice(0)) w.resolve();
        this.pump();
        break;
      case "result":
        this.heapBytes = msg.heapBytes;
        this.onResult(msg.id, msg.ok, { json: msg.json, buffers: msg.buffers });
        if (msg.release.length) {
          // After the result's decoding (a continuation of the promise just resolved), and at
          // the latest before this interpreter's next bridge request: the engine's count of
          // what it holds must see them before it refuses that request for holding too much.
          this.pendingReleases.push({ ids: msg.release, owner: this.owner });
          setTimeout(() => this.flushReleases(), 0);
        }
        break;
      case "stdout":
        this.opts.onOutput(this.index, msg.stream, msg.text);
        break;
      case "fatal":
        // A WASI instance that ran out of linear memory says how much it held and its cap.
        if (msg.memory && this.inFlight) {
          this.inFlight.memoryExceeded = msg.memory.usedBytes;
          this.inFlight.memoryCap = msg.memory.capBytes;
        }
        break;
      case "snapshot":
        break;
    }
  }

  /** Free what this generation owned, after results already delivered have been decoded. */
  private ownerGone() {
    const owner = this.owner;
    setTimeout(() => this.opts.onOwnerGone?.(owner), 0);
  }

  /** Replace an idle interpreter (no call in flight) with a fresh one. */
  private respawn() {
    const old = this.transport;
    this.transport = undefined;
    this.ownerGone();
    this.generation++;
    void old?.terminate();
    this.spawn();
  }

  private onWorkerDied(reason: string) {
    this.transport = undefined;
    if (this.state === "closed") return;
    const wasBooting = this.state === "booting";
    this.ownerGone();
    this.crashes++;
    this.generation++;
    const job = this.inFlight;
    this.inFlight = undefined;
    if (job) {
      this.settle(
        job,
        job.memoryExceeded !== undefined
          ? new MemoryLimitError(this.index, job.memoryLimitBytes ?? job.memoryCap ?? job.memoryExceeded, job.memoryExceeded)
          : job.timedOut
            ? new CallTimeoutError(job.timeoutMs!, this.index, "terminated")
            : new InterpreterCrashedError(this.index, reason),
      );
    }
    if (wasBooting && ++this.bootFailures >= MAX_BOOT_FAILURES) {
      this.state = "dead";
      const err = new InterpreterCrashedError(this.index, `it failed to boot ${MAX_BOOT_FAILURES} times: ${reason}`);
      for (const j of this.queue.splice(0)) this.settle(j, err);
      for (const w of this.readyWaiters.splice(0)) w.reject(err);
      return;
    }
    this.spawn();
  }

  private pump() {
    if (this.state !== "ready" || this.inFlight || !this.transport) return;
    while (this.queue.length > 0) {
      const head = this.queue[0]!;
      const refused = head.check?.();
      if (refused) {
        this.queue.shift();
        this.settle(head, refused);
        continue;
      }
      const pre = head.prepare?.(this);
      if (pre?.recycle) {
        // Another tenant's state lives here: start the job on a fresh interpreter.
        this.respawn();
        return;
      }
      if (pre) {
        // Run the prerequisite first; its failure fails the job that needed it.
        const preJob = newJob(
          pre,
          (reply) => {
            if (!(reply instanceof LocalResult)) pre.onDone?.(reply);
          },
          (e) => {
            const i = this.queue.indexOf(head);
            if (i >= 0) this.queue.splice(i, 1);
            this.settle(head, e);
          },
        );
        this.start(preJob);
        return;
      }
      this.queue.shift();
      this.start(head);
      return;
    }
  }

  /** Charge engine memory to the job now running; throws past its budget (engineMemoryPerCallMb). */
  chargeEngine(bytes: number): void {
    this.reserveEngine(bytes);
    const job = this.inFlight;
    if (job) job.engineBytesUsed = (job.engineBytesUsed ?? 0) + bytes;
  }

  /** Throws if `bytes` more, held for a moment (a run's peak), would pass the job's budget; counts nothing. */
  reserveEngine(bytes: number): void {
    const job = this.inFlight;
    if (!job) return;
    const used = job.engineBytesUsed ?? 0;
    const budget = job.engineBytesPerRun;
    if (budget !== undefined && used + bytes > budget) {
      throw new EngineMemoryError(
        `engine memory limit: this call has ${mb(used)} MB of engine results and asked for ${mb(bytes)} MB more (a graph's ` +
          `outputs and intermediates at its peak), over its ${mb(budget)} MB budget (engineMemoryPerCallMb)`,
      );
    }
  }

  private start(job: Job) {
    this.inFlight = job;
    job.onStart?.(this);
    if (job.local) {
      void this.runLocal(job, job.local);
      return;
    }
    this.send(job);
  }

  /** A job the host may answer itself; Python runs it when the host cannot. */
  private async runLocal(job: Job, local: NonNullable<JobSpec["local"]>) {
    job.runningLocally = true;
    let out: LocalResult | undefined;
    let error: Error | undefined;
    try {
      out = await local(this);
    } catch (e) {
      error = e instanceof Error ? e : new WasmdeployError(String(e));
    }
    job.runningLocally = false;
    if (this.inFlight !== job) return; // the interpreter died or closed meanwhile: already settled
    if (out === undefined && error === undefined && !job.settled && this.transport) {
      job.engineBytesUsed = 0;
      this.send(job);
      return;
    }
    this.inFlight = undefined;
    this.completed++;
    this.settle(job, error, out);
    this.pump();
  }

  private send(job: Job) {
    let msg: WireMessage;
    try {
      msg = typeof job.msg === "function" ? (job.msg = job.msg(this)) : job.msg;
    } catch (e) {
      this.inFlight = undefined;
      this.settle(job, e instanceof Error ? e : new WasmdeployError(String(e)));
      this.pump();
      return;
    }
    this.opts.onSend?.(this);
    const limit = job.memoryLimitBytes;
    if (limit !== undefined && this.transport?.residentBytes() !== undefined) {
      // A sandboxed interpreter is its own process: watch its resident memory while it runs.
      job.watchdog = setInterval(() => {
        const used = this.transport?.residentBytes();
        if (used !== undefined && used > limit && this.inFlight === job) {
          clearInterval(job.watchdog);
          job.memoryExceeded = used;
          void this.kill("over its memory limit");
        }
      }, 25);
    }
    this.transport!.send({ type: "call", id: job.id, op: job.op, json: msg.json, buffers: msg.buffers, memoryLimitBytes: job.memoryLimitBytes });
  }

  private onResult(id: number, ok: boolean, msg: WireMessage) {
    const job = this.inFlight;
    if (!job || job.id !== id) return;
    this.inFlight = undefined;
    if (ok) job.onReply?.(msg);
    this.completed++;
    if (job.escalation) clearTimeout(job.escalation);
    if (job.watchdog) clearInterval(job.watchdog);
    if (ok) {
      this.settle(job, undefined, msg);
    } else {
      const err = JSON.parse(msg.json) as PyErrorPayload;
      if (job.timedOut && err.type === "KeyboardInterrupt") {
        this.settle(job, new CallTimeoutError(job.timeoutMs!, this.index, "interrupted"));
      } else {
        this.settle(job, new PythonError(err.type, err.message, err.traceback, job.context));
      }
    }
    const recycleAbove = Math.min(job.memoryLimitBytes ?? Infinity, this.opts.recycleAboveBytes ?? Infinity);
    if (this.heapBytes > recycleAbove) {
      // The call finished but left the heap past the limit (or past the recycling size): the
      // next call gets a fresh interpreter, and this one's memory goes back to the host.
      this.recycled++;
      this.respawn();
      return;
    }
    this.pump();
  }

  private onDeadline(job: Job) {
    if (job.settled) return;
    const queued = this.queue.indexOf(job);
    if (queued >= 0) {
      this.queue.splice(queued, 1);
      this.settle(job, new CallTimeoutError(job.timeoutMs!, this.index, "queued"));
      return;
    }
    if (this.inFlight !== job) return;
    if (job.runningLocally) {
      // No Python runs it: nothing to interrupt. The engine run finishes unobserved.
      this.settle(job, new CallTimeoutError(job.timeoutMs!, this.index, "interrupted"));
      return;
    }
    job.timedOut = true;
    this.transport?.interrupt(); // Python raises KeyboardInterrupt
    job.escalation = setTimeout(() => {
      if (this.inFlight === job && this.transport) {
        // The code ignored the interrupt (or is stuck outside Python): replace the worker.
        void this.kill("terminated after ignoring the deadline interrupt");
      }
    }, this.opts.interruptGraceMs);
  }

  private settle(job: Job, err?: Error, msg?: WireMessage | LocalResult) {
    if (job.settled) return;
    job.settled = true;
    if (job.timer) clearTimeout(job.timer);
    if (job.escalation) clearTimeout(job.escalation);
    if (job.watchdog) clearInterval(job.watchdog);
    if (err) job.reject(err);
    else job.resolve(msg!);
  }
}
