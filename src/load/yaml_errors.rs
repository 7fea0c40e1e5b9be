//! serde-saphyr's errors reworded for the person editing the file, at the place they are about.

use serde_saphyr::Location;

use super::SourceText;
use super::yaml::MAX_ALIAS_EVENTS;
use crate::diagnostic::{Diagnostic, Kind, Position};

pub(super) fn yaml_error(source: &SourceText, err: &serde_saphyr::Error) -> Diagnostic {
    let position = err
        .location()
        .filter(|l| l.line() > 0)
        .map_or(Position::new(1, 1), to_position);
    let (position, message) = yaml_message(source, innermost(err), position);
    source.diagnostic(position, message).with_kind(Kind::Yaml)
}

/// The error itself, without the wrappers that only add a snippet or an alias's second location.
fn innermost(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    loop {
        match err {
            serde_saphyr::Error::WithSnippet { error, .. }
            | serde_saphyr::Error::AliasError { error, .. } => err = error,
            other => return other,
        }
    }
}

/// What went wrong, in words for the person editing the file, and where. serde-saphyr's own
/// messages name its API (`set DuplicateKeyPolicy`, `use from_str_multiple`) or its internals
/// (`budget breached: Nodes { .. }`); the common mistakes get a message of their own.
fn yaml_message(
    source: &SourceText,
    err: &serde_saphyr::Error,
    position: Position,
) -> (Position, String) {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;
    let message = match err {
        E::DuplicateMappingKey { key: Some(key), .. } => {
            format!("duplicate key `{key}`: each key may appear once per mapping")
        }
        E::DuplicateMappingKey { key: None, .. } => {
            "duplicate key: each key may appear once per mapping".to_owned()
        }
        E::MultipleDocuments { .. } => {
            let position = document_separator(source, position).unwrap_or(position);
            return (
                position,
                "a second YAML document starts here: a campaign file holds one campaign, put \
                 each in a file of its own"
                    .to_owned(),
            );
        }
        E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::Budget {
            breach: B::Aliases { .. } | B::AliasAnchorRatio { .. },
            ..
        } => format!(
            "aliases (`*name`) expand to more than {MAX_ALIAS_EVENTS} values, as in a \
             \"billion laughs\" attack; a campaign file needs far fewer"
        ),
        E::Budget {
            breach: B::Depth { .. },
            ..
        } => "the values are nested too deeply".to_owned(),
        E::Budget { .. } => "the file holds more values than a campaign file needs; put numbers \
             in a CSV or text source"
            .to_owned(),
        E::UnknownAnchor { .. } => "this alias (`*name`) refers to no anchor (`&name`) defined \
             before it"
            .to_owned(),
        E::NonFiniteFloat { value, .. } => format!("`{value}` is not a finite number"),
        E::Eof { .. } => "the file ends in the middle of a value".to_owned(),
        E::ExternalMessage { msg, .. } => return parser_message(source, msg, position),
        // What the Rust types reject (see `parse_as`): the YAML is fine, the value is not.
        E::SerdeInvalidType {
            unexpected,
            expected,
            ..
        }
        | E::SerdeInvalidValue {
            unexpected,
            expected,
            ..
        } => return (position, format!("expected {expected}, found {unexpected}")),
        E::Message { msg, .. } => return (position, msg.clone()),
        E::InvalidScalar { ty, .. } => {
            let expected = match *ty {
                "i64" => format!("a whole number from {} to {}", i64::MIN, i64::MAX),
                "u64" => format!("a whole number from 0 to {}", u64::MAX),
                other => other.to_owned(),
            };
            return (position, format!("expected {expected}"));
        }
        other => {
            let text = other.to_string();
            let first = text.lines().next().unwrap_or("invalid YAML").trim();
            first
                .rfind(" at line ")
                .map_or(first, |cut| &first[..cut])
                .to_owned()
        }
    };
    (position, format!("invalid YAML: {message}"))
}

/// A message of the YAML parser, with a hint for the mistakes people make most.
fn parser_message(source: &SourceText, message: &str, position: Position) -> (Position, String) {
    if message.contains("tab")
        && let Some(tab) = indentation_tab(source, position.line)
    {
        return (
            tab,
            "invalid YAML: a tab in indentation; YAML indents with spaces only".to_owned(),
        );
    }
    if message.contains("recursion limit") {
        return (
            position,
            "invalid YAML: the values are nested too deeply".to_owned(),
        );
    }
    let hint = if message.contains("mapping values are not allowed") {
        "; a value that contains `: ` must be quoted, and a key must line up with the keys \
         above it"
    } else if message.contains("after double-quoted scalar")
        || message.contains("after single-quoted scalar")
    {
        "; a quoted value runs to its closing quote, so check the quotes above for one that is \
         not closed"
    } else if message.contains("did not find expected key") {
        "; check that this line is indented like the keys above it"
    } else {
        ""
    };
    (position, format!("invalid YAML: {message}{hint}"))
}

/// The first tab in the indentation of `line` or of the lines after it up to the next line with
/// content. The parser reports a tab where the value before it ends, which can be the line
/// above the tab.
fn indentation_tab(source: &SourceText, line: usize) -> Option<Position> {
    let mut number = line;
    while let Some(text) = source.line(number) {
        let indentation = &text[..text.len() - text.trim_start().len()];
        if let Some(column) = indentation.chars().position(|c| c == '\t') {
            return Some(Position::new(number, column + 1));
        }
        if number > line && !text.trim().is_empty() {
            return None;
        }
        number += 1;
    }
    None
}

/// The `---` line that starts the document containing `position`.
fn document_separator(source: &SourceText, position: Position) -> Option<Position> {
    (1..=position.line)
        .rev()
        .find(|&line| {
            source
                .line(line)
                .is_some_and(|text| text.starts_with("---"))
        })
        .map(|line| Position::new(line, 1))
}

pub(super) fn to_position(location: Location) -> Position {
    Position::new(location.line() as usize, location.column() as usize)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::load::parse;

    fn error(text: &str) -> (Position, String) {
        let err = parse_text(text).unwrap_err();
        (err.position.unwrap(), err.message)
    }

    #[test]
    fn a_tab_is_reported_where_it_stands() {
        // The parser stops at the end of `b`'s value, a line above the tab.
        let (at, message) = error("a:\n  b: x\n\tc: y\n");
        assert_eq!(at, Position::new(3, 1));
        assert!(message.contains("a tab in indentation"), "{message}");
    }

    #[test]
    fn a_second_document_is_reported_at_its_separator() {
        let (at, message) = error("a: 1\n---\nb: 2\n");
        assert_eq!(at, Position::new(2, 1));
        assert!(message.contains("second YAML document"), "{message}");
    }

    #[test]
    fn aliases_that_expand_too_far_are_stopped() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..6 {
            let aliases = vec![format!("*a{}", level - 1); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{aliases}]\n"));
        }
        let (_, message) = error(&text);
        assert!(message.contains("billion laughs"), "{message}");
    }

    #[test]
    fn a_null_document_counts_as_empty() {
        for text in ["---\n", "~\n", "null\n"] {
            assert!(error(text).1.starts_with("the file is empty"), "{text:?}");
        }
    }

    #[test]
    fn yaml_errors_have_positions() {
        let err = parse_text("a: 1\na: 2\n").unwrap_err();
        assert_eq!(err.position.map(|p| p.line), Some(2));
        assert!(err.message.starts_with("invalid YAML"), "{}", err.message);
        let err = parse_text("# only a comment\n").unwrap_err();
        assert!(err.message.contains("empty"));
    }

    fn parse_text(text: &str) -> Result<crate::load::Document, Diagnostic> {
        parse(Arc::new(SourceText::new(
            "t.campaign.yaml".into(),
            text.into(),
        )))
    }
}
