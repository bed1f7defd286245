// Sync from S3, or import a folder or .zip, with a progress bar and a Cancel button; used by
// Connect and Runs. Both take objects into the store one by one, each whole or not at all, so a
// cancelled sync or import loses nothing.
import * as api from "./api.js";
import { formatBytes, h, mount, shownText } from "./dom.js";
import { errorBox, showError } from "./errors.js";

/**
 * Runs a sync for `form`, drawing progress into `container`, then its report. Resolves with the
 * FetchReport, or null when it failed (the reason is left on screen, at its field when `fields`
 * has it). With `onContinue`, the report ends with a button that calls it: the report is read
 * before the app moves on.
 */
export const runSync = (form, container, opts = {}) => run((onProgress) => api.fetchRuns(form, onProgress), container, "sync", opts);

/** Imports the folder or .zip at `path` the same way; resolves with the ImportReport or null. */
export const runImport = (path, container, opts = {}) => run((onProgress) => api.importRuns({ path }, onProgress), container, "import", opts);

async function run(start, container, what, { fields = {}, onContinue = null } = {}) {
  const bar = h("progress", { max: "1", value: "0", "aria-label": `${what} progress` });
  const counts = h("div", { class: "progress-text", "aria-live": "polite" }, what === "sync" ? "Listing objects…" : "Listing files…");
  const current = h("div", { class: "progress-text mono" });
  const cancel = h("button", { type: "button", id: "sync-cancel" }, `Cancel ${what}`);
  cancel.addEventListener("click", async () => {
    cancel.disabled = true;
    cancel.textContent = "Cancelling…";
    try {
      await api.cancelFetch();
    } catch (err) {
      mount(counts, errorBox(err));
    }
  });
  mount(container, h("div", { class: "progress panel", id: "sync-progress" }, bar, counts, current, h("div", { class: "actions" }, cancel)));

  const onProgress = (p) => {
    if (p.total > 0) {
      bar.max = String(p.total);
      bar.value = String(p.done);
    }
    mount(
      counts,
      h("span", {}, `${p.done} of ${p.total || p.listed} objects`),
      h("span", {}, `${p.new} new`),
      h("span", {}, `${p.unchanged} unchanged`),
      p.rejected ? h("span", { class: "t-errored" }, `${p.rejected} rejected`) : null,
      p.failed ? h("span", { class: "t-failed" }, `${p.failed} failed`) : null,
      h("span", {}, formatBytes(p.bytes)),
    );
    current.textContent = shownText(p.current_key ?? "");
  };

  try {
    const report = await start(onProgress);
    const box = reportBox(report);
    if (onContinue && !report.cancelled) {
      const next = h("button", { type: "button", class: "primary", id: "sync-continue", onclick: onContinue }, "Continue to Runs");
      box.append(h("div", { class: "actions" }, next));
      mount(container, box);
      next.focus();
    } else {
      mount(container, box);
    }
    return report;
  } catch (raw) {
    // Cancelled shows as a calm notice, an error about a field at that field, anything else
    // by its kind (see errors.js).
    showError(container, raw, fields);
    return null;
  }
}

const plural = (n, one, many) => `${n.toLocaleString("en")} ${n === 1 ? one : many}`;

/** What a sync or import did: new, unchanged, rejected and failed, the rejected ones named. */
function reportBox(report) {
  const rejected = report.rejected ?? [];
  const failed = report.failed ?? [];
  const skipped = report.skipped ?? [];
  const source = report.source ? report.source : `s3://${report.bucket}/${report.prefix ?? ""}`;
  const done = report.source ? (report.cancelled ? "Import cancelled" : "Import finished") : report.cancelled ? "Sync cancelled" : "Sync finished";
  const trouble = rejected.length + failed.length > 0;
  const list = (id, title, items, line) =>
    items.length
      ? h("section", { class: "report-list", id }, h("h3", {}, title), h("ul", {}, items.map((x) => h("li", {}, line(x)))))
      : null;
  return h(
    "div",
    { class: `panel sync-report${trouble ? " sync-report--trouble" : ""}`, id: "sync-report", role: "status", "data-rejected": String(rejected.length), "data-failed": String(failed.length) },
    h("h2", {}, `${done}: `, h("span", { class: "mono" }, source)),
    report.identity ? h("p", { class: "muted" }, `Read as ${report.identity}`) : null,
    h(
      "dl",
      { class: "report-counts" },
      h("div", {}, h("dt", {}, "New"), h("dd", { id: "sync-new" }, plural(report.new, "object", "objects"))),
      h("div", {}, h("dt", {}, "Unchanged"), h("dd", { id: "sync-unchanged" }, plural(report.unchanged, "object", "objects"))),
      h("div", { class: rejected.length ? "t-failed" : null }, h("dt", {}, "Rejected"), h("dd", { id: "sync-rejected" }, plural(rejected.length, "object", "objects"))),
      h("div", { class: failed.length ? "t-failed" : null }, h("dt", {}, "Failed"), h("dd", { id: "sync-failed" }, plural(failed.length, "object", "objects"))),
      h("div", {}, h("dt", {}, "Downloaded"), h("dd", {}, formatBytes(report.bytes))),
    ),
    list("sync-rejected-list", "Rejected: not taken into the store", rejected, (r) => [h("span", { class: "mono" }, r.uri), ` — ${r.reason}`]),
    list("sync-failed-list", "Failed: try the sync again", failed, (f) => [h("span", { class: "mono" }, f.uri), ` — ${f.error}`]),
    skipped.length
      ? h("details", {}, h("summary", {}, `${plural(skipped.length, "object", "objects")} outside the layout, skipped`), h("ul", {}, skipped.map((x) => h("li", {}, h("span", { class: "mono" }, x.key), ` — ${x.reason}`))))
      : null,
    trouble ? h("p", {}, "Rejected objects never enter the store and are recorded in the audit trail; ask the team that ran the tests about them before relying on those runs.") : null,
  );
}
