//! Schema errors into words: the JSON Schema check of a campaign file, each error turned into a
//! diagnostic at its line and column with a message a person can act on.

use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::types::JsonType;
use serde_json::Value;

use crate::diagnostic::{Diagnostic, Kind};
use crate::load::{Document, escape_pointer, unescape_pointer};
use crate::model::NumberSource;

pub(super) struct SchemaCheck {
    pub(super) schema: Value,
    validator: jsonschema::Validator,
}

/// The check of campaign files.
pub(super) fn schema_check() -> &'static SchemaCheck {
    static CHECK: OnceLock<SchemaCheck> = OnceLock::new();
    CHECK.get_or_init(|| compile(crate::model::campaign_schema()))
}

/// The check of the workspace file.
pub(super) fn workspace_check() -> &'static SchemaCheck {
    static CHECK: OnceLock<SchemaCheck> = OnceLock::new();
    CHECK.get_or_init(|| compile(crate::model::workspace_schema()))
}

fn compile(schema: schemars::Schema) -> SchemaCheck {
    let schema = serde_json::to_value(schema).expect("the generated schema is JSON");
    let validator =
        jsonschema::draft7::new(&schema).expect("the generated schema is valid draft-07");
    SchemaCheck { schema, validator }
}

/// Every error of `document` against `check`, in words, at its line and column.
pub(super) fn problems(document: &Document, check: &SchemaCheck) -> Vec<Diagnostic> {
    let mut problems = Vec::new();
    for error in check.validator.iter_errors(&document.value) {
        describe(document, &check.schema, &error, &mut problems);
    }
    for problem in &mut problems {
        problem.kind = Kind::Schema;
    }
    problems
}

/// Turns one schema error into diagnostics with positions and messages a person can act on.
fn describe(
    document: &Document,
    schema: &Value,
    error: &jsonschema::ValidationError<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let pointer = error.instance_path().as_str();
    let instance = document.value.pointer(pointer).unwrap_or(&Value::Null);
    let prefix = field_prefix(pointer);
    let message = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(schema, &document.value, pointer);
            for key in unexpected {
                let key_pointer = format!("{pointer}/{}", escape_pointer(key));
                let at = document.key_position(&key_pointer);
                let mut message = format!("unknown key `{key}`");
                if let Some(near) = nearest_key(key, &allowed) {
                    message.push_str(&format!(" (did you mean `{near}`?)"));
                }
                message.push_str(&format!("; allowed keys: {}", allowed.join(", ")));
                out.push(
                    document
                        .source
                        .diagnostic(at, message)
                        .with_pointer(key_pointer),
                );
            }
            return;
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            if let Some(errors) = intended_branch(pointer, instance, context) {
                for error in errors {
                    describe(document, schema, error, out);
                }
                return;
            }
            match instance.as_object() {
                Some(object) => {
                    let found: Vec<String> = object.keys().map(|k| format!("`{k}`")).collect();
                    format!(
                        "{prefix}a number source needs one of the keys `phones`, `csv` or \
                         `file`; found {}",
                        found.join(", ")
                    )
                }
                None => format!(
                    "{prefix}expected a number source (a mapping with `phones`, `csv` or \
                     `file`), found {}",
                    describe_value(instance)
                ),
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let message = format!("missing required key `{name}` in {}", place(pointer));
            // At the key that opens the mapping: its first entry's line would suggest that
            // entry is wrong.
            let at = document.key_position(pointer);
            out.push(
                document
                    .source
                    .diagnostic(at, message)
                    .with_pointer(pointer),
            );
            return;
        }
        ValidationErrorKind::Type { kind } if pointer.is_empty() => format!(
            "a campaign file is a mapping with `name`, `task` and `numbers`; found {}",
            describe_value(instance)
        ),
        ValidationErrorKind::Type { kind } => {
            let mut expected: Vec<JsonType> = match kind {
                TypeKind::Single(t) => vec![*t],
                TypeKind::Multiple(set) => set.iter().collect(),
            };
            // `null` is what leaving an optional key out means; nobody writes it on purpose.
            if expected.len() > 1 {
                expected.retain(|t| *t != JsonType::Null);
            }
            expected.sort_by_key(|t| TYPE_ORDER.iter().position(|o| o == t));
            let names: Vec<&str> = expected.iter().copied().map(type_name).collect();
            let hint = if expected == [JsonType::String]
                && (instance.is_number() || instance.is_boolean())
            {
                "; quote it to keep it text"
            } else {
                ""
            };
            let message = format!(
                "{prefix}expected {}, found {}{hint}",
                one_of(&names),
                describe_value(instance)
            );
            // An empty value stands right after its key's colon; the key is where to look.
            let at = if instance.is_null() {
                document.key_position(pointer)
            } else {
                document.position(pointer)
            };
            out.push(
                document
                    .source
                    .diagnostic(at, message)
                    .with_pointer(pointer),
            );
            return;
        }
        ValidationErrorKind::Enum { options } => {
            let valid: Vec<String> = options
                .as_array()
                .map(|values| values.iter().map(plain).collect())
                .unwrap_or_default();
            let found = match instance {
                Value::String(_) => describe_value(instance),
                other => plain(other),
            };
            format!(
                "{prefix}unknown value {found}; expected one of: {}",
                valid.join(", ")
            )
        }
        // An empty name breaks the pattern too; the length message says it better.
        ValidationErrorKind::Pattern { .. } if pointer == "/name" && instance == "" => return,
        ValidationErrorKind::Pattern { pattern } if pointer == "/name" => format!(
            "campaign name {} must be lowercase letters, digits and dashes, starting with a \
             letter or digit (pattern {pattern})",
            describe_value(instance)
        ),
        ValidationErrorKind::Pattern { .. }
            if let Some(explained) = pattern_explained(schema, error) =>
        {
            format!(
                "{prefix}{} is not valid. {explained}",
                describe_value(instance)
            )
        }
        ValidationErrorKind::PropertyNames { error } => {
            let key = error.instance().as_str().unwrap_or_default();
            let key_pointer = format!("{pointer}/{}", escape_pointer(key));
            let message = format!(
                "{prefix}name `{key}` must be letters, digits and `_`, not starting with a \
                 digit, so templates can use it"
            );
            let at = document.key_position(&key_pointer);
            out.push(
                document
                    .source
                    .diagnostic(at, message)
                    .with_pointer(key_pointer),
            );
            return;
        }
        ValidationErrorKind::MinLength { limit: 1 } => format!("{prefix}must not be empty"),
        ValidationErrorKind::MinLength { limit } => {
            format!("{prefix}must be at least {limit} characters long")
        }
        ValidationErrorKind::MaxLength { limit } => format!(
            "{prefix}must be at most {limit} {}, found {}",
            if *limit == 1 {
                "character"
            } else {
                "characters"
            },
            describe_value(instance)
        ),
        ValidationErrorKind::MinItems { limit: 1 } => {
            format!("{prefix}the list is empty; give at least one entry")
        }
        ValidationErrorKind::MinItems { limit } => {
            format!("{prefix}give at least {limit} entries")
        }
        ValidationErrorKind::Minimum { limit } => {
            format!(
                "{prefix}must be at least {limit}, found {}",
                plain(instance)
            )
        }
        _ => format!("{prefix}{error}"),
    };
    out.push(document.diagnostic(pointer, message));
}

/// The errors of the `anyOf` branch the user meant, when that can be told: a number source
/// names its form by its key (`phones`, `csv`, `file`); otherwise the one branch that wants
/// the kind of value written (an optional value's `null`, `window`'s word `any` beside its
/// hours) is it.
fn intended_branch<'a, 'e>(
    pointer: &str,
    instance: &Value,
    context: &'a [Vec<jsonschema::ValidationError<'e>>],
) -> Option<&'a [jsonschema::ValidationError<'e>]> {
    if let Some(branch) = source_branch(instance)
        && context.len() == NumberSource::DISCRIMINATORS.len()
    {
        return context.get(branch).map(Vec::as_slice);
    }
    // A branch refusing the value itself for its type (a word's branch may also say it is not
    // the word) wants another kind of value than the one written.
    let wants_another_kind = |errors: &Vec<jsonschema::ValidationError<'_>>| {
        let refused_for_type = |error: &jsonschema::ValidationError<'_>| {
            matches!(error.kind(), ValidationErrorKind::Type { .. })
        };
        errors.iter().any(refused_for_type)
            && errors.iter().all(|error| {
                error.instance_path().as_str() == pointer
                    && matches!(
                        error.kind(),
                        ValidationErrorKind::Type { .. } | ValidationErrorKind::Enum { .. }
                    )
            })
    };
    let mut others = context.iter().filter(|errors| !wants_another_kind(errors));
    match (others.next(), others.next()) {
        (Some(only), None) if context.len() > 1 => Some(only.as_slice()),
        _ => None,
    }
}

/// Which branch of a number source's `anyOf` the user meant, by the key that names the form.
fn source_branch(instance: &Value) -> Option<usize> {
    let object = instance.as_object()?;
    NumberSource::DISCRIMINATORS
        .iter()
        .position(|key| object.contains_key(*key))
}

/// The allowed key a mistyped one most likely meant: same letters in another case, at most two
/// edits away, or the tail of a longer key (`column` for `phoneColumn`).
fn nearest_key<'a>(key: &str, allowed: &'a [String]) -> Option<&'a str> {
    /// Shorter keys are part of too many others to point at one.
    const MIN_PART_CHARS: usize = 4;
    let lower = key.to_lowercase();
    let close = allowed
        .iter()
        .map(|candidate| (edit_distance(&lower, &candidate.to_lowercase()), candidate))
        .filter(|(distance, _)| *distance <= 2)
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, candidate)| candidate.as_str());
    close.or_else(|| {
        let mut containing = allowed.iter().filter(|candidate| {
            lower.chars().count() >= MIN_PART_CHARS && candidate.to_lowercase().contains(&lower)
        });
        match (containing.next(), containing.next()) {
            (Some(only), None) => Some(only.as_str()),
            _ => None,
        }
    })
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (above + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = above;
        }
    }
    row[b.len()]
}

/// The keys the schema allows at `pointer`, for "unknown key" messages.
fn allowed_keys(schema: &Value, root: &Value, pointer: &str) -> Vec<String> {
    schema_at(schema, root, pointer)
        .get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// The schema that applies to the value at `pointer`, following `$ref`s and picking the
/// `anyOf` branch the value meant.
fn schema_at<'a>(schema: &'a Value, root: &Value, pointer: &str) -> &'a Value {
    let mut node = select(schema, schema, root);
    let mut instance = root;
    for segment in pointer.split('/').skip(1).map(unescape_pointer) {
        instance = match instance {
            Value::Object(map) => map.get(&segment).unwrap_or(&Value::Null),
            Value::Array(items) => segment
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .unwrap_or(&Value::Null),
            _ => &Value::Null,
        };
        node = select(schema, child_schema(node, &segment), instance);
    }
    node
}

/// The `patternErrorMessage` beside the pattern an error broke, where the schema has one.
fn pattern_explained<'s>(
    schema: &'s Value,
    error: &jsonschema::ValidationError<'_>,
) -> Option<&'s str> {
    let node = error.schema_path().as_str().strip_suffix("/pattern")?;
    schema.pointer(node)?.get("patternErrorMessage")?.as_str()
}

/// The schema of a child of a value that `node` describes: a property, an additional property
/// or a list item.
pub(super) fn child_schema<'a>(node: &'a Value, segment: &str) -> &'a Value {
    node.get("properties")
        .and_then(|p| p.get(segment))
        .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))
        .or_else(|| node.get("items"))
        .unwrap_or(&Value::Null)
}

/// `node` with its `$ref`s followed and, for an `anyOf`, the branch `instance` meant.
pub(super) fn select<'a>(schema: &'a Value, node: &'a Value, instance: &Value) -> &'a Value {
    let node = resolve(schema, node);
    let Some(branches) = node.get("anyOf").and_then(Value::as_array) else {
        return node;
    };
    if let Some(branch) = source_branch(instance)
        && branches.len() == NumberSource::DISCRIMINATORS.len()
    {
        return resolve(schema, &branches[branch]);
    }
    let mut others = branches
        .iter()
        .filter(|b| b.get("type") != Some(&Value::from("null")));
    match (others.next(), others.next()) {
        (Some(only), None) => resolve(schema, only),
        _ => node,
    }
}

/// Follows a local `$ref` such as `#/definitions/TaskSpec`, also when wrapped in a one-item
/// `allOf` (how a `$ref` with a description of its own is written in draft-07).
pub(super) fn resolve<'a>(schema: &'a Value, mut node: &'a Value) -> &'a Value {
    loop {
        if let Some([only]) = node
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            node = only;
            continue;
        }
        match node.get("$ref").and_then(Value::as_str) {
            Some(reference) => match reference.strip_prefix('#').and_then(|p| schema.pointer(p)) {
                Some(target) => node = target,
                None => return node,
            },
            None => return node,
        }
    }
}

/// How a message names the place at `pointer`: `the campaign`, `` `task` ``, or
/// `` entry 2 of `numbers` ``.
fn place(pointer: &str) -> String {
    let mut segments = pointer.rsplit('/');
    match (segments.next(), segments.next()) {
        (None | Some(""), _) => "the campaign".to_owned(),
        (Some(last), parent) => match last.parse::<usize>() {
            Ok(index) => match parent.filter(|p| !p.is_empty()) {
                Some(parent) => format!("entry {} of `{}`", index + 1, unescape_pointer(parent)),
                None => format!("entry {}", index + 1),
            },
            Err(_) => format!("`{}`", unescape_pointer(last)),
        },
    }
}

/// `` `field`: `` in front of a message about the value at `pointer`; nothing at the root.
pub(super) fn field_prefix(pointer: &str) -> String {
    if pointer.is_empty() {
        String::new()
    } else {
        format!("{}: ", place(pointer))
    }
}

/// The order types are listed in, most likely meant first.
const TYPE_ORDER: [JsonType; 7] = [
    JsonType::String,
    JsonType::Integer,
    JsonType::Number,
    JsonType::Boolean,
    JsonType::Array,
    JsonType::Object,
    JsonType::Null,
];

/// A JSON type as a person editing YAML calls it.
fn type_name(json_type: JsonType) -> &'static str {
    match json_type {
        JsonType::Array => "a list",
        JsonType::Boolean => "true/false",
        JsonType::Integer => "a whole number",
        JsonType::Null => "nothing",
        JsonType::Number => "a number",
        JsonType::Object => "a mapping",
        JsonType::String => "a string",
    }
}

/// `a`, `a or b`, `a, b or c`.
fn one_of(names: &[&str]) -> String {
    match names {
        [] => String::new(),
        [only] => (*only).to_owned(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// A value as a message quotes it: strings in quotes (long ones cut short), containers by kind.
fn describe_value(value: &Value) -> String {
    const SHOWN_CHARS: usize = 40;
    match value {
        Value::Null => "nothing".to_owned(),
        Value::Bool(b) => format!("{b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) if s.chars().count() > SHOWN_CHARS => {
            let start: String = s.chars().take(SHOWN_CHARS).collect();
            format!("\"{start}…\"")
        }
        Value::String(s) => format!("\"{s}\""),
        Value::Array(_) => "a list".to_owned(),
        Value::Object(_) => "a mapping".to_owned(),
    }
}

fn plain(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_suggest_the_nearest_allowed_one() {
        let allowed = ["taskName".to_owned(), "country".to_owned()];
        assert_eq!(nearest_key("taskname", &allowed), Some("taskName"));
        assert_eq!(nearest_key("contry", &allowed), Some("country"));
        assert_eq!(nearest_key("startCount", &allowed), None);
        let csv = [
            "csv".to_owned(),
            "phoneColumn".to_owned(),
            "other".to_owned(),
        ];
        assert_eq!(nearest_key("column", &csv), Some("phoneColumn"));
        assert_eq!(nearest_key("e", &csv), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }

    #[test]
    fn places_are_named_as_a_person_reads_them() {
        assert_eq!(place(""), "the campaign");
        assert_eq!(place("/task"), "`task`");
        assert_eq!(place("/numbers/0"), "entry 1 of `numbers`");
        assert_eq!(place("/vars/a~1b"), "`a/b`");
        assert_eq!(one_of(&["a", "b", "c"]), "a, b or c");
    }
}
