//! Numbered schema migrations, embedded in the binary and tracked in `PRAGMA user_version`.
//!
//! Each migration runs in one IMMEDIATE transaction together with the ledger event that
//! records it (`ledger.created` for the first, `ledger.migrated` for later ones), so a
//! migration is either fully applied and recorded or not at all. A released migration is
//! never edited; a change is a new file.

use std::path::Path;

use countersign_core::clock::Clock;
use countersign_core::ledger_event::Actor;
use rusqlite::{Connection, TransactionBehavior};

use crate::error::{db_error, LedgerError};
use crate::event::{append_in, AppendError, NewEvent};

/// The migrations, in order; migration `i` (0-based) brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_audit_trail.sql"),
    include_str!("migrations/0002_records.sql"),
    include_str!("migrations/0003_signer_key_facts.sql"),
];

/// The newest schema version this build knows.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Reads the schema version.
pub(crate) fn user_version(conn: &Connection, path: &Path) -> Result<i64, LedgerError> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| db_error(path, "reading the schema version", e))
}

/// Brings the schema from its current version up to `target` (at most [`SCHEMA_VERSION`]).
pub(crate) fn migrate(
    conn: &mut Connection,
    path: &Path,
    clock: &dyn Clock,
    target: i64,
) -> Result<(), LedgerError> {
    let found = user_version(conn, path)?;
    if found > SCHEMA_VERSION {
        return Err(LedgerError::SchemaTooNew {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    if found < 0 {
        return Err(LedgerError::Corrupt {
            path: path.to_path_buf(),
            detail: format!("negative schema version {found}"),
        });
    }
    if found == 0 {
        let tables: i64 = conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
            .map_err(|e| db_error(path, "reading the schema", e))?;
        if tables > 0 {
            return Err(LedgerError::Corrupt {
                path: path.to_path_buf(),
                detail: format!(
                    "an SQLite database with {tables} schema entries but no ledger schema version"
                ),
            });
        }
    }
    for version in (found + 1)..=target.min(SCHEMA_VERSION) {
        let Some(sql) = usize::try_from(version - 1)
            .ok()
            .and_then(|i| MIGRATIONS.get(i))
        else {
            break;
        };
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|e| db_error(path, "starting a schema migration", e))?;
        tx.execute_batch(sql)
            .map_err(|e| db_error(path, "applying a schema migration", e))?;
        let event = if version == 1 {
            NewEvent::new(&Actor::system(), "ledger.created", "ledger", "schema")
                .after(format!("schema {version}"))
        } else {
            NewEvent::new(&Actor::system(), "ledger.migrated", "ledger", "schema")
                .before(format!("schema {}", version - 1))
                .after(format!("schema {version}"))
        };
        append_in(&tx, clock, &event).map_err(|e| match e {
            AppendError::Sql(e) => db_error(path, "recording a schema migration", e),
            AppendError::Ledger(e) => e,
        })?;
        tx.pragma_update(None, "user_version", version)
            .map_err(|e| db_error(path, "setting the schema version", e))?;
        tx.commit()
            .map_err(|e| db_error(path, "committing a schema migration", e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_migration_applies_on_an_empty_database() {
        let mut conn = Connection::open_in_memory().unwrap();
        let clock = countersign_core::clock::SteppingClock::new(
            time::macros::datetime!(2026-03-01 09:00 UTC),
            1000,
        );
        migrate(&mut conn, Path::new(":memory:"), &clock, SCHEMA_VERSION).unwrap();
        assert_eq!(
            user_version(&conn, Path::new(":memory:")).unwrap(),
            SCHEMA_VERSION
        );
        let n: i64 = conn
            .query_row("SELECT count(*) FROM events", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, SCHEMA_VERSION);
        // Every table has both append-only triggers.
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tables.len(), 9, "{tables:?}");
        for t in &tables {
            for op in ["update", "delete"] {
                let trigger = format!("{t}_no_{op}");
                let found: i64 = conn
                    .query_row(
                        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
                        [&trigger],
                        |r| r.get(0),
                    )
                    .unwrap();
                assert_eq!(found, 1, "missing trigger {trigger}");
            }
        }
    }
}
