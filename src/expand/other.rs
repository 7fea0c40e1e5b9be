//! The `other` value of each number: fixed for the whole source, filled in from CSV fields
//! without the template engine when the template is only text and `{{ row.NAME }}` lookups, or
//! rendered per row.

use minijinja::{Template, Value};

use super::open::OpenSource;
use super::sources::{Batch, Header, column_names};
use super::{Expansion, NUMBERS, TaskSetup};
use crate::diagnostic::Diagnostic;
use crate::model::NumberSource;
use crate::template::{self, Piece, TemplateError};

impl Expansion<'_> {
    /// How the `other` value of each number of a source is made. Problems found here are
    /// recorded, and the source is still read so its numbers are checked.
    pub(super) fn other(
        &self,
        setup: &TaskSetup,
        index: usize,
        source: &NumberSource,
        open: &OpenSource,
        problems: &mut Vec<Diagnostic>,
    ) -> Other<'_> {
        let pointer = format!("/{NUMBERS}/{index}/other");
        let Some(text) = source_other(source) else {
            return Other::Fixed(String::new());
        };
        let Some(template) = self.templates.get(&pointer) else {
            return Other::Fixed(text.to_owned());
        };
        let is_csv = matches!(source, NumberSource::Csv(_));
        if template::uses_zone(&template) {
            // Each number's own time zones: rendered per number, with its row when it has one.
            let header = if is_csv {
                open.header.clone()
            } else {
                Header::from([])
            };
            return Other::Rows {
                template,
                context: setup.context.clone(),
                header,
            };
        }
        if !is_csv || !template::uses_row(&template) {
            return match template::render(&template, &setup.context) {
                Ok(value) => Other::Fixed(value),
                Err(err) => {
                    problems.push(self.template_problem(&pointer, err));
                    Other::Fixed(String::new())
                }
            };
        }
        let header = &open.header;
        let mut missing = |column: &str, offset: usize| {
            let position = self.document.position_in_string(&pointer, offset);
            let message = format!(
                "CSV column `{column}` is not in {}; its columns are: {}",
                open.problems.file(),
                column_names(header)
            );
            problems.push(
                self.document
                    .source
                    .diagnostic(position, message)
                    .with_pointer(&pointer),
            );
        };
        let absent = template::missing_columns(&template, header);
        for (column, offset) in &absent {
            missing(column, *offset);
        }
        if !absent.is_empty() {
            return Other::Fixed(String::new());
        }
        let Some(pieces) = template::row_lookups(text) else {
            return Other::Rows {
                template,
                context: setup.context.clone(),
                header: header.clone(),
            };
        };
        let mut fields = Vec::with_capacity(pieces.len());
        for piece in pieces {
            match piece {
                Piece::Text(text) => fields.push(Field::Text(text.to_owned())),
                Piece::Column(name) => match header.iter().position(|column| column == name) {
                    Some(column) => fields.push(Field::Column(column)),
                    None => {
                        missing(name, text.find(name).unwrap_or(0));
                        return Other::Fixed(String::new());
                    }
                },
            }
        }
        Other::Fields(fields)
    }
}

/// How a source's `other` value is made for each of its numbers.
pub(super) enum Other<'t> {
    /// The same for every number: no `other`, or one that does not read `row`.
    Fixed(String),
    /// Text and CSV fields, filled in without the template engine.
    Fields(Vec<Field>),
    /// A template over the row, rendered for each number.
    Rows {
        template: Template<'t, 't>,
        context: Value,
        header: Header,
    },
}

pub(super) enum Field {
    Text(String),
    Column(usize),
}

impl Other<'_> {
    /// The value for the number in `row` of `batch`, whose time zones are `zones`.
    pub(super) fn value(
        &self,
        batch: &Batch,
        row: usize,
        zones: &[&'static str],
    ) -> Result<String, TemplateError> {
        match self {
            Other::Fixed(value) => Ok(value.clone()),
            Other::Fields(fields) => Ok(fields
                .iter()
                .map(|field| match field {
                    Field::Text(text) => text.as_str(),
                    Field::Column(column) => batch.field(row, *column),
                })
                .collect()),
            Other::Rows {
                template,
                context,
                header,
            } => {
                // A source without a header (inline numbers, a text file) has no `row`.
                let fields = batch.fields(row).take(header.len());
                let context = template::row_context(context, header, fields);
                template::render(template, &template::zone_context(&context, zones))
            }
        }
    }
}

pub(super) fn source_other(source: &NumberSource) -> Option<&str> {
    match source {
        NumberSource::Phones(phones) => phones.other.as_deref(),
        NumberSource::Csv(csv) => csv.other.as_deref(),
        NumberSource::File(file) => file.other.as_deref(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{campaign, expanded};

    fn others(csv_other: &str) -> Vec<String> {
        let dir = tempfile::tempdir().unwrap();
        let numbers = format!("  - csv: list.csv\n    other: \"{csv_other}\"\n");
        let expanded = expanded(
            dir.path(),
            &campaign(&numbers, "").replace("region: [a, b]", "region: [a]"),
            &[("list.csv", "id,phone\n7,020 7946 0001\n8,020 7946 0002\n")],
        )
        .unwrap();
        expanded.tasks[0]
            .body
            .call_list
            .iter()
            .map(|item| item.other.clone())
            .collect()
    }

    #[test]
    fn row_lookups_are_filled_in_per_row() {
        assert_eq!(others("c{{ row.id }}-{{ region }}"), ["c7-a", "c8-a"]);
        assert_eq!(others("c{{ row.id }}"), ["c7", "c8"]);
    }

    #[test]
    fn an_other_without_row_is_the_same_for_every_number() {
        assert_eq!(others("{{ campaign }}"), ["t", "t"]);
        assert_eq!(others("fixed"), ["fixed", "fixed"]);
    }

    #[test]
    fn each_number_s_time_zones_are_there_for_other() {
        assert_eq!(
            others("{{ row.id }} {{ zone }}"),
            ["7 Europe/London", "8 Europe/London"]
        );
        assert_eq!(
            others("{{ zones | join(',') }}"),
            ["Europe/London", "Europe/London"]
        );
        // Inline numbers have no row, but their zones, each its own (fiction numbers of
        // Washington DC and Los Angeles).
        let dir = tempfile::tempdir().unwrap();
        let numbers =
            "  - phones: [\"+1 202 555 0100\", \"+1 213 555 0101\"]\n    other: \"{{ zone }}\"\n";
        let expanded = expanded(
            dir.path(),
            &campaign(numbers, "").replace("region: [a, b]", "region: [a]"),
            &[],
        )
        .unwrap();
        let zones: Vec<&str> = expanded.tasks[0]
            .body
            .call_list
            .iter()
            .map(|item| item.other.as_str())
            .collect();
        assert_eq!(zones, ["America/New_York", "America/Los_Angeles"]);
    }
}
