import { describe, expect, it } from "vitest";
import type { GraphSpec } from "../../src/engine/graph.js";
import { canonicalGraph, structuralKey } from "../../src/engine/structural-key.js";
import { registerNodeBackends } from "../../src/platform/node/backends.js";

registerNodeBackends(); // supplies the SHA-256 long keys are hashed with

function g(over: { value?: number; offset?: number; attrs?: GraphSpec["nodes"][number]["attrs"]; name?: string } = {}): GraphSpec {
  return {
    inputs: [{ name: over.name ?? "x", dtype: "float32", shape: [2, 3] }],
    weights: [{ name: "w", storage: "s1", dtype: "float32", shape: [3], offset: over.offset ?? 0 }],
    nodes: [
      { op: "Constant", inputs: [], outputs: ["c"], attrs: { value: { tensor: { dtype: "float32", shape: [], data: [over.value ?? 1] } } } },
      { op: "Add", inputs: [over.name ?? "x", "w"], outputs: ["t"] },
      { op: "Mul", inputs: ["t", "c"], outputs: ["y"], attrs: over.attrs },
    ],
    outputs: [{ name: "y", dtype: "float32", shape: [2, 3] }],
  };
}

describe("structuralKey", () => {
  it("is equal for equal structures built separately", () => {
    expect(structuralKey(g())).toBe(structuralKey(g()));
  });

  it("ignores attribute order, which ONNX ignores", () => {
    expect(structuralKey(g({ attrs: { a: 1, b: { float: 2 } } }))).toBe(structuralKey(g({ attrs: { b: { float: 2 }, a: 1 } })));
  });

  it("tells apart constants JSON cannot: NaN, +-Infinity, -0", () => {
    const keys = [NaN, Infinity, -Infinity, 0, -0].map((value) => structuralKey(g({ value })));
    expect(new Set(keys).size).toBe(5);
  });

  it("tells apart INT and FLOAT attributes, and weight offsets", () => {
    expect(structuralKey(g({ attrs: { a: 1 } }))).not.toBe(structuralKey(g({ attrs: { a: { float: 1 } } })));
    expect(structuralKey(g({ attrs: { a: [1] } }))).not.toBe(structuralKey(g({ attrs: { a: { floats: [1] } } })));
    expect(structuralKey(g({ offset: 0 }))).not.toBe(structuralKey(g({ offset: 3 })));
  });

  it("cannot be confused by names containing its delimiters", () => {
    const a = g();
    a.nodes[1]!.inputs = ["x", "w"];
    const b = g();
    b.nodes[1]!.inputs = ['x",w'];
    expect(canonicalGraph(a)).not.toBe(canonicalGraph(b));
    const c = g();
    c.nodes[1]!.inputs = ["1:x", "w"];
    expect(canonicalGraph(c)).not.toBe(canonicalGraph(a));
  });

  it("hashes long graphs to a short key", () => {
    const big = g();
    for (let i = 0; i < 200; i++) big.nodes.push({ op: "Relu", inputs: [`r${i}`], outputs: [`r${i + 1}`] });
    const key = structuralKey(big);
    expect(key.startsWith("h")).toBe(true);
    expect(key.length).toBeLessThan(64);
    expect(structuralKey(g()).startsWith("t")).toBe(true);
  });
});
