//! Checking campaign files: the JSON Schema first, then what a schema cannot express. Every
//! problem in every file is collected and reported at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::types::JsonType;
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::load::{self, Document};
use crate::model::{Campaign, NumberSource};
use crate::{phone, template};

/// A campaign file that passed the schema and meaning checks.
#[derive(Debug)]
pub struct LoadedCampaign {
    pub document: Document,
    pub campaign: Campaign,
}

impl LoadedCampaign {
    /// The folder that relative source paths are resolved against.
    pub fn base_dir(&self) -> &Path {
        self.document
            .source
            .path
            .parent()
            .unwrap_or_else(|| Path::new("."))
    }
}

/// What checking a set of paths found.
#[derive(Debug, Default)]
pub struct Checked {
    pub campaigns: Vec<LoadedCampaign>,
    pub diagnostics: Vec<Diagnostic>,
    pub files_checked: usize,
}

/// Finds, loads and checks every campaign file under `paths`. Files with problems are left out
/// of `campaigns`; their problems are in `diagnostics`, sorted.
pub fn check(paths: &[PathBuf]) -> Checked {
    let (files, diagnostics) = load::discover(paths);
    let mut checked = Checked {
        files_checked: files.len(),
        diagnostics,
        ..Checked::default()
    };
    let mut names = Vec::new();
    for path in &files {
        let document = match load::load(path) {
            Ok(document) => document,
            Err(problem) => {
                checked.diagnostics.push(problem);
                continue;
            }
        };
        // Every file that names itself takes part, also one with problems elsewhere, so a
        // clash shows up in the same run as those problems.
        if let Some(name) = document.value.get("name").and_then(Value::as_str) {
            names.push(NameUse {
                name: name.to_owned(),
                at: document.diagnostic("/name", ""),
            });
        }
        match check_document(document) {
            Ok(campaign) => checked.campaigns.push(campaign),
            Err(mut problems) => checked.diagnostics.append(&mut problems),
        }
    }
    check_unique_names(names, &mut checked.diagnostics);
    Diagnostic::sort(&mut checked.diagnostics);
    checked
}

/// Checks one loaded file: schema, meaning, then the Rust types.
fn check_document(document: Document) -> Result<LoadedCampaign, Vec<Diagnostic>> {
    let mut problems = schema_problems(&document);
    meaning_problems(&document, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    let check = schema_check();
    let mut typed = document.value.clone();
    whole_numbers_as_integers(&check.schema, &check.schema, &mut typed);
    match serde_json::from_value(typed) {
        Ok(campaign) => Ok(LoadedCampaign { document, campaign }),
        Err(err) => Err(vec![unreadable(&document, &err)]),
    }
}

/// A file the schema accepts but the types do not, such as an integer too large for
/// `startCount`. serde_json's error has no position; serde-saphyr, reading the text, has one.
fn unreadable(document: &Document, err: &serde_json::Error) -> Diagnostic {
    match load::parse_as::<Campaign>(&document.source) {
        Err(mut diagnostic) => {
            let pointer = diagnostic.position.and_then(|at| document.pointer_at(at));
            if let Some(pointer) = pointer {
                diagnostic.message = format!("{}{}", field_prefix(&pointer), diagnostic.message);
                diagnostic.pointer = Some(pointer);
            }
            diagnostic
        }
        // The two readers disagree only through a bug here; say what serde_json said.
        Ok(_) => document.diagnostic("", format!("cannot read the campaign: {err}")),
    }
}

struct SchemaCheck {
    schema: Value,
    validator: jsonschema::Validator,
}

fn schema_check() -> &'static SchemaCheck {
    static CHECK: OnceLock<SchemaCheck> = OnceLock::new();
    CHECK.get_or_init(|| {
        let schema = serde_json::to_value(crate::model::campaign_schema())
            .expect("the generated schema is JSON");
        let validator =
            jsonschema::draft7::new(&schema).expect("the generated schema is valid draft-07");
        SchemaCheck { schema, validator }
    })
}

fn schema_problems(document: &Document) -> Vec<Diagnostic> {
    let check = schema_check();
    let mut problems = Vec::new();
    for error in check.validator.iter_errors(&document.value) {
        describe(document, &check.schema, &error, &mut problems);
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
            if let Some(errors) = intended_branch(instance, context) {
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
/// names its form by its key (`phones`, `csv`, `file`), and an optional value (`anyOf` with
/// `null`) only has one branch that is not `null`.
fn intended_branch<'a, 'e>(
    instance: &Value,
    context: &'a [Vec<jsonschema::ValidationError<'e>>],
) -> Option<&'a [jsonschema::ValidationError<'e>]> {
    if let Some(branch) = source_branch(instance)
        && context.len() == NumberSource::DISCRIMINATORS.len()
    {
        return context.get(branch).map(Vec::as_slice);
    }
    let wants_null = |errors: &Vec<jsonschema::ValidationError<'_>>| {
        matches!(
            errors.as_slice(),
            [only] if matches!(only.kind(), ValidationErrorKind::Type { kind: TypeKind::Single(JsonType::Null) })
        )
    };
    let mut others = context.iter().filter(|errors| !wants_null(errors));
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

/// The schema of a child of a value that `node` describes: a property, an additional property
/// or a list item.
fn child_schema<'a>(node: &'a Value, segment: &str) -> &'a Value {
    node.get("properties")
        .and_then(|p| p.get(segment))
        .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))
        .or_else(|| node.get("items"))
        .unwrap_or(&Value::Null)
}

/// `node` with its `$ref`s followed and, for an `anyOf`, the branch `instance` meant.
fn select<'a>(schema: &'a Value, node: &'a Value, instance: &Value) -> &'a Value {
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
fn resolve<'a>(schema: &'a Value, mut node: &'a Value) -> &'a Value {
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

/// JSON Schema counts `2.0` as an integer, and so do editors; serde wants `2`. Rewrites whole
/// numbers written with a decimal point where the schema expects an integer, so that what the
/// schema accepts also deserializes. Free-form values (`vars`, `matrix`) keep their `2.0`.
fn whole_numbers_as_integers(schema: &Value, node: &Value, value: &mut Value) {
    let node = select(schema, node, value);
    match value {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                whole_numbers_as_integers(schema, child_schema(node, key), child);
            }
        }
        Value::Array(items) => {
            for child in items.iter_mut() {
                whole_numbers_as_integers(schema, child_schema(node, ""), child);
            }
        }
        Value::Number(number) if number.is_f64() && wants_integer(node) => {
            if let Some(integer) = number.as_f64().and_then(whole_number) {
                *value = integer;
            }
        }
        _ => {}
    }
}

/// Whether `node` accepts integers but not other numbers: `"type": "integer"`, or an `enum`
/// of integers (such as `dispatchType`'s 0, 1, 2).
fn wants_integer(node: &Value) -> bool {
    let types: Vec<&str> = match node.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let integer_enum = node
        .get("enum")
        .and_then(Value::as_array)
        .is_some_and(|options| options.iter().any(|o| o.is_i64() || o.is_u64()));
    (types.contains(&"integer") && !types.contains(&"number")) || integer_enum
}

/// `value` as a JSON integer, when it is a whole number that fits one.
fn whole_number(value: f64) -> Option<Value> {
    // 2^63 and 2^64 are exact in f64, so these bounds are exact too.
    const I64_END: f64 = 9_223_372_036_854_775_808.0;
    const U64_END: f64 = 18_446_744_073_709_551_616.0;
    if value.fract() != 0.0 {
        return None;
    }
    // The casts are exact: the value is whole and in range.
    if (-I64_END..I64_END).contains(&value) {
        return Some(Value::from(value as i64));
    }
    if (0.0..U64_END).contains(&value) {
        return Some(Value::from(value as u64));
    }
    None
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
fn field_prefix(pointer: &str) -> String {
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

fn escape_pointer(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

fn unescape_pointer(segment: &str) -> String {
    segment.replace("~1", "/").replace("~0", "~")
}

/// The checks a schema cannot express. They read the parsed value rather than the typed
/// campaign, so they run (and report) even where the schema check found problems elsewhere.
fn meaning_problems(document: &Document, out: &mut Vec<Diagnostic>) {
    let value = &document.value;
    let number_at = |pointer: &str| value.pointer(pointer).and_then(Value::as_f64);
    if let Some(rate) = number_at("/task/predictCallRate") {
        check_decimals(document, "/task/predictCallRate", rate, 2, out);
    }
    if let Some(rate) = number_at("/task/ratioCallRate") {
        check_decimals(document, "/task/ratioCallRate", rate, 1, out);
    }
    if let Some(country) = value.pointer("/task/country").and_then(Value::as_str)
        && !template::is_template(country)
        && !phone::is_known_region(country)
    {
        // The one everybody writes: the United Kingdom's ISO code is GB.
        let hint = if country.eq_ignore_ascii_case("uk") {
            "; the United Kingdom is GB"
        } else {
            ""
        };
        out.push(document.diagnostic(
            "/task/country",
            format!(
                "`country`: \"{country}\" is not a known two-letter country code (ISO \
                 3166-1, e.g. HK, US, GB){hint}"
            ),
        ));
    }
    check_name_clashes(document, out);
    for (pointer, text) in template_strings(value) {
        if let Err(err) = template::check_syntax(text) {
            let position = document.position_in_string(&pointer, err.offset);
            out.push(
                document
                    .source
                    .diagnostic(position, format!("template syntax error: {}", err.message))
                    .with_pointer(pointer),
            );
        }
    }
    check_source_paths(document, out);
}

/// A name in both `vars` and `matrix` would be ambiguous in templates.
fn check_name_clashes(document: &Document, out: &mut Vec<Diagnostic>) {
    let (Some(vars), Some(matrix)) = (
        document.value.get("vars").and_then(Value::as_object),
        document.value.get("matrix").and_then(Value::as_object),
    ) else {
        return;
    };
    for key in matrix.keys().filter(|key| vars.contains_key(*key)) {
        let escaped = escape_pointer(key);
        let pointer = format!("/matrix/{escaped}");
        let var_line = document.key_position(&format!("/vars/{escaped}")).line;
        out.push(
            document
                .source
                .diagnostic(
                    document.key_position(&pointer),
                    format!(
                        "`{key}` is both a matrix key and a var (line {var_line}); templates \
                         could not tell which value is meant, rename one"
                    ),
                )
                .with_pointer(pointer),
        );
    }
}

fn check_decimals(
    document: &Document,
    pointer: &str,
    value: f64,
    places: i32,
    out: &mut Vec<Diagnostic>,
) {
    let scale = 10f64.powi(places);
    if ((value * scale).round() / scale - value).abs() > 1e-9 {
        let field = pointer.rsplit('/').next().unwrap_or(pointer);
        let unit = if places == 1 { "place" } else { "places" };
        out.push(document.diagnostic(
            pointer,
            format!("`{field}`: {value} has more than {places} decimal {unit}; the provider takes at most {places}"),
        ));
    }
}

/// Every string of the file that is read as a template, with its pointer.
fn template_strings(value: &Value) -> Vec<(String, &str)> {
    let mut found = Vec::new();
    if let Some(task) = value.get("task").and_then(Value::as_object) {
        for (key, field) in task {
            if let Some(text) = field.as_str() {
                found.push((format!("/task/{}", escape_pointer(key)), text));
            }
        }
    }
    for list in ["numbers", "exclude"] {
        let sources = value
            .get(list)
            .and_then(Value::as_array)
            .map_or(&[][..], |s| s);
        for (index, source) in sources.iter().enumerate() {
            for key in ["csv", "file", "other"] {
                if let Some(text) = source.get(key).and_then(Value::as_str) {
                    found.push((format!("/{list}/{index}/{key}"), text));
                }
            }
        }
    }
    found
}

/// Source files must exist; a templated path is checked once it is rendered, by expansion.
fn check_source_paths(document: &Document, out: &mut Vec<Diagnostic>) {
    let base = document
        .source
        .path
        .parent()
        .unwrap_or_else(|| Path::new("."));
    for list in ["numbers", "exclude"] {
        let sources = document.value.get(list).and_then(Value::as_array);
        for (index, source) in sources.into_iter().flatten().enumerate() {
            for key in ["csv", "file"] {
                let Some(path) = source.get(key).and_then(Value::as_str) else {
                    continue;
                };
                let resolved = base.join(path);
                if template::is_template(path) || resolved.is_file() {
                    continue;
                }
                let problem = if resolved.is_dir() {
                    "is a folder"
                } else {
                    "not found"
                };
                // Relative to the campaign file, which is not always where the user stands.
                let looked_for = if resolved.as_path() == Path::new(path) {
                    String::new()
                } else {
                    format!(" (looked for {})", load::display(&resolved))
                };
                out.push(document.diagnostic(
                    &format!("/{list}/{index}/{key}"),
                    format!("`{key}`: file \"{path}\" {problem}{looked_for}"),
                ));
            }
        }
    }
}

/// A campaign name as a file writes it: the name, and a diagnostic at it waiting for a message.
struct NameUse {
    name: String,
    at: Diagnostic,
}

/// Campaign names identify campaigns in state, so two files may not share one. Files are
/// checked in sorted order; the first file with a name keeps it, the others are reported.
fn check_unique_names(names: Vec<NameUse>, out: &mut Vec<Diagnostic>) {
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
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;

    use super::*;
    use crate::load::SourceText;

    fn problems(text: &str) -> Vec<Diagnostic> {
        let source = SourceText::new("t.campaign.yaml".into(), text.into());
        let document = load::parse(Arc::new(source)).unwrap();
        match check_document(document) {
            Ok(_) => Vec::new(),
            Err(problems) => problems,
        }
    }

    const VALID: &str = "name: t\ntask:\n  taskName: t\n  country: GB\n  strategyName: s\n  \
        dispatchType: none\n  agentGroupNo: g\n  predictCallRate: 1\n  ratioCallRate: 1\n  \
        startCount: 1\nnumbers:\n  - phones: [\"+44 7700 900100\"]\n";

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
        let loaded = check_document(load::parse(Arc::new(source)).unwrap()).unwrap();
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
            "  - phones: [\"+44 7700 900100\"]",
            "  - file: list.txt\n    phoneColumn: phone",
        ));
        let messages: Vec<&str> = found.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                "unknown key `phoneColumn`; allowed keys: file, other, check",
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

    #[test]
    fn whole_numbers_fit_the_widest_integer_that_holds_them() {
        assert_eq!(whole_number(2.0), Some(json!(2)));
        assert_eq!(whole_number(-3.0), Some(json!(-3)));
        assert_eq!(
            whole_number(1e19),
            Some(json!(10_000_000_000_000_000_000_u64))
        );
        assert_eq!(whole_number(1e23), None);
        assert_eq!(whole_number(2.5), None);
    }

    #[test]
    fn a_name_clash_is_found_even_when_the_first_file_has_other_problems() {
        let dir = tempfile::tempdir().unwrap();
        let broken = VALID.replace("startCount: 1", "startCount: many");
        std::fs::write(dir.path().join("a.campaign.yaml"), broken).unwrap();
        std::fs::write(dir.path().join("b.campaign.yaml"), VALID).unwrap();
        let checked = check(&[dir.path().to_owned()]);
        let messages: Vec<&str> = checked
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[1].starts_with("campaign name \"t\" is already used by "),
            "{messages:?}"
        );
    }
}
