// Sign: a Part 11 signature on a run. First the request is checked against the policy and the
// screen shows exactly what will be signed (record, digest, meaning, reason, printed name,
// date and time with UTC offset); only then are the MFA code and/or the passphrase asked for.
// They go into the one signing call and the fields are cleared; nothing here keeps them.
import * as api from "../api.js";
import { formatTime, h, mount, reasonField } from "../dom.js";
import { errorBox, showError } from "../errors.js";
import { handoffPanel } from "../handoff.js";
import { integrityBadge } from "../integrity.js";
import { missingFacts } from "./run.js";
import { stateBadge } from "./runs.js";

/** What comes next from each state (the policy decides who). */
const NEXT_STEP = {
  collected: "Next: disposition every failed case, then sign Reviewed.",
  in_review: "Next: disposition every failed case, then sign Reviewed.",
  reopened: "Next: correct the dispositions, then sign Reviewed again.",
  reviewed: "Next: sign Approved or Rejected.",
  approved: "The record is final; a correction needs a signed re-open.",
  rejected: "The record is final; a correction needs a signed re-open.",
};
import { countdown, keyOptions, liveStamp, refusalBox as refusal, secretsForm } from "../signing.js";

const MEANINGS = [
  ["Reviewed", "Reviewed — I reviewed this record and its dispositions"],
  ["Approved", "Approved — I approve this record"],
  ["Rejected", "Rejected — I reject this record"],
  ["Authored", "Authored — I prepared this record"],
];

const refusalBox = (raw) => refusal(raw, "sign-refusal");

function signaturesTable(sigs) {
  if (!sigs.length) return h("p", { class: "muted", id: "signatures-none" }, "No signatures on this run yet.");
  return h(
    "table",
    { class: "grid", id: "signatures-table" },
    h("thead", {}, h("tr", {}, ["Meaning", "Printed name", "Signed (signer's time)", "Reason", "Verification"].map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      sigs.map((s) =>
        h(
          "tr",
          { "data-meaning": s.meaning, "data-outcome": s.outcome, class: s.outcome === "superseded" ? "superseded" : null },
          h("td", {}, h("b", {}, s.meaning)),
          h("td", {}, s.printed_name, s.iam_arn ? h("div", { class: "mono muted" }, s.iam_arn) : null),
          // local_time already carries the signer's offset.
          h("td", {}, s.local_time ?? `${formatTime(s.signed_at)} UTC (signer's offset ${s.utc_offset})`),
          h("td", {}, s.reason ?? "—"),
          h(
            "td",
            {},
            s.outcome === "superseded"
              ? [h("span", { class: "badge badge--skipped" }, "superseded"), h("div", { class: "muted" }, s.outcome_detail)]
              : h("span", { class: `badge badge--${s.outcome === "valid" ? "verified" : "failed"}`, title: s.outcome_detail }, s.outcome === "valid" ? "valid" : s.outcome),
          ),
        ),
      ),
    ),
  );
}

/** How many failures the Sign screen lists; the run screen shows them all. */
const FAILURES_SHOWN = 100;

/**
 * What the record holds, shown before any secret is asked for: the totals, each failed or
 * errored case with its disposition, the integrity of the run's files, and the requirements no
 * case covers. The record digest being signed covers the files and the dispositions.
 */
function contentPanel(run) {
  const slot = h("div", { class: "panel what", id: "sign-content", "aria-busy": "true" }, h("h3", {}, "What this record contains"), h("p", { class: "loading" }, "Reading the run…"));
  Promise.all([
    api.openRun(run),
    api.runCases(run, { status: "attention", search: "", offset: 0, limit: FAILURES_SHOWN, locate: null }),
    api.runDispositions(run),
    api.runTraceability(run),
  ]).then(
    ([head, failures, dispositions, trace]) => {
      const byCase = new Map(dispositions.map((d) => [d.case_id, d]));
      const t = head.summary.totals;
      const states = new Map();
      for (const f of head.files) {
        const state = f.integrity && f.integrity.state ? f.integrity.state : "recorded";
        states.set(state, (states.get(state) ?? 0) + 1);
      }
      const open = failures.cases.filter((c) => !byCase.has(c.id)).length;
      mount(
        slot,
        h("h3", {}, "What this record contains"),
        h("p", { id: "content-totals" }, `${t.tests} tests: ${t.passed} passed, ${t.failed} failed, ${t.errored} errored, ${t.skipped} skipped.`),
        missingFacts(head.missing_facts),
        failures.cases.length
          ? [
              h("h4", {}, `Failed or errored cases (${failures.matching}), ${open ? `${open} without a disposition` : "each with its disposition"}`),
              h(
                "table",
                { class: "grid", id: "content-failures" },
                h("thead", {}, h("tr", {}, ["Case", "Status", "Disposition"].map((c) => h("th", { scope: "col" }, c)))),
                h(
                  "tbody",
                  {},
                  failures.cases.map((c) => {
                    const d = byCase.get(c.id);
                    return h(
                      "tr",
                      { "data-case": c.id, "data-dispositioned": d ? "true" : "false" },
                      h("td", {}, c.name),
                      h("td", {}, c.status),
                      h("td", {}, d ? `${d.kind === "deviation" ? "Deviation" : "Accepted"} ${d.reference}: ${d.reason} (by ${d.by_name ?? d.by_arn ?? "unknown"}, ${formatTime(d.at)})` : h("span", { class: "badge badge--failed" }, "no disposition")),
                    );
                  }),
                ),
              ),
              failures.matching > failures.cases.length ? h("p", { class: "muted" }, `… and ${failures.matching - failures.cases.length} more: open the run to read them all.`) : null,
            ]
          : h("p", {}, "No failed or errored case."),
        h(
          "p",
          { id: "content-evidence" },
          `${head.files.length} file${head.files.length === 1 ? "" : "s"}: `,
          [...states].map(([state, n], i) => [i ? ", " : "", `${n} `, integrityBadge({ state })]),
          head.problems.length ? `; ${head.problems.length} problem${head.problems.length === 1 ? "" : "s"} reading them (open the run)` : "",
          ".",
        ),
        trace.uncovered.length
          ? h("p", { class: "error error--warn", id: "content-uncovered" }, `${trace.uncovered.length} requirement${trace.uncovered.length === 1 ? "" : "s"} with no case: `, h("span", { class: "mono" }, trace.uncovered.join(", ")))
          : h("p", { id: "content-uncovered" }, "Every requirement the run names or lists has a case."),
      );
      slot.setAttribute("aria-busy", "false");
      slot.dataset.loaded = "true";
    },
    (err) => mount(slot, h("h3", {}, "What this record contains"), errorBox(err)),
  );
  return slot;
}

export function render(ctx, params) {
  const run = params.id;
  const sigSlot = h("div", { id: "signatures" });
  const sessionSlot = h("div", { class: "panel session", id: "session-state", "aria-live": "polite" });
  const planSlot = h("div", { id: "sign-plan" });
  const resultSlot = h("div", { id: "sign-result" });
  let timer = null;
  let plan = null;

  // The run's state after a signing: where it stands now and what comes next.
  const showState = () =>
    api.listRuns().then(
      (runs) => {
        const r = runs.find((x) => x.id === run);
        const slot = resultSlot.querySelector(".verdict");
        if (!r || !slot) return;
        slot.append(h("p", { id: "state-now" }, "The run is now ", stateBadge(r)[0], `. ${NEXT_STEP[r.state] ?? ""}`));
      },
      () => {},
    );

  const loadSignatures = () =>
    api.runSignatures(run).then(
      (sigs) => mount(sigSlot, signaturesTable(sigs)),
      (err) => mount(sigSlot, errorBox(err)),
    );

  const lockButton = h("button", { type: "button", id: "session-lock" }, "Lock session now");
  lockButton.addEventListener("click", async () => {
    await api.lockSession().catch(() => {});
    plan = null;
    mount(planSlot);
    refreshSession();
  });
  const refreshSession = async () => {
    try {
      const s = await api.signingSession();
      mount(
        sessionSlot,
        s.open
          ? [
              h("span", { class: "badge badge--verified", id: "session-open" }, "session open"),
              h("span", {}, ` for ${s.iam_arn}. The next signing needs the passphrase only; locks in `),
              h("b", { id: "session-countdown" }, countdown(s.seconds_left)),
              h("span", { class: "muted" }, ` (idle timeout ${s.idle_timeout_secs / 60} min).`),
              lockButton,
            ]
          : [
              h("span", { class: "badge badge--skipped", id: "session-closed" }, "no session"),
              h("span", {}, ` Signing needs your MFA code and your passphrase. After a signing, the session stays open for ${s.idle_timeout_secs / 60} min of inactivity.`),
            ],
      );
    } catch (err) {
      mount(sessionSlot, errorBox(err));
    }
  };

  // The request.
  const meaning = h("select", { id: "sign-meaning" }, MEANINGS.map(([v, l]) => h("option", { value: v, selected: v === params.meaning }, l)));
  const [reason, reasonCount] = reasonField("sign-reason", "What you checked, in your words (recorded inside the signature)");
  const keySelect = h("select", { id: "sign-key" });
  const checkButton = h("button", { type: "submit", class: "primary", id: "sign-check" }, "Review what will be signed");
  const requestForm = h(
    "form",
    { class: "panel", id: "sign-form", novalidate: true },
    h("h2", {}, "1. What you sign"),
    h("div", { class: "grid-form" }, h("label", {}, "Meaning", meaning), h("label", {}, "Signer key", keySelect), h("label", { class: "wide" }, "Reason", reason, reasonCount)),
    h("div", { class: "actions" }, checkButton),
  );
  const request = () => ({ run, meaning: meaning.value, reason: reason.value, keyId: keySelect.value });
  // Any change to the request voids the reviewed plan: what is shown is what is signed.
  requestForm.addEventListener("input", () => {
    if (plan) {
      plan = null;
      mount(planSlot, h("p", { class: "muted" }, "The request changed: review it again before signing."));
    }
  });
  api.listKeys().then(
    (keys) => mount(keySelect, keyOptions(keys, params.keyId)),
    (err) => mount(planSlot, errorBox(err)),
  );

  requestForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    checkButton.disabled = true;
    mount(resultSlot);
    try {
      const req = request();
      plan = await api.signCheck(req);
      mount(planSlot, planPanel(plan, req));
      const first = planSlot.querySelector("input");
      if (first) first.focus();
    } catch (err) {
      plan = null;
      showError(planSlot, err, { reason, key: keySelect, meaning }, refusalBox);
    } finally {
      checkButton.disabled = false;
      refreshSession();
    }
  });

  const conn = ctx.connection && ctx.connection.form ? ctx.connection.form : {};
  function planPanel(p, req) {
    const when = liveStamp("plan-time");
    const form = secretsForm({
      plan: p,
      conn,
      prefix: "sign",
      title: "3. Your signature components",
      label: `Sign as ${req.meaning}`,
      submit: async (aws, secrets, fields) => {
        if (!plan) return;
        try {
          const s = await api.sign(req, aws, secrets);
          plan = null;
          mount(planSlot);
          mount(
            resultSlot,
            h(
              "div",
              { class: "panel verdict verdict--ok", id: "signed", role: "status" },
              h("strong", { class: "error-title" }, `✓ Signed ${s.meaning} by ${s.printed_name}`),
              h("p", {}, `${s.signed_at} UTC, offset ${s.utc_offset}; record SHA-256 `, h("span", { class: "mono" }, s.record_sha256)),
              s.clock_warning ? h("p", { class: "error error--warn" }, s.clock_warning) : null,
            ),
          );
          reason.value = "";
          reason.dispatchEvent(new Event("input"));
          loadSignatures();
          showState();
        } catch (err) {
          showError(resultSlot, err, fields, refusalBox);
        } finally {
          refreshSession();
        }
      },
    });
    return [
      h(
        "div",
        { class: "panel what", id: "sign-what" },
        h("h2", {}, "2. Exactly this will be signed"),
        h(
          "dl",
          { class: "kv" },
          h("dt", {}, "Record"),
          h("dd", { class: "mono", id: "plan-run" }, p.run),
          h("dt", {}, "Record digest (SHA-256)"),
          h("dd", { class: "mono", id: "plan-digest" }, p.record_sha256),
          h("dt", {}, "It covers"),
          h("dd", { id: "plan-covers" }, p.covers),
          h("dt", {}, "Meaning"),
          h("dd", { id: "plan-meaning" }, h("b", {}, req.meaning)),
          h("dt", {}, "Reason"),
          h("dd", { id: "plan-reason" }, req.reason.trim()),
          h("dt", {}, "Printed name"),
          h("dd", { id: "plan-name" }, p.printed_name),
          h("dt", {}, "IAM identity"),
          h("dd", { class: "mono" }, p.iam_arn),
          h("dt", {}, "Key"),
          h("dd", { class: "mono" }, p.key_id),
          h("dt", {}, "Date and time"),
          when,
          h("dt", {}, "Policy"),
          h("dd", {}, `version ${p.policy_version} (${p.policy_source})`),
        ),
        h("p", { class: "muted" }, "The date and time are taken when you sign and recorded with your UTC offset. The digest covers the run's files, their SHA-256 and every disposition; if any of them changes, this signature will show as made for a different record."),
      ),
      contentPanel(p.run),
      form,
    ];
  }

  // Re-open: the formal, signed way to correct a signed run.
  const [reopenReason, reopenCount] = reasonField("reopen-reason", "What must be corrected, and why (recorded inside the re-open signature)");
  const reopenKey = h("select", { id: "reopen-key" });
  const reopenButton = h("button", { type: "submit", id: "reopen-check" }, "Review the re-open");
  const reopenPlan = h("div", { id: "reopen-plan" });
  const reopenForm = h(
    "form",
    { class: "panel", id: "reopen-form", novalidate: true },
    h("h2", {}, "Re-open this run"),
    h(
      "p",
      { class: "muted" },
      "A signed run is corrected only by re-opening it: a signature of its own, by someone the policy allows to approve the run. Its signatures then show as superseded, its dispositions can be changed again, and a new review and approval follow.",
    ),
    h("div", { class: "grid-form" }, h("label", {}, "Signer key", reopenKey), h("label", { class: "wide" }, "Reason", reopenReason, reopenCount)),
    h("div", { class: "actions" }, reopenButton),
  );
  const reopenRequest = () => ({ run, reason: reopenReason.value, keyId: reopenKey.value });
  let reopenPlanned = null;
  reopenForm.addEventListener("input", () => {
    if (reopenPlanned) {
      reopenPlanned = null;
      mount(reopenPlan, h("p", { class: "muted" }, "The request changed: review it again before signing."));
    }
  });
  api.listKeys().then(
    (keys) => mount(reopenKey, keyOptions(keys, params.keyId)),
    () => {},
  );
  reopenForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    reopenButton.disabled = true;
    mount(resultSlot);
    try {
      const req = reopenRequest();
      reopenPlanned = await api.reopenCheck(req);
      const p = reopenPlanned;
      const secrets = secretsForm({
        plan: p,
        conn,
        prefix: "reopen",
        title: "Your signature components",
        label: "Sign the re-open",
        submit: async (aws, secretValues, fields) => {
          if (!reopenPlanned) return;
          try {
            const s = await api.reopen(req, aws, secretValues);
            reopenPlanned = null;
            mount(reopenPlan);
            mount(
              resultSlot,
              h(
                "div",
                { class: "panel verdict verdict--ok", id: "reopened", role: "status" },
                h("strong", { class: "error-title" }, `✓ Re-opened by ${s.printed_name}`),
                h("p", {}, `${s.signed_at} UTC, offset ${s.utc_offset}. The earlier signatures are superseded; the run is open for dispositions and a new review.`),
                s.clock_warning ? h("p", { class: "error error--warn" }, s.clock_warning) : null,
              ),
            );
            reopenReason.value = "";
            reopenReason.dispatchEvent(new Event("input"));
            loadSignatures();
            showState();
          } catch (err) {
            showError(resultSlot, err, fields, refusalBox);
          } finally {
            refreshSession();
          }
        },
      });
      mount(
        reopenPlan,
        h(
          "div",
          { class: "panel what", id: "reopen-what" },
          h("h3", {}, "Exactly this will be signed"),
          h(
            "dl",
            { class: "kv" },
            h("dt", {}, "Record"),
            h("dd", { class: "mono" }, p.run),
            h("dt", {}, "Record digest (SHA-256)"),
            h("dd", { class: "mono", id: "reopen-digest" }, p.record_sha256),
            h("dt", {}, "It covers"),
            h("dd", { id: "reopen-covers" }, p.covers),
            h("dt", {}, "Meaning"),
            h("dd", {}, h("b", {}, "Reopened")),
            h("dt", {}, "Reason"),
            h("dd", { id: "reopen-plan-reason" }, req.reason.trim()),
            h("dt", {}, "Printed name"),
            h("dd", {}, p.printed_name),
            h("dt", {}, "Policy"),
            h("dd", {}, `version ${p.policy_version} (${p.policy_source})`),
          ),
        ),
        secrets,
      );
      const first = reopenPlan.querySelector("input");
      if (first) first.focus();
    } catch (err) {
      reopenPlanned = null;
      showError(reopenPlan, err, { reason: reopenReason, key: reopenKey }, (raw) => refusal(raw, "reopen-refusal"));
    } finally {
      reopenButton.disabled = false;
      refreshSession();
    }
  });

  const back = h("button", { type: "button", id: "back", onclick: () => ctx.back() }, "← Run (Esc)");
  const el = h(
    "section",
    { class: "sign", id: "sign-screen" },
    h("div", { class: "toolbar" }, back, h("h1", {}, `Sign ${run}`)),
    sessionSlot,
    h("div", { class: "panel" }, h("h2", {}, "Signatures on this run"), sigSlot),
    requestForm,
    planSlot,
    resultSlot,
    reopenForm,
    reopenPlan,
    handoffPanel(ctx, run, () => loadSignatures()),
  );
  loadSignatures();
  refreshSession();
  timer = setInterval(refreshSession, 1000);
  return {
    el,
    title: `Sign ${run}`,
    focus: meaning,
    dispose: () => clearInterval(timer),
  };
}
