//! `plan --json`: counts and changes, never a number.

use campaignctl::clock;
use campaignctl::model::WindowRule;
use campaignctl::phone::TypeCounts;
use campaignctl::plan::{Action, CampaignSummary, Change, Hold, Plan};
use campaignctl::window::Hours;
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
    /// Numbers the calling rules hold back from this plan.
    held: usize,
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
    guards: JsonGuards,
}

/// The calling rules a campaign is planned under.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonGuards {
    /// `default` (08:00-21:00), `any`, or `hours` (the campaign's or workspace's own).
    window: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    hours: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    frequency_caps: Vec<JsonCap>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_before: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    not_after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    max_numbers: Option<usize>,
}

#[derive(Serialize)]
struct JsonCap {
    calls: u32,
    within: String,
}

/// Why numbers are held.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct JsonHold {
    /// `window`, `unknown-zone`, `frequency-cap`, `not-before` or `not-after`.
    kind: &'static str,
    reason: String,
    /// For `window`: when it opens for these numbers (absent: not within a week).
    #[serde(skip_serializing_if = "Option::is_none")]
    opens: Option<String>,
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
    /// A held change: why its numbers are not sent now.
    #[serde(skip_serializing_if = "Option::is_none")]
    hold: Option<JsonHold>,
    /// A create: the last moment it may leave, checked again when it is sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    send_by: Option<String>,
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
            hold: change.hold.as_ref().map(|hold| JsonHold {
                kind: hold.kind(),
                reason: crate::cli::views::human::plan::hold_reason(hold),
                opens: match hold {
                    Hold::Window { opens } => opens.map(clock::format),
                    _ => None,
                },
            }),
            send_by: change.send_by.map(clock::format),
        }
    }
}

fn guards(campaign: &CampaignSummary) -> JsonGuards {
    let rules = &campaign.rules;
    let (window, hours) = match &rules.window {
        WindowRule::Default => ("default", Some(Hours::default_window().describe())),
        WindowRule::Any => ("any", None),
        WindowRule::Hours(hours) => ("hours", Some(hours.describe())),
    };
    JsonGuards {
        window,
        hours,
        frequency_caps: rules
            .caps
            .iter()
            .map(|cap| JsonCap {
                calls: cap.calls,
                within: cap.within.clone(),
            })
            .collect(),
        not_before: rules.not_before.map(clock::format),
        not_after: rules.not_after.map(clock::format),
        max_numbers: campaign.max_numbers.map(|cap| cap.get()),
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
            held: plan.numbers_held(),
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
                guards: guards(campaign),
            })
            .collect(),
        changes: plan.changes.iter().map(JsonChange::of).collect(),
    };
    serde_json::to_string_pretty(&document).unwrap_or_default()
}
