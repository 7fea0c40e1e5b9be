//! Calling safety, as a user meets it: numbers ring only inside their own local calling window
//! (08:00 to 21:00 unless a campaign says otherwise), the rest wait and go out with a later
//! apply; caps count calls to a number across campaigns; campaign dates hold; and a saved plan
//! applied after its window closed sends nothing. The time is pinned with `CAMPAIGNCTL_NOW`.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::apply::assert_no_order_id_twice;
use crate::support::*;

/// One fictional number per US zone (the 555-01XX block) and one in London, with their zone.
const ACROSS_ZONES: [(&str, &str); 7] = [
    ("+1 212 555 0100", "12125550100"), // Eastern
    ("+1 312 555 0100", "13125550100"), // Central
    ("+1 303 555 0100", "13035550100"), // Mountain
    ("+1 213 555 0100", "12135550100"), // Pacific
    ("+1 907 555 0100", "19075550100"), // Alaska
    ("+1 808 555 0100", "18085550100"), // Hawaii
    ("+44 20 7946 0100", "442079460100"),
];

fn campaign_of(numbers: &[&str], rest: &str) -> String {
    let phones: Vec<String> = numbers.iter().map(|n| format!("\"{n}\"")).collect();
    campaign_yaml(
        "zones",
        "t",
        &format!("numbers:\n  - phones: [{}]\n{rest}", phones.join(", ")),
    )
}

/// Every number the sandbox was sent, in E.164 digits.
fn dialed(sandbox: &SandboxProcess) -> Vec<String> {
    sandbox
        .tasks()
        .iter()
        .flat_map(|task| {
            task["body"]["callList"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .map(|item| item["userPhone"].as_str().unwrap_or_default().to_owned())
        .collect()
}

fn plan_json(ws: &Workspace, now: &str) -> Value {
    let run = at(ws.command(&["plan", "--json", "campaigns"]), now);
    run.expect_code(0);
    serde_json::from_str(&run.stdout).expect("plan --json")
}

#[test]
fn each_number_rings_only_inside_its_own_window_and_the_rest_follow_later() {
    let ws = Workspace::new();
    let numbers: Vec<&str> = ACROSS_ZONES.iter().map(|(written, _)| *written).collect();
    ws.write("campaigns/zones.campaign.yaml", &campaign_of(&numbers, ""));
    let sandbox = SandboxProcess::start(ws.root(), &[]);

    // Friday 14:30 UTC: 09:30 in New York, 08:30 in Chicago, 14:30 in London; 07:30 in Denver
    // and earlier further west.
    let morning = "2026-11-20T14:30:00Z";
    let plan = plan_json(&ws, morning);
    assert_eq!(plan["summary"]["numbers"], 3, "{plan:#}");
    assert_eq!(plan["summary"]["held"], 4, "{plan:#}");
    let opens: BTreeSet<&str> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "held")
        .map(|c| c["hold"]["opens"].as_str().expect("opens"))
        .collect();
    // Denver 08:00 MST, Los Angeles 08:00 PST, Alaska's zones (Adak the last) and Hawaii.
    assert_eq!(
        opens,
        BTreeSet::from([
            "2026-11-20T15:00:00Z",
            "2026-11-20T16:00:00Z",
            "2026-11-20T18:00:00Z"
        ])
    );
    at(
        ws.apply_command(sandbox.url(), &["campaigns", "--auto-approve"]),
        morning,
    )
    .expect_code(0);
    let first: BTreeSet<String> = dialed(&sandbox).into_iter().collect();
    assert_eq!(
        first,
        BTreeSet::from(["12125550100", "13125550100", "442079460100"].map(String::from))
    );

    // 18:30 UTC: every US zone is open; London too (18:30, its last hour starts at 20:00).
    let afternoon = "2026-11-20T18:30:00Z";
    let later = at(
        ws.apply_command(sandbox.url(), &["campaigns", "--auto-approve"]),
        afternoon,
    );
    later.expect_code(0);
    assert!(later.stdout.contains("follow-up"), "{}", later.describe());
    let all: Vec<String> = dialed(&sandbox);
    let distinct: BTreeSet<&String> = all.iter().collect();
    assert_eq!(
        all.len(),
        ACROSS_ZONES.len(),
        "a number went out twice: {all:?}"
    );
    assert_eq!(distinct.len(), ACROSS_ZONES.len());
    assert_no_order_id_twice(&sandbox.tasks(), |_| "zones".to_owned());

    // Nothing is left: a plan at any hour is a no-op.
    let again = plan_json(&ws, "2026-11-21T03:00:00Z");
    assert_eq!(again["summary"]["numbers"], 0, "{again:#}");
    assert_eq!(again["summary"]["held"], 0, "{again:#}");
}

#[test]
fn at_night_nothing_is_sent_and_the_plan_says_when_each_window_opens() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1, 2]),
    );
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    // 22:00 in London.
    let night = "2026-11-20T22:00:00Z";
    let plan = at(ws.command(&["plan", "campaigns"]), night);
    plan.expect_code(0);
    assert!(
        plan.stdout.contains(
            "2 numbers held: outside their calling window; it opens at 2026-11-21T08:00:00Z"
        ),
        "{}",
        plan.describe()
    );
    let apply = at(
        ws.apply_command(sandbox.url(), &["campaigns", "--auto-approve"]),
        night,
    );
    apply.expect_code(0);
    assert!(
        apply.stdout.contains("Nothing to send."),
        "{}",
        apply.describe()
    );
    assert!(sandbox.requests().is_empty());

    // `window: any` says so in the plan and sends at any hour.
    ws.write(
        "campaigns/a.campaign.yaml",
        &format!("{}window: any\n", inline_campaign("a", "t", &[1, 2])),
    );
    let any = at(ws.command(&["plan", "campaigns"]), night);
    assert!(
        any.stdout.contains("calling window: any"),
        "{}",
        any.describe()
    );
    assert!(
        any.stdout.contains("2 numbers to dial"),
        "{}",
        any.describe()
    );
}

#[test]
fn the_window_holds_tasks_that_dial_at_once_and_a_left_out_startup_type_is_one() {
    let ws = Workspace::new();
    let left_out = inline_campaign("left-out", "t", &[1]).replace("  startupType: immediate\n", "");
    let scheduled = inline_campaign("scheduled", "t", &[1])
        .replace("startupType: immediate", "startupType: scheduled");
    assert!(!left_out.contains("startupType"), "{left_out}");
    assert!(scheduled.contains("startupType: scheduled"), "{scheduled}");
    ws.write("campaigns/left-out.campaign.yaml", &left_out);
    ws.write("campaigns/scheduled.campaign.yaml", &scheduled);
    // 22:00 in London: only the task the provider starts on its schedule may be created.
    let plan = plan_json(&ws, "2026-11-20T22:00:00Z");
    let actions: Vec<(String, String)> = plan["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["campaign"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        actions,
        [
            ("left-out".to_owned(), "held".to_owned()),
            ("scheduled".to_owned(), "create".to_owned())
        ],
        "{plan:#}"
    );
}

#[test]
fn the_window_follows_daylight_saving_time() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/zones.campaign.yaml",
        &campaign_of(&["+1 212 555 0100"], ""),
    );
    // 12:30 UTC is 08:30 in New York on Saturday 31 October (daylight time, UTC-4) ...
    assert_eq!(
        plan_json(&ws, "2026-10-31T12:30:00Z")["summary"]["numbers"],
        1
    );
    // ... and 07:30 on Sunday 1 November, after the clocks went back (UTC-5).
    let after = plan_json(&ws, "2026-11-01T12:30:00Z");
    assert_eq!(after["summary"]["numbers"], 0, "{after:#}");
    assert_eq!(
        after["changes"][0]["hold"]["opens"], "2026-11-01T13:00:00Z",
        "{after:#}"
    );
}

#[test]
fn a_saved_plan_applied_after_its_window_closed_sends_nothing() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1, 2]),
    );
    let sandbox = SandboxProcess::start(ws.root(), &[]);
    // Reviewed at 19:50 in London: inside the window, with ten minutes to leave by 20:00.
    at(
        ws.command(&["plan", "--out", "evening.plan.json", "campaigns"]),
        "2026-11-20T19:50:00Z",
    )
    .expect_code(0);
    let saved: Value = serde_json::from_str(&ws.read("evening.plan.json")).expect("json");
    assert_eq!(saved["requests"][0]["sendBy"], "2026-11-20T20:00:00Z");
    // Applied at 20:10: the plan has not expired, but its window has closed.
    let late = at(
        ws.apply_command(sandbox.url(), &["evening.plan.json", "--auto-approve"]),
        "2026-11-20T20:10:00Z",
    );
    assert_ne!(late.code, Some(0), "{}", late.describe());
    assert!(
        late.stdout
            .contains("it had to leave by 2026-11-20T20:00:00Z"),
        "{}",
        late.describe()
    );
    assert!(
        sandbox.requests().is_empty(),
        "a closed window sent something"
    );
    // Nothing was recorded: the numbers are planned again the next morning.
    let next = plan_json(&ws, "2026-11-21T09:00:00Z");
    assert_eq!(next["summary"]["numbers"], 2, "{next:#}");
}

#[test]
fn a_frequency_cap_counts_calls_across_campaigns() {
    frequency_cap_across_campaigns(&Workspace::new());
}

#[cfg(unix)]
#[test]
fn a_frequency_cap_counts_calls_across_campaigns_in_a_postgres_workspace() {
    if let Some(ws) = crate::state_shared::postgres_workspace("caps") {
        frequency_cap_across_campaigns(&ws);
    }
}

fn frequency_cap_across_campaigns(ws: &Workspace) {
    ws.write(
        "campaignctl.yaml",
        "limits:\n  perNumber:\n    calls: 1\n    within: 24h\n",
    );
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1, 2]),
    );
    ws.write(
        "campaigns/b.campaign.yaml",
        &inline_campaign("b", "t", &[2, 3]),
    );
    let sandbox = SandboxProcess::start(ws.root(), &[]);

    // In one plan: number 2 goes with campaign a, and b holds it back.
    let both = plan_json(ws, TEST_NOW);
    assert_eq!(both["summary"]["numbers"], 3, "{both:#}");
    assert_eq!(both["summary"]["held"], 1, "{both:#}");
    let held = both["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["action"] == "held")
        .expect("a held change");
    assert_eq!(held["campaign"], "b");
    assert_eq!(held["hold"]["kind"], "frequency-cap");

    // Campaign a alone is sent; then b, planned on its own, still holds number 2.
    at(
        ws.apply_command(
            sandbox.url(),
            &["campaigns/a.campaign.yaml", "--auto-approve"],
        ),
        TEST_NOW,
    )
    .expect_code(0);
    let b = at(
        ws.command(&["plan", "--json", "campaigns/b.campaign.yaml"]),
        TEST_NOW,
    );
    let b: Value = serde_json::from_str(&b.stdout).expect("json");
    assert_eq!(b["summary"]["numbers"], 1, "{b:#}");
    assert_eq!(b["summary"]["held"], 1, "{b:#}");
    at(
        ws.apply_command(
            sandbox.url(),
            &["campaigns/b.campaign.yaml", "--auto-approve"],
        ),
        TEST_NOW,
    )
    .expect_code(0);
    let sent = dialed(&sandbox);
    assert_eq!(
        sent.iter().filter(|n| **n == uk_digits(2)).count(),
        1,
        "{sent:?}"
    );

    // Once the day has passed (sends are recorded at the wall clock), b sends number 2 too.
    let later = "2036-11-19T10:00:00Z";
    let after = at(
        ws.apply_command(
            sandbox.url(),
            &["campaigns/b.campaign.yaml", "--auto-approve"],
        ),
        later,
    );
    after.expect_code(0);
    assert_eq!(after.summary().numbers, 1, "{}", after.describe());
}

#[test]
fn campaign_dates_hold_everything_outside_them() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/a.campaign.yaml",
        &format!(
            "{}notBefore: 2026-11-19\nnotAfter: 2026-11-20T18:00:00Z\n",
            inline_campaign("a", "t", &[1, 2])
        ),
    );
    let early = plan_json(&ws, TEST_NOW);
    assert_eq!(early["summary"]["numbers"], 0, "{early:#}");
    assert_eq!(early["changes"][0]["hold"]["kind"], "not-before");
    let inside = plan_json(&ws, "2026-11-19T10:00:00Z");
    assert_eq!(inside["summary"]["numbers"], 2, "{inside:#}");
    // The request may not leave after notAfter, nor after its window (20:00 UTC that day).
    assert_eq!(inside["changes"][0]["sendBy"], "2026-11-19T20:00:00Z");
    let last_day = plan_json(&ws, "2026-11-20T10:00:00Z");
    assert_eq!(last_day["changes"][0]["sendBy"], "2026-11-20T18:00:00Z");
    let ended = at(ws.command(&["plan", "campaigns"]), "2026-11-20T18:00:01Z");
    assert!(
        ended
            .stdout
            .contains("the campaign may not send after 2026-11-20T18:00:00Z"),
        "{}",
        ended.describe()
    );
}

#[test]
fn a_pretend_clock_is_refused_towards_a_real_provider() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1]),
    );
    // Refused before anything is planned or sent: no request ever leaves for this address.
    let refused =
        run(ws.apply_command("https://api.nxcc.invalid", &["campaigns", "--auto-approve"]));
    refused.expect_code(1);
    assert!(
        refused
            .stderr
            .contains("CAMPAIGNCTL_NOW is set: refusing to send"),
        "{}",
        refused.describe()
    );
}
