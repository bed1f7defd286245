// Start-up and navigation. Screens are modules with `render(ctx, params)` returning an element
// (plus optional hooks); a small stack gives Esc its "go back" meaning.
import * as api from "./api.js";
import { h, mount } from "./dom.js";
import { errorBox } from "./errors.js";
import * as overlay from "./overlay.js";
import * as connect from "./screens/connect.js";
import * as runs from "./screens/runs.js";
import * as run from "./screens/run.js";
import * as sign from "./screens/sign.js";
import * as packages from "./screens/packages.js";
import * as audit from "./screens/audit.js";
import * as keys from "./screens/keys.js";
import * as evidence from "./screens/evidence.js";
import * as state from "./screens/state.js";

const SCREENS = { connect, runs, run, sign, packages, audit, evidence, state, keys };

const ctx = {
  /** AppInfo from the shell: home, version, demo connection. */
  info: null,
  /** The chosen connection: {kind: "demo" | "aws" | "import" | "offline", form}; form only for a bucket. */
  connection: null,
  go,
  back,
  replace,
};

const stack = [];
let current = null;

function show(entry) {
  if (current && current.dispose) current.dispose();
  const main = document.getElementById("main");
  const screen = SCREENS[entry.name];
  current = screen.render(ctx, entry.params ?? {}) ?? {};
  mount(main, current.el);
  // A screen opens at its top; going back returns to where the previous one was left.
  main.scrollTop = entry.scrollTop ?? 0;
  for (const b of document.querySelectorAll("[data-nav]")) {
    if (b.dataset.nav === entry.name) b.setAttribute("aria-current", "page");
    else b.removeAttribute("aria-current");
  }
  document.title = current.title ? `${current.title} — Countersign` : "Countersign";
  (current.focus ?? main).focus();
}

/** Opens a screen on top of the current one. */
function go(name, params) {
  if (stack.length) stack[stack.length - 1].scrollTop = document.getElementById("main").scrollTop;
  stack.push({ name, params });
  show(stack[stack.length - 1]);
}

/** Replaces the whole stack with one screen. */
function replace(name, params) {
  stack.length = 0;
  go(name, params);
}

/** Returns to the previous screen (Esc). */
function back() {
  if (stack.length > 1) {
    stack.pop();
    show(stack[stack.length - 1]);
  }
}

function onKey(event) {
  if (event.key !== "Escape") return;
  if (overlay.isOpen()) {
    overlay.close();
  } else if (current && current.onEscape && current.onEscape()) {
    // the screen handled it (e.g. cleared a search box)
  } else {
    back();
  }
  event.preventDefault();
}

function showTopbarInfo() {
  const info = ctx.info;
  mount(
    document.getElementById("topbar-info"),
    info.demo ? h("span", { class: "badge badge--recorded", title: info.demo.endpoint }, "Demo") : null,
    h("span", { title: "Countersign home" }, info.home),
    h("span", {}, `v${info.version}`),
  );
}

async function start() {
  document.addEventListener("keydown", onKey);
  document.getElementById("nav-connect").addEventListener("click", () => replace("connect"));
  for (const name of ["runs", "packages", "audit", "evidence", "state", "keys"]) {
    document.getElementById(`nav-${name}`).addEventListener("click", () => replace(name));
  }
  try {
    ctx.info = await api.appInfo();
  } catch (err) {
    mount(document.getElementById("main"), errorBox(err));
    return;
  }
  showTopbarInfo();
  replace("connect");
}

start();
