// What every Part 11 signing screen shares (a run's sign-off on Sign, the audit-trail review on
// Audit trail): the signer's local time with its UTC offset, the refusal explained in the words
// of the rule that refused it, and the form that asks for the signature components (MFA code
// when the session is closed, the passphrase always). The components go into the one signing
// call and the fields are cleared right after; nothing here keeps them.
import { h } from "./dom.js";
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
 * The signature components form. `plan` says whether an MFA code is needed (`needs_mfa`,
 * `iam_arn`, `mfa_serial`); `conn` prefills the AWS profile, region and endpoint; `prefix`
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
  const form = h(
    "form",
    { class: "panel", id: `${prefix}-secrets`, novalidate: true },
    h("h2", {}, title),
    plan.needs_mfa
      ? [
          h("p", { class: "muted" }, `No open session for ${plan.iam_arn}: your MFA code (device ${plan.mfa_serial || "from enrollment"}) and your passphrase are needed.`),
          h("div", { class: "grid-form" }, h("label", {}, "AWS profile", profile), h("label", {}, "Region", region), h("label", { class: "wide" }, "Endpoint URL", endpoint), h("label", {}, "MFA code", code)),
        ]
      : h("p", { class: "muted" }, "Your session is open: the passphrase alone completes the signature."),
    h("div", { class: "grid-form" }, h("label", {}, "Passphrase", pass)),
    h("div", { class: "actions" }, button),
  );
  /** The fields an error of the signing call can be about (see errors.js showError). */
  form.fields = { profile, region, endpoint, mfa_code: code, passphrase: pass };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    button.disabled = true;
    const call = submit({ profile: profile.value, region: region.value, endpoint: endpoint.value }, { passphrase: pass.value, mfaCode: code.value }, form.fields);
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
