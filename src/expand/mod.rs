//! Expansion: campaign files become the exact createandcall bodies they describe.
//!
//! Each matrix combination makes one task: its settings are rendered, then its number sources
//! are read in order, a batch at a time. Each batch is normalized on all cores while the next
//! one is read, then checked in order against the exclusions and the numbers taken so far (the
//! first occurrence in the campaign wins), and the numbers kept get their orderID and `other`
//! value, again on all cores. docs/decisions.md ("Expansion") records the rules.

pub mod matrix;
mod order_id;
pub mod sources;

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::PathBuf;

use minijinja::{Template, Value};
use rayon::prelude::*;
use rustc_hash::FxHashSet;

use crate::diagnostic::{Diagnostic, Position};
use crate::load::{self, Document};
use crate::model::{ApiEnum, Campaign, NumberSource};
use crate::nxcc::{CallItem, CreateAndCall};
use crate::validate::LoadedCampaign;

use crate::phone::{
    Dialed, E164, Facts, LibPhoneNumber, Number, PhoneError, PhoneNormalizer, Rules, TypeCounts,
};
use crate::template::{self, Piece, TemplateError, Templates};
pub use order_id::order_id;
use sources::{Batch, CsvReader, Header, OpenError, Problems, Reader, TextReader};

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

/// What checking and expanding the campaign files under some paths found.
#[derive(Debug, Default)]
pub struct Expanded {
    /// The campaigns that passed every check and expanded.
    pub campaigns: Vec<ExpandedCampaign>,
    /// Every problem of every file, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// How many campaign files were found.
    pub files_checked: usize,
}

/// Finds, checks and expands every campaign file under `paths` (see [`crate::validate::check`]).
pub fn check_and_expand(paths: &[PathBuf]) -> Expanded {
    let checked = crate::validate::check(paths);
    let (campaigns, problems) = expand_all(&checked.campaigns);
    let mut diagnostics = checked.diagnostics;
    diagnostics.extend(problems);
    Diagnostic::sort(&mut diagnostics);
    Expanded {
        campaigns,
        diagnostics,
        files_checked: checked.files_checked,
    }
}

/// Expands one checked campaign; every problem found comes back at once, sorted.
pub fn expand(loaded: &LoadedCampaign) -> Result<ExpandedCampaign, Vec<Diagnostic>> {
    Expansion::compile(loaded, &LibPhoneNumber)?.run()
}

/// Expands every campaign: those that expand, and all the problems of those that do not.
pub fn expand_all(campaigns: &[LoadedCampaign]) -> (Vec<ExpandedCampaign>, Vec<Diagnostic>) {
    // Campaigns expand independently, so many small ones spread over the cores (a large one
    // spreads its numbers itself); the results keep the files' order.
    let results: Vec<_> = campaigns.par_iter().map(expand).collect();
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
    templates: Templates,
}

/// A task whose settings rendered, before its numbers are read.
struct TaskSetup {
    /// The body without numbers.
    body: CreateAndCall,
    /// The names its templates see.
    context: Value,
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
    /// Compiles every template of the campaign once.
    fn compile(
        loaded: &'a LoadedCampaign,
        normalizer: &'a dyn PhoneNormalizer,
    ) -> Result<Self, Vec<Diagnostic>> {
        let mut expansion = Expansion {
            loaded,
            campaign: &loaded.campaign,
            document: &loaded.document,
            normalizer,
            templates: Templates::default(),
        };
        let mut problems = Vec::new();
        for (pointer, source) in template_strings(expansion.campaign) {
            if let Err(err) = expansion.templates.add(&pointer, source) {
                problems.push(expansion.template_problem(&pointer, err));
            }
        }
        if problems.is_empty() {
            Ok(expansion)
        } else {
            Err(problems)
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
        if problems.len() > found_before {
            return None;
        }
        if task_name.trim().is_empty() {
            problems.push(self.document.diagnostic(
                "/task/taskName",
                "`taskName` renders to an empty name; every task needs one",
            ));
            return None;
        }
        if !self.normalizer.is_known_region(&country) {
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
        Some(TaskSetup { body, context })
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
                });
                problems.extend(open.problems.into_diagnostics());
            }
        }
        excluded
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
            let Ok(path) = self.source_path(&setup, NUMBERS, index, source, problems) else {
                continue;
            };
            let Some(mut open) = self.open(NUMBERS, index, source, path.as_deref(), problems)
            else {
                continue;
            };
            inputs.extend(open.path.clone());
            let other = self.other(&setup, index, source, &open, problems);
            let mut invalid = open.problems.sibling();
            let mut other_failed: Option<(TemplateError, Position)> = None;
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
                            Err(err) => invalid
                                .push(batch.position(row), err.message(batch.phone(row), country)),
                        }
                    }
                    let items: Vec<Result<CallItem, TemplateError>> = kept
                        .par_iter()
                        .map(|&(row, number, _)| {
                            let user_phone = number.digits();
                            Ok(CallItem {
                                order_id: order_id::order_id_of_digits(
                                    &self.campaign.name,
                                    &user_phone,
                                ),
                                user_phone,
                                other: other.value(batch, row)?,
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
        }
        if call_list.is_empty() && problems.len() == found_before {
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

    /// The rendered path of a file source (`None` for numbers written inline); `Err` when it
    /// does not render, the problem recorded.
    fn source_path(
        &self,
        setup: &TaskSetup,
        list: &str,
        index: usize,
        source: &NumberSource,
        problems: &mut Vec<Diagnostic>,
    ) -> Result<Option<String>, ()> {
        let Some((key, path)) = source_path(source) else {
            return Ok(None);
        };
        let pointer = format!("/{list}/{index}/{key}");
        let found_before = problems.len();
        let rendered = self.render(&pointer, path, &setup.context, problems);
        if problems.len() > found_before {
            return Err(());
        }
        if rendered.trim().is_empty() {
            problems.push(
                self.document
                    .diagnostic(&pointer, format!("`{key}`: the path renders empty")),
            );
            return Err(());
        }
        Ok(Some(rendered))
    }

    /// Opens a source whose path (if any) is rendered; problems are recorded.
    fn open(
        &self,
        list: &str,
        index: usize,
        source: &NumberSource,
        path: Option<&str>,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<OpenSource> {
        let at = |key: &str| format!("/{list}/{index}/{key}");
        let (key, path) = match (source, path) {
            (NumberSource::Phones(phones), _) => {
                let numbers = phones
                    .phones
                    .iter()
                    .enumerate()
                    .map(|(j, phone)| {
                        let position = self.document.position(&at(&format!("phones/{j}")));
                        (phone.as_text().into_owned(), position)
                    })
                    .collect();
                let (reader, batch) = Reader::inline(numbers);
                return Some(OpenSource {
                    reader,
                    batch,
                    problems: Problems::in_campaign_file(&self.document.source),
                    header: Header::from([]),
                    path: None,
                });
            }
            (NumberSource::Csv(_), Some(path)) => ("csv", path),
            (NumberSource::File(_), Some(path)) => ("file", path),
            // Sources with a path always have one rendered.
            (_, None) => return None,
        };
        let full = self.loaded.base_dir().join(path);
        let file = load::display(&full);
        let opened = match source {
            NumberSource::Csv(csv) => {
                let delimiter = match csv.delimiter.as_deref().map(str::as_bytes) {
                    None => b',',
                    Some(&[byte]) if byte.is_ascii() => byte,
                    Some(_) => {
                        problems.push(self.document.diagnostic(
                            &at("delimiter"),
                            "`delimiter` must be one ASCII character, such as `;` or a tab",
                        ));
                        return None;
                    }
                };
                CsvReader::open(&full, &file, delimiter)
                    .map(|(reader, header)| (Reader::Csv(reader), header))
            }
            _ => TextReader::open(&full, &file)
                .map(|reader| (Reader::Text(reader), Header::from([]))),
        };
        let (reader, header) = match opened {
            Ok(opened) => opened,
            Err(err) => {
                problems.push(match err {
                    OpenError::NotFound => self.document.diagnostic(
                        &at(key),
                        format!("`{key}`: file \"{path}\" not found (looked for {file})"),
                    ),
                    OpenError::Source(message) => self
                        .document
                        .diagnostic(&at(key), format!("`{key}`: {message}")),
                    OpenError::InFile(diagnostic) => diagnostic,
                });
                return None;
            }
        };
        let batch = match source {
            NumberSource::Csv(csv) => {
                let Some(phone) = header.iter().position(|name| *name == csv.phone_column) else {
                    problems.push(self.document.diagnostic(
                        &at("phoneColumn"),
                        format!(
                            "CSV column `{}` is not in {file}; its columns are: {}",
                            csv.phone_column,
                            header.join(", ")
                        ),
                    ));
                    return None;
                };
                Batch::new(header.len(), phone)
            }
            _ => Batch::new(1, 0),
        };
        Some(OpenSource {
            reader,
            batch,
            problems: Problems::in_file(&file),
            header,
            path: Some(full),
        })
    }

    /// How the `other` value of each number of a source is made. Problems found here are
    /// recorded, and the source is still read so its numbers are checked.
    fn other(
        &self,
        setup: &TaskSetup,
        index: usize,
        source: &NumberSource,
        open: &OpenSource,
        problems: &mut Vec<Diagnostic>,
    ) -> Other<'_> {
        let pointer = format!("/{NUMBERS}/{index}/other");
        let Some(text) = source_other(source) else {
            return Other::Fixed(String::new());
        };
        let Some(template) = self.templates.get(&pointer) else {
            return Other::Fixed(text.to_owned());
        };
        let is_csv = matches!(source, NumberSource::Csv(_));
        if !is_csv || !template::uses_row(&template) {
            return match template::render(&template, &setup.context) {
                Ok(value) => Other::Fixed(value),
                Err(err) => {
                    problems.push(self.template_problem(&pointer, err));
                    Other::Fixed(String::new())
                }
            };
        }
        let header = &open.header;
        let mut missing = |column: &str, offset: usize| {
            let position = self.document.position_in_string(&pointer, offset);
            let message = format!(
                "CSV column `{column}` is not in {}; its columns are: {}",
                open.problems.file(),
                header.join(", ")
            );
            problems.push(
                self.document
                    .source
                    .diagnostic(position, message)
                    .with_pointer(&pointer),
            );
        };
        let absent = template::missing_columns(&template, header);
        for (column, offset) in &absent {
            missing(column, *offset);
        }
        if !absent.is_empty() {
            return Other::Fixed(String::new());
        }
        let Some(pieces) = template::row_lookups(text) else {
            return Other::Rows {
                template,
                context: setup.context.clone(),
                header: header.clone(),
            };
        };
        let mut fields = Vec::with_capacity(pieces.len());
        for piece in pieces {
            match piece {
                Piece::Text(text) => fields.push(Field::Text(text.to_owned())),
                Piece::Column(name) => match header.iter().position(|column| column == name) {
                    Some(column) => fields.push(Field::Column(column)),
                    None => {
                        missing(name, text.find(name).unwrap_or(0));
                        return Other::Fixed(String::new());
                    }
                },
            }
        }
        Other::Fields(fields)
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
    }
}

/// A source ready to read.
struct OpenSource {
    reader: Reader,
    batch: Batch,
    /// Problems reading it.
    problems: Problems,
    /// A CSV file's columns (empty for other sources).
    header: Header,
    /// The data file (`None` for numbers written in the campaign file).
    path: Option<PathBuf>,
}

/// How a source's `other` value is made for each of its numbers.
enum Other<'t> {
    /// The same for every number: no `other`, or one that does not read `row`.
    Fixed(String),
    /// Text and CSV fields, filled in without the template engine.
    Fields(Vec<Field>),
    /// A template over the row, rendered for each number.
    Rows {
        template: Template<'t, 't>,
        context: Value,
        header: Header,
    },
}

enum Field {
    Text(String),
    Column(usize),
}

impl Other<'_> {
    fn value(&self, batch: &Batch, row: usize) -> Result<String, TemplateError> {
        match self {
            Other::Fixed(value) => Ok(value.clone()),
            Other::Fields(fields) => Ok(fields
                .iter()
                .map(|field| match field {
                    Field::Text(text) => text.as_str(),
                    Field::Column(column) => batch.field(row, *column),
                })
                .collect()),
            Other::Rows {
                template,
                context,
                header,
            } => template::render(
                template,
                &template::row_context(context, header, batch.fields(row)),
            ),
        }
    }
}

/// Reads a source to its end. Each batch is normalized on all cores while the next one is
/// read, then handed to `consume` with one result per row, in order.
fn stream<F>(
    open: &mut OpenSource,
    normalizer: &dyn PhoneNormalizer,
    country: &str,
    rules: &Rules,
    mut consume: F,
) where
    F: FnMut(&Batch, Vec<Result<Number, PhoneError>>) + Send,
{
    let OpenSource {
        reader,
        batch,
        problems,
        ..
    } = open;
    let mut next = batch.empty_like();
    let mut more = reader.fill(batch, problems);
    while !batch.is_empty() {
        let (more_next, ()) = rayon::join(
            || more && reader.fill(&mut next, problems),
            || {
                let results = (0..batch.len())
                    .into_par_iter()
                    .map(|row| normalizer.read(batch.phone(row), country, rules))
                    .collect();
                consume(batch, results);
            },
        );
        std::mem::swap(batch, &mut next);
        next.clear();
        more = more_next;
    }
}

/// The key and text of a source's path, for sources read from a file.
fn source_path(source: &NumberSource) -> Option<(&'static str, &str)> {
    match source {
        NumberSource::Phones(_) => None,
        NumberSource::Csv(csv) => Some(("csv", &csv.csv)),
        NumberSource::File(file) => Some(("file", &file.file)),
    }
}

fn source_other(source: &NumberSource) -> Option<&str> {
    match source {
        NumberSource::Phones(phones) => phones.other.as_deref(),
        NumberSource::Csv(csv) => csv.other.as_deref(),
        NumberSource::File(file) => file.other.as_deref(),
    }
}

/// Every string of a campaign that is read as a template, with its pointer.
fn template_strings(campaign: &Campaign) -> Vec<(String, &str)> {
    let task = &campaign.task;
    let mut found: Vec<(String, &str)> = [
        ("taskName", Some(&task.task_name)),
        ("taskDesc", task.task_desc.as_ref()),
        ("country", Some(&task.country)),
        ("strategyName", Some(&task.strategy_name)),
        ("agentGroupNo", Some(&task.agent_group_no)),
    ]
    .into_iter()
    .filter_map(|(key, text)| Some((format!("/task/{key}"), text?.as_str())))
    .collect();
    for (list, sources) in [(NUMBERS, &campaign.numbers), (EXCLUDE, &campaign.exclude)] {
        for (index, source) in sources.iter().enumerate() {
            if let Some((key, path)) = source_path(source) {
                found.push((format!("/{list}/{index}/{key}"), path));
            }
            if let Some(other) = source_other(source) {
                found.push((format!("/{list}/{index}/other"), other));
            }
        }
    }
    found
}
