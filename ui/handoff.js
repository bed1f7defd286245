// Hand-off on the Sign screen: the signer publishes the run's sign-off to S3 (its record, the
// signatures that verify for it and the signers' public keys, each object written once and never
// over a different one) and the next signer's desktop takes it over, every item checked here
// first and every refusal recorded. The next signer then signs the same record the earlier
// signatures cover.
import * as api from "./api.js";
import { awsFields, connectionLocation } from "./aws-fields.js";
import { h, mount } from "./dom.js";
import { showError } from "./errors.js";

function objectsTable(objects) {
  return h(
    "table",
    { class: "grid", id: "handoff-objects" },
    h("thead", {}, h("tr", {}, ["Object", "SHA-256", "Status"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      objects.map((o) => h("tr", {}, h("td", { class: "mono wrap-any" }, o.uri), h("td", { class: "mono wrap-any" }, o.sha256), h("td", {}, o.status === "written" ? "written now" : "already there"))),
    ),
  );
}

const STATUS = { accepted: ["taken over", "verified"], already_recorded: ["already here", "verified"], known: ["already known", "verified"], unused: ["not used", "skipped"], rejected: ["refused", "failed"] };

function itemsTable(items) {
  return h(
    "table",
    { class: "grid", id: "handoff-items" },
    h("thead", {}, h("tr", {}, ["Item", "Object", "Result", "Detail"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      items.map((i) =>
        h(
          "tr",
          { "data-status": i.status },
          h("td", {}, i.kind),
          h("td", { class: "mono wrap-any" }, i.uri),
          h("td", {}, h("span", { class: `badge badge--${(STATUS[i.status] ?? [i.status, "failed"])[1]}` }, (STATUS[i.status] ?? [i.status])[0])),
          h("td", {}, i.detail),
        ),
      ),
    ),
  );
}

function published(r) {
  return h(
    "div",
    { class: "panel verdict verdict--ok", id: "handoff-published", role: "status" },
    h("strong", { class: "error-title" }, `✓ Sign-off published to ${r.location}`),
    h("p", {}, "Record SHA-256 ", h("span", { class: "mono wrap-any" }, r.record_sha256), r.retain_until ? `; retained under Object Lock COMPLIANCE until ${r.retain_until}.` : "; no Object Lock period was asked for."),
    r.not_published.length ? h("p", { class: "error error--warn" }, `${r.not_published.length} signature${r.not_published.length === 1 ? "" : "s"} on file did not verify for the current record and ${r.not_published.length === 1 ? "was" : "were"} not published.`) : null,
    objectsTable(r.objects),
  );
}

function fetched(r) {
  const rejected = r.items.filter((i) => i.status === "rejected").length;
  const ok = r.same_record && rejected === 0;
  return h(
    "div",
    { class: ok ? "panel verdict verdict--ok" : "error error--warn", id: "handoff-fetched", "data-same-record": String(r.same_record), role: "status" },
    h("strong", { class: "error-title" }, ok ? `✓ Sign-off taken over from ${r.location}` : `Sign-off from ${r.location} taken over with ${rejected} item${rejected === 1 ? "" : "s"} refused`),
    r.same_record
      ? h("p", {}, "This desktop's record is the published one (SHA-256 ", h("span", { class: "mono wrap-any" }, r.local_record_sha256), "): a signature made here covers the same bytes as the signatures taken over.")
      : h("p", {}, "This desktop's record is NOT the published one: the run here differs from the one the earlier signers signed. Sync the run again before signing; a signature made now would cover a different record."),
    rejected ? h("p", {}, "Refused items are recorded in the audit trail; nothing of them was taken over.") : null,
    itemsTable(r.items),
  );
}

export function handoffPanel(ctx, run, onDone) {
  const location = h("input", { type: "text", id: "handoff-location", value: connectionLocation(ctx), placeholder: "s3://bucket/prefix", autocomplete: "off", spellcheck: "false" });
  const days = h("input", { type: "number", id: "handoff-days", min: "1", step: "1", inputmode: "numeric", placeholder: "none" });
  const aws = awsFields("handoff", ctx);
  const publish = h("button", { type: "button", id: "handoff-publish" }, "Publish sign-off");
  const take = h("button", { type: "button", id: "handoff-fetch" }, "Take over published sign-off");
  const result = h("div", { id: "handoff-result" });
  const fields = { location, days, ...aws.fields };
  const act = async (button, busy, call, view) => {
    publish.disabled = take.disabled = true;
    mount(result, h("p", { class: "loading" }, busy));
    try {
      mount(result, view(await call()));
      onDone();
    } catch (err) {
      showError(result, err, fields);
    } finally {
      publish.disabled = take.disabled = false;
    }
  };
  publish.addEventListener("click", () => act(publish, "Publishing…", () => api.publishSignoff({ run, location: location.value, objectLockDays: days.value.trim() ? Number(days.value) : null }, aws.value()), published));
  take.addEventListener("click", () => act(take, "Reading and checking the published sign-off…", () => api.fetchSignoff({ run, location: location.value }, aws.value()), fetched));
  return h(
    "div",
    { class: "panel", id: "handoff-panel" },
    h("h2", {}, "Hand-off to the next signer"),
    h("p", { class: "muted" }, "Publish after signing so the next signer's desktop can take the signatures over; take over before signing to countersign what was published."),
    h("form", { novalidate: true, onsubmit: (e) => e.preventDefault() }, h("div", { class: "grid-form" }, h("label", { class: "wide" }, "Location", location), h("label", {}, "Object Lock (days)", days), aws.el), h("div", { class: "actions" }, publish, take)),
    result,
  );
}
