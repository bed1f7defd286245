#![no_main]
//! Fuzz target: countersign_parser_entries::package_pdf (see crates/parser-entries).

libfuzzer_sys::fuzz_target!(|data: &[u8]| countersign_parser_entries::package_pdf(data));
