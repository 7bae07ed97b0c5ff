// onnxruntime-node: the native CPU runtime, the default under Node.js.

import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import type { InferenceSession, Tensor as OrtTensor } from "onnxruntime-common";
import type { BackendOptions, BackendSession, EngineBackend } from "../../engine/backend-api.js";
import { GraphRefusedError } from "../../engine/errors.js";
import { fromOrtResults, RUN_OPTIONS, toOrtFeeds, wrapSession } from "../../engine/backends/ort-common.js";

/** onnxruntime-node's native session (dist/binding.js), as its own backend.js drives it. */
interface NativeSession {
  loadModel(buffer: ArrayBufferLike, byteOffset: number, byteLength: number, options: object): void;
  loadModel(path: string, options: object): void;
  run(feeds: Record<string, OrtTensor>, fetches: Record<string, null>, options: object): InferenceSession.ReturnType;
  dispose(): void;
}
interface NativeBinding {
  binding: { InferenceSession: new () => NativeSession };
  initOrt: () => void;
  /** Where binding.js is (a child process loads it to optimize models, see preoptimizedSession). */
  path: string;
}

/**
 * The native binding under onnxruntime-node's public API, or undefined if this version does not
 * have the shape it had in 1.30. Its public `run` defers every run to a `setImmediate` (one event
 * loop turn, 5-8 µs measured on a 34 µs LSTM graph) and then runs synchronously anyway; calling
 * the binding directly runs at once, on the same thread, with the same session options.
 */
function nativeBinding(): NativeBinding | undefined {
  try {
    const require = createRequire(import.meta.url);
    const entry = require.resolve("onnxruntime-node");
    const file = path.join(path.dirname(entry), "binding.js");
    const b = require(file) as Partial<NativeBinding>;
    return typeof b.initOrt === "function" && typeof b.binding?.InferenceSession === "function" ? { binding: b.binding, initOrt: b.initOrt, path: file } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A wide session's pool threads spin between the ops of a run, for at most spin_duration_us at a
 * time. ORT's default spins on after every run and takes the core the next caller needs (inline
 * runs on the host thread went from 1.6 to 3.5-4.5 ms beside one); never spinning, the threads
 * sleep between ops and every small op pays a wake-up (mobilenet_v3_small 2.1 ms against 1.35 ms,
 * and 6.1 ms against 1.5 ms when other processes hold both cores). Bounded, the spin after a run
 * costs about 3 ms of CPU in all. Measured in docs/benchmarks.md section 8.
 */
const WIDE_SESSION_CONFIG = { intra_op: { allow_spinning: "1", spin_duration_us: "100" } };

/**
 * The options the engine compiles a graph's session with: `threads` intra-op threads, and for a
 * wide session (every core, for a lone call) the bounded spin above. Exported for the benchmarks,
 * which time plain onnxruntime-node sessions under the engine's own options.
 */
export function engineSessionOptions(threads: number, wide: boolean): InferenceSession.SessionOptions {
  return {
    executionProviders: ["cpu"],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: "sequential",
    graphOptimizationLevel: "all",
    // ORT's CPU arena keeps each session's peak for the session's life (a run whose
    // intermediates reached 530 MB left the process 530 MB larger); without it a run's memory
    // goes back when the run ends, for 1-3% on resnet18 (measured; docs/security.md).
    enableCpuMemArena: false,
    logSeverityLevel: 4, // failures reach the caller as EngineErrors; keep stderr quiet
    ...(wide ? { extra: { session: WIDE_SESSION_CONFIG } } : {}),
  };
}

export async function createOrtNodeBackend(options: BackendOptions): Promise<EngineBackend> {
  const ort = await import("onnxruntime-node");
  const native = nativeBinding();
  const threads = options.threads ?? 1;
  const wideThreads = Math.max(threads, options.wideThreads ?? threads);
  return {
    name: "ort-node",
    widens: wideThreads > threads,
    async createSession(model, opts = {}) {
      const sessionOptions: InferenceSession.SessionOptions = {
        ...engineSessionOptions(opts.wide ? wideThreads : threads, Boolean(opts.wide)),
        ...(opts.externalData ? { externalData: opts.externalData } : {}),
      };
      if (native && opts.preoptimize && !opts.externalData) {
        const session = await preoptimizedSession(native, ort.Tensor, model, sessionOptions);
        if (session) return session;
      }
      // External data goes through the public API, which resolves it for the binding.
      if (native && !opts.externalData) return nativeSession(native, ort.Tensor, (s) => s.loadModel(model.buffer, model.byteOffset, model.byteLength, sessionOptions));
      return wrapSession(ort.Tensor, await ort.InferenceSession.create(model, sessionOptions));
    },
  };
}

/** `options` with `config` added to its session config entries. */
function withSessionConfig(options: InferenceSession.SessionOptions, config: Record<string, string>): InferenceSession.SessionOptions {
  const extra = (options.extra ?? {}) as { session?: Record<string, unknown> };
  return { ...options, extra: { ...extra, session: { ...extra.session, ...config } } };
}

/**
 * A session made from the model as ONNX Runtime optimizes it under `options`, saved in its own
 * format (.ort), not from our ONNX model; undefined if that fails (the caller compiles the ONNX
 * model as usual), a GraphRefusedError if the graph crashed or hung ONNX Runtime there.
 * Optimized in this process, a graph's initializers ended up in two copies
 * (ours as built, then the optimizer's NCHWc layouts of the conv weights), and what the
 * optimizer freed stayed with the allocator. resnet18, PSS a session adds
 * (bench/experiments/ort-format.mjs and the backend alone, a fresh process each): 153-163 MB
 * from the ONNX model, 78-82 MB from the optimized one, at the same speed.
 * - A child process does the optimizing: done in this process, serving resnet18 added anywhere
 *   from 308 to 387 MB, as the optimizer's garbage stayed or not.
 * - The session reads the file itself, so its bytes are never garbage on a JavaScript heap.
 * - ONNX Runtime can also read a .ort model's initializers in place
 *   (session.use_ort_model_bytes_for_initializers): 77 MB with the bytes it must then keep, but
 *   runs took 1.10-1.15x as long (resnet18; 1.05x densenet121, 1.04x mobilenet_v3_small), so
 *   the session copies them.
 * Only ONNX Runtime writes the file, in a directory of our own that is gone before this returns.
 */
async function preoptimizedSession(
  native: NativeBinding,
  Ctor: Parameters<typeof toOrtFeeds>[0],
  model: Uint8Array,
  options: InferenceSession.SessionOptions,
): Promise<BackendSession | undefined> {
  let dir: string | undefined;
  try {
    dir = await mkdtemp(path.join(tmpdir(), "wasmdeploy-ort-"));
    const input = path.join(dir, "model.onnx");
    const output = path.join(dir, "model.ort");
    await writeFile(input, model);
    const saving = withSessionConfig({ ...options, optimizedModelFilePath: output }, { save_model_format: "ORT" });
    // Asynchronous: this thread (the host's, for an inline compile) serves other work meanwhile.
    const outcome = await new Promise<"saved" | "failed" | "timeout" | NodeJS.Signals>((resolve) => {
      const child = spawn(process.execPath, ["-e", SAVE_OPTIMIZED, native.path, input, JSON.stringify(saving)], { stdio: "ignore", env: {} });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
      }, SAVE_TIMEOUT_MS);
      child.once("error", () => {
        clearTimeout(timer);
        resolve("failed");
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        resolve(timedOut ? "timeout" : signal ?? (code === 0 ? "saved" : "failed"));
      });
    });
    // A child killed by a signal (SIGFPE, SIGSEGV, SIGABRT...) crashed in ONNX Runtime's loader or
    // optimizer, which runs kernels to fold constants: the same graph would take this process,
    // and every tenant in it, down the same way. One that outlived the timeout would block this
    // thread at least as long. Both are refused; anything else (no process could be started, an
    // error ONNX Runtime reported) is left to the ordinary compile, which reports its own error.
    if (outcome === "failed") return undefined;
    if (outcome === "timeout") throw new GraphRefusedError(`ONNX Runtime took over ${SAVE_TIMEOUT_MS / 1000} s optimizing this graph in a child process; it was not compiled in the host`);
    if (outcome !== "saved") {
      // SIGKILL from outside is most likely the kernel's OOM killer, not the graph: said so.
      const why = outcome === "SIGKILL" ? "was killed (SIGKILL; out of memory?)" : `crashed (${outcome})`;
      throw new GraphRefusedError(`ONNX Runtime ${why} optimizing this graph in a child process; it was not compiled in the host`);
    }
    return nativeSession(native, Ctor, (s) => s.loadModel(output, options), true);
  } catch (e) {
    if (e instanceof GraphRefusedError) throw e;
    return undefined;
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

/** The child's program: load the model with options that make ONNX Runtime save it optimized. */
const SAVE_OPTIMIZED = `
const [bindingJs, input, options] = process.argv.slice(1);
const b = require(bindingJs);
b.initOrt();
const bytes = require("fs").readFileSync(input);
const s = new b.binding.InferenceSession();
s.loadModel(bytes.buffer, bytes.byteOffset, bytes.byteLength, JSON.parse(options));
s.dispose();
`;
/** A graph ONNX Runtime takes longer than this to optimize is refused (compiled here, it would block this thread as long). */
const SAVE_TIMEOUT_MS = 120_000;

/** `preoptimized`: what `load` loads is the graph ONNX Runtime already optimized (see preoptimizedSession). */
function nativeSession(native: NativeBinding, Ctor: Parameters<typeof toOrtFeeds>[0], load: (s: NativeSession) => void, preoptimized = false): BackendSession {
  native.initOrt();
  const session = new native.binding.InferenceSession();
  load(session);
  // The binding's fetches, made again only when a caller passes other names (the engine passes
  // one array per compiled graph, so in practice once).
  let fetchedNames: string[] | undefined;
  let fetches: Record<string, null> = {};
  return {
    preoptimized,
    run: async (feeds, outputNames) => {
      if (outputNames !== fetchedNames) {
        fetches = Object.fromEntries(outputNames.map((n) => [n, null]));
        fetchedNames = outputNames;
      }
      return fromOrtResults(session.run(toOrtFeeds(Ctor, feeds), fetches, RUN_OPTIONS), outputNames);
    },
    release: async () => session.dispose(),
  };
}
