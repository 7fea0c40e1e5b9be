//! The calling guards: which of a task's unsent numbers may go now, and why the others are held
//! (outside their calling window, over a frequency cap, outside the campaign's dates).

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;
use time::OffsetDateTime;

use crate::model::{CallingRules, Cap};
use crate::nxcc::CallItem;
use crate::phone::{Facts, ZoneSet};
use crate::state::phone_key;
use crate::window::{Hours, Verdict};

/// Why numbers are held back from this plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Hold {
    /// Before the campaign's `notBefore`.
    NotYet { from: OffsetDateTime },
    /// After the campaign's `notAfter`.
    Ended { at: OffsetDateTime },
    /// Outside their calling window now; it opens for all their zones at `opens` (`None`: not
    /// within a week).
    Window { opens: Option<OffsetDateTime> },
    /// The phone data knows no zone for them, and the window names no `unknownZone`.
    UnknownZone,
    /// Already called `calls` times within `within`, in any campaign.
    Frequency { calls: u32, within: String },
}

impl Hold {
    /// What the plan says of the held numbers.
    pub fn describe(&self) -> String {
        let at = |moment: &OffsetDateTime| crate::clock::format(*moment);
        match self {
            Hold::NotYet { from } => format!("the campaign may not send before {}", at(from)),
            Hold::Ended { at: end } => format!("the campaign may not send after {}", at(end)),
            Hold::Window { opens: Some(opens) } => {
                format!("outside their calling window; it opens at {}", at(opens))
            }
            Hold::Window { opens: None } => "outside their calling window; their time zones \
                share no open hour within a week"
                .to_owned(),
            Hold::UnknownZone => "their time zone is unknown (set window.unknownZone, or \
                window: any)"
                .to_owned(),
            Hold::Frequency { calls, within } => {
                format!("already called {calls} time(s) within {within} (limits.perNumber)")
            }
        }
    }

    /// A short word for the kind, for machine-readable views.
    pub fn kind(&self) -> &'static str {
        match self {
            Hold::NotYet { .. } => "not-before",
            Hold::Ended { .. } => "not-after",
            Hold::Window { .. } => "window",
            Hold::UnknownZone => "unknown-zone",
            Hold::Frequency { .. } => "frequency-cap",
        }
    }
}

/// How often each number was sent, in any campaign, within each cap's period: what state
/// says, before this plan.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SendHistory {
    /// By a cap's period in seconds: sends per E.164 number.
    pub by_period: HashMap<i64, HashMap<i64, u32>>,
}

impl SendHistory {
    fn count(&self, period: i64, phone: i64) -> u32 {
        self.by_period
            .get(&period)
            .and_then(|counts| counts.get(&phone))
            .copied()
            .unwrap_or(0)
    }
}

/// What a plan counts across its campaigns: the sends it plans itself.
#[derive(Debug, Default)]
pub(super) struct Planned {
    /// Whether any campaign has a cap: counting is only needed then.
    pub counting: bool,
    sends: FxHashMap<i64, u32>,
}

impl Planned {
    pub fn new(counting: bool) -> Planned {
        Planned {
            counting,
            sends: FxHashMap::default(),
        }
    }
}

/// A task's unsent numbers, sorted by the guards.
#[derive(Debug, Default)]
pub(super) struct Sorted {
    /// The numbers that may go now.
    pub sendable: Vec<CallItem>,
    /// For each of `sendable` under a window, the last moment (Unix seconds) a request holding
    /// it may leave; empty when no window applies.
    pub send_by: Vec<i64>,
    /// How many numbers each hold keeps back.
    pub held: BTreeMap<Hold, usize>,
}

/// Sorts `numbers` (with their `facts`, in the same order; a number without facts has an
/// unknown zone) by the campaign's `rules` at `now`. `window` is `None` when no window holds for
/// the task (`window: any`, or a task that does not dial at once).
pub(super) fn sort(
    numbers: Vec<CallItem>,
    facts: &[Facts],
    rules: &CallingRules,
    window: Option<&Hours>,
    now: OffsetDateTime,
    history: &SendHistory,
    planned: &mut Planned,
) -> Sorted {
    let mut sorted = Sorted::default();
    let dates = match (rules.not_before, rules.not_after) {
        (Some(from), _) if now < from => Some(Hold::NotYet { from }),
        (_, Some(at)) if now > at => Some(Hold::Ended { at }),
        _ => None,
    };
    if let Some(hold) = dates {
        if !numbers.is_empty() {
            sorted.held.insert(hold, numbers.len());
        }
        return sorted;
    }
    let mut verdicts: FxHashMap<ZoneSet, Verdict> = FxHashMap::default();
    sorted.sendable.reserve(numbers.len());
    for (index, item) in numbers.into_iter().enumerate() {
        let send_by = match window {
            None => None,
            Some(hours) => {
                let zones = facts.get(index).map_or(ZoneSet::UNKNOWN, |f| f.zones);
                let verdict = *verdicts
                    .entry(zones)
                    .or_insert_with(|| hours.verdict(zones.zones(), now));
                match verdict {
                    Verdict::Open { send_by } => Some(send_by.unix_timestamp()),
                    Verdict::Waiting { opens } => {
                        *sorted.held.entry(Hold::Window { opens }).or_default() += 1;
                        continue;
                    }
                    Verdict::UnknownZone => {
                        *sorted.held.entry(Hold::UnknownZone).or_default() += 1;
                        continue;
                    }
                }
            }
        };
        if planned.counting {
            let phone = phone_key(&item.user_phone).unwrap_or_default();
            let already = planned.sends.get(&phone).copied().unwrap_or(0);
            if let Some(cap) = over_cap(&rules.caps, history, phone, already) {
                let hold = Hold::Frequency {
                    calls: cap.calls,
                    within: cap.within.clone(),
                };
                *sorted.held.entry(hold).or_default() += 1;
                continue;
            }
            *planned.sends.entry(phone).or_default() += 1;
        }
        sorted.send_by.extend(send_by);
        sorted.sendable.push(item);
    }
    sorted
}

/// The first cap a send of `phone` would break, having been sent `planned` times in this plan.
fn over_cap<'a>(
    caps: &'a [Cap],
    history: &SendHistory,
    phone: i64,
    planned: u32,
) -> Option<&'a Cap> {
    caps.iter()
        .find(|cap| history.count(cap.within_seconds, phone) + planned >= cap.calls)
}
