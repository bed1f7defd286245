//! The layering rules of ARCHITECTURE.md, checked from the sources: which crate may depend on
//! which, what the pure core may not touch, where the time comes from, and that the service's
//! public API has no test seams.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use countersign_tests::emulator::project_root;

/// The `[dependencies]` of a crate's manifest (not dev- or build-dependencies).
fn dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut out = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            inside = line == "[dependencies]";
            continue;
        }
        if inside && !line.starts_with('#') {
            if let Some(name) = line.split(['=', '.', ' ']).next().filter(|n| !n.is_empty()) {
                out.insert(name.to_owned());
            }
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(rust_files(&p));
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
    out
}

/// Lines of non-test code: files that are not test modules, up to their `#[cfg(test)]`.
fn production_lines(file: &Path) -> Vec<(usize, String)> {
    let name = file.file_name().unwrap().to_string_lossy();
    if name.ends_with("_tests.rs") || name == "tests.rs" || name == "test_support.rs" {
        return Vec::new();
    }
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .take_while(|l| l.trim() != "#[cfg(test)]")
        .enumerate()
        .map(|(i, l)| (i + 1, l.to_owned()))
        .collect()
}

#[test]
fn crates_depend_only_downwards() {
    let root = project_root();
    let ours = |deps: &BTreeSet<String>| -> BTreeSet<String> {
        deps.iter()
            .filter(|d| d.starts_with("countersign-"))
            .cloned()
            .collect()
    };
    let allowed: &[(&str, &[&str])] = &[
        ("crates/core", &[]),
        ("crates/store", &["countersign-core"]),
        ("crates/ledger", &["countersign-core"]),
        ("crates/keys", &["countersign-core"]),
        ("crates/aws", &["countersign-core"]),
        ("crates/pdf", &[]),
        ("crates/demo", &["countersign-core"]),
        (
            "crates/service",
            &[
                "countersign-core",
                "countersign-store",
                "countersign-ledger",
                "countersign-aws",
                "countersign-keys",
                "countersign-demo",
                "countersign-pdf",
            ],
        ),
        ("crates/cli", &["countersign-core", "countersign-service"]),
        (
            "src-tauri",
            &[
                "countersign-core",
                "countersign-ledger",
                "countersign-service",
            ],
        ),
    ];
    for (dir, may) in allowed {
        let deps = dependencies(&root.join(dir).join("Cargo.toml"));
        let found = ours(&deps);
        let may: BTreeSet<String> = may.iter().map(|s| s.to_string()).collect();
        assert!(
            found.is_subset(&may),
            "{dir} depends on {found:?}; it may depend on {may:?}"
        );
        let tauri = deps.iter().any(|d| d.starts_with("tauri"));
        assert_eq!(
            tauri,
            *dir == "src-tauri",
            "{dir}: only src-tauri knows Tauri"
        );
        let sdk = deps.iter().any(|d| d.starts_with("aws-"));
        assert_eq!(
            sdk,
            *dir == "crates/aws",
            "{dir}: only crates/aws knows the AWS SDK"
        );
    }
}

#[test]
fn the_core_does_no_io_and_reads_no_clock() {
    let forbidden = [
        "std::fs",
        "std::process",
        "std::env",
        "std::net::Tcp",
        "std::net::Udp",
        "SystemTime",
        "now_utc",
        "tokio",
        "rand_core::OsRng",
    ];
    for file in rust_files(&project_root().join("crates/core/src")) {
        for (n, line) in production_lines(&file) {
            for f in forbidden {
                assert!(
                    !line.contains(f),
                    "{}:{n} uses {f}: the core does no I/O and reads no clock",
                    file.display()
                );
            }
        }
    }
}

#[test]
fn the_time_comes_from_one_clock() {
    // The only readers of the system clock for a time that is recorded or signed: the
    // service's `SystemClock` and the app's window clock (the same clock, in the desktop's
    // offset). Everything else asks `Service::now`. The store also reads it, as a nonce in
    // the names of its temporary files, never as a time.
    let allowed = [
        "crates/service/src/env.rs",
        "src-tauri/src/signing.rs",
        "crates/store/src/blob_writer.rs",
    ];
    let root = project_root();
    for dir in ["crates", "src-tauri/src"] {
        for file in rust_files(&root.join(dir)) {
            let rel = file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if rel.contains("/tests/") || rel.contains("/examples/") || rel.contains("bench-window")
            {
                continue;
            }
            for (n, line) in production_lines(&file) {
                if line.contains("now_utc()") || line.contains("SystemTime::now") {
                    assert!(
                        allowed.contains(&rel.as_str()),
                        "{rel}:{n} reads the system clock"
                    );
                }
            }
        }
    }
}

#[test]
fn the_service_api_has_no_test_seams() {
    for file in rust_files(&project_root().join("crates/service/src")) {
        for (n, line) in production_lines(&file) {
            let l = line.trim_start();
            let public = l.starts_with("pub fn ") || l.starts_with("pub async fn ");
            let name = l
                .trim_start_matches("pub async fn ")
                .trim_start_matches("pub fn ")
                .split(['(', '<'])
                .next()
                .unwrap_or_default();
            assert!(
                !(public && (name.contains("_with") || name.contains("for_test"))),
                "{}:{n}: {name} looks like a test seam in the public API; tests open the service with their own Env",
                file.display()
            );
            assert!(
                !l.contains("#[doc(hidden)]"),
                "{}:{n}: hidden API",
                file.display()
            );
        }
    }
}
