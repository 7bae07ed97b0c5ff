// Hard bounds on what one graph may ask of the engine, before ONNX Runtime sees it. They bound
// the host's own work too (parsing, keying and inferring a spec run on the host's main thread),
// so none of them is sized by a tenant's budget: they hold for every tenant alike.

export interface AdmissionLimits {
  /** Nodes in one graph. The torch layer cuts its graphs at about 4,096 (runtime/torch/_graph.py). */
  maxNodes: number;
  /** Rank of any value. */
  maxRank: number;
  /** Elements of one Constant (or ConstantOfShape `value`) written inline in a spec. */
  maxConstantElements: number;
  /** Elements of every inline constant of one graph together. */
  maxGraphConstantElements: number;
  /** Inputs, weights and outputs of one graph, each. */
  maxValues: number;
  /** Characters of a name (values, storages). */
  maxNameLength: number;
}

export const DEFAULT_ADMISSION_LIMITS: Readonly<AdmissionLimits> = {
  maxNodes: 20_000,
  maxRank: 16,
  maxConstantElements: 1 << 18,
  maxGraphConstantElements: 1 << 20,
  maxValues: 20_000,
  maxNameLength: 256,
};
