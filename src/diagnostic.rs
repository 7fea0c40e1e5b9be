//! One diagnostic type for every problem a user can cause in their files: where it is (file,
//! line, column, JSON pointer) and what is wrong. The binary's views render it.

use std::borrow::Cow;
use std::fmt::Write as _;

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

/// The longest piece of a data file a diagnostic quotes, in characters.
pub const QUOTE_CHARS: usize = 40;

/// `text` as a diagnostic quotes it: in double quotes, cut to [`QUOTE_CHARS`] characters with
/// `…`, every control, bidi or invisible formatting character escaped. One field of a hostile
/// file can then neither run on, nor break the line, nor steer a terminal.
pub fn quote(text: &str) -> String {
    let mut out = String::from("\"");
    let mut chars = text.chars();
    for c in chars.by_ref().take(QUOTE_CHARS) {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c => push_escaped(&mut out, c),
        }
    }
    if chars.next().is_some() {
        out.push('…');
    }
    out.push('"');
    out
}

/// `raw`, a phone number as written, quoted like [`quote`]; unless `show`, its digits are
/// masked (see [`excerpt`]).
pub fn quote_number(raw: &str, show: bool) -> String {
    quote(&excerpt(raw, show))
}

/// At most [`QUOTE_CHARS`] characters of `text` (and `…` when it was longer), unescaped; unless
/// `show_digits`, its digits masked as plans mask numbers: the first four and the last two stay.
pub fn excerpt(text: &str, show_digits: bool) -> String {
    let mut cut: String = text.chars().take(QUOTE_CHARS).collect();
    if cut.len() < text.len() {
        cut.push('…');
    }
    if show_digits {
        return cut;
    }
    let digits = cut.chars().filter(char::is_ascii_digit).count();
    let mut seen = 0;
    cut.chars()
        .map(|c| {
            if !c.is_ascii_digit() {
                return c;
            }
            seen += 1;
            if digits > 6 && (seen <= 4 || seen > digits - 2) {
                c
            } else {
                '•'
            }
        })
        .collect()
}

/// `text` safe to print on a terminal or in a CI log as one line: control, bidi and invisible
/// formatting characters (ESC, CR, NUL, a newline, U+202E, …) written as escapes; tabs stay.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

fn push_escaped(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

/// Characters that move the cursor, change how a terminal reads what follows, reorder text or
/// hide in it. A tab only moves to the next tab stop, and snippets keep it so that carets line
/// up.
fn needs_escape(c: char) -> bool {
    (c.is_control() && c != '\t')
        || matches!(
            c,
            '\u{061c}'
                | '\u{200b}'..='\u{200f}'
                | '\u{2028}'..='\u{202e}'
                | '\u{2060}'..='\u{2069}'
                | '\u{feff}'
        )
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn quotes_are_cut_escaped_and_masked() {
        assert_eq!(quote("plain"), "\"plain\"");
        assert_eq!(quote("a\u{1b}[31mb\r\n"), "\"a\\u{1b}[31mb\\r\\n\"");
        assert_eq!(quote("say \"hi\""), "\"say \\\"hi\\\"\"");
        let long = "x".repeat(100);
        assert_eq!(quote(&long), format!("\"{}…\"", "x".repeat(QUOTE_CHARS)));
        assert_eq!(quote("\u{202e}evil"), "\"\\u{202e}evil\"");
        assert_eq!(
            quote_number("+44 20 7946 0018", false),
            "\"+44 20 •••• ••18\""
        );
        assert_eq!(quote_number("12345", false), "\"•••••\"");
        assert_eq!(
            quote_number("+44 20 7946 0018", true),
            "\"+44 20 7946 0018\""
        );
        assert_eq!(escape("fine"), Cow::Borrowed("fine"));
        assert_eq!(escape("a\nb"), "a\\nb");
    }

    proptest! {
        /// Whatever a field holds, its quote is one line of printable text no longer than the
        /// cut plus the quotes, the ellipsis and the escapes of the characters kept.
        #[test]
        fn a_quote_is_one_printable_bounded_line(text in any::<String>(), show in any::<bool>()) {
            for quoted in [quote(&text), quote_number(&text, show)] {
                prop_assert!(!quoted.chars().any(needs_escape), "{quoted:?}");
                let kept: usize = text.chars().take(QUOTE_CHARS).map(|c| if needs_escape(c) || c == '"' || c == '\\' { 10 } else { 1 }).sum();
                prop_assert!(quoted.chars().count() <= kept + 3, "{quoted:?}");
            }
        }
    }
}
