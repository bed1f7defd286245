// A virtualised list: only the rows in view (plus a margin) exist in the DOM, so 10,000 cases
// scroll as smoothly as 10. Fixed row height; keyboard: arrows, Page Up/Down, Home/End, Enter.
// The rows are either all in the window (setItems) or asked for a page at a time as they come
// into view (setSource), so a long list need not be held by the window at all.
import { h } from "./dom.js";

const OVERSCAN = 8;

/**
 * @param {object} o
 * @param {string[]} o.columns header labels
 * @param {number} o.rowHeight pixels (must match .vrow in styles.css)
 * @param {(item: any, index: number) => Node[]} o.cells the cells of one row
 * @param {(item: any, index: number) => void} o.onSelect selection changed
 * @param {(item: any, index: number) => void} o.onOpen Enter or double click
 * @param {(err: any) => void} [o.onError] a page could not be fetched
 * @param {number} [o.pageSize] rows per fetched page
 * @param {(items: any[]) => void} [o.onVisible] the rows now wholly or partly in view (not the
 *   margin drawn around them) and already held, after every draw
 */
export function virtualList({ id, label, columns, rowHeight, cells, onSelect, onOpen, onVisible, onError = () => {}, pageSize = 100 }) {
  let total = 0;
  let rows = []; // the rows held, by index (sparse while pages are still to come)
  let fetchPage = null; // (offset, limit) => Promise<items>, when rows come in pages
  let generation = 0; // a new source drops the late pages of the old one
  const pending = new Set();
  let selected = -1;
  let owed = false; // onSelect is owed for a selected row whose page has not arrived yet
  const body = h("div", { class: "vlist-body", role: "rowgroup" });
  const head = h("div", { class: "vlist-head", role: "row" }, columns.map((c) => h("span", { role: "columnheader" }, c)));
  const el = h("div", { class: "vlist", id, tabindex: "0", role: "grid", "aria-label": label, "aria-rowcount": "0" }, head, body);
  const headHeight = () => head.offsetHeight || 30;

  function ensure(first, last) {
    if (!fetchPage) return;
    for (let p = Math.floor(first / pageSize); p * pageSize < last; p += 1) {
      const offset = p * pageSize;
      if (pending.has(p) || rows[offset] !== undefined) continue;
      pending.add(p);
      const gen = generation;
      fetchPage(offset, pageSize).then(
        (items) => {
          if (gen !== generation) return;
          pending.delete(p);
          items.forEach((item, k) => {
            rows[offset + k] = item;
          });
          draw();
          if (owed && rows[selected] !== undefined) {
            owed = false;
            onSelect(rows[selected], selected);
          }
        },
        (err) => {
          if (gen !== generation) return;
          pending.delete(p);
          onError(err);
        },
      );
    }
  }

  function draw() {
    const top = Math.max(0, el.scrollTop - headHeight());
    const first = Math.max(0, Math.floor(top / rowHeight) - OVERSCAN);
    const last = Math.min(total, Math.ceil((top + el.clientHeight) / rowHeight) + OVERSCAN);
    const out = [];
    for (let i = first; i < last; i += 1) {
      const item = rows[i];
      const attrs = { class: item === undefined ? "vrow vrow--loading" : "vrow", role: "row", "aria-rowindex": String(i + 1), "aria-selected": i === selected ? "true" : "false", dataset: { index: String(i) } };
      const row = h("div", attrs, item === undefined ? [h("span", { class: "muted" }, "…")] : cells(item, i));
      for (const cell of row.children) cell.setAttribute("role", "gridcell");
      row.style.transform = `translateY(${i * rowHeight}px)`;
      out.push(row);
    }
    body.replaceChildren(...out);
    if (onVisible && total && el.clientHeight > 0) {
      const from = Math.floor(top / rowHeight);
      const to = Math.min(total, Math.ceil((top + el.clientHeight - headHeight()) / rowHeight));
      const seen = rows.slice(from, to).filter((r) => r !== undefined);
      if (seen.length) onVisible(seen);
    }
    ensure(first, last);
  }

  function scrollIntoView(i) {
    const rowTop = i * rowHeight + headHeight();
    if (rowTop - headHeight() < el.scrollTop) el.scrollTop = rowTop - headHeight();
    else if (rowTop + rowHeight > el.scrollTop + el.clientHeight) el.scrollTop = rowTop + rowHeight - el.clientHeight;
  }

  function select(i, { scroll = true } = {}) {
    if (total === 0) {
      selected = -1;
      draw();
      return;
    }
    selected = Math.max(0, Math.min(total - 1, i));
    if (scroll) scrollIntoView(selected);
    draw();
    if (rows[selected] !== undefined) {
      owed = false;
      onSelect(rows[selected], selected);
    } else {
      owed = true;
      ensure(selected, selected + 1);
    }
  }

  function open(i) {
    if (rows[i] !== undefined) onOpen(rows[i], i);
  }

  function reset(count) {
    generation += 1;
    pending.clear();
    owed = false;
    total = count;
    body.style.height = `${total * rowHeight}px`;
    el.setAttribute("aria-rowcount", String(total));
    el.scrollTop = 0;
    if (total) select(0);
    else {
      selected = -1;
      draw();
      onSelect(null, -1);
    }
  }

  el.addEventListener("scroll", () => requestAnimationFrame(draw), { passive: true });
  el.addEventListener("click", (e) => {
    const row = e.target.closest(".vrow");
    if (row) select(Number(row.dataset.index), { scroll: false });
  });
  el.addEventListener("dblclick", (e) => {
    const row = e.target.closest(".vrow");
    if (row) open(Number(row.dataset.index));
  });
  el.addEventListener("keydown", (e) => {
    const page = Math.max(1, Math.floor(el.clientHeight / rowHeight) - 1);
    const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: page, PageUp: -page };
    if (e.key in moves) select(selected < 0 ? 0 : selected + moves[e.key]);
    else if (e.key === "Home") select(0);
    else if (e.key === "End") select(total - 1);
    else if (e.key === "Enter" && selected >= 0) open(selected);
    else return;
    e.preventDefault();
  });
  if (typeof ResizeObserver === "function") new ResizeObserver(() => draw()).observe(el);

  return {
    el,
    /** Replaces the rows with these (all held by the window) and selects the first. */
    setItems(next) {
      fetchPage = null;
      rows = next;
      reset(next.length);
    },
    /**
     * Replaces the rows with `count` rows fetched a page at a time by `page(offset, limit)`
     * (a promise of the rows), starting from `firstRows` (the rows from 0 already at hand),
     * and selects the first.
     */
    setSource(count, page, firstRows = []) {
      fetchPage = page;
      rows = firstRows.slice();
      reset(count);
    },
    /** Selects the row at `index` (fetching its page if needed). */
    selectIndex(index) {
      select(index);
    },
    /** Draws the rows in view again (after the data behind `cells` changed). */
    redraw() {
      draw();
    },
    /** Selects the first held row for which `pred` is true. */
    selectWhere(pred) {
      const i = rows.findIndex((r) => r !== undefined && pred(r));
      if (i >= 0) select(i);
      return i >= 0;
    },
    /** The rows held so far (sparse while pages are still to come). */
    get items() {
      return rows;
    },
  };
}
