//! A stand-in for a campaign whose task settings are broken: the same campaign with each broken
//! setting replaced by a harmless value, expanded only to find the template and number problems
//! of the same file in the same run. It is never planned or sent.

use serde_json::{Value, json};

use crate::diagnostic::Diagnostic;
use crate::model::TaskSpec;

/// Task settings expansion never reads for its checks, by key, with a value that passes them.
/// `taskName` and `country` are not here: expansion renders them, so a broken one leaves no
/// stand-in.
fn harmless(key: &str) -> Option<Value> {
    Some(match key {
        "strategyName" | "agentGroupNo" => json!("stand-in"),
        "dispatchType" => json!("none"),
        "predictCallRate" | "ratioCallRate" => json!(1),
        "startCount" => json!(1),
        "taskDesc" | "startupType" => Value::Null,
        _ => return None,
    })
}

/// The campaign `value` with the task settings `problems` are about made harmless, or `None`
/// when a problem lies where expansion would read (names, templates, sources, matrix, vars).
pub fn stand_in(value: &Value, problems: &[Diagnostic]) -> Option<Value> {
    let mut patched = value.clone();
    let task = patched.get_mut("task")?.as_object_mut()?;
    for problem in problems {
        let pointer = problem.pointer.as_deref()?;
        if pointer == "/task" {
            // A required setting is missing: supply every one that is.
            for key in TaskSpec::SETTINGS {
                if !task.contains_key(key) {
                    task.insert(key.to_owned(), harmless(key)?);
                }
            }
            continue;
        }
        let key = pointer.strip_prefix("/task/")?;
        if key.contains('/') {
            return None;
        }
        match harmless(key) {
            Some(Value::Null) => {
                task.remove(key);
            }
            Some(value) => {
                task.insert(key.to_owned(), value);
            }
            // An unknown key is dropped; a broken name or country leaves no stand-in.
            None if !TaskSpec::SETTINGS.contains(&key)
                && !TaskSpec::TEMPLATE_KEYS.contains(&key) =>
            {
                task.remove(key);
            }
            None => return None,
        }
    }
    Some(patched)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(pointer: &str) -> Diagnostic {
        Diagnostic::file("f", "m").with_pointer(pointer)
    }

    #[test]
    fn broken_settings_are_replaced_and_unknown_keys_dropped() {
        let value =
            json!({"name": "n", "task": {"taskName": "t", "dispatchType": "fast", "colour": 1}});
        let patched = stand_in(&value, &[at("/task/dispatchType"), at("/task/colour")]).unwrap();
        assert_eq!(patched["task"]["dispatchType"], "none");
        assert!(patched["task"].get("colour").is_none());
        assert_eq!(patched["task"]["taskName"], "t");
    }

    #[test]
    fn problems_where_expansion_reads_leave_no_stand_in() {
        let value = json!({"name": "n", "task": {"taskName": "t"}});
        assert!(stand_in(&value, &[at("/task/taskName")]).is_none());
        assert!(stand_in(&value, &[at("/numbers/0")]).is_none());
        assert!(stand_in(&value, &[Diagnostic::file("f", "unreadable")]).is_none());
        let filled = stand_in(&value, &[at("/task")]).unwrap();
        assert_eq!(filled["task"]["startCount"], 1);
    }
}
