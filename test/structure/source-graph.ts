// The import graph of src/: every static, type-only, re-export and dynamic import of every
// .ts file, read from the source text (no compiler needed).

import { readFileSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import { ROOT } from "../helpers.js";

export const SRC = path.join(ROOT, "src");

export interface SourceFile {
  /** Path relative to src/, with forward slashes. */
  rel: string;
  /** Every module specifier the file imports or re-exports, as written. */
  specifiers: string[];
  /** The src/ files among them (relative imports resolved), relative to src/. */
  local: string[];
}

const IMPORT_RE = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)|import\(["']([^"']+)["']\)\.\w+/gm;

function walk(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir)) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) walk(full, out);
    else if (name.endsWith(".ts")) out.push(full);
  }
  return out;
}

/** Comments removed, so an import in a comment does not count. */
function stripComments(text: string): string {
  return text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:"'`])\/\/.*$/gm, "$1");
}

export function sourceFiles(): SourceFile[] {
  return walk(SRC).map((full) => {
    const rel = path.relative(SRC, full).split(path.sep).join("/");
    const text = stripComments(readFileSync(full, "utf8"));
    const specifiers: string[] = [];
    for (const m of text.matchAll(IMPORT_RE)) specifiers.push((m[1] ?? m[2] ?? m[3])!);
    const local = specifiers
      .filter((s) => s.startsWith("."))
      .map((s) => path.posix.normalize(path.posix.join(path.posix.dirname(rel), s)).replace(/\.js$/, ".ts"));
    return { rel, specifiers, local };
  });
}

/** Every import cycle (as a list of files), found by depth-first search. */
export function cycles(files: SourceFile[]): string[][] {
  const graph = new Map(files.map((f) => [f.rel, f.local]));
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (n: string) => {
    state.set(n, "open");
    stack.push(n);
    for (const m of graph.get(n) ?? []) {
      if (state.get(m) === "open") found.push([...stack.slice(stack.indexOf(m)), m]);
      else if (!state.has(m)) visit(m);
    }
    stack.pop();
    state.set(n, "done");
  };
  for (const f of graph.keys()) if (!state.has(f)) visit(f);
  return found;
}
