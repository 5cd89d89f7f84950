// A small dependency-free SVG line chart: cost per signature against batch size (log2 x axis),
// one line per series and dashed horizontal lines for the single-verify references. Used by
// bench/run.ts to write bench/results/batch-verify.svg.

export interface Series {
  name: string;
  /** [batch size, µs per signature] */
  points: Array<[number, number]>;
  color: string;
}
export interface Reference {
  name: string;
  micros: number;
  color: string;
}

const esc = (text: string): string => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** The SVG document (width × height px) for the series and references. */
export function lineChartSvg(title: string, series: Series[], references: Reference[], width = 760, height = 440): string {
  const left = 64, right = 250, top = 40, bottom = 48;
  const plotW = width - left - right, plotH = height - top - bottom;
  const xs = series.flatMap((s) => s.points.map(([x]) => x));
  const ys = [...series.flatMap((s) => s.points.map(([, y]) => y)), ...references.map((r) => r.micros)];
  const xMin = Math.log2(Math.min(...xs)), xMax = Math.log2(Math.max(...xs));
  const yMax = niceCeiling(Math.max(...ys) * 1.05);
  const px = (x: number): number => left + ((Math.log2(x) - xMin) / (xMax - xMin || 1)) * plotW;
  const py = (y: number): number => top + plotH - (y / yMax) * plotH;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="${width}" height="${height}" fill="white"/>`);
  out.push(`<text x="${left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`);
  // grid and axes
  const ticks = 5;
  for (let t = 0; t <= ticks; t++) {
    const y = (yMax / ticks) * t;
    out.push(`<line x1="${left}" y1="${py(y).toFixed(1)}" x2="${left + plotW}" y2="${py(y).toFixed(1)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${left - 6}" y="${(py(y) + 4).toFixed(1)}" text-anchor="end">${formatNumber(y)}</text>`);
  }
  for (const x of [...new Set(xs)].sort((a, b) => a - b)) {
    out.push(`<line x1="${px(x).toFixed(1)}" y1="${top}" x2="${px(x).toFixed(1)}" y2="${top + plotH}" stroke="#f0f0f0"/>`);
    out.push(`<text x="${px(x).toFixed(1)}" y="${top + plotH + 16}" text-anchor="middle">${x}</text>`);
  }
  out.push(`<line x1="${left}" y1="${top + plotH}" x2="${left + plotW}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}" stroke="#333"/>`);
  out.push(`<text x="${left + plotW / 2}" y="${height - 10}" text-anchor="middle">batch size (signatures per call)</text>`);
  out.push(`<text transform="translate(16 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">µs per signature</text>`);
  // references, then series
  let legendY = top + 6;
  const legend = (name: string, color: string, dashed: boolean): void => {
    out.push(`<line x1="${left + plotW + 16}" y1="${legendY}" x2="${left + plotW + 40}" y2="${legendY}" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="5 4"' : ""}/>`);
    out.push(`<text x="${left + plotW + 46}" y="${legendY + 4}">${esc(name)}</text>`);
    legendY += 20;
  };
  for (const r of references) {
    out.push(`<line x1="${left}" y1="${py(r.micros).toFixed(1)}" x2="${left + plotW}" y2="${py(r.micros).toFixed(1)}" stroke="${r.color}" stroke-width="1.5" stroke-dasharray="5 4"/>`);
    legend(r.name, r.color, true);
  }
  for (const s of series) {
    const path = s.points.map(([x, y], k) => `${k === 0 ? "M" : "L"}${px(x).toFixed(1)} ${py(y).toFixed(1)}`).join(" ");
    out.push(`<path d="${path}" fill="none" stroke="${s.color}" stroke-width="2"/>`);
    for (const [x, y] of s.points) out.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${s.color}"/>`);
    legend(s.name, s.color, false);
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}

function niceCeiling(value: number): number {
  if (value <= 0) return 1;
  const magnitude = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function formatNumber(value: number): string {
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}
