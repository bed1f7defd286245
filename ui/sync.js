// Sync from S3, or import a folder or .zip, with a progress bar and a Cancel button; used by
// Connect and Runs. Both take objects into the store one by one, each whole or not at all, so a
// cancelled sync or import loses nothing.
import * as api from "./api.js";
import { formatBytes, h, mount, shownText } from "./dom.js";
import { errorBox, toAppError } from "./errors.js";

/**
 * Runs a sync for `form`, drawing progress into `container`. Resolves with the FetchReport,
 * or null when it failed (the reason is left on screen).
 */
export const runSync = (form, container) => run((onProgress) => api.fetchRuns(form, onProgress), container, "sync");

/** Imports the folder or .zip at `path` the same way; resolves with the ImportReport or null. */
export const runImport = (path, container) => run((onProgress) => api.importRuns({ path }, onProgress), container, "import");

async function run(start, container, what) {
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
      container.append(errorBox(err));
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
    mount(container, reportBox(report));
    return report;
  } catch (raw) {
    // Cancelled shows as a calm notice, everything else by its kind (see errors.js).
    mount(container, errorBox(toAppError(raw)));
    return null;
  }
}

function reportBox(report) {
  const problems = [
    ...(report.failed ?? []).map((f) => `failed   ${f.uri}: ${f.error}`),
    ...(report.rejected ?? []).map((r) => `rejected ${r.uri}: ${r.reason}`),
    ...(report.skipped ?? []).map((s) => `skipped  ${s.key}: ${s.reason}`),
  ];
  return h(
    "div",
    { class: "panel", id: "sync-report", role: "status" },
    h("strong", {}, report.source ? `${report.cancelled ? "Import cancelled" : "Imported"}: ${report.source}` : `${report.cancelled ? "Sync cancelled" : "Synced"}: s3://${report.bucket}/${report.prefix ?? ""}`),
    report.identity ? h("div", { class: "progress-text" }, `as ${report.identity}`) : null,
    h(
      "div",
      { class: "progress-text" },
      h("span", {}, `${report.listed} listed`),
      h("span", {}, `${report.new} new`),
      h("span", {}, `${report.unchanged} unchanged`),
      report.failed && report.failed.length ? h("span", { class: "t-failed" }, `${report.failed.length} failed`) : null,
      h("span", {}, formatBytes(report.bytes)),
    ),
    problems.length
      ? h("details", {}, h("summary", {}, `${problems.length} objects not taken into the store`), h("pre", {}, problems.join("\n")))
      : null,
  );
}
