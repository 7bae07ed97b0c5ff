// Graph admission (src/engine/admission): what a hostile spec cannot get past, integer division
// that cannot fault in real ONNX Runtime, and peak sizes that cover intermediates.

import { afterAll, describe, expect, it } from "vitest";
import { admitGraph } from "../../src/engine/admission/admit.js";
import { Engine } from "../../src/engine/engine.js";
import { GraphRefusedError } from "../../src/engine/errors.js";
import type { DType, GraphNode, GraphSpec } from "../../src/engine/graph.js";
import { registerNodeBackends } from "../../src/platform/node/backends.js";
import { Tensor } from "../../src/tensor.js";

registerNodeBackends();

const constant = (name: string, dtype: DType, shape: number[], data: (number | boolean)[]): GraphNode => ({
  op: "Constant",
  inputs: [],
  outputs: [name],
  attrs: { value: { tensor: { dtype, shape, data } } },
});

function graph(nodes: GraphNode[], outputs: GraphSpec["outputs"], inputs: GraphSpec["inputs"] = []): GraphSpec {
  return { inputs, weights: [], nodes, outputs };
}

const refusal = (spec: unknown) => {
  try {
    admitGraph(spec);
  } catch (e) {
    expect(e).toBeInstanceOf(GraphRefusedError);
    return (e as Error).message;
  }
  throw new Error("admitted");
};

describe("admission refuses what the torch layer never sends", () => {
  const ok = graph([constant("a", "float32", [2], [1, 2]), { op: "Relu", inputs: ["a"], outputs: ["y"] }], [{ name: "y", dtype: "float32", shape: [2] }]);

  it("admits a well-formed graph unchanged", () => {
    const a = admitGraph(ok);
    expect(a.spec).toBe(ok);
    expect(a.outputBytes).toBe(8);
  });

  const cases: [string, (g: GraphSpec) => unknown, RegExp][] = [
    ["an op outside the allow-list", (g) => ({ ...g, nodes: [g.nodes[0], { op: "Loop", inputs: ["a"], outputs: ["y"] }] }), /op "Loop" is not allowed/],
    ["a contrib-domain op", (g) => ({ ...g, nodes: [g.nodes[0], { ...g.nodes[1], domain: "com.microsoft" }] }), /domain "com.microsoft" is not allowed/],
    ["an unknown spec field", (g) => ({ ...g, padding: "x".repeat(1000) }), /unknown field "padding"/],
    ["an unknown node field", (g) => ({ ...g, nodes: [g.nodes[0], { ...g.nodes[1], extra: [1, 2, 3] }] }), /node 1 has an unknown field "extra"/],
    ["an unknown output field", (g) => ({ ...g, outputs: [{ ...g.outputs[0], junk: 1 }] }), /unknown field "junk"/],
    ["an attribute the op does not take", (g) => ({ ...g, nodes: [g.nodes[0], { ...g.nodes[1], attrs: { alpha: { float: 1 } } }] }), /attribute "alpha" is not allowed/],
    ["a value used before it is defined", (g) => ({ ...g, nodes: [g.nodes[1], g.nodes[0]] }), /input "a" is not defined before this node/],
    ["a value defined twice", (g) => ({ ...g, nodes: [g.nodes[0], { op: "Relu", inputs: ["a"], outputs: ["a"] }] }), /redefines value "a"/],
    ["a declared output the graph does not compute", (g) => ({ ...g, outputs: [{ name: "y", dtype: "float32", shape: [3] }] }), /declared float32 \[3\] but the graph computes float32 \[2\]/],
    ["a constant whose data does not fit its shape", (g) => ({ ...g, nodes: [constant("a", "float32", [3], [1, 2]), g.nodes[1]] }), /holds 2 elements for shape \[3\]/],
    ["a constant over the size limit", (g) => ({ ...g, nodes: [{ ...constant("a", "float32", [2_000_000], []), attrs: { value: { tensor: { dtype: "float32", shape: [2_000_000], data: [] } } } }, g.nodes[1]] }), /over the limit/],
    ["a shape over the rank limit", (g) => ({ ...g, inputs: [{ name: "x", dtype: "float32", shape: new Array(40).fill(1) }] }), /invalid shape/],
    ["a negative dim", (g) => ({ ...g, outputs: [{ name: "y", dtype: "float32", shape: [-1] }] }), /invalid shape/],
  ];
  for (const [what, make, message] of cases) it(`refuses ${what}`, () => expect(refusal(make(ok))).toMatch(message));

  it("refuses a shape that comes from data (ConstantOfShape, Reshape, Expand fed a graph input)", () => {
    for (const op of ["ConstantOfShape", "Reshape", "Expand", "Tile"]) {
      const inputs = op === "ConstantOfShape" ? ["s"] : ["x", "s"];
      const g = graph([{ op, inputs, outputs: ["y"] }], [{ name: "y", dtype: "float32", shape: [4] }], [
        { name: "x", dtype: "float32", shape: [4] },
        { name: "s", dtype: "int64", shape: [1] },
      ]);
      expect(refusal(g)).toMatch(/must be a Constant node/);
    }
  });

  it("refuses auto_pad, training mode and a group that does not divide the channels", () => {
    const x = { name: "x", dtype: "float32" as const, shape: [1, 4, 8, 8] };
    const w = { name: "w", dtype: "float32" as const, shape: [4, 4, 3, 3] };
    const conv = (attrs: Record<string, unknown>) =>
      graph([{ op: "Conv", inputs: ["x", "w"], outputs: ["y"], attrs: attrs as GraphNode["attrs"] }], [{ name: "y", dtype: "float32", shape: [1, 4, 6, 6] }], [x, w]);
    expect(admitGraph(conv({ kernel_shape: [3, 3] })).outputBytes).toBe(4 * 36 * 4);
    expect(refusal(conv({ auto_pad: "SAME_UPPER" }))).toMatch(/auto_pad is not supported/);
    expect(refusal(conv({ group: 3 }))).toMatch(/group 3 does not divide/);
    expect(refusal(conv({ strides: [0, 1] }))).toMatch(/must be at least 1/);
  });

  it("admits the LSTM node the torch layer records, and refuses its other forms", () => {
    const f = (name: string, shape: number[]) => ({ name, dtype: "float32" as const, shape });
    const lstm = (inputs: string[], attrs: Record<string, unknown>, w = [1, 32, 4]) =>
      graph([{ op: "LSTM", inputs, outputs: ["y", "h", "c"], attrs: attrs as GraphNode["attrs"] }], [f("y", [5, 1, 2, 8]), f("h", [1, 2, 8]), f("c", [1, 2, 8])], [
        f("x", [5, 2, 4]),
        f("w", w),
        f("r", [1, 32, 8]),
        f("b", [1, 64]),
        { name: "lens", dtype: "int32", shape: [2] },
        f("h0", [1, 2, 8]),
        f("c0", [1, 2, 8]),
      ]);
    const a = admitGraph(lstm(["x", "w", "r", "b", "", "h0", "c0"], { hidden_size: 8, direction: "forward" }));
    expect(a.outputBytes).toBe(4 * (5 * 2 * 8 + 2 * 2 * 8));
    // The scratch covers every step's gates: 5 steps x 2 rows x 32 gate values.
    expect(a.peakBytes).toBeGreaterThanOrEqual(a.outputBytes + 4 * 5 * 2 * 32);
    expect(refusal(lstm(["x", "w", "r", "b", "lens", "h0", "c0"], { hidden_size: 8 }))).toMatch(/sequence_lens is not supported/);
    expect(refusal(lstm(["x", "w", "r"], { hidden_size: 8, clip: { float: 1 } }))).toMatch(/attribute "clip" is not allowed/);
    expect(refusal(lstm(["x", "w", "r"], { hidden_size: 8, activations: ["Relu", "Relu", "Relu"] }))).toMatch(/attribute "activations" is not allowed/);
    expect(refusal(lstm(["x", "w", "r"], { hidden_size: 8, layout: 1 }))).toMatch(/layout must be 0/);
    expect(refusal(lstm(["x", "w", "r"], { hidden_size: 8 }, [1, 32, 5]))).toMatch(/input 1 must be \[1,32,4\]/);
    expect(refusal(lstm(["x", "w", "r"], { hidden_size: 8, direction: "bidirectional" }))).toMatch(/input 1 must be \[2,32,4\]/);
  });

  it("refuses malformed JSON-shaped input of every kind without throwing anything but GraphRefusedError", () => {
    for (const bad of [null, 1, "x", [], { inputs: 1 }, { inputs: [], weights: [], nodes: [null], outputs: [] }, { inputs: [], weights: [], nodes: [], outputs: [] }]) {
      refusal(bad);
    }
  });
});

describe("peak memory covers intermediates", () => {
  it("a scalar behind a 1.6 GB intermediate is measured at its intermediate", () => {
    const g = graph(
      [
        constant("one", "float32", [], [1]),
        constant("shape", "int64", [2], [20000, 20000]),
        { op: "Expand", inputs: ["x", "shape"], outputs: ["big"] },
        constant("axes", "int64", [2], [0, 1]),
        { op: "ReduceSum", inputs: ["big", "axes"], outputs: ["y"], attrs: { keepdims: 0 } },
      ],
      [{ name: "y", dtype: "float32", shape: [] }],
      [{ name: "x", dtype: "float32", shape: [1] }],
    );
    const a = admitGraph(g);
    expect(a.outputBytes).toBe(4);
    expect(a.peakBytes).toBeGreaterThanOrEqual(20000 * 20000 * 4);
  });

  it("values computed from constants alone count as the session's (ONNX Runtime folds them)", () => {
    const g = graph(
      [constant("shape", "int64", [1], [1000]), { op: "ConstantOfShape", inputs: ["shape"], outputs: ["c"] }, { op: "Add", inputs: ["x", "c"], outputs: ["y"] }],
      [{ name: "y", dtype: "float32", shape: [1000] }],
      [{ name: "x", dtype: "float32", shape: [1000] }],
    );
    const a = admitGraph(g);
    expect(a.constantBytes).toBeGreaterThanOrEqual(4000);
    expect(a.peakBytes).toBeGreaterThanOrEqual(8000);
  });

  it("intermediates freed after their last reader are not counted twice", () => {
    // x -> 10 chained Relus of 1 MB each: at most two are alive at once.
    const nodes: GraphNode[] = [];
    for (let i = 0; i < 10; i++) nodes.push({ op: "Relu", inputs: [i === 0 ? "x" : `r${i - 1}`], outputs: [i === 9 ? "y" : `r${i}`] });
    const a = admitGraph(graph(nodes, [{ name: "y", dtype: "float32", shape: [262144] }], [{ name: "x", dtype: "float32", shape: [262144] }]));
    expect(a.peakBytes).toBe(2 * 2 ** 20);
  });
});

describe("integer division cannot fault (real ONNX Runtime)", () => {
  let engine: Engine | undefined;
  afterAll(() => engine?.close());

  const MIN: Record<string, bigint> = { int64: -(2n ** 63n), int32: -(2n ** 31n) };
  const bits: Record<string, number> = { int64: 64, int32: 32 };
  // Two's complement, as numpy computes it: the quotient wraps, the remainder of x / -1 is 0.
  const wrap = (dtype: string, v: bigint) => BigInt.asIntN(bits[dtype]!, v);
  const truncDiv = (a: bigint, b: bigint) => a / b;
  const floorMod = (a: bigint, b: bigint) => ((a % b) + b) % b;

  for (const dtype of ["int64", "int32"] as const) {
    for (const [op, fmod] of [["Div", undefined], ["Mod", 0], ["Mod", 1]] as const) {
      it(`${dtype} ${op}${fmod === undefined ? "" : ` fmod=${fmod}`}: INT_MIN and -1 among ordinary values`, async () => {
        engine ??= await Engine.create({ backend: "ort-node" });
        const a = [MIN[dtype]!, MIN[dtype]!, 7n, -7n, 7n, -7n, MIN[dtype]! + 1n, 0n];
        const b = [-1n, 1n, -1n, 2n, -2n, -1n, -1n, -1n];
        const spec = graph(
          [{ op, inputs: ["a", "b"], outputs: ["y"], ...(fmod === undefined ? {} : { attrs: { fmod } }) }],
          [{ name: "y", dtype, shape: [a.length] }],
          [
            { name: "a", dtype, shape: [a.length] },
            { name: "b", dtype, shape: [b.length] },
          ],
        );
        const admitted = admitGraph(spec);
        expect(admitted.spec.nodes.length).toBeGreaterThan(1); // rewritten
        const arr = (xs: bigint[]) => (dtype === "int64" ? BigInt64Array.from(xs) : Int32Array.from(xs.map(Number)));
        const out = await engine.run(admitted.spec, { a: new Tensor(dtype, arr(a), [a.length]), b: new Tensor(dtype, arr(b), [b.length]) });
        const got = [...out.y!.data].map((x) => BigInt(x as number | bigint));
        const want = a.map((x, i) => {
          const y = b[i]!;
          if (op === "Div") return wrap(dtype, truncDiv(x, y));
          if (y === -1n) return 0n;
          return fmod ? x % y : floorMod(x, y);
        });
        expect(got).toStrictEqual(want);
      });
    }
  }

  it("division by zero stays ONNX Runtime's typed error", async () => {
    engine ??= await Engine.create({ backend: "ort-node" });
    const spec = admitGraph(
      graph([{ op: "Div", inputs: ["a", "b"], outputs: ["y"] }], [{ name: "y", dtype: "int64", shape: [1] }], [
        { name: "a", dtype: "int64", shape: [1] },
        { name: "b", dtype: "int64", shape: [1] },
      ]),
    ).spec;
    await expect(engine.run(spec, { a: new Tensor("int64", BigInt64Array.from([5n]), [1]), b: new Tensor("int64", BigInt64Array.from([0n]), [1]) })).rejects.toThrow(
      /Integer division by zero/,
    );
  });
});

describe("empty tensors never reach a kernel (real ONNX Runtime)", () => {
  let engine: Engine | undefined;
  afterAll(() => engine?.close());
  const run = async (spec: GraphSpec, feeds: Record<string, Tensor>) => {
    engine ??= await Engine.create({ backend: "ort-node" });
    return engine.run(admitGraph(spec).spec, feeds);
  };

  it("a node with only empty outputs becomes empty constants (InstanceNormalization here segfaulted ORT 1.30)", async () => {
    const spec = graph(
      [constant("s", "float32", [1], [1]), constant("b", "float32", [1], [0]), { op: "InstanceNormalization", inputs: ["x", "s", "b"], outputs: ["y"] }],
      [{ name: "y", dtype: "float32", shape: [1, 1, 4, 0] }],
      [{ name: "x", dtype: "float32", shape: [1, 1, 4, 0] }],
    );
    expect(admitGraph(spec).spec.nodes.map((n) => n.op)).not.toContain("InstanceNormalization");
    const out = await run(spec, { x: new Tensor("float32", new Float32Array(0), [1, 1, 4, 0]) });
    expect([...out.y!.shape]).toStrictEqual([1, 1, 4, 0]);
  });

  it("reductions and matrix products of nothing give what torch gives (0, 1, nan, zeros); max of nothing is refused", async () => {
    const x = { name: "x", dtype: "float32" as const, shape: [2, 0] };
    const empty = new Tensor("float32", new Float32Array(0), [2, 0]);
    const reduce = (op: string) =>
      graph([constant("axes", "int64", [1], [1]), { op, inputs: ["x", "axes"], outputs: ["y"], attrs: { keepdims: 0 } }], [{ name: "y", dtype: "float32", shape: [2] }], [x]);
    expect(Array.from((await run(reduce("ReduceSum"), { x: empty })).y!.data as Float32Array)).toStrictEqual([0, 0]);
    expect(Array.from((await run(reduce("ReduceProd"), { x: empty })).y!.data as Float32Array)).toStrictEqual([1, 1]);
    expect(Array.from((await run(reduce("ReduceMean"), { x: empty })).y!.data as Float32Array).every(Number.isNaN)).toBe(true);
    expect(refusal(reduce("ReduceMax"))).toMatch(/reads an empty tensor/);
    const mm = graph([{ op: "MatMul", inputs: ["x", "w"], outputs: ["y"] }], [{ name: "y", dtype: "float32", shape: [2, 3] }], [x, { name: "w", dtype: "float32", shape: [0, 3] }]);
    const y = (await run(mm, { x: empty, w: new Tensor("float32", new Float32Array(0), [0, 3]) })).y!;
    expect([...y.shape]).toStrictEqual([2, 3]);
    expect(Array.from(y.data as Float32Array)).toStrictEqual([0, 0, 0, 0, 0, 0]);
  });

  it("Einsum with ellipses of different ranks is refused (ORT 1.30 segfaults on it)", () => {
    const g = graph([{ op: "Einsum", inputs: ["a", "b"], outputs: ["y"], attrs: { equation: "...i,...i->..." } }], [{ name: "y", dtype: "float32", shape: [1, 3, 4] }], [
      { name: "a", dtype: "float32", shape: [4] },
      { name: "b", dtype: "float32", shape: [1, 3, 4, 4] },
    ]);
    expect(refusal(g)).toMatch(/ellipses cover 0 and 3 dims/);
  });
});

describe("adaptive RoiAlign is bounded by the rois it is given (real ONNX Runtime)", () => {
  let engine: Engine | undefined;
  afterAll(() => engine?.close());
  const spec = graph(
    [{ op: "RoiAlign", inputs: ["x", "rois", "b"], outputs: ["y"], attrs: { output_height: 2, output_width: 2, sampling_ratio: 0, spatial_scale: { float: 1 }, mode: "avg", coordinate_transformation_mode: "half_pixel" } }],
    [{ name: "y", dtype: "float32", shape: [1, 2, 2, 2] }],
    [
      { name: "x", dtype: "float32", shape: [1, 2, 8, 8] },
      { name: "rois", dtype: "float32", shape: [1, 4] },
      { name: "b", dtype: "int64", shape: [1] },
    ],
  );
  const feeds = (extent: number) => ({
    x: new Tensor("float32", new Float32Array(128).fill(1), [1, 2, 8, 8]),
    rois: new Tensor("float32", Float32Array.from([0, 0, extent, extent]), [1, 4]),
    b: new Tensor("int64", BigInt64Array.from([0n]), [1]),
  });

  it("a roi of ordinary size runs; one 30,000 pixels wide (gigabytes of samples) or NaN is refused before ORT allocates", async () => {
    engine ??= await Engine.create({ backend: "ort-node" });
    const admitted = admitGraph(spec).spec;
    expect((await engine.run(admitted, feeds(4))).y!.shape).toStrictEqual([1, 2, 2, 2]);
    await expect(engine.run(admitted, feeds(30_000))).rejects.toThrow(/batch_indices value -1/);
    await expect(engine.run(admitted, feeds(Number.NaN))).rejects.toThrow(/batch_indices value -1/);
  });

  it("fixed sampling beyond the sample limit is refused at admission", () => {
    const big = structuredClone(spec);
    big.nodes[0]!.attrs!.sampling_ratio = 64;
    big.inputs[1]!.shape = [200_000, 4];
    big.inputs[2]!.shape = [200_000];
    big.outputs[0]!.shape = [200_000, 2, 2, 2];
    expect(refusal(big)).toMatch(/samples is over/);
  });
});
