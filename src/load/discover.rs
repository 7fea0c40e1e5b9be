//! Finding campaign files: each path given is a file, or a folder searched recursively for
//! `*.campaign.yaml` / `*.campaign.yml`.

use std::path::{Path, PathBuf};

use super::DEFAULT_PATH;
use crate::diagnostic::Diagnostic;

const EXTENSIONS: [&str; 2] = [".campaign.yaml", ".campaign.yml"];

/// Finds the campaign files under `paths`: each path is a file (taken as it is) or a folder
/// searched recursively for `*.campaign.yaml` / `*.campaign.yml`. The result is sorted and
/// free of duplicates. Paths that do not exist are reported, all of them, beside what was found.
pub fn discover(paths: &[PathBuf]) -> (Vec<PathBuf>, Vec<Diagnostic>) {
    let default = [PathBuf::from(DEFAULT_PATH)];
    let paths = if paths.is_empty() {
        &default[..]
    } else {
        paths
    };
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                if let Err(err) = walk(path, &mut found) {
                    problems.push(Diagnostic::file(
                        display(path),
                        format!("cannot read: {err}"),
                    ));
                }
            }
            Ok(_) => found.push(path.clone()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                problems.push(Diagnostic::file(display(path), "no such file or folder"));
            }
            Err(err) => problems.push(Diagnostic::file(
                display(path),
                format!("cannot read: {err}"),
            )),
        }
    }
    found.sort();
    found.dedup();
    (found, problems)
}

fn walk(folder: &Path, found: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(folder)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, found)?;
        } else if is_campaign_file_name(&path) {
            found.push(path);
        }
    }
    Ok(())
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
        let (found, problems) = discover(&[dir.path().to_owned(), missing.clone()]);
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
