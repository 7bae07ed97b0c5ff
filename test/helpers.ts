// Shared test helpers: paths to the archives real PyTorch made, and the decoding of
// expected.json's value encoding (packages/README.md) into the JS values wasmdeploy returns.

import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { PyTuple } from "wasmdeploy";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const ARCHIVES = path.join(ROOT, "packages", "archives");
export const archive = (name: string) => path.join(ARCHIVES, name);

export interface ExpectedCall {
  package: string;
  resource: string;
  method: string | null;
  args: unknown[];
  kwargs: Record<string, unknown>;
  result: unknown;
}

export interface ExpectedArchive {
  root: string;
  python_version: string;
  calls: ExpectedCall[];
  inspect: {
    interned: string[];
    extern: string[];
    mocked: string[];
    pickles: string[];
    resources: string[];
    storages: number;
  };
}

export function expectedFor(file: string): Record<string, ExpectedArchive> {
  return JSON.parse(readFileSync(path.join(ARCHIVES, file), "utf8")) as Record<string, ExpectedArchive>;
}

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** expected.json encoding -> the JS value wasmdeploy's wire format yields (and accepts). */
export function fromExpected(v: unknown): unknown {
  if (v === null || typeof v !== "object") return v;
  if (Array.isArray(v)) return v.map(fromExpected);
  const o = v as Record<string, unknown>;
  if ("$tuple" in o) return PyTuple.from_((o.$tuple as unknown[]).map(fromExpected));
  if ("$bytes" in o) return hexToBytes(o.$bytes as string);
  if ("$int" in o) return BigInt(o.$int as string);
  if ("$dict" in o) {
    const pairs = (o.$dict as [unknown, unknown][]).map(([k, x]) => [fromExpected(k), fromExpected(x)] as [unknown, unknown]);
    return pairs.every(([k]) => typeof k === "string") ? Object.fromEntries(pairs) : new Map(pairs);
  }
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, fromExpected(x)]));
}

export function isExpectedError(v: unknown): v is { $error: string; message: string } {
  return typeof v === "object" && v !== null && "$error" in v;
}
