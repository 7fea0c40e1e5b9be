//! Checking campaign files: the JSON Schema first ([`schema`]), then what a schema cannot express
//! ([`meaning`]), then the Rust types ([`coerce`] bridges the two). Every problem of a file is
//! collected and reported at once.

mod coerce;
mod meaning;
mod schema;
mod stand_in;

use std::collections::HashMap;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Kind};
use crate::load::{self, Document, LoadedCampaign, Root};
use crate::model::{Campaign, WorkspaceSettings};

/// A file that did not pass: its problems, and when only task settings are broken, a stand-in
/// campaign to expand for the template and number problems of the same file (see
/// [`stand_in`]).
pub struct Rejected {
    pub problems: Vec<Diagnostic>,
    pub stand_in: Option<Box<LoadedCampaign>>,
}

/// Checks one loaded file: schema, meaning (which compiles its templates), then the Rust types.
/// Every problem of the file comes back at once.
pub fn check(document: Document, root: &Root) -> Result<LoadedCampaign, Rejected> {
    let mut problems = schema::problems(&document, schema::schema_check());
    let templates = meaning::problems(&document, root, &mut problems);
    if !problems.is_empty() {
        let stand_in = stand_in::stand_in(&document.value, &problems)
            .and_then(|value| serde_json::from_value(coerce::typed(&value)).ok())
            .map(|campaign| {
                Box::new(LoadedCampaign {
                    document,
                    campaign,
                    templates,
                })
            });
        return Err(Rejected { problems, stand_in });
    }
    match serde_json::from_value(coerce::typed(&document.value)) {
        Ok(campaign) => Ok(LoadedCampaign {
            document,
            campaign,
            templates,
        }),
        Err(err) => Err(Rejected {
            problems: vec![unreadable(&document, &err)],
            stand_in: None,
        }),
    }
}

/// Checks the workspace file: its schema, then what the schema cannot tell (an `end` before
/// its `start`). Every problem comes back at once.
pub fn check_workspace(document: &Document) -> Result<WorkspaceSettings, Vec<Diagnostic>> {
    let mut problems = schema::problems(document, schema::workspace_check());
    meaning::check_calling_rules(document, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    serde_json::from_value(document.value.clone()).map_err(|err| {
        vec![document.diagnostic("", format!("cannot read the workspace file: {err}"))]
    })
}

/// A file the schema accepts but the types do not, such as an integer too large for
/// `startCount`. serde_json's error has no position; serde-saphyr, reading the text, has one.
fn unreadable(document: &Document, err: &serde_json::Error) -> Diagnostic {
    match load::parse_as::<Campaign>(&document.source) {
        Err(diagnostic) => {
            let mut diagnostic = diagnostic.with_kind(Kind::Schema);
            let pointer = diagnostic.position.and_then(|at| document.pointer_at(at));
            if let Some(pointer) = pointer {
                diagnostic.message =
                    format!("{}{}", schema::field_prefix(&pointer), diagnostic.message);
                diagnostic.pointer = Some(pointer);
            }
            diagnostic
        }
        // The two readers disagree only through a bug here; say what serde_json said.
        Ok(_) => document.diagnostic("", format!("cannot read the campaign: {err}")),
    }
}

/// A campaign name as a file writes it: the name, and a diagnostic at it waiting for a message.
pub struct NameUse {
    name: String,
    at: Diagnostic,
}

impl NameUse {
    /// The name `document` gives itself, if any. Taken also from a file with problems
    /// elsewhere, so that a clash shows up in the same run as those problems.
    pub fn of(document: &Document) -> Option<NameUse> {
        let name = document.value.get("name").and_then(Value::as_str)?;
        Some(NameUse {
            name: name.to_owned(),
            at: document.diagnostic("/name", ""),
        })
    }
}

/// Campaign names identify campaigns in state, so two files may not share one. `names` come in
/// the files' sorted order; the first file with a name keeps it, the others are reported.
pub fn unique_names(names: Vec<NameUse>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut first_seen: HashMap<String, String> = HashMap::new();
    for NameUse { name, mut at } in names {
        match first_seen.get(&name) {
            Some(first) => {
                at.message = format!(
                    "campaign name \"{name}\" is already used by {first}; names must be unique \
                     across all campaign files"
                );
                out.push(at);
            }
            None => {
                first_seen.insert(name, at.location());
            }
        }
    }
    out
}

#[cfg(test)]
pub(crate) mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::load::SourceText;

    fn problems(text: &str) -> Vec<Diagnostic> {
        let source = SourceText::new("t.campaign.yaml".into(), text.into());
        let document = load::parse(Arc::new(source)).unwrap();
        let root = Root::new(Path::new("."), None).unwrap();
        match check(document, &root) {
            Ok(_) => Vec::new(),
            Err(rejected) => rejected.problems,
        }
    }

    pub(crate) const VALID: &str = "name: t\ntask:\n  taskName: t\n  country: GB\n  strategyName: s\n  \
        dispatchType: none\n  agentGroupNo: g\n  predictCallRate: 1\n  ratioCallRate: 1\n  \
        startCount: 1\nnumbers:\n  - phones: [\"+44 20 7946 0100\"]\n";

    #[test]
    fn a_valid_file_has_no_problems() {
        assert_eq!(problems(VALID), Vec::new());
    }

    #[test]
    fn whole_numbers_written_as_decimals_read_as_integers() {
        let text = VALID
            .replace("startCount: 1", "startCount: 2.0")
            .replace("dispatchType: none", "dispatchType: 1.0")
            .replace("name: t\n", "name: t\nvars:\n  kept: 2.0\n");
        let source = SourceText::new("t.campaign.yaml".into(), text);
        let root = Root::new(Path::new("."), None).unwrap();
        let loaded = check(load::parse(Arc::new(source)).unwrap(), &root)
            .ok()
            .expect("valid");
        assert_eq!(loaded.campaign.task.start_count, 2);
        assert_eq!(
            loaded.campaign.task.dispatch_type,
            crate::model::DispatchType::Ratio
        );
        // Templates see what the file says.
        assert_eq!(loaded.campaign.vars["kept"], json!(2.0));
    }

    #[test]
    fn an_integer_too_large_for_its_field_is_reported_at_it() {
        let found = problems(&VALID.replace("startCount: 1", "startCount: 18446744073709551615"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].position,
            Some(crate::diagnostic::Position::new(10, 15))
        );
        assert!(
            found[0]
                .message
                .starts_with("`startCount`: expected a whole number")
        );
    }

    #[test]
    fn an_optional_enum_reports_its_values_not_the_null_branch() {
        let found = problems(&VALID.replace("startCount: 1", "startCount: 1\n  startupType: soon"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0]
                .message
                .contains("none, manual, scheduled, immediate"),
            "{found:?}"
        );
    }

    #[test]
    fn a_number_source_is_checked_as_the_form_its_key_names() {
        let found = problems(&VALID.replace(
            "  - phones: [\"+44 20 7946 0100\"]",
            "  - file: list.txt\n    phoneColumn: phone",
        ));
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "unknown key `phoneColumn`; allowed keys: file, other, check, asOf, maxAge",
                "`file`: file \"list.txt\" not found",
            ]
        );
    }

    #[test]
    fn null_values_are_reported_at_their_key() {
        let found = problems(&VALID.replace("  taskName: t", "  taskName:"));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(
            found[0].position,
            Some(crate::diagnostic::Position::new(3, 3))
        );
        assert_eq!(
            found[0].message,
            "`taskName`: expected a string, found nothing"
        );
    }
}
