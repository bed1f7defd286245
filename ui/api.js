// The app's commands, as the window calls them. Each maps to one #[tauri::command] in
// src-tauri/src/commands.rs; every rejection becomes an AppError (see errors.js).
import { toAppError } from "./errors.js";

function core() {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.core) {
    throw toAppError("This page must run inside the Countersign app (the Tauri IPC is missing).");
  }
  return tauri.core;
}

async function call(command, args) {
  try {
    return await core().invoke(command, args);
  } catch (raw) {
    throw toAppError(raw);
  }
}

/** Home, version and the demo connection (if the demo started the app). */
export const appInfo = () => call("app_info");

/** Run summaries in the store. */
export const listRuns = () => call("list_runs");

/** One run in full ("SYSTEM/PHASE/RUN-ID"). */
export const showRun = (run) => call("show_run", { run });

/** One stored file of a run, re-verified. */
export const openFile = (run, path) => call("open_file", { run, path });

/** Syncs a bucket into the store; `onProgress` gets FetchProgress objects. */
export function fetchRuns(form, onProgress) {
  const channel = new (core().Channel)();
  channel.onmessage = onProgress;
  return call("fetch", { form, onProgress: channel });
}

/** Cancels the running sync. */
export const cancelFetch = () => call("cancel_fetch");
