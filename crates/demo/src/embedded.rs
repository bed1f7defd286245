//! The checked-in demo files, compiled into the binary so seeding needs no working tree.
//!
//! The list is explicit so that the dataset is reviewable and deterministic; a test checks that
//! it matches the `demo/` folder exactly.

/// One run-folder file: its key relative to the prefix, and its bytes.
pub(crate) struct EmbeddedFile {
    pub key: &'static str,
    pub body: &'static [u8],
}

macro_rules! run_files {
    ($($key:literal),* $(,)?) => {
        &[$(EmbeddedFile { key: $key, body: include_bytes!(concat!("../../../demo/", $key)) }),*]
    };
}

/// Every file of every run folder, in upload order.
pub(crate) const RUN_FILES: &[EmbeddedFile] = run_files![
    "LIMS/IQ/2026-11-02-iq-1/run.json",
    "LIMS/IQ/2026-11-02-iq-1/reports/junit-iq.xml",
    "LIMS/IQ/2026-11-02-iq-1/logs/pytest-iq.log",
    "LIMS/IQ/2026-11-02-iq-1/evidence/stack-resources.json",
    "LIMS/OQ/2026-11-03-oq-1/run.json",
    "LIMS/OQ/2026-11-03-oq-1/reports/cucumber-oq.json",
    "LIMS/OQ/2026-11-03-oq-1/logs/cucumber-oq.log",
    "LIMS/OQ/2026-11-03-oq-1/evidence/screenshots/audit-trail-R-2026-118244.png",
    "LIMS/PQ/2026-11-04-pq-1/reports/junit-pq.xml",
    "LIMS/PQ/2026-11-04-pq-1/logs/locust-summary.log",
    "LIMS/PQ/2026-11-04-pq-1/evidence/load-profile.json",
    "ELN/IQ/2026-11-02-iq-1/run.json",
    "ELN/IQ/2026-11-02-iq-1/reports/junit-iq.xml",
    "ELN/IQ/2026-11-02-iq-1/logs/pytest-iq.log",
    "ELN/IQ/2026-11-02-iq-1/evidence/eln-config-export.json",
    "ELN/OQ/2026-11-03-oq-1/reports/cucumber-oq.json",
    "ELN/OQ/2026-11-03-oq-1/logs/cucumber-oq.log",
    "ELN/PQ/2026-11-04-pq-1/reports/junit-pq.xml",
    "ELN/PQ/2026-11-04-pq-1/logs/k6-summary.txt",
];

/// CloudFormation template of the LIMS stack (`lims-qual`).
pub(crate) const LIMS_TEMPLATE: &str = include_str!("../../../demo/templates/lims-qual.yaml");
/// CloudFormation template of the ELN stack (`eln-qual`).
pub(crate) const ELN_TEMPLATE: &str = include_str!("../../../demo/templates/eln-qual.yaml");
