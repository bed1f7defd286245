// A small chart: case results per phase, stacked horizontally, summed over the given runs. Drawn
// with HTML boxes, so its labels are ordinary text at the window's size (an SVG scaled to a
// narrow column shrank them to a few pixels). Widths are set through the style object, which
// the CSP allows (no inline style attribute).
import { h } from "./dom.js";

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
  const total = (p) => STATUSES.reduce((a, st) => a + sums[p][st], 0);
  const max = Math.max(1, ...PHASES.map(total));
  const rows = PHASES.map((phase) => {
    const bar = h("span", { class: "bar", "aria-hidden": "true" });
    for (const st of STATUSES.filter((s) => sums[phase][s] > 0)) {
      const seg = h("span", { class: `seg seg-${st}`, title: `${phase}: ${sums[phase][st]} ${st}` });
      seg.style.width = `${((sums[phase][st] / max) * 100).toFixed(2)}%`;
      bar.append(seg);
    }
    const runs = sums[phase].runs;
    return h(
      "div",
      { class: "chart-row", "data-phase": phase },
      h("span", { class: "chart-label" }, phase),
      bar,
      h("span", { class: "chart-total" }, `${total(phase)} cases · ${runs} run${runs === 1 ? "" : "s"}`),
    );
  });
  const summary = PHASES.map((p) => `${p}: ${STATUSES.map((st) => `${sums[p][st]} ${st}`).join(", ")}`).join("; ");
  return h(
    "figure",
    { class: "chart panel", id: "phase-chart" },
    h("figcaption", {}, "Case results per phase (filtered runs)"),
    h("div", { class: "chart-rows", role: "img", "aria-label": summary }, rows),
    h("div", { class: "legend" }, STATUSES.map((st) => h("span", {}, h("i", { class: `l-${st}` }), st))),
  );
}
