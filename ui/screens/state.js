// Qualified state: for each system with approved runs, whether it stayed as qualified since the
// approval. The verdict, the baseline it rests on, a timeline of the period (what the validated
// CloudTrail digest chain covers, its gaps, each change), then every change with its field
// differences, who made it and its impact assessment. What the screen says is exactly what the
// service found from the stored evidence: without the trail's public key no period counts as
// covered, and it says so.
import * as api from "../api.js";
import { formatTime, h, mount, pathRow, reasonField } from "../dom.js";
import { errorBox, showError } from "../errors.js";
import { chooserButton, openButtons } from "../files.js";
import { keyOptions, liveStamp, refusalBox, secretsForm } from "../signing.js";

const VERDICT_CLASS = {
  in_qualified_state: "panel verdict verdict--ok",
  changed: "error error--integrity",
  not_demonstrable: "error error--warn",
};

const VERDICT_TITLE = {
  in_qualified_state: "✓ In qualified state",
  changed: "⚠ Changed since approval",
  not_demonstrable: "Not demonstrable: the evidence has a gap",
};

const KIND = { stack: "Stack", configuration: "Configuration", api_call: "API call", compliance: "Compliance" };
const IMPACT = { no_impact: "no impact", requalification_needed: "requalification needed" };

const ms = (t) => Date.parse(t);

/** Who made an event: the principal's ARN, else its type, else "unknown". */
function who(e) {
  return e.principal ?? e.principal_type ?? "unknown";
}

function eventLine(e) {
  return [
    h("span", { class: "mono wrap-any" }, who(e)),
    ` at ${formatTime(e.time)}: `,
    h("b", {}, e.event_name),
    ` (${e.event_source}) from ${e.source_ip ?? "an unknown address"}`,
    e.error_code ? `, failed: ${e.error_code}` : "",
    e.validated ? "" : " — its log file is not covered by a validated digest",
  ];
}

/**
 * The period as a band: covered periods, gaps and changes placed on one time axis from the
 * approval to the check. HTML boxes positioned with the style object (the CSP allows that),
 * with every mark also listed in words below it.
 */
function timeline(system, f, reviews) {
  const from = ms(f.period.from);
  const to = Math.max(ms(f.period.to), from + 1);
  const pct = (t) => `${(((Math.min(Math.max(ms(t), from), to) - from) / (to - from)) * 100).toFixed(2)}%`;
  const width = (a, b) => `${(((Math.min(ms(b), to) - Math.max(ms(a), from)) / (to - from)) * 100).toFixed(2)}%`;
  const band = h("div", { class: "timeline-band", "aria-hidden": "true" });
  for (const p of f.coverage.covered) {
    const seg = h("span", { class: "tl-covered", title: `covered ${formatTime(p.from)} – ${formatTime(p.to)}` });
    seg.style.left = pct(p.from);
    seg.style.width = width(p.from, p.to);
    band.append(seg);
  }
  for (const g of f.coverage.gaps) {
    const seg = h("span", { class: "tl-gap", title: `gap ${formatTime(g.from)} – ${formatTime(g.to)}: ${g.reason}` });
    seg.style.left = pct(g.from);
    seg.style.width = width(g.from, g.to);
    band.append(seg);
  }
  for (const c of f.changes.filter((c) => c.at)) {
    const mark = h("span", { class: `tl-change${c.assessment ? " tl-change--assessed" : ""}`, title: `${KIND[c.kind] ?? c.kind}: ${c.summary}` });
    mark.style.left = pct(c.at);
    band.append(mark);
  }
  for (const v of reviews) {
    const mark = h("span", { class: "tl-review", title: `periodic review of ${formatTime(v.period.from)} – ${formatTime(v.period.to)} by ${v.printed_name}` });
    mark.style.left = pct(v.signed_at);
    band.append(mark);
  }
  const gaps = f.coverage.gaps.length;
  const dated = f.changes.filter((c) => c.at).length;
  return h(
    "figure",
    { class: "timeline panel", id: `timeline-${system}` },
    h("figcaption", {}, `From the approval (${formatTime(f.period.from)}) to the check (${formatTime(f.period.to)}): covered by the validated CloudTrail digest chain in green, gaps in red, changes as marks, periodic reviews as dashed lines.`),
    band,
    h("div", { class: "timeline-axis" }, h("span", {}, formatTime(f.period.from)), h("span", {}, formatTime(f.period.to))),
    h(
      "p",
      { class: "muted" },
      `${f.coverage.covered.length} covered period${f.coverage.covered.length === 1 ? "" : "s"}, ${gaps} gap${gaps === 1 ? "" : "s"}, ${dated} dated change${dated === 1 ? "" : "s"}, ${reviews.length} periodic review${reviews.length === 1 ? "" : "s"}; covered until ${f.coverage.covered_until ? formatTime(f.coverage.covered_until) : "— (nothing covered)"}.`,
    ),
  );
}

function baselinePanel(f) {
  const b = f.baseline;
  const snap = b.snapshot;
  return h(
    "section",
    { class: "panel" },
    h("h3", {}, "Qualified baseline"),
    h(
      "ul",
      { class: "approvals" },
      b.approvals.map((a) => h("li", {}, h("b", {}, a.phase), " ", h("span", { class: "mono" }, a.run), ` approved by ${a.printed_name} (`, h("span", { class: "mono wrap-any" }, a.iam_arn), `) at ${formatTime(a.signed_at)}`)),
    ),
    snap
      ? h("p", {}, `Stack ${snap.stack_name} (${snap.region}) as approved: snapshot taken ${formatTime(snap.taken_at)}, ${snap.status}, template SHA-256 `, h("span", { class: "mono wrap-any" }, snap.template_sha256), `, ${snap.drift}.`)
      : h("p", { class: "muted" }, "No stack snapshot was recorded with the approved runs: only CloudTrail and AWS Config show changes."),
    f.current_stack.snapshot
      ? h("p", {}, `Compared with the stack snapshot taken ${formatTime(f.current_stack.snapshot.taken_at)} (${f.current_stack.snapshot.status}, ${f.current_stack.snapshot.drift}).`)
      : h("p", { class: "muted" }, "No newer stack snapshot to compare with: fetch again to take one."),
    f.current_stack.note ? h("p", { class: "muted" }, f.current_stack.note) : null,
  );
}

function changesPanel(system, f, assess) {
  if (!f.changes.length) return h("section", { class: "panel", id: `changes-${system}` }, h("h3", {}, "Changes since approval"), h("p", {}, "None found."));
  return h(
    "section",
    { class: "panel", id: `changes-${system}` },
    h("h3", {}, `Changes since approval (${f.changes.length})`),
    h(
      "table",
      { class: "grid changes" },
      h("thead", {}, h("tr", {}, ["When", "Kind", "What changed", "Who", "Assessment"].map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        {},
        f.changes.map((c) =>
          h(
            "tr",
            { "data-change": c.id, "data-kind": c.kind, "data-assessed": c.assessment ? "true" : "false" },
            h("td", {}, c.at ? formatTime(c.at) : "not dated"),
            h("td", {}, KIND[c.kind] ?? c.kind),
            h(
              "td",
              {},
              h("div", {}, c.summary),
              c.differences.length
                ? h(
                    "ul",
                    { class: "diffs" },
                    c.differences.map((d) => h("li", {}, h("span", { class: "mono" }, d.path), ": ", h("span", { class: "diff-before mono wrap-any" }, d.before ?? "(absent)"), " → ", h("span", { class: "diff-after mono wrap-any" }, d.after ?? "(absent)"))),
                  )
                : null,
            ),
            h("td", {}, c.events.length ? h("ul", { class: "events" }, c.events.map((e) => h("li", {}, eventLine(e)))) : h("span", { class: "muted" }, "no CloudTrail call found")),
            h(
              "td",
              {},
              c.assessment
                ? `${IMPACT[c.assessment.impact] ?? c.assessment.impact}, by ${c.assessment.printed_name} at ${formatTime(c.assessment.signed_at)}`
                : [h("span", { class: "badge badge--incomplete" }, "not assessed"), " ", h("button", { type: "button", class: "assess-open", "aria-label": `Assess the change: ${c.summary}`, onclick: () => assess(system, c) }, "Assess…")],
            ),
          ),
        ),
      ),
    ),
  );
}

function coveragePanel(system, f) {
  const cov = f.coverage;
  return h(
    "section",
    { class: "panel", id: `coverage-${system}` },
    h("h3", {}, "CloudTrail coverage"),
    h("p", {}, `${cov.digests_validated} digest file${cov.digests_validated === 1 ? "" : "s"} validated, ${cov.digests_not_validated} not.`),
    cov.gaps.length
      ? h("ul", { class: "gaps" }, cov.gaps.map((g) => h("li", { "data-gap": "true" }, h("b", {}, `${formatTime(g.from)} – ${formatTime(g.to)}`), `: ${g.reason}`)))
      : h("p", {}, "No gap in the period."),
    f.attempts.length ? [h("h3", {}, `Failed write calls (not changes): ${f.attempts.length}`), h("ul", { class: "events" }, f.attempts.map((e) => h("li", {}, eventLine(e))))] : null,
    f.notes.length ? h("ul", { class: "notes muted" }, f.notes.map((n) => h("li", {}, n))) : null,
  );
}

/** The periodic reviews signed for a system, each re-verified, with its report; and a new one. */
function reviewsPanel(system, reviews, actions) {
  return h(
    "section",
    { class: "panel", id: `reviews-${system}` },
    h("h3", {}, "Periodic reviews"),
    reviews.length
      ? h(
          "ul",
          { class: "reviews" },
          reviews.map((v) =>
            h(
              "li",
              { "data-review": v.outcome },
              h("b", {}, `${formatTime(v.period.from)} – ${formatTime(v.period.to)}`),
              `: reviewed by ${v.printed_name} at ${formatTime(v.signed_at)}`,
              v.verdict ? ` — ${v.verdict}` : "",
              v.outcome === "valid"
                ? [" ", h("button", { type: "button", class: "report-open", "aria-label": `Save the report of the review of ${formatTime(v.period.from)} – ${formatTime(v.period.to)}`, onclick: () => actions.report(system, v) }, "Save report…")]
                : [" ", h("span", { class: "badge badge--incomplete" }, `does not verify (${v.outcome})`)],
            ),
          ),
        )
      : h("p", { class: "muted" }, "No periodic review signed yet."),
    h("div", { class: "actions" }, h("button", { type: "button", id: `review-open-${system}`, onclick: () => actions.review(system) }, "Sign a periodic review…")),
  );
}

function systemPanel(s, actions, reviews) {
  const id = s.system;
  if (s.status === "not_qualified") {
    return h(
      "section",
      { class: "panel system-state", id: `state-${id}`, "data-verdict": "not_qualified" },
      h("h2", {}, id),
      h("p", {}, s.reason),
    );
  }
  const f = s.findings;
  const kind = f.verdict.kind;
  return h(
    "section",
    { class: "system-state", id: `state-${id}`, "data-verdict": kind },
    h("h2", {}, id),
    h("div", { class: VERDICT_CLASS[kind] ?? "panel", role: "status", id: `verdict-${id}` }, h("strong", { class: "error-title" }, VERDICT_TITLE[kind] ?? kind), h("p", {}, f.verdict.text)),
    timeline(id, f, reviews),
    baselinePanel(f),
    changesPanel(id, f, actions.assess),
    coveragePanel(id, f),
    reviewsPanel(id, reviews, actions),
  );
}

function report(r, actions) {
  return [
    r.public_keys.length
      ? null
      : h(
          "div",
          { class: "error error--warn", role: "status", id: "state-unchecked" },
          h("strong", { class: "error-title" }, "CloudTrail digests not validated: no public key chosen"),
          h("p", {}, "Without the trail's public key the digests' signatures cannot be checked, so no period counts as covered and no system can be shown in its qualified state. Choose the public key file and check again."),
        ),
    r.problems.length ? h("ul", { class: "findings panel", id: "state-problems" }, r.problems.map((p) => h("li", {}, h("span", { class: "mono wrap-any" }, p.uri), h("div", {}, `cannot use: ${p.message}`)))) : null,
    r.systems.length
      ? r.systems.map((s) =>
          systemPanel(
            s,
            actions,
            r.reviews.filter((v) => v.system === s.system),
          ),
        )
      : h("p", { class: "panel" }, "No runs in this home yet: sync or import runs first."),
  ];
}

/**
 * The impact assessment of one change: impact, reference, reason and key; then exactly what
 * will be signed, then the signature components. `done()` runs the check again.
 */
function assessPanel(system, change, conn, done) {
  const slot = h("section", { class: "panel", id: "assess-panel", tabindex: "-1" });
  const impact = h("select", { id: "assess-impact" }, h("option", { value: "no_impact" }, "No impact on the qualified state"), h("option", { value: "requalification_needed" }, "Requalification needed"));
  const reference = h("input", { type: "text", id: "assess-reference", placeholder: "change control id (optional)", autocomplete: "off", spellcheck: "false" });
  const [reason, reasonCount] = reasonField("assess-reason", "Why the change has this impact (recorded inside the signature)");
  const keySelect = h("select", { id: "assess-key" });
  api.listKeys().then(
    (keys) => mount(keySelect, keyOptions(keys, null)),
    (err) => mount(slot, errorBox(err)),
  );
  const checkButton = h("button", { type: "submit", class: "primary", id: "assess-check" }, "Review what will be signed");
  const planSlot = h("div", { id: "assess-plan" });
  const resultSlot = h("div", { id: "assess-result", "aria-live": "polite" });
  const request = () => ({ system, change: change.id, impact: impact.value, reference: reference.value, reason: reason.value, keyId: keySelect.value });
  let plan = null;
  const form = h(
    "form",
    { id: "assess-form", novalidate: true },
    h("div", { class: "grid-form" }, h("label", {}, "Impact", impact), h("label", {}, "Reference", reference), h("label", { class: "wide" }, "Reason", reason, reasonCount), h("label", { class: "wide" }, "Assessor key", keySelect)),
    h("div", { class: "actions" }, checkButton),
  );
  form.addEventListener("input", () => {
    if (plan) {
      plan = null;
      mount(planSlot, h("p", { class: "muted" }, "The assessment changed: review it again before signing."));
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    checkButton.disabled = true;
    mount(resultSlot);
    const req = request();
    try {
      plan = await api.assessCheck(req);
      mount(planSlot, planView(plan, req));
    } catch (err) {
      plan = null;
      showError(planSlot, err, { reason, key: keySelect, reference }, (x) => refusalBox(x, "assess-refusal"));
    } finally {
      checkButton.disabled = false;
    }
  });
  function planView(p, req) {
    const secrets = secretsForm({
      plan: p,
      conn,
      prefix: "assess",
      title: "Your signature components",
      label: "Sign as Assessed",
      submit: async (aws, components, fields) => {
        if (!plan) return;
        try {
          const r = await api.assessChange(req, aws, components);
          plan = null;
          mount(planSlot);
          mount(form);
          mount(
            resultSlot,
            h(
              "div",
              { class: "panel verdict verdict--ok", id: "assessed", role: "status" },
              h("strong", { class: "error-title" }, `✓ Change assessed as ${IMPACT[r.record.impact] ?? r.record.impact} by ${r.printed_name}`),
              h("p", {}, `${formatTime(r.signed_at)}; signature envelope SHA-256 `, h("span", { class: "mono wrap-any" }, r.envelope_sha256)),
              r.clock_warning ? h("p", { class: "error error--warn" }, r.clock_warning) : null,
            ),
          );
          done();
        } catch (err) {
          showError(resultSlot, err, fields, (x) => refusalBox(x, "assess-refusal"));
        }
      },
    });
    return [
      h(
        "div",
        { class: "panel what", id: "assess-what" },
        h("h3", {}, "Exactly this will be signed"),
        h(
          "dl",
          { class: "kv" },
          h("dt", {}, "Change"),
          h("dd", { id: "assess-plan-summary" }, p.summary),
          h("dt", {}, "Change id"),
          h("dd", { class: "mono wrap-any" }, p.record.change),
          h("dt", {}, "Impact"),
          h("dd", {}, h("b", {}, IMPACT[p.record.impact] ?? p.record.impact)),
          h("dt", {}, "Reference"),
          h("dd", {}, p.record.reference ?? "—"),
          h("dt", {}, "Reason"),
          h("dd", { class: "prewrap" }, req.reason.trim()),
          h("dt", {}, "Record digest (SHA-256)"),
          h("dd", { class: "mono wrap-any", id: "assess-plan-digest" }, p.record_sha256),
          h("dt", {}, "Meaning"),
          h("dd", {}, h("b", {}, "Assessed"), " — I assessed the impact of this change on the qualified state as stated"),
          h("dt", {}, "Printed name"),
          h("dd", {}, p.printed_name),
          h("dt", {}, "IAM identity"),
          h("dd", { class: "mono wrap-any" }, p.iam_arn),
          h("dt", {}, "Key"),
          h("dd", { class: "mono" }, p.key_id),
          h("dt", {}, "Date and time"),
          liveStamp("assess-plan-time"),
        ),
      ),
      secrets,
    ];
  }
  mount(slot, h("h2", {}, `Assess a change of ${system}`), h("p", {}, change.summary), form, planSlot, resultSlot);
  return slot;
}

/** Today as YYYY-MM-DD (UTC), and the first day of this month and of the month before. */
function defaultPeriod() {
  const now = new Date();
  const first = (y, m) => new Date(Date.UTC(y, m, 1)).toISOString().slice(0, 10);
  return { from: first(now.getUTCFullYear(), now.getUTCMonth() - 1), to: first(now.getUTCFullYear(), now.getUTCMonth()) };
}

/**
 * A periodic review of one system: the period (whole days, UTC) and the reason; then the
 * findings of the period exactly as they will be signed; then the signature components. The
 * request names the findings' digest, so findings that changed since they were shown are not
 * signed. `done(period)` shows the new review and offers its report.
 */
function reviewPanel(system, conn, publicKey, done) {
  const slot = h("section", { class: "panel", id: "review-panel", tabindex: "-1" });
  const period = defaultPeriod();
  const from = h("input", { type: "date", id: "review-from", value: period.from });
  const to = h("input", { type: "date", id: "review-to", value: period.to });
  const [reason, reasonCount] = reasonField("review-reason", "What you reviewed and found (recorded inside the signature)");
  const keySelect = h("select", { id: "review-key" });
  api.listKeys().then(
    (keys) => mount(keySelect, keyOptions(keys, null)),
    (err) => mount(slot, errorBox(err)),
  );
  const checkButton = h("button", { type: "submit", class: "primary", id: "review-check" }, "Review what will be signed");
  const planSlot = h("div", { id: "review-plan" });
  const resultSlot = h("div", { id: "review-result", "aria-live": "polite" });
  const request = () => ({ system, from: from.value, to: to.value, reason: reason.value, keyId: keySelect.value, publicKey: publicKey() });
  let plan = null;
  const fields = { since: from, until: to, reason, key: keySelect };
  const form = h(
    "form",
    { id: "review-form", novalidate: true },
    h("div", { class: "grid-form" }, h("label", {}, "From (00:00 UTC)", from), h("label", {}, "To (00:00 UTC)", to), h("label", { class: "wide" }, "Reason", reason, reasonCount), h("label", { class: "wide" }, "Reviewer key", keySelect)),
    h("div", { class: "actions" }, checkButton),
  );
  form.addEventListener("input", () => {
    if (plan) {
      plan = null;
      mount(planSlot, h("p", { class: "muted" }, "The review changed: look at the findings again before signing."));
    }
  });
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    checkButton.disabled = true;
    mount(resultSlot);
    mount(planSlot, h("p", { class: "loading" }, "Reading the evidence of the period…"));
    const req = request();
    try {
      plan = await api.periodicReviewCheck(req);
      mount(planSlot, planView(plan, req));
    } catch (err) {
      plan = null;
      showError(planSlot, err, fields, (x) => refusalBox(x, "review-refusal"));
    } finally {
      checkButton.disabled = false;
    }
  });
  function planView(p, req) {
    const f = p.findings;
    const secrets = secretsForm({
      plan: p,
      conn,
      prefix: "review",
      title: "Your signature components",
      label: "Sign as Periodically reviewed",
      submit: async (aws, components, secretFields) => {
        if (!plan) return;
        try {
          const r = await api.periodicReview({ ...req, expectedFindings: p.findings_sha256 }, aws, components);
          plan = null;
          mount(planSlot);
          mount(form);
          mount(
            resultSlot,
            h(
              "div",
              { class: "panel verdict verdict--ok", id: "reviewed", role: "status" },
              h("strong", { class: "error-title" }, `✓ Periodic review of ${system} signed by ${r.printed_name}`),
              h("p", {}, `${formatTime(r.period.from)} – ${formatTime(r.period.to)}: ${r.verdict}. Signed ${formatTime(r.signed_at)}; signature envelope SHA-256 `, h("span", { class: "mono wrap-any" }, r.envelope_sha256)),
              r.clock_warning ? h("p", { class: "error error--warn" }, r.clock_warning) : null,
            ),
            reportForm(system, `${r.period.from}..${r.period.to}`),
          );
          done();
        } catch (err) {
          showError(resultSlot, err, secretFields, (x) => refusalBox(x, "review-refusal"));
        }
      },
    });
    return [
      h(
        "div",
        { class: "panel what", id: "review-what" },
        h("h3", {}, "Exactly these findings will be signed"),
        h(
          "dl",
          { class: "kv" },
          h("dt", {}, "System"),
          h("dd", {}, p.system),
          h("dt", {}, "Period"),
          h("dd", { id: "review-plan-period" }, `${formatTime(p.period.from)} – ${formatTime(p.period.to)}`),
          h("dt", {}, "Verdict"),
          h("dd", { id: "review-plan-verdict" }, h("b", {}, f.verdict.text)),
          h("dt", {}, "Changes"),
          h("dd", {}, `${f.verdict.changes} (${f.verdict.open_changes} not assessed or needing requalification)`),
          h("dt", {}, "Evidence gaps"),
          h("dd", {}, f.coverage.gaps.length ? h("ul", {}, f.coverage.gaps.map((g) => h("li", {}, `${formatTime(g.from)} – ${formatTime(g.to)}: ${g.reason}`))) : "none"),
          h("dt", {}, "Impact assessments"),
          h("dd", {}, String(f.assessments.length)),
          h("dt", {}, "Findings digest (SHA-256)"),
          h("dd", { class: "mono wrap-any", id: "review-plan-digest" }, p.findings_sha256),
          p.earlier_reviews ? [h("dt", {}, "Earlier reviews"), h("dd", {}, `${p.earlier_reviews} of the same findings: yours follows them`)] : null,
          h("dt", {}, "Reason"),
          h("dd", { class: "prewrap" }, req.reason.trim()),
          h("dt", {}, "Meaning"),
          h("dd", {}, h("b", {}, "Periodically reviewed"), " — I reviewed this system's qualified state over this period"),
          h("dt", {}, "Printed name"),
          h("dd", {}, p.printed_name),
          h("dt", {}, "IAM identity"),
          h("dd", { class: "mono wrap-any" }, p.iam_arn),
          h("dt", {}, "Key"),
          h("dd", { class: "mono" }, p.key_id),
          h("dt", {}, "Date and time"),
          liveStamp("review-plan-time"),
        ),
        f.changes.length
          ? h(
              "ul",
              { class: "changes", id: "review-plan-changes" },
              f.changes.map((c) => h("li", {}, `${c.at ? formatTime(c.at) : "not dated"}: ${c.summary} — `, c.assessment ? `${IMPACT[c.assessment.impact] ?? c.assessment.impact}, by ${c.assessment.printed_name}` : h("b", {}, "not assessed"))),
            )
          : null,
      ),
      secrets,
    ];
  }
  mount(slot, h("h2", {}, `Periodic review of ${system}`), h("p", { class: "muted" }, "The period must be over. The findings are computed from the evidence in this home, shown, and signed exactly as shown."), form, planSlot, resultSlot);
  return slot;
}

/** Saves the Periodic Review Report of a signed review to a new PDF. */
function reportForm(system, period) {
  const out = h("input", { type: "text", id: "report-out", placeholder: "/path/to/periodic-review.pdf", autocomplete: "off", spellcheck: "false" });
  const button = h("button", { type: "submit", id: "report-go" }, "Save the report");
  const status = h("div", { id: "report-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", id: "report-form", novalidate: true },
    h("h3", {}, "Periodic Review Report"),
    h("p", { class: "muted" }, "A PDF with the signed findings, the review signatures and the impact assessments embedded, verifiable offline like a validation package."),
    h("div", { class: "grid-form" }, h("label", { class: "wide" }, "Save as", pathRow(out, chooserButton(out, { mode: "save", label: "Save as…", title: "Save the Periodic Review Report", filters: [{ name: "PDF", extensions: ["pdf"] }] })))),
    h("div", { class: "actions" }, button),
    status,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const b = await api.reviewReport({ system, period, out: out.value });
      mount(
        status,
        h("p", { id: "report-written", role: "status" }, `Wrote report ${b.report_id} to ${b.pdf}: ${b.signatures} review signature${b.signatures === 1 ? "" : "s"}, ${b.assessments} impact assessment${b.assessments === 1 ? "" : "s"}.`),
        openButtons(b.pdf, { idPrefix: "report" }),
      );
    } catch (err) {
      showError(status, err, { out });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** The change or event list, saved as CSV to a new file, for a spreadsheet or a BI tool. */
function exportPanel(stateForm) {
  const list = h("select", { id: "state-export-list" }, h("option", { value: "changes" }, "Changes since approval"), h("option", { value: "events" }, "CloudTrail calls on the stacks' resources"));
  const out = h("input", { type: "text", id: "state-export-out", placeholder: "/path/to/state-changes.csv", autocomplete: "off", spellcheck: "false" });
  const button = h("button", { type: "submit", id: "state-export-go" }, "Save as CSV");
  const status = h("div", { id: "state-export-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", id: "state-export", novalidate: true },
    h("h2", {}, "Export"),
    h("div", { class: "grid-form" }, h("label", {}, "List", list), h("label", { class: "wide" }, "Save as", pathRow(out, chooserButton(out, { mode: "save", label: "Save as…", title: "Save the list as CSV", filters: [{ name: "CSV", extensions: ["csv"] }] })))),
    h("div", { class: "actions" }, button),
    status,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    try {
      const x = await api.exportState({ state: stateForm(), list: list.value, out: out.value });
      mount(
        status,
        h("p", { id: "state-exported", role: "status" }, `Wrote ${x.rows} row${x.rows === 1 ? "" : "s"} to ${x.path}.`, x.not_qualified.length ? ` Not in the file (no approved baseline): ${x.not_qualified.join(", ")}.` : ""),
        openButtons(x.path, { idPrefix: "state-export" }),
      );
    } catch (err) {
      showError(status, err, { path: out });
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export function render(ctx) {
  const key = h("input", { type: "text", id: "state-key", placeholder: "the trail's public key file", autocomplete: "off", spellcheck: "false" });
  const system = h("input", { type: "text", id: "state-system", placeholder: "every system (or e.g. LIMS)", autocomplete: "off", spellcheck: "false" });
  const button = h("button", { type: "submit", class: "primary", id: "state-go" }, "Check qualified state");
  const result = h("div", { id: "state-result", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "panel", id: "state-form", novalidate: true },
    h(
      "div",
      { class: "grid-form" },
      h("label", { class: "wide" }, "CloudTrail public key", pathRow(key, chooserButton(key, { mode: "open", label: "Browse…", title: "Choose the CloudTrail public key file" }))),
      h("label", {}, "System", system),
    ),
    h("div", { class: "actions" }, button),
  );
  const assessSlot = h("div", { id: "assess-slot" });
  const conn = ctx && ctx.connection && ctx.connection.form ? ctx.connection.form : {};
  const open = (panel) => {
    mount(assessSlot, panel);
    panel.focus();
  };
  const actions = {
    assess: (system, change) => open(assessPanel(system, change, conn, () => form.requestSubmit())),
    review: (system) => open(reviewPanel(system, conn, () => key.value, () => form.requestSubmit())),
    report: (system, v) => {
      const panel = h("section", { class: "panel", id: "report-panel", tabindex: "-1" }, h("h2", {}, `Report of the periodic review of ${system}`), h("p", {}, `${formatTime(v.period.from)} – ${formatTime(v.period.to)}, reviewed by ${v.printed_name}`), reportForm(system, `${v.period.from}..${v.period.to}`));
      open(panel);
    },
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    mount(result, h("p", { class: "loading" }, "Reading the approvals, stack snapshots and stored AWS evidence…"));
    try {
      mount(result, report(await api.qualifiedState({ publicKey: key.value, system: system.value }), actions));
    } catch (err) {
      showError(result, err, { path: key });
    } finally {
      button.disabled = false;
    }
  });
  const el = h(
    "section",
    { class: "state", id: "state-screen" },
    h("div", { class: "toolbar" }, h("h1", {}, "Qualified state")),
    h("p", { class: "muted" }, "Whether each approved system stayed as it was qualified: every change found in the stack snapshots, AWS Config and CloudTrail since the approval, and the periods the validated CloudTrail digest chain covers. An unmonitored period is itself a finding."),
    form,
    assessSlot,
    result,
    exportPanel(() => ({ publicKey: key.value, system: system.value })),
  );
  return { el, title: "Qualified state", focus: key };
}
