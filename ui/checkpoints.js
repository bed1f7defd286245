// Checkpoints of the audit trail, on the Audit trail screen: sign one (its entry's hash signed
// with an enrolled key, kept in the trail and, with a location, published to S3 under Object
// Lock COMPLIANCE so no one can delete or replace it before its retention ends), and verify the
// trail against the checkpoints published outside this desktop, so a trail rolled back as a
// whole to an older copy is caught.
import * as api from "./api.js";
import { awsFields, connectionLocation } from "./aws-fields.js";
import { h, mount, pathRow } from "./dom.js";
import { errorBox, showError } from "./errors.js";
import { chooserButton } from "./files.js";
import { keyOptions } from "./signing.js";

/** Signs (and optionally publishes) a checkpoint of the trail's newest entry. */
export function checkpointPanel(ctx, onDone) {
  const keySelect = h("select", { id: "checkpoint-key" });
  const location = h("input", { type: "text", id: "checkpoint-location", value: connectionLocation(ctx), placeholder: "s3://bucket/prefix (empty: keep it in this trail only)", autocomplete: "off", spellcheck: "false" });
  const days = h("input", { type: "number", id: "checkpoint-days", min: "1", step: "1", inputmode: "numeric", placeholder: "from the home's checkpoint settings" });
  const aws = awsFields("checkpoint", ctx);
  const pass = h("input", { type: "password", id: "checkpoint-passphrase", autocomplete: "current-password" });
  const button = h("button", { type: "submit", id: "checkpoint-go" }, "Sign checkpoint");
  const result = h("div", { id: "checkpoint-result" });
  api.listKeys().then(
    (keys) => mount(keySelect, keyOptions(keys)),
    (err) => mount(result, errorBox(err)),
  );
  const form = h(
    "form",
    { id: "checkpoint-form", novalidate: true },
    h("div", { class: "grid-form" }, h("label", {}, "Signer key", keySelect), h("label", {}, "Retention (days)", days), h("label", { class: "wide" }, "Publish to", location), aws.el, h("label", {}, "Passphrase", pass)),
    h("div", { class: "actions" }, button),
  );
  const fields = { key: keySelect, location, days, passphrase: pass, ...aws.fields };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    mount(result, h("p", { class: "loading" }, "Signing the checkpoint…"));
    const call = api.checkpointLedger({ keyId: keySelect.value, publish: location.value, retentionDays: days.value.trim() ? Number(days.value) : null }, aws.value(), pass.value);
    pass.value = "";
    try {
      const c = await call;
      const published = c.published;
      mount(
        result,
        h(
          "div",
          { class: "panel verdict verdict--ok", id: "checkpoint-done", role: "status" },
          h("strong", { class: "error-title" }, `✓ Checkpoint of entry ${c.seq} signed by ${c.printed_name}`),
          h("p", {}, `${c.time_utc} UTC; entry hash `, h("span", { class: "mono wrap-any" }, c.head_hash)),
          published
            ? h("p", { id: "checkpoint-published" }, "Published to ", h("span", { class: "mono wrap-any" }, published.uri), `, retained under Object Lock ${published.mode} until ${published.retain_until}.`)
            : h("p", { id: "checkpoint-local" }, "Kept in this trail only: it is not published, so it cannot show that this desktop's trail was not replaced as a whole."),
        ),
      );
      onDone();
    } catch (err) {
      showError(result, err, fields);
    } finally {
      button.disabled = false;
    }
  });
  return h(
    "div",
    { class: "panel", id: "checkpoint-panel" },
    h("h2", {}, "Checkpoint"),
    h("p", { class: "muted" }, "A checkpoint signs the newest entry's hash, which binds every entry before it. Published to a bucket with Object Lock, it is kept where no one at this desktop can change it; verifying against it later shows the trail was not cut short or replaced by an older copy."),
    form,
    result,
  );
}

function externalTable(rows) {
  if (!rows.length) return h("p", { class: "muted", id: "published-none" }, "No published checkpoint was found there.");
  return h(
    "table",
    { class: "grid", id: "published-table" },
    h("thead", {}, h("tr", {}, ["Checkpoint", "Entry", "Signer", "Trusted"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      rows.map((x) =>
        h(
          "tr",
          { "data-trusted": String(x.trusted) },
          h("td", { class: "mono wrap-any" }, x.source),
          h("td", { class: "mono" }, x.seq ?? "—"),
          h("td", {}, x.signer ?? "—"),
          h("td", {}, h("span", { class: `badge badge--${x.trusted ? "verified" : "failed"}` }, x.trusted ? "trusted" : "not trusted"), x.problem ? h("div", { class: "muted" }, x.problem) : null),
        ),
      ),
    ),
  );
}

function verdict(v) {
  const r = v.report;
  const head = r.head ? `entry ${r.head[0]}, hash ${r.head[1]}` : "empty";
  const untrusted = v.external.filter((x) => !x.trusted).length;
  if (r.problem) {
    return h(
      "div",
      { class: "error error--integrity", id: "published-verdict", "data-ok": "false", role: "status" },
      h("strong", { class: "error-title" }, "⚠ Audit trail does NOT verify against the published checkpoints"),
      h("p", {}, `${r.events} entries re-derived; head ${head}.`),
      h("p", { class: "mono" }, `First problem: entry ${r.problem.seq} — ${JSON.stringify(r.problem.fault)}`),
      h("p", {}, "Do not sign or rely on the trail; keep this copy as it is and report it to QA."),
    );
  }
  if (untrusted > 0 || r.checkpoints_checked === 0) {
    return h(
      "div",
      { class: "error error--warn", id: "published-verdict", "data-ok": "false", role: "status" },
      h("strong", { class: "error-title" }, r.checkpoints_checked === 0 ? "No published checkpoint could be compared" : `${untrusted} published checkpoint${untrusted === 1 ? "" : "s"} not trusted`),
      h("p", {}, `${r.events} entries re-derived; head ${head}; ${r.checkpoints_checked} trusted checkpoint${r.checkpoints_checked === 1 ? "" : "s"} compared.`),
      h("p", {}, "A checkpoint is trusted when its signature verifies and its key is enrolled here. An untrusted one proves nothing about this trail: see the table for why."),
    );
  }
  return h(
    "div",
    { class: "panel verdict verdict--ok", id: "published-verdict", "data-ok": "true", role: "status" },
    h("strong", { class: "error-title" }, "✓ Audit trail verified against its published checkpoints"),
    h("p", {}, `${r.events} entries re-derived; head ${head}.`),
    h("p", {}, `${r.checkpoints_checked} published checkpoint${r.checkpoints_checked === 1 ? "" : "s"} compared: the trail has not been cut short or replaced by an older copy since.`),
  );
}

/** Verifies the trail against checkpoints published to S3 or saved in a folder. */
export function publishedPanel(ctx) {
  const location = h("input", { type: "text", id: "published-location", value: connectionLocation(ctx), placeholder: "s3://bucket/prefix", autocomplete: "off", spellcheck: "false" });
  const folder = h("input", { type: "text", id: "published-folder", placeholder: "or a folder of checkpoint files", autocomplete: "off", spellcheck: "false" });
  const aws = awsFields("published", ctx);
  const button = h("button", { type: "submit", id: "published-go" }, "Verify against published checkpoints");
  const result = h("div", { id: "published-result" });
  const form = h(
    "form",
    { id: "published-form", novalidate: true },
    h(
      "div",
      { class: "grid-form" },
      h("label", { class: "wide" }, "Published to", location),
      h("label", { class: "wide" }, "Folder", pathRow(folder, chooserButton(folder, { mode: "folder", label: "Folder…", title: "Choose the folder of checkpoint files" }))),
      aws.el,
    ),
    h("div", { class: "actions" }, button),
  );
  // One source at a time: choosing a folder clears the location, typing a location the folder.
  folder.addEventListener("input", () => {
    if (folder.value.trim()) location.value = "";
  });
  location.addEventListener("input", () => {
    if (location.value.trim()) folder.value = "";
  });
  const fields = { location, path: folder, ...aws.fields };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    mount(result, h("p", { class: "loading" }, "Reading the published checkpoints and re-deriving every hash…"));
    try {
      const v = await api.verifyLedgerPublished({ location: location.value, folder: folder.value }, aws.value());
      mount(result, verdict(v), externalTable(v.external));
    } catch (err) {
      showError(result, err, fields);
    } finally {
      button.disabled = false;
    }
  });
  return h("div", { class: "panel", id: "published-panel" }, h("h2", {}, "Verify against published checkpoints"), form, result);
}
