// A small SVG chart: case results per phase, stacked horizontally, summed over the given runs.
import { h, s } from "./dom.js";

const STATUSES = ["passed", "failed", "errored", "skipped"];
const PHASES = ["IQ", "OQ", "PQ"];

/** Chart element for run summaries (`summary.key.phase`, `summary.totals`). */
export function resultsByPhase(summaries) {
  const sums = Object.fromEntries(PHASES.map((p) => [p, { passed: 0, failed: 0, errored: 0, skipped: 0, runs: 0 }]));
  for (const r of summaries) {
    const bucket = sums[r.key.phase];
    if (!bucket) continue;
    bucket.runs += 1;
    for (const st of STATUSES) bucket[st] += r.totals[st] ?? 0;
  }
  const max = Math.max(1, ...PHASES.map((p) => STATUSES.reduce((a, st) => a + sums[p][st], 0)));
  const width = 340;
  const left = 34;
  const right = 58;
  const barH = 22;
  const gap = 14;
  const height = PHASES.length * (barH + gap) + 4;
  const span = width - left - right;

  const rows = PHASES.map((phase, i) => {
    const y = 4 + i * (barH + gap);
    let x = left;
    const total = STATUSES.reduce((a, st) => a + sums[phase][st], 0);
    const segs = STATUSES.filter((st) => sums[phase][st] > 0).map((st) => {
      const w = (sums[phase][st] / max) * span;
      const rect = s("rect", { x: x.toFixed(1), y, width: Math.max(w, 1).toFixed(1), height: barH, class: `seg-${st}` }, s("title", {}, `${phase}: ${sums[phase][st]} ${st}`));
      x += w;
      return rect;
    });
    return s(
      "g",
      { "data-phase": phase },
      s("text", { x: 0, y: y + barH * 0.7, class: "axis" }, phase),
      s("rect", { x: left, y, width: span, height: barH, fill: "none", stroke: "currentColor", "stroke-opacity": "0.15" }),
      segs,
      s("text", { x: width - right + 6, y: y + barH * 0.7, class: "axis" }, `${total} · ${sums[phase].runs}r`),
    );
  });

  const summary = PHASES.map((p) => `${p}: ${STATUSES.map((st) => `${sums[p][st]} ${st}`).join(", ")}`).join("; ");
  return h(
    "figure",
    { class: "chart panel", id: "phase-chart" },
    h("figcaption", { class: "muted" }, "Case results per phase (filtered runs)"),
    s("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": summary }, rows),
    h("div", { class: "legend" }, STATUSES.map((st) => h("span", {}, h("i", { class: `l-${st}` }), st))),
  );
}
