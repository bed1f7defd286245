// A tiny element builder. Text always goes in as text (never parsed as HTML), so data from
// result files cannot inject markup; inline `style` attributes are refused by the CSP anyway.
// And text is shown through `shownText`, so it cannot rearrange itself either.

const SVG_NS = "http://www.w3.org/2000/svg";

// The characters countersign_core::display escapes (controls, bidi embeddings, overrides and
// isolates, zero-width and other invisible format characters), and the backslash. Line breaks
// and tabs stay as they are: in the window they are only whitespace.
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\\]/g;

/**
 * Untrusted text as the window shows it: `r\u{202e}1` for a run id holding a right-to-left
 * override, `a\\b` for a backslash: the spelling the command line and the PDF use (which
 * also escape tabs and, in single-line values, line breaks).
 */
export function shownText(text) {
  return String(text).replace(UNSAFE, (c) => (c === "\\" ? "\\\\" : `\\u{${c.codePointAt(0).toString(16)}}`));
}

function build(el, attrs, children) {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.setAttribute("class", value);
    else if (key === "text") el.textContent = shownText(value);
    else if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "dataset") for (const [k, v] of Object.entries(value)) el.dataset[k] = v;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(shownText(child)));
  }
  return el;
}

/** An HTML element: h("td", {class: "num"}, "42"). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces the children of `el`. */
export function mount(el, ...children) {
  el.replaceChildren();
  build(el, {}, children);
  return el;
}

/**
 * A keydown handler that runs `open` on Enter. The default is prevented so the same key press
 * cannot also activate whatever button `open` moves the focus to.
 */
export function enterOpens(open) {
  return (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    open();
  };
}

/** A debounced version of `fn`. */
export function debounce(fn, ms) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** "12 KB" style sizes. */
export function formatBytes(n) {
  if (typeof n !== "number" || !Number.isFinite(n)) return "";
  if (n < 1024) return `${n} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let v = n;
  let u = -1;
  do {
    v /= 1024;
    u += 1;
  } while (v >= 1024 && u < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[u]}`;
}

/** A timestamp shown as written (RFC 3339 keeps its UTC offset), or a dash. */
export function formatTime(t) {
  return t ? String(t).replace("T", " ") : "—";
}

/** The longest reason the app takes (src-tauri/src/forms.rs REASON_MAX_CHARS). */
export const REASON_MAX_CHARS = 1000;

/**
 * A reason field with a live count of the characters left; the window stops taking characters
 * at the limit. Returns [textarea, counter]: put both in the field's label.
 */
export function reasonField(id, placeholder, rows = 2) {
  const counter = h("span", { class: "counter", id: `${id}-count`, "aria-live": "polite" });
  const area = h("textarea", { id, rows: String(rows), placeholder, maxlength: String(REASON_MAX_CHARS), "aria-describedby": `${id}-count` });
  const update = () => {
    const n = area.value.length;
    counter.textContent = `${n.toLocaleString("en")} of ${REASON_MAX_CHARS.toLocaleString("en")} characters`;
    counter.classList.toggle("counter--full", n >= REASON_MAX_CHARS * 0.9);
  };
  area.addEventListener("input", update);
  update();
  return [area, counter];
}

/** A file path field with its Browse (or Save as) button; see files.js. */
export function pathRow(input, button) {
  return h("span", { class: "path-row" }, input, button);
}
