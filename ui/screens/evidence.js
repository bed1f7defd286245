// AWS evidence: the CloudTrail and AWS Config files in the store, each re-read and re-hashed,
// the CloudTrail digest chain validated offline (signatures checked with the trail's public key
// file when one is chosen) and the events and configuration items of one stack. What the screen
// calls valid is exactly what the check proved: without a public key the digests' signatures
// were not checked, and it says so.
import * as api from "../api.js";
import { h, mount, pathRow } from "../dom.js";
import { showError } from "../errors.js";
import { chooserButton } from "../files.js";

const SHOWN = 200;

function verdict(r) {
  if (r.digest_files === 0) {
    return h(
      "div",
      { class: "error error--warn", id: "evidence-verdict", "data-valid": "false", role: "status" },
      h("strong", { class: "error-title" }, "No CloudTrail digest files in the store"),
      h("p", {}, "Sync or import the trail's digest files (AWSLogs/<account>/CloudTrail-Digest/) with the runs; without them the log files' integrity cannot be shown."),
    );
  }
  if (r.valid) {
    return h(
      "div",
      { class: "panel verdict verdict--ok", id: "evidence-verdict", "data-valid": "true", role: "status" },
      h("strong", { class: "error-title" }, "✓ CloudTrail digest chain validates"),
      h("p", {}, `${r.digest_files} digest files and ${r.log_files} log files: every digest's signature verifies with the public key (fingerprint ${r.public_keys.join(", ")}), each links to the one before it, and every log file hashes to the value its digest lists.`),
    );
  }
  const unchecked = r.public_keys.length === 0;
  return h(
    "div",
    { class: unchecked ? "error error--warn" : "error error--integrity", id: "evidence-verdict", "data-valid": "false", role: "status" },
    h("strong", { class: "error-title" }, unchecked ? "CloudTrail digest chain not validated: no public key chosen" : "⚠ CloudTrail digest chain does NOT validate"),
    h("p", {}, unchecked ? "Without the trail's public key the digests' signatures cannot be checked, so the chain proves nothing yet. Choose the public key file (from aws cloudtrail list-public-keys, kept by your AWS administrator) and check again." : `${r.findings.length} finding${r.findings.length === 1 ? "" : "s"} and ${r.problems.length} stored file${r.problems.length === 1 ? "" : "s"} that could not be used; see below.`),
  );
}

function findingsList(r) {
  const rows = [...r.problems.map((p) => [p.uri, `cannot use: ${p.message}`]), ...r.findings.map((f) => [f.key, f.message]), ...r.chain.not_covered.map((u) => [`s3://${u.bucket}/${u.key}`, "not covered by any digest: its integrity is not established"])];
  if (!rows.length) return null;
  return h(
    "section",
    { class: "panel", id: "evidence-findings" },
    h("h2", {}, `Findings (${rows.length.toLocaleString("en")})`),
    h("ul", { class: "findings" }, rows.slice(0, SHOWN).map(([where, what]) => h("li", {}, h("span", { class: "mono wrap-any" }, where), h("div", {}, what)))),
    rows.length > SHOWN ? h("p", { class: "muted" }, `… and ${(rows.length - SHOWN).toLocaleString("en")} more.`) : null,
  );
}

function eventsTable(r) {
  const caption = r.stack ? `CloudTrail events about stack ${r.stack.name}: ${r.events.length.toLocaleString("en")} of the ${r.events_total.toLocaleString("en")} read` : `CloudTrail events: ${r.events.length.toLocaleString("en")}`;
  return h(
    "section",
    { class: "panel", id: "evidence-events" },
    h("h2", {}, caption),
    r.events.length
      ? h(
          "table",
          { class: "grid" },
          h("thead", {}, h("tr", {}, ["Time (UTC)", "Event", "Who", "Resources", "Result"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            r.events.slice(0, SHOWN).map((e) =>
              h(
                "tr",
                {},
                h("td", { class: "mono" }, String(e.time).replace("T", " ").slice(0, 19)),
                h("td", {}, e.event_name, h("div", { class: "muted" }, e.event_source)),
                h("td", { class: "mono wrap-any" }, e.principal_arn ?? e.invoked_by ?? e.principal_type ?? "—"),
                h("td", { class: "mono wrap-any" }, e.resources.join(", ") || "—"),
                h("td", {}, e.error_code ? h("span", { class: "badge badge--failed", title: e.error_message ?? "" }, e.error_code) : "ok"),
              ),
            ),
          ),
        )
      : h("p", { class: "muted" }, "No event."),
    r.events.length > SHOWN ? h("p", { class: "muted" }, `The first ${SHOWN} are shown, oldest first; name a stack to narrow them down.`) : null,
  );
}

function configTable(r) {
  return h(
    "section",
    { class: "panel", id: "evidence-config" },
    h("h2", {}, `AWS Config items: ${r.config_items.length.toLocaleString("en")}`),
    r.config_items.length
      ? h(
          "table",
          { class: "grid" },
          h("thead", {}, h("tr", {}, ["Resource", "Type", "Captured", "Status"].map((c) => h("th", { scope: "col" }, c)))),
          h(
            "tbody",
            {},
            r.config_items.slice(0, SHOWN).map((c) => h("tr", {}, h("td", { class: "mono wrap-any" }, c.resource_name ?? c.resource_id), h("td", {}, c.resource_type), h("td", { class: "mono" }, c.capture_time ?? "—"), h("td", {}, c.status ?? "—"))),
          ),
        )
      : h("p", { class: "muted" }, "No configuration item."),
  );
}

export function render() {
  const key = h("input", { type: "text", id: "evidence-key", placeholder: "the trail's public key file (optional)", autocomplete: "off", spellcheck: "false" });
  const stack = h("input", { type: "text", id: "evidence-stack", placeholder: "e.g. lims-prod (optional)", autocomplete: "off", spellcheck: "false" });
  const button = h("button", { type: "submit", class: "primary", id: "evidence-go" }, "Check evidence");
  const result = h("div", { id: "evidence-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", id: "evidence-form", novalidate: true },
    h(
      "div",
      { class: "grid-form" },
      h("label", { class: "wide" }, "CloudTrail public key", pathRow(key, chooserButton(key, { mode: "open", label: "Browse…", title: "Choose the CloudTrail public key file" }))),
      h("label", {}, "Stack", stack),
    ),
    h("div", { class: "actions" }, button),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    mount(result, h("p", { class: "loading" }, "Re-reading every stored file and validating the chain…"));
    try {
      const r = await api.auditEvidence({ publicKey: key.value, stack: stack.value });
      mount(result, verdict(r), findingsList(r), eventsTable(r), configTable(r));
    } catch (err) {
      showError(result, err, { path: key, stack });
    } finally {
      button.disabled = false;
    }
  });
  const el = h(
    "section",
    { class: "evidence", id: "evidence-screen" },
    h("div", { class: "toolbar" }, h("h1", {}, "AWS evidence")),
    h("p", { class: "muted" }, "CloudTrail records every change made to the AWS account; its digest files, signed by AWS, show that no log file was changed or removed. AWS Config records each resource's configuration. Both come into the store with the runs and are checked here from the stored copies."),
    form,
    result,
  );
  return { el, title: "AWS evidence", focus: key };
}
