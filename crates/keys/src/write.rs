//! Writing a new file atomically, owner-only, and never over an existing one.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::path::Path;

use rand_core::{OsRng, RngCore};

use crate::error::KeyError;

/// Writes `bytes` to a temporary file beside `path` (mode 0600, fsynced), then hard-links it
/// into place: the link fails if `path` exists, so nothing is ever overwritten, and readers see
/// either no file or the whole file.
pub(crate) fn write_new_file(path: &Path, bytes: &[u8]) -> Result<(), KeyError> {
    let io = |action, source| KeyError::Io {
        action,
        path: path.to_path_buf(),
        source,
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "key".into());
    let tmp = dir.join(format!(".{name}.{:016x}.tmp", OsRng.next_u64()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let result = (|| {
        let mut file = options.open(&tmp).map_err(|e| io("create", e))?;
        file.write_all(bytes).map_err(|e| io("write", e))?;
        file.sync_all().map_err(|e| io("write", e))?;
        drop(file);
        match fs::hard_link(&tmp, path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(KeyError::Exists {
                path: path.to_path_buf(),
            }),
            Err(e) => Err(io("write", e)),
        }
    })();
    let _ = fs::remove_file(&tmp);
    result?;
    if let Ok(d) = File::open(dir) {
        // Make the new directory entry durable; not every platform can sync a directory.
        let _ = d.sync_all();
    }
    Ok(())
}
