// Where an additional interpreter's unpickling of a model goes (issue 20): cProfile around the
// runtime's unpickling on the second interpreter, after the first has loaded the package.
//
//   node --import tsx bench/experiments/profile-unpickle.ts [--model resnet18]
import { readFileSync } from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { InterpreterManager } from "../../dist/index.js";
import { findModel, type Manifest, MODELS_DIR, repoPath } from "../lib/common.js";

const { values } = parseArgs({ options: { model: { type: "string", default: "resnet18" }, sort: { type: "string", default: "cumulative" } } });
const manifest = JSON.parse(readFileSync(path.join(MODELS_DIR, "bench.json"), "utf8")) as Manifest;
const e = findModel(manifest, String(values.model), 1)!;
const m = await InterpreterManager.create({ interpreters: 2 });
await m.registerModuleSource(
  "wd_prof",
  `
import cProfile, io, pstats, time
import wasmdeploy_runtime.host as host
_orig = host._replicated_obj
out = []
def _wrapped(*a):
    p = cProfile.Profile()
    t = time.perf_counter()
    p.enable()
    try:
        return _orig(*a)
    finally:
        p.disable()
        s = io.StringIO()
        s.write("total %.1f ms\\n" % ((time.perf_counter() - t) * 1000))
        pstats.Stats(p, stream=s).sort_stats("${values.sort}").print_stats(45)
        out.append(s.getvalue())
host._replicated_obj = _wrapped
def report():
    return "\\n".join(out)
`,
);
const obj = (await m.loadPackage(repoPath(e.archive))).loadPickle(e.pickle[0], e.pickle[1]);
const [a, b] = m.allInstances();
for (const inst of [a!, b!]) {
  const s = inst.acquireSession();
  const t = performance.now();
  await s.fromMovable(obj);
  console.log(`interpreter ${inst.index}: ${(performance.now() - t).toFixed(1)} ms`);
  const report = await s.global("wd_prof", "report");
  console.log(await report.call());
  await s.release();
}
await m.close();
