// The WASI boot snapshot: made once (cold boot + runtime import), cached on disk, restored by
// later managers; a corrupt cache file is detected (checksum) and replaced, never restored.

import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { InterpreterManager } from "wasmdeploy";

const dir = mkdtempSync(path.join(tmpdir(), "wasmdeploy-wasi-snapshot-test-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bootOnce() {
  const m = await InterpreterManager.create({ interpreters: 1, interpreter: "wasi", snapshotDir: dir });
  const s = await m.acquireOne();
  const answer = await (await s.global("operator", "add")).call(20, 22);
  await s.release();
  const stats = m.stats();
  await m.close();
  return { answer, stats };
}

describe("WASI boot snapshot cache", () => {
  it("is made once, then restored from the cached file", async () => {
    const first = await bootOnce();
    expect(first.answer).toBe(42);
    expect(first.stats.boot.snapshot).toBe("made");
    expect(readdirSync(dir).filter((f) => f.startsWith("wasi-"))).toHaveLength(1);
    const second = await bootOnce();
    expect(second.answer).toBe(42);
    expect(second.stats.boot.snapshot).toBe("disk");
    expect(second.stats.interpreters[0]!.fromSnapshot).toBe(true);
  });

  it("ignores a corrupt cached file and makes a good one", async () => {
    for (const f of readdirSync(dir)) {
      // Same length, different bytes: only the checksum can tell.
      const size = statSync(path.join(dir, f)).size;
      writeFileSync(path.join(dir, f), new Uint8Array(size).fill(7));
    }
    const r = await bootOnce();
    expect(r.answer).toBe(42);
    expect(r.stats.boot.snapshot).toBe("made");
    const again = await bootOnce();
    expect(again.stats.boot.snapshot).toBe("disk");
  });
});
