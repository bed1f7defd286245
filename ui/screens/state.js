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
function timeline(system, f) {
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
  const gaps = f.coverage.gaps.length;
  const dated = f.changes.filter((c) => c.at).length;
  return h(
    "figure",
    { class: "timeline panel", id: `timeline-${system}` },
    h("figcaption", {}, `From the approval (${formatTime(f.period.from)}) to the check (${formatTime(f.period.to)}): covered by the validated CloudTrail digest chain in green, gaps in red, changes as marks.`),
    band,
    h("div", { class: "timeline-axis" }, h("span", {}, formatTime(f.period.from)), h("span", {}, formatTime(f.period.to))),
    h(
      "p",
      { class: "muted" },
      `${f.coverage.covered.length} covered period${f.coverage.covered.length === 1 ? "" : "s"}, ${gaps} gap${gaps === 1 ? "" : "s"}, ${dated} dated change${dated === 1 ? "" : "s"}; covered until ${f.coverage.covered_until ? formatTime(f.coverage.covered_until) : "— (nothing covered)"}.`,
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

function systemPanel(s, assess) {
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
    timeline(id, f),
    baselinePanel(f),
    changesPanel(id, f, assess),
    coveragePanel(id, f),
  );
}

function report(r, assess) {
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
    r.systems.length ? r.systems.map((s) => systemPanel(s, assess)) : h("p", { class: "panel" }, "No runs in this home yet: sync or import runs first."),
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
  const assess = (system, change) => {
    const panel = assessPanel(system, change, conn, () => form.requestSubmit());
    mount(assessSlot, panel);
    panel.focus();
  };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    mount(result, h("p", { class: "loading" }, "Reading the approvals, stack snapshots and stored AWS evidence…"));
    try {
      mount(result, report(await api.qualifiedState({ publicKey: key.value, system: system.value }), assess));
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
