//! The window's words for what the service says. The service's messages are shared with the
//! command line, so where they tell the user what to do they name its flags and commands
//! (`--reason TEXT`, `countersign keys init`). The window has fields and screens instead: an
//! error reaches it as a [`WindowError`], its message with those pointers rewritten into the
//! window's words and the field it is about named, so the form can mark that field. Nothing else
//! of the message changes: what happened and the detail stay as the service said them.

use countersign_service::{ErrorCode, PackageVerification, ServiceError};
use serde::Serialize;

/// A field of the window's forms that an error can be about. The window marks the field with
/// the same name on the form that made the call (see `ui/errors.js`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Reason,
    Reference,
    Bucket,
    Profile,
    Region,
    Endpoint,
    MfaSerial,
    MfaCode,
    Passphrase,
    Key,
    UpTo,
    Since,
    Until,
    Actor,
    Action,
    ObjectKind,
    Object,
    /// Where a file is written (package PDF, export, backup, saved key).
    Out,
    /// The optional package bundle.
    Bundle,
    /// A file or folder to read (import, package to verify).
    Path,
    TrustedKeys,
    PrintedName,
    /// The runs chosen for a package.
    Runs,
    /// An S3 location (`s3://BUCKET/PREFIX`) to publish to or read from.
    Location,
    /// A number of days (Object Lock retention).
    Days,
    /// A CloudFormation stack name.
    Stack,
}

/// An error as the window receives it: the service's code, the message in the window's words,
/// and the field it is about (when it is about one).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct WindowError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<Field>,
}

impl From<ServiceError> for WindowError {
    fn from(e: ServiceError) -> Self {
        let (message, field) = for_window(&e.message);
        WindowError {
            code: e.code,
            message,
            field,
        }
    }
}

impl WindowError {
    /// An error of the window's own forms about `field`.
    pub fn at(field: Field, e: ServiceError) -> Self {
        let (message, _) = for_window(&e.message);
        WindowError {
            code: e.code,
            message,
            field: Some(field),
        }
    }
}

/// Whole phrases of the service's messages and how the window says them, longest first where
/// one contains another. A phrase names the field the message is about.
const PHRASES: &[(&str, &str, Option<Field>)] = &[
    (" (--reason TEXT)", "", Some(Field::Reason)),
    (
        "a disposition needs a reference (--ref ID):",
        "a disposition needs a reference:",
        Some(Field::Reference),
    ),
    (
        "; pass --mfa-serial ARN",
        ": enter the MFA device serial (its ARN)",
        Some(Field::MfaSerial),
    ),
    (
        ", or pass --mfa-serial",
        ", or enter the MFA device serial",
        Some(Field::MfaSerial),
    ),
    (
        ", and check the device serial (--mfa-serial)",
        ", and check the MFA device serial",
        Some(Field::MfaCode),
    ),
    (
        "pass --bucket NAME",
        "enter the bucket name",
        Some(Field::Bucket),
    ),
    (
        "; sign one first with `countersign state review`",
        "; sign the periodic review of this period first",
        None,
    ),
    (
        "the period ends before it starts: write FROM..TO with FROM first",
        "“To” must be later than “From”",
        Some(Field::Until),
    ),
    ("which is not past yet", "which is not past yet", Some(Field::Until)),
    ("the period's start", "“From”", Some(Field::Since)),
    ("the period's end", "“To”", Some(Field::Until)),
    (
        "--up-to must name an entry",
        "“Reviewed up to entry” must name an entry",
        Some(Field::UpTo),
    ),
    (
        "; create one with `countersign keys init --name \"Full Name\"`",
        ": create one under Keys, then enroll it",
        Some(Field::Key),
    ),
    (
        "; choose one with --key KEY_ID",
        "; choose one in the key list",
        Some(Field::Key),
    ),
    (
        "; choose another with --home or COUNTERSIGN_HOME",
        "; start the app with another home (COUNTERSIGN_HOME)",
        None,
    ),
    (
        "pass --retention-days N or write",
        "enter the retention period in days, or write",
        Some(Field::Days),
    ),
    (
        "; fix the cause and run `countersign ledger checkpoint --publish` again",
        "; fix the cause and publish the checkpoint again",
        None,
    ),
    (
        "; build with --trail-public-key to validate the chain",
        "; the chain is validated when the package is built with the CloudTrail public key",
        None,
    ),
    (
        "configure credentials: `aws configure --profile NAME`, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or `aws sso login`, then pass --profile NAME",
        "configure credentials for an AWS profile (`aws configure`, or `aws sso login` for a single sign-on profile), then enter its name in “AWS profile”",
        Some(Field::Profile),
    ),
    (
        "(and --profile/--region: the bucket may live in another account)",
        "(and the AWS profile and region: the bucket may live in another account)",
        Some(Field::Bucket),
    ),
    (
        "(and --endpoint-url)",
        "(and the Endpoint URL)",
        Some(Field::Endpoint),
    ),
    (
        "(check --endpoint-url)",
        "(check the Endpoint URL)",
        Some(Field::Endpoint),
    ),
    (
        "pass --region with the bucket's region",
        "enter the bucket's region in “Region”",
        Some(Field::Region),
    ),
    (
        "set --region, AWS_REGION, or `region = ...` in the profile of ~/.aws/config",
        "enter a region in “Region”, or set `region = ...` in the profile of ~/.aws/config",
        Some(Field::Region),
    ),
    (
        "retry later or lower --concurrency",
        "retry later",
        None,
    ),
    (
        "(stack.name) or --stack, and --region:",
        "(stack.name) and the region:",
        None,
    ),
    (
        "check the stack name and --region",
        "check the stack name and the region",
        None,
    ),
    (
        "or leave out --object-lock-days",
        "or publish without an Object Lock period",
        None,
    ),
    (
        "no trusted key list given (--trusted-keys):",
        "no trusted public keys file given:",
        Some(Field::TrustedKeys),
    ),
    (
        " (aws s3api create-bucket --object-lock-enabled-for-bucket)",
        " (Object Lock is switched on when a bucket is created)",
        None,
    ),
    (
        "run the command again",
        "try again",
        None,
    ),
    (
        "(fetch or import first)",
        "(sync or import first)",
        None,
    ),
    (
        "run fetch again",
        "sync again",
        None,
    ),
];

/// Flags that can remain after the phrases, as the window calls the thing they set. Matched as
/// whole flags (`--object` is not the start of `--object-kind`).
const FLAGS: &[(&str, &str, Option<Field>)] = &[
    ("--since", "“Since”", Some(Field::Since)),
    ("--until", "“Until”", Some(Field::Until)),
    ("--actor", "“Actor”", Some(Field::Actor)),
    ("--action", "“Action”", Some(Field::Action)),
    ("--object-kind", "“Object kind”", Some(Field::ObjectKind)),
    ("--object", "“Object id”", Some(Field::Object)),
    ("--reason", "the reason", Some(Field::Reason)),
    ("--ref", "the reference", Some(Field::Reference)),
    ("--bucket", "the bucket", Some(Field::Bucket)),
    ("--prefix", "the prefix", None),
    ("--profile", "the AWS profile", Some(Field::Profile)),
    ("--region", "the region", Some(Field::Region)),
    ("--endpoint-url", "the Endpoint URL", Some(Field::Endpoint)),
    (
        "--mfa-serial",
        "the MFA device serial",
        Some(Field::MfaSerial),
    ),
    ("--key", "the key", Some(Field::Key)),
    ("--admin-key", "your key (administrator)", Some(Field::Key)),
    ("--up-to", "“Reviewed up to entry”", Some(Field::UpTo)),
    ("--period", "the period", Some(Field::Since)),
    (
        "--trusted-keys",
        "the trusted public keys file",
        Some(Field::TrustedKeys),
    ),
    ("--concurrency", "the number of parallel downloads", None),
    (
        "--object-lock-days",
        "the Object Lock period",
        Some(Field::Days),
    ),
    (
        "--retention-days",
        "the retention period",
        Some(Field::Days),
    ),
    ("--trail-public-key", "the CloudTrail public key", None),
    ("--stack", "the stack", Some(Field::Stack)),
    ("--home", "the Countersign home", None),
    ("--name", "the printed name", Some(Field::PrintedName)),
    ("--to", "the destination", None),
    ("--from", "the source", None),
    ("--out", "where to save", Some(Field::Out)),
    ("--bundle", "the bundle", Some(Field::Bundle)),
    ("--publish", "publishing", None),
];

/// The window's own form messages (src-tauri/src/forms.rs) and the field each is about.
const FORM_FIELDS: &[(&str, Field)] = &[
    ("a signature needs a reason", Field::Reason),
    ("the reason is ", Field::Reason),
    ("a revocation needs a reason", Field::Reason),
    ("a re-open needs a reason", Field::Reason),
    ("choose the key to revoke", Field::Key),
    ("enter the MFA device serial", Field::MfaSerial),
    ("names none (mfa_serial)", Field::MfaSerial),
    ("the last entry you reviewed", Field::UpTo),
    ("the two passphrase entries differ", Field::Passphrase),
    ("for the bundle ", Field::Bundle),
    ("the bundle /", Field::Bundle),
    ("for the package PDF ", Field::Out),
    ("the package PDF /", Field::Out),
    ("for the file ", Field::Out),
    ("already exists; choose a new", Field::Out),
    ("where to save the package PDF", Field::Out),
    ("where to save the bundle", Field::Bundle),
    ("where to save the export", Field::Out),
    ("where to save the ledger backup", Field::Out),
    ("where to save the public key", Field::Out),
    ("the package file to verify", Field::Path),
    ("the folder or .zip file to import", Field::Path),
    ("the trusted-keys file", Field::TrustedKeys),
    ("is not an http:// or https:// URL", Field::Endpoint),
    ("a disposition needs a reason", Field::Reason),
    ("a periodic review needs a reason", Field::Reason),
    ("choose the first day of the period", Field::Since),
    ("choose the day the period reviewed ends", Field::Until),
    ("where to save the report PDF", Field::Out),
    ("for the report PDF ", Field::Out),
    ("a disposition needs a reference", Field::Reference),
    ("an audit-trail review needs a reason", Field::Reason),
    ("enter the S3 bucket to sync from", Field::Bucket),
    ("name at least one run to package", Field::Runs),
];

/// A package verification with each check's detail and problems in the window's words.
pub fn verification(mut v: PackageVerification) -> PackageVerification {
    for (_, report) in &mut v.reports {
        for check in &mut report.checks {
            check.detail = for_window(&check.detail).0;
            for p in &mut check.problems {
                *p = for_window(p).0;
            }
        }
    }
    v
}

/// The service's `message` in the window's words, and the field it is about.
pub fn for_window(message: &str) -> (String, Option<Field>) {
    let mut text = message.to_owned();
    let mut field = None;
    for (cli, window, f) in PHRASES {
        if text.contains(cli) {
            text = text.replace(cli, window);
            field = field.or(*f);
        }
    }
    text = without_commands(&text);
    for (flag, window, f) in FLAGS {
        let (replaced, hit) = replace_flag(&text, flag, window);
        if hit {
            text = replaced;
            field = field.or(*f);
        }
    }
    if field.is_none() {
        field = FORM_FIELDS
            .iter()
            .find(|(phrase, _)| text.contains(phrase))
            .map(|(_, f)| *f);
    }
    (text, field)
}

/// Commands of the command line that service messages quote, and where the window does the
/// same thing (longest first where one starts another).
const COMMANDS: &[(&str, &str)] = &[
    ("keys init", "Keys → Create a signer key"),
    ("keys enroll", "Keys → Enroll a key"),
    ("keys revoke", "Keys → Revoke"),
    ("ledger verify", "Audit trail → Verify chain"),
    (
        "ledger checkpoint",
        "the checkpoint publication (command line)",
    ),
    ("signoff", "the sign-off hand-off (command line)"),
    ("runs", "the Runs screen"),
    ("show", "the run's Cases tab"),
    ("sign", "the Sign screen"),
    ("reopen", "the Sign screen's Re-open panel"),
];

/// A `countersign …` command quoted in backticks becomes the place in the window that does the
/// same thing (or "the command line" for what only the command line does).
fn without_commands(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("`countersign ") {
        out.push_str(&rest[..start]);
        let after = &rest[start + "`countersign ".len()..];
        let end = after.find('`').unwrap_or(after.len());
        let command = &after[..end];
        let window = COMMANDS
            .iter()
            .find(|(c, _)| {
                command == *c
                    || command
                        .strip_prefix(c)
                        .is_some_and(|tail| tail.starts_with(' '))
            })
            .map_or("the command line", |(_, w)| w);
        out.push_str(window);
        rest = after.get(end + 1..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

/// Replaces each whole occurrence of `flag` (not followed by a letter, digit or `-`), with its
/// placeholder argument (`NAME`, `TEXT`, `N`, …) when one follows.
fn replace_flag(text: &str, flag: &str, window: &str) -> (String, bool) {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut hit = false;
    while let Some(i) = rest.find(flag) {
        let after = &rest[i + flag.len()..];
        let whole = !after
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-');
        out.push_str(&rest[..i]);
        if whole {
            out.push_str(window);
            hit = true;
            rest = skip_placeholder(after);
        } else {
            out.push_str(flag);
            rest = after;
        }
    }
    out.push_str(rest);
    (out, hit)
}

/// Skips a " NAME"-style placeholder after a flag: a space then upper-case letters, digits and
/// `_` (at least two characters, or `N`).
fn skip_placeholder(after: &str) -> &str {
    let Some(tail) = after.strip_prefix(' ') else {
        return after;
    };
    let len = tail
        .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .unwrap_or(tail.len());
    let word = &tail[..len];
    if word.len() >= 2 || word == "N" {
        &tail[len..]
    } else {
        after
    }
}

/// Whether `text` still names a command-line flag or a `countersign` command.
pub fn names_the_command_line(text: &str) -> bool {
    let bytes = text.as_bytes();
    let flag = bytes.windows(3).enumerate().any(|(i, w)| {
        w[0] == b'-'
            && w[1] == b'-'
            && w[2].is_ascii_lowercase()
            && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric() && bytes[i - 1] != b'-')
    });
    flag || SUBCOMMANDS
        .iter()
        .any(|c| text.contains(&format!("countersign {c}")))
}

/// The command line's subcommands (crates/cli/src/args.rs).
const SUBCOMMANDS: &[&str] = &[
    "demo",
    "fetch",
    "import",
    "runs",
    "show",
    "audit-evidence",
    "disposition",
    "keys",
    "sign",
    "signoff",
    "package",
    "verify",
    "ledger",
];

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;

    #[test]
    fn the_issue_s_examples_read_in_the_window_s_words() {
        for (service, window, field) in [
            (
                "a signature needs a reason (--reason TEXT)",
                "a signature needs a reason",
                Some(Field::Reason),
            ),
            (
                "no usable key in /h/keys; create one with `countersign keys init --name \"Full Name\"`",
                "no usable key in /h/keys: create one under Keys, then enroll it",
                Some(Field::Key),
            ),
            (
                "list objects in s3://b/: network: check the network connection (and --endpoint-url) and run the command again; completed downloads are kept",
                "list objects in s3://b/: network: check the network connection (and the Endpoint URL) and try again; completed downloads are kept",
                Some(Field::Endpoint),
            ),
            (
                "--since \"last tuesday\" is not a time: write 2026-03-01 (00:00 UTC) or 2026-03-01T09:30:00Z",
                "“Since” \"last tuesday\" is not a time: write 2026-03-01 (00:00 UTC) or 2026-03-01T09:30:00Z",
                Some(Field::Since),
            ),
            (
                "--until must be later than --since (--since is inclusive, --until exclusive)",
                "“Until” must be later than “Since” (“Since” is inclusive, “Until” exclusive)",
                Some(Field::Since),
            ),
            (
                "--object-kind must not be empty",
                "“Object kind” must not be empty",
                Some(Field::ObjectKind),
            ),
            (
                "no trusted key list given (--trusted-keys): the embedded keys were used as they are",
                "no trusted public keys file given: the embedded keys were used as they are",
                Some(Field::TrustedKeys),
            ),
            (
                "no run \"X/OQ/1\" in the store; `countersign runs` lists what is there (fetch or import first)",
                "no run \"X/OQ/1\" in the store; the Runs screen lists what is there (sync or import first)",
                None,
            ),
            (
                "the key ab is not enrolled; enroll it first with `countersign keys enroll`",
                "the key ab is not enrolled; enroll it first with Keys → Enroll a key",
                None,
            ),
            (
                "no sign-off at s3://b/p: record.json is missing; the previous signer publishes it with `countersign signoff publish A/OQ/1 --to s3://b/p`",
                "no sign-off at s3://b/p: record.json is missing; the previous signer publishes it with the sign-off hand-off (command line)",
                None,
            ),
            (
                "enter where to save the package PDF",
                "enter where to save the package PDF",
                Some(Field::Out),
            ),
            (
                "the folder /o/x for the package PDF does not exist; choose an existing folder, or create it first",
                "the folder /o/x for the package PDF does not exist; choose an existing folder, or create it first",
                Some(Field::Out),
            ),
            (
                "the folder /o/x for the bundle does not exist; choose an existing folder, or create it first",
                "the folder /o/x for the bundle does not exist; choose an existing folder, or create it first",
                Some(Field::Bundle),
            ),
            (
                "/o/t.csv already exists; choose a new file name (nothing is overwritten)",
                "/o/t.csv already exists; choose a new file name (nothing is overwritten)",
                Some(Field::Out),
            ),
        ] {
            let (text, f) = for_window(service);
            assert_eq!(text, window, "{service}");
            assert_eq!(f, field, "{service}");
            assert!(!names_the_command_line(&text), "{text}");
        }
        // A message that names no flag is left exactly as it was.
        let plain = "LIMS/OQ/1 is not in the store; sync it first";
        assert_eq!(for_window(plain), (plain.to_owned(), None));
    }

    #[test]
    fn the_detector_finds_flags_and_commands_and_nothing_else() {
        for yes in [
            "pass --bucket NAME",
            "--since must",
            "run `countersign ledger verify`",
            "(--reason TEXT)",
        ] {
            assert!(names_the_command_line(yes), "{yes}");
        }
        for no in [
            "a Countersign package",
            "the Countersign home",
            "entries 1–57 — 9 shown",
            "x--y",
        ] {
            assert!(!names_the_command_line(no), "{no}");
        }
    }

    /// String literals of a Rust file's non-test code.
    fn literals(source: &str) -> Vec<String> {
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        let mut out = Vec::new();
        let mut chars = code.char_indices().peekable();
        let bytes = code.as_bytes();
        while let Some((i, c)) = chars.next() {
            match c {
                '/' if bytes.get(i + 1) == Some(&b'/') => {
                    // A comment runs to the end of the line.
                    for (_, c) in chars.by_ref() {
                        if c == '\n' {
                            break;
                        }
                    }
                }
                '\'' => {
                    // A char literal ('"', '\'') or a lifetime: skip a char literal whole.
                    let rest = &code[i + 1..];
                    if rest.starts_with("\\") {
                        if let Some(end) = rest[2..].find('\'') {
                            for _ in 0..end + 3 {
                                chars.next();
                            }
                        }
                    } else if rest.chars().nth(1) == Some('\'') {
                        chars.next();
                        chars.next();
                    }
                }
                '"' => {
                    let mut lit = String::new();
                    while let Some((_, c)) = chars.next() {
                        match c {
                            '\\' => match chars.next() {
                                // A line continuation: the newline and the indentation go.
                                Some((_, '\n')) => {
                                    while chars.peek().is_some_and(|(_, c)| c.is_whitespace()) {
                                        chars.next();
                                    }
                                }
                                Some((_, 'n')) => lit.push('\n'),
                                Some((_, other)) => lit.push(other),
                                None => {}
                            },
                            '"' => break,
                            other => lit.push(other),
                        }
                    }
                    out.push(lit);
                }
                _ => {}
            }
        }
        out
    }

    fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs")
                && !path.to_string_lossy().ends_with("_tests.rs")
            {
                out.push(path);
            }
        }
    }

    /// Every message the service layer (and the crates under it) can send to the window, as its
    /// string literals are written, reads without a flag or a command once in the window's
    /// words. A new message naming a flag fails here until the window has words for it.
    #[test]
    fn no_message_of_the_service_reaches_the_window_naming_the_command_line() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for krate in [
            "service", "aws", "ledger", "keys", "store", "core", "pdf", "demo",
        ] {
            rust_files(&root.join("crates").join(krate).join("src"), &mut files);
        }
        rust_files(&root.join("src-tauri/src"), &mut files);
        assert!(files.len() > 50, "{files:?}");
        let mut naming = 0;
        let mut left = Vec::new();
        for file in &files {
            // This file holds the command line's words on purpose; the package document and
            // the approval page are the PDF's text, read by auditors next to the command line,
            // never shown in the window.
            if file.ends_with("wording.rs")
                || file.ends_with("pdf/src/approval.rs")
                || file.ends_with("package/document.rs")
                || file.ends_with("package/review_document.rs")
            {
                continue;
            }
            let source = std::fs::read_to_string(file).unwrap();
            for lit in literals(&source) {
                if !names_the_command_line(&lit) {
                    continue;
                }
                naming += 1;
                let (text, _) = for_window(&lit);
                if names_the_command_line(&text) {
                    left.push(format!("{}: {lit:?} -> {text:?}", file.display()));
                }
            }
        }
        assert!(
            naming >= 20,
            "the scan finds the service's messages: {naming}"
        );
        assert!(
            left.is_empty(),
            "messages the window would show with a flag or command:\n{}",
            left.join("\n")
        );
    }

    /// JavaScript of `ui/` without its comments.
    fn script_text(source: &str) -> String {
        let mut out = String::new();
        let mut rest = source;
        loop {
            let line = rest.find("//");
            let block = rest.find("/*");
            let (start, is_block) = match (line, block) {
                (Some(l), Some(b)) if b < l => (b, true),
                (Some(l), _) => (l, false),
                (None, Some(b)) => (b, true),
                (None, None) => break,
            };
            // `//` inside a string (a URL) is not a comment.
            let before = &rest[..start];
            if !is_block && before.ends_with(':') {
                out.push_str(&rest[..start + 2]);
                rest = &rest[start + 2..];
                continue;
            }
            out.push_str(before);
            let end = if is_block {
                rest[start..].find("*/").map(|e| start + e + 2)
            } else {
                rest[start..].find('\n').map(|e| start + e)
            };
            rest = end.map_or("", |e| &rest[e..]);
        }
        out.push_str(rest);
        out
    }

    /// No text of the window itself names a flag or a command: the words a QA approver reads
    /// in the app are the app's.
    #[test]
    fn no_text_of_the_window_names_the_command_line() {
        let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui");
        let mut checked = 0;
        let mut stack = vec![ui];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
                let text = match ext {
                    "js" => script_text(&std::fs::read_to_string(&path).unwrap()),
                    "html" => std::fs::read_to_string(&path).unwrap(),
                    _ => continue,
                };
                checked += 1;
                for (n, line) in text.lines().enumerate() {
                    assert!(
                        !names_the_command_line(line),
                        "{}:{}: {line}",
                        path.display(),
                        n + 1
                    );
                }
            }
        }
        assert!(checked >= 15, "{checked} files");
    }

    /// Every limit a verdict can carry, and every kind of document verified, has words on the
    /// verify screen: a new one fails here until the window can say it (never a raw id).
    #[test]
    fn every_verification_limit_and_document_kind_has_words_in_the_window() {
        use countersign_core::package::verify::{DocumentKind, Limit};
        let ui = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/screens/packages.js");
        let screen = std::fs::read_to_string(ui).unwrap();
        let names = [
            Limit::KeysNotChecked,
            Limit::PackageNotApproved,
            Limit::DocumentNotSigned,
            Limit::ValidationPagesNotSigned,
            Limit::PagesNotSigned,
        ]
        .iter()
        .map(|l| serde_json::to_value(l).unwrap())
        .chain(
            [
                DocumentKind::ValidationPackage,
                DocumentKind::PeriodicReviewReport,
            ]
            .iter()
            .map(|d| serde_json::to_value(d).unwrap()),
        )
        .map(|v| v.as_str().unwrap().to_owned())
        .collect::<Vec<_>>();
        for name in names {
            assert!(
                screen.contains(&format!("{name}:")),
                "{name} has no words in ui/screens/packages.js"
            );
        }
    }

    /// Every action the ledger can record has a name in the window (ui/actions.js): a new
    /// action fails here until a QA approver can read it.
    #[test]
    fn every_audit_trail_action_has_a_name_in_the_window() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut files = Vec::new();
        for krate in ["ledger", "service"] {
            rust_files(&root.join("crates").join(krate).join("src"), &mut files);
        }
        let is_action = |lit: &str| {
            let Some((noun, verb)) = lit.split_once('.') else {
                return false;
            };
            let word =
                |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_lowercase() || c == '_');
            let file = [
                "json", "sqlite", "xml", "pdf", "zip", "txt", "csv", "pem", "gz", "svg", "png",
            ]
            .contains(&verb);
            word(noun) && word(verb) && !file
        };
        let names = std::fs::read_to_string(root.join("ui/actions.js")).unwrap();
        let mut actions = std::collections::BTreeSet::new();
        for file in &files {
            // Modules compiled only for tests record made-up actions of their own.
            if file.ends_with("disk_full.rs") || file.ends_with("test_support.rs") {
                continue;
            }
            let source = std::fs::read_to_string(file).unwrap();
            actions.extend(literals(&source).into_iter().filter(|l| is_action(l)));
        }
        assert!(
            actions.contains("object.stored") && actions.contains("signature.applied"),
            "{actions:?}"
        );
        let unnamed: Vec<&String> = actions
            .iter()
            .filter(|a| !names.contains(&format!("\"{a}\":")))
            .collect();
        assert!(
            unnamed.is_empty(),
            "actions without a name in ui/actions.js: {unnamed:?}"
        );
    }

    #[test]
    fn a_service_error_keeps_its_code_and_gains_its_field() {
        let e: WindowError =
            ServiceError::bad_input("a disposition needs a reference (--ref ID): the deviation")
                .into();
        assert_eq!(e.code, ErrorCode::BadInput);
        assert_eq!(e.message, "a disposition needs a reference: the deviation");
        assert_eq!(e.field, Some(Field::Reference));
        let json = serde_json::to_value(&e).unwrap();
        assert_eq!(json["field"], "reference");
        assert_eq!(json["code"], "bad_input");
    }
}
