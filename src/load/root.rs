//! The workspace root: every file a campaign reads (campaign files and their data sources) must
//! resolve, after following symlinks, to a regular file inside it. A campaign file from an
//! untrusted pull request can then read nothing outside the repository: no absolute path, no
//! `..` that leaves the root, no symlink pointing out, no FIFO, device or folder.

use std::fs::File;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

/// Data sources larger than this are refused unless raised (`--max-source-bytes`).
pub const DEFAULT_MAX_SOURCE_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// The folder campaign files may read from.
#[derive(Debug, Clone)]
pub struct Root {
    /// The root with every symlink resolved; paths are compared against it.
    canonical: PathBuf,
    /// How messages name the root: as the user gave it, or "the current directory".
    shown: String,
    /// The root as given, for naming files in it as the user would.
    given: PathBuf,
    /// The largest data source read, in bytes.
    pub max_source_bytes: u64,
}

/// Why a path may not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// Written as an absolute path; campaign files name data files relative to themselves.
    Absolute,
    /// Resolves (lexically or through a symlink) to a place outside the root.
    Outside,
    /// Nothing is there.
    NotFound,
    /// Something other than a regular file: a folder, FIFO, socket or device.
    NotRegular(&'static str),
    /// Larger than the limit.
    TooLarge { bytes: u64, limit: u64 },
    /// The file system refused (permissions and the like).
    Unreadable(String),
}

impl Root {
    /// The root at `dir`, shown in messages as `shown` (what the user typed), or as "the
    /// current directory" when `None`.
    pub fn new(dir: &Path, shown: Option<&str>) -> std::io::Result<Root> {
        let canonical = std::fs::canonicalize(dir)?;
        if !canonical.is_dir() {
            return Err(std::io::Error::new(
                ErrorKind::NotADirectory,
                "the workspace root must be a folder",
            ));
        }
        let shown = shown.map_or_else(
            || "(the current directory)".to_owned(),
            |text| format!("`{text}`"),
        );
        Ok(Root {
            canonical,
            shown,
            given: dir.to_owned(),
            max_source_bytes: DEFAULT_MAX_SOURCE_BYTES,
        })
    }

    /// The workspace file's place (`campaignctl.yaml` at the root), named as the root was.
    pub fn workspace_file(&self) -> PathBuf {
        self.given.join(crate::model::WORKSPACE_FILE)
    }

    /// How messages name the root.
    pub fn shown(&self) -> &str {
        &self.shown
    }

    /// Resolves `written`, a path as a campaign file wrote it, relative to the folder `base`.
    pub fn resolve_written(&self, base: &Path, written: &str) -> Result<PathBuf, Refusal> {
        let written = Path::new(written);
        if written.is_absolute() || written.has_root() {
            return Err(Refusal::Absolute);
        }
        self.resolve(&base.join(written))
    }

    /// Resolves `path` (relative to the current directory, or absolute as given on the command
    /// line) to its canonical form, which must lie inside the root. Nothing outside the root is
    /// touched beyond resolving symlinks: an outside path is refused the same way whether
    /// anything exists there or not.
    pub fn resolve(&self, path: &Path) -> Result<PathBuf, Refusal> {
        let absolute = if path.is_absolute() {
            path.to_owned()
        } else {
            std::env::current_dir()
                .map_err(|err| Refusal::Unreadable(err.to_string()))?
                .join(path)
        };
        match std::fs::canonicalize(&absolute) {
            Ok(canonical) if canonical.starts_with(&self.canonical) => Ok(canonical),
            Ok(_) => Err(Refusal::Outside),
            Err(err) if err.kind() == ErrorKind::NotFound => Err(self.missing(&absolute)),
            Err(err) => Err(Refusal::Unreadable(err.kind().to_string())),
        }
    }

    /// Why `absolute` (which does not resolve) cannot be read: outside when its nearest
    /// existing ancestor, or the target of a dangling symlink, lies outside the root; else not
    /// found. This keeps "not found" from telling whether a file outside exists.
    fn missing(&self, absolute: &Path) -> Refusal {
        let mut probe = normalize(absolute);
        loop {
            if let Ok(meta) = std::fs::symlink_metadata(&probe) {
                let ancestor = if meta.file_type().is_symlink() {
                    std::fs::read_link(&probe)
                        .ok()
                        .map(|target| normalize(&probe.parent().unwrap_or(&probe).join(target)))
                } else {
                    std::fs::canonicalize(&probe).ok()
                };
                return match ancestor {
                    Some(place) if place.starts_with(&self.canonical) => Refusal::NotFound,
                    _ => Refusal::Outside,
                };
            }
            if !probe.pop() {
                return Refusal::Outside;
            }
        }
    }

    /// Opens a resolved path for reading: a regular file of at most `limit` bytes. A FIFO or a
    /// device is never waited on: the file is opened without blocking and checked before a byte
    /// is read.
    pub fn open(&self, canonical: &Path, limit: u64) -> Result<File, Refusal> {
        let mut options = std::fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // The canonical path has no symlink left; one swapped in since is refused.
            options.custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW);
        }
        let file = options.open(canonical).map_err(|err| match err.kind() {
            ErrorKind::NotFound => Refusal::NotFound,
            _ => Refusal::Unreadable(err.kind().to_string()),
        })?;
        let meta = file
            .metadata()
            .map_err(|err| Refusal::Unreadable(err.kind().to_string()))?;
        regular(&meta, limit)?;
        Ok(file)
    }

    /// Whether the resolved path is a regular file of at most `limit` bytes, without opening
    /// it: what validation checks before expansion reads.
    pub fn check(&self, canonical: &Path, limit: u64) -> Result<(), Refusal> {
        let meta = std::fs::metadata(canonical).map_err(|err| match err.kind() {
            ErrorKind::NotFound => Refusal::NotFound,
            _ => Refusal::Unreadable(err.kind().to_string()),
        })?;
        regular(&meta, limit)
    }

    /// [`Root::resolve`] then [`Root::open`].
    pub fn open_path(&self, path: &Path, limit: u64) -> Result<File, Refusal> {
        self.open(&self.resolve(path)?, limit)
    }
}

impl Refusal {
    /// The message about the data file at `path`, written under `key` of a source in a campaign
    /// file whose folder is `base`.
    pub fn describe_source(&self, key: &str, path: &str, base: &Path, root: &Root) -> String {
        let problem = match self {
            Refusal::NotFound => "not found",
            Refusal::NotRegular("a folder") => "is a folder",
            other => return format!("`{key}`: {}", other.describe(path, root)),
        };
        // Relative to the campaign file, which is not always where the user stands.
        let resolved = base.join(path);
        let looked_for = if resolved.as_path() == Path::new(path) {
            String::new()
        } else {
            format!(" (looked for {})", super::display(&resolved))
        };
        format!("`{key}`: file \"{path}\" {problem}{looked_for}")
    }

    /// The end of a sentence about `written`: "`data/x.csv` resolves outside the workspace
    /// root (the current directory)".
    pub fn describe(&self, written: &str, root: &Root) -> String {
        let written = crate::diagnostic::quote(written);
        match self {
            Refusal::Absolute => format!(
                "{written} is an absolute path; name data files relative to the campaign file, \
                 inside the workspace root {}",
                root.shown()
            ),
            Refusal::Outside => format!(
                "{written} resolves outside the workspace root {}; nothing outside it is read \
                 (set --root to widen it)",
                root.shown()
            ),
            Refusal::NotFound => format!("file {written} not found"),
            Refusal::NotRegular(kind) => {
                format!("{written} is {kind}, not a regular file; nothing was read from it")
            }
            Refusal::TooLarge { bytes, limit } => format!(
                "{written} holds {bytes} bytes, more than the limit of {limit} \
                 (raise it with --max-source-bytes)"
            ),
            Refusal::Unreadable(why) => format!("cannot read {written}: {why}"),
        }
    }
}

fn regular(meta: &std::fs::Metadata, limit: u64) -> Result<(), Refusal> {
    if !meta.is_file() {
        return Err(Refusal::NotRegular(file_kind(meta)));
    }
    if meta.len() > limit {
        return Err(Refusal::TooLarge {
            bytes: meta.len(),
            limit,
        });
    }
    Ok(())
}

/// `path` with `.` and `..` taken out lexically, without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::ParentDir => {
                out.pop();
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

fn file_kind(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let kind = meta.file_type();
        if kind.is_fifo() {
            return "a FIFO";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if meta.is_dir() {
        "a folder"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> (tempfile::TempDir, Root) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("repo/data")).unwrap();
        std::fs::write(dir.path().join("repo/data/in.csv"), "phone\n").unwrap();
        std::fs::write(dir.path().join("outside.txt"), "secret\n").unwrap();
        let root = Root::new(&dir.path().join("repo"), Some("repo")).unwrap();
        (dir, root)
    }

    #[test]
    fn paths_inside_the_root_resolve_and_open() {
        let (dir, root) = root();
        let base = dir.path().join("repo");
        let path = root.resolve_written(&base, "data/../data/in.csv").unwrap();
        assert!(root.open(&path, 1024).is_ok());
        assert_eq!(
            root.open(&path, 3).unwrap_err(),
            Refusal::TooLarge { bytes: 6, limit: 3 }
        );
    }

    #[test]
    fn escapes_are_refused_whether_or_not_the_target_exists() {
        let (dir, root) = root();
        let base = dir.path().join("repo/data");
        for written in [
            "../../outside.txt",
            "../../missing.txt",
            "../../../etc/passwd",
        ] {
            assert_eq!(
                root.resolve_written(&base, written),
                Err(Refusal::Outside),
                "{written}"
            );
        }
        assert_eq!(
            root.resolve_written(&base, "/etc/passwd"),
            Err(Refusal::Absolute)
        );
        assert_eq!(
            root.resolve_written(&base, "nope.csv"),
            Err(Refusal::NotFound)
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_out_of_the_root_and_special_files_are_refused() {
        let (dir, root) = root();
        let base = dir.path().join("repo");
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), base.join("link.csv")).unwrap();
        std::os::unix::fs::symlink(dir.path().join("gone.txt"), base.join("dangling.csv")).unwrap();
        std::os::unix::fs::symlink("data/in.csv", base.join("inner.csv")).unwrap();
        assert_eq!(
            root.resolve_written(&base, "link.csv"),
            Err(Refusal::Outside)
        );
        assert_eq!(
            root.resolve_written(&base, "dangling.csv"),
            Err(Refusal::Outside)
        );
        assert!(root.resolve_written(&base, "inner.csv").is_ok());
        let folder = root.resolve_written(&base, "data").unwrap();
        assert_eq!(
            root.open(&folder, u64::MAX).unwrap_err(),
            Refusal::NotRegular("a folder")
        );
        let fifo = base.join("pipe.csv");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        assert!(made.is_ok_and(|status| status.success()), "mkfifo");
        let path = root.resolve_written(&base, "pipe.csv").unwrap();
        assert_eq!(
            root.open(&path, u64::MAX).unwrap_err(),
            Refusal::NotRegular("a FIFO")
        );
        let device = root.resolve(Path::new("/dev/null"));
        assert_eq!(device, Err(Refusal::Outside));
    }
}
