//! Diagnostics for people: `PATH:LINE:COLUMN: error: MESSAGE`, the line with a caret under the
//! column, then a count.

use std::fmt::Write as _;

use campaignctl::diagnostic::{Diagnostic, escape};

use super::plural;
use super::style::{ERROR, GUTTER, LOCATION};

pub fn render(diagnostics: &[Diagnostic], files_checked: usize) -> String {
    let mut out = String::new();
    for diagnostic in diagnostics {
        let _ = writeln!(
            out,
            "{LOCATION}{}:{LOCATION:#} {ERROR}error:{ERROR:#} {}",
            escape(&diagnostic.location()),
            escape(&diagnostic.message)
        );
        if let (Some(position), Some(line)) = (diagnostic.position, &diagnostic.source_line) {
            let (line, column) = snippet_window(line, position.column);
            let (line, column) = escaped_snippet(&line, column);
            let number = position.line.to_string();
            let gutter = " ".repeat(number.len());
            let _ = writeln!(out, "{GUTTER}{gutter} |{GUTTER:#}");
            let _ = writeln!(out, "{GUTTER}{number} |{GUTTER:#} {line}");
            let _ = writeln!(
                out,
                "{GUTTER}{gutter} |{GUTTER:#} {}{ERROR}^{ERROR:#}",
                caret_padding(&line, column)
            );
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

/// The snippet with what a terminal would act on escaped, and the caret's column in it.
fn escaped_snippet(line: &str, column: usize) -> (String, usize) {
    let cut = line
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(line.len(), |(at, _)| at);
    let before = escape(&line[..cut]);
    (
        format!("{before}{}", escape(&line[cut..])),
        before.chars().count() + 1,
    )
}

/// Blanks up to the caret's column, as wide on a terminal as the text they stand under: a tab
/// stays a tab, and a wide character (CJK, most emoji) takes two columns.
fn caret_padding(line: &str, column: usize) -> String {
    line.chars()
        .take(column.saturating_sub(1))
        .map(|c| match c {
            '\t' => "\t".to_owned(),
            c => " ".repeat(unicode_width::UnicodeWidthChar::width(c).unwrap_or(0)),
        })
        .collect()
}

pub fn summary_line(diagnostics: &[Diagnostic], files_checked: usize) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::views::tests::sample;

    #[test]
    fn human_output_points_a_caret_at_the_column() {
        let text = anstream::adapter::strip_str(&render(&[sample()], 1)).to_string();
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
    fn the_caret_stands_under_its_column_after_wide_text() {
        // Each of the three CJK characters takes two terminal columns.
        assert_eq!(caret_padding("名前: 日本語 x", 9), " ".repeat(13));
        assert_eq!(caret_padding("\tx", 2), "\t");
    }
}
