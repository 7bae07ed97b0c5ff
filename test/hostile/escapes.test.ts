// Hostile archives made by real PyTorch (packages/make_hostile.py) try every way out of
// a sandboxed interpreter listed in docs/security.md. Nothing sensitive may come back, no
// host file may appear, the canary secret in the host's environment never shows up, and a
// well-behaved package loaded beside them keeps answering correctly throughout.

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InterpreterCrashedError, InterpreterManager, type ReplicatedObj } from "wasmdeploy";
import { ARCHIVES } from "../helpers.js";
import { kind, WASI } from "../kind.js";

const HOSTILE = path.join(ARCHIVES, "hostile");
const manifest = JSON.parse(readFileSync(path.join(HOSTILE, "manifest.json"), "utf8"));
const canary = `canary-${randomBytes(12).toString("hex")}`;
const host = hostname();
const placeholders: Record<string, string | undefined> = {
  "{canary}": canary,
  "{host_hostname}": host.length >= 4 && host !== "localhost" ? host : undefined,
};
const forbidden = (list: string[]) => list.map((s) => (s in placeholders ? placeholders[s] : s)).filter((s): s is string => !!s);
const hostFiles: string[] = manifest.host_files_must_not_exist;

let manager: InterpreterManager;
let victim: ReplicatedObj;
const outcomes: { route: string; outcome: string }[] = [];

async function victimAnswers() {
  expect(await victim.callMethod("answer", 5)).toBe(11);
}

beforeAll(async () => {
  for (const f of hostFiles) rmSync(f, { force: true });
  process.env.WASMDEPLOY_CANARY = canary; // the host's secret; interpreters must never see it
  manager = await InterpreterManager.create({ ...kind, interpreters: 2, isolation: "sandboxed", callTimeoutMs: 20_000, onOutput: () => {} });
  victim = (await manager.loadPackage(path.join(HOSTILE, "victim.pt"))).loadPickle("victim", "victim.pkl");
  await victimAnswers();
});
afterAll(async () => {
  await manager?.close();
  delete process.env.WASMDEPLOY_CANARY;
  for (const f of hostFiles) rmSync(f, { force: true });
});

function assertClean(what: string, value: unknown, mustNotContain: string[]) {
  const text = JSON.stringify(value) ?? "";
  for (const s of forbidden(mustNotContain)) expect(text.includes(s), `${what} leaked ${JSON.stringify(s)}: ${text.slice(0, 300)}`).toBe(false);
  expect(text.includes(canary), `${what} leaked the canary`).toBe(false);
}

describe("escape routes from a sandboxed interpreter", () => {
  it("blocks every route in escapes.pt while the victim keeps serving", async () => {
    const esc = manifest.archives["escapes.pt"];
    const obj = (await manager.loadPackage(path.join(HOSTILE, "escapes.pt"))).loadPickle(esc.pickle.package, esc.pickle.resource);
    const routes = (await obj.callMethod("list_routes")) as string[];
    expect(routes).toStrictEqual(esc.list_routes);
    for (const route of routes) {
      if (route === esc.victim_step_before) {
        await new Promise((r) => setTimeout(r, 300));
        expect(await victim.callMethod("answer", 123456789)).toBe(246913579);
        expect(await victim.callMethod("tamper_check")).toStrictEqual([]);
      }
      const spec = esc.methods[route];
      let result: unknown;
      try {
        result = await obj.callMethod(route);
      } catch (e) {
        // The sandbox killing the interpreter (e.g. os.system refused by the permission model) is a block.
        expect(e, route).toBeInstanceOf(InterpreterCrashedError);
        outcomes.push({ route, outcome: "interpreter stopped" });
        await victimAnswers();
        continue;
      }
      const r = result as { got: unknown; error: unknown };
      // ctypes and hand-made wasm reach only this interpreter's own memory, which holds no
      // other package: allowed, but they must still find nothing sensitive.
      if (spec.got_must_be_null && !spec.policy) expect(r.got, `${route} got ${JSON.stringify(r.got)?.slice(0, 300)}`).toBeNull();
      assertClean(route, { got: r.got, error: r.error }, spec.must_not_contain);
      outcomes.push({ route, outcome: r.got === null ? "blocked" : "allowed by policy, nothing found" });
      await victimAnswers();
    }
    expect(outcomes.length).toBe(routes.length);
  });

  it("finds nothing at import time (hostile_import.pt)", async () => {
    const hi = manifest.archives["hostile_import.pt"];
    const obj = (await manager.loadPackage(path.join(HOSTILE, "hostile_import.pt"))).loadPickle(hi.pickle.package, hi.pickle.resource);
    const findings = (await obj.callMethod("findings")) as Record<string, { got: unknown }>;
    expect(Object.keys(findings).length).toBeGreaterThan(0);
    for (const [probe, f] of Object.entries(findings)) {
      expect(f.got, probe).toBeNull();
      assertClean(`import-time ${probe}`, f, hi.methods.findings.must_not_contain);
    }
    await victimAnswers();
  });

  it("refuses pickles that attack through GLOBAL/REDUCE opcodes (evil_pickle.pt)", async () => {
    const pkg = await manager.loadPackage(path.join(HOSTILE, "evil_pickle.pt"));
    for (const [name, spec] of Object.entries(manifest.archives["evil_pickle.pt"].pickles as Record<string, { must_not_contain: string[] }>)) {
      const [p, res] = [name.slice(0, name.indexOf("/")), name.slice(name.indexOf("/") + 1)];
      const out = await pkg
        .loadPickle(p, res)
        .callMethod("__repr__")
        .then((v) => ({ ok: true, v }), (e: Error) => ({ ok: false, v: `${e.name}: ${e.message}` }));
      assertClean(name, out.v, spec.must_not_contain);
      outcomes.push({ route: name, outcome: out.ok ? "loaded, nothing found" : "refused" });
      await victimAnswers();
    }
  });

  it("left no file on the host and never showed the canary", () => {
    for (const f of hostFiles) expect(existsSync(f), f).toBe(false);
    console.log(`hostile routes: ${outcomes.length} tried; ${outcomes.map((o) => `${o.route}: ${o.outcome}`).join("; ")}`);
  });
});

// Pyodide only: a trusted Pyodide interpreter shares this process's JavaScript realm, so the
// probes really escape there; a WASI interpreter has no trusted mode that reaches anything.
describe.runIf(!WASI)("the same probes against trusted interpreters (proof they are real)", () => {
  it("escape in trusted mode, where the operator trusts the archives", async () => {
    process.env.WASMDEPLOY_CANARY = canary;
    const trusted = await InterpreterManager.create({ ...kind, interpreters: 1, isolation: "trusted", onOutput: () => {} });
    try {
      const esc = manifest.archives["escapes.pt"];
      const obj = (await trusted.loadPackage(path.join(HOSTILE, "escapes.pt"))).loadPickle(esc.pickle.package, esc.pickle.resource);
      const env = (await obj.callMethod("try_env_canary")) as { got: unknown };
      expect(JSON.stringify(env.got)).toContain(canary);
      const proc = (await obj.callMethod("try_js_process")) as { got: unknown };
      expect(proc.got).not.toBeNull();
    } finally {
      await trusted.close();
      delete process.env.WASMDEPLOY_CANARY;
      for (const f of hostFiles) rmSync(f, { force: true });
    }
  });
});
