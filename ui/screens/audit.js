// Audit trail: every ledger entry, with filters that find what contains the text (any letter
// case), newest or oldest first; verify the hash chain; export the filtered trail to a new CSV or
// JSON file (the export is itself recorded); mark the trail reviewed up to an entry with a Part
// 11 signature (meaning Reviewed, signed over that entry's hash, which binds every entry before
// it), the signed reason stating what the list showed and how many entries were never
// displayed; sign a checkpoint of the trail (published to S3 under Object Lock) and verify the
// trail against the published ones; back the ledger up to a new file and restore a backup.
import { actionName } from "../actions.js";
import * as api from "../api.js";
import { formatTime, h, mount, pathRow, reasonField } from "../dom.js";
import { errorBox, showError } from "../errors.js";
import { checkpointPanel, publishedPanel } from "../checkpoints.js";
import { chooserButton, openButtons } from "../files.js";
import { restorePanel } from "../restore.js";
import { keyOptions, liveStamp, refusalBox, secretsForm } from "../signing.js";
import { virtualList } from "../vlist.js";

const FILTERS = [
  ["since", "Since (inclusive)", "2026-03-01 or RFC 3339"],
  ["until", "Until (exclusive)", "2026-04-01"],
  ["actor", "Actor contains", "name, IAM ARN or “system”"],
  ["action", "Action contains", "e.g. signature, key, export"],
  ["objectKind", "Object kind contains", "e.g. run, key"],
  ["object", "Object id contains", "e.g. LIMS/OQ"],
];
/** Filter fields by the names errors use (src-tauri/src/wording.rs Field). */
const FIELD_NAMES = { since: "since", until: "until", actor: "actor", action: "action", objectKind: "object_kind", object: "object" };

const actorText = (a) => (a ? a.printed_name ?? a.arn ?? "system" : "system");
/** The actor as the list shows it: the printed name, or the ARN's last part (user/alice). */
const actorShort = (a) => (a && !a.printed_name && a.arn ? a.arn.split(":").pop() : actorText(a));
/** "2026-12-03 10:53:01" of "2026-12-03T10:53:01.663Z": the list's time, to the second. */
const timeShort = (t) => (t ? String(t).replace("T", " ").slice(0, 19) : "—");

function chainBox(r) {
  const ok = !r.problem;
  const compared = r.checkpoints_checked;
  const head = r.head ? `entry ${r.head[0]}, hash ${r.head[1]}` : "empty";
  if (!ok) {
    return h(
      "div",
      { class: "error error--integrity", id: "chain-report", "data-ok": "false", role: "status" },
      h("strong", { class: "error-title" }, "⚠ Audit trail does NOT verify"),
      h("p", {}, `${r.events} entries re-derived; head ${head}.`),
      h("p", { class: "mono" }, `First bad entry: ${r.problem.seq} — ${JSON.stringify(r.problem.fault)}`),
      h("p", {}, "Do not sign or rely on the trail; keep this copy as it is and report it to QA."),
    );
  }
  // Green only when a checkpoint kept outside the trail agreed: without one, a trail rolled
  // back as a whole to an earlier state would verify as well.
  return h(
    "div",
    { class: compared > 0 ? "panel verdict verdict--ok" : "error error--info", id: "chain-report", "data-ok": "true", "data-checkpoints": String(compared), role: "status" },
    h("strong", { class: "error-title" }, compared > 0 ? "✓ Audit trail verified against its checkpoints" : "Audit trail chain intact — no checkpoint compared"),
    h("p", {}, `${r.events} entries re-derived; head ${head}.`),
    compared > 0
      ? h("p", {}, `${compared} signed checkpoint${compared === 1 ? "" : "s"} compared: the trail has not been cut short or replaced by an older copy since.`)
      : h("p", {}, "Every entry links to the one before it, but no signed checkpoint was there to compare with, so a trail restored from an older copy would pass this check too. Sign and publish a checkpoint below, and verify against the published checkpoints."),
  );
}

function detail(e) {
  if (!e) return h("p", { class: "muted" }, "No entry matches.");
  const kv = [
    ["Sequence", e.seq, null],
    ["Time (UTC)", e.time_utc, "mono"],
    ["Actor's UTC offset", e.utc_offset, null],
    ["Actor", e.actor && e.actor.printed_name && e.actor.arn ? `${e.actor.printed_name} (${e.actor.arn})` : actorText(e.actor), "wrap-any"],
    ["Action", `${actionName(e.action)} (${e.action})`, null],
    ["Object", `${e.object_kind} ${e.object_id}`, "wrap-any"],
    ["Reason", e.reason ?? "—", null],
    ["Hash", e.hash, "mono wrap-any"],
    ["Previous hash", e.prev_hash, "mono wrap-any"],
  ];
  return [
    h("dl", { class: "kv", id: "audit-entry" }, kv.map(([k, v, cls]) => [h("dt", {}, k), h("dd", { class: cls }, String(v))])),
    e.before ? h("section", {}, h("h3", {}, "Before"), h("pre", { tabindex: "0", "aria-label": "Before" }, e.before)) : null,
    e.after ? h("section", {}, h("h3", {}, "After"), h("pre", { tabindex: "0", "aria-label": "After" }, e.after)) : null,
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

/**
 * The "mark reviewed" panel: request, then exactly what will be signed (the reason as signed
 * says what the list showed), then the components. `seen` tells what was displayed.
 */
function reviewPanel(ctx, onSigned, seen) {
  const reviewsSlot = h("div", { id: "reviews" });
  const planSlot = h("div", { id: "review-plan" });
  const resultSlot = h("div", { id: "review-result" });
  const upTo = h("input", { type: "number", id: "review-up-to", min: "1", step: "1", inputmode: "numeric", "aria-describedby": "review-seen" });
  const seenLine = h("p", { class: "muted", id: "review-seen", "aria-live": "polite" });
  const [reason, reasonCount] = reasonField("review-reason", "What you reviewed and what you found (recorded inside the signature)");
  const keySelect = h("select", { id: "review-key" });
  const checkButton = h("button", { type: "submit", id: "review-check" }, "Review what will be signed");
  let plan = null;
  let typed = false;
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
    h("div", { class: "grid-form grid-form--3" }, h("label", {}, "Reviewed up to entry", upTo), h("label", {}, "Reviewer key", keySelect), h("label", { class: "wide" }, "Reason", reason, reasonCount)),
    seenLine,
    h("div", { class: "actions" }, checkButton),
  );
  const request = () => {
    const n = Number(upTo.value);
    return { upTo: n, reason: reason.value, keyId: keySelect.value, shown: { filter: seen.filter(), displayed: seen.displayedUpTo(n) } };
  };
  const describeSeen = () => {
    const n = Number(upTo.value);
    if (!n) {
      seenLine.textContent = "Scroll through the entries you review: the review records how many of them were displayed.";
      return;
    }
    const d = seen.displayedUpTo(n);
    seenLine.textContent = `Of entries 1 to ${n.toLocaleString("en")}, ${d.toLocaleString("en")} have been displayed here and ${(n - d).toLocaleString("en")} have not; the signature will say so.`;
  };
  upTo.addEventListener("input", () => {
    typed = true;
    describeSeen();
  });
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
      showError(planSlot, err, { up_to: upTo, reason, key: keySelect }, (x) => refusalBox(x, "review-refusal"));
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
      submit: async (aws, components, fields) => {
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
          reason.dispatchEvent(new Event("input"));
          loadReviews();
          onSigned();
        } catch (err) {
          showError(resultSlot, err, fields, (x) => refusalBox(x, "review-refusal"));
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
          h("dd", { class: "mono wrap-any", id: "review-plan-hash" }, p.head_hash),
          h("dt", {}, "Meaning"),
          h("dd", {}, h("b", {}, "Reviewed"), " — I reviewed the audit trail up to and including this entry"),
          h("dt", {}, "Reason, as signed"),
          h("dd", { id: "review-plan-reason", class: "prewrap" }, p.reason),
          h("dt", {}, "Printed name"),
          h("dd", { id: "review-plan-name" }, p.printed_name),
          h("dt", {}, "IAM identity"),
          h("dd", { class: "mono" }, p.iam_arn),
          h("dt", {}, "Key"),
          h("dd", { class: "mono" }, p.key_id),
          h("dt", {}, "Date and time"),
          liveStamp("review-plan-time"),
        ),
        h("p", { class: "muted" }, "The entry's hash chains every earlier entry: a later change to any of them shows this review as made for a different trail. The reason states what this screen displayed, so the signature does not claim more than was read."),
      ),
      secrets,
    ];
  }

  loadReviews();
  describeSeen();
  return {
    el: h("div", { class: "panel", id: "review-panel" }, h("h2", {}, "Reviews of the audit trail"), reviewsSlot, h("h3", {}, "Mark reviewed"), form, planSlot, resultSlot),
    /** The list displayed more entries: offer the newest displayed one, unless one was typed. */
    seenChanged: () => {
      const last = seen.lastDisplayed();
      if (!typed && last && Number(upTo.value) !== last) upTo.value = String(last);
      describeSeen();
    },
  };
}

/** Backs the ledger up to a new file (SQLite online backup, verified, recorded). */
function backupPanel(ctx, onDone) {
  const stamp = () => new Date().toISOString().slice(0, 19).replace(/:/g, "");
  const out = h("input", { type: "text", id: "backup-out", value: `${ctx.info.export_dir}/countersign-ledger-${stamp()}.sqlite`, autocomplete: "off", spellcheck: "false" });
  const button = h("button", { type: "submit", id: "backup-go" }, "Back up");
  const result = h("div", { id: "backup-out-result" });
  const form = h(
    "form",
    { class: "toolbar", novalidate: true },
    h("label", { class: "grow" }, "Save as", pathRow(out, chooserButton(out, { mode: "save", label: "Save as…", title: "Save the ledger backup as", filters: [{ name: "SQLite ledger", extensions: ["sqlite"] }] }))),
    button,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const b = await api.backupLedger({ out: out.value });
      mount(result, h("div", { class: "panel", role: "status", id: "backup-done" }, `${b.events.toLocaleString()} entries copied to `, h("span", { class: "mono" }, b.path), `; head entry ${b.head_seq}, hash `, h("span", { class: "mono wrap-any" }, b.head_hash), ". The copy verifies and the backup is recorded in the trail.", openButtons(b.path, { open: false, idPrefix: "backup" })));
      out.value = `${ctx.info.export_dir}/countersign-ledger-${stamp()}.sqlite`;
      onDone();
    } catch (err) {
      showError(result, err, { out });
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "div",
    { class: "panel" },
    h("h2", {}, "Backup"),
    h("p", { class: "muted" }, "A consistent copy of the ledger, safe while the app runs. The copy verifies before the backup is reported done."),
    form,
    result,
  );
}

export function render(ctx) {
  const inputs = Object.fromEntries(FILTERS.map(([name, , placeholder]) => [name, h("input", { type: "text", id: `audit-${name}`, name, placeholder, autocomplete: "off", spellcheck: "false" })]));
  const fieldsByError = Object.fromEntries(Object.entries(FIELD_NAMES).map(([name, field]) => [field, inputs[name]]));
  const sortButton = h("button", { type: "button", id: "audit-sort", "aria-pressed": "true" }, "Newest first");
  const filterForm = h(
    "form",
    { class: "panel", id: "audit-filter", novalidate: true },
    h("div", { class: "grid-form grid-form--3" }, FILTERS.map(([name, label]) => h("label", {}, label, inputs[name]))),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "audit-apply" }, "Apply filter"), h("button", { type: "button", id: "audit-clear" }, "Clear"), h("span", { class: "muted" }, "Text filters find entries that contain the text, in any letter case.")),
  );
  const status = h("div", { id: "audit-status" });
  const count = h("span", { class: "muted", id: "audit-count" });
  const side = h("div", { class: "detail panel", id: "audit-detail", tabindex: "-1", "aria-live": "polite" });

  // What the reviewer has had on screen: every entry drawn in view or opened in the detail.
  const displayed = new Set();
  let review = null;
  const markDisplayed = (entries) => {
    let grew = false;
    for (const e of entries) {
      if (e && !displayed.has(e.seq)) {
        displayed.add(e.seq);
        grew = true;
      }
    }
    if (grew && review) review.seenChanged();
  };
  let applied = {};
  const seen = {
    filter: () => ({ ...applied }),
    displayedUpTo: (n) => {
      let c = 0;
      for (const seq of displayed) if (seq <= n) c += 1;
      return c;
    },
    lastDisplayed: () => (displayed.size ? Math.max(...displayed) : 0),
  };

  const list = virtualList({
    id: "audit-list",
    label: "Audit-trail entries",
    columns: ["#", "Time (UTC)", "Actor", "Action", "Object"],
    rowHeight: 32,
    cells: (e) => {
      const actor = actorText(e.actor);
      const object = `${e.object_kind} ${e.object_id}`;
      return [
        h("span", { class: "mono" }, e.seq),
        h("span", { class: "mono", title: e.time_utc }, timeShort(e.time_utc)),
        h("span", { title: e.actor && e.actor.arn ? `${actor} (${e.actor.arn})` : actor }, actorShort(e.actor)),
        h("span", { title: `${actionName(e.action)} (${e.action})`, "data-action": e.action }, actionName(e.action)),
        h("span", { class: "mono", title: object }, object),
      ];
    },
    onSelect: (e) => {
      mount(side, detail(e));
      markDisplayed([e]);
    },
    onOpen: () => side.focus(),
    onVisible: markDisplayed,
  });

  let events = [];
  let newestFirst = true;
  const show = () => list.setItems(newestFirst ? [...events].reverse() : events);
  // A toggle: pressed, the newest entry is on top (the default); released, the oldest.
  sortButton.addEventListener("click", () => {
    newestFirst = !newestFirst;
    sortButton.setAttribute("aria-pressed", newestFirst ? "true" : "false");
    show();
  });

  const filter = () => Object.fromEntries(FILTERS.map(([name]) => [name, inputs[name].value]));
  const load = async () => {
    const f = filter();
    try {
      events = await api.auditEvents(f);
      applied = f;
      show();
      count.textContent = `${events.length.toLocaleString("en")} entries`;
      mount(status);
    } catch (err) {
      showError(status, err, fieldsByError);
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
  const exportForm = h(
    "form",
    { class: "toolbar", novalidate: true },
    h("label", {}, "Format", format),
    h("label", { class: "grow" }, "Save as", pathRow(out, chooserButton(out, { mode: "save", label: "Save as…", title: "Save the audit-trail export as" }))),
    exportButton,
  );
  exportForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    exportButton.disabled = true;
    try {
      const n = await api.auditExport({ filter: applied, format: format.value, out: out.value });
      mount(exportOut, h("div", { class: "panel", role: "status", id: "audit-exported" }, `${n} entries written to `, h("span", { class: "mono" }, out.value), ". The export is recorded in the trail.", openButtons(out.value, { open: false, idPrefix: "export" })));
      out.value = `${ctx.info.export_dir}/audit-trail-${stamp()}.${format.value}`;
      load();
    } catch (err) {
      showError(exportOut, err, { out, ...fieldsByError });
    } finally {
      exportButton.disabled = false;
    }
  });

  review = reviewPanel(ctx, () => load(), seen);
  const el = h(
    "section",
    { class: "audit", id: "audit-screen" },
    h("div", { class: "toolbar" }, h("h1", {}, "Audit trail"), h("div", { class: "spacer" }), count, sortButton, verifyButton),
    verifyOut,
    filterForm,
    status,
    h("div", { class: "cases-split" }, list.el, side),
    h("div", { class: "panel" }, h("h2", {}, "Export the filtered entries"), exportForm, exportOut),
    review.el,
    checkpointPanel(ctx, () => load()),
    publishedPanel(ctx),
    backupPanel(ctx, () => load()),
    restorePanel(ctx, () => load()),
  );
  load();
  return { el, title: "Audit trail", focus: null };
}
