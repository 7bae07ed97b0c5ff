// Testing hooks (`import * as testing from "wasmdeploy/testing"`): fault injection and views
// of internal state that tests check. Not part of the serving API; stable only for tests.

import type { EngineLike } from "./bridge/engine-host.js";
import type { InterpreterManager } from "./manager.js";
import { type ReplicatedObj, run } from "./package.js";
import type { Pool } from "./pool/dispatcher.js";
import { pools } from "./pool/registry.js";

function poolOf(manager: InterpreterManager): Pool {
  const pool = pools.get(manager);
  if (!pool) throw new TypeError("not an InterpreterManager");
  return pool;
}

/** Kill interpreter `index`'s worker as if it crashed; it is respawned. */
export function killInterpreter(manager: InterpreterManager, index: number): Promise<void> {
  return poolOf(manager).interpreterFor(undefined, index).kill();
}

/** Terminate engine thread `index` as if it crashed (ort-node with engine workers only). */
export async function killEngineThread(manager: InterpreterManager, index: number): Promise<void> {
  const engine = (await poolOf(manager).engineHost.engine()) as { kill?: (i: number) => Promise<void> };
  if (!engine.kill) throw new TypeError("this manager's engine runs on no engine threads");
  await engine.kill(index);
}

/** Engine diagnostics: tensors held for interpreters, weight bytes held, engine threads replaced. */
export async function engineState(manager: InterpreterManager): Promise<{ storedTensors: number; weightBytes?: number; threadsReplaced?: number }> {
  const host = poolOf(manager).engineHost;
  const engine = host.engineStarted ? ((await host.engine()) as { weightBytes?: number; replaced?: number }) : undefined;
  return { storedTensors: host.storedTensors, weightBytes: engine?.weightBytes, threadsReplaced: engine?.replaced };
}

/** The package id each interpreter serves (sandboxed tenancy), by interpreter index. */
export function tenants(manager: InterpreterManager): (string | undefined)[] {
  return poolOf(manager).tenants();
}

/** Call a method of a replicated object on interpreter `index` (queued behind what runs there). */
export function callMethodOn(manager: InterpreterManager, obj: ReplicatedObj, index: number, method: string, ...args: unknown[]): Promise<unknown> {
  const interp = poolOf(manager).interpreterFor(undefined, index);
  return run(obj, { op: "call", payload: { ...obj.address, method, args, kwargs: {} } }, `calling ${obj.name}.${method}`, interp);
}

/** The manager's engine (started if it was not), e.g. to time its runs. */
export function engine(manager: InterpreterManager): Promise<EngineLike> {
  return poolOf(manager).engineHost.engine();
}
