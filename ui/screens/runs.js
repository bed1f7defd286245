// Runs: every run in the store, filterable by system, phase, status and execution date, with a
// per-phase chart and a Sync button for the current connection. The table is one Tab stop: the
// arrow keys (and Home/End) move between runs, Enter opens one.
import * as api from "../api.js";
import { resultsByPhase } from "../chart.js";
import { enterOpens, formatTime, h, mount } from "../dom.js";
import { clearField, errorBox, markField } from "../errors.js";
import { runSync } from "../sync.js";

const COLUMNS = ["System", "Phase", "Run ID", "Status", "State", "Tests", "Passed", "Failed", "Errored", "Skipped", "Executed at"];

function select(label, name, values) {
  return h("label", {}, label, h("select", { name, id: `filter-${name}` }, h("option", { value: "" }, "All"), values.map((v) => h("option", { value: v }, v))));
}

/** A date typed as YYYY-MM-DD: one field, one Tab stop (a date picker takes three). */
function dateInput(label, name) {
  return h("label", {}, label, h("input", { type: "text", name, id: `filter-${name}`, class: "date", placeholder: "YYYY-MM-DD", inputmode: "numeric", maxlength: "10", autocomplete: "off", spellcheck: "false" }));
}

/** "" for an empty field, the date for a valid one, null for anything else. */
function dateValue(text) {
  const t = text.trim();
  if (!t) return "";
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(t);
  if (!m) return null;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return d.getUTCFullYear() === Number(m[1]) && d.getUTCMonth() === Number(m[2]) - 1 && d.getUTCDate() === Number(m[3]) ? t : null;
}

/** A run's sign-off state in words (docs/policy.md "States"). */
export const STATE_WORDS = {
  collected: "Collected",
  in_review: "In review",
  reopened: "Re-opened",
  reviewed: "Reviewed",
  approved: "Approved",
  rejected: "Rejected",
};

const STATE_BADGE = { collected: "skipped", in_review: "incomplete", reopened: "incomplete", reviewed: "recorded", approved: "verified", rejected: "rejected" };

/**
 * The state, and the act that brought the run there (who, when) under it. A state whose
 * signatures do not verify now is never shown as settled: it reads "as recorded", in the
 * integrity colours, with the reason beside it.
 */
export function stateBadge(r) {
  const words = STATE_WORDS[r.state] ?? r.state;
  const act = r.state_act ? `${r.state_act.meaning} by ${r.state_act.printed_name}, ${r.state_act.at}` : null;
  const check = r.state_check ?? { kind: "unsigned" };
  if (check.kind === "not_verified") {
    return [
      h("span", { class: "badge badge--changed", "data-state": r.state, "data-check": check.kind }, `${words} — as recorded, not verified`),
      h("div", { class: "state-check" }, check.detail),
      act ? h("div", { class: "muted" }, act) : null,
    ];
  }
  return [h("span", { class: `badge badge--${STATE_BADGE[r.state] ?? "skipped"}`, "data-state": r.state, "data-check": check.kind }, words), act ? h("div", { class: "muted" }, act) : null];
}

/** "New": the last sync brought files of this run. */
const newMark = () => h("span", { class: "badge badge--new", "data-new": "true", title: "Files of this run came with the last sync" }, "new");

/** The run's execution date as written in its results (YYYY-MM-DD), or "". */
const executedOn = (r) => (r.executed_at ? String(r.executed_at).slice(0, 10) : "");

function runRow(ctx, r) {
  const open = () => ctx.go("run", { id: r.id });
  const t = r.totals;
  return h(
    "tr",
    { tabindex: "-1", "data-run": r.id, onclick: open, onkeydown: enterOpens(open) },
    h("td", {}, r.key.system),
    h("td", {}, r.key.phase),
    h("td", { class: "mono run-id" }, r.key.run_id, r.new_since_sync ? [" ", newMark()] : null),
    h("td", {}, h("span", { class: `badge badge--${r.status}` }, r.status), r.problems ? h("span", { class: "muted", title: "files with problems" }, ` ⚑ ${r.problems}`) : null),
    h("td", { class: "run-state" }, stateBadge(r)),
    h("td", { class: "num" }, t.tests),
    h("td", { class: "num" }, t.passed),
    h("td", { class: "num" }, t.failed),
    h("td", { class: "num" }, t.errored),
    h("td", { class: "num" }, t.skipped),
    h("td", {}, formatTime(r.executed_at)),
  );
}

const TODO_WORDS = {
  no_longer_verifies: "Signed, but a signature no longer verifies: re-open it",
  needs_disposition: "Cases need a disposition",
  ready_for_review: "Ready for your review",
  ready_for_approval: "Ready for your approval",
};

/**
 * "Waiting for you": the runs the person at this desk may act on now, by the signing policy;
 * with several enrolled keys, whose list is chosen first.
 */
function waitingPanel(ctx) {
  const slot = h("div", { class: "panel", id: "todo", "aria-live": "polite" });
  const keySelect = h("select", { id: "todo-key" });
  const show = async (keyId) => {
    try {
      const t = await api.todo(keyId);
      mount(
        slot,
        h("h2", {}, `Waiting for ${t.printed_name}`),
        t.items.length
          ? h(
              "ul",
              { id: "todo-items" },
              t.items.map((i) =>
                h(
                  "li",
                  { "data-run": i.run, "data-kind": i.kind },
                  h("button", { type: "button", class: "link mono", onclick: () => ctx.go("run", { id: i.run }) }, i.run),
                  i.new_since_sync ? newMark() : null,
                  ` — ${TODO_WORDS[i.kind] ?? i.kind}`,
                  i.undispositioned ? ` (${i.undispositioned} without a disposition)` : "",
                  i.notes.length ? h("div", { class: "muted" }, i.notes.join("; ")) : null,
                ),
              ),
            )
          : h("p", { class: "muted", id: "todo-none" }, "Nothing is waiting for you."),
        t.warnings.length
          ? h(
              "details",
              { id: "todo-warnings" },
              h("summary", {}, `${t.warnings.length} warning${t.warnings.length === 1 ? "" : "s"} about runs`),
              h("ul", {}, t.warnings.map((w) => h("li", {}, h("span", { class: "mono" }, w.run), `: ${w.message}`))),
            )
          : null,
      );
    } catch (err) {
      if (err && err.code === "bad_input" && !keyId) {
        const keys = await api.listKeys().catch(() => []);
        const usable = keys.filter((k) => k.enrolled && !k.enrolled.revoked);
        mount(keySelect, h("option", { value: "" }, "Choose your key"), usable.map((k) => h("option", { value: k.key_id }, `${k.printed_name} — ${k.enrolled.iam_arn}`)));
        mount(slot, h("h2", {}, "Waiting for you"), h("label", {}, "Whose list (several signers use this desk)", keySelect));
      } else {
        mount(slot, h("h2", {}, "Waiting for you"), h("p", { class: "muted", id: "todo-unavailable" }, (err && err.message) || String(err)));
      }
    }
  };
  keySelect.addEventListener("change", () => keySelect.value && show(keySelect.value));
  show(null);
  return slot;
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
  // A date that is not a date is said at its field and leaves the list as it was.
  const date = (name) => {
    const el = filters.querySelector(`[name=${name}]`);
    if (!el) return "";
    const v = dateValue(el.value);
    if (v === null) {
      markField(el, `“${el.value.trim()}” is not a date: write it as YYYY-MM-DD, e.g. 2026-11-03.`, "bad_input");
      return null;
    }
    clearField(el);
    return v;
  };
  const draw = () => {
    const sys = values("system");
    const phase = values("phase");
    const status = values("status");
    const from = date("from");
    const to = date("to");
    if (from === null || to === null) return;
    // A date filter leaves out runs without an execution date.
    const inDates = (r) => (!from && !to) || (executedOn(r) && (!from || executedOn(r) >= from) && (!to || executedOn(r) <= to));
    const shown = all.filter((r) => (!sys || r.key.system === sys) && (!phase || r.key.phase === phase) && (!status || r.status === status) && inDates(r));
    mount(tableBody, shown.length ? shown.map((r) => runRow(ctx, r)) : h("tr", {}, h("td", { colspan: COLUMNS.length, class: "empty" }, all.length ? "No run matches the filters." : "No runs in the store yet. Sync from a source under Connect.")));
    const first = tableBody.querySelector("tr[data-run]");
    if (first) first.tabIndex = 0;
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

  // Arrow keys move between the rows; the row in focus is the table's one Tab stop.
  tableBody.addEventListener("keydown", (e) => {
    const rows = [...tableBody.querySelectorAll("tr[data-run]")];
    const i = rows.indexOf(document.activeElement);
    if (i < 0) return;
    const page = 10;
    const to = { ArrowDown: i + 1, ArrowUp: i - 1, Home: 0, End: rows.length - 1, PageDown: i + page, PageUp: i - page }[e.key];
    if (to === undefined) return;
    e.preventDefault();
    const next = rows[Math.max(0, Math.min(rows.length - 1, to))];
    rows[i].tabIndex = -1;
    next.tabIndex = 0;
    next.focus();
  });

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
    waitingPanel(ctx),
    h(
      "div",
      { class: "runs-top" },
      h("div", {}, filters, h("table", { class: "grid", id: "runs-table", "aria-label": "Runs (arrow keys move, Enter opens)" }, h("thead", {}, h("tr", {}, COLUMNS.map((c, i) => h("th", { class: i >= 5 && i <= 9 ? "num" : null, scope: "col" }, c)))), tableBody)),
      chartSlot,
    ),
  );
  load();
  return { el, title: "Runs", focus: null };
}
