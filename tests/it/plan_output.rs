//! Golden tests of every plan rendering a reviewer reads: create, follow-up, settings change,
//! no-op, orphaned and in doubt, in text, with numbers shown, and as JSON; and the exit codes of
//! `--detailed-exitcode`. State is built for real, by applying to the sandbox.

use std::path::Path;
use std::process::Stdio;

use campaignctl::nxcc::Credentials;
use campaignctl::sandbox::{Fault, Sandbox, SandboxConfig, SandboxHandle};

const CAMPAIGN: &str = "\
name: renewal
matrix:
  region: [north, south]
task:
  taskName: \"renewal-{{ region }}\"
  country: GB
  strategyName: Default Strategy
  dispatchType: none
  agentGroupNo: NX09445G000025
  predictCallRate: 1.0
  ratioCallRate: 1.0
  startCount: 1
numbers:
  - csv: \"{{ region }}.csv\"
    other: \"{{ row.id }}\"
exclude:
  - phones: [\"020 7946 0103\"]
";

fn write_csv(dir: &Path, region: &str, numbers: &[u32]) {
    let mut text = String::from("id,phone\n");
    for n in numbers {
        text.push_str(&format!("c{n},020 7946 0{n:03}\n"));
    }
    std::fs::write(dir.join(format!("{region}.csv")), text).unwrap();
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("renewal.campaign.yaml"), CAMPAIGN).unwrap();
    write_csv(dir.path(), "north", &[100, 101, 102, 103, 100]);
    write_csv(dir.path(), "south", &[200, 201]);
    dir
}

fn campaignctl(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let output = crate::support::campaignctl(dir)
        .args(["--state", "state.db"])
        .args(args)
        .env("NXCC_ACCESS_KEY", "plan-test")
        .env("NXCC_ACCESS_SECRET", "plan-test-secret")
        .env_remove("NXCC_ENDPOINT")
        .env_remove("CAMPAIGNCTL_STATE")
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

fn start_sandbox(runtime: &tokio::runtime::Runtime, faults: &[&str]) -> SandboxHandle {
    let faults = faults.iter().map(|f| f.parse::<Fault>().unwrap()).collect();
    runtime
        .block_on(Sandbox::start(SandboxConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            credentials: Credentials::new("plan-test", "plan-test-secret"),
            faults,
            records: Default::default(),
            max_call_list: None,
        }))
        .unwrap()
}

fn apply(dir: &Path, sandbox: &SandboxHandle) -> (i32, String, String) {
    let endpoint = sandbox.base_url();
    campaignctl(
        dir,
        &[
            "apply",
            ".",
            "--auto-approve",
            "--rate",
            "0",
            "--parallelism",
            "1",
            "--endpoint",
            &endpoint,
        ],
    )
}

#[test]
fn a_first_plan_creates_every_task() {
    let dir = setup();
    let (code, stdout, stderr) = campaignctl(dir.path(), &["plan", "."]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    insta::assert_snapshot!("first_plan", stdout);

    let (_, shown, _) = campaignctl(dir.path(), &["plan", ".", "--show-numbers"]);
    insta::assert_snapshot!("first_plan_show_numbers", shown);

    let (_, json, _) = campaignctl(dir.path(), &["plan", ".", "--json"]);
    insta::assert_snapshot!("first_plan_json", json);
    let (_, same, _) = campaignctl(dir.path(), &["plan", ".", "--format", "json"]);
    assert_eq!(same, json, "--json is --format json");

    let (_, markdown, _) = campaignctl(dir.path(), &["plan", ".", "--format", "markdown"]);
    insta::assert_snapshot!("first_plan_markdown", markdown);

    let (code, _, _) = campaignctl(dir.path(), &["plan", ".", "--detailed-exitcode"]);
    assert_eq!(
        code, 2,
        "a plan with changes exits 2 with --detailed-exitcode"
    );
}

#[test]
fn later_plans_show_follow_ups_settings_changes_orphans_and_doubt() {
    let dir = setup();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    // The south task (sent second: parallelism 1) is recorded by the provider, but its answer
    // is lost.
    let sandbox = start_sandbox(&runtime, &["2=code:99+record"]);
    let (code, stdout, _) = apply(dir.path(), &sandbox);
    assert_eq!(code, 1, "an in-doubt task fails the apply:\n{stdout}");
    assert!(
        stdout.contains("IN DOUBT   renewal/\"renewal-south\""),
        "{stdout}"
    );

    let (code, stdout, _) = campaignctl(dir.path(), &["plan", ".", "--detailed-exitcode"]);
    assert_eq!(code, 0, "nothing new to send:\n{stdout}");
    insta::assert_snapshot!("no_op_and_in_doubt", stdout);

    // New rows, a changed setting, and the south task removed from the matrix.
    write_csv(dir.path(), "north", &[100, 101, 102, 103, 104, 105]);
    let edited = CAMPAIGN
        .replace("[north, south]", "[north]")
        .replace("predictCallRate: 1.0", "predictCallRate: 1.5");
    std::fs::write(dir.path().join("renewal.campaign.yaml"), edited).unwrap();
    let (code, stdout, stderr) = campaignctl(dir.path(), &["plan", "."]);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("follow_up_settings_and_in_doubt", stdout);

    let (_, json, _) = campaignctl(dir.path(), &["plan", ".", "--json"]);
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    insta::assert_json_snapshot!("follow_up_json", json);
    let (_, markdown, _) = campaignctl(dir.path(), &["plan", ".", "--format", "markdown"]);
    insta::assert_snapshot!("follow_up_markdown", markdown);

    // Resolved as created, the south task is orphaned rather than in doubt.
    let (code, _, stderr) = campaignctl(
        dir.path(),
        &["state", "resolve", "renewal/renewal-south", "--created"],
    );
    assert_eq!(code, 0, "{stderr}");
    let (_, stdout, _) = campaignctl(dir.path(), &["plan", "."]);
    insta::assert_snapshot!("orphaned", stdout);
    runtime.block_on(sandbox.shutdown());
}

#[test]
fn tasks_larger_than_the_limit_are_planned_in_parts() {
    let dir = setup();
    let parted = |extra: &[&str]| {
        let mut args = vec!["plan", ".", "--max-call-list-size", "2"];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = campaignctl(dir.path(), &args);
        assert_eq!((code, stderr.as_str()), (0, ""));
        stdout
    };
    insta::assert_snapshot!("parts_plan", parted(&[]));
    insta::assert_snapshot!("parts_plan_json", parted(&["--json"]));
    insta::assert_snapshot!("parts_plan_markdown", parted(&["--format", "markdown"]));

    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = start_sandbox(&runtime, &[]);
    let endpoint = sandbox.base_url();
    let (code, stdout, _) = campaignctl(
        dir.path(),
        &[
            "apply",
            ".",
            "--auto-approve",
            "--rate",
            "0",
            "--max-call-list-size",
            "2",
            "--endpoint",
            &endpoint,
        ],
    );
    assert_eq!(code, 0, "{stdout}");
    write_csv(dir.path(), "north", &[100, 101, 102, 104, 105, 106]);
    insta::assert_snapshot!("parts_follow_up", parted(&[]));
    runtime.block_on(sandbox.shutdown());
}

/// `plan --format json` of files with problems prints the problems as JSON on stdout.
#[test]
fn a_json_plan_of_bad_files_reports_them_as_json() {
    let dir = setup();
    std::fs::write(
        dir.path().join("renewal.campaign.yaml"),
        CAMPAIGN.replace("dispatchType: none", "dispatchType: fast"),
    )
    .unwrap();
    let (code, stdout, _) = campaignctl(dir.path(), &["plan", ".", "--format", "json"]);
    assert_eq!(code, 1);
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["valid"], false, "{report:#}");
    assert_eq!(report["diagnostics"][0]["kind"], "schema", "{report:#}");
}

/// `apply --format json` prints one document on stdout (the account of the run goes to
/// stderr), and with `GITHUB_STEP_SUMMARY` set, plan and apply append their markdown to it.
#[test]
fn apply_reports_as_json_and_both_commands_write_the_job_summary() {
    let dir = setup();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = start_sandbox(&runtime, &["2=code:99+record"]);
    let summary = dir.path().join("summary.md");
    let with_summary = |args: &[&str]| {
        let output = crate::support::campaignctl(dir.path())
            .args(["--state", "state.db"])
            .args(args)
            .env("NXCC_ACCESS_KEY", "plan-test")
            .env("NXCC_ACCESS_SECRET", "plan-test-secret")
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("NO_COLOR", "1")
            .env_remove("NXCC_ENDPOINT")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (
            output.status.code(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    let (code, _, stderr) = with_summary(&["plan", "."]);
    assert_eq!(code, Some(0), "{stderr}");
    let endpoint = sandbox.base_url();
    let (code, stdout, stderr) = with_summary(&[
        "apply",
        ".",
        "--auto-approve",
        "--rate",
        "0",
        "--parallelism",
        "1",
        "--format",
        "json",
        "--endpoint",
        &endpoint,
    ]);
    assert_eq!(code, Some(1), "in doubt fails the apply\n{stderr}");
    assert!(
        stderr.contains("IN DOUBT   renewal/\"renewal-south\""),
        "{stderr}"
    );
    let mut json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    for task in json["tasks"].as_array_mut().unwrap() {
        if task.get("reqId").is_some() {
            task["reqId"] = "[reqId]".into();
        }
    }
    insta::assert_json_snapshot!("apply_json", json);
    let written = std::fs::read_to_string(&summary).unwrap();
    let written = written
        .lines()
        .map(|line| match line.find("reqId <code>") {
            Some(at) => format!("{}reqId [reqId] |", &line[..at]),
            None => line.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!("job_summary", written);

    let (code, listed, _) = campaignctl(dir.path(), &["state", "list", "--format", "json"]);
    assert_eq!(code, 0);
    let listed: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let statuses: Vec<(&str, &str)> = listed["tasks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["taskName"].as_str().unwrap(),
                t["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        statuses,
        [("renewal-north", "created"), ("renewal-south", "in-doubt")],
        "{listed:#}"
    );
    assert_eq!(listed["formatVersion"], 1);
    runtime.block_on(sandbox.shutdown());
}
