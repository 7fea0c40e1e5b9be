//! Finding campaign files and parsing them into a JSON value plus a map from JSON pointer to
//! source position, so every later check can point at the line and column it is about.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::{Location, Spanned};

use crate::diagnostic::{Diagnostic, Position};

/// Campaign files larger than this are refused before parsing: real campaigns are a few
/// kilobytes, and numbers belong in CSV sources.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;

/// The folder searched when no path is given.
pub const DEFAULT_PATH: &str = "campaigns";

const BOM: char = '\u{feff}';

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

/// Reads and parses one campaign file. Every problem comes back as a diagnostic with a
/// position where one exists: unreadable, too large, not UTF-8, empty, or not valid YAML.
pub fn load(path: &Path) -> Result<Document, Diagnostic> {
    let name = display(path);
    let bytes = read_capped(path).map_err(|message| Diagnostic::file(&name, message))?;
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
            .with_source_line(Some(line)));
        }
    };
    let source = Arc::new(SourceText::new(path.to_owned(), text));
    parse(source)
}

fn read_capped(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let file = std::fs::File::open(path).map_err(|err| format!("cannot read: {err}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|err| format!("cannot read: {err}"))?;
    if bytes.len() > MAX_FILE_BYTES {
        return Err(format!(
            "the file is larger than {} MiB; a campaign file holds settings, put numbers in a \
             CSV or text source",
            MAX_FILE_BYTES / (1024 * 1024)
        ));
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

/// Values that aliases (`*name`) may replay in one file. Campaign files share a setting or a
/// short list through anchors at most; a "billion laughs" document needs millions.
const MAX_ALIAS_EVENTS: usize = 10_000;

/// Parses YAML text into a [`Document`].
pub fn parse(source: Arc<SourceText>) -> Result<Document, Diagnostic> {
    let text = source.text.as_str();
    if text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        return Err(empty_file(&source, Position::new(1, 1)));
    }
    let root: Spanned<Node> = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|err| yaml_error(&source, &err))?;
    if matches!(root.value, Node::Null) {
        // `---`, `~` or `null` alone: as good as empty, and "expected a mapping, found null"
        // would hide that nothing is there.
        return Err(empty_file(&source, to_position(root.referenced)));
    }
    let mut document = Document {
        source,
        value: Value::Null,
        values: HashMap::new(),
        keys: HashMap::new(),
    };
    let mut pointer = String::new();
    document.value = flatten(root, &mut pointer, &mut document.values, &mut document.keys);
    Ok(document)
}

/// Deserializes the file straight into `T`. For the rare problem only the Rust types catch,
/// after the schema passed: serde-saphyr knows where in the file it is.
pub fn parse_as<T: de::DeserializeOwned>(source: &SourceText) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options(&source.text, yaml_options())
        .map_err(|err| yaml_error(source, &err))
}

/// `yes`, `017` and `1_000` stay strings (YAML 1.1 would make them a boolean and numbers, which
/// surprises people writing names and numbers); aliases are bounded (see [`MAX_ALIAS_EVENTS`]).
fn yaml_options() -> serde_saphyr::Options {
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_ALIAS_EVENTS;
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        with_snippet: false,
        alias_limits: alias_limits,
    }
}

fn empty_file(source: &SourceText, position: Position) -> Diagnostic {
    source.diagnostic(
        position,
        "the file is empty: a campaign file is a mapping with `name`, `task` and `numbers`",
    )
}

fn yaml_error(source: &SourceText, err: &serde_saphyr::Error) -> Diagnostic {
    let position = err
        .location()
        .filter(|l| l.line() > 0)
        .map_or(Position::new(1, 1), to_position);
    let (position, message) = yaml_message(source, innermost(err), position);
    source.diagnostic(position, message)
}

/// The error itself, without the wrappers that only add a snippet or an alias's second location.
fn innermost(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    loop {
        match err {
            serde_saphyr::Error::WithSnippet { error, .. }
            | serde_saphyr::Error::AliasError { error, .. } => err = error,
            other => return other,
        }
    }
}

/// What went wrong, in words for the person editing the file, and where. serde-saphyr's own
/// messages name its API (`set DuplicateKeyPolicy`, `use from_str_multiple`) or its internals
/// (`budget breached: Nodes { .. }`); the common mistakes get a message of their own.
fn yaml_message(
    source: &SourceText,
    err: &serde_saphyr::Error,
    position: Position,
) -> (Position, String) {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let message = match err {
        E::DuplicateMappingKey { key: Some(key), .. } => {
            format!("duplicate key `{key}`: each key may appear once per mapping")
        }
        E::DuplicateMappingKey { key: None, .. } => {
            "duplicate key: each key may appear once per mapping".to_owned()
        }
        E::MultipleDocuments { .. } => {
            let position = document_separator(source, position).unwrap_or(position);
            return (
                position,
                "a second YAML document starts here: a campaign file holds one campaign, put \
                 each in a file of its own"
                    .to_owned(),
            );
        }
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::Budget {
            breach: B::Aliases { .. } | B::AliasAnchorRatio { .. },
            ..
        } => format!(
            "aliases (`*name`) expand to more than {MAX_ALIAS_EVENTS} values, as in a \
             \"billion laughs\" attack; a campaign file needs far fewer"
        ),
        E::Budget {
            breach: B::Depth { .. },
            ..
        } => "the values are nested too deeply".to_owned(),
        E::Budget { .. } => "the file holds more values than a campaign file needs; put numbers \
             in a CSV or text source"
            .to_owned(),
        E::UnknownAnchor { .. } => "this alias (`*name`) refers to no anchor (`&name`) defined \
             before it"
            .to_owned(),
        E::NonFiniteFloat { value, .. } => format!("`{value}` is not a finite number"),
        E::Eof { .. } => "the file ends in the middle of a value".to_owned(),
        E::ExternalMessage { msg, .. } => return parser_message(source, msg, position),
        // What the Rust types reject (see `parse_as`): the YAML is fine, the value is not.
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => return (position, format!("expected {expected}, found {unexpected}")),
        E::Message { msg, .. } => return (position, msg.clone()),
        E::InvalidScalar { ty, .. } => {
            let expected = match *ty {
                "i64" => format!("a whole number from {} to {}", i64::MIN, i64::MAX),
                "u64" => format!("a whole number from 0 to {}", u64::MAX),
                other => other.to_owned(),
            };
            return (position, format!("expected {expected}"));
        }
        other => {
            let text = other.to_string();
            let first = text.lines().next().unwrap_or("invalid YAML").trim();
            first
                .rfind(" at line ")
                .map_or(first, |cut| &first[..cut])
                .to_owned()
        }
    };
    (position, format!("invalid YAML: {message}"))
}

/// A message of the YAML parser, with a hint for the mistakes people make most.
fn parser_message(source: &SourceText, message: &str, position: Position) -> (Position, String) {
    if message.contains("tab")
        && let Some(tab) = indentation_tab(source, position.line)
    {
        return (
            tab,
            "invalid YAML: a tab in indentation; YAML indents with spaces only".to_owned(),
        );
    }
    if message.contains("recursion limit") {
        return (
            position,
            "invalid YAML: the values are nested too deeply".to_owned(),
        );
    }
    let hint = if message.contains("mapping values are not allowed") {
        "; a value that contains `: ` must be quoted, and a key must line up with the keys \
         above it"
    } else if message.contains("after double-quoted scalar")
        || message.contains("after single-quoted scalar")
    {
        "; a quoted value runs to its closing quote, so check the quotes above for one that is \
         not closed"
    } else if message.contains("did not find expected key") {
        "; check that this line is indented like the keys above it"
    } else {
        ""
    };
    (position, format!("invalid YAML: {message}{hint}"))
}

/// The first tab in the indentation of `line` or of the lines after it up to the next line with
/// content. The parser reports a tab where the value before it ends, which can be the line
/// above the tab.
fn indentation_tab(source: &SourceText, line: usize) -> Option<Position> {
    let mut number = line;
    while let Some(text) = source.line(number) {
        let indentation = &text[..text.len() - text.trim_start().len()];
        if let Some(column) = indentation.chars().position(|c| c == '\t') {
            return Some(Position::new(number, column + 1));
        }
        if number > line && !text.trim().is_empty() {
            return None;
        }
        number += 1;
    }
    None
}

/// The `---` line that starts the document containing `position`.
fn document_separator(source: &SourceText, position: Position) -> Option<Position> {
    (1..=position.line)
        .rev()
        .find(|&line| {
            source
                .line(line)
                .is_some_and(|text| text.starts_with("---"))
        })
        .map(|line| Position::new(line, 1))
}

fn to_position(location: Location) -> Position {
    Position::new(location.line() as usize, location.column() as usize)
}

/// A YAML node as serde-saphyr hands it over, with the location of every child.
enum Node {
    Null,
    Bool(bool),
    Integer(i64),
    Unsigned(u64),
    Float(f64),
    String(String),
    Sequence(Vec<Spanned<Node>>),
    Mapping(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Integer(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Unsigned(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Node, E> {
        Ok(Node::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Node, E> {
        Ok(Node::String(value))
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Node, E> {
        Ok(Node::String(String::from_utf8_lossy(value).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Mapping(entries))
    }
}

/// Turns the node tree into a JSON value, recording positions by JSON pointer on the way.
fn flatten(
    node: Spanned<Node>,
    pointer: &mut String,
    values: &mut HashMap<String, Position>,
    keys: &mut HashMap<String, Position>,
) -> Value {
    values.insert(pointer.clone(), to_position(node.referenced));
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Integer(i) => Value::from(i),
        Node::Unsigned(u) => Value::from(u),
        Node::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Node::String(s) => Value::String(s),
        Node::Sequence(items) => {
            let base = pointer.len();
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                pointer.push('/');
                pointer.push_str(&index.to_string());
                out.push(flatten(item, pointer, values, keys));
                pointer.truncate(base);
            }
            Value::Array(out)
        }
        Node::Mapping(entries) => {
            let base = pointer.len();
            let mut out = serde_json::Map::with_capacity(entries.len());
            for (key, value) in entries {
                let key_text = scalar_text(&key.value);
                pointer.push('/');
                pointer.push_str(&key_text.replace('~', "~0").replace('/', "~1"));
                keys.insert(pointer.clone(), to_position(key.referenced));
                out.insert(key_text, flatten(value, pointer, values, keys));
                pointer.truncate(base);
            }
            Value::Object(out)
        }
    }
}

/// A mapping key as text; JSON only has string keys, and campaign files only use those.
fn scalar_text(node: &Node) -> String {
    match node {
        Node::Null => "null".to_owned(),
        Node::Bool(b) => b.to_string(),
        Node::Integer(i) => i.to_string(),
        Node::Unsigned(u) => u.to_string(),
        Node::Float(f) => f.to_string(),
        Node::String(s) => s.clone(),
        Node::Sequence(_) | Node::Mapping(_) => "<complex key>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Result<Document, Diagnostic> {
        parse(Arc::new(SourceText::new(
            "t.campaign.yaml".into(),
            text.into(),
        )))
    }

    #[test]
    fn positions_follow_pointers() {
        let d = doc("name: x\ntask:\n  dispatchType: fast\nlist:\n  - a\n  - \"b\"\n").unwrap();
        assert_eq!(d.position("/task/dispatchType"), Position::new(3, 17));
        assert_eq!(d.key_position("/task/dispatchType"), Position::new(3, 3));
        assert_eq!(d.position("/list/1"), Position::new(6, 5));
        assert_eq!(d.position("/task/missing"), d.position("/task"));
    }

    #[test]
    fn strict_scalars_stay_strings() {
        let d = doc("a: yes\nb: 017\nc: 1_000\nd: true\n").unwrap();
        assert_eq!(d.value["a"], "yes");
        assert_eq!(d.value["b"], "017");
        assert_eq!(d.value["c"], "1_000");
        assert_eq!(d.value["d"], true);
    }

    #[test]
    fn positions_inside_strings() {
        let d = doc("a: \"xx{{ y }}\"\nb: |\n  one\n  two {{ z }}\n").unwrap();
        assert_eq!(d.position_in_string("/a", 2), Position::new(1, 7));
        assert_eq!(d.position_in_string("/b", 8), Position::new(4, 7));
    }

    fn error(text: &str) -> (Position, String) {
        let err = doc(text).unwrap_err();
        (err.position.unwrap(), err.message)
    }

    #[test]
    fn a_tab_is_reported_where_it_stands() {
        // The parser stops at the end of `b`'s value, a line above the tab.
        let (at, message) = error("a:\n  b: x\n\tc: y\n");
        assert_eq!(at, Position::new(3, 1));
        assert!(message.contains("a tab in indentation"), "{message}");
    }

    #[test]
    fn a_second_document_is_reported_at_its_separator() {
        let (at, message) = error("a: 1\n---\nb: 2\n");
        assert_eq!(at, Position::new(2, 1));
        assert!(message.contains("second YAML document"), "{message}");
    }

    #[test]
    fn aliases_that_expand_too_far_are_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..6 {
            let aliases = vec![format!("*a{}", level - 1); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
        }
        let (_, message) = error(&text);
        assert!(message.contains("billion laughs"), "{message}");
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_columns() {
        let d = doc("\u{feff}name: x\n").unwrap();
        assert_eq!(d.position("/name"), Position::new(1, 7));
        assert_eq!(d.source.line(1), Some("name: x"));
    }

    #[test]
    fn a_null_document_counts_as_empty() {
        for text in ["---\n", "~\n", "null\n"] {
            assert!(error(text).1.starts_with("the file is empty"), "{text:?}");
        }
    }

    #[test]
    fn pointers_are_found_by_position() {
        let d = doc("task:\n  country: GB\n").unwrap();
        assert_eq!(
            d.pointer_at(Position::new(2, 12)).as_deref(),
            Some("/task/country")
        );
        assert_eq!(d.pointer_at(Position::new(9, 9)), None);
    }

    #[test]
    fn yaml_errors_have_positions() {
        let err = doc("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.position.map(|p| p.line), Some(2));
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        let err = doc("# only a comment\n").unwrap_err();
        assert!(err.message.contains("empty"));
    }
}
