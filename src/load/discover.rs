//! Finding campaign files: each path given is a file, or a folder searched recursively for
//! `*.campaign.yaml` / `*.campaign.yml`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::DEFAULT_PATH;
use super::root::{Refusal, Root};
use crate::diagnostic::Diagnostic;

const EXTENSIONS: [&str; 2] = [".campaign.yaml", ".campaign.yml"];

/// Finds the campaign files under `paths`: each path is a file (taken as it is) or a folder
/// searched recursively for `*.campaign.yaml` / `*.campaign.yml`, following symlinks that stay
/// inside the workspace `root`. The result is sorted and free of duplicates. Paths that do not
/// exist or lead outside the root are reported, all of them, beside what was found.
pub fn discover(paths: &[PathBuf], root: &Root) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let default = [PathBuf::from(DEFAULT_PATH)];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut walk = Walk {
        root,
        found: Vec::new(),
        problems: Vec::new(),
        visited: HashSet::new(),
    };
    for path in paths {
        match root.resolve(path) {
            Ok(canonical) if canonical.is_dir() => walk.folder(path, canonical),
            Ok(_) => walk.found.push(path.clone()),
            Err(Refusal::NotFound) => walk
                .problems
                .push(Diagnostic::file(display(path), "no such file or folder")),
            Err(refusal) => walk.refused(path, &refusal),
        }
    }
    let Walk {
        mut found,
        problems,
        ..
    } = walk;
    found.sort();
    found.dedup();
    (found, problems)
}

/// A search through folders, each visited once (a symlink may lead back up the tree).
struct Walk<'r> {
    root: &'r Root,
    found: Vec<PathBuf>,
    problems: Vec<Diagnostic>,
    visited: HashSet<PathBuf>,
}

impl Walk<'_> {
    fn folder(&mut self, folder: &Path, canonical: PathBuf) {
        if !self.visited.insert(canonical) {
            return;
        }
        let entries = match std::fs::read_dir(folder) {
            Ok(entries) => entries,
            Err(err) => {
                let message = format!("cannot read: {}", err.kind());
                self.problems
                    .push(Diagnostic::file(display(folder), message));
                return;
            }
        };
        let mut entries: Vec<_> = entries.filter_map(Result::ok).collect();
        entries.sort_by_key(std::fs::DirEntry::file_name);
        for entry in entries {
            let path = entry.path();
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                if let Ok(canonical) = self.root.resolve(&path) {
                    self.folder(&path, canonical);
                }
            } else if kind.is_symlink() {
                match self.root.resolve(&path) {
                    Ok(canonical) if canonical.is_dir() => self.folder(&path, canonical),
                    Ok(_) if is_campaign_file_name(&path) => self.found.push(path),
                    // A symlink out of the root is only worth a word when it poses as a
                    // campaign file; other links (to tools, caches) are not campaigns.
                    Err(refusal) if is_campaign_file_name(&path) => self.refused(&path, &refusal),
                    _ => {}
                }
            } else if is_campaign_file_name(&path) {
                // FIFOs and devices too: loading refuses them at once, without reading.
                self.found.push(path);
            }
        }
    }

    fn refused(&mut self, path: &Path, refusal: &Refusal) {
        let written = display(path);
        self.problems.push(Diagnostic::file(
            &written,
            refusal.describe(&written, self.root),
        ));
    }
}

fn is_campaign_file_name(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    EXTENSIONS.iter().any(|ext| name.ends_with(ext))
}

/// How a path is shown in diagnostics: as the user wrote it, with `/` separators.
pub fn display(path: &Path) -> String {
    // Found under `.`, a file is `./a.campaign.yaml`; people and editors write `a.campaign.yaml`.
    match path.strip_prefix(".") {
        Ok(rest) if !rest.as_os_str().is_empty() => rest.display().to_string(),
        _ => path.display().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folders_are_searched_for_campaign_files_and_missing_paths_reported() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("b/c");
        std::fs::create_dir_all(&nested).unwrap();
        for name in [
            "a.campaign.yaml",
            "b/c/d.campaign.yml",
            "b/notes.yaml",
            "b/e.campaign",
        ] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        let missing = dir.path().join("gone");
        let root = Root::new(dir.path(), None).unwrap();
        let (found, problems) = discover(&[dir.path().to_owned(), missing.clone()], &root);
        let names: Vec<_> = found
            .iter()
            .map(|p| p.strip_prefix(dir.path()).unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [
                PathBuf::from("a.campaign.yaml"),
                PathBuf::from("b/c/d.campaign.yml")
            ]
        );
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].message, "no such file or folder");
        assert_eq!(display(Path::new("./x.campaign.yaml")), "x.campaign.yaml");
    }
}
