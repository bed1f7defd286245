// Connect: where runs come from. Demo (when the demo started the app), an AWS account or an
// S3-compatible store, a folder or .zip carried over from the bucket (imported with the same
// checks), or offline work from what is already in the store.
import * as api from "../api.js";
import { h } from "../dom.js";
import { errorBox } from "../errors.js";
import { runImport, runSync } from "../sync.js";

function field(label, name, value, attrs = {}) {
  return h("label", { class: attrs.wide ? "wide" : null }, label, h("input", { type: "text", name, value: value ?? "", autocomplete: "off", spellcheck: "false", ...attrs, wide: null }));
}

export function render(ctx) {
  const demo = ctx.info.demo;
  const previous = ctx.connection;
  const initialKind = previous ? previous.kind : demo ? "demo" : "aws";
  const prevForm = previous && previous.kind === "aws" ? previous.form : {};

  const choice = (kind, title, hint, disabled) =>
    h(
      "label",
      { class: "choice" },
      h("input", { type: "radio", name: "kind", value: kind, checked: kind === initialKind, disabled, id: `kind-${kind}` }),
      h("span", {}, title, h("small", {}, hint)),
    );

  const awsFields = h(
    "div",
    { class: "grid-form", id: "aws-fields" },
    field("AWS profile", "profile", prevForm.profile, { placeholder: "default credential chain" }),
    field("Region", "region", prevForm.region, { placeholder: "from the profile" }),
    field("Bucket", "bucket", prevForm.bucket, { placeholder: "qualification-results" }),
    field("Prefix", "prefix", prevForm.prefix, { placeholder: "optional, e.g. results/" }),
    field("Endpoint URL", "endpoint", prevForm.endpoint, { wide: true, placeholder: "only for S3-compatible stores, e.g. http://127.0.0.1:9000" }),
  );

  const importFields = h(
    "div",
    { class: "grid-form", id: "import-fields" },
    field("Folder or .zip (full path)", "importPath", previous && previous.kind === "import" ? previous.path : "", { wide: true, id: "import-path", placeholder: "/media/usb/qualification-results or …/results.zip" }),
  );

  const form = h(
    "form",
    { class: "connect", id: "connect-form", novalidate: true },
    h("h1", {}, "Connect"),
    h("p", { class: "muted" }, "Choose where qualification runs come from. Syncing copies new objects into the local store; nothing in the bucket is changed."),
    h(
      "fieldset",
      {},
      h("legend", {}, "Source"),
      demo ? choice("demo", "Demo", `The local demo emulator at ${demo.endpoint}, bucket ${demo.bucket}`, false) : null,
      choice("aws", "AWS or an S3-compatible store", "Sync from a bucket with your AWS profile", false),
      choice("import", "Import a folder or .zip", "Results copied from the bucket (same layout), e.g. on removable media; checked exactly as a sync checks them", false),
      choice("offline", "Offline", "Work from the runs already in the local store (no network)", false),
      awsFields,
      importFields,
    ),
    h("div", { class: "actions" }, h("button", { type: "submit", class: "primary", id: "connect-go" }, "Continue")),
    h("div", { id: "connect-status" }),
  );

  const kind = () => form.querySelector("input[name=kind]:checked")?.value ?? "aws";
  const update = () => {
    awsFields.classList.toggle("hidden", kind() !== "aws");
    importFields.classList.toggle("hidden", kind() !== "import");
  };
  form.addEventListener("change", update);
  update();

  const readForm = () => {
    if (kind() === "demo") {
      return { endpoint: demo.endpoint, bucket: demo.bucket, prefix: demo.prefix, region: demo.region, profile: "" };
    }
    const value = (name) => form.querySelector(`input[name=${name}]`).value;
    return {
      profile: value("profile"),
      region: value("region"),
      bucket: value("bucket"),
      prefix: value("prefix"),
      endpoint: value("endpoint"),
    };
  };

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const status = form.querySelector("#connect-status");
    const go = form.querySelector("#connect-go");
    const k = kind();
    if (k === "offline") {
      ctx.connection = { kind: "offline", form: null };
      ctx.replace("runs");
      return;
    }
    if (k === "import") {
      const path = form.querySelector("#import-path").value;
      go.disabled = true;
      try {
        const report = await runImport(path, status);
        if (report && !report.cancelled) {
          ctx.connection = { kind: "import", form: null, path };
          ctx.replace("runs");
        }
      } finally {
        go.disabled = false;
      }
      return;
    }
    const f = readForm();
    go.disabled = true;
    try {
      const report = await runSync(f, status);
      if (report) {
        ctx.connection = { kind: k, form: f };
        ctx.replace("runs");
      }
    } catch (err) {
      status.replaceChildren(errorBox(err));
    } finally {
      go.disabled = false;
    }
  });

  // Offline is the fallback when there is no connection at all.
  api.listRuns().then(
    (runs) => {
      const hint = form.querySelector("#kind-offline + span small");
      if (hint) hint.textContent = `Work from the ${runs.length} run${runs.length === 1 ? "" : "s"} already in the local store (no network)`;
    },
    () => {},
  );

  return { el: form, title: "Connect", focus: form.querySelector("input[name=kind]:checked") };
}
