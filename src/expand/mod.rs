//! Expansion: campaign files become the exact createandcall bodies they describe.
//!
//! Each matrix combination makes one task: its settings are rendered, then its number sources
//! are read in order, a batch at a time. Each batch is normalized on all cores while the next
//! one is read, then checked in order against the exclusions and the numbers taken so far (the
//! first occurrence in the campaign wins), and the numbers kept get their orderID and `other`
//! value, again on all cores. docs/decisions.md ("Expansion") records the rules.

pub mod matrix;
mod open;
use crate::nxcc::order_id;
mod other;
pub mod sources;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::PathBuf;

use minijinja::Value;
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use crate::diagnostic::excerpt;
use crate::diagnostic::{Diagnostic, Kind, Position};
use crate::load::{Document, LoadedCampaign, Root};
use crate::model::{ApiEnum, CallingRules, Campaign, NumberSource};
use crate::nxcc::{CallItem, CreateAndCall};

use crate::phone::{
    Dialed, E164, Facts, LibPhoneNumber, Number, PhoneError, PhoneNormalizer, Rules, TypeCounts,
};
use crate::template::{self, TemplateError, Templates};
use open::stream;
pub use order_id::order_id;

/// The tasks one campaign file describes, before any state is consulted.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpandedCampaign {
    pub name: String,
    /// The campaign file, as diagnostics name it.
    pub file: String,
    /// One task per matrix combination, in matrix order.
    pub tasks: Vec<DesiredTask>,
    /// Numbers dropped because an earlier source or task of the campaign already has them.
    pub duplicates_dropped: usize,
    /// Numbers dropped because an `exclude` source lists them (every occurrence counts).
    pub excluded: usize,
    /// The numbers of the tasks by type; those of type `unknown` were accepted by a source's
    /// `check: possible-length` and would fail the full check.
    pub types: TypeCounts,
    /// Every file the tasks were made from: the campaign file and each data file read, sorted.
    /// A saved plan records their hashes, so that applying it can tell when one changed.
    pub inputs: Vec<PathBuf>,
    /// The campaign's `task.maxCallListSize`: planning splits larger tasks into parts.
    pub max_call_list_size: Option<NonZeroUsize>,
    /// The campaign's blast-radius cap (`maxNumbers`), enforced on the plan.
    pub max_numbers: Option<NonZeroUsize>,
    /// When and how often its numbers may ring: enforced on the plan, and again at send time.
    pub rules: CallingRules,
}

/// One createandcall request the files describe.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredTask {
    /// The body: `call_list` holds all of the task's numbers, in source order, after
    /// exclusion and deduplication.
    pub body: CreateAndCall,
    /// The type and time zones of each number of `body.call_list`, in the same order.
    pub facts: Vec<Facts>,
}

/// Expands one checked campaign; every problem found comes back at once, sorted.
pub fn expand(
    loaded: &LoadedCampaign,
    reading: &Reading<'_>,
) -> Result<ExpandedCampaign, Vec<Diagnostic>> {
    Expansion::new(loaded, &LibPhoneNumber, reading).run()
}

/// What expansion may read, and what its messages may show.
#[derive(Debug, Clone, Copy)]
pub struct Reading<'a> {
    /// Data files must be regular files inside it.
    pub root: &'a Root,
    /// Whether diagnostics show phone numbers in full (masked by default).
    pub show_numbers: bool,
    /// The most numbers one campaign may dial: a bound on memory, and on the blast radius of
    /// a swapped file.
    pub max_numbers: usize,
    /// The rules' time (`CAMPAIGNCTL_NOW`, or the clock): how old a do-not-call list is.
    pub now: time::OffsetDateTime,
}

/// The default of [`Reading::max_numbers`].
pub const DEFAULT_MAX_NUMBERS: usize = 20_000_000;

/// Expands every campaign: those that expand, and all the problems of those that do not.
pub fn expand_all(
    campaigns: &[LoadedCampaign],
    reading: &Reading<'_>,
) -> (Vec<ExpandedCampaign>, Vec<Diagnostic>) {
    // Campaigns expand independently, so many small ones spread over the cores (a large one
    // spreads its numbers itself); the results keep the files' order.
    let results: Vec<_> = campaigns
        .par_iter()
        .map(|campaign| expand(campaign, reading))
        .collect();
    let mut expanded = Vec::with_capacity(campaigns.len());
    let mut problems = Vec::new();
    for result in results {
        match result {
            Ok(campaign) => expanded.push(campaign),
            Err(mut found) => problems.append(&mut found),
        }
    }
    Diagnostic::sort(&mut problems);
    // Campaigns may share a data file, and so its problems.
    problems.dedup();
    (expanded, problems)
}

/// One campaign being expanded, its templates compiled.
struct Expansion<'a> {
    loaded: &'a LoadedCampaign,
    campaign: &'a Campaign,
    document: &'a Document,
    normalizer: &'a dyn PhoneNormalizer,
    templates: &'a Templates,
    reading: &'a Reading<'a>,
}

/// A task whose settings rendered, before its numbers are read.
struct TaskSetup {
    /// The body without numbers.
    body: CreateAndCall,
    /// The names its templates see.
    context: Value,
    /// A setting did not render (the problem is recorded): the task is read only so that its
    /// number problems show in the same run, and is never planned.
    broken: bool,
}

/// The numbers of a campaign so far: every number taken by a task, and what was dropped.
#[derive(Default)]
struct Taken {
    numbers: FxHashSet<E164>,
    duplicates: usize,
    excluded: usize,
    types: TypeCounts,
}

/// The two lists of sources, by the key that holds them in the campaign file.
const NUMBERS: &str = "numbers";
const EXCLUDE: &str = "exclude";

impl<'a> Expansion<'a> {
    fn new(
        loaded: &'a LoadedCampaign,
        normalizer: &'a dyn PhoneNormalizer,
        reading: &'a Reading<'a>,
    ) -> Self {
        Expansion {
            loaded,
            campaign: &loaded.campaign,
            document: &loaded.document,
            normalizer,
            templates: &loaded.templates,
            reading,
        }
    }

    fn run(&self) -> Result<ExpandedCampaign, Vec<Diagnostic>> {
        let mut problems = Vec::new();
        let mut inputs = BTreeSet::from([self.document.source.path.clone()]);
        let setups = self.tasks(&mut problems);
        let excluded = self.exclusions(&setups, &mut inputs, &mut problems);
        let mut taken = Taken::default();
        let tasks: Vec<DesiredTask> = setups
            .into_iter()
            .map(|setup| self.dial(setup, &excluded, &mut taken, &mut inputs, &mut problems))
            .collect();
        if !problems.is_empty() {
            Diagnostic::sort(&mut problems);
            // A problem in a source every task reads is found once per task.
            problems.dedup();
            return Err(problems);
        }
        Ok(ExpandedCampaign {
            name: self.campaign.name.clone(),
            file: self.document.source.name.clone(),
            tasks,
            duplicates_dropped: taken.duplicates,
            excluded: taken.excluded,
            types: taken.types,
            inputs: inputs.into_iter().collect(),
            max_call_list_size: self.campaign.task.max_call_list_size,
            max_numbers: self.campaign.max_numbers,
            rules: self.campaign.calling_rules(),
        })
    }

    /// The tasks' settings, one task per matrix combination; task names must be unique.
    fn tasks(&self, problems: &mut Vec<Diagnostic>) -> Vec<TaskSetup> {
        let combinations = match matrix::combinations(&self.campaign.matrix) {
            Ok(combinations) => combinations,
            Err(count) => {
                problems.push(self.document.diagnostic(
                    "/matrix",
                    format!(
                        "the matrix makes {count} tasks; a campaign may make at most {}",
                        matrix::MAX_TASKS
                    ),
                ));
                return Vec::new();
            }
        };
        let mut names: HashMap<String, usize> = HashMap::new();
        let mut setups = Vec::with_capacity(combinations.len());
        for (index, combination) in combinations.iter().enumerate() {
            let Some(setup) = self.task_setup(combination, problems) else {
                continue;
            };
            if setup.broken {
                setups.push(setup);
                continue;
            }
            if let Some(first) = names.get(&setup.body.task_name) {
                problems.push(self.document.diagnostic(
                    "/task/taskName",
                    format!(
                        "task name \"{}\" is used twice in this campaign: by {} and by {}; \
                         make every matrix key part of `taskName`",
                        setup.body.task_name,
                        self.describe(&combinations[*first]),
                        self.describe(combination),
                    ),
                ));
                continue;
            }
            names.insert(setup.body.task_name.clone(), index);
            setups.push(setup);
        }
        setups
    }

    /// A matrix combination for messages: `region=north (9:12), tier=1 (10:9)`.
    fn describe(&self, combination: &[usize]) -> String {
        let parts: Vec<String> = self
            .campaign
            .matrix
            .iter()
            .zip(combination)
            .map(|((key, values), &index)| {
                // Matrix keys are identifiers (the schema says so): no pointer escaping needed.
                let at = self.document.position(&format!("/matrix/{key}/{index}"));
                let value = match &values.0[index] {
                    serde_json::Value::String(text) => text.clone(),
                    other => other.to_string(),
                };
                format!("{key}={value} ({}:{})", at.line, at.column)
            })
            .collect();
        parts.join(", ")
    }

    fn task_setup(
        &self,
        combination: &[usize],
        problems: &mut Vec<Diagnostic>,
    ) -> Option<TaskSetup> {
        let campaign = self.campaign;
        let vars = campaign
            .vars
            .iter()
            .map(|(name, value)| (name.as_str(), value));
        let matrix = campaign
            .matrix
            .iter()
            .zip(combination)
            .map(|((name, values), &index)| (name.as_str(), &values.0[index]));
        let context = template::task_context(&campaign.name, vars.chain(matrix));
        let task = &campaign.task;
        let found_before = problems.len();
        let mut render =
            |pointer: &str, source: &str| self.render(pointer, source, &context, problems);
        let task_name = render("/task/taskName", &task.task_name);
        let task_desc = task
            .task_desc
            .as_ref()
            .map(|desc| render("/task/taskDesc", desc));
        let country = render("/task/country", &task.country);
        let strategy_name = render("/task/strategyName", &task.strategy_name);
        let agent_group_no = render("/task/agentGroupNo", &task.agent_group_no);
        let broken = problems.len() > found_before;
        if broken && !self.normalizer.is_known_region(&country) {
            // Numbers cannot be read without their country.
            return None;
        }
        if !broken && task_name.trim().is_empty() {
            problems.push(self.document.diagnostic(
                "/task/taskName",
                "`taskName` renders to an empty name; every task needs one",
            ));
            return None;
        }
        if !broken && !self.normalizer.is_known_region(&country) {
            problems.push(self.document.diagnostic(
                "/task/country",
                format!(
                    "`country`: \"{country}\" (rendered from the template) is not a known \
                     two-letter country code (ISO 3166-1, e.g. HK, US, GB)"
                ),
            ));
            return None;
        }
        let body = CreateAndCall {
            task_name,
            task_desc,
            // The provider documents upper case (`HK`); the metadata reads either.
            country: country.to_ascii_uppercase(),
            strategy_name,
            dispatch_type: task.dispatch_type.code(),
            agent_group_no,
            predict_call_rate: task.predict_call_rate,
            ratio_call_rate: task.ratio_call_rate,
            start_count: task.start_count,
            startup_type: task.startup_type.map(ApiEnum::code),
            call_list: Vec::new(),
        };
        Some(TaskSetup {
            body,
            context,
            broken,
        })
    }

    /// The numbers never to dial. Exclusions are campaign-wide: each `exclude` source is read
    /// for every task whose rendered path or country differs (numbers are read with the
    /// task's country), and all of them apply to every task.
    fn exclusions(
        &self,
        setups: &[TaskSetup],
        inputs: &mut BTreeSet<PathBuf>,
        problems: &mut Vec<Diagnostic>,
    ) -> FxHashSet<E164> {
        let mut excluded = FxHashSet::default();
        let mut read: HashSet<(usize, Option<String>, &str)> = HashSet::new();
        for setup in setups {
            for (index, source) in self.campaign.exclude.iter().enumerate() {
                if !self.fresh(index, source, problems) {
                    continue;
                }
                let Ok(path) = self.source_path(setup, EXCLUDE, index, source, problems) else {
                    continue;
                };
                let country = setup.body.country.as_str();
                if !read.insert((index, path.clone(), country)) {
                    continue;
                }
                let Some(mut open) = self.open(EXCLUDE, index, source, path.as_deref(), problems)
                else {
                    continue;
                };
                inputs.extend(open.path.clone());
                let rules = Rules::exclusions();
                stream(&mut open, self.normalizer, country, &rules, |_, results| {
                    // A number of another country is excluded as written; text that is no
                    // number of the task's country cannot equal a number the task dials.
                    excluded.extend(results.into_iter().filter_map(|result| match result {
                        Ok(Number { e164: number, .. })
                        | Err(PhoneError::OtherCountry { number }) => Some(number),
                        Err(_) => None,
                    }));
                    true
                });
                problems.extend(open.problems.into_diagnostics());
            }
        }
        excluded
    }

    /// Whether the do-not-call source `exclude[index]` is recent enough by its own `asOf` and
    /// `maxAge`; a stale or unreadable declaration is recorded at its line.
    fn fresh(&self, index: usize, source: &NumberSource, problems: &mut Vec<Diagnostic>) -> bool {
        let (as_of, max_age) = source.freshness();
        let at = |key: &str| format!("/{EXCLUDE}/{index}/{key}");
        let mut refuse = |key: &str, message: String| {
            problems.push(self.document.diagnostic(&at(key), message));
            false
        };
        let Some(max_age) = max_age else {
            return true;
        };
        let Some(age_limit) = crate::clock::parse_duration(max_age) else {
            return refuse(
                "maxAge",
                format!("`maxAge`: {max_age:?} is no duration; write it as e.g. 31d or 12h"),
            );
        };
        let Some(as_of) = as_of else {
            return refuse(
                "maxAge",
                "`maxAge` needs `asOf`, the day the list's data is from".to_owned(),
            );
        };
        let Some(day) = crate::clock::parse_day_or_time(as_of) else {
            return refuse(
                "asOf",
                format!("`asOf`: {as_of:?} is no day; write it as e.g. 2026-11-20"),
            );
        };
        let age = self.reading.now - day;
        if age > age_limit {
            return refuse(
                "asOf",
                format!(
                    "this do-not-call list is from {as_of}, {} days old, older than its maxAge \
                     of {max_age}: refresh it (the campaign is refused, since stale suppressions \
                     are no protection)",
                    age.whole_days()
                ),
            );
        }
        true
    }

    /// The task with its numbers: each source in order, minus exclusions and numbers taken.
    fn dial(
        &self,
        setup: TaskSetup,
        excluded: &FxHashSet<E164>,
        taken: &mut Taken,
        inputs: &mut BTreeSet<PathBuf>,
        problems: &mut Vec<Diagnostic>,
    ) -> DesiredTask {
        let found_before = problems.len();
        let (kept_before, dropped_before) =
            (taken.numbers.len(), taken.duplicates + taken.excluded);
        let mut call_list = Vec::new();
        let mut facts = Vec::new();
        let country = setup.body.country.as_str();
        let dialed = self
            .campaign
            .number_types
            .as_deref()
            .map_or_else(Dialed::default, Dialed::listed);
        for (index, source) in self.campaign.numbers.iter().enumerate() {
            if source.freshness() != (None, None) {
                problems.push(self.document.diagnostic(
                    &format!("/{NUMBERS}/{index}"),
                    "`asOf` and `maxAge` say how old a do-not-call list may be: they belong to \
                     `exclude` sources",
                ));
            }
            let Ok(path) = self.source_path(&setup, NUMBERS, index, source, problems) else {
                continue;
            };
            let Some(mut open) = self.open(NUMBERS, index, source, path.as_deref(), problems)
            else {
                continue;
            };
            inputs.extend(open.path.clone());
            let other = self.other(&setup, index, source, &open, problems);
            let mut invalid = open.problems.sibling(Kind::Number);
            let mut other_failed: Option<(TemplateError, Position)> = None;
            let mut over_limit = false;
            let rules = Rules {
                check: source.check(),
                dialed,
            };
            stream(
                &mut open,
                self.normalizer,
                country,
                &rules,
                |batch, results| {
                    let mut kept: Vec<(usize, E164, Facts)> = Vec::with_capacity(results.len());
                    taken.numbers.reserve(results.len());
                    for (row, result) in results.into_iter().enumerate() {
                        match result {
                            Ok(Number { e164, .. }) if excluded.contains(&e164) => {
                                taken.excluded += 1
                            }
                            Ok(Number { e164, facts: known }) => {
                                if taken.numbers.insert(e164) {
                                    kept.push((row, e164, known));
                                    taken.types.add(known.kind);
                                } else {
                                    taken.duplicates += 1;
                                }
                            }
                            Err(err) => {
                                let shown = excerpt(batch.phone(row), self.reading.show_numbers);
                                invalid.push(
                                    batch.position(row),
                                    err.message(&shown, country, self.reading.show_numbers),
                                );
                            }
                        }
                    }
                    let items: Vec<Result<CallItem, TemplateError>> = kept
                        .par_iter()
                        .map(|&(row, number, known)| {
                            let user_phone = number.digits();
                            Ok(CallItem {
                                order_id: order_id::order_id_of_digits(
                                    &self.campaign.name,
                                    &user_phone,
                                ),
                                user_phone,
                                other: other.value(batch, row, known.zones.zones())?,
                            })
                        })
                        .collect();
                    for (item, &(row, _, known)) in items.into_iter().zip(&kept) {
                        match item {
                            Ok(item) => {
                                call_list.push(item);
                                facts.push(known);
                            }
                            Err(err) => {
                                other_failed.get_or_insert((err, batch.position(row)));
                            }
                        }
                    }
                    // Past the limit one batch at most is held; the rest is not read.
                    over_limit = taken.numbers.len() > self.reading.max_numbers;
                    !over_limit
                },
            );
            if let Some((err, at)) = other_failed {
                let pointer = format!("/{NUMBERS}/{index}/other");
                let mut problem = self.template_problem(&pointer, err);
                problem.message = format!(
                    "{} (for the number at {}:{}:{})",
                    problem.message,
                    open.problems.file(),
                    at.line,
                    at.column
                );
                problems.push(problem);
            }
            problems.extend(open.problems.into_diagnostics());
            problems.extend(invalid.into_diagnostics());
            if over_limit {
                problems.push(self.document.diagnostic(
                    &format!("/{NUMBERS}/{index}"),
                    format!(
                        "the campaign has more than {} numbers to dial, the most one campaign \
                         may hold; split it into several campaigns, or check that this source \
                         is the list you meant",
                        self.reading.max_numbers
                    ),
                ));
                break;
            }
        }
        if !setup.broken && call_list.is_empty() && problems.len() == found_before {
            let read = taken.numbers.len() - kept_before + taken.duplicates + taken.excluded
                - dropped_before;
            let why = match read {
                0 => "its sources hold no numbers".to_owned(),
                1 => "the one number of its sources is excluded or already in an earlier task \
                      or source of the campaign"
                    .to_owned(),
                _ => format!(
                    "all {read} numbers of its sources are excluded or already in an earlier \
                     task or source of the campaign"
                ),
            };
            problems.push(self.document.diagnostic(
                "/task/taskName",
                format!(
                    "task \"{}\" has nothing to dial: {why}",
                    setup.body.task_name
                ),
            ));
        }
        DesiredTask {
            body: CreateAndCall {
                call_list,
                ..setup.body
            },
            facts,
        }
    }

    /// Renders the string at `pointer`; on error records the problem and returns "".
    fn render(
        &self,
        pointer: &str,
        source: &str,
        context: &Value,
        problems: &mut Vec<Diagnostic>,
    ) -> String {
        self.templates
            .render(pointer, source, context)
            .unwrap_or_else(|err| {
                problems.push(self.template_problem(pointer, err));
                String::new()
            })
    }

    /// A template problem at its line and column in the campaign file.
    fn template_problem(&self, pointer: &str, err: TemplateError) -> Diagnostic {
        let position = self.document.position_in_string(pointer, err.offset);
        self.document
            .source
            .diagnostic(position, err.message)
            .with_pointer(pointer)
            .with_kind(Kind::Template)
    }
}
#[cfg(test)]
pub(super) mod tests {
    use std::path::Path;

    use super::*;

    /// The expansion of `yaml`, written as `t.campaign.yaml` in `dir` (the workspace root)
    /// with `files` beside it.
    pub(super) fn expanded(
        dir: &Path,
        yaml: &str,
        files: &[(&str, &str)],
    ) -> Result<ExpandedCampaign, Vec<Diagnostic>> {
        expanded_at_most(dir, yaml, files, DEFAULT_MAX_NUMBERS)
    }

    /// [`expanded`] with at most `max_numbers` numbers per campaign.
    fn expanded_at_most(
        dir: &Path,
        yaml: &str,
        files: &[(&str, &str)],
        max_numbers: usize,
    ) -> Result<ExpandedCampaign, Vec<Diagnostic>> {
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let path = dir.join("t.campaign.yaml");
        std::fs::write(&path, yaml).unwrap();
        let root = Root::new(dir, None).unwrap();
        let document = crate::load::load(&path, &root).unwrap();
        let loaded = crate::validate::check(document, &root).map_err(|r| r.problems)?;
        let reading = Reading {
            root: &root,
            show_numbers: false,
            max_numbers,
            now: crate::clock::parse("2026-12-01T12:00:00Z").unwrap(),
        };
        expand(&loaded, &reading)
    }

    /// A campaign of two tasks (regions a and b) over `numbers`, without `exclude` when it is
    /// empty. London drama numbers (020 7946 0xxx) are valid and reserved for fiction.
    pub(super) fn campaign(numbers: &str, exclude: &str) -> String {
        format!(
            "name: t\nmatrix:\n  region: [a, b]\ntask:\n  taskName: \"t-{{{{ region }}}}\"\n  \
             country: GB\n  strategyName: s\n  dispatchType: none\n  agentGroupNo: g\n  \
             predictCallRate: 1\n  ratioCallRate: 1\n  startCount: 1\nnumbers:\n{numbers}{exclude}"
        )
    }

    fn call_lists(campaign: &ExpandedCampaign) -> Vec<Vec<String>> {
        campaign
            .tasks
            .iter()
            .map(|task| {
                task.body
                    .call_list
                    .iter()
                    .map(|item| item.user_phone.clone())
                    .collect()
            })
            .collect()
    }

    #[test]
    fn each_number_goes_to_the_first_task_that_has_it_and_exclusions_apply_to_all() {
        let dir = tempfile::tempdir().unwrap();
        let numbers = "  - csv: \"{{ region }}.csv\"\n";
        let exclude = "exclude:\n  - phones: [\"020 7946 0003\"]\n";
        let files = [
            (
                "a.csv",
                "phone\n020 7946 0001\n+44 20 7946 0002\n02079460003\n",
            ),
            ("b.csv", "phone\n020 7946 0002\n020 7946 0004\n"),
        ];
        let expanded = expanded(dir.path(), &campaign(numbers, exclude), &files).unwrap();
        let names: Vec<&str> = expanded
            .tasks
            .iter()
            .map(|t| t.body.task_name.as_str())
            .collect();
        assert_eq!(names, ["t-a", "t-b"]);
        assert_eq!(
            call_lists(&expanded),
            [
                vec!["442079460001".to_owned(), "442079460002".to_owned()],
                vec!["442079460004".to_owned()]
            ]
        );
        assert_eq!((expanded.duplicates_dropped, expanded.excluded), (1, 1));
        assert_eq!(expanded.inputs.len(), 3, "{:?}", expanded.inputs);
    }

    #[test]
    fn a_task_left_with_nothing_to_dial_is_an_error_at_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let numbers = "  - phones: [\"020 7946 0001\"]\n";
        let problems = expanded(dir.path(), &campaign(numbers, ""), &[]).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0]
                .message
                .starts_with("task \"t-b\" has nothing to dial"),
            "{problems:?}"
        );
        assert_eq!(problems[0].pointer.as_deref(), Some("/task/taskName"));
    }

    #[test]
    fn a_campaign_over_the_number_limit_is_refused_at_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let numbers = "  - phones: [\"020 7946 0001\", \"020 7946 0002\", \"020 7946 0003\"]\n";
        let yaml = campaign(numbers, "").replace("region: [a, b]", "region: [a]");
        assert!(expanded_at_most(dir.path(), &yaml, &[], 3).is_ok());
        let problems = expanded_at_most(dir.path(), &yaml, &[], 2).unwrap_err();
        assert!(
            problems.iter().any(|p| p
                .message
                .starts_with("the campaign has more than 2 numbers")
                && p.pointer.as_deref() == Some("/numbers/0")),
            "{problems:?}"
        );
    }

    #[test]
    fn a_do_not_call_list_older_than_its_max_age_refuses_the_campaign() {
        let dir = tempfile::tempdir().unwrap();
        let numbers = "  - phones: [\"020 7946 0001\"]\n";
        let with = |exclude: &str| {
            let yaml = campaign(numbers, exclude).replace("region: [a, b]", "region: [a]");
            expanded(dir.path(), &yaml, &[])
        };
        // The helper's clock stands at 2026-12-01T12:00Z.
        let fresh =
            "exclude:\n  - phones: [\"020 7946 0009\"]\n    asOf: 2026-11-20\n    maxAge: 31d\n";
        assert!(with(fresh).is_ok());
        let stale = fresh.replace("maxAge: 31d", "maxAge: 7d");
        let problems = with(&stale).unwrap_err();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer.as_deref(), Some("/exclude/0/asOf"));
        assert!(
            problems[0].message.starts_with(
                "this do-not-call list is from 2026-11-20, 11 days old, older than its maxAge of 7d"
            ),
            "{problems:?}"
        );
        let without_day = fresh.replace("    asOf: 2026-11-20\n", "");
        assert!(
            with(&without_day).unwrap_err()[0]
                .message
                .contains("needs `asOf`")
        );
        let bad_age = fresh.replace("31d", "a month");
        assert!(
            with(&bad_age).unwrap_err()[0]
                .message
                .contains("is no duration")
        );
        let in_numbers = campaign("  - phones: [\"020 7946 0001\"]\n    maxAge: 31d\n", "")
            .replace("region: [a, b]", "region: [a]");
        let problems = expanded(dir.path(), &in_numbers, &[]).unwrap_err();
        assert!(
            problems[0].message.contains("belong to `exclude` sources"),
            "{problems:?}"
        );
    }
}
