// A strict reader of deploy/Dockerfile for the test that lays out the image's files (no Docker
// engine runs here). It knows the instructions and forms the Dockerfile uses and throws on any
// other, so a change the emulation does not understand fails the test instead of being skipped.

export type Instruction =
  | { op: "WORKDIR"; path: string }
  | { op: "COPY"; from?: string; sources: string[]; dest: string }
  | { op: "RUN"; command: string }
  | { op: "ENV"; vars: [string, string][] }
  | { op: "USER"; user: string }
  | { op: "EXPOSE"; ports: number[] }
  | { op: "ENTRYPOINT"; argv: string[] }
  | { op: "CMD"; argv: string[] };

export interface Stage {
  /** `FROM <base>`: an image name (stages built from another stage are not supported). */
  base: string;
  name?: string;
  steps: Instruction[];
}

/** Logical lines: comments and blank lines dropped, `\` continuations joined. */
function logicalLines(text: string): { no: number; line: string }[] {
  const out: { no: number; line: string }[] = [];
  let pending: { no: number; line: string } | undefined;
  text.split("\n").forEach((raw, i) => {
    const t = raw.trim();
    if (!pending && (t === "" || t.startsWith("#"))) return;
    if (pending && t.startsWith("#")) return; // comments inside a continuation are dropped, as Docker does
    const cont = t.endsWith("\\");
    const piece = cont ? t.slice(0, -1).trim() : t;
    pending = pending ? { no: pending.no, line: `${pending.line} ${piece}`.trim() } : { no: i + 1, line: piece };
    if (!cont) {
      out.push(pending);
      pending = undefined;
    }
  });
  if (pending) throw new Error(`line ${pending.no}: a continuation runs past the end of the file`);
  return out;
}

/** ENTRYPOINT and CMD in exec form only: the shell form would run under /bin/sh -c. */
function execForm(args: string, no: number): string[] {
  let argv: unknown;
  try {
    argv = JSON.parse(args);
  } catch {
    throw new Error(`line ${no}: only the exec (JSON array) form is supported: ${args}`);
  }
  if (!Array.isArray(argv) || !argv.length || !argv.every((a) => typeof a === "string")) {
    throw new Error(`line ${no}: expected a JSON array of strings: ${args}`);
  }
  return argv as string[];
}

/** No variables, quotes or globs: their expansion is not emulated. */
function plainWord(w: string, no: number): string {
  if (!/^[A-Za-z0-9_./:@+=-]+$/.test(w)) throw new Error(`line ${no}: unsupported characters (variables, quotes, globs) in ${JSON.stringify(w)}`);
  return w;
}

function parseInstruction(op: string, args: string, no: number): Instruction {
  const words = () => args.split(/\s+/).filter(Boolean);
  switch (op) {
    case "WORKDIR":
      if (words().length !== 1) throw new Error(`line ${no}: WORKDIR takes one path`);
      return { op, path: plainWord(args, no) };
    case "COPY": {
      const w = words();
      let from: string | undefined;
      while (w[0]?.startsWith("--")) {
        const flag = w.shift()!;
        const m = /^--from=([A-Za-z0-9_.-]+)$/.exec(flag);
        if (!m) throw new Error(`line ${no}: unsupported COPY flag ${flag}`);
        from = m[1];
      }
      if (w.length < 2) throw new Error(`line ${no}: COPY needs a source and a destination`);
      const parts = w.map((x) => plainWord(x, no));
      return { op, from, sources: parts.slice(0, -1), dest: parts.at(-1)! };
    }
    case "RUN":
      if (args.startsWith("[") || args.startsWith("--")) throw new Error(`line ${no}: only the shell form of RUN, without flags, is supported`);
      return { op, command: args };
    case "ENV":
      return {
        op,
        vars: words().map((kv) => {
          const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.+)$/.exec(kv);
          if (!m) throw new Error(`line ${no}: ENV takes KEY=VALUE pairs, got ${kv}`);
          return [m[1]!, plainWord(m[2]!, no)] as [string, string];
        }),
      };
    case "USER":
      if (!/^[a-z_][a-z0-9_-]*$/.test(args)) throw new Error(`line ${no}: USER takes a user name, got ${args}`);
      return { op, user: args };
    case "EXPOSE":
      return {
        op,
        ports: words().map((p) => {
          if (!/^\d+(\/tcp)?$/.test(p)) throw new Error(`line ${no}: EXPOSE takes TCP ports, got ${p}`);
          return Number.parseInt(p, 10);
        }),
      };
    case "ENTRYPOINT":
    case "CMD":
      return { op, argv: execForm(args, no) };
    default:
      throw new Error(`line ${no}: ${op} is not emulated by this test (add it to test/server/dockerfile.ts)`);
  }
}

export function parseDockerfile(text: string): Stage[] {
  const stages: Stage[] = [];
  for (const { no, line } of logicalLines(text)) {
    const m = /^([A-Za-z]+)\s+(.+)$/.exec(line);
    if (!m) throw new Error(`line ${no}: cannot read ${JSON.stringify(line)}`);
    const op = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    if (op === "FROM") {
      const f = /^([a-z0-9./_-]+:[A-Za-z0-9._-]+)(?:\s+AS\s+([A-Za-z0-9_.-]+))?$/i.exec(args);
      if (!f) throw new Error(`line ${no}: FROM takes IMAGE:TAG [AS NAME], got ${args}`);
      if (stages.some((s) => s.name === f[1])) throw new Error(`line ${no}: FROM another stage is not emulated`);
      stages.push({ base: f[1]!, name: f[2], steps: [] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`line ${no}: ${op} before FROM`);
    stage.steps.push(parseInstruction(op, args, no));
  }
  if (!stages.length) throw new Error("no FROM");
  return stages;
}
