// Builds dist/native/malloc-trim.node (native/malloc-trim.c) with the system's C compiler and
// Node's own headers. Optional: where there is no compiler, no headers or no glibc, the build
// says so and goes on, and the library does without it (src/platform/node/malloc-trim.ts).

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SOURCE = path.join(ROOT, "native", "malloc-trim.c");
const OUT = path.join(ROOT, "dist", "native", "malloc-trim.node");
// Node's headers next to its binary (Debian's nodejs: /usr/include/node), or node-gyp's cache.
const includes = [path.join(path.dirname(process.execPath), "..", "include", "node"), "/usr/include/node"].filter((d) => existsSync(path.join(d, "node_api.h")));

function skip(why) {
  console.error(`build-native: malloc-trim not built (${why}); memory glibc keeps is not given back`);
  process.exit(0);
}
if (process.platform !== "linux") process.exit(0); // glibc's; nothing to do elsewhere
if (includes.length === 0) skip("no node_api.h next to node or in /usr/include/node");
mkdirSync(path.dirname(OUT), { recursive: true });
for (const cc of [process.env.CC, "cc", "gcc", "clang"].filter(Boolean)) {
  try {
    // The napi_* symbols resolve against the node binary when it loads the addon.
    execFileSync(cc, ["-O2", "-shared", "-fPIC", "-fvisibility=hidden", `-I${includes[0]}`, SOURCE, "-o", OUT], { stdio: ["ignore", "ignore", "pipe"] });
    process.exit(0);
  } catch {
    // try the next compiler
  }
}
skip("no C compiler built it: install gcc or clang, or set CC");
