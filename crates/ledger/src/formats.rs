//! Every format tag the ledger writes or reads, in one place. New documents use the project's
//! one spelling (`countersign.<name>/v<N>`); the first versions of the checkpoint and export
//! documents were published with a hyphenated spelling, and a published checkpoint stays
//! readable for ever, so those tags are kept, for reading only.

/// A published checkpoint, as written now (docs/ledger-format.md).
pub const CHECKPOINT_V2: &str = "countersign.ledger-checkpoint/v2";
/// A published checkpoint as written before `v2`: the same document under its first tag.
pub const CHECKPOINT_V1: &str = "countersign-ledger-checkpoint/v1";
/// An audit-trail export in JSON, as written now.
pub const EXPORT_V2: &str = "countersign.ledger-export/v2";
