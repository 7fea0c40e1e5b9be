//! A campaign file from an untrusted pull request reads nothing outside the workspace root and
//! prints nothing of what it reads beyond short, escaped, masked excerpts. The real binary runs
//! with a secret in its environment against every escape route: an absolute path, `..`, a
//! symlink out, `/proc/self/environ`, a FIFO, a device, a folder, a templated path, and campaign
//! files that are themselves a FIFO or a symlink out.

#![cfg(unix)]

use std::path::Path;

use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};

use crate::support::*;

/// What the file outside the workspace holds; it must never be printed or stored.
const OUTSIDE: &str = "OUTSIDE-CONTENT-4711";

/// A campaign whose one number source is `source` (a YAML mapping's text after `- `), which
/// stands on line 14 of the file, its value at column 11 when it is `file:`.
fn campaign_with_source(name: &str, source: &str) -> String {
    campaign_yaml(
        name,
        "t-{{ region }}",
        &format!("numbers:\n  - {source}\nmatrix:\n  region: [a]\n"),
    )
}

/// Every byte under `dir`, for the proof that nothing of the outside file or the secret was
/// written anywhere.
fn all_bytes_under(dir: &Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for entry in walk(dir) {
        if let Ok(content) = std::fs::read(&entry) {
            bytes.extend(content);
        }
    }
    bytes
}

fn walk(dir: &Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            files.extend(walk(&path));
        } else if kind.is_file() {
            files.push(path);
        }
    }
    files
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle.as_bytes())
}

#[test]
fn no_escape_route_reads_or_prints_anything_outside_the_root() {
    let outside = tempfile::tempdir().expect("tempdir");
    let secret_file = outside.path().join("secret.csv");
    std::fs::write(&secret_file, format!("phone\n{OUTSIDE}\n")).expect("write");
    let ws = Workspace::new();
    let relative_out = {
        // From campaigns/ up to the filesystem root, then down to the outside file.
        let depth = ws.path("campaigns").components().count();
        format!(
            "{}{}",
            "../".repeat(depth),
            secret_file.display().to_string().trim_start_matches('/')
        )
    };
    ws.write("campaigns/data/ok.csv", "phone\n020 7946 0001\n");
    std::fs::create_dir_all(ws.path("campaigns/data/folder")).expect("mkdir");
    std::os::unix::fs::symlink(&secret_file, ws.path("campaigns/data/link.csv")).expect("symlink");
    std::os::unix::fs::symlink("/dev/zero", ws.path("campaigns/data/zero.csv")).expect("symlink");
    let fifo = ws.path("campaigns/data/pipe.csv");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    // (file name, source, the message's words); the source value stands at 14:11 (csv: 14:10).
    let routes = [
        (
            "absolute",
            format!("file: \"{}\"", secret_file.display()),
            "is an absolute path",
        ),
        (
            "dotdot",
            format!("file: \"{relative_out}\""),
            "resolves outside the workspace root",
        ),
        (
            "symlink",
            "file: \"data/link.csv\"".to_owned(),
            "resolves outside the workspace root",
        ),
        (
            "environ",
            "file: \"/proc/self/environ\"".to_owned(),
            "is an absolute path",
        ),
        (
            "environ-relative",
            format!("file: \"{}proc/self/environ\"", "../".repeat(40)),
            "resolves outside",
        ),
        (
            "fifo",
            "file: \"data/pipe.csv\"".to_owned(),
            "is a FIFO, not a regular file",
        ),
        (
            "device",
            "file: \"data/zero.csv\"".to_owned(),
            "resolves outside the workspace root",
        ),
        ("folder", "file: \"data/folder\"".to_owned(), "is a folder"),
        (
            "csv",
            format!("csv: \"{relative_out}\"\n    other: \"{{{{ row.phone }}}}\""),
            "resolves outside",
        ),
        (
            "templated",
            "csv: \"data/../{{ '..' }}/../../x.csv\"".to_owned(),
            "resolves outside",
        ),
    ];
    for (name, source, _) in &routes {
        ws.write(
            &format!("campaigns/{name}.campaign.yaml"),
            &campaign_with_source(name, source),
        );
    }
    // Campaign files that are themselves a way out.
    std::os::unix::fs::symlink(&secret_file, ws.path("campaigns/linked.campaign.yaml"))
        .expect("symlink");
    let fifo_campaign = ws.path("campaigns/piped.campaign.yaml");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo_campaign)
            .status()
            .expect("mkfifo")
            .success()
    );

    let mut outputs = Vec::new();
    for args in [
        &["validate", "campaigns"][..],
        &["plan", "--out", "reviewed.plan.json", "campaigns"],
        &["render", "campaigns"],
    ] {
        let run = run(ws.command_with_credentials(args));
        run.expect_code(1);
        let all = run.all();
        for (name, _, words) in &routes {
            let at = if name.starts_with("csv") || *name == "templated" {
                "14:10"
            } else {
                "14:11"
            };
            let line = all
                .lines()
                .find(|line| {
                    line.starts_with(&format!("campaigns/{name}.campaign.yaml:{at}: error: "))
                })
                .unwrap_or_else(|| panic!("no error for {name} at {at}\n{}", run.describe()));
            assert!(line.contains(words), "{name}: {line}");
        }
        assert!(
            all.contains("campaigns/linked.campaign.yaml: error: "),
            "{}",
            run.describe()
        );
        assert!(
            all.contains("campaigns/piped.campaign.yaml: error: ")
                && all.contains("is a FIFO, not a regular file"),
            "{}",
            run.describe()
        );
        outputs.push(all);
    }
    assert!(
        !ws.path("reviewed.plan.json").exists(),
        "a plan was written despite the errors"
    );
    let mut written = all_bytes_under(ws.root());
    written.extend(outputs.concat().into_bytes());
    for needle in [OUTSIDE, SECRET, "NXCC_ACCESS_SECRET="] {
        assert!(
            !contains(&written, needle),
            "{needle} leaked into the output or the workspace"
        );
    }
}

#[test]
fn an_endpoint_with_credentials_in_it_is_refused_without_echoing_them() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/a.campaign.yaml",
        &inline_campaign("a", "t", &[1]),
    );
    let run = run(ws.command_with_credentials(&[
        "apply",
        "campaigns",
        "--auto-approve",
        "--endpoint",
        &format!("https://key:{SECRET}@127.0.0.1:9/"),
    ]));
    run.expect_code(1);
    assert!(
        run.stderr
            .contains("invalid NXCC endpoint `https://***@127.0.0.1:9/`"),
        "{}",
        run.describe()
    );
    let mut help = ws.command(&["apply", "--help"]);
    help.env(
        "NXCC_ENDPOINT",
        format!("https://key:{SECRET}@gateway.invalid/"),
    )
    .env(
        "CAMPAIGNCTL_STATE",
        format!("postgres://u:{SECRET}@db.invalid/x"),
    );
    run_ok_without_secret(help);
}

/// `command` exits 0 and `run` already checks that the secret is in no byte it printed.
fn run_ok_without_secret(command: std::process::Command) {
    run(command).expect_code(0);
}

/// Whatever bytes a CSV holds, every line `validate` prints is one line of printable text, and
/// no more of a field than the cut length appears in it.
#[test]
fn arbitrary_source_bytes_never_reach_the_terminal_raw() {
    let ws = Workspace::new();
    ws.write(
        "campaigns/c.campaign.yaml",
        &campaign_yaml(
            "c",
            "t",
            "numbers:\n  - csv: data/c.csv\n    other: \"{{ row.note }}\"\n",
        ),
    );
    ws.write("campaigns/data/c.csv", "");
    // Arbitrary bytes (mostly not UTF-8), or text full of the characters that steer terminals.
    let steering = prop::sample::select(vec![
        '\u{1b}', '\r', '\0', '\u{7}', '\u{202e}', '\u{2066}', '\u{9b}',
    ]);
    let character =
        prop_oneof![3 => proptest::char::range(' ', '~'), 1 => steering, 1 => any::<char>()];
    let field = prop_oneof![
        // Long printable text, so that quoting more than the cut would show.
        "[a-zA-Z +()-]{41,120}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..120),
        prop::collection::vec(character, 0..120)
            .prop_map(|chars| chars.into_iter().collect::<String>().into_bytes()),
    ];
    let rows = prop::collection::vec((field.clone(), field), 1..6);
    let mut runner = TestRunner::new(ProptestConfig::with_cases(24));
    runner
        .run(&rows, |rows| {
            let mut csv = b"phone,note\n".to_vec();
            for (phone, note) in &rows {
                csv.extend(phone.iter().map(|b| if *b == b',' { b';' } else { *b }));
                csv.push(b',');
                csv.extend(note.iter().map(|b| {
                    if matches!(*b, b',' | b'\n' | b'\r' | b'"') {
                        b'_'
                    } else {
                        *b
                    }
                }));
                csv.push(b'\n');
            }
            std::fs::write(ws.path("campaigns/data/c.csv"), &csv).expect("write");
            let run = run(ws.command(&["validate", "campaigns"]));
            for line in run.stdout.lines().chain(run.stderr.lines()) {
                prop_assert!(
                    !line
                        .chars()
                        .any(|c| (c.is_control() && c != '\t')
                            || ('\u{202a}'..='\u{202e}').contains(&c)),
                    "raw control character in {line:?}"
                );
                for (phone, _) in &rows {
                    let text = String::from_utf8_lossy(phone);
                    let long: String = text.chars().take(41).collect();
                    prop_assert!(
                        long.chars().count() < 41 || !line.contains(&long),
                        "more than 40 characters of a field in {line:?}"
                    );
                }
            }
            Ok(())
        })
        .unwrap();
}
