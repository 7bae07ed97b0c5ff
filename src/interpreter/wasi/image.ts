// What a WASI interpreter instance is made from, on any platform: the read-only file image it
// mounts, and the memory snapshot it restores. Plain data (SharedArrayBuffer-backed), so one
// copy can be shared by every thread or worker that runs instances.

/** Files as [path, offset, length] into one shared byte buffer. */
export interface FileImage {
  data: SharedArrayBuffer;
  entries: [string, number, number][];
}

/** Non-zero 64 KiB pages of linear memory after the runtime is imported. */
export interface WasiSnapshot {
  /** Memory size when taken, in pages. */
  pages: number;
  /** Indices of the pages stored in `data`, ascending. */
  index: Int32Array;
  data: SharedArrayBuffer;
  /** Where the first page starts in `data` (default 0): lets a snapshot file be used in place, uncopied. */
  dataOffset?: number;
}
