// A summary of a torch.package archive: JSON for tools, text for people.

import type { TorchPackageArchive } from "./archive.js";

export interface InspectReport {
  label: string;
  root: string;
  formatVersion: string;
  /** null when the archive does not record it (old archives). */
  pythonVersion: string | null;
  /** Interned module names, sorted. */
  interned: string[];
  /** Extern module names, sorted. */
  extern: string[];
  /** Mocked module names, sorted. */
  mocked: string[];
  /** Pickle paths relative to the root, e.g. "model/model.pkl", sorted. */
  pickles: string[];
  /** Other resource paths relative to the root, sorted. */
  resources: string[];
  storages: { count: number; bytes: number };
}

function sorted(xs: Iterable<string>): string[] {
  return [...xs].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

export function inspectArchive(a: TorchPackageArchive): InspectReport {
  return {
    label: a.label,
    root: a.root,
    formatVersion: a.formatVersion,
    pythonVersion: a.pythonVersion ?? null,
    interned: sorted(a.internedModules.map((m) => m.name)),
    extern: sorted(a.externModules),
    mocked: sorted(a.mockedModules.map((m) => m.name)),
    pickles: sorted(a.pickles.map((p) => p.path)),
    resources: sorted(a.resources.map((r) => r.path)),
    storages: { count: a.storages.length, bytes: a.storageBytes },
  };
}

/** 1536 -> "1.5 KiB". */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)} ${units[i]}`;
}

function section(title: string, items: readonly string[], width: number): string[] {
  const head = `${`${title} (${items.length})`.padEnd(width)}`;
  if (items.length === 0) return [`${head}  -`];
  return [`${head}  ${items[0]}`, ...items.slice(1).map((x) => `${" ".repeat(width)}  ${x}`)];
}

export function formatInspectReport(r: InspectReport): string {
  const fields: [string, string][] = [
    ["archive", r.label],
    ["root", `${r.root}/`],
    ["format version", r.formatVersion],
    ["python version", r.pythonVersion ?? "(not recorded)"],
    ["storages", `${r.storages.count} (${formatBytes(r.storages.bytes)})`],
  ];
  const lists: [string, string[]][] = [
    ["interned", r.interned],
    ["extern", r.extern],
    ["mocked", r.mocked],
    ["pickles", r.pickles],
    ["resources", r.resources],
  ];
  const width = Math.max(
    ...fields.map(([k]) => k.length),
    ...lists.map(([k, xs]) => `${k} (${xs.length})`.length),
  );
  const lines = fields.map(([k, v]) => `${k.padEnd(width)}  ${v}`);
  for (const [k, xs] of lists) lines.push(...section(k, xs, width));
  return `${lines.join("\n")}\n`;
}
