// Puts the browser suite's files where `wasmdeploy web` serves them (its --root holds only what
// it serves): committed archives, inputs and PyTorch's outputs, made by packages/make_models.py
// and packages/make_archives.py with real PyTorch (files.test.ts checks that the scripts still
// make them byte for byte), and a corrupt archive. Nothing here needs PyTorch or Python.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { FILES, ROOT } from "./paths.js";

/** Committed conformance models the suite runs (small ones: WebGPU here is SwiftShader). */
export const MODELS = ["mobilenet_v3_small", "tiny_gpt", "mha", "resnet_basic"];

interface ModelEntry {
  name: string;
  file: string;
  inputs: { file: string }[];
  outputs: { file: string }[];
}

/** Every committed file the suite serves, relative to the repository. */
export function servedFiles(): string[] {
  const catalog = (JSON.parse(readFileSync(path.join(ROOT, "packages", "models", "models.json"), "utf8")) as { models: ModelEntry[] }).models;
  const files = MODELS.flatMap((name) => {
    const m = catalog.find((e) => e.name === name);
    if (!m) throw new Error(`packages/models/models.json has no model ${name}`);
    return [m.file, ...m.inputs.map((f) => f.file), ...m.outputs.map((f) => f.file)].map((f) => `packages/models/${f}`);
  });
  // numpy and PIL archives for the sci build (sci.spec.ts), with what real PyTorch gave.
  const sci = ["np_forward.pt", "expected.json"].map((f) => `packages/archives/numpy/${f}`);
  return [...files, "packages/archives/faults.pt", ...sci];
}

export default function setup() {
  mkdirSync(FILES, { recursive: true });
  for (const f of servedFiles()) copyFileSync(path.join(ROOT, f), path.join(FILES, path.basename(f)));
  // A zip that is not one: the first bytes of a zip, then garbage.
  writeFileSync(path.join(FILES, "corrupt.pt"), Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(512, 0x5a)]));
}
