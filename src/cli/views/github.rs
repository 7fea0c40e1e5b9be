//! GitHub Actions workflow commands: one `::error` annotation per diagnostic, the most useful
//! first (GitHub shows ten per step), and a closing notice with the total.

use std::fmt::Write as _;

use campaignctl::diagnostic::{Diagnostic, Kind, Position, escape};

use super::human::diagnostics::summary_line;

/// GitHub shows at most this many error annotations of a step.
const SHOWN_PER_STEP: usize = 10;

pub fn diagnostics(diagnostics: &[Diagnostic], files_checked: usize) -> String {
    let mut ordered: Vec<&Diagnostic> = diagnostics.iter().collect();
    // Problems of the campaign files themselves before rows of data files: a broken file hides
    // everything it would have read. The sort is stable, so file and line order stay within.
    ordered.sort_by_key(|d| usefulness(d.kind));
    let mut out = String::new();
    for d in ordered {
        let _ = write!(
            out,
            "::error file={},title={}",
            escape_github_property(&escape(&d.file)),
            escape_github_property(title(d.kind))
        );
        if let Some(Position { line, column }) = d.position {
            let _ = write!(out, ",line={line},col={column}");
        }
        let _ = writeln!(out, "::{}", escape_github_data(&escape(&d.message)));
    }
    let mut total = summary_line(diagnostics, files_checked);
    if diagnostics.len() > SHOWN_PER_STEP {
        let _ = write!(
            total,
            "; GitHub shows the first {SHOWN_PER_STEP} annotations, the job log lists all"
        );
    }
    let _ = writeln!(
        out,
        "::notice title=campaignctl validate::{}",
        escape_github_data(&total)
    );
    out
}

fn usefulness(kind: Kind) -> u8 {
    match kind {
        Kind::File | Kind::Yaml => 0,
        Kind::Schema => 1,
        Kind::Meaning | Kind::Template => 2,
        Kind::Source | Kind::Number => 3,
    }
}

fn title(kind: Kind) -> &'static str {
    match kind {
        Kind::File => "campaignctl: file",
        Kind::Yaml => "campaignctl: YAML",
        Kind::Schema => "campaignctl: campaign schema",
        Kind::Template => "campaignctl: template",
        Kind::Source => "campaignctl: number source",
        Kind::Number => "campaignctl: phone number",
        Kind::Meaning => "campaignctl: campaign",
    }
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
        let text = diagnostics(&[diagnostic], 1);
        assert_eq!(
            text,
            "::error file=dir%2Cx%3Ay.yaml,title=campaignctl%3A campaign,line=3,col=17::100%25 \
             bad\\u{1b}[2J\\nsecond line\n::notice title=campaignctl validate::1 error in 1 file \
             (1 file checked)\n"
        );
    }
}
