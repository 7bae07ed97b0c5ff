// The browser bundle resolves the manager's import of platform/node/index.js to this file
// (scripts/build-browser.mjs), so the core and the manager compile unchanged for both.

export { browserPlatform as nodePlatform, setAssetsUrl } from "./index.js";
