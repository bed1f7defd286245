// What every Part 11 signing screen shares (a run's sign-off on Sign, the audit-trail review on
// Audit trail): the signer's local time with its UTC offset, the refusal explained in the words
// of the rule that refused it, and the form that asks for the signature components (MFA code
// when the session is closed, the passphrase always). The components go into the one signing
// call and the fields are cleared right after; nothing here keeps them.
import * as api from "./api.js";
import { formatTime, h, mount } from "./dom.js";
import { errorBox, ErrorCode, toAppError } from "./errors.js";

/** Why a refusal happened, in the words of the rule that refused it. */
const RULES = [
  [/rule no-self-approval/, "Separation of duties", "The person who executed or signed an earlier level of this record may not also approve or reject it. Another person must sign this level."],
  [/rule one-person-one-level/, "Separation of duties", "One person may fill only one level of a record's sign-off."],
  [/rule sequence/, "Signing order", "Signatures follow the order Reviewed → Approved or Rejected, and a final record takes no further signature."],
  [/rule disposition-before-approval/, "Missing dispositions", "Every failed or errored case needs a disposition before the record can be Approved. Open the run and disposition them."],
  [/rule authority/, "Not authorised", "The signing policy grants this identity no right to sign this meaning for this phase."],
  [/signing is locked|lockout/, "Signing locked", "Repeated failed attempts locked signing for this identity for a while, as the policy requires. Wait until the time given, then try again."],
  [/was revoked/, "Key revoked", "A revoked key can no longer sign. Create and enroll a new key under Keys."],
  [/MFA session belongs to/, "Wrong identity", "The MFA code opened a session for a different IAM identity than the one the key is enrolled to. Sign with your own key and your own device."],
  [/MFA code rejected/, "MFA code rejected", "AWS did not accept the one-time code. Wait for the next code on your device."],
  [/sign-in expired/, "Sign-in expired", "Nobody approved the IAM Identity Center sign-in before its code expired. Start a new sign-in and approve it in the browser."],
  [/sign-in denied|Identity Center sign-in denied/, "Sign-in denied", "The IAM Identity Center sign-in was denied in the browser. Failed attempts count towards the lockout."],
  [/passphrase/i, "Passphrase", "The key's passphrase did not open it. Failed attempts count towards the lockout."],
];

/**
 * A refusal (or any error) as one box: for a refusal, the rule that refused it in plain words,
 * then the service's own message as the detail; `id` names the box for tests.
 */
export function refusalBox(raw, id) {
  const err = toAppError(raw);
  const rule = err.code === ErrorCode.REFUSED ? RULES.find(([re]) => re.test(err.message)) : null;
  if (!rule) return errorBox(err, { id, "data-rule": "" });
  return h(
    "div",
    { id, class: "error error--warn", role: "alert", "data-code": err.code, "data-rule": rule[1] },
    h("strong", { class: "error-title" }, `Refused: ${rule[1]}`),
    h("p", {}, rule[2]),
    h("p", { class: "error-message error-detail" }, err.message),
  );
}

const pad = (n) => String(n).padStart(2, "0");

/** The window's local time with its UTC offset: "2026-11-29 09:41:07 +01:00". */
export function localStamp(d = new Date()) {
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? "+" : "-";
  const a = Math.abs(off);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())} ${sign}${pad(Math.floor(a / 60))}:${pad(a % 60)}`;
}

/** Minutes and seconds: "9:05". */
export function countdown(secs) {
  return `${Math.floor(secs / 60)}:${pad(secs % 60)}`;
}

/** A `<dd>` that shows the local time with offset, ticking every second while on screen. */
export function liveStamp(id) {
  const when = h("dd", { id }, localStamp());
  const tick = setInterval(() => {
    if (!when.isConnected) clearInterval(tick);
    else when.textContent = localStamp();
  }, 1000);
  return when;
}

/**
 * The IAM Identity Center sign-in of a form whose AWS profile is an SSO profile: a button that
 * starts it, then the page to open and the code to check there. `prefix` names the parts
 * (`${prefix}-sso-start`, `${prefix}-sso-open`, `${prefix}-sso-code`); `aws()` reads the form's
 * AWS fields. The approval itself happens in the browser, where the identity provider asks for
 * its own second factor; the signing (or enrollment) call then waits for it.
 */
export function signInPanel({ prefix, aws, action }) {
  const out = h("div", { id: `${prefix}-sso-prompt`, "aria-live": "polite" });
  const start = h("button", { type: "button", id: `${prefix}-sso-start` }, "Start sign-in");
  start.addEventListener("click", async () => {
    start.disabled = true;
    try {
      const p = await api.startSignIn(aws());
      const open = h("button", { type: "button", id: `${prefix}-sso-open` }, "Open the sign-in page");
      open.addEventListener("click", () => api.openSignInPage().catch((err) => mount(out, errorBox(err))));
      mount(
        out,
        h(
          "ol",
          { class: "steps" },
          h("li", {}, open, " ", h("span", { class: "mono muted", id: `${prefix}-sso-url` }, p.url)),
          h("li", {}, "Check that the page shows the code ", h("b", { class: "mono", id: `${prefix}-sso-code` }, p.user_code), ", sign in with your company account and approve."),
          h("li", {}, `Then ${action}: Countersign waits for the approval. The code expires at ${formatTime(p.expires_at)}.`),
        ),
      );
    } catch (err) {
      mount(out, errorBox(err));
    } finally {
      start.disabled = false;
    }
  });
  return h(
    "div",
    { class: "sso wide", id: `${prefix}-sso`, hidden: true },
    h("p", { class: "muted" }, "This AWS profile signs in with IAM Identity Center: no MFA code here. Your company sign-in page asks for your second factor."),
    start,
    out,
  );
}

/**
 * Shows the MFA code fields or the sign-in panel, as the AWS profile in `aws()` requires;
 * again whenever one of `inputs` changes. `onMethod(kind)` hears the answer.
 */
export function followSignInMethod({ aws, inputs, codeFields, panel, onMethod = () => {} }) {
  const apply = async () => {
    let kind = "mfa_code";
    try {
      kind = (await api.signInMethod(aws())).kind;
    } catch {
      // An unreadable profile is reported by the signing call, next to its field.
    }
    const sso = kind === "identity_center";
    for (const f of codeFields) f.hidden = sso;
    panel.hidden = !sso;
    onMethod(kind);
  };
  for (const i of inputs) i.addEventListener("change", apply);
  apply();
}

/**
 * The signature components form. `plan` says whether the session needs opening (`needs_mfa`,
 * `iam_arn`, `mfa_serial`): with an MFA code, or with an IAM Identity Center sign-in when the
 * AWS profile is an SSO profile; `conn` prefills the AWS profile, region and endpoint; `prefix`
 * names the fields (`${prefix}-mfa`, `${prefix}-passphrase`, `${prefix}-go`, …). `submit(aws,
 * secrets, fields)` makes the one signing call and shows its outcome itself (it never rejects;
 * `fields` are this form's fields, for an error about one of them); the secret fields are
 * cleared as soon as the call is made.
 */
export function secretsForm({ plan, conn, prefix, title, label, submit }) {
  const field = (name, attrs = {}) => h("input", { type: "text", id: `${prefix}-${name}`, autocomplete: "off", spellcheck: "false", ...attrs });
  const profile = field("profile", { value: conn.profile ?? "", placeholder: "default credential chain" });
  const region = field("region", { value: conn.region ?? "" });
  const endpoint = field("endpoint", { value: conn.endpoint ?? "" });
  const code = field("mfa", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
  const pass = h("input", { type: "password", id: `${prefix}-passphrase`, autocomplete: "current-password" });
  const button = h("button", { type: "submit", class: "primary", id: `${prefix}-go` }, label);
  const aws = () => ({ profile: profile.value, region: region.value, endpoint: endpoint.value });
  const codeLabel = h("label", {}, "MFA code", code);
  const panel = signInPanel({ prefix, aws, action: "enter your passphrase and sign" });
  const intro = h("p", { class: "muted" }, `No open session for ${plan.iam_arn}: your MFA code (device ${plan.mfa_serial || "from enrollment"}) and your passphrase are needed.`);
  const form = h(
    "form",
    { class: "panel", id: `${prefix}-secrets`, novalidate: true },
    h("h2", {}, title),
    plan.needs_mfa
      ? [intro, h("div", { class: "grid-form" }, h("label", {}, "AWS profile", profile), h("label", {}, "Region", region), h("label", { class: "wide" }, "Endpoint URL", endpoint), codeLabel, panel)]
      : h("p", { class: "muted" }, "Your session is open: the passphrase alone completes the signature."),
    h("div", { class: "grid-form" }, h("label", {}, "Passphrase", pass)),
    h("div", { class: "actions" }, button),
  );
  if (plan.needs_mfa) {
    followSignInMethod({
      aws,
      inputs: [profile, region, endpoint],
      codeFields: [codeLabel],
      panel,
      onMethod: (kind) => {
        intro.textContent =
          kind === "identity_center"
            ? `No open session for ${plan.iam_arn}: sign in with IAM Identity Center, then your passphrase completes the signature.`
            : `No open session for ${plan.iam_arn}: your MFA code (device ${plan.mfa_serial || "from enrollment"}) and your passphrase are needed.`;
      },
    });
  }
  /** The fields an error of the signing call can be about (see errors.js showError). */
  form.fields = { profile, region, endpoint, mfa_code: code, passphrase: pass };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    const call = submit(aws(), { passphrase: pass.value, mfaCode: code.value }, form.fields);
    pass.value = "";
    code.value = "";
    try {
      await call;
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

/** Options for a key `<select>`: the enrolled, unrevoked keys of the home. */
export function keyOptions(keys, selected) {
  const usable = keys.filter((k) => k.enrolled && !k.enrolled.revoked);
  return usable.length
    ? usable.map((k) => h("option", { value: k.key_id, selected: k.key_id === selected }, `${k.printed_name} — ${k.enrolled.iam_arn}`))
    : h("option", { value: "" }, "no enrolled key: create and enroll one under Keys");
}
