// The WASI snapshot file (src/interpreter/wasi/snapshot-file.ts): what is written is read back
// as it was, in place or copied, and a file that is not one, is cut short, or names memory
// outside its own is refused with a reason instead of being laid over an instance's memory.

import { describe, expect, it } from "vitest";
import type { WasiSnapshot } from "../../src/interpreter/wasi/image.js";
import { parseSnapshotFile, SNAPSHOT_HEAD, snapshotBody, snapshotFile } from "../../src/interpreter/wasi/snapshot-file.js";

const PAGE = 65536;

function sample(): WasiSnapshot {
  // Two runs in page 0, one at the start of page 2; their bytes one after the other.
  const runs = Uint32Array.from([8, 12, 4096, 4, 2 * PAGE, 8]);
  const data = new SharedArrayBuffer(24);
  new Uint8Array(data).forEach((_, i, a) => (a[i] = i + 1));
  return { pages: 3, runs, data };
}

function file(s: WasiSnapshot): Uint8Array {
  return snapshotFile(snapshotBody(s), new Uint8Array(32).fill(9));
}

/** The file with run `i`'s [offset, length] replaced. */
function withRun(s: WasiSnapshot, i: number, offset: number, length: number): Uint8Array {
  const f = file(s);
  const dv = new DataView(f.buffer, f.byteOffset + SNAPSHOT_HEAD);
  dv.setUint32(8 + 8 * i, offset, true);
  dv.setUint32(12 + 8 * i, length, true);
  return f;
}

describe("the WASI snapshot file", () => {
  for (const inPlace of [false, true]) {
    it(`reads back what was written (${inPlace ? "in place" : "copied"})`, () => {
      const s = sample();
      const parsed = parseSnapshotFile(file(s), inPlace);
      if (typeof parsed === "string") throw new Error(parsed);
      const got = parsed.snapshot;
      expect(got.pages).toBe(3);
      expect([...got.runs]).toStrictEqual([...s.runs]);
      expect([...new Uint8Array(got.data, got.dataOffset ?? 0, 24)]).toStrictEqual([...new Uint8Array(s.data)]);
      expect([...parsed.sha256]).toStrictEqual(new Array(32).fill(9));
      // Everything after the magic is 4-aligned, so a file read in place is XORed by words.
      if (inPlace) expect((got.dataOffset ?? 0) % 4).toBe(0);
    });
  }

  it("refuses another format or version by its magic", () => {
    const f = file(sample());
    f.set(new TextEncoder().encode("wasmdeploy-wasi-snapshot-2\n"));
    expect(parseSnapshotFile(f)).toMatch(/not a wasmdeploy WASI snapshot of this version/);
  });

  it("refuses a file cut short or with bytes to spare", () => {
    const f = file(sample());
    expect(parseSnapshotFile(f.subarray(0, f.length - 1))).toBe("truncated WASI snapshot");
    const longer = new Uint8Array(f.length + 4);
    longer.set(f);
    expect(parseSnapshotFile(longer)).toBe("truncated WASI snapshot");
  });

  it("refuses a run outside the memory or across a page", () => {
    const s = sample();
    expect(parseSnapshotFile(withRun(s, 2, 3 * PAGE, 8))).toMatch(/run outside its memory/);
    expect(parseSnapshotFile(withRun(s, 2, PAGE - 4, 8))).toMatch(/run outside its memory/);
    expect(typeof parseSnapshotFile(withRun(s, 2, PAGE - 8, 8))).toBe("object"); // ends at the page's end: fine
  });
});
