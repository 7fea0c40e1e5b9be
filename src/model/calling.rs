//! The calling rules a campaign (or the workspace file) declares: when its numbers may ring, in
//! each recipient's own time, and how often a number may ring across campaigns.

use std::num::NonZeroU32;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// When numbers may be called, in each recipient's local time: `any`, or hours on days. Tasks
/// that dial as soon as they are created (`startupType: immediate`, or left out) send a number
/// only while its own local time is inside the window; the others are held, shown in the plan
/// as waiting, and sent by a later `apply`. Without it: 08:00 to 21:00 every day.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Window {
    /// `any`: no calling window (the plan says so).
    Any(AnyTime),
    Hours(CallingHours),
}

/// The word `any`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(schema_with = "any_schema")]
pub enum AnyTime {
    Any,
}

fn any_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::described_words(&[(
        "any",
        "No calling window: numbers may ring at any hour of any day, their local time unchecked.",
    )])
}

/// Hours on days, in each recipient's local time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CallingHours {
    /// The days calls may be made, e.g. `[mon, tue, wed, thu, fri]`; every day when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1), extend("uniqueItems" = true))]
    #[schemars(example = ["mon", "tue", "wed", "thu", "fri"])]
    pub days: Option<Vec<Day>>,

    /// The local time calls may start, `HH:MM` (24-hour clock).
    #[schemars(regex(pattern = r"^([01][0-9]|2[0-3]):[0-5][0-9]$"), example = &"09:00")]
    #[schemars(extend("patternErrorMessage" = "A time of day is HH:MM on the 24-hour clock, \
        e.g. 09:00."))]
    pub start: String,

    /// The local time calls must end by, `HH:MM` (24-hour clock; `24:00` is midnight).
    #[schemars(regex(pattern = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"), example = &"20:00")]
    #[schemars(extend("patternErrorMessage" = "A time of day is HH:MM on the 24-hour clock, \
        e.g. 20:00 (24:00 is midnight)."))]
    pub end: String,

    /// How much of the window must be left for a number to be sent (`1h`, `30m`): a task
    /// dials its list over time, so a number sent a minute before `end` would ring after it.
    /// One hour when left out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"1h")]
    pub min_remaining: Option<String>,

    /// The IANA time zone (e.g. `America/Chicago`) of numbers whose own zone the phone-number
    /// data does not know. Without it, such numbers are held back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"America/Chicago")]
    pub unknown_zone: Option<String>,
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(schema_with = "day_schema")]
pub enum Day {
    Mon,
    Tue,
    Wed,
    Thu,
    Fri,
    Sat,
    Sun,
}

fn day_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    super::described_words(&[
        ("mon", "Monday"),
        ("tue", "Tuesday"),
        ("wed", "Wednesday"),
        ("thu", "Thursday"),
        ("fri", "Friday"),
        ("sat", "Saturday"),
        ("sun", "Sunday"),
    ])
}

impl Day {
    pub const ALL: [Day; 7] = [
        Day::Mon,
        Day::Tue,
        Day::Wed,
        Day::Thu,
        Day::Fri,
        Day::Sat,
        Day::Sun,
    ];

    /// Monday is 0.
    pub fn index(self) -> u8 {
        self as u8
    }
}

/// Caps on how often one number may be called, counted over every campaign of the state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Limits {
    /// At most `calls` tasks may hold one number within any `within`, in all campaigns
    /// together, e.g. `{calls: 3, within: 24h}`. A number over it is held back and counted in
    /// the plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub per_number: Option<FrequencyCap>,
}

/// At most `calls` calls within `within`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FrequencyCap {
    /// How many tasks may hold the number in the period.
    #[schemars(range(min = 1), example = 3)]
    pub calls: NonZeroU32,

    /// The period: `24h`, `7d`.
    #[schemars(example = &"24h")]
    pub within: String,
}

impl CallingHours {
    /// The hours to evaluate, or why they cannot be.
    pub fn resolve(&self) -> Result<crate::window::Hours, crate::window::WindowError> {
        let days: Vec<u8> = self.days.iter().flatten().map(|day| day.index()).collect();
        crate::window::Hours::parse(
            &days,
            &self.start,
            &self.end,
            self.min_remaining.as_deref(),
            self.unknown_zone.as_deref(),
        )
    }
}

impl FrequencyCap {
    /// The period in seconds, or `None` when `within` is no duration.
    pub fn within_seconds(&self) -> Option<i64> {
        crate::clock::parse_duration(&self.within).map(|d| d.whole_seconds())
    }
}

/// A campaign's calling rules, resolved from its file and the workspace file: what planning
/// checks and sending checks again.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CallingRules {
    pub window: WindowRule,
    pub caps: Vec<Cap>,
    pub not_before: Option<time::OffsetDateTime>,
    pub not_after: Option<time::OffsetDateTime>,
}

/// The window a campaign's tasks that dial at once are held to.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum WindowRule {
    /// Declared nowhere: 08:00 to 21:00.
    #[default]
    Default,
    /// `window: any`.
    Any,
    Hours(crate::window::Hours),
}

impl WindowRule {
    /// The hours to hold numbers to, `None` for `any`.
    pub fn hours(&self) -> Option<std::borrow::Cow<'_, crate::window::Hours>> {
        match self {
            WindowRule::Default => Some(std::borrow::Cow::Owned(
                crate::window::Hours::default_window(),
            )),
            WindowRule::Any => None,
            WindowRule::Hours(hours) => Some(std::borrow::Cow::Borrowed(hours)),
        }
    }

    fn of(window: Option<&Window>) -> WindowRule {
        match window {
            None => WindowRule::Default,
            Some(Window::Any(_)) => WindowRule::Any,
            // Checked by `validate`; hours it refused never get here.
            Some(Window::Hours(hours)) => hours
                .resolve()
                .map_or(WindowRule::Default, WindowRule::Hours),
        }
    }
}

/// At most `calls` sends of a number within `within_seconds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cap {
    pub calls: u32,
    pub within_seconds: i64,
    /// As written (`24h`), for the plan.
    pub within: String,
}

impl Limits {
    fn caps(&self) -> impl Iterator<Item = Cap> + '_ {
        self.per_number.iter().filter_map(|cap| {
            Some(Cap {
                calls: cap.calls.get(),
                within_seconds: cap.within_seconds()?,
                within: cap.within.clone(),
            })
        })
    }
}

impl super::Campaign {
    /// The rules this campaign's file declares.
    pub fn calling_rules(&self) -> CallingRules {
        let moment =
            |text: &Option<String>| text.as_deref().and_then(crate::clock::parse_day_or_time);
        CallingRules {
            window: WindowRule::of(self.window.as_ref()),
            caps: self.limits.iter().flat_map(Limits::caps).collect(),
            not_before: moment(&self.not_before),
            not_after: moment(&self.not_after),
        }
    }
}

impl super::WorkspaceSettings {
    /// Adds the workspace's rules to a campaign's: its window where the campaign declares none,
    /// its caps beside the campaign's own.
    pub fn add_to(&self, rules: &mut CallingRules) {
        if rules.window == WindowRule::Default {
            rules.window = WindowRule::of(self.window.as_ref());
        }
        rules.caps.extend(self.limits.iter().flat_map(Limits::caps));
    }
}
