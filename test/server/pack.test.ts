// The npm package as a user gets it: `npm pack` (its `prepare` builds), the tarball installed
// into an empty project, and a script there that imports `wasmdeploy` by name and runs a
// committed model, compared with PyTorch's output. The project has the package's dependencies
// and nothing else, so a run-time import of a devDependency fails; the package's own folder
// must come out of the run unchanged (the snapshot cache goes to the user's cache folder).
//
// The project's lockfile pins the versions of the repository's lockfile, so `npm ci --offline`
// installs from the local npm cache: no registry round trips, and the versions tested are the
// ones the rest of the suite tests.

import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Tensor } from "wasmdeploy";
import { compare } from "../conformance/compare.js";
import { ROOT } from "../helpers.js";

const MODELS = path.join(ROOT, "packages", "models");
const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-pack-"));
const project = path.join(dir, "project");
const home = path.join(dir, "home");
const installed = path.join(project, "node_modules", "wasmdeploy");

interface Lock {
  packages: Record<string, { version?: string; dev?: boolean; devOptional?: boolean; [k: string]: unknown }>;
}

/** An empty project depending on the tarball, locked to the repository's production packages. */
function writeProject(tarball: string, integrity: string) {
  const repo = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as Lock;
  const self = repo.packages[""]!;
  const spec = `file:../${tarball}`;
  const packages: Lock["packages"] = {
    "": { name: "project", dependencies: { wasmdeploy: spec } },
    "node_modules/wasmdeploy": {
      version: self.version,
      resolved: spec,
      integrity,
      ...Object.fromEntries(["license", "dependencies", "peerDependencies", "peerDependenciesMeta", "bin", "engines"].map((k) => [k, self[k]])),
    },
  };
  for (const [k, v] of Object.entries(repo.packages)) if (k && !v.dev && !v.devOptional) packages[k] = v;
  mkdirSync(project, { recursive: true });
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "project", private: true, type: "module", dependencies: { wasmdeploy: spec } }));
  writeFileSync(path.join(project, "package-lock.json"), JSON.stringify({ name: "project", lockfileVersion: 3, requires: true, packages }));
}

/** A user's script: the public API by package name, every exported entry point imported. */
const SCRIPT = `
import { readFileSync, writeFileSync } from "node:fs";
import { InterpreterManager, Tensor } from "wasmdeploy";
const [archive, input, output] = process.argv.slice(2);
const pkg = JSON.parse(readFileSync(new URL("./node_modules/wasmdeploy/package.json", import.meta.url), "utf8"));
for (const entry of Object.keys(pkg.exports)) if (entry !== "./package.json") await import("wasmdeploy" + entry.slice(1));
const manager = await InterpreterManager.create({ interpreters: 1 });
try {
  const model = (await manager.loadPackage(archive)).loadPickle("model", "model.pkl");
  const y = await model.call(Tensor.fromNpy(new Uint8Array(readFileSync(input))));
  writeFileSync(output, y.toNpy());
} finally {
  await manager.close();
}
`;

/** Every file under a folder, with size and mtime. */
function listing(root: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (p: string) => {
    const st = statSync(p);
    if (st.isDirectory()) {
      out.set(`${p}/`, "dir");
      for (const name of readdirSync(p)) walk(path.join(p, name));
    } else out.set(p, `${st.size} ${st.mtimeMs}`);
  };
  walk(root);
  return out;
}

/** Bare specifiers imported by the package's JavaScript (absolute paths and node: builtins left out). */
function packageImports(root: string): Map<string, string> {
  const found = new Map<string, string>();
  // `import ... from "x"` / `export ... from "x"`, a side-effect `import "x"` at the start of a
  // line (not inside a message such as jco's "unexpectedly undefined instance import 'x'"),
  // and `import("x")`.
  const re = /(?<![\w.$])(?:import|export)\s*[\w*{}\s,$]+?\s*from\s*["']([^"'./\s][^"'\s]*)["']|^\s*import\s*["']([^"'./\s][^"'\s]*)["']|(?<![\w.$])import\(\s*["']([^"'./\s][^"'\s]*)["']\s*\)/gm;
  const code = (text: string) => text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`\\])\/\/.*$/gm, "$1"); // comments out
  const walk = (p: string) => {
    if (statSync(p).isDirectory()) return readdirSync(p).forEach((n) => walk(path.join(p, n)));
    if (!p.endsWith(".js")) return;
    for (const m of code(readFileSync(p, "utf8")).matchAll(re)) {
      const spec = (m[1] ?? m[2] ?? m[3])!;
      if (spec.startsWith("node:") || builtinModules.includes(spec)) continue;
      const name = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0]!;
      found.set(name, path.relative(root, p));
    }
  };
  walk(path.join(root, "dist"));
  return found;
}

beforeAll(() => {
  const packed = JSON.parse(execFileSync("npm", ["pack", "--json", "--pack-destination", dir], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] })) as {
    filename: string;
    integrity: string;
  }[];
  writeProject(packed[0]!.filename, packed[0]!.integrity);
  // onnxruntime-node's install script would fetch its CUDA libraries: the CPU build is in its package.
  execFileSync("npm", ["ci", "--offline", "--no-audit", "--no-fund"], {
    cwd: project,
    stdio: "pipe",
    env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ONNXRUNTIME_NODE_INSTALL: "skip" },
  });
  writeFileSync(path.join(project, "run.mjs"), SCRIPT);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the npm package (npm pack, installed into an empty project)", () => {
  it("holds the interpreter, its runtime and the compiled code, and imports only its dependencies at run time", () => {
    for (const f of ["dist/index.js", "dist/cli/main.js", "runtime/wasmdeploy_runtime", "wasm/python.wasm", "wasm/stdlib.zip"]) {
      expect(statSync(path.join(installed, f), { throwIfNoEntry: false }), f).toBeDefined();
    }
    const pkg = JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as {
      dependencies: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    const allowed = new Set(["wasmdeploy", ...Object.keys(pkg.dependencies), ...Object.entries(pkg.peerDependenciesMeta ?? {}).filter(([, m]) => m.optional).map(([k]) => k)]);
    const imports = packageImports(installed);
    expect(imports.has("onnxruntime-node"), "the scan finds the package's imports").toBe(true);
    expect([...imports].filter(([name]) => !allowed.has(name)).map(([name, file]) => `${file} imports ${name}`)).toStrictEqual([]);
    // The project holds what those dependencies need and no devDependency.
    expect(readdirSync(path.join(project, "node_modules"))).not.toContain("typescript");
  });

  it("runs a committed model through the public API as PyTorch computes it, writing nothing into its own folder", () => {
    const before = listing(installed);
    const out = path.join(dir, "y.npy");
    execFileSync(process.execPath, ["run.mjs", path.join(MODELS, "resnet_basic.pt"), path.join(MODELS, "resnet_basic.input.npy"), out], {
      cwd: project,
      stdio: "pipe",
      env: { PATH: process.env.PATH!, HOME: home },
    });
    compare(Tensor.fromNpy(new Uint8Array(readFileSync(out))), Tensor.fromNpy(new Uint8Array(readFileSync(path.join(MODELS, "resnet_basic.expected.npy")))), "resnet_basic from the packed package");
    const after = listing(installed);
    expect([...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k))).toStrictEqual([]);
    // The boot snapshot went to the user's cache instead.
    expect(readdirSync(path.join(home, ".cache", "wasmdeploy")).filter((f) => f.endsWith(".snapshot"))).toHaveLength(1);
  });
});
