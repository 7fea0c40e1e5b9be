//! The calling guards: which of a task's unsent numbers may go now, and why the others are held
//! (outside their calling window, over a frequency cap, outside the campaign's dates).

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashMap;
use time::OffsetDateTime;

use crate::model::{CallingRules, Cap};
use crate::nxcc::CallItem;
use crate::phone::{Facts, ZoneSet};
use crate::state::{CampaignState, phone_key};
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

/// What the guards are judged by, for one task.
pub(super) struct Guards<'a> {
    pub rules: &'a CallingRules,
    /// `None` when no window holds for the task (`window: any`, or a task that does not dial
    /// at once).
    pub window: Option<&'a Hours>,
    pub now: OffsetDateTime,
    pub history: &'a SendHistory,
}

/// What sorting a task's numbers found besides the numbers that may go.
#[derive(Debug, Default)]
pub(super) struct Sorted {
    /// Numbers left out because state holds them as sent in the campaign.
    pub already_sent: usize,
    /// For each number kept under a window, the last moment (Unix seconds) a request holding
    /// it may leave; empty when no window applies.
    pub send_by: Vec<i64>,
    /// How many numbers each hold keeps back.
    pub held: BTreeMap<Hold, usize>,
}

/// Keeps in `numbers` only those that may go now: not sent before in the campaign (`state`),
/// and let through by the `guards`. `facts` are the numbers' facts in the same order (a number
/// without facts has an unknown zone). Works in place: a task may hold a million numbers, and a
/// second list of them would double the plan's memory.
pub(super) fn sort(
    numbers: &mut Vec<CallItem>,
    facts: &[Facts],
    state: &CampaignState,
    guards: &Guards<'_>,
    planned: &mut Planned,
) -> Sorted {
    let mut sorted = Sorted::default();
    let dates = match (guards.rules.not_before, guards.rules.not_after) {
        (Some(from), _) if guards.now < from => Some(Hold::NotYet { from }),
        (_, Some(at)) if guards.now > at => Some(Hold::Ended { at }),
        _ => None,
    };
    let mut verdicts: FxHashMap<ZoneSet, Verdict> = FxHashMap::default();
    let sent = state.sent_flags(numbers);
    let mut index = 0;
    numbers.retain(|item| {
        let zones = facts.get(index).map_or(ZoneSet::UNKNOWN, |f| f.zones);
        let was_sent = sent[index];
        index += 1;
        if was_sent {
            sorted.already_sent += 1;
            return false;
        }
        let hold = match (&dates, guards.window) {
            (Some(hold), _) => Err(hold.clone()),
            (None, None) => Ok(None),
            (None, Some(hours)) => {
                let verdict = *verdicts
                    .entry(zones)
                    .or_insert_with(|| hours.verdict(zones.zones(), guards.now));
                match verdict {
                    Verdict::Open { send_by } => Ok(Some(send_by.unix_timestamp())),
                    Verdict::Waiting { opens } => Err(Hold::Window { opens }),
                    Verdict::UnknownZone => Err(Hold::UnknownZone),
                }
            }
        };
        let hold = hold.and_then(|send_by| {
            counted(item, guards, planned)?;
            Ok(send_by)
        });
        match hold {
            Ok(send_by) => {
                sorted.send_by.extend(send_by);
                true
            }
            Err(hold) => {
                *sorted.held.entry(hold).or_default() += 1;
                false
            }
        }
    });
    sorted
}

/// Counts a send of `item` in this plan, or the frequency cap it would break.
fn counted(item: &CallItem, guards: &Guards<'_>, planned: &mut Planned) -> Result<(), Hold> {
    if !planned.counting {
        return Ok(());
    }
    let phone = phone_key(&item.user_phone).unwrap_or_default();
    let already = planned.sends.get(&phone).copied().unwrap_or(0);
    if let Some(cap) = over_cap(&guards.rules.caps, guards.history, phone, already) {
        return Err(Hold::Frequency {
            calls: cap.calls,
            within: cap.within.clone(),
        });
    }
    *planned.sends.entry(phone).or_default() += 1;
    Ok(())
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
