// The container image without Docker: runs deploy/Dockerfile's stages into a temporary
// directory (COPY copies, WORKDIR/ENV/USER are recorded, the RUN steps it knows are carried
// out) and says how its entry point starts. The machine stands in for the base image
// (node:<major>-...: the same Node major is required) and for the Debian packages the image
// installs. Image paths are taken inside the temporary root: /app is <root>/app.

import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";
import { type Instruction, parseDockerfile, type Stage } from "./dockerfile.js";

/** The users the base image defines (the official node images: `node`, uid and gid 1000). */
export const BASE_USERS: Record<string, { uid: number; gid: number; home: string }> = {
  node: { uid: 1000, gid: 1000, home: "/home/node" },
};

/** Init programs an entry point may start with, the package that installs each, and the
 * argument after which its command follows. They only forward signals: when the machine lacks
 * one, the command runs without it. */
const INITS: Record<string, { pkg: string; separator: string }> = {
  "/usr/bin/tini": { pkg: "tini", separator: "--" },
};

export interface Image {
  /** The image's "/" on this machine. */
  root: string;
  /** Image path -> path on this machine. */
  at(imagePath: string): string;
  workdir: string;
  env: Record<string, string>;
  user: string;
  exposed: number[];
  entrypoint: string[];
  cmd: string[];
  /** Debian packages the final stage installs (the machine must stand in for them). */
  packages: string[];
  /** Image paths made by WORKDIR and COPY: root's, so the image's user cannot write there. */
  rootOwned: string[];
}

/** A stage while it is built; the last one becomes the Image. */
type StageState = Omit<Image, "at">;

const amRoot = () => process.getuid?.() === 0;

/** The RUN steps the emulation knows, joined with `&&`; any other step fails the build. */
function runStep(step: string, s: StageState, at: (p: string) => string) {
  let m: RegExpExecArray | null;
  if (step === "apt-get update" || step === "rm -rf /var/lib/apt/lists/*") return;
  if ((m = /^apt-get install -y --no-install-recommends ((?:[a-z0-9.+-]+ ?)+)$/.exec(step))) {
    s.packages.push(...m[1]!.trim().split(" "));
  } else if ((m = /^mkdir -p ((?:\/[\w./-]+ ?)+)$/.exec(step))) {
    for (const p of m[1]!.trim().split(" ")) mkdirSync(at(p), { recursive: true });
  } else if ((m = /^chown ([a-z_][\w-]*):([a-z_][\w-]*) ((?:\/[\w./-]+ ?)+)$/.exec(step))) {
    const user = BASE_USERS[m[1]!];
    if (!user || m[1] !== m[2]) throw new Error(`RUN ${step}: unknown user or group (the base image has ${Object.keys(BASE_USERS).join(", ")})`);
    for (const p of m[3]!.trim().split(" ")) {
      if (amRoot()) chownSync(at(p), user.uid, user.gid);
      s.rootOwned = s.rootOwned.filter((r) => r !== path.posix.resolve(s.workdir, p));
    }
  } else if (/^(npm|npx) [\w .=/-]+$/.test(step)) {
    // Run as written, in the stage's WORKDIR, with packages from the local npm cache.
    execFileSync("sh", ["-c", step], {
      cwd: at(s.workdir),
      stdio: "pipe",
      env: { PATH: process.env.PATH!, HOME: process.env.HOME!, ...s.env, npm_config_offline: "true", npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false" },
    });
  } else {
    throw new Error(`RUN step not emulated by test/server/image.ts: ${step}`);
  }
}

function runStage(stage: Stage, root: string, context: string, stages: Map<string, StageState>): StageState {
  const base = /^node:(\d+)-/.exec(stage.base);
  if (!base) throw new Error(`FROM ${stage.base}: only node:<major>-... base images are emulated`);
  if (process.versions.node.split(".")[0] !== base[1]) throw new Error(`FROM ${stage.base}: this machine's Node ${process.versions.node} cannot stand in for it`);
  const s: StageState = { root, workdir: "/", env: {}, user: "root", exposed: [], entrypoint: [], cmd: [], packages: [], rootOwned: [] };
  const at = (p: string) => path.join(root, path.posix.resolve(s.workdir, p));
  mkdirSync(root, { recursive: true });
  for (const u of Object.values(BASE_USERS)) {
    mkdirSync(at(u.home), { recursive: true });
    if (amRoot()) chownSync(at(u.home), u.uid, u.gid);
  }
  for (const step of stage.steps) applyStep(step, s, at, context, stages);
  return s;
}

function applyStep(step: Instruction, s: StageState, at: (p: string) => string, context: string, stages: Map<string, StageState>) {
  switch (step.op) {
    case "WORKDIR":
      s.workdir = path.posix.resolve(s.workdir, step.path);
      mkdirSync(at(s.workdir), { recursive: true });
      s.rootOwned.push(s.workdir);
      return;
    case "ENV":
      for (const [k, v] of step.vars) s.env[k] = v;
      return;
    case "USER":
      if (!BASE_USERS[step.user]) throw new Error(`USER ${step.user}: the base image has ${Object.keys(BASE_USERS).join(", ")}`);
      s.user = step.user;
      return;
    case "EXPOSE":
      s.exposed.push(...step.ports);
      return;
    case "ENTRYPOINT":
      s.entrypoint = step.argv;
      s.cmd = []; // Docker drops an inherited CMD when ENTRYPOINT is set
      return;
    case "CMD":
      s.cmd = step.argv;
      return;
    case "RUN":
      if (s.user !== "root") throw new Error(`RUN as ${s.user} is not emulated`);
      for (const part of step.command.split(" && ")) runStep(part.trim(), s, at);
      return;
    case "COPY": {
      const dest = path.posix.resolve(s.workdir, step.dest);
      const intoDir = step.dest.endsWith("/") || step.sources.length > 1;
      for (const src of step.sources) {
        let from: string;
        if (step.from) {
          const other = stages.get(step.from);
          if (!other) throw new Error(`COPY --from=${step.from}: no such stage before this one`);
          from = path.join(other.root, path.posix.resolve("/", src));
        } else {
          if (path.isAbsolute(src) || src.split("/").includes("..")) throw new Error(`COPY ${src}: sources must stay inside the build context`);
          from = path.join(context, src);
        }
        if (!existsSync(from)) throw new Error(`COPY ${step.from ? `--from=${step.from} ` : ""}${src}: no such file`);
        // A folder's contents go into the destination; a file goes into it, or becomes it.
        const to = statSync(from).isDirectory() || !intoDir ? dest : path.posix.join(dest, path.posix.basename(src));
        cpSync(from, at(to), { recursive: true, verbatimSymlinks: true });
        s.rootOwned.push(statSync(from).isDirectory() ? dest : to);
      }
      return;
    }
  }
}

/** Builds deploy/Dockerfile's stages from `context` into `dir`; the last stage is the image. */
export function buildImage(dockerfileText: string, context: string, dir: string): Image {
  for (const ignore of [".dockerignore", "deploy/Dockerfile.dockerignore"]) {
    if (existsSync(path.join(context, ignore))) throw new Error(`${ignore} is not emulated by test/server/image.ts`);
  }
  const parsed = parseDockerfile(dockerfileText);
  const stages = new Map<string, StageState>();
  let last!: StageState;
  parsed.forEach((stage, i) => {
    last = runStage(stage, path.join(dir, `stage-${i}`), context, stages);
    if (stage.name) stages.set(stage.name, last);
  });
  // The build stages are not part of the image.
  for (const other of stages.values()) if (other !== last) rmSync(other.root, { recursive: true, force: true });
  // What WORKDIR and COPY made is root's: unwritable for the image's user, whoever runs this test.
  for (const p of last.rootOwned) chmodTree(path.join(last.root, p));
  return { ...last, at: (p) => path.join(last.root, path.posix.resolve(last.workdir, p)) };
}

function chmodTree(p: string, writable = false) {
  const st = statSync(p, { throwIfNoEntry: false });
  if (!st || st.isSymbolicLink()) return;
  if (st.isDirectory()) for (const name of readdirSync(p)) chmodTree(path.join(p, name), writable);
  chmodSync(p, writable ? st.mode | 0o200 : st.mode & ~0o222);
}

/** Gives the owner write access back (so a non-root test can remove the tree). */
export const makeWritable = (p: string) => chmodTree(p, true);

export interface ContainerCommand {
  command: string;
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** Set when this process may switch users (root): the image's USER. */
  uid?: number;
  gid?: number;
  /** The init the entry point starts with, when this machine lacks it (it is left out). */
  skippedInit?: string;
}

/**
 * How the container starts: ENTRYPOINT followed by `args` (KServe's container args replace
 * CMD), as the image's USER, with the image's ENV, in WORKDIR. Paths in arguments and in ENV
 * values are image paths.
 */
export function containerCommand(image: Image, args: string[] = image.cmd): ContainerCommand {
  let argv = [...image.entrypoint, ...args];
  // An installed init is this machine's program; what follows it is the image's.
  let prefix: string[] = [];
  let skippedInit: string | undefined;
  const init = INITS[argv[0]!];
  if (init) {
    if (!image.packages.includes(init.pkg)) throw new Error(`the entry point starts ${argv[0]} but the image does not install ${init.pkg}`);
    if (argv[1] !== init.separator) throw new Error(`${argv[0]} must be followed by ${init.separator}`);
    if (existsSync(argv[0]!)) prefix = argv.slice(0, 2);
    else skippedInit = argv[0];
    argv = argv.slice(2);
  }
  const user = BASE_USERS[image.user]!;
  // An image path is an absolute path, or one after `NAME=` (as in `--model NAME=/mnt/models/model.pt`).
  const inImage = (v: string) => v.replace(/^([\w.-]+=)?(\/.*)$/, (_, name: string | undefined, p: string) => (name ?? "") + path.join(image.root, p));
  const env: Record<string, string> = { PATH: process.env.PATH!, HOME: inImage(user.home) };
  for (const [k, v] of Object.entries(image.env)) env[k] = inImage(v);
  // `node` is the base image's: this machine's Node stands in for it (same major, checked).
  const [command, ...rest] = [...prefix, ...argv.map((a, i) => (i === 0 && a === "node" ? process.execPath : inImage(a)))];
  return {
    command: command!,
    args: rest,
    cwd: image.at(image.workdir),
    env,
    ...(amRoot() ? { uid: user.uid, gid: user.gid } : {}),
    skippedInit,
  };
}
