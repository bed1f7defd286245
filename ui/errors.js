// The service's error codes, mirrored from crates/service/src/error.rs (ErrorCode). Keep the two
// lists identical: a tampered record must never look like an I/O hiccup, so each code has its
// own title, explanation and look, and integrity errors stand out from everything else.
import { h } from "./dom.js";

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
  storage: { title: "Storage error", tone: "env", advice: "Check the Countersign home folder: disk space and permissions." },
  cancelled: { title: "Cancelled", tone: "info" },
  app: { title: "The app could not do that", tone: "env" },
});

/** An error as the window handles it: always a known code and a message. */
export class AppError extends Error {
  constructor(code, message) {
    super(message);
    this.name = "AppError";
    this.code = code;
  }
}

/** Normalises whatever an IPC call rejected with into an AppError. */
export function toAppError(raw) {
  if (raw instanceof AppError) return raw;
  if (raw && typeof raw === "object" && typeof raw.code === "string" && raw.code in KINDS) {
    return new AppError(raw.code, String(raw.message ?? ""));
  }
  const message = typeof raw === "string" ? raw : raw && raw.message ? String(raw.message) : String(raw);
  return new AppError(LocalCode.APP, message);
}

/** Whether an error means the evidence or a record cannot be trusted. */
export function isIntegrity(err) {
  return toAppError(err).code === ErrorCode.INTEGRITY;
}

/** A message box for an error, styled by its kind. */
export function errorBox(raw) {
  const err = toAppError(raw);
  const kind = KINDS[err.code] ?? KINDS.app;
  return h(
    "div",
    { class: `error error--${kind.tone}`, role: "alert", "data-code": err.code },
    h("strong", { class: "error-title" }, kind.tone === "integrity" ? `⚠ ${kind.title}` : kind.title),
    h("p", { class: "error-message" }, err.message),
    kind.advice ? h("p", { class: "error-advice" }, kind.advice) : null,
  );
}
