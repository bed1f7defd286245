// A virtualised list: only the rows in view (plus a margin) exist in the DOM, so 10,000 cases
// scroll as smoothly as 10. Fixed row height; keyboard: arrows, Page Up/Down, Home/End, Enter.
import { h } from "./dom.js";

const OVERSCAN = 8;

/**
 * @param {object} o
 * @param {string[]} o.columns header labels
 * @param {number} o.rowHeight pixels (must match .vrow in styles.css)
 * @param {(item: any, index: number) => Node[]} o.cells the cells of one row
 * @param {(item: any, index: number) => void} o.onSelect selection changed
 * @param {(item: any, index: number) => void} o.onOpen Enter or double click
 * @param {(items: any[]) => void} [o.onVisible] the rows now wholly or partly in view (not the
 *   margin drawn around them), after every draw
 */
export function virtualList({ id, label, columns, rowHeight, cells, onSelect, onOpen, onVisible }) {
  let items = [];
  let selected = -1;
  const body = h("div", { class: "vlist-body", role: "rowgroup" });
  const head = h("div", { class: "vlist-head", role: "row" }, columns.map((c) => h("span", { role: "columnheader" }, c)));
  const el = h("div", { class: "vlist", id, tabindex: "0", role: "grid", "aria-label": label, "aria-rowcount": "0" }, head, body);
  const headHeight = () => head.offsetHeight || 30;

  function draw() {
    const top = Math.max(0, el.scrollTop - headHeight());
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(items.length, Math.ceil((top + el.clientHeight) / rowHeight) + OVERSCAN);
    const rows = [];
    for (let i = first; i < last; i += 1) {
      const row = h("div", { class: "vrow", role: "row", "aria-rowindex": String(i + 1), "aria-selected": i === selected ? "true" : "false", dataset: { index: String(i) } }, cells(items[i], i));
      for (const cell of row.children) cell.setAttribute("role", "gridcell");
      row.style.transform = `translateY(${i * rowHeight}px)`;
      rows.push(row);
    }
    body.replaceChildren(...rows);
    if (onVisible && items.length && el.clientHeight > 0) {
      const from = Math.floor(top / rowHeight);
      const to = Math.min(items.length, Math.ceil((top + el.clientHeight - headHeight()) / rowHeight));
      if (to > from) onVisible(items.slice(from, to));
    }
  }

  function scrollIntoView(i) {
    const rowTop = i * rowHeight + headHeight();
    if (rowTop - headHeight() < el.scrollTop) el.scrollTop = rowTop - headHeight();
    else if (rowTop + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = rowTop + rowHeight - el.clientHeight;
  }

  function select(i, { scroll = true } = {}) {
    if (items.length === 0) {
      selected = -1;
      draw();
      return;
    }
    selected = Math.max(0, Math.min(items.length - 1, i));
    if (scroll) scrollIntoView(selected);
    draw();
    onSelect(items[selected], selected);
  }

  el.addEventListener("scroll", () => requestAnimationFrame(draw), { passive: true });
  el.addEventListener("click", (e) => {
    const row = e.target.closest(".vrow");
    if (row) select(Number(row.dataset.index), { scroll: false });
  });
  el.addEventListener("dblclick", (e) => {
    const row = e.target.closest(".vrow");
    if (row) onOpen(items[Number(row.dataset.index)], Number(row.dataset.index));
  });
  el.addEventListener("keydown", (e) => {
    const page = Math.max(1, Math.floor(el.clientHeight / rowHeight) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) select(selected < 0 ? 0 : selected + moves[e.key]);
    else if (e.key === "Home") select(0);
    else if (e.key === "End") select(items.length - 1);
    else if (e.key === "Enter" && selected >= 0) onOpen(items[selected], selected);
    else return;
    e.preventDefault();
  });
  if (typeof ResizeObserver === "function") new ResizeObserver(() => draw()).observe(el);

  return {
    el,
    /** Replaces the rows and selects the first (or nothing when empty). */
    setItems(next) {
      items = next;
      body.style.height = `${items.length * rowHeight}px`;
      el.setAttribute("aria-rowcount", String(items.length));
      el.scrollTop = 0;
      if (items.length) select(0);
      else {
        selected = -1;
        draw();
        onSelect(null, -1);
      }
    },
    /** Draws the rows in view again (after the data behind `cells` changed). */
    redraw() {
      draw();
    },
    /** Selects the row for which `pred` is true. */
    selectWhere(pred) {
      const i = items.findIndex(pred);
      if (i >= 0) select(i);
      return i >= 0;
    },
    get items() {
      return items;
    },
  };
}
