//! `validate` and `schema` beyond the golden cases in `tests/cmd/validate/`: the example
//! campaigns are valid, the checked-in schema is current and accepts them as an editor would,
//! and hostile input (huge, billion laughs, not UTF-8, deeply nested) ends in a clear message and
//! exit 1, never a panic. Hostile files are generated here at run time, never committed.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn campaignctl(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_campaignctl"))
        .args(args)
        .current_dir(dir)
        .output()
        .expect("campaignctl runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Every `*.campaign.yaml` / `*.campaign.yml` under `folder`, sorted.
fn campaign_files(folder: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![folder.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                pending.push(path);
            } else if name.ends_with(".campaign.yaml") || name.ends_with(".campaign.yml") {
                found.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Runs `validate` on one generated file in a fresh folder and returns its output, checking
/// what every rejected file must show: exit 1, the problem on stdout, nothing on stderr (where
/// a panic would land).
fn validate_generated(name: &str, write: impl FnOnce(&mut std::fs::File)) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut file = std::fs::File::create(dir.path().join(name)).unwrap();
    write(&mut file);
    drop(file);
    let output = campaignctl(&["validate", name], dir.path());
    let stdout = text(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "stdout: {stdout}");
    assert_eq!(text(&output.stderr), "", "stdout: {stdout}");
    stdout
}

#[test]
fn example_campaigns_validate() {
    let examples = campaign_files(&root().join("campaigns"));
    assert!(!examples.is_empty(), "campaigns/ holds no campaign files");
    let output = campaignctl(&["validate", "campaigns"], &root());
    let stdout = text(&output.stdout);
    assert!(
        output.status.success(),
        "campaigns/ does not validate:\n{stdout}"
    );
    assert_eq!(stdout, format!("{} files valid\n", examples.len()));
}

#[test]
fn checked_in_schemas_match_the_schema_command() {
    for (args, file) in [
        (&["schema"][..], "schema/campaign.schema.json"),
        (
            &["schema", "--workspace-file"][..],
            "schema/workspace.schema.json",
        ),
    ] {
        let output = campaignctl(args, &root());
        assert!(output.status.success(), "{}", text(&output.stderr));
        let generated = text(&output.stdout);
        let checked_in = std::fs::read_to_string(root().join(file)).unwrap_or_default();
        assert!(
            checked_in == generated,
            "{file} differs from what `campaignctl {}` prints; regenerate it with `cargo run -- \
             {} > {file}` and commit the result",
            args.join(" "),
            args.join(" ")
        );
    }
}

/// What an editor does with the checked-in schema: read the YAML (with serde-saphyr's defaults,
/// not campaignctl's loader) and validate the value against the draft-07 schema. The examples
/// and the valid fixtures (whole numbers written as `2.0`, merge keys) must pass here exactly
/// as they pass `campaignctl validate`.
#[test]
fn checked_in_schema_accepts_the_examples() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/campaign.schema.json")).unwrap(),
    )
    .unwrap();
    jsonschema::draft7::meta::validate(&schema).expect("the schema is valid draft-07");
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let mut files = campaign_files(&root().join("campaigns"));
    files.extend(campaign_files(
        &root().join("tests/fixtures/validate/valid"),
    ));
    for file in files {
        let yaml = std::fs::read_to_string(&file).unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        let errors: Vec<String> = validator
            .iter_errors(&value)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:#?}", file.display());
    }
}

#[test]
fn the_schema_rejects_what_validate_rejects_for_the_schema() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("schema/campaign.schema.json")).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::draft7::new(&schema).unwrap();
    let broken = root().join("tests/fixtures/validate/campaigns");
    for name in [
        "unknown-key",
        "wrong-type",
        "unknown-enum",
        "missing-required",
        "bad-name",
    ] {
        let yaml = std::fs::read_to_string(broken.join(format!("{name}.campaign.yaml"))).unwrap();
        let value: serde_json::Value = serde_saphyr::from_str(&yaml).unwrap();
        assert!(!validator.is_valid(&value), "{name} passes the schema");
    }
}

#[test]
fn a_100_mib_file_is_refused_before_parsing() {
    let stdout = validate_generated("big.campaign.yaml", |file| {
        let line = format!("# {}\n", "x".repeat(1021));
        let chunk = line.repeat(1024);
        file.write_all(b"name: big\n").unwrap();
        for _ in 0..100 {
            file.write_all(chunk.as_bytes()).unwrap();
        }
    });
    assert_eq!(
        stdout,
        "big.campaign.yaml: error: the file is larger than 4 MiB; a campaign file holds \
         settings, put numbers in a CSV or text source\n1 error in 1 file (1 file checked)\n"
    );
}

#[test]
fn billion_laughs_is_stopped_with_a_clear_message() {
    let stdout = validate_generated("laughs.campaign.yaml", |file| {
        writeln!(file, "name: laughs").unwrap();
        writeln!(file, "vars:").unwrap();
        writeln!(file, "  a0: &a0 [{}]", ["lol"; 9].join(", ")).unwrap();
        for level in 1..10 {
            let aliases = vec![format!("*a{}", level - 1); 9].join(", ");
            writeln!(file, "  a{level}: &a{level} [{aliases}]").unwrap();
        }
    });
    let first = stdout.lines().next().unwrap();
    assert_eq!(
        first,
        "laughs.campaign.yaml:7:12: error: invalid YAML: aliases (`*name`) expand to more than \
         10000 values, as in a \"billion laughs\" attack; a campaign file needs far fewer"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_reported_at_the_first_bad_byte() {
    let stdout = validate_generated("latin1.campaign.yaml", |file| {
        file.write_all(b"name: latin1\ndescription: Caf\xe9 customers\n")
            .unwrap();
    });
    assert!(
        stdout.starts_with(
            "latin1.campaign.yaml:2:17: error: the file is not UTF-8 text (save it as UTF-8)\n"
        ),
        "{stdout}"
    );
}

#[test]
fn deep_nesting_is_refused() {
    let stdout = validate_generated("deep.campaign.yaml", |file| {
        let depth = 10_000;
        writeln!(
            file,
            "vars:\n  deep: {}{}",
            "[".repeat(depth),
            "]".repeat(depth)
        )
        .unwrap();
    });
    assert!(stdout.starts_with("deep.campaign.yaml:2:"), "{stdout}");
    assert!(
        stdout.contains("error: invalid YAML: the values are nested too deeply"),
        "{stdout}"
    );
}
