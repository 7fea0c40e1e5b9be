//! The import graph runs one way: a room of the library uses only rooms below it in the
//! pipeline, never one above, so there is no cycle and the driver is the only place that knows
//! every phase (docs/architecture.md).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The rooms of `src/`, lowest first; a room may import only rooms of a lower rank.
const RANKS: &[(&str, u8)] = &[
    ("diagnostic", 0),
    ("fsutil", 0),
    ("clock", 0),
    ("phone", 1),
    ("template", 1),
    ("nxcc", 1),
    ("window", 1),
    ("model", 2),
    ("load", 3),
    ("state", 3),
    ("sandbox", 3),
    ("validate", 4),
    ("expand", 5),
    ("plan", 6),
    ("apply", 7),
    ("reconcile", 8),
    ("error", 9),
    ("pipeline", 10),
];

fn rank(room: &str) -> Option<u8> {
    RANKS
        .iter()
        .find(|(name, _)| *name == room)
        .map(|(_, rank)| *rank)
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("src").flatten() {
        let path = entry.path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The rooms `text` names as `crate::ROOM`, outside its tests.
fn imports(text: &str) -> BTreeSet<String> {
    let code = text.split("#[cfg(test)]").next().unwrap_or(text);
    code.match_indices("crate::")
        .map(|(at, _)| {
            code[at + 7..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn no_room_imports_a_room_above_it() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    let mut violations = Vec::new();
    let mut checked = 0;
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        let room = relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|name| name.trim_end_matches(".rs").to_owned())
            .expect("a room");
        if matches!(room.as_str(), "cli" | "main" | "lib") {
            continue;
        }
        let Some(own) = rank(&room) else {
            violations.push(format!(
                "{}: room `{room}` has no rank in RANKS",
                relative.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(&file).expect("read");
        for used in imports(&text) {
            checked += 1;
            if used == room {
                continue;
            }
            match rank(&used) {
                Some(theirs) if theirs < own => {}
                Some(_) => violations.push(format!(
                    "{}: `{room}` imports `{used}`, which is not below it",
                    relative.display()
                )),
                None => violations.push(format!("{}: unknown room `{used}`", relative.display())),
            }
        }
    }
    assert!(checked > 50, "the scan found only {checked} imports");
    assert!(violations.is_empty(), "{}", violations.join("\n"));
}

#[test]
fn the_library_knows_no_command_line() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    sources(&src, &mut files);
    for file in files {
        let relative = file.strip_prefix(&src).expect("under src");
        if relative.starts_with("cli") || relative == Path::new("main.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read");
        assert!(!text.contains("clap::"), "{} uses clap", relative.display());
    }
}
