// Packages: assemble a validation package from chosen runs and save it (then open the PDF or
// show it in its folder); publish a final one to S3 under Object Lock; open and verify any
// package file (PDF, bundle folder or .zip, on this desktop or published to S3) with a report
// of every check.
//
// Files are named by a path field; Browse and Save as fill it from the desktop's own file
// chooser (see files.js and ARCHITECTURE.md, "Files in the app").
import * as api from "../api.js";
import { awsFields, connectionLocation, connectionOf } from "../aws-fields.js";
import { formatBytes, formatTime, h, mount, pathRow, reasonField } from "../dom.js";
import { errorBox, showError } from "../errors.js";
import { chooserButton, openButtons } from "../files.js";
import { keyOptions, liveStamp, refusalBox, secretsForm } from "../signing.js";
import { STATE_WORDS } from "./runs.js";

const today = () => new Date().toISOString().slice(0, 10);

function field(label, id, value, attrs = {}, chooser = null) {
  const input = h("input", { type: "text", id, value: value ?? "", autocomplete: "off", spellcheck: "false", ...attrs });
  return h("label", { class: "wide" }, label, chooser ? pathRow(input, chooserButton(input, chooser)) : input);
}

/** A busy line shown while a long operation runs on the app's worker threads. */
function busy(text) {
  return h("div", { class: "panel progress", role: "status" }, h("progress", { "aria-label": text }), h("div", { class: "progress-text" }, text));
}

function builtBox(b) {
  return h(
    "div",
    { class: "panel", id: "package-built", role: "status" },
    h("strong", {}, `Package ${b.package_id} saved`),
    h(
      "dl",
      { class: "kv" },
      h("dt", {}, "PDF"),
      h("dd", { class: "mono", id: "package-built-pdf" }, b.pdf),
      h("dt", {}, "PDF SHA-256"),
      h("dd", { class: "mono" }, b.pdf_sha256),
      h("dt", {}, "Manifest SHA-256"),
      h("dd", { class: "mono" }, b.manifest_sha256),
      h("dt", {}, "Size"),
      h("dd", {}, formatBytes(b.pdf_size)),
      b.bundle ? [h("dt", {}, "Bundle"), h("dd", { class: "mono" }, b.bundle)] : null,
      h("dt", {}, "Contents"),
      h("dd", {}, `${b.runs.length} run(s), ${b.files} files, ${b.signatures} signature(s), ${b.embedded} embedded`),
      h("dt", {}, "Sign-off"),
      h("dd", {}, b.status),
    ),
    b.demo ? h("p", { class: "error error--warn" }, "Marked DEMO — NOT FOR GxP USE (built from demo data).") : null,
    openButtons(b.pdf, { idPrefix: "package" }),
  );
}

const STATE_LABEL = { passed: "passed", failed: "FAILED", skipped: "not applicable" };

function checkRow(c) {
  return h(
    "tr",
    { "data-check": c.id, "data-state": c.state },
    h("td", {}, h("span", { class: `badge badge--${c.state === "passed" ? "verified" : c.state === "failed" ? "failed" : "skipped"}` }, STATE_LABEL[c.state] ?? c.state)),
    h("td", {}, h("b", {}, c.title), h("div", { class: "muted mono" }, c.id)),
    h("td", {}, c.detail, c.problems.length ? h("ul", { class: "problems" }, c.problems.map((p) => h("li", {}, p))) : null),
  );
}

function signatureRows(sigs) {
  if (!sigs.length) return h("p", { class: "muted" }, "No signatures in this part.");
  return h(
    "table",
    { class: "grid" },
    h("thead", {}, h("tr", {}, ["Run", "Meaning", "Signer", "Signed (UTC)", "Offset", "Outcome"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      sigs.map((s) =>
        h(
          "tr",
          {},
          h("td", { class: "mono" }, s.run),
          h("td", {}, s.meaning ?? "—"),
          h("td", {}, s.printed_name ?? "—"),
          h("td", {}, formatTime(s.signed_at)),
          h("td", {}, s.utc_offset ?? "—"),
          h("td", {}, h("span", { class: `badge badge--${s.outcome === "valid" ? "verified" : "failed"}` }, s.outcome)),
        ),
      ),
    ),
  );
}

/**
 * Each run's state as the package's verified signatures establish it: what a reader holds
 * against what the pages print (a cover can be edited; the signatures cannot).
 */
function provenRuns(runs) {
  if (!runs.length) return null;
  const approved = runs.filter((r) => r.state === "approved").length;
  return h(
    "div",
    { id: "verify-runs", "data-approved": String(approved), "data-runs": String(runs.length) },
    h("p", {}, `What the signatures establish: ${approved} of ${runs.length} run${runs.length === 1 ? "" : "s"} approved. Trust this over what the pages print.`),
    h(
      "ul",
      {},
      runs.map((r) => h("li", { "data-run": r.run, "data-state": r.state }, h("span", { class: "mono" }, r.run), `: ${STATE_WORDS[r.state] ?? r.state} (result: ${r.status})`)),
    ),
  );
}

/**
 * The package's own approvals (signatures on the PDF itself, each covering every byte of the
 * file up to its approval page), and those the home recorded that this file lacks.
 */
function packageApprovals(v) {
  const approvals = v.approvals ?? [];
  const later = v.later_approvals ?? [];
  const state = v.package_state ?? "draft";
  return h(
    "div",
    { id: "verify-approvals", "data-package-state": state, "data-approvals": String(approvals.length) },
    h("p", {}, approvals.length ? `Package approvals (each signs every byte of the file up to its approval page): the package is ${PACKAGE_STATE_WORDS[state]}.` : "Package approvals: none. This package is a draft: nobody has signed the package itself."),
    approvals.length
      ? h(
          "ol",
          {},
          approvals.map((a) =>
            h("li", { "data-meaning": a.meaning ?? "", "data-outcome": a.outcome }, `${a.meaning ?? "?"} by ${a.printed_name ?? "?"} (${a.iam_arn ?? "?"}) at ${formatTime(a.signed_at)} (UTC${a.utc_offset ?? "?"}): ${a.outcome === "valid" ? "signature valid" : a.outcome}. Reason: ${a.reason ?? "—"}`),
          ),
        )
      : null,
    later.length
      ? h("div", { class: "error error--integrity", id: "verify-later-approvals" }, h("p", {}, `This home recorded ${later.length} approval${later.length === 1 ? "" : "s"} of this package that this file does not carry: it is an earlier revision of the signed file, and verifies only as that.`), h("ul", {}, later.map((l) => h("li", {}, l))))
      : null,
  );
}

/** Where a package was read from S3, with S3's own word on its retention (not proven by the package). */
function sourceLine(s) {
  const held = s.retention_mode
    ? `S3 reports Object Lock ${s.retention_mode} retention until ${s.retain_until}.`
    : "S3 reports no Object Lock retention: this object can be deleted or overwritten.";
  return h("p", { id: "verify-source", "data-mode": s.retention_mode || "none" }, `Read from ${s.uri}${s.version_id ? ` (version ${s.version_id})` : ""}. ${held}`);
}

/** A published package: where, each object, and until when nobody can delete it. */
function publishedBox(r) {
  return h(
    "div",
    { class: "panel verdict verdict--ok", id: "package-published", role: "status" },
    h("strong", { class: "error-title" }, `✓ Package ${r.package_id} published to ${r.location}`),
    h("p", {}, `Every run approved by verified signatures (${r.runs.length} of ${r.runs.length}). Retained under Object Lock COMPLIANCE until ${r.retain_until} at the earliest: nobody can delete or overwrite it before then.`),
    h(
      "table",
      { class: "grid", id: "package-published-objects" },
      h("thead", {}, h("tr", {}, ["Object", "SHA-256", "Status", "Retained until"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        r.objects.map((o) =>
          h(
            "tr",
            { "data-status": o.status },
            h("td", { class: "mono wrap-any" }, o.uri),
            h("td", { class: "mono wrap-any" }, o.sha256),
            h("td", {}, o.status === "written" ? "written now" : "already there"),
            h("td", {}, o.retain_until),
          ),
        ),
      ),
    ),
  );
}

/** The verification report: a verdict, then each part with every check and signature. */
export function verificationReport(v) {
  const parts = v.reports.map(([part, r]) =>
    h(
      "section",
      { class: "panel report-part", "data-part": part },
      h("div", { class: "run-title" }, h("h3", {}, part), h("span", { class: `badge badge--${r.verified ? "verified" : "failed"}` }, r.verified ? "all checks passed" : "NOT VERIFIED")),
      h("p", { class: "muted mono" }, `form ${r.form} · ${DOCUMENT[r.document]?.noun ?? "package"} ${r.package_id ?? "(no readable manifest)"} · manifest SHA-256 ${r.manifest_sha256 ?? "—"}`),
      h("table", { class: "grid checks" }, h("thead", {}, h("tr", {}, ["Result", "Check", "What was found"].map((c) => h("th", { scope: "col" }, c)))), h("tbody", {}, r.checks.map(checkRow))),
      h("h3", {}, "Signatures"),
      signatureRows(r.signatures),
    ),
  );
  const limits = v.limits ?? [];
  const limited = v.verified && limits.length > 0;
  const doc = DOCUMENT[v.reports[0]?.[1]?.document] ?? DOCUMENT.validation_package;
  const verdictClass = !v.verified ? "error error--integrity" : limited ? "panel verdict verdict--limited" : "panel verdict verdict--ok";
  const isPackage = (v.reports[0]?.[1]?.document ?? "validation_package") === "validation_package";
  const approver = (v.approvals ?? []).filter((a) => a.meaning === "Approved").pop();
  const packageWords = v.package_state === "approved" && approver ? `approved by ${approver.printed_name}` : PACKAGE_STATE_WORDS[v.package_state ?? "draft"];
  const verdictTitle = !v.verified
    ? `⚠ ${doc.title} NOT verified`
    : isPackage
      ? `✓ Intact: ${packageWords}${limited ? ", with limits (read them below)" : ""}`
      : limited
        ? "✓ Intact, with limits (read them below)"
        : `✓ ${doc.title} verified`;
  return h(
    "div",
    { id: "verify-report", "data-verified": v.verified ? "true" : "false", "data-limits": limits.join(" ") },
    h(
      "div",
      { class: verdictClass, role: "status" },
      h("strong", { class: "error-title" }, verdictTitle),
      h("p", { class: "mono" }, v.path),
      h("p", { class: "mono muted" }, `SHA-256 ${v.sha256}`),
      v.source ? sourceLine(v.source) : null,
      v.verified ? null : h("p", {}, `Do not rely on this ${doc.noun}: at least one check failed (see below).`),
      isPackage ? packageApprovals(v) : null,
      provenRuns(v.runs ?? []),
      limited
        ? h(
            "div",
            { id: "verify-limits" },
            h("p", {}, `${doc.intact} What this does not prove:`),
            h("ul", {}, limits.map((l) => h("li", {}, LIMIT_WORDS[l] ?? l))),
          )
        : null,
    ),
    parts,
  );
}

/** The kinds of document `verify` reads (core `DocumentKind`), in the window's words. */
const DOCUMENT = Object.freeze({
  validation_package: { title: "Package", noun: "package", intact: "The evidence and the signed run records check out." },
  periodic_review_report: { title: "Periodic review report", noun: "periodic review report", intact: "The signed findings, the review signatures and the impact assessments they count check out." },
});

/** A package's state as its own approvals establish it (core `PackageState`). */
const PACKAGE_STATE_WORDS = Object.freeze({
  draft: "a draft, not approved",
  reviewed: "reviewed, not yet approved",
  approved: "approved",
});

/** What a verified package does not prove, in the window's words (core `Limit`). */
const LIMIT_WORDS = Object.freeze({
  package_not_approved:
    "Approval of the package: nobody has signed this package itself as Approved. It is a draft (or only reviewed), whatever its runs' signatures establish.",
  keys_not_checked:
    "Who signed: the signatures were checked with the public keys inside the package, not against keys you trust. Anyone can make a key with any name. Choose your trusted public keys file above to check them.",
  document_not_signed:
    "The pages you read: the signatures cover each run's record (evidence and dispositions). The PDF's pages, the results tables and the manifest are checked against each other, but no signature covers them.",
  validation_pages_not_signed:
    "The pages you read: the signatures cover each run's record, its evidence, dispositions and results tables. The PDF's pages and the manifest are checked against them, but no signature covers the pages themselves.",
  pages_not_signed:
    "The pages you read: the review signatures cover the findings embedded in the report. The pages are rendered from them and checked against the manifest, but no signature covers the pages themselves.",
});

/** The packages this home built, with the approvals and publications it recorded. */
function packageTable(slot) {
  // The home's record, not a verification: no state here gets the colour of a verified one.
  const badge = { draft: "incomplete", reviewed: "recorded", approved: "recorded" };
  api.listPackages().then(
    (packages) =>
      mount(
        slot,
        packages.length
          ? [
              h(
                "table",
                { class: "grid", id: "package-list" },
                h("thead", {}, h("tr", {}, ["Package", "Built", "Runs", "Status (as recorded here)", "Published"].map((c) => h("th", { scope: "col" }, c)))),
                h(
                  "tbody",
                  {},
                  packages.map((p) => {
                    const approver = p.approvals.filter((a) => a.meaning === "Approved").pop();
                    const words = p.state === "approved" && approver ? `approved by ${approver.printed_name}, ${formatTime(approver.signed_at)}` : PACKAGE_STATE_WORDS[p.state] ?? p.state;
                    return h(
                      "tr",
                      { "data-package": p.package_id, "data-state": p.state },
                      h("td", { class: "mono" }, p.package_id, h("div", { class: "muted" }, p.file_name)),
                      h("td", {}, formatTime(p.built_at)),
                      h("td", {}, p.runs.map((r) => h("div", { class: "mono" }, r))),
                      h("td", {}, h("span", { class: `badge badge--${badge[p.state] ?? "incomplete"}` }, p.state), " ", words),
                      h("td", { class: "mono wrap-any" }, p.published.length ? p.published.join(" ") : "—"),
                    );
                  }),
                ),
              ),
              h("p", { class: "muted" }, "The status is what this home recorded. Only verifying the file (below) proves what a package carries."),
            ]
          : h("p", { class: "muted", id: "package-list-empty" }, "No package built in this home yet."),
      ),
    (err) => mount(slot, errorBox(err)),
  );
}

/** The signed file's default name: the package's, with what the signature makes it. */
function signedName(pdf, meaning) {
  const base = pdf.replace(/(-reviewed|-approved)?\.pdf$/i, "");
  return pdf ? `${base}-${meaning.toLowerCase()}.pdf` : "";
}

/**
 * Signing the package itself: the PDF, where the signed copy goes, Reviewed or Approved, the
 * reason and the key; then exactly what will be signed; then the signature components.
 * `signed(r)` gets the result (the signed PDF goes on to be verified or published).
 */
function signPanel(ctx, pdfFilter, signed) {
  const pdf = field("Package PDF to sign", "package-sign-pdf", "", {}, { mode: "open", label: "Browse…", title: "Choose the package PDF to sign", filters: pdfFilter });
  const out = field("Save the signed package as (a new file)", "package-sign-out", "", {}, { mode: "save", label: "Save as…", title: "Save the signed package PDF as", filters: pdfFilter });
  const meaning = h("select", { id: "package-sign-meaning" }, h("option", { value: "Reviewed" }, "Reviewed: I reviewed this package"), h("option", { value: "Approved" }, "Approved: I approve this package"));
  const [reason, reasonCount] = reasonField("package-sign-reason", "What you read and why you sign (printed on the approval page and inside the signature)");
  const keySelect = h("select", { id: "package-sign-key" });
  api.listKeys().then(
    (keys) => mount(keySelect, keyOptions(keys, null)),
    (err) => mount(planSlot, errorBox(err)),
  );
  const pdfInput = pdf.querySelector("input");
  const outInput = out.querySelector("input");
  let outTouched = false;
  const suggest = () => {
    if (!outTouched) outInput.value = signedName(pdfInput.value, meaning.value);
  };
  outInput.addEventListener("input", () => (outTouched = true));
  pdfInput.addEventListener("change", suggest);
  meaning.addEventListener("change", suggest);
  const checkButton = h("button", { type: "submit", class: "primary", id: "package-sign-check" }, "Review what will be signed");
  const planSlot = h("div", { id: "package-sign-plan" });
  const resultSlot = h("div", { id: "package-sign-result", "aria-live": "polite" });
  const request = () => ({ pdf: pdfInput.value, out: outInput.value, meaning: meaning.value, reason: reason.value, keyId: keySelect.value });
  const fields = { path: pdfInput, out: outInput, reason, key: keySelect };
  let plan = null;
  const form = h(
    "form",
    { class: "panel", id: "package-sign-form", novalidate: true },
    h("h2", {}, "Sign the package"),
    h(
      "p",
      { class: "muted" },
      "Once every run is approved, a reviewer signs the package as Reviewed and another person as Approved. The signature covers every byte of the PDF with an approval page added that shows your name, the meaning, your reason and the time; the signed PDF is saved as a new file, the one you chose stays as it is.",
    ),
    h("div", { class: "grid-form" }, pdf, out, h("label", {}, "Meaning", meaning), h("label", {}, "Signer key", keySelect), h("label", { class: "wide" }, "Reason", reason, reasonCount)),
    h("div", { class: "actions" }, checkButton),
  );
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
      plan = await api.packageSignCheck(req);
      mount(planSlot, planView(plan, req));
    } catch (err) {
      plan = null;
      showError(planSlot, err, fields, (x) => refusalBox(x, "package-sign-refusal"));
    } finally {
      checkButton.disabled = false;
    }
  });
  function planView(p, req) {
    const secrets = secretsForm({
      plan: p,
      conn: connectionOf(ctx),
      prefix: "package-sign",
      title: "Your signature components",
      label: `Sign the package as ${req.meaning}`,
      submit: async (aws, components, secretFields) => {
        if (!plan) return;
        try {
          const r = await api.packageSign(req, aws, components);
          plan = null;
          mount(planSlot);
          mount(
            resultSlot,
            h(
              "div",
              { class: "panel verdict verdict--ok", id: "package-signed", role: "status", "data-state": r.state },
              h("strong", { class: "error-title" }, `✓ Package ${r.package_id} signed as ${r.meaning} by ${r.printed_name}: it is now ${PACKAGE_STATE_WORDS[r.state] ?? r.state}`),
              h("p", {}, `${formatTime(r.signed_at)} (UTC${r.utc_offset}). Saved as `, h("span", { class: "mono wrap-any" }, r.out)),
              h("p", { class: "muted" }, "SHA-256 ", h("span", { class: "mono wrap-any" }, r.sha256)),
              r.clock_warning ? h("p", { class: "error error--warn" }, r.clock_warning) : null,
              openButtons(r.out, { idPrefix: "package-signed" }),
            ),
          );
          signed(r);
        } catch (err) {
          showError(resultSlot, err, { ...fields, ...secretFields }, (x) => refusalBox(x, "package-sign-refusal"));
        }
      },
    });
    return [
      h(
        "div",
        { class: "panel what", id: "package-sign-what" },
        h("h3", {}, "Exactly this will be signed"),
        h(
          "dl",
          { class: "kv" },
          h("dt", {}, "Package"),
          h("dd", { class: "mono" }, p.package_id),
          h("dt", {}, "What the signature covers"),
          h("dd", { id: "package-sign-covers" }, p.covers),
          h("dt", {}, "Meaning"),
          h("dd", {}, h("b", {}, req.meaning)),
          h("dt", {}, "Reason"),
          h("dd", { class: "prewrap" }, req.reason.trim()),
          h("dt", {}, "Printed name"),
          h("dd", {}, p.printed_name),
          h("dt", {}, "IAM identity"),
          h("dd", { class: "mono wrap-any" }, p.iam_arn),
          h("dt", {}, "Key"),
          h("dd", { class: "mono" }, p.key_id),
          h("dt", {}, "Signing policy"),
          h("dd", {}, `version ${p.policy_version} (${p.policy_source})`),
          h("dt", {}, "Date and time"),
          liveStamp("package-sign-time"),
        ),
      ),
      secrets,
    ];
  }
  const section = h("section", { id: "package-sign" }, form, planSlot, resultSlot);
  section.setPdf = (path) => {
    pdfInput.value = path;
    suggest();
  };
  return section;
}

export function render(ctx, params) {
  const dir = ctx.info.export_dir;
  const runList = h("div", { class: "checklist", id: "package-runs", role: "group", "aria-label": "Runs to package" }, h("p", { class: "loading" }, "Loading runs…"));
  const pdfFilter = [{ name: "PDF", extensions: ["pdf"] }];
  const out = field("Save the package PDF as", "package-out", `${dir}/countersign-package-${today()}.pdf`, {}, { mode: "save", label: "Save as…", title: "Save the package PDF as", filters: pdfFilter });
  const bundle = field("Also save the bundle (optional: a new folder, or a path ending in .zip)", "package-bundle", "", { placeholder: "leave empty for the PDF alone" }, { mode: "save", label: "Save as…", title: "Save the bundle as (a new folder, or a name ending in .zip)" });
  const title = field("Title (optional)", "package-title", "", { placeholder: "default: <systems> qualification package" });
  const buildStatus = h("div", { id: "package-status" });
  const build = h("button", { type: "submit", class: "primary", id: "package-build" }, "Build package");

  const pubPdf = field("Package PDF", "publish-pdf", "", {}, { mode: "open", label: "Browse…", title: "Choose the package PDF to publish", filters: pdfFilter });
  const pubBundle = field("Its bundle .zip (optional)", "publish-bundle", "", { placeholder: "leave empty to publish the PDF alone" }, { mode: "open", label: "Browse…", title: "Choose the package's bundle .zip", filters: [{ name: "Bundle", extensions: ["zip"] }] });
  const pubLocation = h("input", { type: "text", id: "publish-location", value: connectionLocation(ctx), placeholder: "s3://bucket/prefix", autocomplete: "off", spellcheck: "false" });
  const pubDays = h("input", { type: "number", id: "publish-days", min: "1", step: "1", inputmode: "numeric", required: true });
  const pubAws = awsFields("publish", ctx);
  const pubStatus = h("div", { id: "publish-status" });
  const pubGo = h("button", { type: "submit", class: "primary", id: "publish-go" }, "Publish");

  const verifyPath = field("Package file (PDF, bundle folder or .zip), or a published one: s3://BUCKET/KEY", "verify-path", params.verify ?? "", {}, { mode: "open", label: "Browse…", title: "Choose the package PDF or bundle .zip to verify", filters: [{ name: "Package", extensions: ["pdf", "zip"] }] });
  const trusted = field("Trusted public keys file (optional)", "verify-trusted", "", { placeholder: "PEM, hex or JSON keys, as Keys → Export saves them" }, { mode: "open", label: "Browse…", title: "Choose the trusted public keys file" });
  const verifyAws = awsFields("verify", ctx);
  const verifyStatus = h("div", { id: "verify-status" });
  const verify = h("button", { type: "submit", class: "primary", id: "verify-go" }, "Verify");

  const listSlot = h("div", { id: "package-list-slot" }, h("p", { class: "loading" }, "Loading packages…"));
  const refreshList = () => packageTable(listSlot);
  refreshList();

  const chosen = new Set(params.runs ?? []);
  api.listRuns().then(
    (runs) => {
      mount(
        runList,
        runs.length
          ? runs.map((r) =>
              h(
                "label",
                { class: "check" },
                h("input", {
                  type: "checkbox",
                  value: r.id,
                  "data-run": r.id,
                  checked: chosen.has(r.id),
                  onchange: (e) => (e.target.checked ? chosen.add(r.id) : chosen.delete(r.id)),
                }),
                h("span", { class: "mono" }, r.id),
                h("span", { class: `badge badge--${r.status}` }, r.status),
                h("span", { class: "muted" }, formatTime(r.executed_at)),
              ),
            )
          : h("p", { class: "muted" }, "No runs in the store yet."),
      );
    },
    (err) => mount(runList, errorBox(err)),
  );

  const assemble = h(
    "form",
    { class: "panel", id: "package-form", novalidate: true },
    h("h2", {}, "Assemble a package"),
    h("p", { class: "muted" }, "The PDF carries the machine-readable record (manifest, run records, signatures, public keys, policy, audit-trail excerpt). Existing files are never overwritten."),
    runList,
    h("div", { class: "grid-form" }, out, bundle, title),
    h("div", { class: "actions" }, build),
    buildStatus,
  );
  assemble.addEventListener("submit", async (event) => {
    event.preventDefault();
    build.disabled = true;
    const bar = h("progress", { max: "1", value: "0", "aria-label": "Package progress" });
    const step = h("div", { class: "progress-text", "aria-live": "polite" }, "Building the package: every stored file is re-read and re-hashed…");
    const cancel = h("button", { type: "button", id: "package-cancel" }, "Cancel");
    cancel.addEventListener("click", async () => {
      cancel.disabled = true;
      cancel.textContent = "Cancelling…";
      await api.cancelPackage().catch(() => {});
    });
    mount(buildStatus, h("div", { class: "panel progress", role: "status", id: "package-progress" }, bar, step, h("div", { class: "actions" }, cancel)));
    const onProgress = (p) => {
      bar.max = String(p.steps);
      bar.value = String(p.step);
      step.textContent = `Step ${p.step} of ${p.steps}: ${p.what}${p.run ? ` — ${p.run}` : ""}`;
    };
    try {
      const built = await api.buildPackage(
        {
          runs: [...chosen],
          out: out.querySelector("input").value,
          bundle: bundle.querySelector("input").value,
          title: title.querySelector("input").value,
        },
        onProgress,
      );
      mount(buildStatus, builtBox(built));
      refreshList();
      verifyPath.querySelector("input").value = built.pdf;
      pubPdf.querySelector("input").value = built.pdf;
      signForm.setPdf(built.pdf);
      pubBundle.querySelector("input").value = built.bundle && /\.zip$/i.test(built.bundle) ? built.bundle : "";
    } catch (err) {
      showError(buildStatus, err, { out: out.querySelector("input"), bundle: bundle.querySelector("input") });
    } finally {
      build.disabled = false;
    }
  });

  const signForm = signPanel(ctx, pdfFilter, (r) => {
    refreshList();
    verifyPath.querySelector("input").value = r.out;
    pubPdf.querySelector("input").value = r.out;
    signForm.setPdf(r.out);
  });

  const publishForm = h(
    "form",
    { class: "panel", id: "publish-form", novalidate: true },
    h("h2", {}, "Publish a final package"),
    h(
      "p",
      { class: "muted" },
      "Writes the PDF (and its bundle .zip) once to S3, under Object Lock COMPLIANCE retention: nobody can delete or overwrite it until the retention ends. Only a package that verifies, is exactly as this desktop built it, whose every run is approved by verified signatures, and which is itself signed Reviewed and then Approved (above) is published. The publication is recorded in the audit trail.",
    ),
    h("div", { class: "grid-form" }, pubPdf, pubBundle, h("label", { class: "wide" }, "Location", pubLocation), h("label", {}, "Retention (days)", pubDays), pubAws.el),
    h("div", { class: "actions" }, pubGo),
    pubStatus,
  );
  publishForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    pubGo.disabled = true;
    mount(pubStatus, busy("Verifying the package, then publishing…"));
    try {
      const days = pubDays.value.trim();
      const r = await api.publishPackage(
        { pdf: pubPdf.querySelector("input").value, bundle: pubBundle.querySelector("input").value, location: pubLocation.value, objectLockDays: days ? Number(days) : null },
        pubAws.value(),
      );
      mount(pubStatus, publishedBox(r));
      refreshList();
      verifyPath.querySelector("input").value = r.objects[0]?.uri ?? verifyPath.querySelector("input").value;
    } catch (err) {
      showError(pubStatus, err, { path: pubPdf.querySelector("input"), bundle: pubBundle.querySelector("input"), location: pubLocation, days: pubDays, ...pubAws.fields });
    } finally {
      pubGo.disabled = false;
    }
  });

  const check = h(
    "form",
    { class: "panel", id: "verify-form", novalidate: true },
    h("h2", {}, "Verify a package"),
    h("p", { class: "muted" }, "Reads the file, checks the manifest, every file digest, the records, keys, signatures, signing order and policy, and what the PDF shows. A published package (s3://…) is read with the AWS connection below; everything else is offline. The verification is recorded in the audit trail."),
    h("div", { class: "grid-form" }, verifyPath, trusted, verifyAws.el),
    h("div", { class: "actions" }, verify),
    verifyStatus,
  );
  check.addEventListener("submit", async (event) => {
    event.preventDefault();
    verify.disabled = true;
    mount(verifyStatus, busy("Verifying…"));
    try {
      const form = { path: verifyPath.querySelector("input").value, trustedKeys: trusted.querySelector("input").value };
      const v = form.path.trim().startsWith("s3://") ? await api.verifyPublishedPackage(form, verifyAws.value()) : await api.verifyPackage(form);
      mount(verifyStatus, verificationReport(v));
      verifyStatus.scrollIntoView({ block: "start" });
    } catch (err) {
      showError(verifyStatus, err, { path: verifyPath.querySelector("input"), trusted_keys: trusted.querySelector("input"), ...verifyAws.fields });
    } finally {
      verify.disabled = false;
    }
  });

  const el = h("section", { class: "packages", id: "packages-screen" }, h("div", { class: "toolbar" }, h("h1", {}, "Packages")), h("section", { class: "panel", id: "package-list-panel" }, h("h2", {}, "Packages built in this home"), listSlot), assemble, signForm, publishForm, check);
  return { el, title: "Packages", focus: null };
}
