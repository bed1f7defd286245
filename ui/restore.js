// Restoring the audit trail from a backup, on the Audit trail screen. The backup is verified
// first (its hash chain, and against the checkpoints this trail has recorded, so an older copy
// cannot quietly replace a newer trail); the trail in use is set aside next to it, never
// deleted; the restore itself is the restored trail's newest entry. Two steps: what will
// happen, then the restore.
import * as api from "./api.js";
import { h, mount, pathRow } from "./dom.js";
import { showError } from "./errors.js";
import { chooserButton } from "./files.js";

export function restorePanel(ctx, onDone) {
  const path = h("input", { type: "text", id: "restore-path", placeholder: "a backup file (.sqlite)", autocomplete: "off", spellcheck: "false" });
  const button = h("button", { type: "submit", id: "restore-check" }, "Restore…");
  const confirmSlot = h("div", { id: "restore-confirm" });
  const result = h("div", { id: "restore-result" });
  const form = h(
    "form",
    { class: "toolbar", novalidate: true },
    h("label", { class: "grow" }, "Backup file", pathRow(path, chooserButton(path, { mode: "open", label: "Browse…", title: "Choose the ledger backup to restore", filters: [{ name: "SQLite ledger", extensions: ["sqlite"] }] }))),
    button,
  );
  path.addEventListener("input", () => mount(confirmSlot));
  const restore = async (go) => {
    go.disabled = true;
    try {
      const r = await api.restoreLedger({ path: path.value });
      mount(confirmSlot);
      mount(
        result,
        h(
          "div",
          { class: "panel verdict verdict--ok", id: "restore-done", role: "status" },
          h("strong", { class: "error-title" }, `✓ Audit trail restored: ${r.events.toLocaleString("en")} entries`),
          h("p", {}, "Restored from ", h("span", { class: "mono wrap-any" }, r.backup), "; the restore is the trail's newest entry."),
          r.set_aside ? h("p", { id: "restore-set-aside" }, "The trail that was in use is kept as ", h("span", { class: "mono wrap-any" }, r.set_aside), ".") : null,
        ),
      );
      onDone();
    } catch (err) {
      mount(confirmSlot);
      showError(result, err, { path });
    } finally {
      go.disabled = false;
    }
  };
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    mount(result);
    if (!path.value.trim()) {
      showError(result, { code: "bad_input", message: "choose the backup file to restore", field: "path" }, { path });
      return;
    }
    const go = h("button", { type: "button", class: "danger", id: "restore-go" }, "Restore from this backup");
    const cancel = h("button", { type: "button", id: "restore-cancel" }, "Cancel");
    go.addEventListener("click", () => restore(go));
    cancel.addEventListener("click", () => {
      mount(confirmSlot);
      button.focus();
    });
    mount(
      confirmSlot,
      h(
        "div",
        { class: "error error--warn", role: "alertdialog", "aria-labelledby": "restore-confirm-title", "aria-describedby": "restore-confirm-text" },
        h("strong", { class: "error-title", id: "restore-confirm-title" }, "Replace the audit trail in use with this backup?"),
        h("p", { id: "restore-confirm-text" }, "The backup is verified first, also against the checkpoints this trail has signed; a backup older than a checkpoint is refused. The trail in use is set aside as a file next to it, not deleted. Entries recorded after the backup was made are then only in the file set aside."),
        h("div", { class: "actions" }, go, cancel),
      ),
    );
    go.focus();
  });
  return h(
    "div",
    { class: "panel", id: "restore-panel" },
    h("h2", {}, "Restore from a backup"),
    form,
    confirmSlot,
    result,
  );
}
