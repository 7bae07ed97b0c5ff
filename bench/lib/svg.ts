// Small SVG charts for docs/benchmarks.md: a line chart (y against x, one line per system) and
// a horizontal grouped bar chart with p10-p90 whiskers. Plain SVG 1.1, no scripts, no external
// fonts, readable on light and dark backgrounds (own white background).

export interface LinePoint {
  x: number;
  y: number;
}
export interface LineSeries {
  label: string;
  color: string;
  dash?: boolean;
  points: LinePoint[];
}
export interface LineChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: LineSeries[];
  xTicks: number[];
  /** Vertical marker (e.g. the core count). */
  marker?: { x: number; label: string };
  width?: number;
  height?: number;
}

export interface Bar {
  label: string;
  color: string;
  value?: number;
  lo?: number;
  hi?: number;
  /** Shown instead of a bar (failed, skipped). */
  note?: string;
  /** Text after the bar; default: the value. */
  text?: string;
}
export interface BarGroup {
  label: string;
  bars: Bar[];
  /** A vertical line in this group (e.g. a target), per-group scale only. */
  reference?: { x: number; label: string };
}
export interface BarChartSpec {
  title: string;
  subtitle?: string;
  xLabel: string;
  groups: BarGroup[];
  width?: number;
  /** Vertical reference line (shared scale only). */
  reference?: { x: number; label: string };
  /** Each group gets its own x scale (for groups whose values differ by orders of magnitude). */
  perGroupScale?: boolean;
}

const FONT = "font-family=\"Helvetica, Arial, sans-serif\"";

export function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Nice tick step for a range [0, max] with about n ticks. */
export function niceTicks(max: number, n = 5): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let v = 0; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1]! < max) ticks.push(Number((ticks[ticks.length - 1]! + step).toPrecision(12)));
  return ticks;
}

export function fmtNum(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1).replace(/\.0$/, "");
  if (a >= 1) return v.toFixed(2).replace(/\.?0+$/, "");
  return v.toPrecision(2);
}

function text(x: number, y: number, s: string, attrs = ""): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${FONT} ${attrs}>${esc(s)}</text>`;
}

export function lineChart(spec: LineChartSpec): string {
  const W = spec.width ?? 780;
  const legendW = 270;
  const H = spec.height ?? 380;
  const m = { l: 64, r: legendW + 16, t: spec.subtitle ? 58 : 42, b: 52 };
  const pw = W - m.l - m.r;
  const ph = H - m.t - m.b;
  const all = spec.series.flatMap((s) => s.points);
  const yTicks = niceTicks(Math.max(0, ...all.map((p) => p.y)) * 1.05);
  const yMax = yTicks[yTicks.length - 1]!;
  const xMin = Math.min(...spec.xTicks);
  const xMax = Math.max(...spec.xTicks);
  const X = (x: number) => m.l + (xMax === xMin ? pw / 2 : ((x - xMin) / (xMax - xMin)) * pw);
  const Y = (y: number) => m.t + ph - (y / yMax) * ph;
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(text(m.l, 22, spec.title, `font-size="15" font-weight="bold" fill="#222"`));
  if (spec.subtitle) o.push(text(m.l, 40, spec.subtitle, `font-size="11.5" fill="#555"`));
  for (const t of yTicks) {
    o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${Y(t).toFixed(1)}" y2="${Y(t).toFixed(1)}" stroke="#e4e4e4"/>`);
    o.push(text(m.l - 6, Y(t) + 4, fmtNum(t), `font-size="11" fill="#444" text-anchor="end"`));
  }
  for (const t of spec.xTicks) {
    o.push(`<line x1="${X(t).toFixed(1)}" x2="${X(t).toFixed(1)}" y1="${m.t + ph}" y2="${m.t + ph + 4}" stroke="#888"/>`);
    o.push(text(X(t), m.t + ph + 17, String(t), `font-size="11" fill="#444" text-anchor="middle"`));
  }
  o.push(`<line x1="${m.l}" x2="${m.l + pw}" y1="${m.t + ph}" y2="${m.t + ph}" stroke="#888"/>`);
  o.push(`<line x1="${m.l}" x2="${m.l}" y1="${m.t}" y2="${m.t + ph}" stroke="#888"/>`);
  if (spec.marker && spec.marker.x >= xMin && spec.marker.x <= xMax) {
    const x = X(spec.marker.x);
    o.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="#999" stroke-dasharray="2,3"/>`);
    o.push(text(x + 4, m.t + 12, spec.marker.label, `font-size="10.5" fill="#777"`));
  }
  o.push(text(m.l + pw / 2, H - 12, spec.xLabel, `font-size="12" fill="#333" text-anchor="middle"`));
  o.push(`<text transform="translate(16,${(m.t + ph / 2).toFixed(1)}) rotate(-90)" ${FONT} font-size="12" fill="#333" text-anchor="middle">${esc(spec.yLabel)}</text>`);
  spec.series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      o.push(
        `<polyline fill="none" stroke="${s.color}" stroke-width="${s.dash ? 1.5 : 2.5}"${s.dash ? ' stroke-dasharray="6,4"' : ""} points="${pts.map((p) => `${X(p.x).toFixed(1)},${Y(p.y).toFixed(1)}`).join(" ")}"/>`,
      );
    }
    if (!s.dash) for (const p of pts) o.push(`<circle cx="${X(p.x).toFixed(1)}" cy="${Y(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
    const ly = m.t + 8 + i * 20;
    const lx = W - legendW;
    o.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="${s.dash ? 1.5 : 2.5}"${s.dash ? ' stroke-dasharray="6,4"' : ""}/>`);
    o.push(text(lx + 28, ly + 4, s.label + (pts.length === 0 ? " (no data)" : ""), `font-size="11.5" fill="#222"`));
  });
  o.push("</svg>");
  return o.join("\n") + "\n";
}

export function barChart(spec: BarChartSpec): string {
  const W = spec.width ?? 760;
  const labelW = 250;
  const barH = 15;
  const gap = 3;
  const groupGap = 16;
  const per = spec.perGroupScale ?? false;
  const tickH = per ? 18 : 0; // each group's own axis labels
  const m = { l: labelW, r: 110, t: spec.subtitle ? 58 : 42, b: per ? 26 : 44 };
  const rows = spec.groups.reduce((a, g) => a + g.bars.length, 0);
  const ph = rows * (barH + gap) + spec.groups.length * (groupGap + 18 + tickH);
  const H = m.t + ph + m.b;
  const pw = W - m.l - m.r;
  const scale = (groups: BarGroup[]) => {
    const vals = groups.flatMap((g) => g.bars.flatMap((b) => [b.hi ?? b.value ?? 0, b.value ?? 0])).filter(Number.isFinite);
    if (spec.reference && !per) vals.push(spec.reference.x);
    if (per) for (const g of groups) if (g.reference) vals.push(g.reference.x * 1.15);
    const ticks = niceTicks(Math.max(0, ...vals) * 1.02);
    const xMax = ticks[ticks.length - 1]!;
    return { ticks, X: (v: number) => m.l + (Math.min(v, xMax) / xMax) * pw };
  };
  const o: string[] = [];
  o.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}">`);
  o.push(`<rect width="${W}" height="${H}" fill="#ffffff"/>`);
  o.push(text(12, 22, spec.title, `font-size="15" font-weight="bold" fill="#222"`));
  if (spec.subtitle) o.push(text(12, 40, spec.subtitle, `font-size="11.5" fill="#555"`));
  const grid = (ticks: number[], X: (v: number) => number, y0: number, y1: number) => {
    for (const t of ticks) {
      o.push(`<line x1="${X(t).toFixed(1)}" x2="${X(t).toFixed(1)}" y1="${y0.toFixed(1)}" y2="${y1.toFixed(1)}" stroke="#ececec"/>`);
      o.push(text(X(t), y1 + 14, fmtNum(t), `font-size="11" fill="#444" text-anchor="middle"`));
    }
  };
  const global = scale(spec.groups);
  if (!per) grid(global.ticks, global.X, m.t, m.t + ph);
  o.push(text(m.l + pw / 2, H - 8, spec.xLabel, `font-size="12" fill="#333" text-anchor="middle"`));
  let y = m.t + 4;
  for (const g of spec.groups) {
    const { ticks, X } = per ? scale([g]) : global;
    o.push(text(12, y + 12, g.label, `font-size="12.5" font-weight="bold" fill="#222"`));
    y += 18;
    const top = y;
    const marks: string[] = [];
    for (const b of g.bars) {
      marks.push(text(m.l - 8, y + barH - 3.5, b.label, `font-size="11.5" fill="#333" text-anchor="end"`));
      if (b.value === undefined || !Number.isFinite(b.value)) {
        marks.push(text(m.l + 6, y + barH - 3.5, b.note ?? "no data", `font-size="11" fill="#b03030" font-style="italic"`));
      } else {
        const w = Math.max(1, X(b.value) - m.l);
        marks.push(`<rect x="${m.l}" y="${y.toFixed(1)}" width="${w.toFixed(1)}" height="${barH}" fill="${b.color}"/>`);
        let end = X(b.value);
        if (b.lo !== undefined && b.hi !== undefined) {
          const cy = y + barH / 2;
          marks.push(`<line x1="${X(b.lo).toFixed(1)}" x2="${X(b.hi).toFixed(1)}" y1="${cy.toFixed(1)}" y2="${cy.toFixed(1)}" stroke="#222" stroke-width="1"/>`);
          marks.push(`<line x1="${X(b.lo).toFixed(1)}" x2="${X(b.lo).toFixed(1)}" y1="${(cy - 4).toFixed(1)}" y2="${(cy + 4).toFixed(1)}" stroke="#222"/>`);
          marks.push(`<line x1="${X(b.hi).toFixed(1)}" x2="${X(b.hi).toFixed(1)}" y1="${(cy - 4).toFixed(1)}" y2="${(cy + 4).toFixed(1)}" stroke="#222"/>`);
          end = Math.max(end, X(b.hi));
        }
        marks.push(text(end + 5, y + barH - 3.5, b.text ?? fmtNum(b.value), `font-size="11" fill="#222"`));
      }
      y += barH + gap;
    }
    if (per) {
      grid(ticks, X, top - 2, y);
      if (g.reference) {
        const x = X(g.reference.x);
        marks.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${(top - 4).toFixed(1)}" y2="${y.toFixed(1)}" stroke="#555" stroke-dasharray="4,3"/>`);
        marks.push(text(x + 3, top - 6, g.reference.label, `font-size="10.5" fill="#555"`));
      }
      y += tickH;
    }
    o.push(...marks);
    y += groupGap;
  }
  if (spec.reference && !per) {
    const x = global.X(spec.reference.x);
    o.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${m.t}" y2="${m.t + ph}" stroke="#555" stroke-dasharray="4,3"/>`);
    o.push(text(x + 3, m.t + ph - 4, spec.reference.label, `font-size="10.5" fill="#555"`));
  }
  o.push("</svg>");
  return o.join("\n") + "\n";
}
