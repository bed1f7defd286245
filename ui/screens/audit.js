// Audit trail: every ledger entry, filtered as `ledger export` filters; verify the hash chain;
// export the (filtered) trail to a new CSV or JSON file (the export is itself recorded); mark
// the trail reviewed up to an entry with a Part 11 signature (meaning Reviewed, signed over that
// entry's hash, which binds every entry before it); back the ledger up to a new file.
import * as api from "../api.js";
import { formatTime, h, mount } from "../dom.js";
import { errorBox } from "../errors.js";
import { keyOptions, liveStamp, refusalBox, secretsForm } from "../signing.js";
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

function reviewsTable(reviews) {
  if (!reviews.length) return h("p", { class: "muted", id: "reviews-none" }, "The audit trail has not been signed as reviewed yet.");
  return h(
    "table",
    { class: "grid", id: "reviews-table" },
    h("thead", {}, h("tr", {}, ["Reviewed up to entry", "Reviewer", "Signed (signer's time)", "Reason", "Verification"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      reviews.map(({ up_to, signature: s }) =>
        h(
          "tr",
          { "data-up-to": String(up_to), "data-outcome": s.outcome },
          h("td", { class: "mono" }, up_to),
          h("td", {}, s.printed_name, s.iam_arn ? h("div", { class: "mono muted" }, s.iam_arn) : null),
          h("td", {}, s.local_time ?? `${formatTime(s.signed_at)} UTC (signer's offset ${s.utc_offset})`),
          h("td", {}, s.reason ?? "—"),
          h("td", {}, h("span", { class: `badge badge--${s.outcome === "valid" ? "verified" : "failed"}`, title: s.outcome_detail }, s.outcome)),
        ),
      ),
    ),
  );
}

/** The "mark reviewed" panel: request, then exactly what will be signed, then the components. */
function reviewPanel(ctx, onSigned) {
  const reviewsSlot = h("div", { id: "reviews" });
  const planSlot = h("div", { id: "review-plan" });
  const resultSlot = h("div", { id: "review-result" });
  const upTo = h("input", { type: "number", id: "review-up-to", min: "1", step: "1", inputmode: "numeric" });
  const reason = h("textarea", { id: "review-reason", rows: "2", placeholder: "What you reviewed and what you found (recorded inside the signature)" });
  const keySelect = h("select", { id: "review-key" });
  const checkButton = h("button", { type: "submit", id: "review-check" }, "Review what will be signed");
  let plan = null;
  const conn = ctx.connection && ctx.connection.form ? ctx.connection.form : {};

  const loadReviews = () =>
    api.auditReviews().then(
      (r) => mount(reviewsSlot, reviewsTable(r)),
      (err) => mount(reviewsSlot, errorBox(err)),
    );
  api.listKeys().then(
    (keys) => mount(keySelect, keyOptions(keys)),
    (err) => mount(planSlot, errorBox(err)),
  );

  const form = h(
    "form",
    { id: "review-form", novalidate: true },
    h("div", { class: "grid-form grid-form--3" }, h("label", {}, "Reviewed up to entry", upTo), h("label", {}, "Reviewer key", keySelect), h("label", { class: "wide" }, "Reason", reason)),
    h("div", { class: "actions" }, checkButton),
  );
  const request = () => ({ upTo: Number(upTo.value), reason: reason.value, keyId: keySelect.value });
  form.addEventListener("input", () => {
    if (plan) {
      plan = null;
      mount(planSlot, h("p", { class: "muted" }, "The request changed: review it again before signing."));
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    checkButton.disabled = true;
    mount(resultSlot);
    const req = request();
    try {
      plan = await api.reviewCheck(req);
      mount(planSlot, planView(plan, req));
      const first = planSlot.querySelector("input");
      if (first) first.focus();
    } catch (err) {
      plan = null;
      mount(planSlot, refusalBox(err, "review-refusal"));
    } finally {
      checkButton.disabled = false;
    }
  });

  function planView(p, req) {
    const secrets = secretsForm({
      plan: p,
      conn,
      prefix: "review",
      title: "Your signature components",
      label: "Sign as Reviewed",
      submit: async (aws, components) => {
        if (!plan) return;
        try {
          const r = await api.reviewAuditTrail(req, aws, components);
          plan = null;
          mount(planSlot);
          mount(
            resultSlot,
            h(
              "div",
              { class: "panel verdict verdict--ok", id: "reviewed", role: "status" },
              h("strong", { class: "error-title" }, `✓ Audit trail signed as reviewed up to entry ${r.up_to} by ${r.printed_name}`),
              h("p", {}, `${r.signed_at} UTC, offset ${r.utc_offset}; entry hash `, h("span", { class: "mono" }, r.head_hash)),
              r.clock_warning ? h("p", { class: "error error--warn" }, r.clock_warning) : null,
            ),
          );
          reason.value = "";
          loadReviews();
          onSigned();
        } catch (err) {
          mount(resultSlot, refusalBox(err, "review-refusal"));
        }
      },
    });
    return [
      h(
        "div",
        { class: "panel what", id: "review-what" },
        h("h3", {}, "Exactly this will be signed"),
        h(
          "dl",
          { class: "kv" },
          h("dt", {}, "Record"),
          h("dd", { class: "mono", id: "review-plan-record" }, `audit-trail:${p.up_to}`),
          h("dt", {}, "Entry hash (SHA-256)"),
          h("dd", { class: "mono", id: "review-plan-hash" }, p.head_hash),
          h("dt", {}, "Meaning"),
          h("dd", {}, h("b", {}, "Reviewed"), " — I reviewed the audit trail up to and including this entry"),
          h("dt", {}, "Reason"),
          h("dd", { id: "review-plan-reason" }, req.reason.trim()),
          h("dt", {}, "Printed name"),
          h("dd", { id: "review-plan-name" }, p.printed_name),
          h("dt", {}, "IAM identity"),
          h("dd", { class: "mono" }, p.iam_arn),
          h("dt", {}, "Key"),
          h("dd", { class: "mono" }, p.key_id),
          h("dt", {}, "Date and time"),
          liveStamp("review-plan-time"),
        ),
        h("p", { class: "muted" }, "The entry's hash chains every earlier entry: a later change to any of them shows this review as made for a different trail."),
      ),
      secrets,
    ];
  }

  loadReviews();
  return {
    el: h("div", { class: "panel", id: "review-panel" }, h("h2", {}, "Reviews of the audit trail"), reviewsSlot, h("h3", {}, "Mark reviewed"), form, planSlot, resultSlot),
    setLast: (seq) => {
      if (seq && !upTo.value) upTo.value = String(seq);
    },
  };
}

/** Backs the ledger up to a new file (SQLite online backup, verified, recorded). */
function backupPanel(ctx, onDone) {
  const stamp = () => new Date().toISOString().slice(0, 19).replace(/:/g, "");
  const out = h("input", { type: "text", id: "backup-out", value: `${ctx.info.export_dir}/countersign-ledger-${stamp()}.sqlite`, autocomplete: "off", spellcheck: "false" });
  const button = h("button", { type: "submit", id: "backup-go" }, "Back up");
  const result = h("div", { id: "backup-out-result" });
  const form = h("form", { class: "toolbar", novalidate: true }, h("label", { class: "grow" }, "Save as", out), button);
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const b = await api.backupLedger({ out: out.value });
      mount(result, h("div", { class: "panel", role: "status", id: "backup-done" }, `${b.events.toLocaleString()} entries copied to `, h("span", { class: "mono" }, b.path), `; head entry ${b.head_seq}, hash `, h("span", { class: "mono" }, b.head_hash), ". The copy verifies and the backup is recorded in the trail."));
      out.value = `${ctx.info.export_dir}/countersign-ledger-${stamp()}.sqlite`;
      onDone();
    } catch (err) {
      mount(result, errorBox(err));
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "div",
    { class: "panel" },
    h("h2", {}, "Backup"),
    h("p", { class: "muted" }, "A consistent copy of the ledger, safe while the app runs. A backup is restored with the command-line tool (“ledger restore” in its manual) while the app is closed."),
    form,
    result,
  );
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
  let review = null;
  const load = async () => {
    try {
      const events = await api.auditEvents(filter());
      list.setItems(events);
      if (events.length) review.setLast(events[events.length - 1].seq);
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

  review = reviewPanel(ctx, () => load());
  const el = h(
    "section",
    { class: "audit", id: "audit-screen" },
    h("div", { class: "toolbar" }, h("h1", {}, "Audit trail"), h("div", { class: "spacer" }), count, verifyButton),
    verifyOut,
    filterForm,
    status,
    h("div", { class: "cases-split" }, list.el, side),
    h("div", { class: "panel" }, h("h2", {}, "Export"), exportForm, exportOut),
    review.el,
    backupPanel(ctx, () => load()),
  );
  load();
  return { el, title: "Audit trail", focus: null };
}
