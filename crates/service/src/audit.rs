//! The audit trail as a use case: verify the chain, export it.

use std::path::Path;

use countersign_ledger::{Actor, ChainReport, EventFilter, ExportFormat};

use crate::error::{self as err, ServiceError};
use crate::Service;

impl Service {
    /// Walks the whole chain, re-deriving every hash, and compares it with the stored checkpoints.
    pub fn ledger_verify(&self) -> Result<ChainReport, ServiceError> {
        self.ledger()?.verify().map_err(err::from_ledger)
    }

    /// Writes the complete audit trail to `out` (created; never overwritten). The export is
    /// itself recorded as an event. Returns the number of events written.
    pub fn ledger_export(&self, format: ExportFormat, out: &Path) -> Result<u64, ServiceError> {
        let file = std::fs::File::options()
            .write(true)
            .create_new(true)
            .open(out)
            .map_err(|e| {
                if e.kind() == std::io::ErrorKind::AlreadyExists {
                    ServiceError::bad_input(format!(
                        "{} already exists; choose a new file name (nothing is overwritten)",
                        out.display()
                    ))
                } else {
                    ServiceError::storage(format!("could not create {}: {e}", out.display()))
                }
            })?;
        let mut w = std::io::BufWriter::new(file);
        let n = self
            .ledger()?
            .export(format, &EventFilter::all(), &mut w, &Actor::system())
            .map_err(err::from_ledger)?;
        std::io::Write::flush(&mut w).map_err(|e| {
            ServiceError::storage(format!("could not write {}: {e}", out.display()))
        })?;
        Ok(n)
    }
}
