// The engine bridge across a Web Worker boundary. A browser worker has no way to receive a
// message while it is blocked (no receiveMessageOnPort), so the reply comes back through
// shared memory: the worker posts the request, then Atomics.wait()s on a control word; the
// page answers, writes the reply frame into a growable SharedArrayBuffer and wakes it.
// Needs cross-origin isolation (SharedArrayBuffer); platform/browser/index.ts checks for it.

import { encodeFrame, readFrame } from "../../interpreter/wasi/frames.js";
import { answerBridge, type BridgeHandler, type BridgeRequest, type SyncBridge } from "../../protocol.js";

/** control: [state (0 waiting, 1 replied), reply length]. */
export function bridgeBuffers(): { control: SharedArrayBuffer; data: SharedArrayBuffer } {
  // Growable: a reply bigger than the buffer grows it in place, visible to the worker at once.
  const Sab = SharedArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => SharedArrayBuffer;
  return { control: new SharedArrayBuffer(8), data: new Sab(1 << 20, { maxByteLength: 2 ** 31 }) };
}

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Page side: answers one request and wakes the worker. */
export async function answer(bufs: { control: SharedArrayBuffer; data: SharedArrayBuffer }, handler: BridgeHandler | undefined, req: BridgeRequest): Promise<void> {
  const reply = await answerBridge(handler, req);
  const frame = reply.ok ? encodeFrame([enc.encode("1"), enc.encode(reply.json), ...reply.buffers]) : encodeFrame([enc.encode("0"), enc.encode(reply.error)]);
  const data = bufs.data as SharedArrayBuffer & { grow(n: number): void };
  if (frame.length > data.byteLength) data.grow(frame.length);
  new Uint8Array(data, 0, frame.length).set(frame);
  const control = new Int32Array(bufs.control);
  Atomics.store(control, 1, frame.length);
  Atomics.store(control, 0, 1);
  Atomics.notify(control, 0);
}

/** Worker side: a synchronous bridge call that blocks until the page replied. */
export function makeSyncBridge(bufs: { control: SharedArrayBuffer; data: SharedArrayBuffer }, post: (req: BridgeRequest) => void): SyncBridge {
  const control = new Int32Array(bufs.control);
  let seq = 0;
  return (kind, json, buffers) => {
    Atomics.store(control, 0, 0);
    post({ id: ++seq, kind: kind as BridgeRequest["kind"], json, buffers: [...buffers] });
    while (Atomics.load(control, 0) === 0) Atomics.wait(control, 0, 0);
    const len = Atomics.load(control, 1);
    // readFrame copies the items out of shared memory (TextDecoder refuses shared views).
    const items = readFrame(new Uint8Array(bufs.data, 0, len), 0);
    if (dec.decode(items[0]) !== "1") throw new Error(dec.decode(items[1]));
    return [dec.decode(items[1]), items.slice(2)];
  };
}
