//! The tool at a terminal and in pipes, as a person or a CI job meets it: a closed pipe, a
//! redirected stderr under a pseudo-terminal, Ctrl-C at the prompt, a campaign file passed where
//! a plan file could go, a plan that would overwrite a campaign, bad flags, empty folders, and
//! saved plans tried on the sandbox. Pseudo-terminals come from util-linux's `script`.

#![cfg(unix)]

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::support::*;

fn workspace() -> Workspace {
    let ws = Workspace::new();
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1, 2, 3]),
    );
    ws
}

/// `campaignctl ARGS` under a pseudo-terminal: stdin, stdout and stderr are the terminal unless
/// `shell_suffix` redirects them (it is appended to the command line, e.g. `2>err.txt`).
pub(crate) fn under_terminal(ws: &Workspace, args: &[&str], shell_suffix: &str) -> Command {
    // `exec`: no shell stays between `script` and campaignctl, so the exit status is the
    // program's own; a shell that got the terminal's SIGINT too would die of it and say 130.
    let mut line = format!("exec '{}'", bin());
    for arg in args {
        line.push_str(&format!(" '{arg}'"));
    }
    line.push_str(&format!(
        " --state '{}' {shell_suffix}",
        ws.state().display()
    ));
    let mut command = campaignctl(ws.root());
    // `campaignctl(...)` set the environment; the program run is `script` instead.
    let env: Vec<_> = command
        .get_envs()
        .map(|(k, v)| (k.to_owned(), v.map(ToOwned::to_owned)))
        .collect();
    command = Command::new("script");
    command
        .current_dir(ws.root())
        .args(["-qec", &line, "/dev/null"])
        .env("SHELL", "/bin/sh");
    for (key, value) in env {
        match value {
            Some(value) => command.env(key, value),
            None => command.env_remove(key),
        };
    }
    command
        .env_remove("NXCC_ACCESS_KEY")
        .env_remove("NXCC_ACCESS_SECRET");
    command
}

#[test]
fn a_closed_pipe_ends_quietly_with_exit_1() {
    let ws = workspace();
    let mut child = ws
        .command(&["plan", "--show-numbers", "campaigns"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starts");
    // Closed before campaignctl writes a byte, as `| head -0` would.
    drop(child.stdout.take());
    let status = wait_until(&mut child, Instant::now() + PATIENCE).expect("ends");
    let mut stderr = String::new();
    std::io::Read::read_to_string(&mut child.stderr.take().expect("stderr"), &mut stderr)
        .expect("read");
    assert_eq!(status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

#[test]
fn a_plan_never_overwrites_what_is_not_a_plan() {
    let ws = workspace();
    let campaign = ws.read("campaigns/a.campaign.yaml");
    let run = ws.run(&["plan", "--out", "campaigns/a.campaign.yaml", "campaigns"]);
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("refusing to write the plan to campaigns/a.campaign.yaml"),
        "{}",
        run.describe()
    );
    assert_eq!(ws.read("campaigns/a.campaign.yaml"), campaign);
    // A plan file may be replaced by a newer plan.
    ws.run(&["plan", "--out", "reviewed.plan.json", "campaigns"])
        .expect_code(0);
    ws.run(&["plan", "--out", "reviewed.plan.json", "campaigns"])
        .expect_code(0);
}

#[test]
fn a_campaign_file_of_any_name_is_taken_as_a_campaign_not_a_plan() {
    let ws = workspace();
    ws.write("campaigns/hello.yaml", &inline_campaign("hello", "t", &[4]));
    let run = run(ws.command(&[
        "apply",
        "--sandbox",
        "--auto-approve",
        "--rate",
        "0",
        "campaigns/hello.yaml",
    ]));
    run.expect_code(0);
    assert_eq!(run.summary().created, 1, "{}", run.describe());
    assert!(
        !run.all().contains("plan --out campaigns/hello.yaml"),
        "{}",
        run.describe()
    );
}

#[test]
fn rates_that_no_pacer_can_keep_are_refused() {
    let ws = workspace();
    for rate in ["-5", "NaN", "1e10", "inf", "fast"] {
        let run = ws.run(&[
            "apply",
            "--sandbox",
            "--auto-approve",
            &format!("--rate={rate}"),
            "campaigns",
        ]);
        run.expect_code(1);
        assert!(
            run.stderr
                .contains("expected requests per second from 0.01 to 10000"),
            "{rate}: {}",
            run.describe()
        );
        assert!(!run.stderr.contains("panicked"), "{}", run.describe());
    }
}

#[test]
fn checking_nothing_is_an_error() {
    let ws = Workspace::new();
    std::fs::create_dir_all(ws.path("empty")).expect("mkdir");
    ws.write("yaml-only/a.yaml", "name: a\n");
    for folder in ["empty", "yaml-only"] {
        let run = ws.run(&["validate", folder]);
        run.expect_code(1);
        assert!(
            run.stderr
                .contains(&format!("no campaign files found under {folder}")),
            "{}",
            run.describe()
        );
    }
    // A symlinked folder inside the root is searched.
    std::os::unix::fs::symlink(ws.path("campaigns"), ws.path("linked")).expect("symlink");
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1]),
    );
    let run = ws.run(&["validate", "linked"]);
    run.expect_code(0);
    assert!(run.stdout.contains("1 file valid"), "{}", run.describe());
}

#[test]
fn a_saved_plan_can_be_tried_on_the_sandbox_and_its_state_is_its_own() {
    let ws = workspace();
    ws.run(&["plan", "--sandbox", "--out", "trial.plan.json", "campaigns"])
        .expect_code(0);
    let applied = run(ws.command(&["apply", "--sandbox", "--rate", "0", "trial.plan.json"]));
    applied.expect_code(0);
    assert_eq!(applied.summary().created, 1, "{}", applied.describe());
    let sandbox_list = ws.run(&["state", "list", "--sandbox"]);
    assert!(
        sandbox_list.stdout.contains("created"),
        "{}",
        sandbox_list.describe()
    );
    let real_list = ws.run(&["state", "list"]);
    assert!(
        real_list.all().contains("state list --sandbox"),
        "{}",
        real_list.describe()
    );
}

#[test]
fn a_bad_endpoint_is_named_before_anything_is_planned_or_asked() {
    let ws = workspace();
    let run =
        run(ws.command_with_credentials(&["apply", "--endpoint", "api.example", "campaigns"]));
    run.expect_code(1);
    assert!(
        run.stderr.contains("invalid NXCC endpoint `api.example`"),
        "{}",
        run.describe()
    );
    assert!(!run.stdout.contains("Plan:"), "{}", run.describe());
}

#[test]
fn with_stderr_redirected_every_task_line_still_reaches_the_terminal() {
    let ws = workspace();
    let output = under_terminal(
        &ws,
        &[
            "apply",
            "--sandbox",
            "--auto-approve",
            "--rate",
            "0",
            "campaigns",
        ],
        "2>err.txt",
    )
    .output()
    .expect("script runs");
    let shown = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{shown}\n{}",
        ws.read("err.txt")
    );
    assert!(shown.contains("created    a/\"t\" (3 numbers)"), "{shown}");
    assert!(shown.contains("Apply finished: 1 created"), "{shown}");
}

#[test]
fn ctrl_c_at_the_prompt_cancels_with_a_word() {
    let ws = workspace();
    let mut child = under_terminal(&ws, &["apply", "--sandbox", "campaigns"], "")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("script runs");
    let mut stdin = child.stdin.take().expect("stdin");
    let stdout = child.stdout.take().expect("stdout");
    let (lines_tx, lines_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut reader = BufReader::new(stdout);
        let mut text = Vec::new();
        while reader.read_until(b':', &mut text).is_ok_and(|n| n > 0) {
            let _ = lines_tx.send(String::from_utf8_lossy(&text).into_owned());
        }
    });
    let deadline = Instant::now() + PATIENCE;
    let mut seen = String::new();
    while !seen.contains("Only 'yes' will be accepted:") {
        assert!(Instant::now() < deadline, "no prompt: {seen}");
        if let Ok(text) = lines_rx.recv_timeout(Duration::from_millis(50)) {
            seen = text;
        }
    }
    assert!(
        seen.contains("to a local sandbox started for this run?"),
        "{seen}"
    );
    stdin.write_all(b"\x03").expect("Ctrl-C");
    let status = wait_until(&mut child, Instant::now() + PATIENCE).expect("ends");
    while let Ok(text) = lines_rx.recv_timeout(Duration::from_millis(200)) {
        seen = text;
    }
    assert_eq!(status.code(), Some(1), "{seen}");
    assert!(seen.contains("cancelled, nothing sent"), "{seen}");
    let list = ws.run(&["state", "list", "--sandbox"]);
    assert!(!list.stdout.contains("created"), "{}", list.describe());
}

#[test]
fn shell_completions_and_the_manual_page_are_generated() {
    let ws = Workspace::new();
    for shell in ["bash", "zsh", "fish"] {
        let run = ws.run(&["completions", shell]);
        run.expect_code(0);
        assert!(
            run.stdout.contains("apply") && run.stdout.contains("--auto-approve"),
            "{shell}"
        );
    }
    let bash = ws.run(&["completions", "bash"]);
    ws.write("completion.bash", &bash.stdout);
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(ws.path("completion.bash"))
        .status()
        .expect("bash");
    assert!(
        syntax.success(),
        "the bash completion script does not parse"
    );
    let man = ws.run(&["man"]);
    man.expect_code(0);
    assert!(
        man.stdout.contains(".TH campaignctl 1"),
        "{}",
        man.describe()
    );
    assert!(man.stdout.contains("validate"), "{}", man.describe());
}
