// The AWS profile, region and endpoint a call to S3 is made with, prefilled from the connection
// chosen on Connect. Each form that reaches AWS shows its own set, named `${prefix}-profile` and
// so on, so an error about one of them is shown at that form's field.
import { h } from "./dom.js";

/** The connection's AWS settings, when a bucket was connected to. */
export function connectionOf(ctx) {
  return ctx.connection && ctx.connection.form ? ctx.connection.form : {};
}

/** `s3://BUCKET/PREFIX` of the connection, or "" without one. */
export function connectionLocation(ctx) {
  const c = connectionOf(ctx);
  if (!c.bucket) return "";
  const prefix = String(c.prefix ?? "").replace(/^\/+|\/+$/g, "");
  return prefix ? `s3://${c.bucket}/${prefix}` : `s3://${c.bucket}`;
}

/** Three labelled fields; `value()` is the AwsForm of the app's commands. */
export function awsFields(prefix, ctx) {
  const conn = connectionOf(ctx);
  const field = (name, value, attrs = {}) => h("input", { type: "text", id: `${prefix}-${name}`, value: value ?? "", autocomplete: "off", spellcheck: "false", ...attrs });
  const profile = field("profile", conn.profile, { placeholder: "default credential chain" });
  const region = field("region", conn.region);
  const endpoint = field("endpoint", conn.endpoint);
  return {
    el: [h("label", {}, "AWS profile", profile), h("label", {}, "Region", region), h("label", { class: "wide" }, "Endpoint URL", endpoint)],
    value: () => ({ profile: profile.value, region: region.value, endpoint: endpoint.value }),
    fields: { profile, region, endpoint },
  };
}
