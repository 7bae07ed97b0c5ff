// Makes the browser suite's files with real PyTorch: a torchvision classifier packaged now (not
// in the repository) with its input and PyTorch's output, a test image, a corrupt archive, and
// copies of committed conformance models and of faults.pt (the server serves only its --root).

import { execFileSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { FILES, PYTHON, ROOT } from "./paths.js";

/** Committed conformance models the suite runs (small ones: WebGPU here is SwiftShader). */
export const COMMITTED = ["tiny_gpt", "mha", "resnet_basic"];

export default function setup() {
  mkdirSync(FILES, { recursive: true });
  const models = path.join(ROOT, "packages", "models");
  for (const name of COMMITTED) {
    for (const f of [`${name}.pt`, `${name}.input.npy`, `${name}.input1.npy`, `${name}.expected.npy`, `${name}.expected1.npy`, `${name}.expected2.npy`]) {
      if (existsSync(path.join(models, f))) copyFileSync(path.join(models, f), path.join(FILES, f));
    }
  }
  copyFileSync(path.join(ROOT, "packages", "archives", "faults.pt"), path.join(FILES, "faults.pt"));
  // Packaged now, every run: mobilenet_v3_small, 10 classes, a 1x3x64x64 input, seed 11.
  execFileSync(PYTHON, [path.join(ROOT, "packages", "make_torchvision_model.py"), "mobilenet_v3_small", FILES, "--size", "64", "--seed", "11", "--classes", "10"], { stdio: "pipe" });
  // A photo-like test image for the demo: smooth colour gradients with a disc.
  if (!existsSync(path.join(FILES, "image.png"))) {
    execFileSync(PYTHON, ["-c", `
from PIL import Image, ImageDraw
im = Image.new("RGB", (160, 120))
px = im.load()
for y in range(120):
    for x in range(160):
        px[x, y] = (x * 255 // 159, y * 255 // 119, 128)
ImageDraw.Draw(im).ellipse((50, 30, 110, 90), fill=(240, 200, 40))
im.save(${JSON.stringify(path.join(FILES, "image.png"))})
`]);
  }
  // A zip that is not one: the first bytes of a zip, then garbage.
  writeFileSync(path.join(FILES, "corrupt.pt"), Buffer.concat([Buffer.from("PK\x03\x04"), Buffer.alloc(512, 0x5a)]));
}
