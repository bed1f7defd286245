//! Field-level differences between two JSON values, as JSON pointers (RFC 6901).

use std::collections::BTreeMap;

use serde_json::Value;

use super::change::FieldDiff;

/// The differences between `before` and `after`, under the pointer `base`: objects are
/// compared member by member, everything else (arrays included) as a whole value. An array
/// that changed is one difference with both whole values, so a reader sees the rule list
/// before and after rather than shifted indexes.
pub fn diff(base: &str, before: &Value, after: &Value) -> Vec<FieldDiff> {
    let mut out = Vec::new();
    walk(base, Some(before), Some(after), &mut out);
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

fn compact(v: &Value) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "?".to_owned())
}

fn walk(path: &str, before: Option<&Value>, after: Option<&Value>, out: &mut Vec<FieldDiff>) {
    match (before, after) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: BTreeMap<&str, ()> = BTreeMap::new();
            for k in a.keys().chain(b.keys()) {
                keys.insert(k, ());
            }
            for k in keys.keys() {
                walk(&format!("{path}/{}", escape(k)), a.get(*k), b.get(*k), out);
            }
        }
        (a, b) if a == b => {}
        // A member that is null on one side and absent on the other is no difference.
        (None, Some(Value::Null)) | (Some(Value::Null), None) => {}
        (a, b) => out.push(FieldDiff {
            path: if path.is_empty() {
                "/".to_owned()
            } else {
                path.to_owned()
            },
            before: a.map(compact),
            after: b.map(compact),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn members_are_compared_one_by_one_and_arrays_whole() {
        let a = json!({"a": 1, "b": {"c": "x", "d/e": [1, 2]}, "gone": true, "n": null});
        let b = json!({"a": 1, "b": {"c": "y", "d/e": [2, 1]}, "new": {"k": 1}});
        let d = diff("/configuration", &a, &b);
        let got: Vec<(&str, Option<&str>, Option<&str>)> = d
            .iter()
            .map(|f| (f.path.as_str(), f.before.as_deref(), f.after.as_deref()))
            .collect();
        assert_eq!(
            got,
            [
                ("/configuration/b/c", Some("\"x\""), Some("\"y\"")),
                ("/configuration/b/d~1e", Some("[1,2]"), Some("[2,1]")),
                ("/configuration/gone", Some("true"), None),
                ("/configuration/new", None, Some("{\"k\":1}")),
            ]
        );
        assert!(diff("", &a, &a).is_empty());
        assert_eq!(diff("", &json!(1), &json!(2))[0].path, "/");
    }
}
