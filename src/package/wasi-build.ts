// Which build of the WASI interpreter an archive needs: "sci" (wasm/python-sci.wasm, numpy and
// Pillow linked in) when it externs numpy or PIL, else "default" (wasm/python.wasm, smaller and
// faster to start). Hosts that know the archive before they create a manager (the server, the
// CLI) pick with it; InterpreterManagerOptions.wasiBuild is the same choice made by hand.

/** Top-level modules only the sci build has. */
export const SCI_BUILD_MODULES: readonly string[] = ["numpy", "PIL"];

export function wasiBuildFor(externModules: readonly string[]): "default" | "sci" {
  return externModules.some((m) => SCI_BUILD_MODULES.includes(m.split(".", 1)[0]!)) ? "sci" : "default";
}
