//! Loading campaign files: find them ([`discover`]), read each within bounds, and parse its YAML
//! ([`yaml`]) into a [`Document`]: a JSON value plus where each part of it stands in the text.

mod discover;
mod root;
mod yaml;
mod yaml_errors;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Kind, Position};
use crate::model::Campaign;
use crate::template::Templates;

pub use discover::{discover, display};
pub use root::{DEFAULT_MAX_SOURCE_BYTES, Refusal, Root};
pub use yaml::{parse, parse_as};

/// Campaign files larger than this are refused before parsing: real campaigns are a few
/// kilobytes, and numbers belong in CSV sources.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// The folder searched when no path is given.
pub const DEFAULT_PATH: &str = "campaigns";

const BOM: char = '\u{feff}';

/// The text of a file, with line lookup for diagnostics.
#[derive(Debug)]
pub struct SourceText {
    pub path: PathBuf,
    pub name: String,
    pub text: String,
    line_starts: Vec<usize>,
}

impl SourceText {
    /// A leading byte-order mark is dropped: editors hide it, so columns count without it.
    pub fn new(path: PathBuf, mut text: String) -> Self {
        if text.starts_with(BOM) {
            text.drain(..BOM.len_utf8());
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceText {
            name: display(&path),
            path,
            text,
            line_starts,
        }
    }

    /// The text of 1-based `line`, without its line break.
    pub fn line(&self, line: usize) -> Option<&str> {
        let start = *self.line_starts.get(line.checked_sub(1)?)?;
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |next| next - 1);
        self.text.get(start..end).map(|l| l.trim_end_matches('\r'))
    }

    /// A diagnostic at `position` in this file, with the line shown under it.
    pub fn diagnostic(&self, position: Position, message: impl Into<String>) -> Diagnostic {
        // A blank line (the only one of an empty file) shows nothing worth a snippet.
        let line = self
            .line(position.line)
            .filter(|line| !line.trim().is_empty());
        Diagnostic::at(&self.name, position, message).with_source_line(line)
    }
}

/// A parsed campaign file: its JSON value and where each part of it stands in the text.
#[derive(Debug)]
pub struct Document {
    pub source: Arc<SourceText>,
    pub value: Value,
    /// JSON pointer of a value → where the value starts.
    values: HashMap<String, Position>,
    /// JSON pointer of a mapping entry → where its key starts.
    keys: HashMap<String, Position>,
}

impl Document {
    /// Where the value at `pointer` starts; the nearest enclosing value when the pointer names
    /// something absent (a missing field is reported at the mapping that lacks it).
    pub fn position(&self, pointer: &str) -> Position {
        let mut pointer = pointer;
        loop {
            if let Some(position) = self.values.get(pointer) {
                return *position;
            }
            match pointer.rfind('/') {
                Some(cut) => pointer = &pointer[..cut],
                None => return Position::new(1, 1),
            }
        }
    }

    /// The deepest value that starts at `position`, as a JSON pointer.
    pub fn pointer_at(&self, position: Position) -> Option<String> {
        self.values
            .iter()
            .filter(|(_, at)| **at == position)
            .map(|(pointer, _)| pointer)
            .max_by_key(|pointer| pointer.len())
            .cloned()
    }

    /// Where the key of the mapping entry at `pointer` starts (its value when it has no key).
    pub fn key_position(&self, pointer: &str) -> Position {
        self.keys
            .get(pointer)
            .copied()
            .unwrap_or_else(|| self.position(pointer))
    }

    /// Where the character at byte `offset` of the string at `pointer` stands in the file:
    /// templates report errors by offset into their own text, and users need the file's line
    /// and column. Exact for single-line and literal block scalars; quoted strings with escapes
    /// before the offset may be off by the escapes' length.
    pub fn position_in_string(&self, pointer: &str, offset: usize) -> Position {
        let start = self.position(pointer);
        let string = self
            .value
            .pointer(pointer)
            .and_then(Value::as_str)
            .unwrap_or("");
        let offset = floor_char_boundary(string, offset);
        let before = &string[..offset];
        let line_in_string = before.matches('\n').count();
        let column_in_line = before.rsplit('\n').next().unwrap_or("").chars().count();
        let first_char = self
            .source
            .line(start.line)
            .and_then(|line| line.chars().nth(start.column.saturating_sub(1)));
        match first_char {
            Some('"' | '\'') if line_in_string == 0 => {
                Position::new(start.line, start.column + 1 + column_in_line)
            }
            // Plain scalars and block scalars (whose location is their first content line):
            // the lines of the string are the lines of the file, at the same indentation.
            _ => Position::new(start.line + line_in_string, start.column + column_in_line),
        }
    }

    /// A diagnostic at the value `pointer` names.
    pub fn diagnostic(&self, pointer: &str, message: impl Into<String>) -> Diagnostic {
        self.source
            .diagnostic(self.position(pointer), message)
            .with_pointer(pointer)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// A campaign file that passed every check: its text and positions, the typed campaign, and its
/// templates, compiled once by validation for expansion to render.
pub struct LoadedCampaign {
    pub document: Document,
    pub campaign: Campaign,
    pub templates: Templates,
}

impl LoadedCampaign {
    /// The folder that relative source paths are resolved against.
    pub fn base_dir(&self) -> &Path {
        self.document
            .source
            .path
            .parent()
            .unwrap_or_else(|| Path::new("."))
    }
}

/// A key or index as a JSON pointer segment (RFC 6901).
pub fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// A JSON pointer segment back to the key it names.
pub fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// Reads and parses one campaign file, which must be a regular file inside `root`. Every
/// problem comes back as a diagnostic with a position where one exists: outside the root, not a
/// regular file, unreadable, too large, not UTF-8, empty, or not valid YAML.
pub fn load(path: &Path, root: &Root) -> Result<Document, Diagnostic> {
    let name = display(path);
    let bytes = read_capped(path, root).map_err(|message| Diagnostic::file(&name, message))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let bytes = err.as_bytes();
            let valid_up_to = err.utf8_error().valid_up_to();
            let position = position_after(&bytes[..valid_up_to]);
            // The line as far as it can be shown, with U+FFFD where the bytes are not UTF-8.
            let line_start = bytes[..valid_up_to]
                .iter()
                .rposition(|b| *b == b'\n')
                .map_or(0, |i| i + 1);
            let line_end = bytes[valid_up_to..]
                .iter()
                .position(|b| *b == b'\n')
                .map_or(bytes.len(), |i| valid_up_to + i);
            let line = String::from_utf8_lossy(&bytes[line_start..line_end]);
            let line = line.trim_start_matches(BOM).trim_end_matches('\r');
            return Err(Diagnostic::at(
                &name,
                position,
                "the file is not UTF-8 text (save it as UTF-8)",
            )
            .with_source_line(Some(line))
            .with_kind(Kind::File));
        }
    };
    let source = Arc::new(SourceText::new(path.to_owned(), text));
    parse(source)
}

fn read_capped(path: &Path, root: &Root) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let too_large = || {
        format!(
            "the file is larger than {} MiB; a campaign file holds settings, put numbers in a \
             CSV or text source",
            MAX_FILE_BYTES / (1024 * 1024)
        )
    };
    let file = root
        .open_path(path, MAX_FILE_BYTES as u64)
        .map_err(|refusal| match refusal {
            Refusal::TooLarge { .. } => too_large(),
            Refusal::NotFound => "no such file or folder".to_owned(),
            other => other.describe(&display(path), root),
        })?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("cannot read: {}", err.kind()))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(too_large());
    }
    Ok(bytes)
}

/// The 1-based position just after `bytes`, which are valid UTF-8, counted as
/// [`SourceText`] counts (without a byte-order mark).
fn position_after(bytes: &[u8]) -> Position {
    let text = std::str::from_utf8(bytes).unwrap_or("");
    let text = text.strip_prefix(BOM).unwrap_or(text);
    let line = text.matches('\n').count() + 1;
    let column = text.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    Position::new(line, column)
}
