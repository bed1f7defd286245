//! The change list and the CloudTrail calls of a qualified-state check as CSV, for the
//! spreadsheets and BI tools teams otherwise feed from Athena. RFC 4180: every field quoted,
//! `"` doubled, CRLF between records; a field that a spreadsheet would read as a formula (it
//! starts with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, because
//! evidence strings (user names, resource names, values) come from the AWS account, not from
//! us.

use super::change::{Change, EventRef};
use super::findings::Findings;

/// The header of [`changes_csv`].
pub const CHANGES_HEADER: &[&str] = &[
    "system",
    "change_id",
    "kind",
    "time_utc",
    "resource_type",
    "resource_id",
    "resource_name",
    "summary",
    "differences",
    "who",
    "calls",
    "source_ips",
    "assessed_impact",
    "assessed_by",
    "assessed_at_utc",
    "assessment_reference",
];

/// The header of [`events_csv`].
pub const EVENTS_HEADER: &[&str] = &[
    "system",
    "time_utc",
    "event_source",
    "event_name",
    "principal",
    "source_ip",
    "region",
    "resources",
    "error_code",
    "error_message",
    "read_only",
    "event_id",
    "log_key",
    "digest_validated",
];

/// Every change of every system, one row each, in the order the findings list them.
pub fn changes_csv(findings: &[&Findings]) -> String {
    let mut out = String::new();
    row(&mut out, CHANGES_HEADER.iter().copied());
    for f in findings {
        for c in &f.changes {
            let cells = change_cells(&f.system, c);
            row(&mut out, cells.iter().map(String::as_str));
        }
    }
    out
}

/// Every CloudTrail call on each system's resources in the period (`events`, per system, in
/// time order), one row each.
pub fn events_csv(systems: &[(&str, &[EventRef])]) -> String {
    let mut out = String::new();
    row(&mut out, EVENTS_HEADER.iter().copied());
    for (system, events) in systems {
        for e in *events {
            let cells = [
                system.to_string(),
                e.time.to_string(),
                e.event_source.clone(),
                e.event_name.clone(),
                e.principal.clone().unwrap_or_default(),
                e.source_ip.clone().unwrap_or_default(),
                e.region.clone().unwrap_or_default(),
                e.resources.join(" "),
                e.error_code.clone().unwrap_or_default(),
                e.error_message.clone().unwrap_or_default(),
                e.read_only.to_string(),
                e.event_id.clone().unwrap_or_default(),
                e.log_key.clone(),
                e.validated.to_string(),
            ];
            row(&mut out, cells.iter().map(String::as_str));
        }
    }
    out
}

fn change_cells(system: &str, c: &Change) -> Vec<String> {
    let resource = c.resource.as_ref();
    let differences = c
        .differences
        .iter()
        .map(|d| {
            format!(
                "{}: {} -> {}",
                d.path,
                d.before.as_deref().unwrap_or("(none)"),
                d.after.as_deref().unwrap_or("(none)")
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let mut who: Vec<&str> = c.events.iter().map(EventRef::who).collect();
    who.dedup();
    let calls: Vec<&str> = c.events.iter().map(|e| e.event_name.as_str()).collect();
    let mut ips: Vec<&str> = c
        .events
        .iter()
        .filter_map(|e| e.source_ip.as_deref())
        .collect();
    ips.dedup();
    let a = c.assessment.as_ref();
    vec![
        system.to_owned(),
        c.id.to_hex(),
        c.kind.label().to_owned(),
        c.at.map(|t| t.to_string()).unwrap_or_default(),
        resource
            .map(|r| r.resource_type.clone())
            .unwrap_or_default(),
        resource.map(|r| r.resource_id.clone()).unwrap_or_default(),
        resource.and_then(|r| r.name.clone()).unwrap_or_default(),
        c.summary.clone(),
        differences,
        who.join(" "),
        calls.join(" "),
        ips.join(" "),
        a.map(|a| a.impact.label().to_owned()).unwrap_or_default(),
        a.map(|a| format!("{} ({})", a.printed_name, a.iam_arn))
            .unwrap_or_default(),
        a.map(|a| a.signed_at.to_string()).unwrap_or_default(),
        a.and_then(|a| a.reference.clone()).unwrap_or_default(),
    ]
}

fn row<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        field(out, cell);
    }
    out.push_str("\r\n");
}

fn field(out: &mut String, v: &str) {
    out.push('"');
    if v.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        out.push('\'');
    }
    out.push_str(&v.replace('"', "\"\""));
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_doubled_and_never_read_as_formulas() {
        let mut out = String::new();
        row(
            &mut out,
            ["plain", "say \"hi\"", "=HYPERLINK(\"x\")", "-1", "a,b\nc"].into_iter(),
        );
        assert_eq!(
            out,
            "\"plain\",\"say \"\"hi\"\"\",\"'=HYPERLINK(\"\"x\"\")\",\"'-1\",\"a,b\nc\"\r\n"
        );
    }

    #[test]
    fn empty_findings_give_the_header_alone() {
        assert_eq!(
            changes_csv(&[]),
            format!(
                "{}\r\n",
                CHANGES_HEADER
                    .iter()
                    .map(|h| format!("\"{h}\""))
                    .collect::<Vec<_>>()
                    .join(",")
            )
        );
        assert!(events_csv(&[]).starts_with("\"system\",\"time_utc\""));
    }
}
