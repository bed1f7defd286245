// Run review: summary, cases (failures first) with filter and search, case detail, evidence with
// integrity badges, the traceability matrix and file problems.
import * as api from "../api.js";
import { debounce, enterOpens, formatBytes, formatTime, h, mount, reasonField } from "../dom.js";
import { errorBox, showError } from "../errors.js";
import { integrityBadge } from "../integrity.js";
import { virtualList } from "../vlist.js";
import { refusalBox, secretsForm } from "../signing.js";
import { openFile } from "./file-viewer.js";
import { stateBadge } from "./runs.js";

const STATUS_FILTERS = [
  ["", "All cases"],
  ["attention", "Needs disposition (failed, errored)"],
  ["failed", "Failed"],
  ["errored", "Errored"],
  ["skipped", "Skipped"],
  ["passed", "Passed"],
];

const badge = (status) => h("span", { class: `badge badge--${status}` }, status);

function totalsLine(t) {
  return h(
    "div",
    { class: "totals", id: "run-totals" },
    h("span", {}, `${t.tests} tests`),
    h("span", { class: "t-passed" }, `${t.passed} passed`),
    h("span", { class: "t-failed" }, `${t.failed} failed`),
    h("span", { class: "t-errored" }, `${t.errored} errored`),
    h("span", { class: "t-skipped" }, `${t.skipped} skipped`),
  );
}

/** The sign-off line: dispositions done, and the way to sign and package. */
function signoff(ctx, view, state) {
  const attention = view.needs_disposition;
  const done = attention.filter((id) => state.dispositions.has(id)).length;
  const line = h(
    "div",
    { class: "meta signoff", id: "signoff" },
    attention.length
      ? h("span", { id: "disposition-count", class: done === attention.length ? "t-passed" : "t-failed", "data-done": String(done), "data-total": String(attention.length) }, `${done} of ${attention.length} failed or errored cases dispositioned`)
      : h("span", { class: "muted" }, "No failed or errored case: nothing to disposition."),
    h("div", { class: "spacer" }),
    h("button", { type: "button", id: "open-sign", onclick: () => ctx.go("sign", { id: view.summary.id }) }, "Sign…"),
    h("button", { type: "button", id: "open-package", onclick: () => ctx.go("packages", { runs: [view.summary.id] }) }, "Package…"),
  );
  state.refreshSignoff = () => line.replaceWith(signoff(ctx, view, state));
  return line;
}

function dispositionSection(view, c, state, redraw) {
  if (!(c.status === "failed" || c.status === "errored")) return null;
  const current = state.dispositions.get(c.id);
  const kind = h("select", { id: "disp-kind" }, h("option", { value: "deviation" }, "Deviation raised"), h("option", { value: "accepted" }, "Accepted (justified)"));
  const reference = h("input", { type: "text", id: "disp-ref", placeholder: "DEV-0042 or change record", autocomplete: "off", spellcheck: "false" });
  const [reason, reasonCount] = reasonField("disp-reason", "Why: investigation, impact, justification");
  const key = h("select", { id: "disp-key" }, state.keys.map((k) => h("option", { value: k.key_id }, `${k.printed_name} — ${k.enrolled.iam_arn}`)));
  const out = h("div", { id: "disp-out" });
  const secretsSlot = h("div", { id: "disp-secrets-slot" });
  const save = h("button", { type: "submit", class: "primary", id: "disp-save" }, current ? "Record a new disposition…" : "Record disposition…");
  const form = h(
    "form",
    { class: "disp-form", id: "disposition-form", novalidate: true },
    h("div", { class: "grid-form" }, h("label", {}, "Disposition", kind), h("label", {}, "Reference", reference), h("label", { class: "wide" }, "Reason", reason, reasonCount), h("label", { class: "wide" }, "Recorded by (enrolled key)", key)),
    h("p", { class: "muted" }, "A disposition is recorded in the person's name: they authenticate as when signing (their MFA code unless their signing session is open, and their key's passphrase)."),
    h("div", { class: "actions" }, save),
    out,
  );
  // A changed request must be checked again before anyone authenticates for it.
  form.addEventListener("input", () => mount(secretsSlot));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    save.disabled = true;
    mount(secretsSlot);
    const req = { run: view.summary.id, caseId: c.id, kind: kind.value, reference: reference.value, reason: reason.value, keyId: key.value };
    try {
      const plan = await api.dispositionCheck(req);
      mount(out);
      mount(
        secretsSlot,
        secretsForm({
          plan,
          conn: state.conn,
          prefix: "disp",
          title: `Record as ${plan.printed_name}`,
          label: "Record disposition",
          submit: async (aws, components, fields) => {
            try {
              const d = await api.recordDisposition(req, aws, components);
              state.dispositions.set(d.case_id, d);
              state.refreshSignoff();
              redraw();
            } catch (err) {
              showError(out, err, fields, (x) => refusalBox(x, "disp-refusal"));
            }
          },
        }),
      );
    } catch (err) {
      showError(out, err, { reason, reference, key }, (x) => refusalBox(x, "disp-refusal"));
    } finally {
      save.disabled = false;
    }
  });
  return h(
    "section",
    { id: "disposition", "data-dispositioned": current ? "true" : "false" },
    h("h3", {}, "Disposition"),
    current
      ? h("div", { class: "panel", id: "disposition-current" }, h("b", {}, current.kind === "deviation" ? "Deviation raised" : "Accepted"), ` — ${current.reference}: ${current.reason}`, h("div", { class: "muted" }, `by ${current.by_name ?? current.by_arn ?? "unknown"} at ${formatTime(current.at)}`))
      : h("p", { class: "t-failed" }, "No disposition yet: this case needs one before the run can be Approved."),
    state.keys.length ? [form, secretsSlot] : h("p", { class: "muted" }, "Recording a disposition needs an enrolled key (Keys)."),
  );
}

function summary(view) {
  const s = view.summary;
  const m = view.manifest ?? {};
  const protocol = m.protocol ? `${m.protocol.id}${m.protocol.version ? ` v${m.protocol.version}` : ""}${m.protocol.title ? ` — ${m.protocol.title}` : ""}` : s.protocol;
  const stack = m.stack ? m.stack.name ?? m.stack.arn : null;
  const executor = m.executor ? m.executor.name ?? m.executor.id ?? null : null;
  const item = (label, value) => (value ? h("span", {}, `${label} `, h("b", {}, value)) : null);
  return h(
    "div",
    { class: "run-head panel" },
    h("div", { class: "run-title" }, h("h1", { id: "run-title" }, s.id), badge(s.status), h("span", { id: "run-state" }, stateBadge(s))),
    h(
      "div",
      { class: "meta" },
      item("Protocol", protocol),
      item("Executed", formatTime(s.executed_at)),
      item("Executor", typeof executor === "string" ? executor : null),
      item("Stack", stack),
      item("Files", String(s.files)),
      s.problems ? item("Problems", String(s.problems)) : null,
      item("Manifest", view.manifest ? "run.json" : "none"),
    ),
    totalsLine(s.totals),
    stackLine(view.stack_snapshot),
    missingFacts(view.missing_facts),
  );
}

/** What the run's record does not say about its execution, as a warning before review. */
export function missingFacts(facts) {
  if (!facts || !facts.length) return null;
  return h(
    "div",
    { class: "error error--warn", id: "run-missing-facts", role: "note" },
    h("strong", { class: "error-title" }, "The record does not say how this run was executed"),
    h("ul", {}, facts.map((f) => h("li", {}, f))),
    h("p", {}, "Ask the validation lead for the run's protocol, executor and execution time (run.json) before reviewing or approving it."),
  );
}

/** Drift in a QA approver's terms: what it means for this run, the technical reason kept. */
function driftNote(drift) {
  if (!drift) return h("span", { id: "drift", "data-drift": "unknown" }, "Drift: unknown — the snapshot could not be verified.");
  if (drift.state === "in_sync") return h("span", { id: "drift", "data-drift": "in_sync", class: "t-passed" }, "Drift: none — the stack matched its template when the snapshot was taken.");
  if (drift.state === "drifted") {
    const n = (drift.resources ?? []).length;
    return h("span", { id: "drift", "data-drift": "drifted", class: "t-failed" }, `Drift: ${n} resource${n === 1 ? "" : "s"} changed outside the template — assess before approving.`);
  }
  return h(
    "span",
    { id: "drift", "data-drift": "not_checked", class: "t-errored" },
    "Drift: not checked — the endpoint did not run drift detection, so whether the stack still matches its template is unknown. Check it in the AWS console before relying on the configuration.",
    drift.reason ? h("details", { class: "tech" }, h("summary", {}, "Technical reason"), h("span", { class: "mono" }, drift.reason)) : null,
  );
}

function stackLine(snap) {
  if (!snap) return h("div", { class: "meta", id: "stack-snapshot" }, "No stack snapshot for this run.");
  return h(
    "div",
    { class: "meta stack-line", id: "stack-snapshot" },
    h("span", {}, "Stack snapshot ", h("b", {}, `${snap.stack_name} (${snap.region})`)),
    h("span", {}, "taken ", h("b", {}, formatTime(snap.taken_at))),
    snap.status ? h("span", {}, "status ", h("b", {}, snap.status)) : null,
    h("span", {}, "snapshot file ", integrityBadge(snap.integrity)),
    driftNote(snap.drift),
  );
}

const PAGE = 100;

function casesPanel(view, caseIndex, state) {
  const run = view.summary.id;
  const detail = h("div", { class: "detail panel", id: "case-detail", tabindex: "-1", "aria-live": "polite" });
  const showing = h("span", { class: "muted", id: "cases-count" });
  const statusSelect = h("select", { id: "case-status", name: "status" }, STATUS_FILTERS.map(([v, l]) => h("option", { value: v }, l)));
  const search = h("input", { type: "search", id: "case-search", placeholder: "Search name, group, message, requirement…", spellcheck: "false" });

  // After a disposition the row's mark and the detail are drawn again.
  const showDetail = (c) =>
    mount(detail, c ? caseDetail(view, c, state, () => {
      list.redraw();
      showDetail(c);
    }) : h("p", { class: "muted" }, "No case matches."));
  const list = virtualList({
    id: "cases",
    label: "Test cases, failures first",
    columns: ["Status", "Case", "Group", "Requirements"],
    rowHeight: 32,
    pageSize: PAGE,
    cells: (c) => [h("span", {}, badge(c.status), state.dispositions.has(c.id) ? h("span", { class: "disp-mark", title: "dispositioned" }, " ✓") : null), h("span", { title: c.name }, c.name), h("span", { class: "muted", title: c.group }, c.group), h("span", { class: "mono muted" }, (c.requirements ?? []).join(", "))],
    onSelect: (c) => showDetail(c),
    onOpen: () => detail.focus(),
    onError: (err) => mount(detail, errorBox(err)),
  });

  // The service filters and searches; the window holds only the pages in view.
  let asked = 0;
  const apply = async (locate = null) => {
    const filter = { status: statusSelect.value, search: search.value.trim() };
    const mine = (asked += 1);
    try {
      const first = await api.runCases(run, { ...filter, offset: 0, limit: PAGE, locate });
      if (mine !== asked) return;
      list.setSource(first.matching, (offset, limit) => api.runCases(run, { ...filter, offset, limit }).then((p) => p.cases), first.cases);
      showing.textContent = `${first.matching.toLocaleString()} of ${first.total.toLocaleString()} cases`;
      if (first.located !== null && first.located !== undefined) {
        list.selectIndex(first.located);
        list.el.focus();
      }
    } catch (err) {
      if (mine === asked) mount(detail, errorBox(err));
    }
  };
  statusSelect.addEventListener("change", () => apply());
  search.addEventListener("input", debounce(() => apply(), 120));
  apply();
  caseIndex.select = (id) => {
    statusSelect.value = "";
    search.value = "";
    apply(id);
  };
  caseIndex.clearSearch = () => {
    if (!search.value && !statusSelect.value) return false;
    statusSelect.value = "";
    search.value = "";
    apply();
    return true;
  };

  return h(
    "div",
    { class: "tabpanel", id: "panel-cases", role: "tabpanel" },
    h("div", { class: "toolbar" }, h("label", {}, "Show", statusSelect), h("label", { class: "grow" }, "Search", search), h("div", { class: "spacer" }), showing),
    h("div", { class: "cases-split" }, list.el, detail),
  );
}

/** A labelled block of text; it scrolls when long, so it takes the focus (arrow keys scroll). */
function pre(label, text) {
  return text ? h("section", {}, h("h3", {}, label), h("pre", { tabindex: "0", "aria-label": label }, text)) : null;
}

function caseDetail(view, c, state, redraw) {
  const attachments = (view.attachments ?? []).filter((a) => a.case_id === c.id);
  return [
    h("div", { class: "run-title" }, badge(c.status), h("h2", { id: "case-name" }, c.name)),
    h(
      "dl",
      { class: "kv" },
      h("dt", {}, "Group"),
      h("dd", {}, c.group || "—"),
      h("dt", {}, "Case id"),
      h("dd", { class: "mono" }, c.id),
      h("dt", {}, "Result file"),
      h("dd", {}, h("button", { type: "button", class: "link mono", onclick: () => openFile(view.summary.id, c.source_file) }, c.source_file)),
      h("dt", {}, "Duration"),
      h("dd", {}, c.duration_ms === null || c.duration_ms === undefined ? "—" : `${c.duration_ms} ms`),
    ),
    h("section", {}, h("h3", {}, "Requirements"), (c.requirements ?? []).length ? h("div", { class: "chips" }, c.requirements.map((r) => h("span", { class: "chip" }, r))) : h("span", { class: "muted" }, "This case names no requirement.")),
    dispositionSection(view, c, state, redraw),
    pre("Message", c.message),
    pre("Detail", c.detail),
    pre("Standard output", c.stdout),
    pre("Standard error", c.stderr),
    (c.properties ?? []).length
      ? h("section", {}, h("h3", {}, "Properties"), h("dl", { class: "kv" }, c.properties.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])))
      : null,
    attachments.length ? h("section", {}, h("h3", {}, "Embedded attachments"), h("ul", {}, attachments.map((a) => h("li", { class: "mono" }, `${a.name} (${a.mime_type}, ${formatBytes(a.size)})`)))) : null,
  ];
}

function evidencePanel(view) {
  const files = view.files ?? [];
  const rows = files.map((f) => {
    const open = () => openFile(view.summary.id, f.path);
    const sha = f.sha256 ? String(f.sha256) : "";
    return h(
      "tr",
      { tabindex: "0", "data-path": f.path, onclick: open, onkeydown: enterOpens(open) },
      h("td", { class: "mono" }, f.path),
      h("td", {}, f.role.replace("_", " ")),
      h("td", { class: "num" }, formatBytes(f.size)),
      h("td", { class: "mono muted", title: sha }, sha ? `${sha.slice(0, 16)}…` : "—"),
      h("td", {}, integrityBadge(f.integrity)),
    );
  });
  return h(
    "div",
    { class: "tabpanel", id: "panel-evidence", role: "tabpanel" },
    h("p", { class: "muted" }, "Every file of the run folder. Open one to re-read it from the store and re-verify its SHA-256."),
    h(
      "table",
      { class: "grid", id: "evidence-table" },
      h("thead", {}, h("tr", {}, ["File", "Role", "Size", "SHA-256", "Integrity"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No files."))),
    ),
  );
}

function tracePanel(view, caseIndex, showCases) {
  const panel = h("div", { class: "tabpanel", id: "panel-trace", role: "tabpanel" }, h("p", { class: "loading" }, "Reading the traceability matrix…"));
  api.runTraceability(view.summary.id).then(
    (t) => mount(panel, traceContent(t, caseIndex, showCases)),
    (err) => mount(panel, errorBox(err)),
  );
  return panel;
}

function traceContent(trace, caseIndex, showCases) {
  const t = trace ?? { requirements: [], uncovered: [], untraced_cases: [] };
  const caseLink = (tc) =>
    h("button", { type: "button", class: "link mono", title: tc.case_id, onclick: () => { showCases(); caseIndex.select(tc.case_id); } }, `${tc.case_id.split("::").pop()} (${tc.status})`);
  const rows = t.requirements.map((r) =>
    h(
      "tr",
      { class: r.status ? null : "uncovered", "data-requirement": r.id },
      h("td", { class: "mono" }, r.id),
      h("td", {}, r.title ?? (r.in_catalogue ? "" : h("span", { class: "muted" }, "not in the manifest's catalogue"))),
      h("td", {}, r.status ? badge(r.status) : h("span", { class: "badge badge--failed" }, "uncovered")),
      h("td", {}, h("div", { class: "chips" }, r.cases.map(caseLink))),
      h("td", { class: "mono" }, r.evidence.join(", ")),
    ),
  );
  return [
    t.uncovered.length
      ? h("div", { class: "error error--warn", id: "uncovered" }, h("strong", {}, `${t.uncovered.length} requirement${t.uncovered.length === 1 ? "" : "s"} with no case`), h("p", { class: "mono" }, t.uncovered.join(", ")))
      : h("p", { class: "muted" }, "Every catalogued requirement is verified by at least one case."),
    h(
      "table",
      { class: "grid", id: "trace-table" },
      h("thead", {}, h("tr", {}, ["Requirement", "Title", "Result", "Cases", "Evidence"].map((c) => h("th", { scope: "col" }, c)))),
      h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No requirement ids in this run."))),
    ),
    t.untraced_cases.length ? h("p", { class: "muted" }, `${t.untraced_cases.length} cases name no requirement.`) : null,
  ];
}

function problemsPanel(view) {
  const problems = view.problems ?? [];
  return h(
    "div",
    { class: "tabpanel", id: "panel-problems", role: "tabpanel" },
    problems.length
      ? h("table", { class: "grid" }, h("thead", {}, h("tr", {}, h("th", {}, "File"), h("th", {}, "Problem"))), h("tbody", {}, problems.map((p) => h("tr", {}, h("td", { class: "mono" }, p.path || "(run)"), h("td", {}, p.message)))))
      : h("p", { class: "muted" }, "Every file of this run was read without problems."),
  );
}

function tabs(view, caseIndex, state) {
  const content = h("div", { class: "tabpanel" });
  const defs = [
    ["cases", `Cases (${view.cases.toLocaleString()})`],
    ["evidence", `Evidence (${(view.files ?? []).length})`],
    ["trace", "Traceability"],
    ["problems", `Problems (${(view.problems ?? []).length})`],
  ];
  const built = {};
  const buttons = defs.map(([key, label]) => h("button", { type: "button", role: "tab", id: `tab-${key}`, "aria-selected": "false", onclick: () => select(key) }, label));
  function select(key) {
    buttons.forEach((b, i) => b.setAttribute("aria-selected", defs[i][0] === key ? "true" : "false"));
    if (!built[key]) {
      built[key] = { cases: () => casesPanel(view, caseIndex, state), evidence: () => evidencePanel(view), trace: () => tracePanel(view, caseIndex, () => select("cases")), problems: () => problemsPanel(view) }[key]();
    }
    mount(content, built[key]);
  }
  const bar = h("div", { class: "tabs", role: "tablist", "aria-label": "Run sections" }, buttons);
  bar.addEventListener("keydown", (e) => {
    const i = buttons.indexOf(document.activeElement);
    if (i < 0 || (e.key !== "ArrowRight" && e.key !== "ArrowLeft")) return;
    const next = buttons[(i + (e.key === "ArrowRight" ? 1 : buttons.length - 1)) % buttons.length];
    next.focus();
    next.click();
  });
  select("cases");
  return [bar, content];
}

export function render(ctx, params) {
  const el = h("section", { class: "run-screen", id: "run-screen" }, h("p", { class: "loading" }, `Opening ${params.id}…`));
  const caseIndex = { select: () => {}, clearSearch: () => false };
  const back = h("button", { type: "button", id: "back", onclick: () => ctx.back() }, "← Runs (Esc)");
  const state = { dispositions: new Map(), keys: [], refreshSignoff: () => {}, conn: ctx && ctx.connection && ctx.connection.form ? ctx.connection.form : {} };
  Promise.all([api.openRun(params.id), api.runDispositions(params.id).catch(() => []), api.listKeys().catch(() => [])]).then(
    ([view, dispositions, keys]) => {
      // Dispositions are kept per canonical run id; the route may have used a short id.
      if (view.summary.id !== params.id) return api.runDispositions(view.summary.id).then((d) => [view, d, keys]);
      return [view, dispositions, keys];
    },
  ).then(
    ([view, dispositions, keys]) => {
      for (const d of dispositions) state.dispositions.set(d.case_id, d);
      state.keys = keys.filter((k) => k.enrolled && !k.enrolled.revoked);
      mount(el, h("div", { class: "toolbar" }, back), summary(view), signoff(ctx, view, state), tabs(view, caseIndex, state));
      const list = el.querySelector("#cases");
      if (list) list.focus();
    },
    (err) => mount(el, h("div", { class: "toolbar" }, back), errorBox(err)),
  );
  return { el, title: params.id, focus: back, onEscape: () => caseIndex.clearSearch() };
}
