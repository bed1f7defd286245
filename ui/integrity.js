// Integrity badges for stored files: what the store knows about a file's bytes.
import { h } from "./dom.js";

const LABELS = {
  verified: ["verified", "Re-read and re-hashed just now: matches the recorded SHA-256."],
  recorded: ["recorded", "SHA-256 recorded when the file entered the store; re-verified when opened."],
  changed: ["CHANGED", "The stored bytes no longer match the recorded SHA-256. Do not rely on this file."],
  missing: ["MISSING", "The file is gone from the store."],
  rejected: ["rejected", "Refused at sync and never entered the store."],
};

/** A badge for an `Integrity` value ({state, …}). */
export function integrityBadge(integrity) {
  const state = integrity && integrity.state ? integrity.state : "recorded";
  const [label, explanation] = LABELS[state] ?? [state, ""];
  let title = explanation;
  if (state === "changed" && integrity.actual) title += ` Actual SHA-256: ${integrity.actual}`;
  if (state === "rejected" && integrity.reason) title += ` Reason: ${integrity.reason}`;
  return h("span", { class: `badge badge--${state}`, title, "data-integrity": state }, label);
}
