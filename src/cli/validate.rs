//! `campaignctl validate`: check campaign files and report every problem at once.

use std::path::PathBuf;

use crate::diagnostic::{self, Format};
use crate::error::{EXIT_ERROR, EXIT_OK, Error};

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Campaign files, or folders searched recursively for `*.campaign.yaml` / `*.campaign.yml`.
    #[arg(value_name = "PATH", default_value = crate::load::DEFAULT_PATH)]
    pub paths: Vec<PathBuf>,

    /// How to report problems: `human` (PATH:LINE:COLUMN: error: ...), `json` (like
    /// `terraform validate -json`) or `github` (Actions annotations).
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub fn run(_global: &super::GlobalArgs, args: ValidateArgs) -> Result<i32, Error> {
    let checked = crate::validate::check(&args.paths);
    let text = diagnostic::render(&checked.diagnostics, args.format, checked.files_checked);
    print!("{text}");
    Ok(if checked.diagnostics.is_empty() { EXIT_OK } else { EXIT_ERROR })
}
