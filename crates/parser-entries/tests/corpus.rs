//! Replays every fuzz corpus file and every crash or hang input ever found (`fuzz/corpus/<target>/`
//! and `fuzz/regressions/<target>/`) through the same entry points the fuzz targets call, on
//! stable, in the normal test suite: a fixed finding stays fixed. Each input must return (a
//! panic fails the test, naming the file).

use std::path::{Path, PathBuf};

use countersign_parser_entries::ENTRIES;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz")
}

fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = listing
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file())
        .collect();
    out.sort();
    out
}

#[test]
fn every_corpus_and_regression_input_returns() {
    let mut replayed = 0usize;
    for (name, entry) in ENTRIES {
        let mut inputs = files(&fuzz_dir().join("corpus").join(name));
        let seeds = inputs.len();
        inputs.extend(files(&fuzz_dir().join("regressions").join(name)));
        assert!(
            seeds > 0,
            "fuzz/corpus/{name}/ has no seed inputs; every target keeps its corpus"
        );
        for path in inputs {
            let bytes = std::fs::read(&path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            let outcome = std::panic::catch_unwind(|| entry(&bytes));
            assert!(outcome.is_ok(), "{name}: {} panicked", path.display());
            replayed += 1;
        }
    }
    eprintln!(
        "replayed {replayed} inputs through {} entry points",
        ENTRIES.len()
    );
}

/// Every target in `fuzz/fuzz_targets/` is an entry point here, and the other way round.
#[test]
fn the_fuzz_targets_are_the_entry_points() {
    let mut targets: Vec<String> = files(&fuzz_dir().join("fuzz_targets"))
        .iter()
        .filter_map(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .collect();
    targets.sort();
    let mut entries: Vec<String> = ENTRIES.iter().map(|(n, _)| (*n).to_owned()).collect();
    entries.sort();
    assert_eq!(targets, entries);
}
