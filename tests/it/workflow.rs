//! The GitHub Actions workflow a team copies from `docs/ci/` parses, and every campaignctl
//! command in it exists with every flag it uses.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::support::*;

fn workflow() -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci/campaigns.yml");
    let text = std::fs::read_to_string(&path).expect("docs/ci/campaigns.yml");
    serde_saphyr::from_str(&text).expect("the workflow is valid YAML")
}

/// Every `campaignctl ...` command line in a `run:` step, split into words.
fn campaignctl_commands(workflow: &Value) -> Vec<Vec<String>> {
    let mut commands = Vec::new();
    let jobs = workflow["jobs"].as_object().expect("jobs");
    for job in jobs.values() {
        for step in job["steps"].as_array().expect("steps") {
            let Some(script) = step["run"].as_str() else {
                continue;
            };
            for part in script.split(['|', '>', '&', ';']) {
                let words: Vec<String> = part.split_whitespace().map(str::to_owned).collect();
                if words.first().is_some_and(|w| w == "campaignctl") {
                    commands.push(words);
                }
            }
        }
    }
    commands
}

#[test]
fn the_workflow_parses_and_keeps_applies_apart() {
    let workflow = workflow();
    assert_eq!(workflow["concurrency"]["cancel-in-progress"], false);
    assert!(workflow["concurrency"]["group"].is_string());
    let jobs: BTreeMap<&str, &Value> = workflow["jobs"]
        .as_object()
        .expect("jobs")
        .iter()
        .map(|(name, job)| (name.as_str(), job))
        .collect();
    assert!(jobs.contains_key("plan") && jobs.contains_key("apply"));
    // Pull requests never see the credentials.
    let plan_job = serde_json::to_string(jobs["plan"]).expect("json");
    assert!(!plan_job.contains("NXCC_ACCESS_SECRET"), "{plan_job}");
}

#[test]
fn every_command_in_the_workflow_exists_with_its_flags() {
    let commands = campaignctl_commands(&workflow());
    assert!(commands.len() >= 4, "{commands:?}");
    let ws = Workspace::new();
    for words in commands {
        let subcommand = &words[1];
        let help = run(ws.command(&[subcommand, "--help"]));
        help.expect_code(0);
        for flag in words.iter().filter(|w| w.starts_with("--")) {
            let name = flag.split('=').next().unwrap_or(flag);
            assert!(
                help.stdout.contains(name),
                "`campaignctl {subcommand}` has no {name} (used in docs/ci/campaigns.yml)\n{}",
                help.stdout
            );
        }
        // The values the workflow gives its enum flags are accepted.
        if let Some(at) = words.iter().position(|w| w == "--format") {
            assert!(help.stdout.contains(&words[at + 1]), "{words:?}");
        }
    }
}
