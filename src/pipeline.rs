//! The one driver: discover → load → validate → expand → plan. Each phase hands its output to
//! the next; no phase calls the one before it.

use std::collections::BTreeSet;
use std::num::NonZeroUsize;
use std::path::PathBuf;

use rayon::prelude::*;
use time::OffsetDateTime;

use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::expand::{self, ExpandedCampaign, Reading};
use crate::load::Root;
use crate::load::{self, LoadedCampaign};
use crate::model::WorkspaceSettings;
use crate::plan::{self, Plan, SendHistory};
use crate::state::{Snapshot, Store};
use crate::validate::{self, NameUse, Rejected};

/// What checking and expanding the campaign files under some paths found.
#[derive(Debug, Default)]
pub struct Expanded {
    /// The campaigns that passed every check and expanded, in file order.
    pub campaigns: Vec<ExpandedCampaign>,
    /// Every problem of every file, sorted.
    pub diagnostics: Vec<Diagnostic>,
    /// How many campaign files were found.
    pub files_checked: usize,
    /// The workspace file's settings (all defaults without one).
    pub workspace: WorkspaceSettings,
}

impl Expanded {
    /// The campaigns, when there are some and no file has a problem: a plan of half the files
    /// would hide the other half's problems.
    pub fn into_campaigns(self, paths: &[PathBuf]) -> Result<Vec<ExpandedCampaign>, Error> {
        if !self.diagnostics.is_empty() {
            return Err(Error::Invalid {
                diagnostics: self.diagnostics,
                files_checked: self.files_checked,
            });
        }
        self.found_any(paths)?;
        Ok(self.campaigns)
    }

    /// An error when `paths` held no campaign file at all: checking nothing must not pass.
    pub fn found_any(&self, paths: &[PathBuf]) -> Result<(), Error> {
        if self.files_checked > 0 || !self.diagnostics.is_empty() {
            return Ok(());
        }
        Err(Error::NoCampaignFiles {
            paths: if paths.is_empty() {
                vec![load::DEFAULT_PATH.to_owned()]
            } else {
                paths.iter().map(|p| load::display(p)).collect()
            },
        })
    }
}

/// One file, loaded and checked.
type Checked = Result<LoadedCampaign, Rejected>;

/// Finds, loads, checks and expands every campaign file under `paths`, reading only inside
/// `reading.root` and reporting every problem of every file at once.
pub fn expand(paths: &[PathBuf], reading: &Reading<'_>) -> Expanded {
    expand_while(paths, reading, |_| ()).0
}

/// Like [`expand`], with `read_state` called on the names of the campaigns found once every
/// file has passed its checks, on a thread of its own while the campaigns expand: a re-plan
/// against a state of a million numbers then waits for the longer of the two, not their sum.
/// `None` when some file has a problem (nothing will be planned).
pub fn expand_while<T: Send>(
    paths: &[PathBuf],
    reading: &Reading<'_>,
    read_state: impl FnOnce(&[String]) -> T + Send,
) -> (Expanded, Option<T>) {
    let root = reading.root;
    let (files, mut diagnostics) = load::discover(paths, root);
    let workspace = workspace_settings(root).unwrap_or_else(|problems| {
        diagnostics.extend(problems);
        WorkspaceSettings::default()
    });
    // Files load and check independently, so many small ones spread over the cores.
    let checked: Vec<(Option<NameUse>, Checked)> = files
        .par_iter()
        .map(|path| match load::load(path, root) {
            Ok(document) => (NameUse::of(&document), validate::check(document, root)),
            Err(problem) => (
                None,
                Err(Rejected {
                    problems: vec![problem],
                    stand_in: None,
                }),
            ),
        })
        .collect();
    let mut names = Vec::new();
    let mut valid = Vec::new();
    let mut stand_ins = Vec::new();
    for (name, result) in checked {
        names.extend(name);
        match result {
            Ok(campaign) => valid.push(campaign),
            Err(rejected) => {
                diagnostics.extend(rejected.problems);
                stand_ins.extend(rejected.stand_in.map(|stand_in| *stand_in));
            }
        }
    }
    diagnostics.extend(validate::unique_names(names));
    let campaign_names: Vec<String> = valid.iter().map(|c| c.campaign.name.clone()).collect();
    let checked_clean = diagnostics.is_empty() && !valid.is_empty();
    let ((mut campaigns, problems), read) = std::thread::scope(|scope| {
        let read = checked_clean.then(|| scope.spawn(|| read_state(&campaign_names)));
        let expanded = expand::expand_all(&valid, reading);
        // A panic in `read_state` is a bug; it surfaces as one here, not as a missing state.
        let read = read.map(|thread| {
            thread
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        (expanded, read)
    });
    diagnostics.extend(problems);
    for campaign in &mut campaigns {
        workspace.add_to(&mut campaign.rules);
    }
    // Stand-ins are expanded for their problems only: nothing of them is planned.
    let (_, problems) = expand::expand_all(&stand_ins, reading);
    diagnostics.extend(problems);
    Diagnostic::sort(&mut diagnostics);
    let expanded = Expanded {
        campaigns,
        diagnostics,
        files_checked: files.len(),
        workspace,
    };
    (expanded, read)
}

/// The settings of the workspace file at `root`, if there is one, checked like a campaign file.
pub fn workspace_settings(root: &Root) -> Result<WorkspaceSettings, Vec<Diagnostic>> {
    let path = root.workspace_file();
    if !path.exists() {
        return Ok(WorkspaceSettings::default());
    }
    let document = load::load(&path, root).map_err(|problem| vec![problem])?;
    validate::check_workspace(&document)
}

/// Every file the campaigns were made from, for a saved plan to record.
pub fn inputs(campaigns: &[ExpandedCampaign]) -> Vec<PathBuf> {
    campaigns
        .iter()
        .flat_map(|c| c.inputs.iter().cloned())
        .collect()
}

/// What `store` holds of `campaigns`.
pub fn snapshot(campaigns: &[ExpandedCampaign], store: &mut Store) -> Result<Snapshot, Error> {
    Ok(store.snapshot(campaigns.iter().map(|c| c.name.as_str()))?)
}

/// The plan of `campaigns` against what state says was sent, at the rules' time `now`:
/// `snapshot` is that state's read of them ([`snapshot`], or [`expand_while`]'s), and `store`
/// is asked for the send history of frequency caps. A snapshot that lacks one of the campaigns
/// is refused, since it would hide what was sent. `max_call_list_size` overrides the
/// campaigns' own.
pub fn plan(
    campaigns: Vec<ExpandedCampaign>,
    snapshot: &Snapshot,
    store: &mut Store,
    max_call_list_size: Option<NonZeroUsize>,
    now: OffsetDateTime,
) -> Result<Plan, Error> {
    if let Some(unread) = campaigns
        .iter()
        .find(|c| !snapshot.campaigns.contains_key(&c.name))
    {
        return Err(Error::from(crate::state::StateError::msg(format!(
            "campaign {} was not read from state; nothing was planned (a bug: please report it)",
            unread.name
        ))));
    }
    let mut context = plan::Context {
        max_call_list_size,
        now,
        history: SendHistory::default(),
    };
    let periods: BTreeSet<i64> = campaigns
        .iter()
        .flat_map(|c| c.rules.caps.iter().map(|cap| cap.within_seconds))
        .collect();
    for period in periods {
        let since = crate::clock::format(now - time::Duration::seconds(period));
        let sends = store.sends_since(&since)?;
        context.history.by_period.insert(period, sends);
    }
    Ok(plan::plan(campaigns, snapshot, &context))
}

/// The requests `campaigns` make at `now` before any state is consulted, parts and all: what
/// `render` shows, named as a first apply would send them.
pub fn requests(
    campaigns: Vec<ExpandedCampaign>,
    max_call_list_size: Option<NonZeroUsize>,
    now: OffsetDateTime,
) -> Plan {
    let context = plan::Context {
        max_call_list_size,
        now,
        history: SendHistory::default(),
    };
    plan::plan(campaigns, &Snapshot::default(), &context)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::validate::tests::VALID;

    #[test]
    fn a_name_clash_is_found_even_when_the_first_file_has_other_problems() {
        let dir = tempfile::tempdir().unwrap();
        let broken = VALID.replace("startCount: 1", "startCount: many");
        std::fs::write(dir.path().join("a.campaign.yaml"), broken).unwrap();
        std::fs::write(dir.path().join("b.campaign.yaml"), VALID).unwrap();
        let root = Root::new(dir.path(), None).unwrap();
        let reading = Reading {
            root: &root,
            show_numbers: false,
            max_numbers: expand::DEFAULT_MAX_NUMBERS,
            now: OffsetDateTime::now_utc(),
        };
        let checked = expand(&[dir.path().to_owned()], &reading);
        let messages: Vec<&str> = checked
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(
            messages[1].starts_with("campaign name \"t\" is already used by "),
            "{messages:?}"
        );
    }
}
