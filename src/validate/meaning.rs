//! The checks a schema cannot express: decimal places, known countries, name clashes, template
//! syntax (each template is compiled here, once, and handed on to expansion) and source paths.

use std::path::Path;

use serde_json::Value;

use crate::diagnostic::{Diagnostic, Kind};
use crate::load::{Document, Root, escape_pointer};
use crate::model::{CallingHours, NumberSource, SOURCE_LISTS, TaskSpec};
use crate::phone;
use crate::template::{self, Templates};
use crate::window::WindowError;

/// The checks a schema cannot express, and the campaign's templates, compiled. They read the
/// parsed value rather than the typed campaign, so they run (and report) even where the schema
/// check found problems elsewhere.
pub(super) fn problems(document: &Document, root: &Root, out: &mut Vec<Diagnostic>) -> Templates {
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
    let mut templates = Templates::default();
    for (pointer, text) in template_strings(value) {
        if let Err(err) = templates.add(&pointer, text) {
            let position = document.position_in_string(&pointer, err.offset);
            out.push(
                document
                    .source
                    .diagnostic(position, err.message)
                    .with_pointer(pointer)
                    .with_kind(Kind::Template),
            );
        }
    }
    check_source_paths(document, root, out);
    check_calling_rules(document, out);
    if let (Some(not_before), Some(not_after)) = (
        moment(document, "/notBefore", out),
        moment(document, "/notAfter", out),
    ) && not_after <= not_before
    {
        out.push(document.diagnostic(
            "/notAfter",
            "`notAfter` is not after `notBefore`: the campaign could never send".to_owned(),
        ));
    }
    templates
}

/// The window and limits of a campaign or of the workspace file: what the schema cannot tell,
/// such as an `end` before its `start`, at the field's line and column.
pub(super) fn check_calling_rules(document: &Document, out: &mut Vec<Diagnostic>) {
    let value = &document.value;
    if let Some(hours) = value
        .get("window")
        .and_then(|window| serde_json::from_value::<CallingHours>(window.clone()).ok())
        && let Err(err) = hours.resolve()
    {
        let field = match err {
            // The schema's pattern has said it; the zone is checked on its own below.
            WindowError::Time(_) | WindowError::Zone(_) => None,
            WindowError::Empty { .. } => Some("end"),
            WindowError::Duration(_) | WindowError::TooLong { .. } => Some("minRemaining"),
        };
        if let Some(field) = field {
            out.push(document.diagnostic(&format!("/window/{field}"), format!("`window`: {err}")));
        }
    }
    if let Some(zone) = value.pointer("/window/unknownZone").and_then(Value::as_str)
        && !crate::window::is_known_zone(zone)
    {
        out.push(document.diagnostic(
            "/window/unknownZone",
            format!("`window`: {}", WindowError::Zone(zone.to_owned())),
        ));
    }
    if let Some(within) = value
        .pointer("/limits/perNumber/within")
        .and_then(Value::as_str)
        && crate::clock::parse_duration(within).is_none()
    {
        out.push(document.diagnostic(
            "/limits/perNumber/within",
            format!("`within`: {within:?} is no duration; write it as e.g. 24h or 7d"),
        ));
    }
}

/// The moment a field names (a day or an RFC 3339 time); a diagnostic when it names none.
fn moment(
    document: &Document,
    pointer: &str,
    out: &mut Vec<Diagnostic>,
) -> Option<time::OffsetDateTime> {
    let text = document.value.pointer(pointer)?.as_str()?;
    let at = crate::clock::parse_day_or_time(text);
    if at.is_none() {
        out.push(document.diagnostic(
            pointer,
            format!(
                "`{}`: {text:?} is no day or time; write it as 2026-12-01 or \
                 2026-12-01T09:00:00Z",
                &pointer[1..]
            ),
        ));
    }
    at
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

/// Every string of the file that is read as a template, with its pointer: the one list of them.
fn template_strings(value: &Value) -> Vec<(String, &str)> {
    let mut found = Vec::new();
    for key in TaskSpec::TEMPLATE_KEYS {
        if let Some(text) = value
            .pointer(&format!("/task/{key}"))
            .and_then(Value::as_str)
        {
            found.push((format!("/task/{key}"), text));
        }
    }
    for list in SOURCE_LISTS {
        let sources = value.get(list).and_then(Value::as_array);
        for (index, source) in sources.into_iter().flatten().enumerate() {
            for key in NumberSource::TEMPLATE_KEYS {
                if let Some(text) = source.get(key).and_then(Value::as_str) {
                    found.push((format!("/{list}/{index}/{key}"), text));
                }
            }
        }
    }
    found
}

/// Source files must be regular files inside the workspace root; a templated path is checked
/// once it is rendered, by expansion.
fn check_source_paths(document: &Document, root: &Root, out: &mut Vec<Diagnostic>) {
    let base = document
        .source
        .path
        .parent()
        .unwrap_or_else(|| Path::new("."));
    for list in SOURCE_LISTS {
        let sources = document.value.get(list).and_then(Value::as_array);
        for (index, source) in sources.into_iter().flatten().enumerate() {
            for key in ["csv", "file"] {
                let Some(path) = source.get(key).and_then(Value::as_str) else {
                    continue;
                };
                if template::is_template(path) {
                    continue;
                }
                let found = root
                    .resolve_written(base, path)
                    .and_then(|canonical| root.check(&canonical, root.max_source_bytes));
                let Err(refusal) = found else {
                    continue;
                };
                out.push(
                    document
                        .diagnostic(
                            &format!("/{list}/{index}/{key}"),
                            refusal.describe_source(key, path, base, root),
                        )
                        .with_kind(Kind::File),
                );
            }
        }
    }
}
