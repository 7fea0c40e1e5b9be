//! Writing files that hold phone numbers or plan keys: readable by their owner only, and never
//! seen half-written.

use std::path::Path;

use crate::error::Error;

/// Writes `bytes` to `path` atomically (a temporary file renamed over it), readable by its
/// owner only.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Error> {
    use std::io::Write;
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    // tempfile creates its files with mode 0600.
    let mut temporary =
        tempfile::NamedTempFile::new_in(folder).map_err(|err| Error::io(folder, err))?;
    temporary
        .write_all(bytes)
        .and_then(|()| temporary.as_file().sync_all())
        .map_err(|err| Error::io(path, err))?;
    temporary
        .persist(path)
        .map_err(|err| Error::io(path, err.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    #[cfg(unix)]
    #[test]
    fn written_files_are_private_and_complete() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        super::write_private(&path, b"first").unwrap();
        super::write_private(&path, b"second").unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"second");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}
