//! YAML text into a JSON value plus a map from JSON pointer to source position, so every later
//! check can point at the line and column it is about.

use std::collections::HashMap;
use std::sync::Arc;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use super::yaml_errors::{to_position, yaml_error};
use super::{Document, SourceText, escape_pointer};
use crate::diagnostic::{Diagnostic, Kind, Position};

/// Values that aliases (`*name`) may replay in one file. Campaign files share a setting or a
/// short list through anchors at most; a "billion laughs" document needs millions.
pub(super) const MAX_ALIAS_EVENTS: usize = 10_000;

/// Parses YAML text into a [`Document`].
pub fn parse(source: Arc<SourceText>) -> Result<Document, Diagnostic> {
    let text = source.text.as_str();
    if text
        .lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
    {
        return Err(empty_file(&source, Position::new(1, 1)));
    }
    let root: Spanned<Node> = serde_saphyr::from_str_with_options(text, yaml_options())
        .map_err(|err| yaml_error(&source, &err))?;
    if matches!(root.value, Node::Null) {
        // `---`, `~` or `null` alone: as good as empty, and "expected a mapping, found null"
        // would hide that nothing is there.
        return Err(empty_file(&source, to_position(root.referenced)));
    }
    let mut document = Document {
        source,
        value: Value::Null,
        values: HashMap::new(),
        keys: HashMap::new(),
    };
    let mut pointer = String::new();
    document.value = flatten(root, &mut pointer, &mut document.values, &mut document.keys);
    Ok(document)
}

/// Deserializes the file straight into `T`. For the rare problem only the Rust types catch,
/// after the schema passed: serde-saphyr knows where in the file it is.
pub fn parse_as<T: de::DeserializeOwned>(source: &SourceText) -> Result<T, Diagnostic> {
    serde_saphyr::from_str_with_options(&source.text, yaml_options())
        .map_err(|err| yaml_error(source, &err))
}

/// `yes`, `017` and `1_000` stay strings (YAML 1.1 would make them a boolean and numbers, which
/// surprises people writing names and numbers); aliases are bounded (see [`MAX_ALIAS_EVENTS`]).
fn yaml_options() -> serde_saphyr::Options {
    let mut alias_limits = serde_saphyr::options::AliasLimits::default();
    alias_limits.max_total_replayed_events = MAX_ALIAS_EVENTS;
    serde_saphyr::options! {
        strict_booleans: true,
        leading_zero_numbers_as_strings: true,
        underscored_numbers_as_strings: true,
        with_snippet: false,
        alias_limits: alias_limits,
    }
}

fn empty_file(source: &SourceText, position: Position) -> Diagnostic {
    source
        .diagnostic(
            position,
            "the file is empty: a campaign file is a mapping with `name`, `task` and `numbers`",
        )
        .with_kind(Kind::Yaml)
}

/// A YAML node as serde-saphyr hands it over, with the location of every child.
enum Node {
    Null,
    Bool(bool),
    Integer(i64),
    Unsigned(u64),
    Float(f64),
    String(String),
    Sequence(Vec<Spanned<Node>>),
    Mapping(Vec<(Spanned<Node>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("any YAML value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Node, D::Error> {
        Node::deserialize(deserializer)
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Node, E> {
        Ok(Node::Bool(value))
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Node, E> {
        Ok(Node::Integer(value))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Node, E> {
        Ok(Node::Unsigned(value))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Node, E> {
        Ok(Node::Float(value))
    }

    fn visit_str<E: de::Error>(self, value: &str) -> Result<Node, E> {
        Ok(Node::String(value.to_owned()))
    }

    fn visit_string<E: de::Error>(self, value: String) -> Result<Node, E> {
        Ok(Node::String(value))
    }

    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Node, E> {
        Ok(Node::String(String::from_utf8_lossy(value).into_owned()))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(Node::Sequence(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(entry) = map.next_entry()? {
            entries.push(entry);
        }
        Ok(Node::Mapping(entries))
    }
}

/// Turns the node tree into a JSON value, recording positions by JSON pointer on the way.
fn flatten(
    node: Spanned<Node>,
    pointer: &mut String,
    values: &mut HashMap<String, Position>,
    keys: &mut HashMap<String, Position>,
) -> Value {
    values.insert(pointer.clone(), to_position(node.referenced));
    match node.value {
        Node::Null => Value::Null,
        Node::Bool(b) => Value::Bool(b),
        Node::Integer(i) => Value::from(i),
        Node::Unsigned(u) => Value::from(u),
        Node::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Node::String(s) => Value::String(s),
        Node::Sequence(items) => {
            let base = pointer.len();
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                pointer.push('/');
                pointer.push_str(&index.to_string());
                out.push(flatten(item, pointer, values, keys));
                pointer.truncate(base);
            }
            Value::Array(out)
        }
        Node::Mapping(entries) => {
            let base = pointer.len();
            let mut out = serde_json::Map::with_capacity(entries.len());
            for (key, value) in entries {
                let key_text = scalar_text(&key.value);
                pointer.push('/');
                pointer.push_str(&escape_pointer(&key_text));
                keys.insert(pointer.clone(), to_position(key.referenced));
                out.insert(key_text, flatten(value, pointer, values, keys));
                pointer.truncate(base);
            }
            Value::Object(out)
        }
    }
}

/// A mapping key as text; JSON only has string keys, and campaign files only use those.
fn scalar_text(node: &Node) -> String {
    match node {
        Node::Null => "null".to_owned(),
        Node::Bool(b) => b.to_string(),
        Node::Integer(i) => i.to_string(),
        Node::Unsigned(u) => u.to_string(),
        Node::Float(f) => f.to_string(),
        Node::String(s) => s.clone(),
        Node::Sequence(_) | Node::Mapping(_) => "<complex key>".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::load::SourceText;

    fn doc(text: &str) -> Result<Document, Diagnostic> {
        parse(Arc::new(SourceText::new(
            "t.campaign.yaml".into(),
            text.into(),
        )))
    }
    #[test]
    fn positions_follow_pointers() {
        let d = doc("name: x\ntask:\n  dispatchType: fast\nlist:\n  - a\n  - \"b\"\n").unwrap();
        assert_eq!(d.position("/task/dispatchType"), Position::new(3, 17));
        assert_eq!(d.key_position("/task/dispatchType"), Position::new(3, 3));
        assert_eq!(d.position("/list/1"), Position::new(6, 5));
        assert_eq!(d.position("/task/missing"), d.position("/task"));
    }

    #[test]
    fn strict_scalars_stay_strings() {
        let d = doc("a: yes\nb: 017\nc: 1_000\nd: true\n").unwrap();
        assert_eq!(d.value["a"], "yes");
        assert_eq!(d.value["b"], "017");
        assert_eq!(d.value["c"], "1_000");
        assert_eq!(d.value["d"], true);
    }

    #[test]
    fn positions_inside_strings() {
        let d = doc("a: \"xx{{ y }}\"\nb: |\n  one\n  two {{ z }}\n").unwrap();
        assert_eq!(d.position_in_string("/a", 2), Position::new(1, 7));
        assert_eq!(d.position_in_string("/b", 8), Position::new(4, 7));
    }

    #[test]
    fn a_byte_order_mark_does_not_shift_columns() {
        let d = doc("\u{feff}name: x\n").unwrap();
        assert_eq!(d.position("/name"), Position::new(1, 7));
        assert_eq!(d.source.line(1), Some("name: x"));
    }

    #[test]
    fn pointers_are_found_by_position() {
        let d = doc("task:\n  country: GB\n").unwrap();
        assert_eq!(
            d.pointer_at(Position::new(2, 12)).as_deref(),
            Some("/task/country")
        );
        assert_eq!(d.pointer_at(Position::new(9, 9)), None);
    }
}
