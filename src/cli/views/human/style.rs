//! The colours of human output. anstream drops them when the output is not a terminal, under
//! `NO_COLOR`, or with `--color never`; they are added after escaping, so what a file says can
//! never set a colour.

use anstyle::{AnsiColor, Style};

pub const LOCATION: Style = Style::new().bold();
pub const ERROR: Style = AnsiColor::Red.on_default().bold();
pub const GUTTER: Style = AnsiColor::Blue.on_default().bold();
pub const CREATE: Style = AnsiColor::Green.on_default();
pub const WARN: Style = AnsiColor::Yellow.on_default().bold();
pub const QUIET: Style = Style::new().dimmed();
pub const SETTING: Style = AnsiColor::Cyan.on_default();
pub const SUMMARY: Style = Style::new().bold();

/// `line` of a plan or an apply log with its leading marker coloured (`+ create`,
/// `! in-doubt`, `created`, `IN DOUBT`, …). Lines are escaped already.
pub fn paint_line(line: &str) -> String {
    const MARKERS: [(&str, Style); 11] = [
        ("  + ", CREATE),
        ("  = ", QUIET),
        ("  ? ", WARN),
        ("  ! ", WARN),
        ("      ~ ", SETTING),
        ("created    ", CREATE),
        ("rejected   ", ERROR),
        ("IN DOUBT   ", WARN),
        ("not sent   ", WARN),
        ("Plan: ", SUMMARY),
        ("Apply finished: ", SUMMARY),
    ];
    for (marker, style) in MARKERS {
        if let Some(rest) = line.strip_prefix(marker) {
            // The action word after a plan marker belongs to it (`+ create`).
            let (word, rest) = if marker.starts_with("  ") && !marker.starts_with("      ") {
                rest.split_once(' ').map_or((rest, ""), |(w, r)| (w, r))
            } else {
                ("", rest)
            };
            let space = if word.is_empty() { "" } else { " " };
            return format!("{style}{marker}{word}{style:#}{space}{rest}");
        }
    }
    line.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_painted_and_the_rest_is_left_alone() {
        let painted = paint_line("  + create    \"t\"  3 numbers");
        assert!(painted.starts_with("\u{1b}["), "{painted:?}");
        assert!(painted.ends_with("    \"t\"  3 numbers"), "{painted:?}");
        assert_eq!(
            anstream::adapter::strip_str(&painted).to_string(),
            "  + create    \"t\"  3 numbers"
        );
        assert_eq!(paint_line("campaign x (y)"), "campaign x (y)");
    }
}
