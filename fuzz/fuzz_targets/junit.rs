#![no_main]
//! Fuzz target: countersign_parser_entries::junit (see crates/parser-entries).

libfuzzer_sys::fuzz_target!(|data: &[u8]| countersign_parser_entries::junit(data));
