#![no_main]
//! Fuzz target: countersign_parser_entries::cucumber (see crates/parser-entries).

libfuzzer_sys::fuzz_target!(|data: &[u8]| countersign_parser_entries::cucumber(data));
