//! Expansion through the library, on generated campaigns: deduplication across sources and
//! matrix tasks, exclusion, order and orderIDs, checked against a model of the rules in
//! docs/decisions.md ("Expansion").

use std::collections::HashSet;
use std::path::Path;

use campaignctl::expand::{self, ExpandedCampaign};
use proptest::prelude::*;

const REGIONS: [&str; 3] = ["north", "south", "west"];

/// A campaign with one task per region, each dialing `data/<region>.csv`, minus `dnc.txt`.
const CAMPAIGN: &str = r#"name: prop
matrix:
  region: [north, south, west]
task:
  taskName: "t-{{ region }}"
  country: GB
  strategyName: Default Strategy
  dispatchType: none
  agentGroupNo: NX09445G000025
  predictCallRate: 1.0
  ratioCallRate: 1.0
  startCount: 1
numbers:
  - csv: "data/{{ region }}.csv"
    other: "{{ row.id }}"
exclude:
  - file: dnc.txt
"#;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn expand_in(dir: &Path) -> Result<ExpandedCampaign, Vec<campaignctl::Diagnostic>> {
    let root = campaignctl::load::Root::new(dir, None).unwrap();
    let reading = expand::Reading {
        root: &root,
        show_numbers: false,
        max_numbers: expand::DEFAULT_MAX_NUMBERS,
        now: time::OffsetDateTime::now_utc(),
    };
    let mut expanded = campaignctl::pipeline::expand(&[dir.join("prop.campaign.yaml")], &reading);
    if expanded.diagnostics.is_empty() {
        Ok(expanded.campaigns.remove(0))
    } else {
        Err(expanded.diagnostics)
    }
}

/// One of 30 numbers of the fictional 020 7946 0xxx range, as its subscriber digits.
fn subscriber() -> impl Strategy<Value = u32> {
    100u32..130
}

/// The number written in one of the ways people write UK numbers.
fn written(subscriber: u32, form: usize) -> String {
    match form % 5 {
        0 => format!("020 7946 0{subscriber}"),
        1 => format!("+44 20 7946 0{subscriber}"),
        2 => format!("02079460{subscriber}"),
        3 => format!("0044 20-7946-0-{subscriber}"),
        _ => format!("(0)20 7946 0 {subscriber}"),
    }
}

fn e164(subscriber: u32) -> String {
    format!("442079460{subscriber}")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn dedupe_and_exclusion_follow_the_rules(
        sources in prop::collection::vec(prop::collection::vec((subscriber(), 0usize..5), 0..12), 3),
        excluded in prop::collection::vec((subscriber(), 0usize..5), 0..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "prop.campaign.yaml", CAMPAIGN);
        for (region, rows) in REGIONS.iter().zip(&sources) {
            let mut csv = String::from("id,phone\n");
            for (row, (number, form)) in rows.iter().enumerate() {
                csv.push_str(&format!("{region}-{row},{}\n", written(*number, *form)));
            }
            write(dir.path(), &format!("data/{region}.csv"), &csv);
        }
        let dnc: String = excluded.iter().map(|(n, form)| written(*n, *form) + "\n").collect();
        write(dir.path(), "dnc.txt", &dnc);

        // The model: sources in order, tasks in matrix order; excluded first, then first wins.
        let blocked: HashSet<String> = excluded.iter().map(|(n, _)| e164(*n)).collect();
        let mut seen = HashSet::new();
        let (mut duplicates, mut dropped_as_excluded) = (0, 0);
        let mut expected: Vec<Vec<(String, String)>> = Vec::new();
        for (region, rows) in REGIONS.iter().zip(&sources) {
            let mut task = Vec::new();
            for (row, (number, _)) in rows.iter().enumerate() {
                let number = e164(*number);
                if blocked.contains(&number) {
                    dropped_as_excluded += 1;
                } else if seen.insert(number.clone()) {
                    task.push((number, format!("{region}-{row}")));
                } else {
                    duplicates += 1;
                }
            }
            expected.push(task);
        }

        match expand_in(dir.path()) {
            Ok(campaign) => {
                prop_assert!(expected.iter().all(|task| !task.is_empty()));
                prop_assert_eq!(campaign.duplicates_dropped, duplicates);
                prop_assert_eq!(campaign.excluded, dropped_as_excluded);
                let got: Vec<Vec<(String, String)>> = campaign
                    .tasks
                    .iter()
                    .map(|task| {
                        task.body
                            .call_list
                            .iter()
                            .map(|item| (item.user_phone.clone(), item.other.clone()))
                            .collect()
                    })
                    .collect();
                prop_assert_eq!(got, expected);
                for task in &campaign.tasks {
                    for item in &task.body.call_list {
                        prop_assert_eq!(&item.order_id, &expand::order_id("prop", &item.user_phone));
                    }
                }
            }
            Err(problems) => {
                // Only empty tasks may fail, each named in a "nothing to dial" error.
                let empty: Vec<String> = REGIONS
                    .iter()
                    .zip(&expected)
                    .filter(|(_, task)| task.is_empty())
                    .map(|(region, _)| format!("task \"t-{region}\" has nothing to dial"))
                    .collect();
                prop_assert_eq!(problems.len(), empty.len(), "{:?}", problems);
                for (problem, message) in problems.iter().zip(&empty) {
                    prop_assert!(problem.message.starts_with(message.as_str()), "{}", problem.message);
                }
            }
        }
    }
}

#[test]
fn inputs_list_the_campaign_and_every_data_file() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "prop.campaign.yaml", CAMPAIGN);
    for (i, region) in REGIONS.iter().enumerate() {
        write(
            dir.path(),
            &format!("data/{region}.csv"),
            &format!("id,phone\nx,020 7946 011{i}\n"),
        );
    }
    write(dir.path(), "dnc.txt", "# nobody\n");
    let campaign = expand_in(dir.path()).unwrap();
    let names: Vec<String> = campaign
        .inputs
        .iter()
        .map(|path| path.strip_prefix(dir.path()).unwrap().display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "data/north.csv",
            "data/south.csv",
            "data/west.csv",
            "dnc.txt",
            "prop.campaign.yaml"
        ]
    );
}

#[test]
fn exclusions_accept_other_countries_and_skip_what_cannot_match() {
    let dir = tempfile::tempdir().unwrap();
    let campaign = CAMPAIGN
        .replace("matrix:\n  region: [north, south, west]\n", "")
        .replace("t-{{ region }}", "t")
        .replace("data/{{ region }}.csv", "data/all.csv")
        .replace("country: GB", "country: US");
    write(dir.path(), "prop.campaign.yaml", &campaign);
    write(
        dir.path(),
        "data/all.csv",
        "id,phone\na,+44 20 7946 0100\nb,(202) 555-0100\nc,+44 20 7946 0101\n",
    );
    // A GB number written with 00 counts as written; a GB national number cannot be a US one.
    write(
        dir.path(),
        "dnc.txt",
        "011 44 20 7946 0100\n020 7946 0101\n",
    );
    let campaign = expand_in(dir.path()).unwrap();
    let phones: Vec<&str> = campaign.tasks[0]
        .body
        .call_list
        .iter()
        .map(|item| item.user_phone.as_str())
        .collect();
    assert_eq!(phones, ["12025550100", "442079460101"]);
    assert_eq!(campaign.excluded, 1);
}

/// Every number dialed carries its type and time zones, counted by type; a do-not-call entry
/// removes a number that only a `check: possible-length` source accepts (Ofcom's drama range,
/// which libphonenumber does not list), so exclusions reach every number a source can dial.
#[test]
fn numbers_carry_type_and_zones_and_exclusions_reach_lenient_sources() {
    use campaignctl::phone::NumberType;
    let dir = tempfile::tempdir().unwrap();
    let campaign = CAMPAIGN
        .replace("matrix:\n  region: [north, south, west]\n", "")
        .replace("t-{{ region }}", "t")
        .replace(
            "  - csv: \"data/{{ region }}.csv\"\n    other: \"{{ row.id }}\"\n",
            "  - phones: [\"020 7946 0100\"]\n  - phones: [\"07700 900123\", \"07700 900124\"]\n    check: possible-length\n",
        );
    write(dir.path(), "prop.campaign.yaml", &campaign);
    write(dir.path(), "dnc.txt", "+44 7700 900124\n");
    let expanded = expand_in(dir.path()).unwrap();
    let task = &expanded.tasks[0];
    let phones: Vec<&str> = task
        .body
        .call_list
        .iter()
        .map(|item| item.user_phone.as_str())
        .collect();
    assert_eq!(phones, ["442079460100", "447700900123"]);
    assert_eq!(expanded.excluded, 1);
    let facts: Vec<(NumberType, Vec<&str>)> = task
        .facts
        .iter()
        .map(|facts| (facts.kind, facts.zones.zones().to_vec()))
        .collect();
    assert_eq!(
        facts,
        [
            (NumberType::FixedLine, vec!["Europe/London"]),
            (NumberType::Unknown, vec!["Etc/Unknown"]),
        ]
    );
    assert_eq!(
        expanded.types.nonzero().collect::<Vec<_>>(),
        [(NumberType::FixedLine, 1), (NumberType::Unknown, 1)]
    );
}
