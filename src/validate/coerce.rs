//! Whole numbers written as decimals (`startCount: 2.0`) read as the integers the schema asks
//! for, so the typed campaign accepts what the schema accepted.

use serde_json::Value;

use super::schema::{child_schema, schema_check, select};

/// `value` with whole numbers as integers where the campaign schema wants integers.
pub(super) fn typed(value: &Value) -> Value {
    let check = schema_check();
    let mut typed = value.clone();
    whole_numbers_as_integers(&check.schema, &check.schema, &mut typed);
    typed
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

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
}
