//! Diagnostics as people, scripts and GitHub read them: human (`PATH:LINE:COLUMN: error:
//! MESSAGE` plus a snippet), JSON in the shape of `terraform validate -json`, and GitHub Actions
//! annotations.

use std::fmt::Write as _;

use campaignctl::diagnostic::{Diagnostic, Position};
use serde::Serialize;

/// How `validate` (and every command that fails on bad files) writes its diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// `PATH:LINE:COLUMN: error: MESSAGE` with a source snippet, then a count.
    #[default]
    Human,
    /// One JSON document in the shape of `terraform validate -json`.
    Json,
    /// GitHub Actions annotations: `::error file=F,line=L,col=C::MESSAGE`.
    Github,
}

/// Renders diagnostics in `format`. `files_checked` feeds the closing count line.
pub fn render(diagnostics: &[Diagnostic], format: Format, files_checked: usize) -> String {
    match format {
        Format::Human => render_human(diagnostics, files_checked),
        Format::Json => render_json(diagnostics),
        Format::Github => render_github(diagnostics),
    }
}

fn render_human(diagnostics: &[Diagnostic], files_checked: usize) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let _ = writeln!(
            out,
            "{}: error: {}",
            diagnostic.location(),
            diagnostic.message
        );
        if let (Some(position), Some(line)) = (diagnostic.position, &diagnostic.source_line) {
            let (line, column) = snippet_window(line, position.column);
            let number = position.line.to_string();
            let gutter = " ".repeat(number.len());
            let _ = writeln!(out, "{gutter} |");
            let _ = writeln!(out, "{number} | {line}");
            let _ = writeln!(out, "{gutter} | {}^", caret_padding(&line, column));
        }
    }
    let _ = writeln!(out, "{}", summary_line(diagnostics, files_checked));
    out
}

/// Source lines longer than this many characters are cut to a window around the caret: a
/// hostile or generated file can hold a line of megabytes.
const SNIPPET_CHARS: usize = 100;

/// The part of `line` shown in a snippet, with `…` where it was cut, and the caret's column in
/// that part.
fn snippet_window(line: &str, column: usize) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    if chars.len() <= SNIPPET_CHARS {
        return (line.to_owned(), column);
    }
    let caret = column.saturating_sub(1).min(chars.len());
    let end = (caret.saturating_sub(SNIPPET_CHARS / 2) + SNIPPET_CHARS).min(chars.len());
    let start = end - SNIPPET_CHARS;
    let mut shown = String::new();
    let mut column = caret - start + 1;
    if start > 0 {
        shown.push('…');
        column += 1;
    }
    shown.extend(&chars[start..end]);
    if end < chars.len() {
        shown.push('…');
    }
    (shown, column)
}

/// Spaces up to the caret's column, keeping tabs so the caret lines up with the source line.
fn caret_padding(line: &str, column: usize) -> String {
    line.chars()
        .take(column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect()
}

fn summary_line(diagnostics: &[Diagnostic], files_checked: usize) -> String {
    let files = plural(files_checked, "file", "files");
    if diagnostics.is_empty() {
        return format!("{files} valid");
    }
    let mut with_errors: Vec<&str> = diagnostics.iter().map(|d| d.file.as_str()).collect();
    with_errors.sort_unstable();
    with_errors.dedup();
    format!(
        "{} in {} ({files} checked)",
        plural(diagnostics.len(), "error", "errors"),
        plural(with_errors.len(), "file", "files"),
    )
}

fn plural(count: usize, one: &str, many: &str) -> String {
    format!("{count} {}", if count == 1 { one } else { many })
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonReport<'a> {
    format_version: u32,
    valid: bool,
    error_count: usize,
    warning_count: usize,
    diagnostics: Vec<JsonDiagnostic<'a>>,
}

#[derive(Serialize)]
struct JsonDiagnostic<'a> {
    severity: &'static str,
    summary: &'a str,
    file: &'a str,
    line: Option<usize>,
    column: Option<usize>,
    pointer: Option<&'a str>,
    range: JsonRange<'a>,
}

#[derive(Serialize)]
struct JsonRange<'a> {
    filename: &'a str,
    start: Option<Position>,
}

fn render_json(diagnostics: &[Diagnostic]) -> String {
    let report = JsonReport {
        format_version: 1,
        valid: diagnostics.is_empty(),
        error_count: diagnostics.len(),
        warning_count: 0,
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                severity: "error",
                summary: &d.message,
                file: &d.file,
                line: d.position.map(|p| p.line),
                column: d.position.map(|p| p.column),
                pointer: d.pointer.as_deref(),
                range: JsonRange {
                    filename: &d.file,
                    start: d.position,
                },
            })
            .collect(),
    };
    let mut text = serde_json::to_string_pretty(&report).unwrap_or_default();
    text.push('\n');
    text
}

fn render_github(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = write!(out, "::error file={}", escape_github_property(&d.file));
        if let Some(Position { line, column }) = d.position {
            let _ = write!(out, ",line={line},col={column}");
        }
        let _ = writeln!(out, "::{}", escape_github_data(&d.message));
    }
    out
}

/// Workflow-command escaping, as the GitHub Actions toolkit does it.
fn escape_github_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn escape_github_property(text: &str) -> String {
    escape_github_data(text)
        .replace(':', "%3A")
        .replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Diagnostic {
        Diagnostic::at(
            "a.campaign.yaml",
            Position::new(3, 17),
            "bad value\nsecond line",
        )
        .with_pointer("/task/dispatchType")
        .with_source_line(Some("  dispatchType: fast"))
    }

    #[test]
    fn human_output_points_a_caret_at_the_column() {
        let text = render(&[sample()], Format::Human, 1);
        assert!(text.starts_with("a.campaign.yaml:3:17: error: bad value"));
        assert!(text.contains("3 |   dispatchType: fast\n  |                 ^\n"));
        assert!(text.ends_with("1 error in 1 file (1 file checked)\n"));
    }

    #[test]
    fn long_lines_are_cut_around_the_caret() {
        let line = format!("{}X{}", "a".repeat(300), "b".repeat(300));
        let (shown, column) = snippet_window(&line, 301);
        assert_eq!(shown.chars().nth(column - 1), Some('X'));
        assert!(shown.starts_with('…') && shown.ends_with('…'), "{shown}");
        assert_eq!(shown.chars().count(), SNIPPET_CHARS + 2);
        let (shown, column) = snippet_window(&line, 2);
        assert_eq!(
            (shown.chars().nth(column - 1), shown.ends_with('…')),
            (Some('a'), true)
        );
        let (shown, column) = snippet_window(&line, 601);
        assert_eq!(shown.chars().nth(column - 1), Some('b'));
        assert!(shown.starts_with('…') && !shown.ends_with('…'), "{shown}");
        assert_eq!(snippet_window("short", 3), ("short".to_owned(), 3));
    }

    #[test]
    fn github_output_escapes_newlines_and_separators() {
        let mut diagnostic = sample();
        diagnostic.file = "dir,x:y.yaml".into();
        let text = render(&[diagnostic], Format::Github, 1);
        assert_eq!(
            text,
            "::error file=dir%2Cx%3Ay.yaml,line=3,col=17::bad value%0Asecond line\n"
        );
    }

    #[test]
    fn json_output_counts_errors() {
        let text = render(&[sample()], Format::Json, 1);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["valid"], false);
        assert_eq!(value["errorCount"], 1);
        assert_eq!(value["diagnostics"][0]["pointer"], "/task/dispatchType");
        assert_eq!(value["diagnostics"][0]["line"], 3);
    }
}
