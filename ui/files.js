// Browse and Save as: the desktop's own file choosers, through the dialog plugin's open and save
// commands (the only plugin commands the window is granted; src-tauri/capabilities/main.json).
// A chooser only fills in the path field next to it: the typed path stays the way a file is
// named, and what the app does with it is checked by the app as for a typed path.
import { h } from "./dom.js";
import { toAppError } from "./errors.js";

function invoke(command, args) {
  const tauri = window.__TAURI__;
  if (!tauri || !tauri.core) return Promise.reject(toAppError("The file chooser needs the Countersign app."));
  return tauri.core.invoke(command, args);
}

/** The folder part of a typed path, for the chooser to start in. */
function folderOf(path) {
  const p = String(path ?? "").trim();
  const i = p.lastIndexOf("/");
  return i > 0 ? p.slice(0, i) : undefined;
}

/**
 * A button that opens the desktop's chooser and puts the chosen path into `input`.
 * `mode` is "open" (an existing file), "folder" (an existing folder) or "save" (a new file);
 * `label` is the button's text, `title` the chooser's title; `filters` ([{name, extensions}])
 * narrows what it lists.
 */
export function chooserButton(input, { mode = "open", label, title, filters, id }) {
  const button = h("button", { type: "button", class: "browse", id: id ?? `${input.id}-browse`, title }, label);
  button.addEventListener("click", async () => {
    const current = input.value.trim();
    const options =
      mode === "save"
        ? { title, defaultPath: current || undefined, filters }
        : { title, directory: mode === "folder", multiple: false, defaultPath: folderOf(current), filters: mode === "folder" ? undefined : filters };
    let chosen = null;
    try {
      chosen = await invoke(mode === "save" ? "plugin:dialog|save" : "plugin:dialog|open", { options });
    } catch {
      // No chooser on this desktop: the path field works as before.
      chosen = null;
    }
    if (typeof chosen === "string" && chosen) {
      input.value = chosen;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }
    input.focus();
  });
  return button;
}

/** "Open PDF" and "Show in folder" for a file the app has just written. */
export function openButtons(path, { open = true, idPrefix = "written" } = {}) {
  const status = h("span", { class: "open-status", id: `${idPrefix}-open-status`, role: "status" });
  const run = async (command, done) => {
    status.textContent = "";
    try {
      await invoke(command, { path });
      status.textContent = done;
    } catch (raw) {
      status.textContent = toAppError(raw).message;
    }
  };
  return h(
    "div",
    { class: "actions" },
    open ? h("button", { type: "button", id: `${idPrefix}-open`, onclick: () => run("open_written", "Opened in the desktop's viewer.") }, "Open PDF") : null,
    h("button", { type: "button", id: `${idPrefix}-reveal`, onclick: () => run("reveal_written", "Shown in the file manager.") }, "Show in folder"),
    status,
  );
}
