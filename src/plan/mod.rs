//! Planning: the tasks the files describe, minus what state says was already sent, is what
//! would be sent. A pure function: no I/O, so every rule of product.md's plan table is a unit
//! test away.

mod guards;
pub mod saved;

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroUsize;

use serde_json::Value;

use time::OffsetDateTime;

use crate::expand::ExpandedCampaign;
use crate::model::{ApiEnum, CallingRules, StartupType};
use crate::nxcc::{CallItem, CreateAndCall};
use crate::phone::TypeCounts;
use crate::state::{Attempt, CampaignState, Snapshot, StateIdentity, settings_of};
pub use guards::{Hold, SendHistory};

/// What a plan does with one task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send a createandcall request (a first task or a follow-up holding only new numbers).
    Create,
    /// Everything in the task was already sent.
    NoOp,
    /// In state, no longer in the files: reported, nothing sent.
    Orphaned,
    /// Sent with an unknown outcome: its numbers are blocked until `state resolve`.
    InDoubt,
    /// Numbers of the task not sent now, for the reason in [`Change::hold`]; a later plan
    /// sends them as a follow-up once the reason is gone.
    Held,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Create => "create",
            Action::NoOp => "no-op",
            Action::Orphaned => "orphaned",
            Action::InDoubt => "in-doubt",
            Action::Held => "held",
        }
    }
}

/// A setting that differs from what the task was last sent with. A created task cannot be
/// edited through the API, so the change applies to follow-up tasks only.
#[derive(Debug, Clone, PartialEq)]
pub struct SettingChange {
    pub field: String,
    pub before: Value,
    pub after: Value,
}

/// One line of a plan.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub action: Action,
    pub campaign: String,
    /// The task name in the files: the task's identity.
    pub base_name: String,
    /// The name sent (or recorded): `base_name`, or `"{base_name} #N"` for a follow-up.
    pub task_name: String,
    /// Create: numbers to dial. No-op and orphaned: numbers already sent. In doubt: numbers
    /// blocked.
    pub number_count: usize,
    /// Create: whether this is a follow-up of a task sent before.
    pub follow_up: bool,
    /// Numbers of the task in the files that were already sent, and are left out.
    pub already_sent: usize,
    pub settings_changed: Vec<SettingChange>,
    /// In state: the attempt this change is about (in doubt, orphaned).
    pub attempt_id: Option<i64>,
    /// Create: the exact body to send.
    pub body: Option<CreateAndCall>,
    /// Create: which part of its task this request is, when the task's numbers did not fit in
    /// one request.
    pub part: Option<Part>,
    /// Held: why its numbers are not sent now.
    pub hold: Option<Hold>,
    /// Create: the last moment the request may leave (its numbers' calling window, the
    /// campaign's `notAfter`); checked again just before it is sent.
    pub send_by: Option<OffsetDateTime>,
}

/// One request of a task sent in several, because it holds more numbers than one request may
/// carry (`maxCallListSize`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    /// 1-based.
    pub index: usize,
    /// How many parts the task goes out in.
    pub count: usize,
    /// The most numbers a part holds: every part but the last holds exactly this many.
    pub max_size: NonZeroUsize,
}

/// The most numbers one createandcall request carries unless a campaign or the command line
/// says otherwise. The provider documents no limit; 10,000 is what its peers accept in one
/// batch, and keeps a request near 1 MB.
pub const DEFAULT_MAX_CALL_LIST_SIZE: NonZeroUsize = NonZeroUsize::new(10_000).unwrap();

/// Per campaign: what expansion dropped, for the reader of the plan.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignSummary {
    pub name: String,
    pub file: String,
    pub duplicates_dropped: usize,
    pub excluded: usize,
    /// The campaign's numbers (as the files describe them, before state) by type.
    pub number_types: TypeCounts,
    /// The most numbers a plan may dial for the campaign (`maxNumbers`).
    pub max_numbers: Option<NonZeroUsize>,
    /// Its calling rules, with the workspace file's.
    pub rules: CallingRules,
}

/// What a plan is made under besides state.
#[derive(Debug, Clone)]
pub struct Context {
    /// Overrides every campaign's `maxCallListSize`.
    pub max_call_list_size: Option<NonZeroUsize>,
    /// The rules' time: calling windows and campaign dates are judged at it.
    pub now: OffsetDateTime,
    /// Sends per number within each cap's period, for the frequency caps.
    pub history: SendHistory,
}

/// What would be sent, against which state.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub state: StateIdentity,
    pub campaigns: Vec<CampaignSummary>,
    pub changes: Vec<Change>,
}

/// A plan that would dial more than a cap allows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CapError {
    #[error(
        "refusing the plan: campaign {campaign} would dial {numbers} numbers, more than its \
         maxNumbers of {cap}; nothing was sent (check its sources, or raise maxNumbers)"
    )]
    Campaign {
        campaign: String,
        numbers: usize,
        cap: usize,
    },

    #[error(
        "refusing the plan: it would dial {numbers} numbers, more than --max-numbers {cap}; \
         nothing was sent"
    )]
    Apply { numbers: usize, cap: usize },
}

impl Plan {
    /// Refuses a plan over a campaign's `maxNumbers` or over `apply_cap` (every campaign
    /// together), naming the counts.
    pub fn within_caps(&self, apply_cap: Option<NonZeroUsize>) -> Result<(), CapError> {
        for campaign in &self.campaigns {
            let Some(cap) = campaign.max_numbers else {
                continue;
            };
            let numbers: usize = self
                .creates()
                .filter(|change| change.campaign == campaign.name)
                .map(|change| change.number_count)
                .sum();
            if numbers > cap.get() {
                return Err(CapError::Campaign {
                    campaign: campaign.name.clone(),
                    numbers,
                    cap: cap.get(),
                });
            }
        }
        match apply_cap {
            Some(cap) if self.numbers_to_dial() > cap.get() => Err(CapError::Apply {
                numbers: self.numbers_to_dial(),
                cap: cap.get(),
            }),
            _ => Ok(()),
        }
    }

    pub fn creates(&self) -> impl Iterator<Item = &Change> {
        self.changes.iter().filter(|c| c.action == Action::Create)
    }

    pub fn numbers_to_dial(&self) -> usize {
        self.creates().map(|c| c.number_count).sum()
    }

    /// Numbers the guards hold back from this plan (a later one may send them).
    pub fn numbers_held(&self) -> usize {
        self.changes
            .iter()
            .filter(|c| c.action == Action::Held)
            .map(|c| c.number_count)
            .sum()
    }

    /// Whether applying would send anything (`--detailed-exitcode` exits 2 then).
    pub fn has_changes(&self) -> bool {
        self.creates().next().is_some()
    }

    pub fn count(&self, action: Action) -> usize {
        self.changes.iter().filter(|c| c.action == action).count()
    }
}

/// Computes the plan for `campaigns` against `snapshot`, under `context`.
///
/// Takes the expansion by value: the numbers of a create move into its body instead of being
/// copied, which matters for campaigns of a million numbers.
pub fn plan(campaigns: Vec<ExpandedCampaign>, snapshot: &Snapshot, context: &Context) -> Plan {
    let empty = CampaignState::default();
    let mut plan = Plan {
        state: snapshot.identity.clone(),
        campaigns: Vec::with_capacity(campaigns.len()),
        changes: Vec::new(),
    };
    let mut planned = guards::Planned::new(campaigns.iter().any(|c| !c.rules.caps.is_empty()));
    for campaign in campaigns {
        let state = snapshot.campaigns.get(&campaign.name).unwrap_or(&empty);
        plan.campaigns.push(CampaignSummary {
            name: campaign.name.clone(),
            file: campaign.file.clone(),
            duplicates_dropped: campaign.duplicates_dropped,
            excluded: campaign.excluded,
            number_types: campaign.types,
            max_numbers: campaign.max_numbers,
            rules: campaign.rules.clone(),
        });
        let max_size = context
            .max_call_list_size
            .or(campaign.max_call_list_size)
            .unwrap_or(DEFAULT_MAX_CALL_LIST_SIZE);
        plan_campaign(
            campaign,
            state,
            max_size,
            context,
            &mut planned,
            &mut plan.changes,
        );
    }
    plan
}

/// Whether a task with this `startupType` dials as soon as it is created. Left out, the
/// provider's default decides, which it does not document: taken as immediate.
fn dials_at_once(startup_type: Option<u8>) -> bool {
    startup_type.is_none_or(|code| code == StartupType::Immediate.code())
}

fn plan_campaign(
    campaign: ExpandedCampaign,
    state: &CampaignState,
    max_size: NonZeroUsize,
    context: &Context,
    planned: &mut guards::Planned,
    out: &mut Vec<Change>,
) {
    let hours = campaign.rules.window.hours();
    let live: Vec<&Attempt> = state
        .attempts
        .iter()
        .filter(|a| a.status.is_live())
        .collect();
    // Names a new request may not take: every live attempt's, every name this plan gives, and
    // every task name in the files but the task's own.
    let mut names_sent: HashSet<String> = live.iter().map(|a| a.task_name.clone()).collect();
    let names_in_files: HashSet<String> = campaign
        .tasks
        .iter()
        .map(|t| t.body.task_name.clone())
        .collect();
    let mut bases_in_files = HashSet::new();

    for task in campaign.tasks {
        let mut body = task.body;
        let base_name = body.task_name.clone();
        bases_in_files.insert(base_name.clone());
        let sent_before: Vec<&Attempt> = live
            .iter()
            .copied()
            .filter(|a| a.base_name == base_name)
            .collect();
        let in_doubt: Vec<Change> = sent_before
            .iter()
            .filter(|a| a.status.is_in_doubt())
            .map(|a| attempt_change(Action::InDoubt, a))
            .collect();
        let any_in_doubt = !in_doubt.is_empty();
        out.extend(in_doubt);
        let settings_changed = sent_before
            .last()
            .map(|last| settings_changes(&last.settings, &settings_of(&body)))
            .unwrap_or_default();

        let window = hours
            .as_deref()
            .filter(|_| dials_at_once(body.startup_type));
        let mut sendable = std::mem::take(&mut body.call_list);
        let sorted = guards::sort(
            &mut sendable,
            &task.facts,
            state,
            &guards::Guards {
                rules: &campaign.rules,
                window,
                now: context.now,
                history: &context.history,
            },
            planned,
        );
        let already_sent = sorted.already_sent;
        let mut change = Change {
            action: Action::NoOp,
            campaign: campaign.name.clone(),
            task_name: base_name.clone(),
            base_name: base_name.clone(),
            number_count: already_sent,
            follow_up: false,
            already_sent,
            settings_changed,
            attempt_id: None,
            body: None,
            part: None,
            hold: None,
            send_by: None,
        };
        let held_any = !sorted.held.is_empty();
        for (hold, count) in sorted.held {
            out.push(Change {
                action: Action::Held,
                number_count: count,
                hold: Some(hold),
                ..change.clone()
            });
        }
        if sendable.is_empty() && (any_in_doubt || held_any) {
            // The in-doubt or held line already says what holds these numbers; "no-op" would
            // claim they were sent.
            continue;
        }
        if sendable.is_empty() {
            out.push(change);
            continue;
        }
        let count = part_count(sendable.len(), max_size);
        change.action = Action::Create;
        change.follow_up = !sent_before.is_empty();
        let group = group_name(&base_name, change.follow_up, count, |name| {
            names_sent.contains(name) || (name != base_name && names_in_files.contains(name))
        });
        let deadlines = part_deadlines(&sorted.send_by, count, max_size, campaign.rules.not_after);
        let parts = split_into_parts(sendable, max_size);
        for (index, (numbers, send_by)) in (1..=count).zip(parts.into_iter().zip(deadlines)) {
            let mut part = body.clone();
            part.task_name = part_name(&group, index, count);
            part.call_list = numbers;
            names_sent.insert(part.task_name.clone());
            out.push(Change {
                task_name: part.task_name.clone(),
                number_count: part.call_list.len(),
                body: Some(part),
                part: (count > 1).then_some(Part {
                    index,
                    count,
                    max_size,
                }),
                send_by,
                ..change.clone()
            });
        }
    }

    // What state holds and the files no longer describe, grouped by task.
    let mut orphans: BTreeMap<&str, Vec<&Attempt>> = BTreeMap::new();
    for attempt in live
        .iter()
        .filter(|a| !bases_in_files.contains(&a.base_name))
    {
        orphans.entry(&attempt.base_name).or_default().push(attempt);
    }
    for attempts in orphans.values() {
        out.extend(
            attempts
                .iter()
                .filter(|a| a.status.is_in_doubt())
                .map(|a| attempt_change(Action::InDoubt, a)),
        );
        let settled: Vec<&&Attempt> = attempts
            .iter()
            .filter(|a| !a.status.is_in_doubt() && !a.forgotten)
            .collect();
        if let Some(last) = settled.last() {
            let mut change = attempt_change(Action::Orphaned, last);
            change.task_name = last.base_name.clone();
            change.number_count = settled.iter().map(|a| count(a)).sum();
            out.push(change);
        }
    }
}

/// `numbers` cut into lists of at most `max_size`, in order. Cut from the end, the list giving
/// back each part's room as it goes (a large list shrinks in place), so a million numbers are
/// never held twice.
fn split_into_parts(mut numbers: Vec<CallItem>, max_size: NonZeroUsize) -> Vec<Vec<CallItem>> {
    let count = part_count(numbers.len(), max_size);
    let mut parts = Vec::with_capacity(count);
    for index in (0..count).rev() {
        parts.push(numbers.split_off(index * max_size.get()));
        numbers.shrink_to_fit();
    }
    parts.reverse();
    parts
}

/// The last moment each part of `count` may leave: the earliest of its numbers' windows (when
/// a window holds, `send_by` has a moment per number) and the campaign's `notAfter`.
fn part_deadlines(
    send_by: &[i64],
    count: usize,
    max_size: NonZeroUsize,
    not_after: Option<OffsetDateTime>,
) -> Vec<Option<OffsetDateTime>> {
    (0..count)
        .map(|index| {
            let chunk = send_by
                .get(index * max_size.get()..)
                .unwrap_or_default()
                .iter()
                .take(max_size.get());
            let window = chunk
                .min()
                .and_then(|by| OffsetDateTime::from_unix_timestamp(*by).ok());
            match (window, not_after) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        })
        .collect()
}

fn attempt_change(action: Action, attempt: &Attempt) -> Change {
    Change {
        action,
        campaign: attempt.campaign.clone(),
        base_name: attempt.base_name.clone(),
        task_name: attempt.task_name.clone(),
        number_count: count(attempt),
        follow_up: false,
        already_sent: 0,
        settings_changed: Vec::new(),
        attempt_id: Some(attempt.id),
        body: None,
        part: None,
        hold: None,
        send_by: None,
    }
}

fn count(attempt: &Attempt) -> usize {
    usize::try_from(attempt.number_count).unwrap_or(0)
}

/// How many requests `numbers` numbers take at `max_size` a request.
fn part_count(numbers: usize, max_size: NonZeroUsize) -> usize {
    numbers.div_ceil(max_size.get())
}

/// The name of part `index` of `count` of a task sent as `group`: the group name itself when
/// one request holds all its numbers.
fn part_name(group: &str, index: usize, count: usize) -> String {
    if count == 1 {
        group.to_owned()
    } else {
        format!("{group} (part {index}/{count})")
    }
}

/// The name a task's requests go out under: `base` when nothing of it was sent before,
/// `"{base} #2"`, `#3`, … for a follow-up; the first of those whose every part name is free.
/// Checking the very names to be sent, instead of reserving patterns, is what keeps parts,
/// follow-ups and task names in the files that look like either from ever sharing a name
/// (docs/decisions.md, "Parts").
fn group_name(base: &str, follow_up: bool, count: usize, taken: impl Fn(&str) -> bool) -> String {
    let free = |group: &String| (1..=count).all(|index| !taken(&part_name(group, index, count)));
    let first = if follow_up { 2 } else { 1 };
    (first..)
        .map(|n| match n {
            1 => base.to_owned(),
            n => format!("{base} #{n}"),
        })
        .find(free)
        // Unreachable: the candidates outnumber every name there is.
        .unwrap_or_else(|| base.to_owned())
}

/// Fields whose value differs between what was sent and what the files say now. The task name
/// is the task's identity, not a setting, and the numbers are planned separately.
fn settings_changes(before: &Value, after: &Value) -> Vec<SettingChange> {
    let (Some(before), Some(after)) = (before.as_object(), after.as_object()) else {
        return Vec::new();
    };
    let mut fields: Vec<&String> = before.keys().chain(after.keys()).collect();
    fields.sort();
    fields.dedup();
    fields
        .into_iter()
        .filter(|field| field.as_str() != "taskName")
        .filter_map(|field| {
            let old = before.get(field).cloned().unwrap_or(Value::Null);
            let new = after.get(field).cloned().unwrap_or(Value::Null);
            (old != new).then(|| SettingChange {
                field: field.clone(),
                before: old,
                after: new,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests;
