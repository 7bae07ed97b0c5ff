// Where the browser suite's server and its files are (shared by the config, the setup and the specs).

import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
/** Served at /files/: archives, inputs and PyTorch's outputs, put there by global-setup.ts. */
export const FILES = path.join(tmpdir(), "wasmdeploy-browser-tests");
export const PORT = Number(process.env.WASMDEPLOY_BROWSER_PORT ?? 8391);
