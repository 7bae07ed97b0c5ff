// The engine as attack surface (packages/archives/hostile/engine_attack.pt): graphs from a
// tenant run in ONNX Runtime's native code on the host, so every attack on it must end in a
// value or a typed error, in one default manager, while a neighbouring model keeps returning
// PyTorch's exact outputs, the host's own memory stays bounded and its event loop keeps turning.

import { readFileSync } from "node:fs";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterManager, PythonError, type ReplicatedObj, Tensor } from "wasmdeploy";
import { ARCHIVES, ROOT } from "../helpers.js";
import { compare } from "../conformance/compare.js";
import { kind } from "../kind.js";

const HOSTILE = path.join(ARCHIVES, "hostile");
const manifest = JSON.parse(readFileSync(path.join(HOSTILE, "manifest.json"), "utf8"));
const archive = manifest.archives["engine_attack.pt"];
type Attack = { method: string; args: unknown[]; expect: "returns" | "PythonError"; result?: unknown; message?: string };
const attacks = archive.methods as Record<string, Attack>;

const MODELS = path.join(ROOT, "packages", "models");
const npy = (file: string) => Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, file))));
const input = npy("resnet_basic.input.npy");
const expected = npy("resnet_basic.expected.npy");

/** Python ints arrive as numbers, or bigints past 2^53: compare them as decimal strings. */
const decimal = (v: unknown): unknown =>
  typeof v === "number" || typeof v === "bigint" ? String(v) : Array.isArray(v) ? v.map(decimal) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, decimal(x)])) : v;

let manager: InterpreterManager;
let attacker: ReplicatedObj;
let neighbour: ReplicatedObj;
const loop = monitorEventLoopDelay({ resolution: 10 });
let rssBefore = 0;

/**
 * The host process's resident memory, WASI interpreters' linear memories included: a call that
 * grew one (padded_request builds 400 MB of JSON in Python) gets it replaced (recycleAboveMb).
 */
const hostBytes = () => process.memoryUsage().rss;

beforeAll(async () => {
  manager = await InterpreterManager.create({ ...kind, interpreters: 2, onOutput: () => {} });
  neighbour = (await manager.loadPackage(path.join(MODELS, "resnet_basic.pt"))).loadPickle("model", "model.pkl");
  compare((await neighbour.call(input)) as Tensor, expected, "neighbour before");
  const pkg = await manager.loadPackage(path.join(HOSTILE, "engine_attack.pt"), { engineMemoryPerCallMb: 256 });
  attacker = pkg.loadPickle(archive.pickle.package, archive.pickle.resource);
  await attacker.callMethod("int_division", "int64"); // warm: its interpreter has the package
  rssBefore = hostBytes();
  loop.enable();
});
afterAll(() => manager?.close());

describe("attacks on the engine end in a value or a typed error; the neighbour is untouched", () => {
  for (const [name, attack] of Object.entries(attacks)) {
    it(`${name} ${attack.expect === "returns" ? "returns" : `fails with PythonError /${attack.message}/`}`, async () => {
      const outcome = await attacker.callMethod(attack.method, ...attack.args).then(
        (value) => ({ value }),
        (error: Error) => ({ error }),
      );
      if (attack.expect === "returns") {
        expect("error" in outcome ? outcome.error.message : undefined).toBeUndefined();
        if (attack.result !== undefined) expect(decimal((outcome as { value: unknown }).value)).toStrictEqual(attack.result);
      } else {
        expect("error" in outcome, `${name} returned instead of failing`).toBe(true);
        const e = (outcome as { error: Error }).error;
        expect(e).toBeInstanceOf(PythonError);
        expect((e as PythonError).pyType).toMatch(/EngineError$/);
        expect(e.message).toMatch(new RegExp(attack.message!));
      }
      compare((await neighbour.call(input)) as Tensor, expected, `neighbour after ${name}`);
    });
  }

  it("tensors hoarded across calls stop at engineMemoryHeldMb with a typed error, and work again once released", async () => {
    let error: Error | undefined;
    for (let i = 0; i < 12 && !error; i++) await attacker.callMethod("hoard", 64).catch((e: Error) => (error = e));
    expect(error).toBeInstanceOf(PythonError);
    expect(error!.message).toMatch(/engineMemoryHeldMb/);
    expect(await attacker.callMethod("release")).toBe(0);
    expect(await attacker.callMethod("hoard", 64)).toBe(64);
    await attacker.callMethod("release");
    compare((await neighbour.call(input)) as Tensor, expected, "neighbour after hoarding");
  });

  // Unbounded, these attacks grow the host by gigabytes. Bounded, what is left is what the
  // allocator keeps of freed runs: 314-637 MB over 17 runs of this file on one machine (two
  // modes, about 320 and about 575 MB, the same before and after the ort-node binding change),
  // so the bound sits above that spread and far below a gigabyte.
  it("the host's own memory grew by less than 768 MB, and its event loop never stalled 2 s", () => {
    loop.disable();
    const grown = hostBytes() - rssBefore;
    expect(grown, `host grew ${(grown / 2 ** 20).toFixed(0)} MB`).toBeLessThan(768 * 2 ** 20);
    expect(loop.max / 1e6, `worst event-loop stall ${(loop.max / 1e6).toFixed(0)} ms`).toBeLessThan(2000);
  });
});
