//! The campaign file: the types that parse it, and the single source of its JSON Schema.
//!
//! Doc comments here become the schema's descriptions, which editors show on hover; keep them
//! written for the person editing a campaign file.

use std::borrow::Cow;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::phone::{Check, NumberType};

/// A campaign: one or more createandcall tasks and the numbers they dial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "campaignctl campaign file")]
pub struct Campaign {
    /// The campaign id: lowercase letters, digits and dashes, unique across all campaign files.
    /// Every number is dialed at most once per campaign, so renaming a campaign starts it afresh.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"), length(min = 1, max = 64))]
    #[schemars(example = &"spring-renewal")]
    pub name: String,

    /// What this campaign is for, for the people reading plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    /// Values for templates: each key is a name usable as `{{ key }}` in the task's strings,
    /// source paths and `other` templates.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}))]
    pub vars: IndexMap<String, serde_json::Value>,

    /// One task per combination of these values: each key is a template name, each value the
    /// list it ranges over. A key may not also be in `vars`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = {"pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"}))]
    pub matrix: IndexMap<String, MatrixValues>,

    /// The createandcall fields, with the provider's names. Strings may be templates.
    pub task: TaskSpec,

    /// Where the numbers to dial come from, in order. Paths are relative to this file.
    #[schemars(length(min = 1))]
    pub numbers: Vec<NumberSource>,

    /// Numbers never to dial (do-not-call lists, suppressions), in the same forms as `numbers`.
    /// They are removed from every task of the campaign.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude: Vec<NumberSource>,

    /// The types of number this campaign dials, e.g. `[mobile, fixedLine]` (listing both
    /// takes `fixedLineOrMobile` too, the numbers of countries such as the US that do not tell
    /// them apart). Without it, every type but `premiumRate` and `sharedCost`. A number of
    /// another type is an error at its line. `unknown` is the type of numbers a
    /// `check: possible-length` source accepts outside every known range.
    #[serde(
        default,
        rename = "numberTypes",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(length(min = 1), example = ["mobile", "fixedLine"])]
    pub number_types: Option<Vec<NumberType>>,
}

/// The values one matrix key ranges over.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct MatrixValues(
    #[schemars(length(min = 1))]
    #[schemars(extend("items" = {"type": ["string", "number", "boolean"]}))]
    pub Vec<serde_json::Value>,
);

/// The createandcall task settings, with the provider's field names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct TaskSpec {
    /// The task name shown in the NXCC console (a template). Together with the campaign name it
    /// identifies the task in state, so each rendered name must be unique within the campaign.
    #[schemars(length(min = 1), example = &"renewal-{{ quarter }}-{{ region }}")]
    pub task_name: String,

    /// The task description (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_desc: Option<String>,

    /// Two-letter country code (ISO 3166-1, e.g. `HK`); also the default region for numbers
    /// written without a country code. May be a template.
    #[schemars(length(min = 1), example = &"HK")]
    pub country: String,

    /// The dialing strategy's name (a template).
    #[schemars(length(min = 1), example = &"Default Strategy")]
    pub strategy_name: String,

    /// How calls are dispatched to agents.
    pub dispatch_type: DispatchType,

    /// The agent group number, e.g. `NX09445G000025` (a template).
    #[schemars(length(min = 1), example = &"NX09445G000025")]
    pub agent_group_no: String,

    /// The call rate, with at most two decimal places, e.g. `1.25`.
    #[schemars(range(min = 0.0), example = 1.0)]
    pub predict_call_rate: f64,

    /// The agent call rate, with at most one decimal place, e.g. `1.5`.
    #[schemars(range(min = 0.0), example = 1.0)]
    pub ratio_call_rate: f64,

    /// The dialing algorithm's start value.
    #[schemars(range(min = 0), example = 1)]
    pub start_count: i64,

    /// How the task starts once created; the provider's default when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub startup_type: Option<StartupType>,
}

/// A source of phone numbers: exactly one of `phones`, `csv` or `file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum NumberSource {
    Phones(PhonesSource),
    Csv(CsvSource),
    File(FileSource),
}

impl NumberSource {
    /// The key that tells the forms apart, as written in the file.
    pub const DISCRIMINATORS: [&'static str; 3] = ["phones", "csv", "file"];

    /// How strictly its numbers are checked.
    pub fn check(&self) -> Check {
        match self {
            NumberSource::Phones(source) => source.check,
            NumberSource::Csv(source) => source.check,
            NumberSource::File(source) => source.check,
        }
    }
}

/// Numbers written in the campaign file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhonesSource {
    /// Phone numbers in any common format: `+852 3575 7581`, `85235757581`, `(020) 7946 0018`.
    /// Numbers without a country code use the task's `country`.
    #[schemars(length(min = 1), example = ["+852 3575 7581", "85235757582"])]
    pub phones: Vec<PhoneLiteral>,

    /// The pass-through value sent with each of these numbers (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,

    /// How its numbers are checked: `full` (the default) dials only numbers in a range
    /// libphonenumber knows to be allocated; `possible-length` only checks the length, for a
    /// range so new that the phone-number metadata does not know it yet (the plan counts the
    /// numbers accepted that way). Ignored in `exclude`, which always takes every number of a
    /// possible length.
    #[serde(default, skip_serializing_if = "Check::is_full")]
    pub check: Check,
}

/// A CSV file with a header row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CsvSource {
    /// Path of the CSV file, relative to the campaign file (a template, e.g. `data/{{ region }}.csv`).
    #[schemars(length(min = 1), example = &"data/customers.csv")]
    pub csv: String,

    /// The header of the column that holds the phone numbers.
    #[serde(default = "default_phone_column")]
    #[schemars(length(min = 1), example = &"phone")]
    pub phone_column: String,

    /// The pass-through value sent with each number: a template over the row, e.g.
    /// `{{ row.customer_id }}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"{{ row.customer_id }}")]
    pub other: Option<String>,

    /// The field delimiter, one character.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 1), example = &";")]
    pub delimiter: Option<String>,

    /// How its numbers are checked: `full` (the default) dials only numbers in a range
    /// libphonenumber knows to be allocated; `possible-length` only checks the length, for a
    /// range so new that the phone-number metadata does not know it yet (the plan counts the
    /// numbers accepted that way). Ignored in `exclude`, which always takes every number of a
    /// possible length.
    #[serde(default, skip_serializing_if = "Check::is_full")]
    pub check: Check,
}

fn default_phone_column() -> String {
    "phone".to_owned()
}

/// A text file with one number per line; blank lines and lines starting with `#` are skipped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSource {
    /// Path of the text file, relative to the campaign file (a template).
    #[schemars(length(min = 1), example = &"data/extra.txt")]
    pub file: String,

    /// The pass-through value sent with each of these numbers (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,

    /// How its numbers are checked: `full` (the default) dials only numbers in a range
    /// libphonenumber knows to be allocated; `possible-length` only checks the length, for a
    /// range so new that the phone-number metadata does not know it yet (the plan counts the
    /// numbers accepted that way). Ignored in `exclude`, which always takes every number of a
    /// possible length.
    #[serde(default, skip_serializing_if = "Check::is_full")]
    pub check: Check,
}

/// A phone number as written: a string, or digits that YAML read as an integer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PhoneLiteral {
    Text(String),
    Digits(u64),
}

impl PhoneLiteral {
    pub fn as_text(&self) -> Cow<'_, str> {
        match self {
            PhoneLiteral::Text(text) => Cow::Borrowed(text),
            PhoneLiteral::Digits(digits) => Cow::Owned(digits.to_string()),
        }
    }
}

impl JsonSchema for PhoneLiteral {
    fn schema_name() -> Cow<'static, str> {
        "PhoneNumber".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A phone number; quote it to keep a leading `+` or `0`.",
            "type": ["string", "integer"],
            "minimum": 0,
            "examples": ["+852 3575 7581"]
        })
    }
}

/// A provider enum written either by name or by the API's integer.
pub trait ApiEnum: Sized + Copy + 'static {
    /// The names, indexed by the API's integer.
    const NAMES: &'static [&'static str];
    const SCHEMA_NAME: &'static str;
    const DESCRIPTION: &'static str;

    fn from_code(code: u8) -> Self;

    fn code(self) -> u8;

    fn name(self) -> &'static str {
        Self::NAMES[usize::from(self.code())]
    }
}

/// How calls are dispatched: `none`, `ratio` (proportional) or `predictive`; or 0, 1, 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchType {
    None,
    Ratio,
    Predictive,
}

impl ApiEnum for DispatchType {
    const NAMES: &'static [&'static str] = &["none", "ratio", "predictive"];
    const SCHEMA_NAME: &'static str = "DispatchType";
    const DESCRIPTION: &'static str = "How calls are dispatched: `none` (0), `ratio` \
        (1, proportional outbound) or `predictive` (2).";

    fn from_code(code: u8) -> Self {
        match code {
            0 => DispatchType::None,
            1 => DispatchType::Ratio,
            _ => DispatchType::Predictive,
        }
    }

    fn code(self) -> u8 {
        self as u8
    }
}

/// How a task starts: `none`, `manual`, `scheduled` or `immediate`; or 0..3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartupType {
    None,
    Manual,
    Scheduled,
    Immediate,
}

impl ApiEnum for StartupType {
    const NAMES: &'static [&'static str] = &["none", "manual", "scheduled", "immediate"];
    const SCHEMA_NAME: &'static str = "StartupType";
    const DESCRIPTION: &'static str = "How the task starts once created: `none` (0), `manual` \
        (1), `scheduled` (2) or `immediate` (3).";

    fn from_code(code: u8) -> Self {
        match code {
            0 => StartupType::None,
            1 => StartupType::Manual,
            2 => StartupType::Scheduled,
            _ => StartupType::Immediate,
        }
    }

    fn code(self) -> u8 {
        self as u8
    }
}

/// Implements serde and schemars for an [`ApiEnum`]: names and integers are both accepted, and
/// the name is what gets written back.
macro_rules! api_enum_impls {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                deserialize_api_enum(deserializer)
            }
        }

        impl JsonSchema for $ty {
            fn schema_name() -> Cow<'static, str> {
                <$ty as ApiEnum>::SCHEMA_NAME.into()
            }

            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                api_enum_schema::<$ty>()
            }
        }
    };
}

api_enum_impls!(DispatchType);
api_enum_impls!(StartupType);

fn api_enum_schema<T: ApiEnum>() -> Schema {
    let names = T::NAMES.iter().map(|name| serde_json::json!(name));
    let codes = (0..T::NAMES.len()).map(|code| serde_json::json!(code));
    let values: Vec<serde_json::Value> = names.chain(codes).collect();
    json_schema!({
        "description": T::DESCRIPTION,
        "enum": values,
    })
}

fn deserialize_api_enum<'de, T: ApiEnum, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    struct ApiEnumVisitor<T>(std::marker::PhantomData<T>);

    impl<T: ApiEnum> serde::de::Visitor<'_> for ApiEnumVisitor<T> {
        type Value = T;

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            write!(formatter, "one of {}", expected_values::<T>())
        }

        fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<T, E> {
            T::NAMES
                .iter()
                .position(|name| *name == value)
                .and_then(|code| u8::try_from(code).ok())
                .map(T::from_code)
                .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Str(value), &self))
        }

        fn visit_u64<E: serde::de::Error>(self, value: u64) -> Result<T, E> {
            u8::try_from(value)
                .ok()
                .filter(|code| usize::from(*code) < T::NAMES.len())
                .map(T::from_code)
                .ok_or_else(|| E::invalid_value(serde::de::Unexpected::Unsigned(value), &self))
        }

        fn visit_i64<E: serde::de::Error>(self, value: i64) -> Result<T, E> {
            match u64::try_from(value) {
                Ok(value) => self.visit_u64(value),
                Err(_) => Err(E::invalid_value(
                    serde::de::Unexpected::Signed(value),
                    &self,
                )),
            }
        }
    }

    deserializer.deserialize_any(ApiEnumVisitor(std::marker::PhantomData))
}

/// `none, ratio, predictive, 0, 1, 2`: what an error message lists as valid.
pub fn expected_values<T: ApiEnum>() -> String {
    let names = T::NAMES.iter().map(|name| (*name).to_owned());
    let codes = (0..T::NAMES.len()).map(|code| code.to_string());
    names.chain(codes).collect::<Vec<_>>().join(", ")
}

/// The draft-07 JSON Schema of campaign files, as `campaignctl schema` prints it.
pub fn campaign_schema() -> Schema {
    let settings = schemars::generate::SchemaSettings::draft07()
        .with_transform(schemars::transform::RecursiveTransform(unwrap_description));
    settings.into_generator().into_root_schema_for::<Campaign>()
}

/// Doc comments are wrapped at 100 columns; editors show descriptions as flowing text, where
/// those line breaks would land mid-sentence. Joins the lines of each paragraph.
fn unwrap_description(schema: &mut Schema) {
    let Some(serde_json::Value::String(description)) = schema.get_mut("description") else {
        return;
    };
    let paragraphs: Vec<String> = description
        .split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    *description = paragraphs.join("\n\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_enums_accept_names_and_codes() {
        let by_name: DispatchType = serde_json::from_value(serde_json::json!("ratio")).unwrap();
        let by_code: DispatchType = serde_json::from_value(serde_json::json!(1)).unwrap();
        assert_eq!(by_name, DispatchType::Ratio);
        assert_eq!(by_code, DispatchType::Ratio);
        assert_eq!(StartupType::Immediate.code(), 3);
        let err = serde_json::from_value::<StartupType>(serde_json::json!(4)).unwrap_err();
        assert!(
            err.to_string()
                .contains("none, manual, scheduled, immediate, 0, 1, 2, 3")
        );
    }

    #[test]
    fn descriptions_are_unwrapped_paragraphs() {
        let schema = serde_json::to_value(campaign_schema()).unwrap();
        let name = &schema["properties"]["name"]["description"];
        assert!(
            name.as_str().unwrap().contains("files. Every number"),
            "{name}"
        );
        let text = schema.to_string();
        assert!(
            !text.contains("\\n"),
            "a description keeps a line break: {text}"
        );
    }

    #[test]
    fn schema_is_draft07_and_lists_enum_values() {
        let schema = serde_json::to_value(campaign_schema()).unwrap();
        assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
        let text = schema.to_string();
        assert!(text.contains("\"predictive\""));
    }
}
