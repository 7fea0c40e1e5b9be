//! One diagnostic type for every problem a user can cause in their files: where it is (file,
//! line, column, JSON pointer) and what is wrong. The binary's views render it.

use serde::Serialize;

/// A 1-based line and column (in characters). For CSV sources the line is the CSV line and the
/// column is the 1-based field number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

impl Position {
    pub const fn new(line: usize, column: usize) -> Self {
        Position { line, column }
    }
}

/// What kind of problem a diagnostic reports, for tools that sort or title them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Kind {
    /// A file that cannot be found or read, or that is too large.
    File,
    /// Text that is not valid YAML.
    Yaml,
    /// A value the campaign schema does not allow.
    Schema,
    /// A template that does not parse or render.
    Template,
    /// A row of a CSV or text source that cannot be read.
    Source,
    /// A phone number that cannot be dialed.
    Number,
    /// What the values mean together: clashes, duplicate names, nothing to dial.
    #[default]
    Meaning,
}

impl Kind {
    /// The kind's name in machine-readable output.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::File => "file",
            Kind::Yaml => "yaml",
            Kind::Schema => "schema",
            Kind::Template => "template",
            Kind::Source => "source",
            Kind::Number => "number",
            Kind::Meaning => "meaning",
        }
    }
}

/// A problem in a campaign file, template or number source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub kind: Kind,
    /// The file, as the user named it (relative paths stay relative).
    pub file: String,
    /// Where in the file; `None` when the problem is the file as a whole (it does not exist,
    /// cannot be read).
    pub position: Option<Position>,
    /// JSON pointer of the value in the campaign file, when there is one.
    pub pointer: Option<String>,
    pub message: String,
    /// The text of the line at `position`, shown under the message.
    pub source_line: Option<String>,
}

impl Diagnostic {
    /// A problem with a file as a whole.
    pub fn file(file: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            kind: Kind::File,
            file: file.into(),
            position: None,
            pointer: None,
            message: message.into(),
            source_line: None,
        }
    }

    /// A problem at a position, with no snippet.
    pub fn at(file: impl Into<String>, position: Position, message: impl Into<String>) -> Self {
        Diagnostic {
            kind: Kind::default(),
            position: Some(position),
            ..Diagnostic::file(file, message)
        }
    }

    pub fn with_kind(mut self, kind: Kind) -> Self {
        self.kind = kind;
        self
    }

    pub fn with_pointer(mut self, pointer: impl Into<String>) -> Self {
        self.pointer = Some(pointer.into());
        self
    }

    pub fn with_source_line(mut self, line: Option<&str>) -> Self {
        self.source_line = line.map(str::to_owned);
        self
    }

    /// `PATH:LINE:COLUMN`, or just `PATH` when there is no position.
    pub fn location(&self) -> String {
        match self.position {
            Some(Position { line, column }) => format!("{}:{line}:{column}", self.file),
            None => self.file.clone(),
        }
    }

    /// Sorts by file, then position, so output is stable whatever order checks ran in.
    pub fn sort(diagnostics: &mut [Diagnostic]) {
        diagnostics.sort_by(|a, b| {
            (&a.file, a.position, &a.message).cmp(&(&b.file, b.position, &b.message))
        });
    }
}
