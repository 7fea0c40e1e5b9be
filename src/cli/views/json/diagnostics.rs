//! Diagnostics for scripts: one JSON document in the shape of `terraform validate -json`.

use campaignctl::diagnostic::{Diagnostic, Position};
use serde::Serialize;

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
    kind: &'static str,
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

pub fn render(diagnostics: &[Diagnostic]) -> String {
    let report = JsonReport {
        format_version: 1,
        valid: diagnostics.is_empty(),
        error_count: diagnostics.len(),
        warning_count: 0,
        diagnostics: diagnostics
            .iter()
            .map(|d| JsonDiagnostic {
                severity: "error",
                kind: d.kind.as_str(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::views::tests::sample;

    #[test]
    fn json_output_counts_errors() {
        let text = render(&[sample()]);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["valid"], false);
        assert_eq!(value["errorCount"], 1);
        assert_eq!(value["diagnostics"][0]["pointer"], "/task/dispatchType");
        assert_eq!(value["diagnostics"][0]["line"], 3);
    }
}
