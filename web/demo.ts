// The demo page: pick an archive, see what is in it, run one of its pickles on an image or a
// .npy file, on WebGPU or WebAssembly. Plain DOM, no framework. Every failure is shown in the
// page and leaves it usable.

import { InterpreterManager, parseTorchPackage, Tensor, type TorchPackageArchive } from "./wasmdeploy.js";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const archiveInput = $<HTMLInputElement>("archive");
const drop = $<HTMLDivElement>("drop");
const urlInput = $<HTMLInputElement>("archive-url");
const pickleSelect = $<HTMLSelectElement>("pickle");
const inputFile = $<HTMLInputElement>("input");
const sizeInput = $<HTMLInputElement>("size");
const runButton = $<HTMLButtonElement>("run");
const status = $<HTMLParagraphElement>("status");
const errorBox = $<HTMLDivElement>("error");

let archive: { bytes: Uint8Array; parsed: TorchPackageArchive } | undefined;
let input: Tensor | undefined;
const managers = new Map<string, Promise<InterpreterManager>>();

function showError(e: unknown) {
  const err = e as Error;
  errorBox.textContent = `${err?.name ?? "Error"}: ${err?.message ?? String(e)}`;
}
function clearError() {
  errorBox.textContent = "";
}
const el = (tag: string, props: Record<string, string> = {}, ...kids: (Node | string)[]) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) e.setAttribute(k, v);
  e.append(...kids);
  return e;
};
const kib = (n: number) => (n < 1 << 20 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(1)} MiB`);

function updateRunnable() {
  runButton.disabled = !(archive && input && pickleSelect.value);
}

function showReport(a: TorchPackageArchive) {
  const list = (xs: string[]) => (xs.length ? xs.join(", ") : "—");
  const dl = el(
    "dl",
    {},
    el("dt", {}, "archive"), el("dd", {}, a.label),
    el("dt", {}, "modules (interned)"), el("dd", {}, list(a.internedModules.map((m) => m.name).sort())),
    el("dt", {}, "extern"), el("dd", {}, list([...a.externModules].sort())),
    el("dt", {}, "mocked"), el("dd", {}, list(a.mockedModules.map((m) => m.name).sort())),
    el("dt", {}, "pickles"), el("dd", { id: "report-pickles" }, list(a.pickles.map((p) => p.path).sort())),
    el("dt", {}, "storages"), el("dd", { id: "report-storages" }, `${a.storages.length} (${kib(a.storageBytes)})`),
  );
  $("report").replaceChildren(dl);
  pickleSelect.replaceChildren(...a.pickles.map((p) => el("option", { value: p.path }, p.path)));
  pickleSelect.disabled = a.pickles.length === 0;
}

async function takeArchive(bytes: Uint8Array, label: string) {
  clearError();
  archive = undefined;
  $("report").textContent = "";
  pickleSelect.replaceChildren();
  pickleSelect.disabled = true;
  updateRunnable();
  try {
    const parsed = parseTorchPackage(bytes, label);
    archive = { bytes, parsed };
    showReport(parsed);
  } catch (e) {
    showError(e);
  }
  updateRunnable();
}

archiveInput.addEventListener("change", async () => {
  const f = archiveInput.files?.[0];
  if (f) await takeArchive(new Uint8Array(await f.arrayBuffer()), f.name);
});
for (const t of ["dragenter", "dragover"]) drop.addEventListener(t, (e) => (e.preventDefault(), drop.classList.add("over")));
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
// Keyboard: Enter or Space on the drop zone itself opens the file chooser.
drop.addEventListener("keydown", (e) => {
  if (e.target === drop && (e.key === "Enter" || e.key === " ")) {
    e.preventDefault();
    archiveInput.click();
  }
});
drop.addEventListener("drop", async (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  const f = e.dataTransfer?.files[0];
  if (f) await takeArchive(new Uint8Array(await f.arrayBuffer()), f.name);
});
async function loadUrl() {
  clearError();
  try {
    const res = await fetch(urlInput.value);
    if (!res.ok) throw new Error(`${urlInput.value}: HTTP ${res.status}`);
    await takeArchive(new Uint8Array(await res.arrayBuffer()), urlInput.value);
  } catch (e) {
    showError(e);
  }
}
$("archive-url-load").addEventListener("click", loadUrl);
urlInput.addEventListener("keydown", (e) => {
  if (e.key === "Enter") void loadUrl();
});
pickleSelect.addEventListener("change", updateRunnable);

/** torchvision's classification preset: Resize(size*256/224) (short side), CenterCrop(size), ToTensor, Normalize(ImageNet). */
async function imageTensor(file: Blob, size: number): Promise<Tensor> {
  const bitmap = await createImageBitmap(file);
  const resize = Math.round((size * 256) / 224);
  const scale = resize / Math.min(bitmap.width, bitmap.height);
  const w = Math.round(bitmap.width * scale);
  const h = Math.round(bitmap.height * scale);
  const canvas = $<HTMLCanvasElement>("preview");
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext("2d", { willReadFrequently: true })!;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(bitmap, Math.round((size - w) / 2), Math.round((size - h) / 2), w, h);
  const rgba = ctx.getImageData(0, 0, size, size).data;
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const out = new Float32Array(3 * size * size);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < size * size; i++) out[c * size * size + i] = (rgba[i * 4 + c]! / 255 - mean[c]!) / std[c]!;
  }
  return new Tensor("float32", out, [1, 3, size, size]);
}

async function takeInput() {
  clearError();
  input = undefined;
  updateRunnable();
  const f = inputFile.files?.[0];
  if (!f) return;
  try {
    input = f.name.endsWith(".npy") ? Tensor.fromNpy(new Uint8Array(await f.arrayBuffer())) : await imageTensor(f, Number(sizeInput.value) || 224);
    status.textContent = `input: ${input.dtype} [${input.shape.join(", ")}]`;
  } catch (e) {
    showError(e);
  }
  updateRunnable();
}
inputFile.addEventListener("change", takeInput);
sizeInput.addEventListener("change", takeInput);

function manager(engine: string): Promise<InterpreterManager> {
  let m = managers.get(engine);
  if (!m) {
    m = InterpreterManager.create({ interpreters: 1, engine: engine as "ort-web" | "webgpu" });
    m.catch(() => managers.delete(engine));
    managers.set(engine, m);
  }
  return m;
}

function bars(rows: [string, number, string][], cls: string, id: string): HTMLElement {
  const max = Math.max(...rows.map((r) => r[1]), 1e-9);
  return el(
    "ol",
    { class: `bars ${cls}`, id },
    ...rows.map(([label, v, text]) => {
      const bar = el("span", { class: "bar", role: "presentation" });
      bar.style.width = `${(100 * v) / max}%`;
      return el("li", { "aria-label": `${label}: ${text}` }, el("span", {}, label), bar, el("span", { class: "num" }, text));
    }),
  );
}

function showResult(out: unknown) {
  const box = $("result");
  if (!(out instanceof Tensor)) {
    box.replaceChildren(el("pre", {}, JSON.stringify(out, (_k, v) => (v instanceof Tensor ? `Tensor ${v.dtype} [${v.shape.join(", ")}]` : typeof v === "bigint" ? String(v) : v), 2)));
    return;
  }
  const values = Array.from(out.data as ArrayLike<number | bigint>, Number);
  const classes = out.shape.length >= 1 ? out.shape[out.shape.length - 1]! : 0;
  const isClassifier = out.dtype.startsWith("float") && (out.shape.length === 1 || (out.shape.length === 2 && out.shape[0] === 1)) && classes >= 2;
  const head = el("p", { id: "result-shape" }, `${out.dtype} [${out.shape.join(", ")}]`);
  if (isClassifier) {
    const logits = values.slice(0, classes);
    const m = Math.max(...logits);
    const exp = logits.map((x) => Math.exp(x - m));
    const sum = exp.reduce((a, b) => a + b, 0);
    const top = exp.map((e, i) => [i, e / sum] as const).sort((a, b) => b[1] - a[1]).slice(0, 5);
    box.replaceChildren(head, el("h3", {}, "Top 5"), bars(top.map(([i, p]) => [`class ${i}`, p, `${(100 * p).toFixed(2)}%`]), "", "top5"));
  } else {
    const shown = values.slice(0, 16).map((v) => v.toPrecision(5)).join(", ");
    box.replaceChildren(head, el("pre", { id: "result-values" }, `[${shown}${values.length > 16 ? `, … (${values.length} values)` : ""}]`));
  }
}

runButton.addEventListener("click", async () => {
  if (!archive || !input) return;
  clearError();
  runButton.disabled = true;
  const engine = (document.querySelector('input[name="engine"]:checked') as HTMLInputElement).value;
  const times: [string, number][] = [];
  const stage = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
    status.textContent = `${name}…`;
    const t = performance.now();
    const r = await fn();
    times.push([name, performance.now() - t]);
    return r;
  };
  try {
    const m = await stage("boot", () => manager(engine));
    const path = pickleSelect.value;
    const cut = path.lastIndexOf("/");
    const obj = await stage("load", async () => (await m.loadPackage(archive!.bytes)).loadPickle(path.slice(0, cut), path.slice(cut + 1)));
    const x = input;
    const out = await stage("first call", () => obj.call(x));
    await stage("steady call", () => obj.call(x));
    showResult(out);
    status.textContent = `done on ${engine}`;
  } catch (e) {
    showError(e);
    status.textContent = "failed";
  } finally {
    $("timings").replaceChildren(bars(times.map(([n, ms]) => [n, ms, `${ms.toFixed(ms < 10 ? 1 : 0)} ms`]), "timing", "timing-bars"));
    updateRunnable();
  }
});

const gpu = (navigator as { gpu?: unknown }).gpu ? "WebGPU available" : "no WebGPU in this browser (use WebAssembly)";
$("env").textContent = `${crossOriginIsolated ? "cross-origin isolated" : "NOT cross-origin isolated: interpreters cannot start (serve with COOP/COEP, e.g. npx wasmdeploy web)"} · ${gpu} · ${navigator.hardwareConcurrency} cores`;
