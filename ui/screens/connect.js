// Connect: where runs come from. Demo (when the demo started the app), an AWS account or an
// S3-compatible store, a folder or .zip carried over from the bucket (imported with the same
// checks), or offline work from what is already in the store.
import * as api from "../api.js";
import { h, pathRow } from "../dom.js";
import { showError } from "../errors.js";
import { chooserButton } from "../files.js";
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

  const importInput = h("input", { type: "text", name: "importPath", id: "import-path", value: previous && previous.kind === "import" ? previous.path : "", autocomplete: "off", spellcheck: "false", placeholder: "/media/usb/qualification-results or …/results.zip" });
  const importFields = h(
    "div",
    { class: "grid-form", id: "import-fields" },
    h(
      "label",
      { class: "wide" },
      "Folder or .zip (full path)",
      pathRow(
        importInput,
        h(
          "span",
          { class: "actions" },
          chooserButton(importInput, { mode: "folder", label: "Folder…", title: "Choose the folder copied from the bucket", id: "import-folder-browse" }),
          chooserButton(importInput, { mode: "open", label: ".zip…", title: "Choose the .zip copied from the bucket", filters: [{ name: "Zip archive", extensions: ["zip"] }], id: "import-zip-browse" }),
        ),
      ),
    ),
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

  const input = (name) => form.querySelector(`input[name=${name}]`);
  const fields = { profile: input("profile"), region: input("region"), bucket: input("bucket"), endpoint: input("endpoint"), path: importInput };

  // After a sync or import its report stays on screen until the user continues to the runs.
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
    go.disabled = true;
    try {
      if (k === "import") {
        const path = importInput.value;
        const report = await runImport(path, status, { fields, onContinue: () => ctx.replace("runs") });
        if (report && !report.cancelled) ctx.connection = { kind: "import", form: null, path };
      } else {
        const f = readForm();
        const report = await runSync(f, status, { fields, onContinue: () => ctx.replace("runs") });
        if (report) ctx.connection = { kind: k, form: f };
      }
    } catch (err) {
      showError(status, err, fields);
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
