// Audit trail: every ledger entry, filtered as `ledger export` filters; verify the hash chain;
// export the (filtered) trail to a new CSV or JSON file (the export is itself recorded).
import * as api from "../api.js";
import { formatTime, h, mount } from "../dom.js";
import { errorBox } from "../errors.js";
import { virtualList } from "../vlist.js";

const FILTERS = [
  ["since", "Since (inclusive)", "2026-03-01 or RFC 3339"],
  ["until", "Until (exclusive)", "2026-04-01"],
  ["actor", "Actor", "IAM ARN, printed name or system"],
  ["action", "Action", "e.g. signature.applied"],
  ["objectKind", "Object kind", "e.g. run"],
  ["object", "Object id", "e.g. LIMS/OQ/…"],
];

const actorText = (a) => (a ? a.printed_name ?? a.arn ?? "system" : "system");

function chainBox(r) {
  const ok = !r.problem;
  const head = r.head ? `entry ${r.head[0]}, hash ${r.head[1]}` : "empty";
  return h(
    "div",
    { class: ok ? "panel verdict verdict--ok" : "error error--integrity", id: "chain-report", "data-ok": ok ? "true" : "false", role: "status" },
    h("strong", { class: "error-title" }, ok ? "✓ Audit trail verified" : "⚠ Audit trail does NOT verify"),
    h("p", {}, `${r.events} entries re-derived; head ${head}; ${r.checkpoints_checked} checkpoint(s) compared.`),
    ok ? null : h("p", { class: "mono" }, `First bad entry: ${r.problem.seq} — ${JSON.stringify(r.problem.fault)}`),
  );
}

function detail(e) {
  if (!e) return h("p", { class: "muted" }, "No entry matches.");
  const kv = [
    ["Sequence", e.seq],
    ["Time (UTC)", e.time_utc],
    ["Actor's UTC offset", e.utc_offset],
    ["Actor", `${actorText(e.actor)}${e.actor && e.actor.arn ? ` (${e.actor.arn})` : ""}`],
    ["Action", e.action],
    ["Object", `${e.object_kind} ${e.object_id}`],
    ["Reason", e.reason ?? "—"],
    ["Hash", e.hash],
    ["Previous hash", e.prev_hash],
  ];
  return [
    h("dl", { class: "kv" }, kv.map(([k, v]) => [h("dt", {}, k), h("dd", { class: k.includes("ash") ? "mono" : null }, String(v))])),
    e.before ? h("section", {}, h("h3", {}, "Before"), h("pre", {}, e.before)) : null,
    e.after ? h("section", {}, h("h3", {}, "After"), h("pre", {}, e.after)) : null,
  ];
}

export function render(ctx) {
  const inputs = Object.fromEntries(FILTERS.map(([name, , placeholder]) => [name, h("input", { type: "text", id: `audit-${name}`, name, placeholder, autocomplete: "off", spellcheck: "false" })]));
  const filterForm = h(
    "form",
    { class: "panel", id: "audit-filter", novalidate: true },
    h("div", { class: "grid-form grid-form--3" }, FILTERS.map(([name, label]) => h("label", {}, label, inputs[name]))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "audit-apply" }, "Apply filter"), h("button", { type: "button", id: "audit-clear" }, "Clear")),
  );
  const status = h("div", { id: "audit-status" });
  const count = h("span", { class: "muted", id: "audit-count" });
  const side = h("div", { class: "detail panel", id: "audit-detail", tabindex: "-1", "aria-live": "polite" });
  const list = virtualList({
    id: "audit-list",
    label: "Audit-trail entries",
    columns: ["#", "Time (UTC)", "Actor", "Action", "Object"],
    rowHeight: 32,
    cells: (e) => [h("span", { class: "mono" }, e.seq), h("span", {}, formatTime(e.time_utc)), h("span", { title: e.actor && e.actor.arn }, actorText(e.actor)), h("span", { class: "mono" }, e.action), h("span", { class: "mono muted", title: e.object_id }, `${e.object_kind} ${e.object_id}`)],
    onSelect: (e) => mount(side, detail(e)),
    onOpen: () => side.focus(),
  });

  const filter = () => Object.fromEntries(FILTERS.map(([name]) => [name, inputs[name].value]));
  const load = async () => {
    try {
      const events = await api.auditEvents(filter());
      list.setItems(events);
      count.textContent = `${events.length.toLocaleString()} entries`;
      mount(status);
    } catch (err) {
      mount(status, errorBox(err));
    }
  };
  filterForm.addEventListener("submit", (e) => {
    e.preventDefault();
    load();
  });
  filterForm.querySelector("#audit-clear").addEventListener("click", () => {
    for (const i of Object.values(inputs)) i.value = "";
    load();
  });

  const verifyButton = h("button", { type: "button", id: "audit-verify" }, "Verify chain");
  const verifyOut = h("div", { id: "audit-verify-out" });
  verifyButton.addEventListener("click", async () => {
    verifyButton.disabled = true;
    mount(verifyOut, h("p", { class: "loading" }, "Re-deriving every hash…"));
    try {
      mount(verifyOut, chainBox(await api.auditVerify()));
    } catch (err) {
      mount(verifyOut, errorBox(err));
    } finally {
      verifyButton.disabled = false;
    }
  });

  const format = h("select", { id: "audit-format" }, h("option", { value: "csv" }, "CSV"), h("option", { value: "json" }, "JSON"));
  const stamp = () => new Date().toISOString().slice(0, 19).replace(/:/g, "");
  const out = h("input", { type: "text", id: "audit-out", value: `${ctx.info.export_dir}/audit-trail-${stamp()}.csv`, autocomplete: "off", spellcheck: "false" });
  format.addEventListener("change", () => {
    out.value = out.value.replace(/\.(csv|json)$/, `.${format.value}`);
  });
  const exportButton = h("button", { type: "submit", id: "audit-export" }, "Export");
  const exportOut = h("div", { id: "audit-export-out" });
  const exportForm = h("form", { class: "toolbar", novalidate: true }, h("label", {}, "Format", format), h("label", { class: "grow" }, "Save as", out), exportButton);
  exportForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    exportButton.disabled = true;
    try {
      const n = await api.auditExport({ filter: filter(), format: format.value, out: out.value });
      mount(exportOut, h("div", { class: "panel", role: "status", id: "audit-exported" }, `${n} entries written to `, h("span", { class: "mono" }, out.value), ". The export is recorded in the trail."));
      out.value = `${ctx.info.export_dir}/audit-trail-${stamp()}.${format.value}`;
      load();
    } catch (err) {
      mount(exportOut, errorBox(err));
    } finally {
      exportButton.disabled = false;
    }
  });

  const el = h(
    "section",
    { class: "audit", id: "audit-screen" },
    h("div", { class: "toolbar" }, h("h1", {}, "Audit trail"), h("div", { class: "spacer" }), count, verifyButton),
    verifyOut,
    filterForm,
    status,
    h("div", { class: "cases-split" }, list.el, side),
    h("div", { class: "panel" }, h("h2", {}, "Export"), exportForm, exportOut),
  );
  load();
  return { el, title: "Audit trail", focus: null };
}
