// The boot snapshot: made once and cached on disk, reused by later managers, and a
// corrupt cache file falls back to a cold boot instead of failing (on WASI it is caught by
// its checksum before any restore, and replaced).

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InterpreterManager } from "wasmdeploy";
import { COMPONENT, kind, WASI } from "../kind.js";

const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-snapshot-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bootOnce(isolation: "trusted" | "sandboxed") {
  const m = await InterpreterManager.create({ ...kind, interpreters: 1, isolation, snapshotDir: dir });
  const s = await m.acquireOne();
  const answer = await (await s.global("operator", "add")).call(20, 22);
  await s.release();
  const stats = m.stats();
  await m.close();
  return { answer, stats };
}

// The interpreter component boots every instance cold (ComponentInstance says why): it must
// neither write nor read a snapshot, and say so in its stats.
describe.runIf(COMPONENT)("no boot snapshot for the component kind", () => {
  it("boots cold, reports no snapshot and leaves the cache directory alone", async () => {
    for (let i = 0; i < 2; i++) {
      const r = await bootOnce("trusted");
      expect(r.answer).toBe(42);
      expect(r.stats.boot.snapshot).toBe("none");
      expect(r.stats.interpreters[0]!.fromSnapshot).toBe(false);
      expect(readdirSync(dir)).toEqual([]);
    }
  });
});

describe.skipIf(COMPONENT)("boot snapshot cache", () => {
  it("makes the snapshot once, then boots from the cached file", async () => {
    const first = await bootOnce("trusted");
    expect(first.answer).toBe(42);
    expect(first.stats.boot.snapshot).toBe("made");
    expect(first.stats.interpreters[0]!.fromSnapshot).toBe(true);
    if (WASI) expect(readdirSync(dir).filter((f) => f.startsWith("wasi-"))).toHaveLength(1);
    const second = await bootOnce("trusted");
    expect(second.stats.boot.snapshot).toBe("disk");
    expect(second.stats.interpreters[0]!.fromSnapshot).toBe(true);
  });

  it("boots cold when the cached snapshot is corrupt", async () => {
    for (const f of readdirSync(dir)) {
      const file = path.join(dir, f);
      if (WASI) {
        // Header, length and run index intact, the last 4 KiB of stored bytes flipped: only the
        // checksum can tell.
        const bytes = readFileSync(file);
        for (let i = bytes.length - 4096; i < bytes.length; i++) bytes[i]! ^= 0xff;
        writeFileSync(file, bytes);
      } else writeFileSync(file, new Uint8Array(4096).fill(7));
    }
    const r = await bootOnce("trusted");
    expect(r.answer).toBe(42);
    if (WASI) {
      // The WASI cache file carries a checksum: the corruption is seen before any restore, so
      // a fresh snapshot is made (one cold boot) and replaces the bad file.
      expect(r.stats.boot.snapshot).toBe("made");
      expect(r.stats.interpreters[0]!.fromSnapshot).toBe(true);
      const again = await bootOnce("trusted");
      expect(again.stats.boot.snapshot).toBe("disk");
      expect(again.stats.interpreters[0]!.fromSnapshot).toBe(true);
      return;
    }
    expect(r.stats.boot.snapshot).toBe("disk");
    expect(r.stats.interpreters[0]!.fromSnapshot).toBe(false);
    // The bad file was dropped: the next manager makes a good one again.
    const again = await bootOnce("trusted");
    expect(again.stats.boot.snapshot).toBe("made");
    expect(again.stats.interpreters[0]!.fromSnapshot).toBe(true);
  });
});
