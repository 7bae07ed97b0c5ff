// Types for the demo's import of the bundle (the bundle is src/platform/browser/entry.ts).
export * from "../src/platform/browser/entry.js";
