// The browser bundle's entry (dist/browser/wasmdeploy.js): installs the browser's platform for
// the manager, then exports the package's API, plus where the bundle's assets are served when
// not beside it.

import { installPlatform } from "../installed.js";
import { browserPlatform } from "./index.js";

installPlatform(browserPlatform);

export * from "../../api.js";
export { setAssetsUrl } from "./index.js";
