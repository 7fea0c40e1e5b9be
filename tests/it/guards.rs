//! The guards that stop a plan before anything is sent: a saved plan expires (24 hours unless
//! `plan --out --expires` says otherwise), judged by the rules' time (`CAMPAIGNCTL_NOW` when
//! set, so a test can move the clock); and blast-radius caps, a campaign's `maxNumbers` and
//! `apply --max-numbers`.

use crate::support::*;

#[test]
fn a_saved_plan_applied_after_it_expired_sends_nothing() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1, 2]),
    );
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    at(
        ws.command(&["plan", "--out", "day.plan.json", "campaigns"]),
        "2026-12-04T10:00:00Z",
    )
    .expect_code(0);
    let saved: serde_json::Value = serde_json::from_str(&ws.read("day.plan.json")).expect("json");
    assert_eq!(saved["expiresAt"], "2026-12-05T10:00:00Z");
    let late = at(
        ws.apply_command(sandbox.url(), &["day.plan.json"]),
        "2026-12-05T10:00:01Z",
    );
    late.expect_code(1);
    assert!(
        late.stderr
            .contains("the plan expired at 2026-12-05T10:00:00Z"),
        "{}",
        late.describe()
    );
    assert!(
        sandbox.requests().is_empty(),
        "an expired plan sent something"
    );

    // A shorter life, applied within it, sends.
    at(
        ws.command(&[
            "plan",
            "--out",
            "short.plan.json",
            "--expires",
            "2h",
            "campaigns",
        ]),
        "2026-12-04T10:00:00Z",
    )
    .expect_code(0);
    let soon = at(
        ws.apply_command(sandbox.url(), &["short.plan.json"]),
        "2026-12-04T11:59:00Z",
    );
    soon.expect_code(0);
    assert_eq!(soon.summary().created, 1, "{}", soon.describe());
}

#[test]
fn a_clock_that_is_no_time_and_an_expiry_without_a_plan_file_are_refused() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1]),
    );
    let bad = at(
        ws.command(&["plan", "--out", "p.json", "campaigns"]),
        "friday evening",
    );
    bad.expect_code(1);
    assert!(
        bad.stderr
            .contains("CAMPAIGNCTL_NOW is \"friday evening\", not an RFC 3339 time"),
        "{}",
        bad.describe()
    );
    assert!(!ws.path("p.json").exists());
    let no_out = ws.run(&["plan", "--expires", "2h", "campaigns"]);
    no_out.expect_code(1);
    assert!(no_out.stderr.contains("--out"), "{}", no_out.describe());
    let too_long = ws.run(&["plan", "--out", "p.json", "--expires", "90d", "campaigns"]);
    too_long.expect_code(1);
    assert!(
        too_long.stderr.contains("from 1s to 30d"),
        "{}",
        too_long.describe()
    );
}

#[test]
fn plans_over_a_blast_radius_cap_are_refused_before_anything_is_sent() {
    let ws = Workspace::new();
    let capped =
        inline_campaign("a", "t", &[1, 2, 3]).replace("name: a\n", "name: a\nmaxNumbers: 2\n");
    ws.write("campaigns/a.campaign.yaml", &capped);
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    let plan = ws.run(&["plan", "--out", "capped.plan.json", "campaigns"]);
    plan.expect_code(1);
    assert!(
        plan.stderr
            .contains("campaign a would dial 3 numbers, more than its maxNumbers of 2"),
        "{}",
        plan.describe()
    );
    assert!(
        !ws.path("capped.plan.json").exists(),
        "a refused plan was saved"
    );
    let apply = run(ws.apply_command(sandbox.url(), &["campaigns", "--auto-approve"]));
    apply.expect_code(1);
    assert!(
        sandbox.requests().is_empty(),
        "a capped campaign sent something"
    );

    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1, 2, 3]),
    );
    let over = run(ws.apply_command(
        sandbox.url(),
        &["campaigns", "--auto-approve", "--max-numbers", "2"],
    ));
    over.expect_code(1);
    assert!(
        over.stderr
            .contains("it would dial 3 numbers, more than --max-numbers 2"),
        "{}",
        over.describe()
    );
    ws.run(&["plan", "--out", "whole.plan.json", "campaigns"])
        .expect_code(0);
    let saved = run(ws.apply_command(sandbox.url(), &["whole.plan.json", "--max-numbers", "2"]));
    saved.expect_code(1);
    assert!(
        sandbox.requests().is_empty(),
        "a plan over --max-numbers sent something"
    );
    let within = run(ws.apply_command(sandbox.url(), &["whole.plan.json", "--max-numbers", "3"]));
    within.expect_code(0);
    assert_eq!(within.summary().numbers, 3, "{}", within.describe());
}
