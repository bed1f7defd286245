// The evidence viewer: a stored file re-read and re-verified by the service, shown as text,
// pretty-printed JSON or an image, with its digest and integrity state.
import * as api from "../api.js";
import { formatBytes, h, mount, shownText } from "../dom.js";
import { errorBox } from "../errors.js";
import { integrityBadge } from "../integrity.js";
import * as overlay from "../overlay.js";

/** Characters of text shown at once; the rest stays one click away. */
const TEXT_LIMIT = 400_000;

function textBlock(text) {
  const pre = h("pre", { class: "file", id: "file-text" });
  pre.textContent = shownText(text.length > TEXT_LIMIT ? text.slice(0, TEXT_LIMIT) : text);
  if (text.length <= TEXT_LIMIT) return pre;
  const more = h("button", { type: "button" }, `Show all ${text.length.toLocaleString()} characters`);
  more.addEventListener("click", () => {
    pre.textContent = shownText(text);
    more.remove();
  });
  return [pre, more];
}

function content(file) {
  const media = file.media_type ?? "";
  if (media.startsWith("image/") && file.base64) {
    return h("img", { src: `data:${media};base64,${file.base64}`, alt: `Image evidence ${file.path}`, id: "file-image" });
  }
  if (file.text !== null && file.text !== undefined) {
    if (media === "application/json") {
      try {
        return textBlock(JSON.stringify(JSON.parse(file.text), null, 2));
      } catch {
        // shown as stored when it is not valid JSON
      }
    }
    return textBlock(file.text);
  }
  return h("p", { class: "muted" }, `This ${media || "binary"} file cannot be shown here; its digest is above.`);
}

/** Opens `path` of run `runId` in the viewer. */
export async function openFile(runId, path) {
  const body = overlay.open(path);
  mount(body, h("p", { class: "loading" }, "Reading and verifying…"));
  try {
    const file = await api.openFile(runId, path);
    mount(
      body,
      h(
        "dl",
        { class: "kv" },
        h("dt", {}, "Integrity"),
        h("dd", {}, integrityBadge(file.integrity)),
        h("dt", {}, "SHA-256"),
        h("dd", { class: "mono" }, file.sha256 ?? "—"),
        h("dt", {}, "Size"),
        h("dd", {}, `${formatBytes(file.size)} (${file.size} bytes)`),
        h("dt", {}, "Type"),
        h("dd", {}, file.media_type),
      ),
      content(file),
    );
  } catch (err) {
    mount(body, errorBox(err));
  }
}
