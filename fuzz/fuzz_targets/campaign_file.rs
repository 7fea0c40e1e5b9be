//! Any bytes as a campaign file, through every phase a plan runs before state: load (YAML),
//! validate (schema, meaning, types; and as a workspace file), expand (templates, sources,
//! numbers) and the requests it would send, serialized. The promise under test: whatever the file holds, campaignctl
//! answers with diagnostics or a plan, never a panic, a hang or a blow-up in memory.
//!
//! Run: `cargo +nightly fuzz run campaign_file fuzz/seeds` from the repository (docs/testing.md).

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use campaignctl::expand::{self, Reading};
use campaignctl::load::{self, Root};
use libfuzzer_sys::fuzz_target;

/// A workspace holding the example campaigns' data files, so sources the fuzzer writes can name
/// files that exist (`data/north.csv`, `data/extra.txt`, ...).
struct Workspace {
    _dir: tempfile::TempDir,
    root: Root,
    file: PathBuf,
}

fn workspace() -> &'static Workspace {
    static WORKSPACE: OnceLock<Workspace> = OnceLock::new();
    WORKSPACE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary folder");
        let data = dir.path().join("data");
        std::fs::create_dir(&data).expect("data folder");
        let examples = concat!(env!("CARGO_MANIFEST_DIR"), "/../campaigns/data");
        for entry in std::fs::read_dir(examples).expect("the example data") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), data.join(entry.file_name())).expect("copy");
        }
        let root = Root::new(dir.path(), None).expect("root");
        let file = dir.path().join("fuzz.campaign.yaml");
        Workspace {
            _dir: dir,
            root,
            file,
        }
    })
}

fuzz_target!(|bytes: &[u8]| {
    let workspace = workspace();
    std::fs::write(&workspace.file, bytes).expect("write the campaign file");
    let Ok(document) = load::load(&workspace.file, &workspace.root) else {
        return;
    };
    // The same text as a workspace file (`campaignctl.yaml`), which has a schema of its own.
    let _ = campaignctl::validate::check_workspace(&document);
    let Ok(loaded) = campaignctl::validate::check(document, &workspace.root) else {
        return;
    };
    // A fixed moment (Wednesday 2026-11-18, 10:00 UTC): runs replay the same.
    let now = time::OffsetDateTime::from_unix_timestamp(1_794_996_000).expect("moment");
    let reading = Reading {
        root: &workspace.root,
        show_numbers: false,
        // Bounded so a file cannot ask the fuzzer for gigabytes; the bound itself is checked.
        max_numbers: 100_000,
        now,
    };
    let Ok(expanded) = expand::expand(&loaded, &reading) else {
        return;
    };
    let plan = campaignctl::pipeline::requests(vec![expanded], None, now);
    for change in &plan.changes {
        if let Some(body) = &change.body {
            let _ = serde_json::to_vec(body);
        }
    }
});
