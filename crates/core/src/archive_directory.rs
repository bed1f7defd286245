//! The entry names of a `.zip` archive as its central directory and its local headers spell
//! them, read without trusting either.
//!
//! A zip names each entry twice: once in the central directory (what archive readers list) and
//! once in the local header before the entry's data (what streaming readers see). An archive
//! with two entries of one name, or whose two spellings of a name differ, means different
//! things to different tools; an importer that keeps one of them silently lets the archive's
//! author choose which report a reviewer sees. These functions expose both spellings so the
//! importer can refuse such an archive, naming the entry. They read bytes handed to them and
//! never allocate more than the entries they return.

use std::collections::HashSet;

use thiserror::Error;

const CENTRAL_SIGNATURE: u32 = 0x0201_4b50;
const LOCAL_SIGNATURE: u32 = 0x0403_4b50;
const CENTRAL_FIXED: usize = 46;
/// Bytes of a local header before its name.
pub const LOCAL_FIXED: usize = 30;
const ZIP64_EXTRA: u16 = 0x0001;

/// One central directory record: the entry's name and where its local header starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CentralEntry {
    /// The name's bytes as stored (UTF-8 or CP437; compared byte for byte).
    pub name: Vec<u8>,
    /// Offset of the local header, relative to the start of the archive proper.
    pub local_header_offset: u64,
}

impl CentralEntry {
    /// The name for messages (lossy UTF-8).
    pub fn shown_name(&self) -> String {
        String::from_utf8_lossy(&self.name).into_owned()
    }
}

/// What is wrong with an archive's directory.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ArchiveError {
    /// A record is cut short or does not start with its signature.
    #[error("central directory record {index} is damaged: {detail}")]
    DamagedCentral { index: usize, detail: String },
    /// Two records carry the same name.
    #[error("the archive holds more than one entry named {name:?}")]
    DuplicateName { name: String },
    /// A local header is cut short or does not start with its signature.
    #[error("the local header of entry {name:?} is damaged: {detail}")]
    DamagedLocal { name: String, detail: String },
    /// The local header spells the name differently from the central directory.
    #[error("entry {central:?} is named {local:?} in its local header")]
    NameMismatch { central: String, local: String },
}

fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_le_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_le_bytes([s[0], s[1], s[2], s[3]]))
}

fn u64_at(b: &[u8], at: usize) -> Option<u64> {
    b.get(at..at + 8).map(|s| {
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        u64::from_le_bytes(a)
    })
}

/// Reads the central directory: `directory` starts at its first record and may run on past
/// its last (into the end-of-directory records); reading stops at the first bytes that are
/// not a central record. `expected` is the number of records the archive declares (or the
/// number its reader listed); fewer records than that is damage. Every record is returned,
/// duplicates included.
pub fn central_entries(
    directory: &[u8],
    expected: usize,
) -> Result<Vec<CentralEntry>, ArchiveError> {
    // Never trust a count for an allocation: each record takes at least 46 bytes.
    let mut out = Vec::with_capacity(expected.min(directory.len() / CENTRAL_FIXED));
    let mut at = 0usize;
    while u32_at(directory, at) == Some(CENTRAL_SIGNATURE) {
        let index = out.len();
        let damaged = |detail: &str| ArchiveError::DamagedCentral {
            index,
            detail: detail.to_owned(),
        };
        let fixed = directory
            .get(at..at + CENTRAL_FIXED)
            .ok_or_else(|| damaged("cut short in its fixed part"))?;
        let field16 = |o: usize| u16_at(fixed, o).map(usize::from).unwrap_or(0);
        let (name_len, extra_len, comment_len) = (field16(28), field16(30), field16(32));
        let compressed = u32_at(fixed, 20).unwrap_or(0);
        let uncompressed = u32_at(fixed, 24).unwrap_or(0);
        let offset32 = u32_at(fixed, 42).unwrap_or(0);
        let name_at = at + CENTRAL_FIXED;
        let name = directory
            .get(name_at..name_at + name_len)
            .ok_or_else(|| damaged("its name runs past the directory"))?;
        let extra = directory
            .get(name_at + name_len..name_at + name_len + extra_len)
            .ok_or_else(|| damaged("its extra field runs past the directory"))?;
        let local_header_offset = if offset32 == u32::MAX {
            zip64_offset(extra, uncompressed == u32::MAX, compressed == u32::MAX)
                .ok_or_else(|| damaged("its 64-bit offset is missing"))?
        } else {
            u64::from(offset32)
        };
        out.push(CentralEntry {
            name: name.to_vec(),
            local_header_offset,
        });
        at = name_at + name_len + extra_len + comment_len;
    }
    if out.len() < expected {
        return Err(ArchiveError::DamagedCentral {
            index: out.len(),
            detail: format!(
                "the archive declares {expected} entries but its directory holds {}",
                out.len()
            ),
        });
    }
    Ok(out)
}

/// The local header offset from a Zip64 extended information field: its members are present
/// in a fixed order, each only when the central record's own field is saturated.
fn zip64_offset(extra: &[u8], has_uncompressed: bool, has_compressed: bool) -> Option<u64> {
    let mut at = 0usize;
    while at + 4 <= extra.len() {
        let id = u16_at(extra, at)?;
        let len = usize::from(u16_at(extra, at + 2)?);
        let body = extra.get(at + 4..at + 4 + len)?;
        if id == ZIP64_EXTRA {
            let skip = 8 * (usize::from(has_uncompressed) + usize::from(has_compressed));
            return u64_at(body, skip);
        }
        at += 4 + len;
    }
    None
}

/// The first name that appears in more than one record.
pub fn first_duplicate(entries: &[CentralEntry]) -> Option<&CentralEntry> {
    let mut seen: HashSet<&[u8]> = HashSet::with_capacity(entries.len());
    entries.iter().find(|e| !seen.insert(e.name.as_slice()))
}

/// How many bytes of the local header to read for `entry`: the fixed part and a name of the
/// central directory's length (a longer local name differs anyway).
pub fn local_header_len(entry: &CentralEntry) -> usize {
    LOCAL_FIXED + entry.name.len()
}

/// Checks the local header's bytes (at least [`local_header_len`] of them, or fewer when the
/// archive ends first) against the central record.
pub fn check_local_header(entry: &CentralEntry, header: &[u8]) -> Result<(), ArchiveError> {
    let damaged = |detail: &str| ArchiveError::DamagedLocal {
        name: entry.shown_name(),
        detail: detail.to_owned(),
    };
    if u32_at(header, 0) != Some(LOCAL_SIGNATURE) {
        return Err(damaged("no local header at the offset the directory gives"));
    }
    let name_len = u16_at(header, 26)
        .map(usize::from)
        .ok_or_else(|| damaged("cut short"))?;
    let read = header.get(LOCAL_FIXED..).unwrap_or_default();
    let local = read.get(..name_len).unwrap_or(read);
    if name_len != entry.name.len() || local != entry.name.as_slice() {
        let mut shown = String::from_utf8_lossy(local).into_owned();
        if local.len() < name_len {
            shown.push('…');
        }
        return Err(ArchiveError::NameMismatch {
            central: entry.shown_name(),
            local: shown,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn central(name: &[u8], offset: u32, extra: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&CENTRAL_SIGNATURE.to_le_bytes());
        r.extend_from_slice(&[20, 0, 20, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        r.extend_from_slice(&0u32.to_le_bytes()); // crc
        r.extend_from_slice(&5u32.to_le_bytes()); // compressed
        r.extend_from_slice(&5u32.to_le_bytes()); // uncompressed
        r.extend_from_slice(&(name.len() as u16).to_le_bytes());
        r.extend_from_slice(&(extra.len() as u16).to_le_bytes());
        r.extend_from_slice(&0u16.to_le_bytes()); // comment
        r.extend_from_slice(&[0; 8]); // disk, internal, external
        r.extend_from_slice(&offset.to_le_bytes());
        r.extend_from_slice(name);
        r.extend_from_slice(extra);
        r
    }

    fn local(name: &[u8]) -> Vec<u8> {
        let mut r = Vec::new();
        r.extend_from_slice(&LOCAL_SIGNATURE.to_le_bytes());
        r.extend_from_slice(&[0; 22]);
        r.extend_from_slice(&(name.len() as u16).to_le_bytes());
        r.extend_from_slice(&0u16.to_le_bytes());
        r.extend_from_slice(name);
        r
    }

    #[test]
    fn every_record_is_listed_duplicates_included() {
        let mut dir = central(b"LIMS/OQ/r1/junit.xml", 0, &[]);
        dir.extend(central(b"LIMS/OQ/r1/junit.xml", 100, &[]));
        dir.extend_from_slice(&0x0605_4b50u32.to_le_bytes()); // end of directory follows
        let entries = central_entries(&dir, 2).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[1].local_header_offset, 100);
        assert_eq!(
            first_duplicate(&entries).unwrap().shown_name(),
            "LIMS/OQ/r1/junit.xml"
        );
        let unique = central_entries(&central(b"a", 0, &[]), 1).unwrap();
        assert!(first_duplicate(&unique).is_none());
    }

    #[test]
    fn a_zip64_offset_is_read_from_the_extra_field() {
        let mut extra = Vec::new();
        extra.extend_from_slice(&ZIP64_EXTRA.to_le_bytes());
        extra.extend_from_slice(&8u16.to_le_bytes());
        extra.extend_from_slice(&(5u64 << 32).to_le_bytes());
        let e = central_entries(&central(b"big", u32::MAX, &extra), 1).unwrap();
        assert_eq!(e[0].local_header_offset, 5u64 << 32);
        let err = central_entries(&central(b"big", u32::MAX, &[]), 1).unwrap_err();
        assert!(err.to_string().contains("64-bit offset"), "{err}");
    }

    #[test]
    fn damage_and_short_directories_are_errors_not_panics() {
        let whole = central(b"name.xml", 0, &[]);
        for cut in 1..whole.len() {
            let _ = central_entries(&whole[..cut], 1);
        }
        let err = central_entries(&whole[..50], 1).unwrap_err();
        assert!(err.to_string().contains("runs past"), "{err}");
        let err = central_entries(&whole, 3).unwrap_err();
        assert!(err.to_string().contains("declares 3 entries"), "{err}");
    }

    #[test]
    fn the_local_name_must_be_the_central_name() {
        let e = CentralEntry {
            name: b"LIMS/OQ/r1/junit.xml".to_vec(),
            local_header_offset: 0,
        };
        check_local_header(&e, &local(b"LIMS/OQ/r1/junit.xml")).unwrap();
        let err = check_local_header(&e, &local(b"ELN/OQ/r1/junit.xml")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "entry \"LIMS/OQ/r1/junit.xml\" is named \"ELN/OQ/r1/junit.xml\" in its local header"
        );
        let err = check_local_header(&e, b"PK\x01\x02").unwrap_err();
        assert!(err.to_string().contains("no local header"), "{err}");
        assert!(check_local_header(&e, &local(b"LIMS")[..31]).is_err());
        // A longer local name that starts with the central one, read only as far as the
        // central name's length, still differs.
        let longer = local(b"LIMS/OQ/r1/junit.xml.evil");
        let err = check_local_header(&e, &longer[..local_header_len(&e)]).unwrap_err();
        assert!(err.to_string().contains("junit.xml…"), "{err}");
    }
}
