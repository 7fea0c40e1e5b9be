//! Every row of product.md's plan table, and the invariant that nothing sent is planned again.

use std::collections::HashMap;

use proptest::prelude::*;

use super::*;
use crate::expand::{DesiredTask, ExpandedCampaign};
use crate::model::WindowRule;
use crate::state::{CampaignState, Snapshot, Status, phone_key};

fn body(name: &str, numbers: &[u32]) -> CreateAndCall {
    CreateAndCall::sample(name, numbers)
}

fn campaign(tasks: Vec<CreateAndCall>) -> ExpandedCampaign {
    ExpandedCampaign {
        name: "c".into(),
        file: "c.campaign.yaml".into(),
        tasks: tasks
            .into_iter()
            .map(|body| DesiredTask {
                body,
                facts: Vec::new(),
            })
            .collect(),
        duplicates_dropped: 0,
        excluded: 0,
        types: Default::default(),
        inputs: Vec::new(),
        max_call_list_size: None,
        max_numbers: None,
        // These tests are about state and parts; the guards have their own below.
        rules: CallingRules {
            window: WindowRule::Any,
            ..CallingRules::default()
        },
    }
}

/// The plan with the campaigns' own (here: the default) request size.
fn plan(campaigns: Vec<ExpandedCampaign>, snapshot: &Snapshot) -> Plan {
    super::plan(campaigns, snapshot, &sized(None))
}

/// The context of a plan at a fixed time, with `max_call_list_size` and no send history.
fn sized(max_call_list_size: Option<NonZeroUsize>) -> Context {
    Context {
        max_call_list_size,
        now: crate::clock::parse("2026-11-18T10:00:00Z").unwrap(),
        history: SendHistory::default(),
    }
}

fn limit(n: usize) -> Option<NonZeroUsize> {
    NonZeroUsize::new(n)
}

fn ids(change: &Change) -> Vec<&str> {
    change
        .body
        .as_ref()
        .unwrap()
        .call_list
        .iter()
        .map(|i| i.order_id.as_str())
        .collect()
}

/// State in which every create of `plan` was sent with `status`.
fn sent_as(plan: &Plan, status: Status) -> Vec<(Attempt, CreateAndCall)> {
    plan.creates()
        .enumerate()
        .map(|(i, change)| {
            let body = change.body.clone().unwrap();
            let attempt = attempt(
                i as i64 + 1,
                &change.base_name,
                &body.task_name,
                status,
                &body,
            );
            (attempt, body)
        })
        .collect()
}

fn snapshot_of(sent: &[(Attempt, CreateAndCall)]) -> Snapshot {
    snapshot(sent.iter().map(|(a, b)| (a.clone(), b)).collect())
}

fn attempt(id: i64, base: &str, name: &str, status: Status, body: &CreateAndCall) -> Attempt {
    Attempt {
        id,
        campaign: "c".into(),
        base_name: base.into(),
        task_name: name.into(),
        settings: settings_of(body),
        status,
        number_count: body.call_list.len() as i64,
        req_id: None,
        code: None,
        message: None,
        forgotten: false,
        created_at: String::new(),
        updated_at: String::new(),
    }
}

fn snapshot(attempts: Vec<(Attempt, &CreateAndCall)>) -> Snapshot {
    let mut state = CampaignState::default();
    for (attempt, body) in attempts {
        if attempt.status.is_live() {
            state.sent_numbers.extend(
                body.call_list
                    .iter()
                    .filter_map(|i| phone_key(&i.user_phone)),
            );
        }
        state.attempts.push(attempt);
    }
    Snapshot {
        identity: StateIdentity::default(),
        campaigns: HashMap::from([("c".to_owned(), state)]),
    }
}

fn actions(plan: &Plan) -> Vec<(Action, String, usize)> {
    plan.changes
        .iter()
        .map(|c| (c.action, c.task_name.clone(), c.number_count))
        .collect()
}

#[test]
fn a_task_not_in_state_is_created_with_all_its_numbers() {
    let plan = plan(
        vec![campaign(vec![body("t", &[1, 2])])],
        &Snapshot::default(),
    );
    assert_eq!(actions(&plan), [(Action::Create, "t".into(), 2)]);
    assert!(plan.has_changes());
}

#[test]
fn a_task_sent_with_nothing_new_is_a_no_op() {
    let sent = body("t", &[1, 2]);
    let state = snapshot(vec![(attempt(1, "t", "t", Status::Created, &sent), &sent)]);
    let plan = plan(vec![campaign(vec![body("t", &[2, 1])])], &state);
    assert_eq!(actions(&plan), [(Action::NoOp, "t".into(), 2)]);
    assert!(!plan.has_changes());
}

#[test]
fn new_numbers_become_a_follow_up_holding_only_them() {
    let sent = body("t", &[1, 2]);
    let second = body("t #2", &[3]);
    let state = snapshot(vec![
        (attempt(1, "t", "t", Status::Created, &sent), &sent),
        (attempt(2, "t", "t #2", Status::Created, &second), &second),
    ]);
    let plan = plan(vec![campaign(vec![body("t", &[1, 2, 3, 4, 5])])], &state);
    assert_eq!(actions(&plan), [(Action::Create, "t #3".into(), 2)]);
    let change = &plan.changes[0];
    assert!(change.follow_up);
    assert_eq!(change.already_sent, 3);
    let sent_ids: Vec<_> = change
        .body
        .as_ref()
        .unwrap()
        .call_list
        .iter()
        .map(|i| &i.order_id)
        .collect();
    assert_eq!(sent_ids, ["ID4", "ID5"]);
}

#[test]
fn changed_settings_are_shown_and_ride_on_the_follow_up() {
    let sent = body("t", &[1]);
    let state = snapshot(vec![(attempt(1, "t", "t", Status::Created, &sent), &sent)]);
    let mut changed = body("t", &[1, 2]);
    changed.predict_call_rate = 1.5;
    let plan = plan(vec![campaign(vec![changed])], &state);
    let change = &plan.changes[0];
    assert_eq!(change.action, Action::Create);
    assert_eq!(change.settings_changed.len(), 1);
    assert_eq!(change.settings_changed[0].field, "predictCallRate");
    assert_eq!(change.body.as_ref().unwrap().predict_call_rate, 1.5);
}

#[test]
fn a_task_removed_from_the_files_is_orphaned() {
    let sent = body("old", &[1]);
    let state = snapshot(vec![(
        attempt(1, "old", "old", Status::Created, &sent),
        &sent,
    )]);
    let plan = plan(vec![campaign(vec![body("new", &[2])])], &state);
    assert_eq!(
        actions(&plan),
        [
            (Action::Create, "new".into(), 1),
            (Action::Orphaned, "old".into(), 1)
        ]
    );
}

#[test]
fn a_forgotten_orphan_is_hidden_but_its_numbers_stay_sent() {
    let sent = body("old", &[1]);
    let mut forgotten = attempt(1, "old", "old", Status::Created, &sent);
    forgotten.forgotten = true;
    let state = snapshot(vec![(forgotten, &sent)]);
    let plan = plan(vec![campaign(vec![body("new", &[1, 2])])], &state);
    assert_eq!(actions(&plan), [(Action::Create, "new".into(), 1)]);
}

#[test]
fn in_doubt_blocks_its_numbers() {
    let sent = body("t", &[1, 2]);
    let state = snapshot(vec![(attempt(1, "t", "t", Status::InDoubt, &sent), &sent)]);
    let plan = plan(vec![campaign(vec![body("t", &[1, 2])])], &state);
    assert_eq!(actions(&plan), [(Action::InDoubt, "t".into(), 2)]);
    assert!(!plan.has_changes());
}

#[test]
fn a_rejected_task_is_planned_again_under_its_own_name() {
    let sent = body("t", &[1, 2]);
    let state = snapshot(vec![(attempt(1, "t", "t", Status::Rejected, &sent), &sent)]);
    let plan = plan(vec![campaign(vec![body("t", &[1, 2])])], &state);
    assert_eq!(actions(&plan), [(Action::Create, "t".into(), 2)]);
    assert!(!plan.changes[0].follow_up);
}

#[test]
fn a_number_moved_to_another_task_is_not_sent_again() {
    let sent = body("a", &[1, 2]);
    let state = snapshot(vec![(attempt(1, "a", "a", Status::Created, &sent), &sent)]);
    let plan = plan(
        vec![campaign(vec![body("a", &[1]), body("b", &[2, 3])])],
        &state,
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::NoOp, "a".into(), 1),
            (Action::Create, "b".into(), 1)
        ]
    );
}

#[test]
fn a_task_larger_than_the_limit_goes_out_in_parts_in_source_order() {
    let plan = super::plan(
        vec![campaign(vec![body("t", &[5, 1, 4, 2, 3])])],
        &Snapshot::default(),
        &sized(limit(2)),
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::Create, "t (part 1/3)".into(), 2),
            (Action::Create, "t (part 2/3)".into(), 2),
            (Action::Create, "t (part 3/3)".into(), 1),
        ]
    );
    let parts: Vec<Vec<&str>> = plan.creates().map(ids).collect();
    assert_eq!(parts, [vec!["ID5", "ID1"], vec!["ID4", "ID2"], vec!["ID3"]]);
    let part = plan.changes[1].part.unwrap();
    assert_eq!((part.index, part.count, part.max_size.get()), (2, 3, 2));
    assert!(
        plan.changes
            .iter()
            .all(|c| c.base_name == "t" && !c.follow_up)
    );
    assert_eq!(plan.numbers_to_dial(), 5);
}

#[test]
fn a_task_that_fits_keeps_its_name_and_is_no_part() {
    let plan = super::plan(
        vec![campaign(vec![body("t", &[1, 2])])],
        &Snapshot::default(),
        &sized(limit(2)),
    );
    assert_eq!(actions(&plan), [(Action::Create, "t".into(), 2)]);
    assert_eq!(plan.changes[0].part, None);
}

#[test]
fn the_campaigns_limit_applies_unless_the_command_line_overrides_it() {
    let mut own = campaign(vec![body("t", &[1, 2, 3])]);
    own.max_call_list_size = limit(1);
    let parts = super::plan(vec![own.clone()], &Snapshot::default(), &sized(None));
    assert_eq!(parts.count(Action::Create), 3);
    let overridden = super::plan(vec![own], &Snapshot::default(), &sized(limit(2)));
    assert_eq!(overridden.count(Action::Create), 2);
}

#[test]
fn the_default_limit_is_ten_thousand_numbers() {
    let numbers: Vec<u32> = (0..10_001).collect();
    let plan = plan(
        vec![campaign(vec![body("t", &numbers)])],
        &Snapshot::default(),
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::Create, "t (part 1/2)".into(), 10_000),
            (Action::Create, "t (part 2/2)".into(), 1),
        ]
    );
}

#[test]
fn the_same_inputs_make_the_same_parts() {
    let make = || {
        super::plan(
            vec![campaign(vec![body("t", &[3, 1, 2, 9, 7])])],
            &Snapshot::default(),
            &sized(limit(2)),
        )
    };
    assert_eq!(make(), make());
}

#[test]
fn a_re_plan_after_parts_is_a_no_op() {
    let desired = || vec![campaign(vec![body("t", &[1, 2, 3, 4, 5])])];
    let first = super::plan(desired(), &Snapshot::default(), &sized(limit(2)));
    let sent = sent_as(&first, Status::Created);
    let again = super::plan(desired(), &snapshot_of(&sent), &sized(limit(2)));
    assert_eq!(actions(&again), [(Action::NoOp, "t".into(), 5)]);
    assert!(!again.has_changes());
}

#[test]
fn a_follow_up_after_parts_holds_only_new_numbers_and_is_parted_too() {
    let first = super::plan(
        vec![campaign(vec![body("t", &[1, 2, 3, 4])])],
        &Snapshot::default(),
        &sized(limit(2)),
    );
    let sent = sent_as(&first, Status::Created);
    let plan = super::plan(
        vec![campaign(vec![body("t", &[1, 2, 3, 4, 5, 6, 7])])],
        &snapshot_of(&sent),
        &sized(limit(2)),
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::Create, "t #2 (part 1/2)".into(), 2),
            (Action::Create, "t #2 (part 2/2)".into(), 1),
        ]
    );
    assert!(
        plan.changes
            .iter()
            .all(|c| c.follow_up && c.already_sent == 4)
    );
    let parts: Vec<Vec<&str>> = plan.creates().map(ids).collect();
    assert_eq!(parts, [vec!["ID5", "ID6"], vec!["ID7"]]);
}

#[test]
fn a_rejected_part_frees_only_its_own_numbers() {
    let desired = || vec![campaign(vec![body("t", &[1, 2, 3, 4, 5])])];
    let first = super::plan(desired(), &Snapshot::default(), &sized(limit(2)));
    let mut sent = sent_as(&first, Status::Created);
    sent[1].0.status = Status::Rejected;
    let plan = super::plan(desired(), &snapshot_of(&sent), &sized(limit(2)));
    assert_eq!(actions(&plan), [(Action::Create, "t #2".into(), 2)]);
    assert_eq!(ids(&plan.changes[0]), ["ID3", "ID4"]);
    assert!(plan.changes[0].follow_up);
}

#[test]
fn parts_never_sent_are_planned_again_as_a_follow_up() {
    let desired = || vec![campaign(vec![body("t", &[1, 2, 3, 4, 5])])];
    let first = super::plan(desired(), &Snapshot::default(), &sized(limit(2)));
    let mut sent = sent_as(&first, Status::Created);
    // A crash after the first part: the others were never recorded.
    sent.truncate(1);
    let plan = super::plan(desired(), &snapshot_of(&sent), &sized(limit(2)));
    assert_eq!(
        actions(&plan),
        [
            (Action::Create, "t #2 (part 1/2)".into(), 2),
            (Action::Create, "t #2 (part 2/2)".into(), 1),
        ]
    );
    let parts: Vec<Vec<&str>> = plan.creates().map(ids).collect();
    assert_eq!(parts, [vec!["ID3", "ID4"], vec!["ID5"]]);
}

#[test]
fn a_part_in_doubt_holds_only_its_own_numbers() {
    let desired = || vec![campaign(vec![body("t", &[1, 2, 3, 4, 5])])];
    let first = super::plan(desired(), &Snapshot::default(), &sized(limit(2)));
    let mut sent = sent_as(&first, Status::Created);
    sent[2].0.status = Status::InDoubt;
    let plan = super::plan(desired(), &snapshot_of(&sent), &sized(limit(2)));
    assert_eq!(
        actions(&plan),
        [(Action::InDoubt, "t (part 3/3)".into(), 1),]
    );
}

#[test]
fn a_task_named_like_a_part_or_follow_up_never_shares_a_name() {
    let plan = super::plan(
        vec![campaign(vec![
            body("t", &[1, 2, 3]),
            body("t (part 1/2)", &[4]),
            body("t #2 (part 2/2)", &[5]),
        ])],
        &Snapshot::default(),
        &sized(limit(2)),
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::Create, "t #3 (part 1/2)".into(), 2),
            (Action::Create, "t #3 (part 2/2)".into(), 1),
            (Action::Create, "t (part 1/2)".into(), 1),
            (Action::Create, "t #2 (part 2/2)".into(), 1),
        ]
    );
}

#[test]
fn a_task_named_like_a_sent_part_is_sent_under_a_name_of_its_own() {
    let first = super::plan(
        vec![campaign(vec![body("t", &[1, 2, 3])])],
        &Snapshot::default(),
        &sized(limit(2)),
    );
    let sent = sent_as(&first, Status::Created);
    let plan = super::plan(
        vec![campaign(vec![
            body("t", &[1, 2, 3]),
            body("t (part 1/2)", &[4]),
        ])],
        &snapshot_of(&sent),
        &sized(limit(2)),
    );
    assert_eq!(
        actions(&plan),
        [
            (Action::NoOp, "t".into(), 3),
            (Action::Create, "t (part 1/2) #2".into(), 1),
        ]
    );
    assert!(!plan.changes[1].follow_up);
}

proptest! {
    /// Whatever was sent before, a plan never includes a number that state holds as sent, and
    /// never gives two creates the same name or a name state already holds.
    #[test]
    fn nothing_sent_is_planned_again(
        sent in proptest::collection::vec((0u32..4, proptest::collection::vec(0u32..40, 1..8), 0usize..4), 0..6),
        desired in proptest::collection::vec(proptest::collection::vec(0u32..40, 1..12), 1..4),
        max_size in 1usize..6,
    ) {
        let statuses = [Status::Created, Status::Rejected, Status::InDoubt, Status::Sending];
        let bodies: Vec<(CreateAndCall, Status, String)> = sent
            .iter()
            .enumerate()
            .map(|(i, (task, numbers, status))| {
                let base = format!("t{task}");
                let name = format!("{base} #{}", i + 2);
                (body(&name, numbers), statuses[*status], base)
            })
            .collect();
        let attempts = bodies
            .iter()
            .enumerate()
            .map(|(i, (b, status, base))| (attempt(i as i64, base, &b.task_name, *status, b), b))
            .collect();
        let state = snapshot(attempts);
        let tasks = desired
            .iter()
            .enumerate()
            .map(|(i, numbers)| {
                let mut numbers = numbers.clone();
                numbers.sort_unstable();
                numbers.dedup();
                body(&format!("t{i}"), &numbers)
            })
            .collect();
        let plan = super::plan(vec![campaign(tasks)], &state, &sized(limit(max_size)));
        let sent = &state.campaigns["c"];
        let live_names: Vec<&str> = state.campaigns["c"]
            .attempts
            .iter()
            .filter(|a| a.status.is_live())
            .map(|a| a.task_name.as_str())
            .collect();
        let mut names = HashSet::new();
        for change in plan.creates() {
            let body = change.body.as_ref().unwrap();
            prop_assert!(body.call_list.iter().all(|i| !sent.is_sent(i)));
            prop_assert!(!body.call_list.is_empty());
            prop_assert!(body.call_list.len() <= max_size);
            prop_assert!(names.insert(body.task_name.clone()));
            prop_assert!(!live_names.contains(&body.task_name.as_str()));
        }
    }
}

#[test]
fn a_plan_over_a_cap_is_refused_with_the_counts() {
    let mut capped = campaign(vec![CreateAndCall::sample("t", &[1, 2, 3])]);
    capped.max_numbers = NonZeroUsize::new(2);
    let over = plan(vec![capped.clone()], &Snapshot::default());
    assert_eq!(
        over.within_caps(None),
        Err(CapError::Campaign {
            campaign: "c".into(),
            numbers: 3,
            cap: 2
        })
    );
    capped.max_numbers = NonZeroUsize::new(3);
    let within = plan(vec![capped], &Snapshot::default());
    assert_eq!(within.within_caps(None), Ok(()));
    assert_eq!(
        within.within_caps(NonZeroUsize::new(2)),
        Err(CapError::Apply { numbers: 3, cap: 2 })
    );
    assert_eq!(within.within_caps(NonZeroUsize::new(3)), Ok(()));
}
