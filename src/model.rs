//! The campaign file: the types that parse it, and the single source of its JSON Schema.
//!
//! Doc comments here become the schema's descriptions, which editors show on hover; keep them
//! written for the person editing a campaign file.

use std::borrow::Cow;
use std::num::NonZeroUsize;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use crate::phone::{Check, NumberType};

mod calling;
pub use calling::{
    AnyTime, CallingHours, CallingRules, Cap, Day, FrequencyCap, Limits, Window, WindowRule,
};

/// The schema's `$id`: a name, not a location, so that no editor tries to download it and a
/// copy of the file keeps its identity. Bump the version when a valid file could stop being
/// valid.
pub const SCHEMA_ID: &str = "urn:campaignctl:campaign-file:1";

/// A campaign: one or more createandcall tasks and the numbers they dial.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "campaignctl campaign file")]
pub struct Campaign {
    /// The campaign id: lowercase letters, digits and dashes, unique across all campaign files.
    /// Every number is dialed at most once per campaign, so renaming a campaign starts it afresh.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9-]*$"), length(min = 1, max = 64))]
    #[schemars(example = &"spring-renewal")]
    #[schemars(extend("patternErrorMessage" = "A campaign name is lowercase letters, digits and \
        dashes, starting with a letter or digit, e.g. spring-renewal."))]
    pub name: String,

    /// What this campaign is for, for the people reading plans.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,

    /// Values for templates: each key is a name usable as `{{ key }}` in the task's strings,
    /// source paths and `other` templates.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = template_name()))]
    pub vars: IndexMap<String, serde_json::Value>,

    /// One task per combination of these values: each key is a template name, each value the
    /// list it ranges over. A key may not also be in `vars`.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    #[schemars(extend("propertyNames" = template_name()))]
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

    /// The most numbers one plan may dial for this campaign, a blast-radius cap: a plan over it
    /// (a swapped or doubled CSV) is refused with the counts before anything is sent.
    #[serde(
        default,
        rename = "maxNumbers",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1), example = 50000)]
    pub max_numbers: Option<NonZeroUsize>,

    /// When its numbers may ring, in each recipient's local time: `any`, or
    /// `{days: [mon, tue, wed, thu, fri], start: "09:00", end: "20:00"}`. Without it, tasks that
    /// dial at once ring numbers only from 08:00 to 21:00 their local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,

    /// How often a number may be called across every campaign of the state, e.g.
    /// `{perNumber: {calls: 3, within: 24h}}`; adds to the workspace file's limits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,

    /// The first moment the campaign may send (`2026-12-01`, taken as midnight UTC, or an
    /// RFC 3339 time); before it, plans send nothing and say why.
    #[serde(default, rename = "notBefore", skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"2026-12-01T09:00:00Z")]
    pub not_before: Option<String>,

    /// The last moment the campaign may send; after it, plans send nothing and say why, and a
    /// saved plan applied later sends nothing of it.
    #[serde(default, rename = "notAfter", skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"2026-12-24T18:00:00Z")]
    pub not_after: Option<String>,

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

/// The schema of a `vars` or `matrix` key: a name that templates can use as `{{ name }}`.
fn template_name() -> serde_json::Value {
    serde_json::json!({
        "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$",
        "patternErrorMessage": "A template name is letters, digits and _, not starting with a \
            digit, so that templates can use it as {{ name }}."
    })
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

    /// How calls are dispatched to agents: `none`, `ratio` or `predictive`, or the API's code
    /// 0, 1 or 2.
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

    /// The most numbers one createandcall request carries. A task with more numbers is sent as
    /// parts named `"{taskName} (part 2/7)"`, each its own request; 10,000 when left out.
    /// `--max-call-list-size` on `plan`, `apply` and `render` overrides it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1), example = 10000)]
    pub max_call_list_size: Option<NonZeroUsize>,
}

impl TaskSpec {
    /// The required keys of the task that are settings, not templates.
    pub const SETTINGS: [&'static str; 5] = [
        "strategyName",
        "dispatchType",
        "predictCallRate",
        "ratioCallRate",
        "startCount",
    ];

    /// The keys of the task whose strings are templates; the others are numbers and enums.
    pub const TEMPLATE_KEYS: [&'static str; 5] = [
        "taskName",
        "taskDesc",
        "country",
        "strategyName",
        "agentGroupNo",
    ];
}

/// The two lists of number sources, by the key that holds them in a campaign file.
pub const SOURCE_LISTS: [&str; 2] = ["numbers", "exclude"];

/// A source of phone numbers: exactly one of `phones`, `csv` or `file`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum NumberSource {
    Phones(PhonesSource),
    Csv(CsvSource),
    File(FileSource),
}

impl NumberSource {
    /// The keys of a source whose strings are templates (a path, and the pass-through value).
    pub const TEMPLATE_KEYS: [&'static str; 3] = ["csv", "file", "other"];

    /// The key that tells the forms apart, as written in the file.
    pub const DISCRIMINATORS: [&'static str; 3] = ["phones", "csv", "file"];

    /// The freshness a do-not-call source declares: its `asOf` and `maxAge`, as written.
    pub fn freshness(&self) -> (Option<&str>, Option<&str>) {
        match self {
            NumberSource::Phones(source) => source.freshness(),
            NumberSource::Csv(source) => source.freshness(),
            NumberSource::File(source) => source.freshness(),
        }
    }

    /// How strictly its numbers are checked.
    pub fn check(&self) -> Check {
        match self {
            NumberSource::Phones(source) => source.check(),
            NumberSource::Csv(source) => source.check(),
            NumberSource::File(source) => source.check(),
        }
    }
}

/// Declares a number source: its own fields, then the fields every source has (`check`,
/// `asOf`, `maxAge`), written once. Not a `#[serde(flatten)]` struct: serde does not combine
/// flattening with `deny_unknown_fields`, which every source needs for its located errors.
macro_rules! number_source {
    ($(#[$meta:meta])* pub struct $name:ident { $($fields:tt)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($fields)*

            /// How its numbers are checked: `full` (the default) dials only numbers in a
            /// range libphonenumber knows to be allocated; `possible-length` only checks the
            /// length, for a range so new that the phone-number metadata does not know it yet
            /// (the plan counts the numbers accepted that way). Ignored in `exclude`, which
            /// always takes every number of a possible length.
            #[serde(default, skip_serializing_if = "Check::is_full")]
            #[schemars(schema_with = "check_schema")]
            pub check: Check,

            /// For a do-not-call list in `exclude`: the day its data is from (`2026-11-20`, or
            /// an RFC 3339 time), which `maxAge` is measured from.
            #[serde(default, rename = "asOf", skip_serializing_if = "Option::is_none")]
            #[schemars(example = &"2026-11-20")]
            pub as_of: Option<String>,

            /// For a do-not-call list in `exclude`: how old its data may be (`31d`, `12h`); an
            /// older list refuses the campaign, since stale suppressions are no protection.
            #[serde(default, rename = "maxAge", skip_serializing_if = "Option::is_none")]
            #[schemars(example = &"31d")]
            pub max_age: Option<String>,
        }

        impl $name {
            /// How strictly its numbers are checked.
            pub fn check(&self) -> Check {
                self.check
            }

            /// The freshness it declares, as written: `asOf` and `maxAge`.
            pub fn freshness(&self) -> (Option<&str>, Option<&str>) {
                (self.as_of.as_deref(), self.max_age.as_deref())
            }
        }
    };
}

number_source! {
/// Numbers written in the campaign file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PhonesSource {
    /// Phone numbers in any common format: `+44 20 7946 0100`, `442079460101`, `(020) 7946 0018`.
    /// Numbers without a country code use the task's `country`.
    #[schemars(length(min = 1), example = ["+44 20 7946 0100", "020 7946 0101"])]
    pub phones: Vec<PhoneLiteral>,

    /// The pass-through value sent with each of these numbers (a template).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub other: Option<String>,
}
}

number_source! {
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
}
}

fn default_phone_column() -> String {
    "phone".to_owned()
}

number_source! {
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
}
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
            "examples": ["+44 7700 900100"]
        })
    }
}

/// A provider enum written either by name or by the API's integer.
pub trait ApiEnum: Sized + Copy + 'static {
    /// The names, indexed by the API's integer.
    const NAMES: &'static [&'static str];
    /// What each name means, indexed like [`Self::NAMES`]; editors show it beside each value
    /// they offer.
    const MEANINGS: &'static [&'static str];
    const SCHEMA_NAME: &'static str;

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
    const MEANINGS: &'static [&'static str] = &[
        "no dispatch mode",
        "ratio (proportional) outbound dialing",
        "predictive outbound dialing",
    ];
    const SCHEMA_NAME: &'static str = "DispatchType";

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
    const MEANINGS: &'static [&'static str] = &[
        "no start mode",
        "started by hand",
        "started at a scheduled time",
        "starts dialing as soon as it is created",
    ];
    const SCHEMA_NAME: &'static str = "StartupType";

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

/// The names and then the codes, each with its own description for editors to show beside it
/// (Markdown, and plain text for editors without Markdown). No `type`: the enum says it all, and
/// with a `type` as well, `validate` would report a value of the wrong type twice. The price: the
/// YAML language server leaves keys without a `type` out of the skeleton it inserts for a whole
/// `task:`, and flags them as missing until they are typed (where completion does help).
fn api_enum_schema<T: ApiEnum>() -> Schema {
    let names = T::NAMES.iter().map(|name| serde_json::Value::from(*name));
    let codes = (0..T::NAMES.len()).map(serde_json::Value::from);
    let values: Vec<serde_json::Value> = names.chain(codes).collect();
    let meanings = || T::NAMES.iter().zip(T::MEANINGS).enumerate();
    let by_name = meanings().map(|(code, (_, meaning))| format!("{meaning} (API code `{code}`)"));
    let by_code = meanings().map(|(_, (name, meaning))| format!("API code of `{name}`: {meaning}"));
    let markdown: Vec<String> = by_name.chain(by_code).collect();
    let plain: Vec<String> = markdown.iter().map(|text| text.replace('`', "")).collect();
    json_schema!({
        "enum": values,
        "markdownEnumDescriptions": markdown,
        "enumDescriptions": plain,
    })
}

/// `full` or `possible-length`, each with its own description (an `enum`, so that editors
/// insert `check: ` and offer the two values).
fn check_schema(_: &mut SchemaGenerator) -> Schema {
    let meanings = [
        (
            "full",
            "The number must be in a range libphonenumber knows to be allocated in its country.",
        ),
        (
            "possible-length",
            "Only its length must be possible for its country: for a range so new that the \
             phone-number metadata does not know it yet. The plan counts numbers accepted so.",
        ),
    ];
    described_words(&meanings)
}

/// A string that is one of `meanings`' words, each with its own description for editors to
/// show beside it.
fn described_words(meanings: &[(&str, &str)]) -> Schema {
    let descriptions: Vec<&str> = meanings.iter().map(|(_, meaning)| *meaning).collect();
    json_schema!({
        "type": "string",
        "enum": meanings.iter().map(|(name, _)| *name).collect::<Vec<_>>(),
        "markdownEnumDescriptions": descriptions,
        "enumDescriptions": descriptions,
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

/// The workspace file's name: at the root, it holds rules for every campaign under it.
pub const WORKSPACE_FILE: &str = "campaignctl.yaml";

/// The workspace file's `$id` (see [`SCHEMA_ID`]).
pub const WORKSPACE_SCHEMA_ID: &str = "urn:campaignctl:workspace-file:1";

/// The workspace file, `campaignctl.yaml` at the root: rules that hold for every campaign
/// under it, whatever the campaign files say.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "campaignctl workspace file")]
pub struct WorkspaceSettings {
    /// How often a number may be called across every campaign of the state, e.g.
    /// `{perNumber: {calls: 3, within: 24h}}`. A campaign's own `limits` hold as well.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limits: Option<Limits>,

    /// The most numbers one plan or apply may dial, every campaign together; `--max-numbers`
    /// on the command line overrides it.
    #[serde(
        default,
        rename = "maxNumbers",
        skip_serializing_if = "Option::is_none"
    )]
    #[schemars(range(min = 1), example = 100000)]
    pub max_numbers: Option<NonZeroUsize>,

    /// The calling window of every campaign that declares none (see a campaign's `window`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window: Option<Window>,
}

/// The draft-07 JSON Schema of campaign files, as `campaignctl schema` prints it.
pub fn campaign_schema() -> Schema {
    schema_of::<Campaign>(SCHEMA_ID)
}

/// The draft-07 JSON Schema of the workspace file, as `campaignctl schema --workspace` prints
/// it.
pub fn workspace_schema() -> Schema {
    schema_of::<WorkspaceSettings>(WORKSPACE_SCHEMA_ID)
}

fn schema_of<T: JsonSchema>(id: &str) -> Schema {
    let settings = schemars::generate::SchemaSettings::draft07()
        .with_transform(schemars::transform::RecursiveTransform(unwrap_description));
    let generated = settings.into_generator().into_root_schema_for::<T>();
    let serde_json::Value::Object(mut root) = generated.to_value() else {
        unreachable!("a struct's schema is an object")
    };
    inline_described_refs(&mut root);
    // `$id` right after `$schema`, where a reader of the file looks for what it is.
    let mut identified = serde_json::Map::new();
    identified.extend(root.remove_entry("$schema"));
    identified.insert("$id".to_owned(), id.into());
    identified.extend(root);
    Schema::from(identified)
}

/// Draft-07 ignores the siblings of a `$ref`, so schemars gives a field with a description of
/// its own `{"description": .., "allOf": [{"$ref": ..}]}`. Editors complete a key from its
/// property schema without following that `allOf`: the YAML language server finds no type there
/// and inserts a bare `task` or `dispatchType` without `: `. Copies each such definition into the
/// place that uses it, under the place's own description, and drops the definitions that are no
/// longer used.
fn inline_described_refs(root: &mut serde_json::Map<String, serde_json::Value>) {
    let Some(serde_json::Value::Object(definitions)) = root.get("definitions").cloned() else {
        return;
    };
    for value in root.values_mut() {
        inline_in(value, &definitions, &mut Vec::new());
    }
    loop {
        let text = serde_json::Value::Object(root.clone()).to_string();
        let Some(serde_json::Value::Object(definitions)) = root.get_mut("definitions") else {
            return;
        };
        let before = definitions.len();
        definitions.retain(|name, _| text.contains(&format!("\"#/definitions/{name}\"")));
        if definitions.len() == before {
            return;
        }
    }
}

/// [`inline_described_refs`] below `node`; `inlining` holds the definitions being copied, so a
/// definition that contains itself stays a `$ref`.
fn inline_in(
    node: &mut serde_json::Value,
    definitions: &serde_json::Map<String, serde_json::Value>,
    inlining: &mut Vec<String>,
) {
    match node {
        serde_json::Value::Object(object) => {
            let target = described_ref(object)
                .filter(|name| !inlining.contains(name))
                .and_then(|name| Some((definitions.get(&name)?.as_object()?, name)));
            let copied = target.is_some();
            if let Some((definition, name)) = target {
                object.remove("allOf");
                for (key, value) in definition {
                    object.entry(key).or_insert_with(|| value.clone());
                }
                inlining.push(name);
            }
            for child in object.values_mut() {
                inline_in(child, definitions, inlining);
            }
            if copied {
                inlining.pop();
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                inline_in(item, definitions, inlining);
            }
        }
        _ => {}
    }
}

/// The definition named by `{"allOf": [{"$ref": "#/definitions/NAME"}]}`, the only shape of
/// `allOf` schemars writes.
fn described_ref(object: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    let [only] = object.get("allOf")?.as_array()?.as_slice() else {
        return None;
    };
    let reference = only
        .as_object()
        .filter(|only| only.len() == 1)?
        .get("$ref")?;
    Some(
        reference
            .as_str()?
            .strip_prefix("#/definitions/")?
            .to_owned(),
    )
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
        assert_eq!(schema["$id"], SCHEMA_ID);
        let text = schema.to_string();
        assert!(text.contains("\"predictive\""));
    }

    /// Every mapping in the generated schema, however deep.
    fn mappings(node: &serde_json::Value) -> Vec<&serde_json::Map<String, serde_json::Value>> {
        let mut found = Vec::new();
        let mut pending = vec![node];
        while let Some(node) = pending.pop() {
            match node {
                serde_json::Value::Object(object) => {
                    found.push(object);
                    pending.extend(object.values());
                }
                serde_json::Value::Array(items) => pending.extend(items),
                _ => {}
            }
        }
        found
    }

    /// Editors pick what to insert after a completed key from the key's own schema (a
    /// `$ref` is followed): a `type`, an `enum`, an `anyOf`, `properties` or `items`. Anything
    /// else (an `allOf`, a `oneOf`) makes them insert the bare key, without `: `.
    #[test]
    fn every_key_says_what_it_holds() {
        let schema = serde_json::to_value(campaign_schema()).unwrap();
        let keys: Vec<(&String, &serde_json::Value)> = mappings(&schema)
            .into_iter()
            .filter_map(|mapping| mapping.get("properties")?.as_object())
            .flatten()
            .collect();
        assert!(keys.len() > 20, "{keys:?}");
        for (key, property) in keys {
            let target = match property["$ref"].as_str() {
                Some(reference) => schema.pointer(&reference[1..]).unwrap(),
                None => property,
            };
            let says = ["type", "enum", "anyOf", "properties", "items"]
                .iter()
                .any(|keyword| target.get(keyword).is_some());
            assert!(says, "`{key}` does not say what it holds: {property}");
        }
        // A key's own description, not its type's, is what a hover on the key explains.
        assert_eq!(
            schema["properties"]["task"]["description"],
            "The createandcall fields, with the provider's names. Strings may be templates."
        );
    }

    #[test]
    fn every_enum_value_has_its_own_description() {
        let schema = serde_json::to_value(campaign_schema()).unwrap();
        let enums: Vec<_> = mappings(&schema)
            .into_iter()
            .filter(|mapping| mapping.contains_key("enum"))
            .collect();
        assert!(enums.len() >= 2, "dispatchType and startupType at least");
        for mapping in enums {
            let values = mapping["enum"].as_array().unwrap();
            for keyword in ["markdownEnumDescriptions", "enumDescriptions"] {
                let descriptions: Vec<&str> = mapping
                    .get(keyword)
                    .and_then(serde_json::Value::as_array)
                    .unwrap_or_else(|| panic!("no {keyword} for {values:?}"))
                    .iter()
                    .filter_map(serde_json::Value::as_str)
                    .collect();
                let mut distinct = descriptions.clone();
                distinct.sort_unstable();
                distinct.dedup();
                assert_eq!(distinct.len(), values.len(), "{keyword}: {descriptions:?}");
                assert_eq!(
                    descriptions.len(),
                    values.len(),
                    "{keyword}: {descriptions:?}"
                );
            }
        }
    }
}
