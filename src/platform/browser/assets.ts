// The WASI interpreter's assets in a browser: python.wasm, the stdlib zip and the runtime's
// Python files, served beside the bundle and described by manifest.json (made at build time,
// with the same cache key Node uses: a hash of python.wasm, stdlib.zip and the runtime
// sources). They and the boot snapshot are kept in the Cache API under that key, so a second
// visit compiles from Chromium's wasm code cache and restores without booting Python.

import { buildFileImage, type FileImage, type WasiSnapshot } from "../../interpreter/wasi/image.js";
import { parseSnapshotFile, snapshotBody, snapshotFile } from "../../interpreter/wasi/snapshot-file.js";

export interface Manifest {
  key: string;
  minPages: number;
  wasm: string;
  stdlib: string;
  runtime: string;
}

/** Which interpreter build: "default" (manifest.json, python.wasm) or "sci" (manifest-sci.json, python-sci.wasm with numpy and Pillow). */
export type BrowserBuild = "default" | "sci";

const CACHE_PREFIX = "wasmdeploy-";
const SCI_PREFIX = "wasmdeploy-sci-";

/** The Cache API where the page may use it (secure contexts), else undefined. */
async function openCache(key: string, build: BrowserBuild): Promise<Cache | undefined> {
  if (typeof caches === "undefined") return undefined;
  const prefix = build === "sci" ? SCI_PREFIX : CACHE_PREFIX;
  try {
    // Caches of older copies of this build are dead weight: drop them (not the other build's).
    for (const name of await caches.keys()) {
      const mine = build === "sci" ? name.startsWith(SCI_PREFIX) : name.startsWith(CACHE_PREFIX) && !name.startsWith(SCI_PREFIX);
      if (mine && name !== prefix + key) await caches.delete(name);
    }
    return await caches.open(prefix + key);
  } catch {
    return undefined;
  }
}

async function fetchOk(url: URL, init?: RequestInit): Promise<Response> {
  const res = await fetch(url, init);
  if (!res.ok) throw new Error(`cannot fetch ${url.href}: ${res.status} ${res.statusText}`);
  return res;
}

export class BrowserAssets {
  private constructor(
    readonly base: URL,
    readonly manifest: Manifest,
    private readonly cache: Cache | undefined,
  ) {}

  static async open(base: URL, build: BrowserBuild = "default"): Promise<BrowserAssets> {
    const name = build === "sci" ? "manifest-sci.json" : "manifest.json";
    const manifest = (await (await fetchOk(new URL(name, base), { cache: "no-cache" })).json()) as Manifest;
    return new BrowserAssets(base, manifest, await openCache(manifest.key, build));
  }

  /** A response for an asset, from the cache when it is there; `hit` says whether it was. */
  private async get(name: string): Promise<{ res: Response; hit: boolean }> {
    const url = new URL(name, this.base);
    const cached = await this.cache?.match(url);
    if (cached) return { res: cached, hit: true };
    const res = await fetchOk(url);
    await this.cache?.put(url, res.clone()).catch(() => undefined);
    return { res, hit: false };
  }

  async compile(): Promise<{ module: WebAssembly.Module; cached: boolean }> {
    const { res, hit } = await this.get(this.manifest.wasm);
    return { module: await WebAssembly.compileStreaming(res), cached: hit };
  }

  /** The read-only file tree's image: the stdlib under lib/python3.11, runtime/ beside it (as on Node). */
  async files(): Promise<FileImage> {
    const [zip, runtime] = await Promise.all([this.get(this.manifest.stdlib), this.get(this.manifest.runtime)]);
    const stdlib = new Uint8Array(await zip.res.arrayBuffer());
    return buildFileImage((await runtime.res.json()) as { path: string; source: string }[], stdlib);
  }

  private snapshotUrl(): URL {
    return new URL(`wasmdeploy-cache/wasi-${this.manifest.key}.snapshot`, this.base);
  }

  /** The cached snapshot, if there is one and its checksum holds (else undefined: make a new one). */
  async readSnapshot(): Promise<WasiSnapshot | undefined> {
    const res = await this.cache?.match(this.snapshotUrl());
    if (!res) return undefined;
    const parsed = parseSnapshotFile(new Uint8Array(await res.arrayBuffer()));
    if (typeof parsed === "string") return undefined;
    const sum = new Uint8Array(await crypto.subtle.digest("SHA-256", parsed.body));
    if (sum.some((b, i) => parsed.sha256[i] !== b)) return undefined;
    return parsed.snapshot;
  }

  /** The layout of src/interpreter/wasi/snapshot-file.ts, as Node's disk cache has it. */
  async writeSnapshot(s: WasiSnapshot): Promise<void> {
    if (!this.cache) return;
    const body = snapshotBody(s);
    const file = snapshotFile(body, new Uint8Array(await crypto.subtle.digest("SHA-256", body)));
    // An unwritable cache (quota, private mode) costs the next visit a cold boot, nothing more.
    await this.cache.put(this.snapshotUrl(), new Response(file)).catch(() => undefined);
  }
}
