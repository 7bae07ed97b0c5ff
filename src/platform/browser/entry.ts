// The browser bundle's entry (dist/browser/wasmdeploy.js): the package's exports, plus where
// the bundle's assets are served when not beside it.

export * from "../../index.js";
export { setAssetsUrl } from "./index.js";
