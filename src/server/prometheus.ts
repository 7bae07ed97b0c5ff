// Prometheus metrics (prom-client) for the server: requests by model and status, queue and
// compute latency, batch sizes, interpreter utilisation and memory, read from the public
// ManagerStats of each model's interpreters at scrape time.

import client from "prom-client";
import type { Observer } from "./logger.js";
import type { ModelRegistry } from "./registry.js";

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export interface Prometheus {
  observer: Observer;
  render(): Promise<{ contentType: string; text: string }>;
}

export function createPrometheus(models: ModelRegistry, opts: { processMetrics?: boolean } = {}): Prometheus {
  const reg = new client.Registry();
  if (opts.processMetrics ?? true) client.collectDefaultMetrics({ register: reg });
  const registers = [reg];
  const requests = new client.Counter({
    name: "wasmdeploy_requests_total",
    help: "Inference requests answered, by model and HTTP status.",
    labelNames: ["model", "status"],
    registers,
  });
  const requestSeconds = new client.Histogram({
    name: "wasmdeploy_request_duration_seconds",
    help: "Time from request to response for inference requests (parse, queue, compute, encode).",
    labelNames: ["model"],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const queueSeconds = new client.Histogram({
    name: "wasmdeploy_queue_duration_seconds",
    help: "Time a request waited in its model's queue for an interpreter (and for a batch to form).",
    labelNames: ["model"],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const computeSeconds = new client.Histogram({
    name: "wasmdeploy_compute_duration_seconds",
    help: "Time of the model call that served a request (a batched call counts for each of its requests).",
    labelNames: ["model"],
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const batchSize = new client.Histogram({
    name: "wasmdeploy_batch_requests",
    help: "Requests sharing the model call that served a request (1 without dynamic batching).",
    labelNames: ["model"],
    buckets: [1, 2, 4, 8, 16, 32, 64],
    registers,
  });
  const busy = new client.Counter({
    name: "wasmdeploy_interpreter_busy_seconds_total",
    help: "Interpreter time spent in model calls; rate() over interpreters is the utilisation.",
    labelNames: ["model"],
    registers,
  });

  const perModel = (name: string, help: string, read: (m: ReturnType<ModelRegistry["list"]>[number]) => number | undefined) =>
    new client.Gauge({
      name,
      help,
      labelNames: ["model"],
      registers,
      collect() {
        this.reset();
        for (const m of models.list()) {
          const v = read(m);
          if (v !== undefined) this.set({ model: m.name }, v);
        }
      },
    });
  const stats = (m: ReturnType<ModelRegistry["list"]>[number]) => (m.state === "READY" ? m.runtime?.stats() : undefined);
  perModel("wasmdeploy_model_ready", "1 when the model is loaded and serving.", (m) => (m.state === "READY" ? 1 : 0));
  perModel("wasmdeploy_queue_length", "Requests waiting in the model's queue (read or not yet read).", (m) => m.scheduler?.queued);
  perModel("wasmdeploy_queue_unread", "Requests in the model's queue whose bodies are not read yet (held until the read-ahead has room).", (m) => m.scheduler?.unread);
  perModel("wasmdeploy_calls_in_flight", "Model calls running now.", (m) => m.scheduler?.inFlight);
  perModel("wasmdeploy_interpreters", "Interpreters serving the model.", (m) => m.scheduler?.concurrency);
  perModel("wasmdeploy_interpreter_utilization", "Running calls over interpreters, now (0..1).", (m) =>
    m.scheduler ? m.scheduler.inFlight / m.scheduler.concurrency : undefined,
  );
  perModel("wasmdeploy_interpreter_heap_bytes", "Python heap (wasm linear memory) of the model's interpreters, summed.", (m) =>
    stats(m)?.interpreters.reduce((n, i) => n + i.heapBytes, 0),
  );
  perModel("wasmdeploy_interpreter_resident_bytes", "Resident memory of the model's sandboxed interpreter processes, summed.", (m) => {
    const s = stats(m);
    return s?.interpreters.some((i) => i.residentBytes !== undefined) ? s.interpreters.reduce((n, i) => n + (i.residentBytes ?? 0), 0) : undefined;
  });
  perModel("wasmdeploy_engine_weight_bytes", "Weight bytes the model's engine holds (one copy for all its interpreters).", (m) => stats(m)?.engineBytes?.weights);
  perModel("wasmdeploy_engine_tensor_bytes", "Bytes of live engine tensors (inputs, results, intermediates Python keeps) of the model.", (m) => stats(m)?.engineBytes?.tensors);
  perModel("wasmdeploy_interpreter_crashes", "Interpreter crashes (each respawned) since the model loaded.", (m) =>
    stats(m)?.interpreters.reduce((n, i) => n + i.crashes, 0),
  );

  if (models.fleet) {
    const loads = new client.Histogram({
      name: "wasmdeploy_model_cold_load_seconds",
      help: "Loads of a model on its first request since it was last unloaded (memory budget), by model.",
      labelNames: ["model"],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers,
    });
    models.onColdLoad = (model, seconds) => loads.observe({ model }, seconds);
    const fleet = (name: string, help: string, read: () => number) =>
      new client.Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    fleet("wasmdeploy_fleet_evictions", "Models unloaded to stay within the memory budget, since the start.", () => models.fleetStats.evictions);
    fleet("wasmdeploy_fleet_loaded_bytes", "What the loaded models hold (weights, engine tensors, compiled graphs, interpreter heaps), at the last load.", () => models.fleetStats.loadedBytes);
    fleet("wasmdeploy_fleet_budget_bytes", "The memory budget (--memory-budget).", () => models.fleet!.budgetBytes);
  }

  return {
    observer: {
      request(model, status, seconds) {
        requests.inc({ model, status: String(status) });
        requestSeconds.observe({ model }, seconds);
      },
      call(model, q, c, batch) {
        queueSeconds.observe({ model }, q);
        computeSeconds.observe({ model }, c);
        batchSize.observe({ model }, batch);
        busy.inc({ model }, c / batch);
      },
    },
    async render() {
      return { contentType: reg.contentType, text: await reg.metrics() };
    },
  };
}
