//! Templates: minijinja with strict undefined, reading nothing but the names a campaign gives.
//!
//! Each template string of a campaign is compiled once, named by its JSON pointer, and rendered
//! once per task (or per CSV row for a source's `other`). Errors carry the byte offset in the
//! template's text, which the caller maps to the campaign file's line and column.

use std::collections::BTreeMap;
use std::sync::Arc;

use minijinja::syntax::SyntaxConfig;
use minijinja::value::{Enumerator, Object};
use minijinja::{AutoEscape, Environment, ErrorKind, Template, UndefinedBehavior, Value};

/// Instructions one rendering may run. A substitution costs a handful; this leaves room for
/// filters and small loops while stopping a runaway template within milliseconds (fuel also
/// bounds the memory a template can allocate, at about 64 bytes per unit).
const FUEL: u64 = 50_000;

/// Nesting depth of macros, loops and conditions; campaign templates need little.
const RECURSION_LIMIT: usize = 32;

/// Whether a string holds template syntax (plain strings are used as they are).
pub fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%") || text.contains("{#")
}

/// The environment every campaign template runs in: strict undefined, fuel and recursion
/// limits, no escaping, and no loader (so no `include` or `import` can read a file).
pub fn environment() -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_fuel(Some(FUEL));
    env.set_recursion_limit(RECURSION_LIMIT);
    // Names are JSON pointers, not file names: never escape by "extension".
    env.set_auto_escape_callback(|_| AutoEscape::None);
    // A YAML block scalar ends in a newline; keep it, as plain strings do.
    let syntax = SyntaxConfig::builder()
        .keep_trailing_newline(true)
        .build()
        .expect("the default delimiters are a valid syntax");
    env.set_syntax(syntax);
    env
}

/// The byte offset in `source` a minijinja error points at: its range when known, else the
/// start of its line.
fn error_offset(err: &minijinja::Error, source: &str) -> usize {
    if let Some(range) = err.range() {
        return range.start.min(source.len());
    }
    match err.line() {
        Some(line) if line > 1 => source
            .match_indices('\n')
            .nth(line - 2)
            .map_or(0, |(i, _)| i + 1),
        _ => 0,
    }
}

/// A template that failed to compile or render: where in its text, and what to tell the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
}

/// The templates of one campaign, each compiled once and named by its JSON pointer.
pub struct Templates {
    env: Environment<'static>,
}

impl Default for Templates {
    fn default() -> Self {
        Templates { env: environment() }
    }
}

impl Templates {
    /// Compiles `source` under the name `pointer`. Plain strings are not compiled: they are
    /// used as they are.
    pub fn add(&mut self, pointer: &str, source: &str) -> Result<(), TemplateError> {
        if !is_template(source) {
            return Ok(());
        }
        self.env
            .add_template_owned(pointer.to_owned(), source.to_owned())
            .map_err(|err| TemplateError {
                offset: error_offset(&err, source),
                message: format!(
                    "template syntax error: {}",
                    err.detail().unwrap_or("invalid template")
                ),
            })
    }

    /// The compiled template of `pointer`, or `None` when its string is plain.
    pub fn get(&self, pointer: &str) -> Option<Template<'_, '_>> {
        self.env.get_template(pointer).ok()
    }

    /// The string at `pointer` rendered with `context`: `source` itself when it is plain.
    pub fn render(
        &self,
        pointer: &str,
        source: &str,
        context: &Value,
    ) -> Result<String, TemplateError> {
        match self.get(pointer) {
            Some(template) => render(&template, context),
            None => Ok(source.to_owned()),
        }
    }
}

/// Renders a compiled template, turning errors into messages a campaign author can act on.
pub fn render(template: &Template<'_, '_>, context: &Value) -> Result<String, TemplateError> {
    template.render(context).map_err(|err| TemplateError {
        offset: error_offset(&err, template.source()),
        message: describe(&err, context),
    })
}

fn describe(err: &minijinja::Error, context: &Value) -> String {
    let detail = err.detail().unwrap_or_default();
    match err.kind() {
        ErrorKind::UndefinedError => {
            let mut names: Vec<String> = context
                .try_iter()
                .map(|keys| keys.map(|key| key.to_string()).collect())
                .unwrap_or_default();
            names.sort();
            let what = if detail.is_empty() {
                "a value is undefined"
            } else {
                detail
            };
            format!(
                "undefined variable: {what}; the names available here are: {}",
                names.join(", ")
            )
        }
        ErrorKind::OutOfFuel => "the template runs too long (out of fuel); campaign templates \
            should fill in values, not compute"
            .to_owned(),
        ErrorKind::InvalidOperation if detail.contains("recursion limit") => {
            "the template nests too deeply (recursion limit exceeded)".to_owned()
        }
        ErrorKind::TemplateNotFound => {
            "templates cannot include, import or extend other templates".to_owned()
        }
        ErrorKind::SyntaxError => format!("template syntax error: {detail}"),
        kind if detail.is_empty() => format!("template error: {kind}"),
        _ => format!("template error: {detail}"),
    }
}

/// A YAML value (from `vars` or `matrix`) as a template value.
pub fn value_from_json(value: &serde_json::Value) -> Value {
    match value {
        serde_json::Value::Null => Value::from(()),
        serde_json::Value::Bool(b) => Value::from(*b),
        serde_json::Value::Number(n) => match (n.as_i64(), n.as_u64(), n.as_f64()) {
            (Some(i), _, _) => Value::from(i),
            (None, Some(u), _) => Value::from(u),
            (None, None, f) => Value::from(f.unwrap_or(f64::NAN)),
        },
        serde_json::Value::String(s) => Value::from(s.as_str()),
        serde_json::Value::Array(items) => {
            Value::from(items.iter().map(value_from_json).collect::<Vec<_>>())
        }
        serde_json::Value::Object(map) => Value::from(
            map.iter()
                .map(|(key, item)| (key.clone(), value_from_json(item)))
                .collect::<BTreeMap<String, Value>>(),
        ),
    }
}

/// The names one task's templates see: `campaign`, each var and each matrix key.
pub fn task_context<'a>(
    campaign: &str,
    names: impl IntoIterator<Item = (&'a str, &'a serde_json::Value)>,
) -> Value {
    let mut map: BTreeMap<String, Value> = names
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value_from_json(value)))
        .collect();
    map.insert("campaign".to_owned(), Value::from(campaign));
    Value::from(map)
}

/// `context` plus `row`: one CSV row, its fields looked up by header.
pub fn row_context<'f>(
    context: &Value,
    header: &Arc<[String]>,
    fields: impl IntoIterator<Item = &'f str>,
) -> Value {
    let row = Row {
        header: Arc::clone(header),
        fields: fields.into_iter().map(str::to_owned).collect(),
    };
    minijinja::context! { row => Value::from_object(row), ..context.clone() }
}

/// A CSV row as a template sees it: a mapping from header to field.
#[derive(Debug)]
struct Row {
    header: Arc<[String]>,
    fields: Vec<String>,
}

impl Object for Row {
    fn get_value(self: &Arc<Self>, key: &Value) -> Option<Value> {
        let key = key.as_str()?;
        let index = self.header.iter().position(|name| name == key)?;
        self.fields
            .get(index)
            .map(|field| Value::from(field.as_str()))
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            self.header
                .iter()
                .map(|name| Value::from(name.as_str()))
                .collect(),
        )
    }
}

/// Whether a template reads `row` at all; one that does not renders the same for every row.
pub fn uses_row(template: &Template<'_, '_>) -> bool {
    template.undeclared_variables(false).contains("row")
}

/// Whether a source's `other` reads the number's time zones (`zone`, `zones`).
pub fn uses_zone(template: &Template<'_, '_>) -> bool {
    let names = template.undeclared_variables(false);
    names.contains("zone") || names.contains("zones")
}

/// `context` plus one number's time zones: `zone`, the first (or `""` when none is known), and
/// `zones`, all of them (a number of a prefix shared by several zones has several).
pub fn zone_context(context: &Value, zones: &[&'static str]) -> Value {
    minijinja::context! {
        zone => zones.first().copied().unwrap_or(""),
        zones => zones.to_vec(),
        ..context.clone()
    }
}

/// The `row.NAME` lookups of a template whose column is not in `header`, each with the offset
/// of its first use (for the error's position).
pub fn missing_columns(template: &Template<'_, '_>, header: &[String]) -> Vec<(String, usize)> {
    let mut missing: Vec<(String, usize)> = template
        .undeclared_variables(true)
        .iter()
        .filter_map(|name| name.strip_prefix("row."))
        .map(|path| path.split('.').next().unwrap_or(path))
        .filter(|column| !header.iter().any(|name| name == column))
        .map(|column| {
            let offset = template
                .source()
                .find(&format!("row.{column}"))
                .unwrap_or(0);
            (column.to_owned(), offset)
        })
        .collect();
    missing.sort();
    missing.dedup();
    missing
}

/// A piece of a template that is nothing but text and `row` lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece<'a> {
    Text(&'a str),
    Column(&'a str),
}

/// The template as text and `{{ row.NAME }}` / `{{ row["NAME"] }}` lookups, when that is all
/// it is: such templates are filled in per CSV row without the template engine, which is
/// several times faster and gives the same text. Anything else (filters, whitespace control,
/// other names, statements, comments) returns `None`.
pub fn row_lookups(source: &str) -> Option<Vec<Piece<'_>>> {
    let mut pieces = Vec::new();
    let mut rest = source;
    while !rest.is_empty() {
        let (text, tail) = match rest.find("{{") {
            Some(start) => (&rest[..start], Some(&rest[start + 2..])),
            None => (rest, None),
        };
        if text.contains("{%") || text.contains("{#") {
            return None;
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        let Some(tail) = tail else { break };
        let end = tail.find("}}")?;
        pieces.push(Piece::Column(row_column(tail[..end].trim())?));
        rest = &tail[end + 2..];
    }
    Some(pieces)
}

/// `NAME` from `row.NAME`, `row["NAME"]` or `row['NAME']`.
fn row_column(expression: &str) -> Option<&str> {
    let lookup = expression.strip_prefix("row")?;
    if let Some(name) = lookup.strip_prefix('.') {
        let mut chars = name.chars();
        let first = chars.next()?;
        let is_identifier = (first.is_ascii_alphabetic() || first == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
        return is_identifier.then_some(name);
    }
    let quoted = lookup.strip_prefix('[')?.strip_suffix(']')?;
    ['"', '\''].into_iter().find_map(|quote| {
        let name = quoted.strip_prefix(quote)?.strip_suffix(quote)?;
        (!name.contains(['"', '\'', '\\'])).then_some(name)
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn render_str(source: &str, context: &Value) -> Result<String, TemplateError> {
        let mut templates = Templates::default();
        templates.add("/t", source)?;
        templates.render("/t", source, context)
    }

    fn context() -> Value {
        let vars = serde_json::json!({"quarter": "2026Q2", "n": 3, "flag": true});
        let names: Vec<(&str, &serde_json::Value)> = vars
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.as_str(), v))
            .collect();
        task_context("spring", names)
    }

    #[test]
    fn syntax_errors_carry_offsets() {
        let mut templates = Templates::default();
        assert!(templates.add("/a", "renewal-{{ quarter }}").is_ok());
        let err = templates.add("/b", "abc {{ x ").unwrap_err();
        assert!(err.offset >= 4, "{err:?}");
        assert!(
            err.message.starts_with("template syntax error: "),
            "{err:?}"
        );
        assert!(!is_template("plain"));
    }

    #[test]
    fn renders_vars_and_campaign() {
        let out = render_str("{{ campaign }}-{{ quarter }}-{{ n + 1 }}", &context()).unwrap();
        assert_eq!(out, "spring-2026Q2-4");
        assert_eq!(
            render_str("plain {text}", &context()).unwrap(),
            "plain {text}"
        );
        assert_eq!(
            render_str("{{ quarter }}\n", &context()).unwrap(),
            "2026Q2\n"
        );
    }

    #[test]
    fn undefined_names_are_errors_at_their_offset() {
        let err = render_str("a-{{ quarter }}-{{ region }}", &context()).unwrap_err();
        assert_eq!(err.offset, 19);
        assert!(
            err.message.contains("`region` is undefined"),
            "{}",
            err.message
        );
        assert!(
            err.message.contains("campaign, flag, n, quarter"),
            "{}",
            err.message
        );
    }

    #[test]
    fn runaway_templates_stop() {
        let err = render_str(
            "{% for i in range(100000) %}{{ i }}{% endfor %}",
            &context(),
        )
        .unwrap_err();
        assert!(err.message.contains("out of fuel"), "{}", err.message);
        let err = render_str("{{ 'x' * 100000000 }}", &context()).unwrap_err();
        assert!(err.message.contains("out of fuel"), "{}", err.message);
        let deep = "{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(1) }}";
        let err = render_str(deep, &context()).unwrap_err();
        assert!(err.message.contains("recursion"), "{}", err.message);
    }

    #[test]
    fn templates_read_no_files() {
        let err = render_str("{% include 'secret.txt' %}", &context()).unwrap_err();
        assert!(err.message.contains("cannot include"), "{}", err.message);
    }

    #[test]
    fn rows_are_looked_up_by_header() {
        let header: Arc<[String]> = vec!["id".to_owned(), "customer id".to_owned()].into();
        let row = row_context(&context(), &header, ["7", "C1"]);
        let out = render_str("{{ row.id }}/{{ row['customer id'] }}/{{ quarter }}", &row).unwrap();
        assert_eq!(out, "7/C1/2026Q2");
        let err = render_str("{{ row.nope }}", &row).unwrap_err();
        assert!(
            err.message.contains("`row.nope` is undefined"),
            "{}",
            err.message
        );
    }

    #[test]
    fn missing_columns_are_found_before_rendering() {
        let mut templates = Templates::default();
        templates
            .add("/t", "x={{ row.id }} {{ row.nope | upper }} {{ quarter }}")
            .unwrap();
        let template = templates.get("/t").unwrap();
        assert!(uses_row(&template));
        let header = ["id".to_owned()];
        assert_eq!(
            missing_columns(&template, &header),
            vec![("nope".to_owned(), 18)]
        );
    }

    #[test]
    fn simple_row_templates_are_recognized() {
        assert_eq!(
            row_lookups("invoice={{ row.invoice }}"),
            Some(vec![Piece::Text("invoice="), Piece::Column("invoice")])
        );
        assert_eq!(
            row_lookups("{{row['a b']}}-{{ row[\"c\"] }}"),
            Some(vec![
                Piece::Column("a b"),
                Piece::Text("-"),
                Piece::Column("c")
            ])
        );
        assert_eq!(row_lookups(""), Some(vec![]));
        for not_simple in [
            "{{ row.a | upper }}",
            "{{- row.a }}",
            "{{ row.a -}}",
            "{{ quarter }}",
            "{% if x %}{% endif %}",
            "a {# c #}",
            "{{ row.a",
            "{{ row['a\\'b'] }}",
            "{{ row.1a }}",
        ] {
            assert_eq!(row_lookups(not_simple), None, "{not_simple}");
        }
    }

    proptest! {
        /// The fast path fills in exactly what the engine renders.
        #[test]
        fn row_lookups_match_the_engine(
            parts in prop::collection::vec(
                prop_oneof![
                    "[a-z =:/,.-]{0,6}".prop_map(|t| (true, t)),
                    prop::sample::select(vec!["a", "b_2", "c d"]).prop_map(|c| (false, c.to_owned())),
                ],
                0..6,
            ),
            fields in prop::collection::vec("[ -~]{0,8}", 3),
        ) {
            let source: String = parts
                .iter()
                .map(|(is_text, part)| match (is_text, part.contains(' ')) {
                    (true, _) => part.clone(),
                    (false, true) => format!("{{{{ row['{part}'] }}}}"),
                    (false, false) => format!("{{{{ row.{part} }}}}"),
                })
                .collect();
            let header: Arc<[String]> = vec!["a".to_owned(), "b_2".to_owned(), "c d".to_owned()].into();
            let pieces = row_lookups(&source).expect("text and lookups are simple");
            let fast: String = pieces
                .iter()
                .map(|piece| match piece {
                    Piece::Text(text) => *text,
                    Piece::Column(name) => {
                        let index = header.iter().position(|h| h == name).unwrap();
                        fields[index].as_str()
                    }
                })
                .collect();
            let row = row_context(&Value::from(()), &header, fields.iter().map(String::as_str));
            prop_assert_eq!(fast, render_str(&source, &row).unwrap());
        }
    }
}
