// Keys: the signer keys of this home; create one (passphrase typed twice), enroll it to the
// signer's MFA-backed IAM identity, export its public half for auditors, revoke it (with a
// reason) when it may no longer sign: by its owner with its passphrase, or by an administrator
// the signing policy names, authenticated as at signing.
// Passphrases and MFA codes are read from their fields for the one call that needs them, and
// the fields are cleared right after; nothing here keeps them.
import * as api from "../api.js";
import { formatTime, h, mount, pathRow, reasonField } from "../dom.js";
import { errorBox, showError } from "../errors.js";
import { chooserButton, openButtons } from "../files.js";
import { followSignInMethod, refusalBox, secretsForm, signInPanel } from "../signing.js";

const CERTIFICATION =
  "I certify that my electronic signature is the legally binding equivalent of my traditional handwritten signature (21 CFR 11.100(c)).";

function input(id, attrs = {}) {
  return h("input", { type: "text", id, autocomplete: "off", spellcheck: "false", ...attrs });
}

function keyState(k) {
  if (!k.enrolled) return h("span", { class: "badge badge--incomplete" }, "not enrolled");
  if (k.enrolled.revoked) return h("span", { class: "badge badge--failed" }, "revoked");
  return h("span", { class: "badge badge--verified" }, "enrolled");
}

/** Copies `text` to the clipboard; resolves true when it was copied. */
async function copyText(text, source) {
  try {
    if (navigator.clipboard && navigator.clipboard.writeText) {
      await navigator.clipboard.writeText(text);
      return true;
    }
  } catch {
    // fall through to the selection copy
  }
  const range = document.createRange();
  range.selectNodeContents(source);
  const selection = window.getSelection();
  selection.removeAllRanges();
  selection.addRange(range);
  const copied = document.execCommand("copy");
  selection.removeAllRanges();
  return copied;
}

function exportBox(ctx, x) {
  const pem = h("pre", { id: "key-pem", tabindex: "0", "aria-label": `Public key of ${x.printed_name}, PEM` }, x.pem);
  const copyStatus = h("span", { id: "key-copy-status", role: "status" });
  const copy = h("button", { type: "button", id: "key-copy" }, "Copy");
  copy.addEventListener("click", async () => {
    copyStatus.textContent = (await copyText(x.pem, pem)) ? "Copied to the clipboard." : "The clipboard is not available: select the text above and copy it.";
  });
  const safeName = x.printed_name.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") || "signer";
  const out = h("input", { type: "text", id: "key-save-out", value: `${ctx.info.export_dir}/${safeName}-${x.key_id.slice(0, 8)}.pem`, autocomplete: "off", spellcheck: "false" });
  const save = h("button", { type: "submit", id: "key-save" }, "Save");
  const saved = h("div", { id: "key-save-result" });
  const saveForm = h(
    "form",
    { class: "toolbar", id: "key-save-form", novalidate: true },
    h("label", { class: "grow" }, "Save the public key as", pathRow(out, chooserButton(out, { mode: "save", label: "Save as…", title: "Save the public key as", filters: [{ name: "PEM public key", extensions: ["pem"] }] }))),
    save,
  );
  saveForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    save.disabled = true;
    try {
      await api.savePublicKey({ keyId: x.key_id, out: out.value });
      mount(saved, h("div", { class: "panel", role: "status", id: "key-saved" }, "Saved to ", h("span", { class: "mono" }, out.value), ". Give this file to auditors: Packages → Verify takes it as the trusted public keys file.", openButtons(out.value, { open: false, idPrefix: "key" })));
    } catch (err) {
      showError(saved, err, { out });
    } finally {
      save.disabled = false;
    }
  });
  return h(
    "div",
    { class: "panel", id: "key-export", role: "status" },
    h("h2", {}, `Public key of ${x.printed_name}`),
    h("dl", { class: "kv" }, h("dt", {}, "Key id"), h("dd", { class: "mono" }, x.key_id), h("dt", {}, "Public key (hex)"), h("dd", { class: "mono" }, x.public_key_hex), h("dt", {}, "IAM identity"), h("dd", { class: "mono" }, x.iam_arn ?? "not enrolled")),
    pem,
    h("div", { class: "actions" }, copy, copyStatus),
    saveForm,
    saved,
    h("p", { class: "muted" }, "Give this key to auditors: a package verification (Packages → Verify, or the command-line tool) accepts it as a trusted public key."),
  );
}

/**
 * The revocation form for one key: the reason is required and recorded in the trail. Its owner
 * revokes it with the key's passphrase; when the owner cannot (they left, the laptop was lost),
 * an administrator the signing policy names revokes it, authenticated as at signing (their MFA
 * code unless their session is open, and their own key's passphrase).
 */
function revokeBox(ctx, k, keys, onDone) {
  const [reason, reasonCount] = reasonField("revoke-reason", "Why this key may no longer sign (lost device, person left, suspected compromise…)");
  const who = h("select", { id: "revoke-as" }, h("option", { value: "owner" }, `${k.printed_name}, the key's owner`), h("option", { value: "administrator" }, "An administrator named by the signing policy"));
  const pass = h("input", { type: "password", id: "revoke-passphrase", autocomplete: "current-password" });
  const admins = keys.filter((x) => x.key_id !== k.key_id && x.enrolled && !x.enrolled.revoked);
  const adminKey = h(
    "select",
    { id: "revoke-admin-key" },
    admins.length ? admins.map((x) => h("option", { value: x.key_id }, `${x.printed_name} — ${x.enrolled.iam_arn}`)) : h("option", { value: "" }, "no other enrolled key in this home"),
  );
  const go = h("button", { type: "submit", class: "danger", id: "revoke-go" }, "Revoke key");
  const cancel = h("button", { type: "button", id: "revoke-cancel" }, "Cancel");
  const out = h("div", { id: "revoke-result" });
  const secretsSlot = h("div", { id: "revoke-secrets-slot" });
  const ownerPart = h("div", { id: "revoke-owner" }, h("p", { class: "muted" }, `${k.printed_name}'s passphrase for this key is needed.`), h("label", {}, "Passphrase of the key", pass));
  const adminPart = h("div", { id: "revoke-admin", class: "hidden" }, h("p", { class: "muted" }, "You authenticate as when signing: your MFA code unless your signing session is open, and your own key's passphrase. The audit trail records you as the one who revoked it."), h("label", {}, "Your key (administrator)", adminKey));
  const form = h(
    "form",
    { class: "panel", id: "revoke-form", "data-key": k.key_id, novalidate: true },
    h("h2", {}, `Revoke the key of ${k.printed_name}`),
    h(
      "p",
      {},
      "Revocation is permanent and recorded in the audit trail. The key can no longer sign. What it signed stays in the records, shown as signed with a key revoked since: a run it signed reads as approved (or reviewed) only as recorded until it is re-opened and signed again. ",
      h("span", { class: "mono" }, k.key_id),
    ),
    h("label", { class: "wide" }, "Reason", reason, reasonCount),
    h("label", {}, "Revoked by", who),
    ownerPart,
    adminPart,
    h("div", { class: "actions" }, go, cancel),
    out,
  );
  const asAdmin = () => who.value === "administrator";
  who.addEventListener("change", () => {
    ownerPart.classList.toggle("hidden", asAdmin());
    adminPart.classList.toggle("hidden", !asAdmin());
    go.textContent = asAdmin() ? "Review the revocation" : "Revoke key";
    mount(out);
    mount(secretsSlot);
  });
  // A changed request must be checked again before anyone authenticates for it.
  form.addEventListener("input", () => mount(secretsSlot));
  cancel.addEventListener("click", () => {
    form.remove();
    secretsSlot.remove();
  });
  const revoked = (by) => onDone(h("div", { class: "panel", role: "status", id: "revoked" }, `Key ${k.key_id} of ${k.printed_name} revoked${by ? ` by ${by}, as administrator` : ""}.`));
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    go.disabled = true;
    mount(secretsSlot);
    try {
      if (!asAdmin()) {
        await api.revokeKey({ keyId: k.key_id, reason: reason.value }, { passphrase: pass.value });
        pass.value = "";
        revoked(null);
        return;
      }
      const req = { keyId: k.key_id, reason: reason.value, adminKeyId: adminKey.value };
      const plan = await api.adminRevokeCheck(req);
      mount(out);
      mount(
        secretsSlot,
        secretsForm({
          plan: { ...plan, iam_arn: plan.admin_arn },
          conn: (ctx && ctx.connection && ctx.connection.form) || {},
          prefix: "admin-revoke",
          title: `Revoke ${plan.printed_name}'s key as ${plan.admin_printed_name}`,
          label: "Revoke key",
          submit: async (aws, secrets, fields) => {
            try {
              const done = await api.adminRevoke(req, aws, secrets);
              secretsSlot.remove();
              revoked(done.admin_printed_name);
            } catch (err) {
              showError(out, err, fields, (x) => refusalBox(x, "revoke-refusal"));
            }
          },
        }),
      );
      secretsSlot.querySelector("input")?.focus();
    } catch (err) {
      pass.value = "";
      showError(out, err, { reason, passphrase: pass, key: adminKey }, (x) => refusalBox(x, "revoke-refusal"));
    } finally {
      go.disabled = false;
    }
  });
  return [form, secretsSlot];
}

/** What enrollment found about IAM groups, when the signing policy grants by group. */
function groupsNote(x) {
  if (x.group_warning) return h("p", { class: "error error--warn", id: "enroll-groups-warning" }, x.group_warning);
  if (x.groups) return h("p", { id: "enroll-groups" }, x.groups.length ? `IAM groups: ${x.groups.join(", ")}.` : "The identity is in no IAM group: only grants by ARN apply to it.");
  return null;
}

export function render(ctx) {
  const body = h("tbody", {});
  const exportOut = h("div", { id: "key-export-out" });
  const keySelect = h("select", { id: "enroll-key" });

  const load = async () => {
    let keys = [];
    try {
      keys = await api.listKeys();
    } catch (err) {
      mount(body, h("tr", {}, h("td", { colspan: "5" }, errorBox(err))));
      return;
    }
    mount(
      body,
      keys.length
        ? keys.map((k) =>
            h(
              "tr",
              { "data-key": k.key_id },
              h("td", {}, k.printed_name),
              h("td", { class: "mono" }, k.key_id),
              h("td", {}, keyState(k), k.enrolled ? h("div", { class: "mono muted" }, k.enrolled.iam_arn) : null),
              h("td", {}, k.enrolled ? formatTime(k.enrolled.enrolled_at) : "—"),
              h(
                "td",
                {},
                h(
                  "button",
                  {
                    type: "button",
                    class: "key-export",
                    onclick: async () => {
                      try {
                        mount(exportOut, exportBox(ctx, await api.exportKey(k.key_id)));
                      } catch (err) {
                        mount(exportOut, errorBox(err));
                      }
                    },
                  },
                  "Export public key",
                ),
                k.enrolled && !k.enrolled.revoked
                  ? h(
                      "button",
                      {
                        type: "button",
                        class: "key-revoke",
                        onclick: () => {
                          mount(
                            exportOut,
                            revokeBox(ctx, k, keys, async (done) => {
                              mount(exportOut, done);
                              await load();
                            }),
                          );
                          exportOut.querySelector("#revoke-reason").focus();
                        },
                      },
                      "Revoke…",
                    )
                  : null,
              ),
            ),
          )
        : h("tr", {}, h("td", { colspan: "5", class: "empty" }, "No keys yet. Create one below.")),
    );
    const open = keys.filter((k) => !k.enrolled);
    mount(keySelect, open.length ? open.map((k) => h("option", { value: k.key_id }, `${k.printed_name} (${k.key_id.slice(0, 8)}…)`)) : h("option", { value: "" }, "no key waiting for enrollment"));
  };

  // Create.
  const name = input("key-name", { placeholder: "Full name as printed on signatures" });
  const pass1 = input("key-pass", { type: "password", autocomplete: "new-password" });
  const pass2 = input("key-pass2", { type: "password", autocomplete: "new-password" });
  const createOut = h("div", { id: "key-create-out" });
  const createButton = h("button", { type: "submit", class: "primary", id: "key-create" }, "Create key");
  const createForm = h(
    "form",
    { class: "panel", id: "key-create-form", novalidate: true },
    h("h2", {}, "Create a signer key"),
    h("p", { class: "muted" }, "An ed25519 key sealed with your passphrase (argon2id); one key per person. Sealing takes a few seconds."),
    h("div", { class: "grid-form" }, h("label", { class: "wide" }, "Printed name", name), h("label", {}, "Passphrase", pass1), h("label", {}, "Passphrase again", pass2)),
    h("div", { class: "actions" }, createButton),
    createOut,
  );
  createForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    createButton.disabled = true;
    mount(createOut, h("p", { class: "loading" }, "Sealing the key…"));
    const call = api.createKey(name.value, pass1.value, pass2.value);
    pass1.value = "";
    pass2.value = "";
    try {
      const k = await call;
      mount(createOut, h("div", { class: "panel", role: "status", id: "key-created" }, `Key ${k.key_id} created for ${k.printed_name}. Enroll it next.`));
      name.value = "";
      await load();
    } catch (err) {
      showError(createOut, err, { printed_name: name, passphrase: pass1 });
    } finally {
      createButton.disabled = false;
    }
  });

  // Enroll.
  const conn = ctx.connection && ctx.connection.form ? ctx.connection.form : {};
  const profile = input("enroll-profile", { value: conn.profile ?? "", placeholder: "default credential chain" });
  const region = input("enroll-region", { value: conn.region ?? "", placeholder: "from the profile" });
  const endpoint = input("enroll-endpoint", { value: conn.endpoint ?? "", placeholder: "only for an STS-compatible endpoint" });
  const serial = input("enroll-serial", { placeholder: "empty: the device your AWS profile names" });
  const code = input("enroll-code", { inputmode: "numeric", autocomplete: "one-time-code", maxlength: "6" });
  const certify = h("input", { type: "checkbox", id: "enroll-certify" });
  const enrollOut = h("div", { id: "enroll-out" });
  const enrollButton = h("button", { type: "submit", class: "primary", id: "enroll-go" }, "Enroll");
  const enrollAws = () => ({ profile: profile.value, region: region.value, endpoint: endpoint.value });
  const serialLabel = h("label", { class: "wide" }, "MFA device serial", serial);
  const codeLabel = h("label", {}, "MFA code", code);
  const ssoPanel = signInPanel({ prefix: "enroll", aws: enrollAws, action: "accept the certification and enroll" });
  let method = "mfa_code";
  const enrollForm = h(
    "form",
    { class: "panel", id: "enroll-form", novalidate: true },
    h("h2", {}, "Enroll a key"),
    h("p", { class: "muted" }, "Opens an MFA-backed AWS session (an MFA code, or an IAM Identity Center sign-in), reads your AWS identity, and binds it to the key in the audit trail. A key is never re-bound."),
    h(
      "div",
      { class: "grid-form" },
      h("label", {}, "Key", keySelect),
      h("label", {}, "AWS profile", profile),
      h("label", {}, "Region", region),
      h("label", {}, "Endpoint URL", endpoint),
      serialLabel,
      codeLabel,
      ssoPanel,
    ),
    h("label", { class: "check" }, certify, h("span", {}, CERTIFICATION)),
    h("div", { class: "actions" }, enrollButton),
    enrollOut,
  );
  // The device the chosen profile names (mfa_serial) fills the serial, unless typed over.
  let prefilled = "";
  const prefill = async () => {
    if (serial.value !== "" && serial.value !== prefilled) return;
    try {
      const device = await api.profileMfaDevice({ profile: profile.value, region: region.value, endpoint: endpoint.value });
      if (serial.value === "" || serial.value === prefilled) {
        prefilled = device ?? "";
        serial.value = prefilled;
      }
    } catch {
      // An unreadable profile is reported when enrolling; the field stays as it is.
    }
  };
  profile.addEventListener("change", prefill);
  prefill();
  followSignInMethod({ aws: enrollAws, inputs: [profile, region, endpoint], codeFields: [serialLabel, codeLabel], panel: ssoPanel, onMethod: (kind) => (method = kind) });
  enrollForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    enrollButton.disabled = true;
    const call =
      method === "identity_center"
        ? api.enrollKeySignedIn({ aws: enrollAws(), keyId: keySelect.value, acceptCertification: certify.checked })
        : api.enrollKey({
            aws: enrollAws(),
            keyId: keySelect.value,
            mfaSerial: serial.value,
            mfaCode: code.value,
            acceptCertification: certify.checked,
          });
    code.value = "";
    try {
      const x = await call;
      mount(enrollOut, h("div", { class: "panel", role: "status", id: "enrolled" }, `Key ${x.key.key_id} enrolled to ${x.key.iam_arn}.`, groupsNote(x), x.clock_warning ? h("p", { class: "error error--warn" }, x.clock_warning) : null));
      await load();
    } catch (err) {
      showError(enrollOut, err, { key: keySelect, profile, region, endpoint, mfa_serial: serial, mfa_code: code });
    } finally {
      enrollButton.disabled = false;
    }
  });

  const el = h(
    "section",
    { class: "keys", id: "keys-screen" },
    h("div", { class: "toolbar" }, h("h1", {}, "Keys")),
    h("table", { class: "grid", id: "keys-table" }, h("thead", {}, h("tr", {}, ["Printed name", "Key id", "State", "Enrolled at", ""].map((c) => h("th", { scope: "col" }, c)))), body),
    exportOut,
    h("div", { class: "two-col" }, createForm, enrollForm),
  );
  load();
  return { el, title: "Keys", focus: null };
}
