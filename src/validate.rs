//! Checking campaign files: the JSON Schema first, then what a schema cannot express. Every
//! problem in every file is collected and reported at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use serde_json::Value;

use crate::diagnostic::Diagnostic;
use crate::expand::{phone, template};
use crate::load::{self, Document};
use crate::model::{Campaign, NumberSource};

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
    for path in &files {
        match check_file(path) {
            Ok(campaign) => checked.campaigns.push(campaign),
            Err(mut problems) => checked.diagnostics.append(&mut problems),
        }
    }
    check_unique_names(&checked.campaigns, &mut checked.diagnostics);
    Diagnostic::sort(&mut checked.diagnostics);
    checked
}

/// Loads and checks one file.
pub fn check_file(path: &Path) -> Result<LoadedCampaign, Vec<Diagnostic>> {
    let document = load::load(path).map_err(|d| vec![d])?;
    let mut problems = schema_problems(&document);
    let schema_valid = problems.is_empty();
    meaning_problems(&document, &mut problems);
    if !problems.is_empty() {
        return Err(problems);
    }
    debug_assert!(schema_valid);
    match serde_json::from_value(document.value.clone()) {
        Ok(campaign) => Ok(LoadedCampaign { document, campaign }),
        Err(err) => Err(vec![document.diagnostic("", err.to_string())]),
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
    let message = match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = allowed_keys(schema, &document.value, pointer);
            for key in unexpected {
                let key_pointer = format!("{pointer}/{}", escape_pointer(key));
                let at = document.key_position(&key_pointer);
                let message = format!("unknown key `{key}`; allowed keys: {}", allowed.join(", "));
                out.push(document.source.diagnostic(at, message).with_pointer(key_pointer));
            }
            return;
        }
        ValidationErrorKind::AnyOf { context } | ValidationErrorKind::OneOfNotValid { context } => {
            if let Some(branch) = source_branch(instance) {
                if let Some(errors) = context.get(branch) {
                    for error in errors {
                        describe(document, schema, error, out);
                    }
                    return;
                }
            }
            if instance.is_object() {
                "a number source needs one of the keys `phones`, `csv` or `file`".to_owned()
            } else {
                format!(
                    "expected a number source (a mapping with `phones`, `csv` or `file`), found {}",
                    describe_value(instance)
                )
            }
        }
        ValidationErrorKind::Required { property } => {
            let name = property.as_str().unwrap_or_default();
            let within = if pointer.is_empty() {
                "the campaign".to_owned()
            } else {
                format!("`{}`", pointer.rsplit('/').next().unwrap_or(pointer))
            };
            format!("missing required key `{name}` in {within}")
        }
        ValidationErrorKind::Type { kind } => {
            let expected = match kind {
                TypeKind::Single(t) => article(&t.to_string()),
                TypeKind::Multiple(set) => {
                    let names: Vec<String> = set.iter().map(|t| t.to_string()).collect();
                    names.join(" or ")
                }
            };
            format!(
                "{}expected {expected}, found {}",
                field_prefix(pointer),
                describe_value(instance)
            )
        }
        ValidationErrorKind::Enum { options } => {
            let valid: Vec<String> = options
                .as_array()
                .map(|values| values.iter().map(plain).collect())
                .unwrap_or_default();
            format!(
                "{}unknown value {}; expected one of: {}",
                field_prefix(pointer),
                describe_value(instance),
                valid.join(", ")
            )
        }
        ValidationErrorKind::Pattern { pattern } if pointer == "/name" => format!(
            "campaign name {} must be lowercase letters, digits and dashes, starting with a \
             letter or digit (pattern {pattern})",
            describe_value(instance)
        ),
        ValidationErrorKind::PropertyNames { .. } => format!(
            "{}names must be letters, digits and `_`, not starting with a digit, so templates \
             can use them",
            field_prefix(pointer)
        ),
        _ => format!("{}{error}", field_prefix(pointer)),
    };
    out.push(document.diagnostic(pointer, message));
}

/// Which branch of a number source's `anyOf` the user meant, by the key that names the form.
fn source_branch(instance: &Value) -> Option<usize> {
    let object = instance.as_object()?;
    NumberSource::DISCRIMINATORS
        .iter()
        .position(|key| object.contains_key(*key))
}

/// The keys the schema allows at `pointer`, for "unknown key" messages.
fn allowed_keys(schema: &Value, root: &Value, pointer: &str) -> Vec<String> {
    let mut node = schema;
    let mut instance = root;
    let segments = pointer.split('/').skip(1).map(unescape_pointer);
    for segment in segments {
        node = resolve(schema, node);
        instance = match instance {
            Value::Object(map) => map.get(&segment).unwrap_or(&Value::Null),
            Value::Array(items) => segment
                .parse::<usize>()
                .ok()
                .and_then(|i| items.get(i))
                .unwrap_or(&Value::Null),
            _ => &Value::Null,
        };
        node = node
            .get("properties")
            .and_then(|p| p.get(&segment))
            .or_else(|| node.get("items"))
            .unwrap_or(&Value::Null);
        node = resolve(schema, node);
        if let (Some(branches), Some(branch)) = (node.get("anyOf"), source_branch(instance)) {
            node = resolve(schema, branches.get(branch).unwrap_or(&Value::Null));
        }
    }
    let node = resolve(schema, node);
    node.get("properties")
        .and_then(Value::as_object)
        .map(|p| p.keys().cloned().collect())
        .unwrap_or_default()
}

/// Follows a local `$ref` such as `#/definitions/TaskSpec`, also when wrapped in a one-item
/// `allOf` (how a `$ref` with a description of its own is written in draft-07).
fn resolve<'a>(schema: &'a Value, mut node: &'a Value) -> &'a Value {
    loop {
        if let Some([only]) = node.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
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

fn field_prefix(pointer: &str) -> String {
    match pointer.rsplit('/').next() {
        Some(field) if !field.is_empty() && field.parse::<usize>().is_err() => {
            format!("`{}`: ", unescape_pointer(field))
        }
        _ => String::new(),
    }
}

fn article(noun: &str) -> String {
    match noun.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {noun}"),
        _ => format!("a {noun}"),
    }
}

/// A value as a message quotes it: strings in quotes, containers by kind.
fn describe_value(value: &Value) -> String {
    match value {
        Value::Null => "nothing (null)".to_owned(),
        Value::Bool(b) => format!("boolean {b}"),
        Value::Number(n) if n.is_f64() => format!("number {n}"),
        Value::Number(n) => format!("integer {n}"),
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
    if let Some(country) = value.pointer("/task/country").and_then(Value::as_str) {
        if !template::is_template(country) && !phone::is_known_region(country) {
            out.push(document.diagnostic(
                "/task/country",
                format!(
                    "`country`: \"{country}\" is not a known two-letter country code (ISO \
                     3166-1, e.g. HK, US, GB)"
                ),
            ));
        }
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

fn check_decimals(document: &Document, pointer: &str, value: f64, places: i32, out: &mut Vec<Diagnostic>) {
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
        let sources = value.get(list).and_then(Value::as_array).map_or(&[][..], |s| s);
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
    let base = document.source.path.parent().unwrap_or_else(|| Path::new("."));
    for list in ["numbers", "exclude"] {
        let sources = document.value.get(list).and_then(Value::as_array);
        for (index, source) in sources.into_iter().flatten().enumerate() {
            for key in ["csv", "file"] {
                let Some(path) = source.get(key).and_then(Value::as_str) else {
                    continue;
                };
                if template::is_template(path) || base.join(path).is_file() {
                    continue;
                }
                out.push(document.diagnostic(
                    &format!("/{list}/{index}/{key}"),
                    format!(
                        "`{key}`: file \"{path}\" not found (looked for {})",
                        load::display(&base.join(path))
                    ),
                ));
            }
        }
    }
}

/// Campaign names identify campaigns in state, so two files may not share one.
fn check_unique_names(campaigns: &[LoadedCampaign], out: &mut Vec<Diagnostic>) {
    let mut first_seen: HashMap<&str, &LoadedCampaign> = HashMap::new();
    for loaded in campaigns {
        let name = loaded.campaign.name.as_str();
        match first_seen.get(name) {
            Some(first) => {
                let first_at = first.document.position("/name");
                out.push(loaded.document.diagnostic(
                    "/name",
                    format!(
                        "campaign name \"{name}\" is already used by {}:{}:{}; names must be \
                         unique across all campaign files",
                        first.document.source.name, first_at.line, first_at.column
                    ),
                ));
            }
            None => {
                first_seen.insert(name, loaded);
            }
        }
    }
}
