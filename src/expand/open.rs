//! Opening a task's number sources: numbers written in the campaign file, CSV and text files
//! (their rendered paths), and reading one to its end, a batch at a time, normalized on all cores.

use rayon::prelude::*;

use super::sources::{
    Batch, CsvReader, Header, OpenError, Problems, Reader, TextReader, column_names,
};
use super::{Expansion, TaskSetup};
use crate::diagnostic::{Diagnostic, Kind};
use crate::load;
use crate::model::NumberSource;
use crate::phone::{Number, PhoneError, PhoneNormalizer, Rules};
use std::path::PathBuf;

impl Expansion<'_> {
    /// The rendered path of a file source (`None` for numbers written inline); `Err` when it
    /// does not render, the problem recorded.
    pub(super) fn source_path(
        &self,
        setup: &TaskSetup,
        list: &str,
        index: usize,
        source: &NumberSource,
        problems: &mut Vec<Diagnostic>,
    ) -> Result<Option<String>, ()> {
        let Some((key, path)) = source_path(source) else {
            return Ok(None);
        };
        let pointer = format!("/{list}/{index}/{key}");
        let found_before = problems.len();
        let rendered = self.render(&pointer, path, &setup.context, problems);
        if problems.len() > found_before {
            return Err(());
        }
        if rendered.trim().is_empty() {
            problems.push(
                self.document
                    .diagnostic(&pointer, format!("`{key}`: the path renders empty")),
            );
            return Err(());
        }
        Ok(Some(rendered))
    }

    /// Opens a source whose path (if any) is rendered; problems are recorded.
    pub(super) fn open(
        &self,
        list: &str,
        index: usize,
        source: &NumberSource,
        path: Option<&str>,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<OpenSource> {
        let at = |key: &str| format!("/{list}/{index}/{key}");
        let (key, path) = match (source, path) {
            (NumberSource::Phones(phones), _) => {
                let numbers = phones
                    .phones
                    .iter()
                    .enumerate()
                    .map(|(j, phone)| {
                        let position = self.document.position(&at(&format!("phones/{j}")));
                        (phone.as_text().into_owned(), position)
                    })
                    .collect();
                let (reader, batch) = Reader::inline(numbers);
                return Some(OpenSource {
                    reader,
                    batch,
                    problems: Problems::in_campaign_file(&self.document.source),
                    header: Header::from([]),
                    path: None,
                });
            }
            (NumberSource::Csv(_), Some(path)) => ("csv", path),
            (NumberSource::File(_), Some(path)) => ("file", path),
            // Sources with a path always have one rendered.
            (_, None) => return None,
        };
        let base = self.loaded.base_dir();
        let full = base.join(path);
        let file = load::display(&full);
        let root = self.reading.root;
        let handle = match root
            .resolve_written(base, path)
            .and_then(|canonical| root.open(&canonical, root.max_source_bytes))
        {
            Ok(handle) => handle,
            Err(refusal) => {
                problems.push(
                    self.document
                        .diagnostic(&at(key), refusal.describe_source(key, path, base, root))
                        .with_kind(Kind::File),
                );
                return None;
            }
        };
        let opened = match source {
            NumberSource::Csv(csv) => {
                let delimiter = match csv.delimiter.as_deref().map(str::as_bytes) {
                    None => b',',
                    Some(&[byte]) if byte.is_ascii() => byte,
                    Some(_) => {
                        problems.push(self.document.diagnostic(
                            &at("delimiter"),
                            "`delimiter` must be one ASCII character, such as `;` or a tab",
                        ));
                        return None;
                    }
                };
                CsvReader::open(handle, &file, delimiter)
                    .map(|(reader, header)| (Reader::Csv(reader), header))
            }
            _ => Ok((Reader::Text(TextReader::new(handle)), Header::from([]))),
        };
        let (reader, header) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                problems.push(match err {
                    OpenError::Source(message) => self
                        .document
                        .diagnostic(&at(key), format!("`{key}`: {message}"))
                        .with_kind(Kind::Source),
                    OpenError::InFile(diagnostic) => *diagnostic,
                });
                return None;
            }
        };
        let batch = match source {
            NumberSource::Csv(csv) => {
                let Some(phone) = header.iter().position(|name| *name == csv.phone_column) else {
                    problems.push(self.document.diagnostic(
                        &at("phoneColumn"),
                        format!(
                            "CSV column `{}` is not in {file}; its columns are: {}",
                            csv.phone_column,
                            column_names(&header)
                        ),
                    ));
                    return None;
                };
                Batch::new(header.len(), phone)
            }
            _ => Batch::new(1, 0),
        };
        Some(OpenSource {
            reader,
            batch,
            problems: Problems::in_file(&file),
            header,
            path: Some(full),
        })
    }
}

/// A source ready to read.
pub(super) struct OpenSource {
    pub(super) reader: Reader,
    pub(super) batch: Batch,
    /// Problems reading it.
    pub(super) problems: Problems,
    /// A CSV file's columns (empty for other sources).
    pub(super) header: Header,
    /// The data file (`None` for numbers written in the campaign file).
    pub(super) path: Option<PathBuf>,
}

/// Reads a source to its end, or until `consume` returns `false`. Each batch is normalized on
/// all cores while the next one is read, then handed to `consume` with one result per row, in
/// order.
pub(super) fn stream<F>(
    open: &mut OpenSource,
    normalizer: &dyn PhoneNormalizer,
    country: &str,
    rules: &Rules,
    mut consume: F,
) where
    F: FnMut(&Batch, Vec<Result<Number, PhoneError>>) -> bool + Send,
{
    let OpenSource {
        reader,
        batch,
        problems,
        ..
    } = open;
    let mut next = batch.empty_like();
    let mut more = reader.fill(batch, problems);
    while !batch.is_empty() {
        let (more_next, go_on) = rayon::join(
            || more && reader.fill(&mut next, problems),
            || {
                let results = (0..batch.len())
                    .into_par_iter()
                    .map(|row| normalizer.read(batch.phone(row), country, rules))
                    .collect();
                consume(batch, results)
            },
        );
        if !go_on {
            return;
        }
        std::mem::swap(batch, &mut next);
        next.clear();
        more = more_next;
    }
}

/// The key and text of a source's path, for sources read from a file.
pub(super) fn source_path(source: &NumberSource) -> Option<(&'static str, &str)> {
    match source {
        NumberSource::Phones(_) => None,
        NumberSource::Csv(csv) => Some(("csv", &csv.csv)),
        NumberSource::File(file) => Some(("file", &file.file)),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{campaign, expanded};
    use super::*;
    use crate::phone::LibPhoneNumber;

    #[test]
    fn a_csv_without_the_phone_column_names_the_columns_it_has() {
        let dir = tempfile::tempdir().unwrap();
        let numbers = "  - csv: list.csv\n";
        let problems = expanded(
            dir.path(),
            &campaign(numbers, ""),
            &[("list.csv", "id,tel\n1,020 7946 0001\n")],
        )
        .unwrap_err();
        assert!(
            problems
                .iter()
                .any(|p| p.message.ends_with("its columns are: id, tel")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_source_is_streamed_in_order_with_one_result_per_row() {
        let (reader, batch) = Reader::inline(
            ["020 7946 0001", "not a number", "+44 20 7946 0002"]
                .iter()
                .enumerate()
                .map(|(i, n)| ((*n).to_owned(), crate::diagnostic::Position::new(i + 1, 1)))
                .collect(),
        );
        let mut open = OpenSource {
            reader,
            batch,
            problems: Problems::in_file("inline"),
            header: Header::from([]),
            path: None,
        };
        let mut seen = Vec::new();
        stream(
            &mut open,
            &LibPhoneNumber,
            "GB",
            &Rules::exclusions(),
            |batch, results| {
                for (row, result) in results.into_iter().enumerate() {
                    seen.push((
                        batch.position(row).line,
                        result.map(|n| n.e164.digits()).ok(),
                    ));
                }
                true
            },
        );
        assert_eq!(
            seen,
            [
                (1, Some("442079460001".to_owned())),
                (2, None),
                (3, Some("442079460002".to_owned()))
            ]
        );
        assert_eq!(
            source_path(&NumberSource::Csv(
                serde_json::from_str(r#"{"csv": "a.csv"}"#).unwrap()
            )),
            Some(("csv", "a.csv"))
        );
    }
}
