// wasmdeploy: serve torch.package archives from a pool of CPython-on-WebAssembly interpreters.
// The Node entry point: installs Node's platform for the manager, then exports the API.

import { nodePlatform } from "./platform/node/index.js";
import { installPlatform } from "./platform/installed.js";

installPlatform(nodePlatform);

export * from "./api.js";
