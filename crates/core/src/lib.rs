//! The pure core of Countersign.
//!
//! Everything here is a function of its inputs: no file system, no network, no clock, no
//! randomness. Adapters (store, ledger, AWS, PDF) feed bytes in and persist what comes out;
//! the service layer wires them together. Keeping this crate free of I/O is what lets an
//! auditor's verifier and the desktop app share exactly the same checks.
#![forbid(unsafe_code)]

pub mod archive_directory;
pub mod aws_config_items;
pub mod canonical;
pub mod clock;
pub mod cloudtrail;
pub mod cucumber;
pub mod digest;
pub mod display;
pub mod formats;
pub mod handoff;
pub mod junit;
pub mod layout;
pub mod ledger_event;
pub mod lifecycle;
pub mod model;
pub mod package;
pub mod published_findings;
pub mod published_trail;
pub mod qualified_state;
pub mod report_error;
pub mod requirement;
pub mod review_report;
pub mod run;
pub mod run_manifest;
pub mod run_record;
pub mod run_summary;
pub mod secret;
pub mod signature;
pub mod stack_snapshot;
pub mod text_encoding;
pub mod trace;
