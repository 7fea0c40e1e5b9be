//! How results look, apart from the domain types they show: one module per output format.

pub mod github;
pub mod human;
pub mod json;
pub mod markdown;

use campaignctl::diagnostic::Diagnostic;

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

/// Renders diagnostics in `format`. `files_checked` feeds the human closing count line.
pub fn diagnostics(diagnostics: &[Diagnostic], format: Format, files_checked: usize) -> String {
    match format {
        Format::Human => human::diagnostics::render(diagnostics, files_checked),
        Format::Json => json::diagnostics::render(diagnostics),
        Format::Github => github::diagnostics(diagnostics, files_checked),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use campaignctl::diagnostic::{Diagnostic, Position};

    pub(crate) fn sample() -> Diagnostic {
        Diagnostic::at(
            "a.campaign.yaml",
            Position::new(3, 17),
            "bad value\nsecond line",
        )
        .with_pointer("/task/dispatchType")
        .with_source_line(Some("  dispatchType: fast"))
    }
}
