//! GitHub Actions workflow commands: one `::error` annotation per diagnostic.

use std::fmt::Write as _;

use campaignctl::diagnostic::{Diagnostic, Position, escape};

pub fn diagnostics(diagnostics: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diagnostics {
        let _ = write!(
            out,
            "::error file={}",
            escape_github_property(&escape(&d.file))
        );
        if let Some(Position { line, column }) = d.position {
            let _ = write!(out, ",line={line},col={column}");
        }
        let _ = writeln!(out, "::{}", escape_github_data(&escape(&d.message)));
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
    use crate::cli::views::tests::sample;

    #[test]
    fn an_annotation_is_one_line_with_its_separators_escaped() {
        let mut diagnostic = sample();
        diagnostic.file = "dir,x:y.yaml".into();
        diagnostic.message = "100% bad\u{1b}[2J\nsecond line".into();
        let text = diagnostics(&[diagnostic]);
        assert_eq!(
            text,
            "::error file=dir%2Cx%3Ay.yaml,line=3,col=17::100%25 bad\\u{1b}[2J\\nsecond line\n"
        );
    }
}
