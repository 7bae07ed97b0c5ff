// Whether a file a packages/ script made just now is the committed one. Byte for byte, except
// where the bytes are float32 values PyTorch computed: its kernels follow the CPU (AVX-512 or
// AVX2 builds of the same matrix products round differently), so a BatchNorm statistic made by
// a calibration pass, or an expected output, may differ in its last bits from one machine to
// the next (1e-7 relative, measured between two EPYC VMs). Those may differ by FLOAT_RTOL of
// the file's (or zip entry's) largest magnitude; everything else must match exactly: names,
// headers, pickles, code, integers and shapes.

import { unzipSync } from "fflate";

const FLOAT_RTOL = 1e-5;
/** The smallest normal float32: an integer's bytes read as float32 are below it (denormal). */
const MIN_NORMAL = 2 ** -126;

/** Undefined when `made` stands for `committed`, else why not. */
export function differenceFromCommitted(name: string, made: Uint8Array, committed: Uint8Array): string | undefined {
  if (Buffer.compare(made, committed) === 0) return undefined;
  if (name.endsWith(".npy")) return npyDifference(made, committed);
  if (name.endsWith(".pt")) return archiveDifference(made, committed);
  return "the bytes differ";
}

function npyDifference(made: Uint8Array, committed: Uint8Array): string | undefined {
  const headerEnd = (b: Uint8Array) => {
    const len = b[6] === 1 ? b[8]! | (b[9]! << 8) : b[8]! | (b[9]! << 8) | (b[10]! << 16) | (b[11]! << 24);
    return (b[6] === 1 ? 10 : 12) + len;
  };
  const end = headerEnd(committed);
  if (headerEnd(made) !== end || Buffer.compare(made.subarray(0, end), committed.subarray(0, end)) !== 0) return "the .npy headers (dtype, shape) differ";
  if (!new TextDecoder().decode(committed.subarray(0, end)).includes("'<f4'")) return "the values differ (not float32: they must match exactly)";
  return float32Difference(made.subarray(end), committed.subarray(end));
}

function archiveDifference(made: Uint8Array, committed: Uint8Array): string | undefined {
  const a = unzipSync(made);
  const b = unzipSync(committed);
  const names = Object.keys(b);
  if (Object.keys(a).join("\n") !== names.join("\n")) return "the archives hold different entries";
  for (const n of names) {
    if (Buffer.compare(a[n]!, b[n]!) === 0) continue;
    // Only a storage's data may differ, and only as float32 values.
    const why = n.includes("/.data/") && n.endsWith(".storage") ? float32Difference(a[n]!, b[n]!) : "the bytes differ";
    if (why) return `${n}: ${why}`;
  }
  return undefined;
}

function float32Difference(made: Uint8Array, committed: Uint8Array): string | undefined {
  if (made.byteLength !== committed.byteLength || committed.byteLength % 4 !== 0) return "the data lengths differ";
  const view = (u: Uint8Array) => new Float32Array(u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength));
  const x = view(made);
  const y = view(committed);
  let scale = 1;
  for (const v of y) scale = Math.max(scale, Math.abs(v));
  for (let i = 0; i < y.length; i++) {
    if (x[i] === y[i]) continue;
    const normal = (v: number) => Number.isFinite(v) && Math.abs(v) >= MIN_NORMAL;
    if (!normal(x[i]!) || !normal(y[i]!)) return `element ${i}: ${x[i]} against ${y[i]} (not both normal floats: integer data must match exactly)`;
    if (Math.abs(x[i]! - y[i]!) > FLOAT_RTOL * scale) return `element ${i}: ${x[i]} against ${y[i]}, over ${FLOAT_RTOL} of ${scale}`;
  }
  return undefined;
}
