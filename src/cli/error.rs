//! What can go wrong in the binary itself, beside the library's errors; each maps to an exit code.

use campaignctl::error::EXIT_ERROR;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Library(#[from] campaignctl::Error),

    #[error(
        "apply needs confirmation: run it on a terminal, pass --auto-approve, or apply a reviewed \
         plan file (`campaignctl plan --out FILE`, then `campaignctl apply FILE`)"
    )]
    NeedsConfirmation,

    #[error(
        "--max-call-list-size cannot change a saved plan: its requests are sent exactly as \
         reviewed; plan again with the flag instead"
    )]
    PartsOfSavedPlan,

    #[error(
        "{var} is set: refusing to send to a provider on a pretend clock, since calling windows \
         would be judged at the wrong time; unset it (it is for plans, tests and the sandbox)",
        var = campaignctl::clock::NOW_VAR
    )]
    PretendClock,

    #[error("cancelled, nothing sent")]
    Cancelled,

    #[error("cannot read the answer: {0}")]
    Answer(#[source] std::io::Error),

    #[error("the workspace root {dir} cannot be used: {source}")]
    Root {
        dir: String,
        #[source]
        source: std::io::Error,
    },

    #[error(transparent)]
    Clock(#[from] campaignctl::clock::ClockError),

    #[error("no state file at {path}: nothing was applied yet (or pass --state PATH|URL){hint}")]
    NoStateFile { path: String, hint: &'static str },

    #[error("expected CAMPAIGN/TASK NAME, got \"{0}\" (see `campaignctl state list`)")]
    TaskSpec(String),

    #[error("no task \"{task}\" in campaign {campaign} in state (see `campaignctl state list`)")]
    NoSuchTask { campaign: String, task: String },

    #[error(
        "{task} is {status}, not in doubt; there is nothing to reconcile (nothing was changed)"
    )]
    NotInDoubt { task: String, status: &'static str },

    #[error(
        "`state reconcile` asks the provider's call records and cannot be used with --sandbox; \
         decide the sandbox's tasks with `campaignctl state resolve --sandbox`"
    )]
    ReconcileSandbox,

    #[error("the system clock is before 1970")]
    ClockBefore1970,

    #[error("cannot start the async runtime: {0}")]
    Runtime(#[source] std::io::Error),

    #[error("cannot write to stdout: {0}")]
    Stdout(#[source] std::io::Error),
}

impl CliError {
    pub fn exit_code(&self) -> i32 {
        match self {
            CliError::Library(err) => err.exit_code(),
            _ => EXIT_ERROR,
        }
    }
}

/// The library's area errors reach the binary through [`campaignctl::Error`].
macro_rules! through_library {
    ($($area:ty),*) => {
        $(impl From<$area> for CliError {
            fn from(err: $area) -> Self {
                CliError::Library(err.into())
            }
        })*
    };
}

through_library!(
    campaignctl::nxcc::ConfigError,
    campaignctl::plan::CapError,
    campaignctl::plan::saved::SavedPlanError,
    campaignctl::reconcile::ReconcileError,
    campaignctl::sandbox::SandboxError,
    campaignctl::state::StateError
);
