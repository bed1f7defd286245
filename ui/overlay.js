// One modal layer (the file viewer). Focus moves into it and returns where it came from.
import { h, mount } from "./dom.js";

let returnFocus = null;

function root() {
  return document.getElementById("overlay-root");
}

/** Whether a dialog is open. */
export function isOpen() {
  return root().childElementCount > 0;
}

/** Opens a dialog with a title (and an optional badge) and returns its body element. */
export function open(title, badge) {
  returnFocus = document.activeElement;
  const body = h("div", { class: "dialog-body" });
  const closeButton = h("button", { type: "button", class: "close", onclick: close }, "Close (Esc)");
  const dialog = h(
    "div",
    { class: "dialog", role: "dialog", "aria-modal": "true", "aria-label": title },
    h("div", { class: "dialog-head" }, h("h2", { title }, title), badge ?? null, closeButton),
    body,
  );
  const layer = h("div", { class: "overlay", id: "overlay" }, dialog);
  layer.addEventListener("mousedown", (e) => {
    if (e.target === layer) close();
  });
  // Keep Tab inside the dialog.
  dialog.addEventListener("keydown", (e) => {
    if (e.key !== "Tab") return;
    const focusable = dialog.querySelectorAll("button, [tabindex='0'], a[href], input, select");
    if (focusable.length === 0) return;
    const first = focusable[0];
    const last = focusable[focusable.length - 1];
    if (e.shiftKey && document.activeElement === first) {
      last.focus();
      e.preventDefault();
    } else if (!e.shiftKey && document.activeElement === last) {
      first.focus();
      e.preventDefault();
    }
  });
  mount(root(), layer);
  closeButton.focus();
  return body;
}

/** Closes the dialog and puts focus back. */
export function close() {
  root().replaceChildren();
  if (returnFocus && returnFocus.isConnected) returnFocus.focus();
  returnFocus = null;
}
