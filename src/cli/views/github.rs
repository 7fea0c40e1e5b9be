//! GitHub Actions workflow commands: one `::error` annotation per diagnostic.

use std::fmt::Write as _;

use campaignctl::diagnostic::{Diagnostic, Position};

pub fn diagnostics(diagnostics: &[Diagnostic]) -> String {
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
    use crate::cli::views::tests::sample;

    #[test]
    fn github_output_escapes_newlines_and_separators() {
        let mut diagnostic = sample();
        diagnostic.file = "dir,x:y.yaml".into();
        let text = diagnostics(&[diagnostic]);
        assert_eq!(
            text,
            "::error file=dir%2Cx%3Ay.yaml,line=3,col=17::bad value%0Asecond line\n"
        );
    }
}
