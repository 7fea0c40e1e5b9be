//! `plan --json`: counts and changes, never a number.

use campaignctl::phone::TypeCounts;
use campaignctl::plan::{Action, Change, Plan};
use serde::Serialize;

/// The version of this document's shape; bumped when a field changes meaning or goes away.
const FORMAT_VERSION: u32 = 1;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPlan<'a> {
    format_version: u32,
    summary: JsonSummary,
    campaigns: Vec<JsonCampaign<'a>>,
    changes: Vec<JsonChange<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonSummary {
    create: usize,
    numbers: usize,
    no_op: usize,
    orphaned: usize,
    in_doubt: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonCampaign<'a> {
    name: &'a str,
    file: &'a str,
    duplicates_dropped: usize,
    excluded: usize,
    /// The campaign's numbers by type (`mobile`, `fixedLine`, …), types without numbers left out.
    number_types: &'a TypeCounts,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonChange<'a> {
    action: &'static str,
    campaign: &'a str,
    base_name: &'a str,
    task_name: &'a str,
    number_count: usize,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    follow_up: bool,
    #[serde(skip_serializing_if = "is_zero")]
    already_sent: usize,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    settings_changed: Vec<JsonSettingChange<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attempt_id: Option<i64>,
    /// A create that is one request of a task sent in several.
    #[serde(skip_serializing_if = "Option::is_none")]
    part: Option<JsonPart>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonPart {
    /// 1-based.
    index: usize,
    count: usize,
    /// `maxCallListSize`: every part but the last holds exactly this many numbers.
    max_size: usize,
}

#[derive(Serialize)]
struct JsonSettingChange<'a> {
    field: &'a str,
    before: &'a serde_json::Value,
    after: &'a serde_json::Value,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl<'a> JsonChange<'a> {
    fn of(change: &'a Change) -> Self {
        JsonChange {
            action: change.action.as_str(),
            campaign: &change.campaign,
            base_name: &change.base_name,
            task_name: &change.task_name,
            number_count: change.number_count,
            follow_up: change.follow_up,
            already_sent: change.already_sent,
            settings_changed: change
                .settings_changed
                .iter()
                .map(|setting| JsonSettingChange {
                    field: &setting.field,
                    before: &setting.before,
                    after: &setting.after,
                })
                .collect(),
            attempt_id: change.attempt_id,
            part: change.part.map(|part| JsonPart {
                index: part.index,
                count: part.count,
                max_size: part.max_size.get(),
            }),
        }
    }
}

/// The plan as `plan --json` prints it.
pub fn render(plan: &Plan) -> String {
    let document = JsonPlan {
        format_version: FORMAT_VERSION,
        summary: JsonSummary {
            create: plan.count(Action::Create),
            numbers: plan.numbers_to_dial(),
            no_op: plan.count(Action::NoOp),
            orphaned: plan.count(Action::Orphaned),
            in_doubt: plan.count(Action::InDoubt),
        },
        campaigns: plan
            .campaigns
            .iter()
            .map(|campaign| JsonCampaign {
                name: &campaign.name,
                file: &campaign.file,
                duplicates_dropped: campaign.duplicates_dropped,
                excluded: campaign.excluded,
                number_types: &campaign.number_types,
            })
            .collect(),
        changes: plan.changes.iter().map(JsonChange::of).collect(),
    };
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
