// Runs: every run in the store, filterable by system, phase, status and execution date, with a
// per-phase chart and a Sync button for the current connection.
import * as api from "../api.js";
import { resultsByPhase } from "../chart.js";
import { enterOpens, formatTime, h, mount } from "../dom.js";
import { errorBox } from "../errors.js";
import { runSync } from "../sync.js";

const COLUMNS = ["System", "Phase", "Run ID", "Status", "Tests", "Passed", "Failed", "Errored", "Skipped", "Executed at"];

function select(label, name, values) {
  return h("label", {}, label, h("select", { name, id: `filter-${name}` }, h("option", { value: "" }, "All"), values.map((v) => h("option", { value: v }, v))));
}

function dateInput(label, name) {
  return h("label", {}, label, h("input", { type: "date", name, id: `filter-${name}` }));
}

/** The run's execution date as written in its results (YYYY-MM-DD), or "". */
const executedOn = (r) => (r.executed_at ? String(r.executed_at).slice(0, 10) : "");

function runRow(ctx, r) {
  const open = () => ctx.go("run", { id: r.id });
  const t = r.totals;
  return h(
    "tr",
    { tabindex: "0", "data-run": r.id, onclick: open, onkeydown: enterOpens(open) },
    h("td", {}, r.key.system),
    h("td", {}, r.key.phase),
    h("td", { class: "mono" }, r.key.run_id),
    h("td", {}, h("span", { class: `badge badge--${r.status}` }, r.status), r.problems ? h("span", { class: "muted", title: "files with problems" }, ` ⚑ ${r.problems}`) : null),
    h("td", { class: "num" }, t.tests),
    h("td", { class: "num" }, t.passed),
    h("td", { class: "num" }, t.failed),
    h("td", { class: "num" }, t.errored),
    h("td", { class: "num" }, t.skipped),
    h("td", {}, formatTime(r.executed_at)),
  );
}

export function render(ctx) {
  let all = [];
  const tableBody = h("tbody", {});
  const chartSlot = h("div", {});
  const count = h("span", { class: "muted", id: "runs-count" });
  const syncStatus = h("div", { id: "runs-sync" });
  const filters = h("div", { class: "toolbar", id: "runs-filters" });
  const conn = ctx.connection;
  const canSync = !!(conn && conn.form);
  const syncButton = h(
    "button",
    { type: "button", id: "sync", disabled: !canSync, title: canSync ? `Sync s3://${conn.form.bucket}/${conn.form.prefix ?? ""}` : "Working offline: choose a source under Connect to sync" },
    "Sync",
  );

  const values = (name) => filters.querySelector(`[name=${name}]`)?.value ?? "";
  const draw = () => {
    const sys = values("system");
    const phase = values("phase");
    const status = values("status");
    const from = values("from");
    const to = values("to");
    // A date filter leaves out runs without an execution date.
    const inDates = (r) => (!from && !to) || (executedOn(r) && (!from || executedOn(r) >= from) && (!to || executedOn(r) <= to));
    const shown = all.filter((r) => (!sys || r.key.system === sys) && (!phase || r.key.phase === phase) && (!status || r.status === status) && inDates(r));
    mount(tableBody, shown.length ? shown.map((r) => runRow(ctx, r)) : h("tr", {}, h("td", { colspan: COLUMNS.length, class: "empty" }, all.length ? "No run matches the filters." : "No runs in the store yet. Sync from a source under Connect.")));
    mount(chartSlot, resultsByPhase(shown));
    count.textContent = `${shown.length} of ${all.length} runs`;
  };

  const load = async () => {
    try {
      all = await api.listRuns();
    } catch (err) {
      mount(syncStatus, errorBox(err));
      all = [];
    }
    const systems = [...new Set(all.map((r) => r.key.system))].sort();
    mount(filters, select("System", "system", systems), select("Phase", "phase", ["IQ", "OQ", "PQ"]), select("Status", "status", ["failed", "incomplete", "passed"]), dateInput("Executed from", "from"), dateInput("to", "to"), h("div", { class: "spacer" }), count);
    draw();
  };
  filters.addEventListener("change", draw);

  syncButton.addEventListener("click", async () => {
    syncButton.disabled = true;
    const report = await runSync(conn.form, syncStatus);
    syncButton.disabled = false;
    if (report) await load();
  });

  const el = h(
    "section",
    { class: "runs", id: "runs-screen" },
    h("div", { class: "toolbar" }, h("h1", {}, "Runs"), h("div", { class: "spacer" }), h("span", { class: "muted" }, canSync ? `Source: s3://${conn.form.bucket}/${conn.form.prefix ?? ""}` : "Offline: from the local store"), syncButton),
    syncStatus,
    h(
      "div",
      { class: "runs-top" },
      h("div", {}, filters, h("table", { class: "grid", id: "runs-table" }, h("thead", {}, h("tr", {}, COLUMNS.map((c, i) => h("th", { class: i >= 4 && i <= 8 ? "num" : null, scope: "col" }, c)))), tableBody)),
      chartSlot,
    ),
  );
  load();
  return { el, title: "Runs", focus: null };
}
