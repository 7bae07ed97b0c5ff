// The torch.package layout on top of the zip reader. The archives here are written by hand
// in the layout PyTorch's PackageExporter produces (STOREd entries with data descriptors,
// 64-byte-aligned data, ZIP64 end records), so no PyTorch is needed. When the real
// archives made by packages/make_archives.py are present, they are checked too.

import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { zipSync } from "fflate";
import { describe, expect, it } from "vitest";

import { PackageFormatError, ResourceNotFoundError } from "../../src/errors.js";
import { SUPPORTED_FORMAT_VERSIONS, parseTorchPackage, type TorchPackageArchive } from "../../src/package/archive.js";
import { formatBytes, formatInspectReport, inspectArchive } from "../../src/package/inspect.js";
import { crc32 } from "../../src/package/zip.js";

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

/** Writes a zip the way PyTorch's PyTorchStreamWriter (miniz) does. */
function torchZip(files: Record<string, string | Uint8Array>): Uint8Array {
  const out: number[] = [];
  const central: number[] = [];
  const u16 = (a: number[], v: number): void => void a.push(v & 0xff, (v >>> 8) & 0xff);
  const u32 = (a: number[], v: number): void => void a.push(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
  const u64 = (a: number[], v: number): void => (u32(a, v % 2 ** 32), u32(a, Math.floor(v / 2 ** 32)));
  const bytes = (a: number[], b: Uint8Array): void => {
    for (const x of b) a.push(x);
  };
  const names = Object.keys(files);
  for (const name of names) {
    const v = files[name]!;
    const data = typeof v === "string" ? enc(v) : v;
    const nameBytes = enc(name);
    const offset = out.length;
    const crc = crc32(data);
    // Pad with a "FB" extra field so that the data starts on a 64-byte boundary.
    let pad = (64 - ((offset + 30 + nameBytes.length + 4) % 64)) % 64;
    u32(out, 0x04034b50), u16(out, 0), u16(out, 0x808), u16(out, 0), u16(out, 0), u16(out, 0);
    u32(out, 0), u32(out, 0), u32(out, 0), u16(out, nameBytes.length), u16(out, pad + 4);
    bytes(out, nameBytes), u16(out, 0x4246), u16(out, pad);
    while (pad-- > 0) out.push(0x5a);
    bytes(out, data);
    u32(out, 0x08074b50), u32(out, crc), u64(out, data.length), u64(out, data.length);
    u32(central, 0x02014b50), u16(central, 0), u16(central, 0), u16(central, 0x808), u16(central, 0);
    u16(central, 0), u16(central, 0), u32(central, crc), u32(central, data.length), u32(central, data.length);
    u16(central, nameBytes.length), u16(central, 0), u16(central, 0), u16(central, 0), u16(central, 0);
    u32(central, 0), u32(central, offset), bytes(central, nameBytes);
  }
  const cdOffset = out.length;
  out.push(...central);
  const eocd64 = out.length;
  u32(out, 0x06064b50), u64(out, 44), u16(out, 0x1e), u16(out, 0x2d), u32(out, 0), u32(out, 0);
  u64(out, names.length), u64(out, names.length), u64(out, central.length), u64(out, cdOffset);
  u32(out, 0x07064b50), u32(out, 0), u64(out, eocd64), u32(out, 1);
  u32(out, 0x06054b50), u16(out, 0), u16(out, 0), u16(out, names.length), u16(out, names.length);
  u32(out, central.length), u32(out, cdOffset), u16(out, 0);
  return Uint8Array.from(out);
}

const MOCK_STUB =
  "from _mock import MockedObject\ndef __getattr__(attr: str):\n    return MockedObject(__name__ + '.' + attr, _suppress_err=True)\n";

function modelFiles(root = "model"): Record<string, string | Uint8Array> {
  const f: Record<string, string | Uint8Array> = {
    ".data/0.storage": new Uint8Array(32).fill(1),
    ".data/1.storage": new Uint8Array(8).fill(2),
    ".data/10.storage": new Uint8Array(4).fill(3),
    "model/model.pkl": Uint8Array.from([0x80, 0x03, 0x2e]),
    "a/b/obj.pkl": Uint8Array.from([0x80, 0x03, 0x4e, 0x2e]),
    "top.pkl": Uint8Array.from([0x80, 0x03, 0x2e]),
    "assets/readme.txt": "hello world\n",
    "assets/blob.bin": Uint8Array.from({ length: 256 }, (_, i) => i),
    "mypkg/data.json": "{}",
    "my-dir/script.py": "print('not a module: my-dir is not an identifier')\n",
    "_mock.py": "class MockedObject:\n    pass\n",
    "mypkg/__init__.py": "from .mod import Model\n",
    "mypkg/mod.py": "class Model: pass\n",
    "mypkg/sub/__init__.py": "",
    "top.py": "X = 1\n",
    "fancy/__init__.py": MOCK_STUB,
    "fancy/helpers.py": MOCK_STUB,
    ".data/serialization_id": "1234567890",
    ".data/extern_modules": "torch\nbuiltins\n\ncollections\n",
    ".data/python_version": "3.11.2",
    ".data/version": "6\n",
  };
  return Object.fromEntries(Object.entries(f).map(([k, v]) => [`${root}/${k}`, v]));
}

function formatError(fn: () => unknown): PackageFormatError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(PackageFormatError);
    return err as PackageFormatError;
  }
  throw new Error("expected a PackageFormatError, nothing was thrown");
}

function without(files: Record<string, string | Uint8Array>, ...paths: string[]): Record<string, string | Uint8Array> {
  const out = { ...files };
  for (const p of paths) delete out[p];
  return out;
}

describe("parseTorchPackage: a good archive", () => {
  const bytes = torchZip(modelFiles());
  const a = parseTorchPackage(bytes, "model.pt");

  it("reads the metadata", () => {
    expect(a.label).toBe("model.pt");
    expect(a.root).toBe("model");
    expect(a.formatVersion).toBe("6");
    expect(a.pythonVersion).toBe("3.11.2");
    expect(a.externModules).toEqual(["torch", "builtins", "collections"]);
    expect(parseTorchPackage(bytes).label).toBe("<bytes>");
  });

  it("classifies modules: interned, mocked, and _mock left out", () => {
    expect(a.internedModules).toEqual([
      { name: "mypkg", path: "mypkg/__init__.py", isPackage: true },
      { name: "mypkg.mod", path: "mypkg/mod.py", isPackage: false },
      { name: "mypkg.sub", path: "mypkg/sub/__init__.py", isPackage: true },
      { name: "top", path: "top.py", isPackage: false },
    ]);
    expect(a.mockedModules).toEqual([
      { name: "fancy", path: "fancy/__init__.py", isPackage: true },
      { name: "fancy.helpers", path: "fancy/helpers.py", isPackage: false },
    ]);
  });

  it("lists pickles, resources and storages", () => {
    expect(a.pickles).toEqual([
      { package: "a.b", resource: "obj.pkl", path: "a/b/obj.pkl", size: 4 },
      { package: "model", resource: "model.pkl", path: "model/model.pkl", size: 3 },
      { package: "", resource: "top.pkl", path: "top.pkl", size: 3 },
    ]);
    expect(a.resources.map((r) => r.path)).toEqual(["assets/blob.bin", "assets/readme.txt", "my-dir/script.py", "mypkg/data.json"]);
    expect(a.resources[1]).toEqual({ package: "assets", resource: "readme.txt", path: "assets/readme.txt", size: 12 });
    expect(a.storages).toEqual([
      { key: "0", path: ".data/0.storage", size: 32 },
      { key: "1", path: ".data/1.storage", size: 8 },
      { key: "10", path: ".data/10.storage", size: 4 },
    ]);
    expect(a.storageBytes).toBe(44);
  });

  it("reads entries, resources and storages", () => {
    expect(dec(a.read("assets/readme.txt"))).toBe("hello world\n");
    expect(dec(a.readResource("assets", "readme.txt"))).toBe("hello world\n");
    expect(a.readResource("a.b", "obj.pkl")).toEqual(Uint8Array.from([0x80, 0x03, 0x4e, 0x2e]));
    expect(a.readResource("", "top.pkl").length).toBe(3);
    expect(a.hasPickle("model", "model.pkl")).toBe(true);
    expect(a.hasPickle("a.b", "obj.pkl")).toBe(true);
    expect(a.hasPickle("assets", "readme.txt")).toBe(false);
    expect(a.hasPickle("model", "nope.pkl")).toBe(false);
    expect(a.storageBytesOf("1")).toEqual(new Uint8Array(8).fill(2));
    expect(a.storageBytesOf("10").buffer).toBe(bytes.buffer); // STOREd: a view, no copy
  });

  it("hands an interpreter everything but the storages", () => {
    const m = a.codeAndData();
    expect([...m.keys()].sort()).toEqual(
      [
        ".data/extern_modules",
        ".data/python_version",
        ".data/serialization_id",
        ".data/version",
        "_mock.py",
        "a/b/obj.pkl",
        "assets/blob.bin",
        "assets/readme.txt",
        "fancy/__init__.py",
        "fancy/helpers.py",
        "model/model.pkl",
        "my-dir/script.py",
        "mypkg/__init__.py",
        "mypkg/data.json",
        "mypkg/mod.py",
        "mypkg/sub/__init__.py",
        "top.pkl",
        "top.py",
      ].sort(),
    );
    expect(dec(m.get("mypkg/mod.py")!)).toBe("class Model: pass\n");
  });

  it("throws ResourceNotFoundError naming the path and close names", () => {
    let err: unknown;
    try {
      a.read("assets/readme.tx");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ResourceNotFoundError);
    expect((err as Error).message).toBe('model.pt: no entry "assets/readme.tx" under model/; close names: "assets/readme.txt"');
    expect(() => a.readResource("asset", "blob.bin")).toThrow(/no entry "asset\/blob\.bin".*close names: "assets\/blob\.bin"/);
    expect(() => a.read("zzzzzzzzzzzzzzzzzz")).toThrow(ResourceNotFoundError);
    expect(() => a.storageBytesOf("2")).toThrow(/no storage "2" in model\/\.data\/ \(storages: "0", "1", "10"\)/);
  });

  it("reads storages under any key, and archives without python_version", () => {
    const files = without(modelFiles(), "model/.data/python_version");
    files["model/.data/serialization_id/abc.storage"] = new Uint8Array(3);
    files["model/.data/ff00.storage"] = new Uint8Array(5);
    const b = parseTorchPackage(torchZip(files));
    expect(b.pythonVersion).toBeUndefined();
    expect(b.storages.map((s) => s.key)).toEqual(["0", "1", "10", "ff00", "serialization_id/abc"]);
    expect(b.storageBytesOf("ff00").length).toBe(5);
    expect(b.storageBytes).toBe(52);
  });

  it("reads the same archive re-zipped with DEFLATE", () => {
    const files = modelFiles();
    const z = zipSync(Object.fromEntries(Object.entries(files).map(([k, v]) => [k, typeof v === "string" ? enc(v) : v])));
    const b = parseTorchPackage(z, "deflated.pt");
    expect(inspectArchive(b)).toEqual({ ...inspectArchive(a), label: "deflated.pt" });
    expect(b.mockedModules.map((m) => m.name)).toEqual(["fancy", "fancy.helpers"]);
  });
});

describe("parseTorchPackage: refusals", () => {
  it("refuses entries outside one root folder", () => {
    const top = torchZip({ ...modelFiles(), "stray.py": "x" });
    expect(formatError(() => parseTorchPackage(top, "m.pt")).message).toMatch(
      /^m\.pt: not all entries are under one root folder: "stray\.py" sits at the top level/,
    );
    const two = torchZip({ ...modelFiles(), "other/x.py": "x" });
    expect(formatError(() => parseTorchPackage(two)).message).toMatch(
      /^<bytes>: not all entries are under one root folder \(found 2: "model", "other"\)/,
    );
    expect(formatError(() => parseTorchPackage(torchZip({}))).message).toMatch(/the zip archive has no files/);
  });

  it("refuses a zip without .data/version", () => {
    const bytes = torchZip(without(modelFiles(), "model/.data/version"));
    expect(formatError(() => parseTorchPackage(bytes, "m.pt")).message).toBe(
      "m.pt: not a torch.package archive: model/.data/version is missing; was this file written by torch.save rather than torch.package.PackageExporter?",
    );
  });

  it("recognises a torch.save checkpoint", () => {
    const ckpt = torchZip({ "ckpt/data.pkl": Uint8Array.from([0x80, 0x02, 0x2e]), "ckpt/data/0": new Uint8Array(12), "ckpt/version": "3\n" });
    expect(formatError(() => parseTorchPackage(ckpt, "ckpt.pt")).message).toBe(
      "ckpt.pt: this is a torch.save checkpoint, not a torch.package archive; wrap the model with torch.package.PackageExporter",
    );
    // PyTorch 2.x checkpoints also carry .data/serialization_id and byteorder.
    const ckpt2 = torchZip({
      "c/data.pkl": new Uint8Array(3),
      "c/byteorder": "little",
      "c/data/0": new Uint8Array(4),
      "c/version": "3\n",
      "c/.data/serialization_id": "0123",
    });
    expect(formatError(() => parseTorchPackage(ckpt2)).message).toMatch(/this is a torch\.save checkpoint/);
  });

  it("recognises a TorchScript archive", () => {
    const ts = torchZip({ "ts/data.pkl": new Uint8Array(3), "ts/constants.pkl": new Uint8Array(3), "ts/code/__torch__/m.py": "", "ts/version": "3\n" });
    expect(formatError(() => parseTorchPackage(ts)).message).toMatch(/this is a TorchScript archive \(torch\.jit\.save\), not a torch\.package archive/);
  });

  it("recognises a torch.package archive from before PyTorch 1.13", () => {
    const files = without(modelFiles(), "model/.data/version");
    files["model/version"] = "3\n";
    expect(formatError(() => parseTorchPackage(torchZip(files))).message).toMatch(
      /written by a PyTorch older than 1\.13 \(format version "3" in model\/version; supported: 6, 7, 8, 9, 10\)/,
    );
  });

  it("refuses unsupported format versions, naming the version found and the supported ones", () => {
    for (const v of ["11\n", "5", "abc", ""]) {
      const files = modelFiles();
      files["model/.data/version"] = v;
      expect(formatError(() => parseTorchPackage(torchZip(files), "m.pt")).message).toBe(
        `m.pt: unsupported torch.package format version ${JSON.stringify(v.trim())} in model/.data/version ` +
          `(supported: 6, 7, 8, 9, 10, written by PyTorch 1.13 through 2.x); export the archive with a supported PyTorch`,
      );
    }
    for (const v of SUPPORTED_FORMAT_VERSIONS) {
      const files = modelFiles();
      files["model/.data/version"] = `${v}\n`;
      expect(parseTorchPackage(torchZip(files)).formatVersion).toBe(v);
    }
  });

  it("refuses a Python 2 archive and a garbled python_version", () => {
    const files = modelFiles();
    files["model/.data/python_version"] = "2.7.18";
    expect(formatError(() => parseTorchPackage(torchZip(files))).message).toMatch(
      /written by Python 2\.7\.18; wasmdeploy runs Python 3 \(Pyodide\), export the model again with Python 3/,
    );
    files["model/.data/python_version"] = "banana";
    expect(formatError(() => parseTorchPackage(torchZip(files))).message).toMatch(/holds "banana", not a Python version/);
  });

  it("refuses a missing or garbled extern_modules", () => {
    expect(formatError(() => parseTorchPackage(torchZip(without(modelFiles(), "model/.data/extern_modules")))).message).toMatch(
      /model\/\.data\/extern_modules is missing/,
    );
    const files = modelFiles();
    files["model/.data/extern_modules"] = "torch\nos; import evil\n";
    expect(formatError(() => parseTorchPackage(torchZip(files))).message).toMatch(/lists "os; import evil", which is not a module name/);
  });

  it("passes zip-level problems and limits through as PackageFormatError", () => {
    const files = modelFiles();
    files["model/../evil.py"] = "x";
    expect(formatError(() => parseTorchPackage(torchZip(files), "t.pt")).message).toMatch(/^t\.pt: unsafe entry name "model\/\.\.\/evil\.py"/);
    expect(formatError(() => parseTorchPackage(torchZip(modelFiles()), "t.pt", { maxEntries: 3 })).message).toMatch(/limits\.maxEntries/);
    expect(formatError(() => parseTorchPackage(new Uint8Array(0))).message).toMatch(/^<bytes>: empty file/);
  });
});

describe("inspect", () => {
  const a = parseTorchPackage(torchZip(modelFiles()), "model.pt");

  it("reports a plain JSON object", () => {
    const r = inspectArchive(a);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
    expect(r).toEqual({
      label: "model.pt",
      root: "model",
      formatVersion: "6",
      pythonVersion: "3.11.2",
      interned: ["mypkg", "mypkg.mod", "mypkg.sub", "top"],
      extern: ["builtins", "collections", "torch"],
      mocked: ["fancy", "fancy.helpers"],
      pickles: ["a/b/obj.pkl", "model/model.pkl", "top.pkl"],
      resources: ["assets/blob.bin", "assets/readme.txt", "my-dir/script.py", "mypkg/data.json"],
      storages: { count: 3, bytes: 44 },
    });
  });

  it("formats for people", () => {
    const text = formatInspectReport(inspectArchive(a));
    expect(text).toContain("archive         model.pt\n");
    expect(text).toContain("format version  6\n");
    expect(text).toContain("storages        3 (44 B)\n");
    expect(text).toContain("interned (4)    mypkg\n                mypkg.mod\n");
    expect(text).toContain("mocked (2)      fancy\n");
    expect(text).toMatch(/resources \(4\) +assets\/blob\.bin\n/);
    const empty = formatInspectReport({ ...inspectArchive(a), extern: [], pythonVersion: null });
    expect(empty).toContain("extern (0)      -\n");
    expect(empty).toContain("python version  (not recorded)\n");
  });

  it("prints byte sizes in human units", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(1023)).toBe("1023 B");
    expect(formatBytes(1536)).toBe("1.50 KiB");
    expect(formatBytes(44.5 * 1024 * 1024)).toBe("44.5 MiB");
    expect(formatBytes(3 * 1024 ** 3)).toBe("3.00 GiB");
  });
});

// ---------------------------------------------------------------------------------------
// The real archives written by real PyTorch (packages/make_archives.py), when present.

const ARCHIVES = fileURLToPath(new URL("../../packages/archives/", import.meta.url));
const haveArchives = existsSync(`${ARCHIVES}expected.json`);

describe.skipIf(!haveArchives)("real torch 1.13 archives", () => {
  interface Expected {
    root: string;
    python_version: string;
    inspect: { interned: string[]; extern: string[]; mocked: string[]; pickles: string[]; resources: string[]; storages: number };
  }
  const expected = haveArchives ? (JSON.parse(readFileSync(`${ARCHIVES}expected.json`, "utf8")) as Record<string, Expected>) : {};
  const load = (file: string, limits?: Parameters<typeof parseTorchPackage>[2]): TorchPackageArchive =>
    parseTorchPackage(new Uint8Array(readFileSync(`${ARCHIVES}${file}`)), file, limits);

  for (const [file, exp] of Object.entries(expected)) {
    it(`${file} matches what PyTorch reports`, () => {
      const a = load(file);
      const r = inspectArchive(a);
      expect(r.root).toBe(exp.root);
      expect(r.formatVersion).toBe("6");
      expect(r.pythonVersion).toBe(exp.python_version);
      expect({
        interned: r.interned,
        extern: r.extern,
        mocked: r.mocked,
        pickles: r.pickles,
        resources: r.resources,
        storages: r.storages.count,
      }).toEqual({ ...exp.inspect, extern: [...exp.inspect.extern].sort() });
      for (const [path, bytes] of a.codeAndData()) expect(bytes.length, path).toBe(a.read(path).length);
    });
  }

  it.skipIf(!existsSync(`${ARCHIVES}tokenizer.pt`))("tokenizer.pt resources read back byte for byte", () => {
    const a = load("tokenizer.pt");
    expect(a.readResource("assets", "blob.bin")).toEqual(Uint8Array.from({ length: 256 }, (_, i) => i));
    expect(a.hasPickle("tok", "tok.pkl")).toBe(true);
  });

  const bad: [string, RegExp][] = [
    ["absolute.pt", /unsafe entry name "\/etc\/evil\.py"/],
    ["traversal.pt", /unsafe entry name "\.\.\/evil\.py"/],
    ["bomb.pt", /compresses .*over the 200:1 limit: refusing a likely zip bomb/],
    ["empty.pt", /empty file \(0 bytes\)/],
    ["no_version.pt", /tokenizer\/\.data\/version is missing/],
    ["not_a_zip.pt", /not a zip archive/],
    ["truncated.pt", /truncated: .*cut short/],
  ];
  for (const [file, re] of bad) {
    it.skipIf(!existsSync(`${ARCHIVES}bad/${file}`))(`bad/${file} is refused`, () => {
      const err = formatError(() => load(`bad/${file}`));
      expect(err.message).toMatch(re);
      expect(err.archive).toBe(`bad/${file}`);
    });
  }

  it.skipIf(!existsSync(`${ARCHIVES}bad/bomb.pt`))("bad/bomb.pt parses when the ratio limit is lifted (torch 1.13 loads it)", () => {
    const a = load("bad/bomb.pt", { maxCompressionRatio: Infinity });
    expect(a.resources.find((r) => r.path === "assets/bomb.bin")?.size).toBe(300 * 1024 * 1024);
  });
});

describe("detached archives (weights held once)", () => {
  const bytes = new Uint8Array(readFileSync(fileURLToPath(new URL("../../packages/models/resnet_basic.pt", import.meta.url))));

  it("read every entry as the zip does, with the storages in one shared block of their own", () => {
    const zipped = parseTorchPackage(bytes, "resnet_basic.pt");
    const detached = zipped.detached();
    expect(detached.storages).toStrictEqual(zipped.storages);
    expect(detached.pickles).toStrictEqual(zipped.pickles);
    expect([...detached.codeAndData().keys()]).toStrictEqual([...zipped.codeAndData().keys()]);
    for (const [k, v] of zipped.codeAndData()) expect(Buffer.compare(detached.codeAndData().get(k)!, v), k).toBe(0);
    expect(zipped.storages.length).toBeGreaterThan(10);
    const blocks = new Set<ArrayBufferLike>();
    for (const s of zipped.storages) {
      const b = detached.storageBytesOf(s.key);
      expect(b.buffer).toBeInstanceOf(SharedArrayBuffer); // never a view into the file's bytes
      expect(b.byteOffset % 64).toBe(0);
      blocks.add(b.buffer);
      expect(Buffer.compare(b, zipped.storageBytesOf(s.key)), s.key).toBe(0);
    }
    expect(blocks.size).toBe(1);
    // Without the file, nothing can be let go.
    expect(detached.canEvictStorage(zipped.storages[0]!.key)).toBe(false);
    expect(detached.evictStorage(zipped.storages[0]!.key)).toBe(false);
  });

  /** The archive's bytes as its file; `reads` counts reads after the first load. */
  const fileOver = (data: Uint8Array) => {
    const f = {
      reads: 0,
      closed: false,
      read: (o: number, into: Uint8Array) => {
        f.reads++;
        const got = data.subarray(o, o + into.length);
        into.set(got);
        return got.length;
      },
      close: () => void (f.closed = true),
    };
    return f;
  };

  it("let storages go with their file, and read them again exactly", () => {
    const file = fileOver(bytes.slice());
    const zipped = parseTorchPackage(bytes, "resnet_basic.pt");
    const detached = zipped.detached(file);
    const [first, second] = zipped.storages;
    expect(detached.canEvictStorage(first!.key)).toBe(true);
    expect(detached.evictStorage(first!.key)).toBe(true);
    expect(file.reads).toBe(0);
    // Every storage went with it (one block); each is read again on demand, once.
    expect(Buffer.compare(detached.storageBytesOf(second!.key), zipped.storageBytesOf(second!.key))).toBe(0);
    expect(file.reads).toBe(1);
    for (const s of zipped.storages) expect(Buffer.compare(detached.storageBytesOf(s.key), zipped.storageBytesOf(s.key)), s.key).toBe(0);
    expect(file.reads).toBe(zipped.storages.length);
    detached.storageBytesOf(second!.key);
    expect(file.reads).toBe(zipped.storages.length);
    detached.close();
    expect(file.closed).toBe(true);
  });

  it("refuse a storage whose file changed since, naming the fix", () => {
    const data = bytes.slice();
    const zipped = parseTorchPackage(bytes, "resnet_basic.pt");
    const detached = zipped.detached(fileOver(data));
    const big = [...zipped.storages].sort((a, b) => b.size - a.size)[0]!;
    detached.evictStorage(big.key);
    data.fill(0); // rewritten in place
    expect(() => detached.storageBytesOf(big.key)).toThrow(PackageFormatError);
    expect(() => detached.storageBytesOf(big.key)).toThrow(/no longer what it was when the package was loaded.*load the package again/);
    // Cut short: the same.
    const short = zipped.detached({ read: () => 3, close: () => {} });
    short.evictStorage(big.key);
    expect(() => short.storageBytesOf(big.key)).toThrow(/no longer what it was/);
  });
});
