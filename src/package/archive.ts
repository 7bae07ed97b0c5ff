// The torch.package layout, read on the host.
//
// A torch.package archive (written by torch.package.PackageExporter) is a zip whose entries
// all sit under one top-level folder `<root>/`:
//
//   <root>/.data/version            format version ("6\n" from PyTorch 1.13)
//   <root>/.data/extern_modules     one extern module name per line
//   <root>/.data/python_version     e.g. "3.11.2" (absent in old archives)
//   <root>/.data/<key>.storage      tensor storages (1.13: ".data/0.storage", ...)
//   <root>/.data/...                other metadata (serialization_id, TorchScript code, ...)
//   <root>/_mock.py                 the mocking stub, when anything is mocked
//   <root>/mypkg/__init__.py        interned module sources; mocked modules are stubs whose
//   <root>/mypkg/mod.py             text begins "from _mock import MockedObject"
//   <root>/<pkg path>/<name>.pkl    pickles
//   <root>/<pkg path>/<file>        other resources (text, binary)

import { PackageFormatError, ResourceNotFoundError } from "../errors.js";
import { crc32, readZip, type ZipArchive, type ZipEntry, type ZipLimits } from "./zip.js";

/** What an archive reads its entries through: the zip itself, or the entries copied out of it. */
export interface EntrySource {
  readonly entries: readonly ZipEntry[];
  read(name: string): Uint8Array;
}

/**
 * The file an archive was read from, kept open so that storages can be read again after their
 * bytes were let go (see CopiedEntries.evict). An open file still reads what it did when a
 * deploy replaces the path (a rename), and a CRC-32 check catches one that rewrote it in place.
 */
export interface ArchiveFile {
  /** Fill `into` with the bytes at `offset`; how many there were (fewer if the file is now shorter). */
  read(offset: number, into: Uint8Array): number;
  /** CRC-32 of bytes read, where the platform has a faster one than ours (Node's zlib: 2-3x). */
  crc32?(bytes: Uint8Array): number;
  close(): void;
}

/**
 * An archive's entries copied out of its zip, so the zip's bytes can go: the storages (the
 * weights, nearly all of a model's bytes) into one block of shared memory when the platform has
 * SharedArrayBuffer (engine threads then adopt them without copying), everything else as is.
 * With the file it came from, a storage's bytes can be let go once the engine has baked them
 * into its sessions, and are read again from the file when something needs them.
 */
class CopiedEntries implements EntrySource {
  readonly #bytes = new Map<string, Uint8Array>();
  /** Storages that can be read again: where in the file, and their CRC-32. */
  readonly #stored = new Map<string, { offset: number; size: number; crc32: number }>();

  constructor(
    readonly entries: readonly ZipEntry[],
    read: (name: string) => Uint8Array,
    isStorage: (name: string) => boolean,
    readonly label: string,
    private readonly file?: ArchiveFile,
    storedOffset?: (name: string) => number | undefined,
  ) {
    // The storages share one allocation: a large one is its own mapping, given back to the
    // system whole once every storage in it is let go. Each storage alone (most under 10 MB)
    // came from glibc's heap, which kept 17 of resnet18's 47 MB after they were let go.
    // Without shared memory each storage keeps a buffer of its own, which an engine adopts whole.
    let total = 0;
    for (const e of entries) if (!e.name.endsWith("/") && isStorage(e.name)) total += align(e.size);
    const block = typeof SharedArrayBuffer === "function" ? new SharedArrayBuffer(total) : undefined;
    let at = 0;
    for (const e of entries) {
      if (e.name.endsWith("/")) continue;
      const bytes = read(e.name);
      if (!isStorage(e.name)) {
        this.#bytes.set(e.name, bytes.slice());
        continue;
      }
      let copy: Uint8Array;
      if (block) {
        copy = new Uint8Array(block, at, bytes.byteLength);
        copy.set(bytes);
        at += align(e.size);
      } else copy = bytes.slice();
      this.#bytes.set(e.name, copy);
      const offset = file ? storedOffset?.(e.name) : undefined;
      if (offset !== undefined && e.size > 0) this.#stored.set(e.name, { offset, size: e.size, crc32: e.crc32 });
    }
  }

  read(name: string): Uint8Array {
    const b = this.#bytes.get(name);
    if (b) return b;
    const s = this.#stored.get(name);
    if (!s || !this.file) throw new PackageFormatError(`no entry ${q(name)}`);
    // Straight into shared memory: no copy on the way.
    const fresh = typeof SharedArrayBuffer === "function" ? new Uint8Array(new SharedArrayBuffer(s.size)) : new Uint8Array(s.size);
    if (this.file.read(s.offset, fresh) !== s.size || (this.file.crc32?.(fresh) ?? crc32(fresh)) !== s.crc32) {
      throw new PackageFormatError(
        `entry ${q(name)} is no longer what it was when the package was loaded (the file was changed or cut short in place); ` +
          `load the package again, and replace package files by renaming a new file over them`,
        this.label,
      );
    }
    this.#bytes.set(name, fresh);
    return fresh;
  }

  /**
   * Let a storage's bytes go if they can be read again, and with them those of every other
   * storage that can (they share one allocation, which only goes when none is held); whether
   * they were.
   */
  evict(name: string): boolean {
    if (!this.#stored.has(name)) return false;
    for (const n of this.#stored.keys()) this.#bytes.delete(n);
    return true;
  }

  canEvict(name: string): boolean {
    return this.#stored.has(name);
  }

  close(): void {
    this.file?.close();
  }
}

/** Storages start at multiples of 64 bytes in their block (every dtype's alignment, and a cache line). */
const align = (n: number) => Math.ceil(n / 64) * 64;

export interface ModuleInfo {
  /** Dotted module name, e.g. "mypkg.mod" or "mypkg" (for mypkg/__init__.py). */
  name: string;
  /** Path relative to the archive root, e.g. "mypkg/mod.py". */
  path: string;
  /** True for a package (`__init__.py`). */
  isPackage: boolean;
}

export interface ResourceInfo {
  /** Package in dotted form ("assets", "a.b"); "" for a file at the archive root. */
  package: string;
  /** File name, e.g. "model.pkl". */
  resource: string;
  /** Path relative to the archive root, e.g. "a/b/model.pkl". */
  path: string;
  /** Uncompressed size in bytes. */
  size: number;
}

export interface StorageInfo {
  /** Storage key as the pickles name it, e.g. "0" for ".data/0.storage". */
  key: string;
  /** Path relative to the archive root, e.g. ".data/0.storage". */
  path: string;
  /** Size in bytes. */
  size: number;
}

/**
 * `.data/version` values accepted. torch.package always writes at least 6 (PyTorch 1.13's
 * PackageExporter calls `zip_file.set_min_version(6)`, so 1.13 writes "6\n"); the
 * PyTorchStreamWriter raises it to the dynamic operator version of any TorchScript code in
 * the package, which is at most kProducedFileFormatVersion = 10 (0xA) in PyTorch 1.13
 * through 2.x, the same as kMaxSupportedFileFormatVersion there.
 */
export const SUPPORTED_FORMAT_VERSIONS: readonly string[] = Object.freeze(["6", "7", "8", "9", "10"]);

const MOCK_PREFIX = new TextEncoder().encode("from _mock import MockedObject");
/** A Python identifier (PEP 3131, near enough). */
const IDENT = /^[\p{L}\p{Nl}_][\p{L}\p{Nl}\p{Mn}\p{Mc}\p{Nd}\p{Pc}]*$/u;

const utf8 = new TextDecoder("utf-8", { fatal: true });

function q(s: string): string {
  return JSON.stringify(s);
}

function startsWith(data: Uint8Array, prefix: Uint8Array): boolean {
  if (data.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (data[i] !== prefix[i]) return false;
  return true;
}

function isModulePath(parts: readonly string[]): boolean {
  return parts.every((p) => IDENT.test(p));
}

/** Levenshtein distance, or `max + 1` as soon as it is known to exceed `max`. */
function editDistance(a: string, b: string, max: number): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length]!;
}

function baseName(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

/** Up to `count` names from `names` that look like `wanted` (same file name, or a small edit away). */
function closeNames(wanted: string, names: Iterable<string>, count = 5): string[] {
  const max = Math.max(2, Math.min(6, Math.floor(wanted.length / 3)));
  const base = baseName(wanted);
  const scored: [number, string][] = [];
  for (const n of names) {
    const d = editDistance(wanted, n, max);
    if (d <= max) scored.push([d, n]);
    else if (base !== "" && baseName(n) === base) scored.push([max + 1, n]);
  }
  scored.sort((x, y) => x[0] - y[0] || (x[1] < y[1] ? -1 : 1));
  return scored.slice(0, count).map((s) => s[1]);
}

export class TorchPackageArchive {
  /** Path or "<bytes>". */
  readonly label: string;
  /** The top-level folder every entry sits under. */
  readonly root: string;
  /** Trimmed contents of .data/version, e.g. "6". */
  readonly formatVersion: string;
  /** Trimmed contents of .data/python_version, e.g. "3.11.2"; undefined in old archives. */
  readonly pythonVersion: string | undefined;
  readonly externModules: readonly string[];
  /** Interned modules, excluding mocked ones and `_mock`. */
  readonly internedModules: readonly ModuleInfo[];
  readonly mockedModules: readonly ModuleInfo[];
  readonly pickles: readonly ResourceInfo[];
  /** Everything that is not a module source, a pickle or under .data/. */
  readonly resources: readonly ResourceInfo[];
  readonly storages: readonly StorageInfo[];
  /** Sum of the storage sizes. */
  readonly storageBytes: number;

  readonly #zip: EntrySource;
  /** Every file entry: path relative to root -> full zip entry name. */
  readonly #paths: ReadonlyMap<string, string>;
  readonly #storageByKey: ReadonlyMap<string, StorageInfo>;
  readonly #pickleSet: ReadonlySet<string>;

  /** @internal Use parseTorchPackage. */
  constructor(zip: EntrySource, label: string) {
    this.#zip = zip;
    this.label = label;
    const fail: (msg: string) => never = (msg) => {
      throw new PackageFormatError(msg, label);
    };

    // --- one root folder ---------------------------------------------------------------
    const files = zip.entries.filter((e) => !e.name.endsWith("/"));
    if (files.length === 0) {
      fail("the zip archive has no files; torch.package archives are written by torch.package.PackageExporter, export the model again");
    }
    const roots = new Set<string>();
    for (const e of zip.entries) {
      const slash = e.name.indexOf("/");
      if (slash < 0) {
        fail(
          `not all entries are under one root folder: ${q(e.name)} sits at the top level; a torch.package archive keeps ` +
            `everything under "<root>/", export it again with torch.package.PackageExporter rather than re-zipping it`,
        );
      }
      roots.add(e.name.slice(0, slash));
    }
    if (roots.size !== 1) {
      const some = [...roots].slice(0, 5).map(q).join(", ");
      fail(
        `not all entries are under one root folder (found ${roots.size}: ${some}${roots.size > 5 ? ", ..." : ""}); ` +
          `a torch.package archive keeps everything under "<root>/", export it again with torch.package.PackageExporter rather than re-zipping it`,
      );
    }
    const root = [...roots][0]!;
    this.root = root;
    const prefix = `${root}/`;
    const paths = new Map<string, string>();
    for (const e of files) paths.set(e.name.slice(prefix.length), e.name);
    this.#paths = paths;

    const text = (path: string): string => {
      const name = paths.get(path)!;
      try {
        return utf8.decode(zip.read(name));
      } catch (err) {
        if (err instanceof PackageFormatError) throw err;
        return fail(`${root}/${path} is not valid UTF-8 text; the archive is corrupt, export it again`);
      }
    };

    // --- what kind of zip is this? -----------------------------------------------------
    if (!paths.has(".data/version")) {
      if (paths.has(".data/extern_modules") && paths.has("version")) {
        fail(
          `this torch.package archive was written by a PyTorch older than 1.13 (format version ${q(text("version").trim())} ` +
            `in ${root}/version; supported: ${SUPPORTED_FORMAT_VERSIONS.join(", ")}); export it again with PyTorch 1.13 or newer`,
        );
      }
      if (paths.has("constants.pkl") || [...paths.keys()].some((p) => p.startsWith("code/"))) {
        fail(
          "this is a TorchScript archive (torch.jit.save), not a torch.package archive; " +
            "wrap the model with torch.package.PackageExporter",
        );
      }
      if (paths.has("data.pkl") || paths.has("version")) {
        fail("this is a torch.save checkpoint, not a torch.package archive; wrap the model with torch.package.PackageExporter");
      }
      fail(
        `not a torch.package archive: ${root}/.data/version is missing; was this file written by torch.save rather than ` +
          `torch.package.PackageExporter?`,
      );
    }

    const formatVersion = text(".data/version").trim();
    if (!SUPPORTED_FORMAT_VERSIONS.includes(formatVersion)) {
      fail(
        `unsupported torch.package format version ${q(formatVersion)} in ${root}/.data/version (supported: ` +
          `${SUPPORTED_FORMAT_VERSIONS.join(", ")}, written by PyTorch 1.13 through 2.x); export the archive with a supported PyTorch`,
      );
    }
    this.formatVersion = formatVersion;

    let pythonVersion: string | undefined;
    if (paths.has(".data/python_version")) {
      pythonVersion = text(".data/python_version").trim();
      const m = /^(\d+)(\.\d+)*/.exec(pythonVersion);
      if (m === null) {
        fail(`${root}/.data/python_version holds ${q(pythonVersion)}, not a Python version; the archive is corrupt, export it again`);
      }
      if (m[1] !== "3") {
        fail(
          `the archive was written by Python ${pythonVersion}; wasmdeploy runs Python 3 (Pyodide), ` +
            `export the model again with Python 3`,
        );
      }
    }
    this.pythonVersion = pythonVersion;

    if (!paths.has(".data/extern_modules")) {
      fail(
        `not a torch.package archive: ${root}/.data/extern_modules is missing (PackageExporter always writes it); ` +
          `export the model again with torch.package.PackageExporter`,
      );
    }
    const externModules = text(".data/extern_modules")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "");
    for (const m of externModules) {
      if (!isModulePath(m.split("."))) {
        fail(`${root}/.data/extern_modules lists ${q(m)}, which is not a module name; the archive is corrupt, export it again`);
      }
    }
    this.externModules = Object.freeze(externModules);

    // --- classify entries --------------------------------------------------------------
    const interned: ModuleInfo[] = [];
    const mocked: ModuleInfo[] = [];
    const pickles: ResourceInfo[] = [];
    const resources: ResourceInfo[] = [];
    const storages: StorageInfo[] = [];
    let storageBytes = 0;
    for (const e of files) {
      const path = e.name.slice(prefix.length);
      if (path.startsWith(".data/")) {
        if (path.endsWith(".storage") && path.length > ".data/".length + ".storage".length) {
          const key = path.slice(".data/".length, -".storage".length);
          storages.push(Object.freeze({ key, path, size: e.size }));
          storageBytes += e.size;
        }
        continue;
      }
      const parts = path.split("/");
      const file = parts[parts.length - 1]!;
      const dirs = parts.slice(0, -1);
      if (file.endsWith(".py")) {
        const stem = file.slice(0, -3);
        const isPackage = stem === "__init__";
        const modParts = isPackage ? dirs : [...dirs, stem];
        if (modParts.length > 0 && isModulePath(modParts)) {
          if (path === "_mock.py") continue; // the mocking stub itself, not a user module
          const info: ModuleInfo = Object.freeze({ name: modParts.join("."), path, isPackage });
          if (startsWith(zip.read(e.name), MOCK_PREFIX)) mocked.push(info);
          else interned.push(info);
          continue;
        }
      }
      const info: ResourceInfo = Object.freeze({ package: dirs.join("."), resource: file, path, size: e.size });
      if (file.endsWith(".pkl")) pickles.push(info);
      else resources.push(info);
    }
    const byName = (a: { name: string }, b: { name: string }): number => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    const byPath = (a: { path: string }, b: { path: string }): number => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
    this.internedModules = Object.freeze(interned.sort(byName));
    this.mockedModules = Object.freeze(mocked.sort(byName));
    this.pickles = Object.freeze(pickles.sort(byPath));
    this.resources = Object.freeze(resources.sort(byPath));
    this.storages = Object.freeze(storages.sort((a, b) => a.key.localeCompare(b.key, "en", { numeric: true })));
    this.storageBytes = storageBytes;
    this.#storageByKey = new Map(storages.map((s) => [s.key, s]));
    this.#pickleSet = new Set(pickles.map((p) => p.path));
  }

  /** The bytes of the entry at `pathInRoot` (e.g. "assets/readme.txt"). */
  read(pathInRoot: string): Uint8Array {
    const name = this.#paths.get(pathInRoot);
    if (name === undefined) {
      const close = closeNames(pathInRoot, this.#paths.keys());
      throw new ResourceNotFoundError(
        `${this.label}: no entry ${q(pathInRoot)} under ${this.root}/` +
          (close.length > 0 ? `; close names: ${close.map(q).join(", ")}` : "; run `wasmdeploy inspect` to list the archive"),
      );
    }
    return this.#zip.read(name);
  }

  /** The bytes of resource `resource` in package `pkg` (dotted, e.g. "assets" or "a.b"). */
  readResource(pkg: string, resource: string): Uint8Array {
    return this.read(resourcePath(pkg, resource));
  }

  /** Whether the archive holds pickle `resource` in package `pkg` (e.g. "model", "model.pkl"). */
  hasPickle(pkg: string, resource: string): boolean {
    return this.#pickleSet.has(resourcePath(pkg, resource));
  }

  /** Every entry except storages, keyed by path relative to root: what an interpreter needs to import and unpickle. */
  codeAndData(): Map<string, Uint8Array> {
    const out = new Map<string, Uint8Array>();
    const storagePaths = new Set(this.storages.map((s) => s.path));
    for (const [path, name] of this.#paths) {
      if (!storagePaths.has(path)) out.set(path, this.#zip.read(name));
    }
    return out;
  }

  /**
   * The same archive with its entries copied out of the zip (storages into shared memory where
   * there is SharedArrayBuffer), so the zip's bytes can be let go: a package read from a file
   * then holds its weights once, not once in the file's bytes and again in the engine. With
   * `file` (the file those bytes came from, kept open), storages can be let go and read again.
   */
  detached(file?: ArchiveFile): TorchPackageArchive {
    const storagePaths = new Set(this.storages.map((s) => `${this.root}/${s.path}`));
    const zip = this.#zip;
    const storedOffset = "storedOffset" in zip ? (n: string) => (zip as ZipArchive).storedOffset(n) : undefined;
    return new TorchPackageArchive(new CopiedEntries(zip.entries, (n) => zip.read(n), (n) => storagePaths.has(n), this.label, file, storedOffset), this.label);
  }

  /** Whether storage `key`'s bytes can be let go and read again from the archive's file. */
  canEvictStorage(key: string): boolean {
    const s = this.#storageByKey.get(key);
    return s !== undefined && this.#zip instanceof CopiedEntries && this.#zip.canEvict(`${this.root}/${s.path}`);
  }

  /**
   * Let storage `key`'s bytes go, with those of the archive's other storages that can be read
   * again (storageBytesOf reads them from the file); whether they were.
   */
  evictStorage(key: string): boolean {
    const s = this.#storageByKey.get(key);
    return s !== undefined && this.#zip instanceof CopiedEntries && this.#zip.evict(`${this.root}/${s.path}`);
  }

  /** Close the file storages are read again from, if any (the package was unloaded). */
  close(): void {
    if (this.#zip instanceof CopiedEntries) this.#zip.close();
  }

  /**
   * The raw bytes of storage `key` (the key the pickles' persistent ids name, e.g. "0"), read
   * again from the file if they were let go (evictStorage).
   */
  storageBytesOf(key: string): Uint8Array {
    const s = this.#storageByKey.get(key);
    if (s === undefined) {
      const keys = this.storages.slice(0, 10).map((x) => q(x.key));
      throw new ResourceNotFoundError(
        `${this.label}: no storage ${q(key)} in ${this.root}/.data/ ` +
          (keys.length > 0 ? `(storages: ${keys.join(", ")}${this.storages.length > 10 ? ", ..." : ""})` : "(the archive has no storages)"),
      );
    }
    return this.#zip.read(`${this.root}/${s.path}`);
  }
}

function resourcePath(pkg: string, resource: string): string {
  const dir = pkg.split(".").filter((p) => p !== "").join("/");
  return dir === "" ? resource : `${dir}/${resource}`;
}

/**
 * Reads and validates a torch.package archive. Throws PackageFormatError (naming `label`)
 * for anything that is not a safe, supported torch.package zip.
 */
export function parseTorchPackage(bytes: Uint8Array, label = "<bytes>", limits?: Partial<ZipLimits>): TorchPackageArchive {
  return new TorchPackageArchive(readZip(bytes, label, limits), label);
}
