// The service's error codes, mirrored from crates/service/src/error.rs (ErrorCode). Keep the two
// lists identical: a tampered record must never look like an I/O hiccup, so each code has its
// own title, explanation and look, and integrity errors stand out from everything else.
// An error about one field of a form (src-tauri/src/wording.rs names it) is shown at that
// field, which is marked invalid and takes the focus; any other error is one box in the form's
// status area.
import { h, mount } from "./dom.js";

export const ErrorCode = Object.freeze({
  BAD_INPUT: "bad_input",
  NOT_FOUND: "not_found",
  INTEGRITY: "integrity",
  REFUSED: "refused",
  AWS: "aws",
  STORAGE: "storage",
  CANCELLED: "cancelled",
});

/** Codes the window itself uses for failures that never reached the service. */
export const LocalCode = Object.freeze({
  /** The app shell refused or could not route the call (e.g. a command not granted). */
  APP: "app",
});

const KINDS = Object.freeze({
  bad_input: { title: "Check the input", tone: "warn" },
  not_found: { title: "Not found", tone: "warn" },
  integrity: {
    title: "Integrity check failed",
    tone: "integrity",
    advice:
      "Stored evidence or a record no longer matches its recorded digest or signature. " +
      "Do not sign anything based on it; keep the store as it is and report it to QA.",
  },
  refused: { title: "Refused", tone: "warn" },
  aws: { title: "AWS error", tone: "env", advice: "Check the connection, profile and permissions, then try again." },
  storage: { title: "Storage error", tone: "env", advice: "Check the file or folder named above: that it exists, that there is disk space, and that you may write there." },
  cancelled: { title: "Cancelled", tone: "info" },
  app: { title: "The app could not do that", tone: "env" },
});

/** An error as the window handles it: always a known code and a message. */
export class AppError extends Error {
  constructor(code, message, field = null) {
    super(message);
    this.name = "AppError";
    this.code = code;
    /** The form field the error is about (reason, bucket, out, …), or null. */
    this.field = field;
  }
}

/** Normalises whatever an IPC call rejected with into an AppError. */
export function toAppError(raw) {
  if (raw instanceof AppError) return raw;
  if (raw && typeof raw === "object" && typeof raw.code === "string" && raw.code in KINDS) {
    return new AppError(raw.code, String(raw.message ?? ""), typeof raw.field === "string" ? raw.field : null);
  }
  const message = typeof raw === "string" ? raw : raw && raw.message ? String(raw.message) : String(raw);
  return new AppError(LocalCode.APP, message);
}

/** Whether an error means the evidence or a record cannot be trusted. */
export function isIntegrity(err) {
  return toAppError(err).code === ErrorCode.INTEGRITY;
}

/** The title and look of an error's kind. */
export function kindOf(raw) {
  return KINDS[toAppError(raw).code] ?? KINDS.app;
}

/** A message box for an error, styled by its kind. */
export function errorBox(raw, attrs = {}) {
  const err = toAppError(raw);
  const kind = kindOf(err);
  return h(
    "div",
    { class: `error error--${kind.tone}`, role: "alert", "data-code": err.code, ...attrs },
    h("strong", { class: "error-title" }, kind.tone === "integrity" ? `⚠ ${kind.title}` : kind.title),
    h("p", { class: "error-message" }, err.message),
    kind.advice ? h("p", { class: "error-advice" }, kind.advice) : null,
  );
}

let fieldErrors = 0;

/**
 * Marks `el` invalid with `message` shown right below it (and read with it by assistive
 * technology), and moves the focus there. The mark goes as soon as the field is changed.
 */
export function markField(el, message, code) {
  clearField(el);
  fieldErrors += 1;
  const id = `${el.id || "field"}-error-${fieldErrors}`;
  const note = h("p", { class: "field-error", id, role: "alert", "data-code": code ?? "" }, message);
  const before = el.getAttribute("aria-describedby");
  el.dataset.describedBefore = before ?? "";
  el.setAttribute("aria-invalid", "true");
  el.setAttribute("aria-describedby", before ? `${id} ${before}` : id);
  el.classList.add("invalid");
  el.after(note);
  const clear = () => clearField(el);
  el.addEventListener("input", clear, { once: true });
  el.addEventListener("change", clear, { once: true });
  el.focus();
  return note;
}

/** Removes the invalid mark of `el`, if it has one. */
export function clearField(el) {
  if (el.getAttribute("aria-invalid") !== "true") return;
  const note = el.nextElementSibling;
  if (note && note.classList.contains("field-error")) note.remove();
  el.removeAttribute("aria-invalid");
  if (el.dataset.describedBefore) el.setAttribute("aria-describedby", el.dataset.describedBefore);
  else el.removeAttribute("aria-describedby");
  delete el.dataset.describedBefore;
  el.classList.remove("invalid");
}

/**
 * Shows an error where it belongs: at its field when `fields` ({name: element}) has the field
 * it is about (the status area `slot` is then emptied), otherwise as one box in `slot` (made by
 * `box`, errorBox by default). Returns the AppError.
 */
export function showError(slot, raw, fields = {}, box = errorBox) {
  const err = toAppError(raw);
  const el = err.field ? fields[err.field] : null;
  if (el && el.isConnected) {
    if (slot) mount(slot);
    markField(el, err.message, err.code);
  } else if (slot) {
    mount(slot, box(err));
    // The message may land below the fold of a long panel: bring it where the person looks.
    slot.scrollIntoView?.({ block: "nearest" });
  }
  return err;
}
