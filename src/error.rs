//! The library's error: problems in the files, or one of the areas' own errors; and the exit
//! codes they map to.

use crate::diagnostic::Diagnostic;

/// Exit code for success.
pub const EXIT_OK: i32 = 0;
/// Exit code for every error, usage errors included.
pub const EXIT_ERROR: i32 = 1;
/// Exit code of `plan --detailed-exitcode` when the plan has changes.
pub const EXIT_CHANGES: i32 = 2;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Problems in campaign files, templates or number sources, each with its position.
    #[error("{} problem(s) found in the campaign files", diagnostics.len())]
    Invalid {
        diagnostics: Vec<Diagnostic>,
        /// How many campaign files were checked, for the closing count.
        files_checked: usize,
    },

    /// The paths given hold no campaign file.
    #[error(
        "no campaign files found under {}: campaign files are named *.campaign.yaml or \
         *.campaign.yml",
        paths.join(", ")
    )]
    NoCampaignFiles { paths: Vec<String> },

    /// The provider's configuration: credentials, endpoint, client settings.
    #[error(transparent)]
    Provider(#[from] crate::nxcc::ConfigError),

    /// A saved plan that cannot be applied.
    #[error(transparent)]
    SavedPlan(#[from] crate::plan::saved::SavedPlanError),

    /// Tasks in doubt could not be reconciled with the provider's call records.
    #[error(transparent)]
    Reconcile(#[from] crate::reconcile::ReconcileError),

    /// A plan over a blast-radius cap.
    #[error(transparent)]
    Caps(#[from] crate::plan::CapError),

    /// The state store refused or failed.
    #[error(transparent)]
    State(#[from] crate::state::StateError),

    /// The local sandbox server could not start.
    #[error(transparent)]
    Sandbox(#[from] crate::sandbox::SandboxError),
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        EXIT_ERROR
    }
}
