//! `campaignctl validate`: check campaign files and report every problem at once.

use std::path::PathBuf;

use campaignctl::error::{EXIT_ERROR, EXIT_OK};

use super::CliError;
use super::output::out;
use super::views::{self, Format};

#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Campaign files, or folders searched recursively for `*.campaign.yaml` / `*.campaign.yml`.
    #[arg(value_name = "PATH", default_value = campaignctl::load::DEFAULT_PATH)]
    pub paths: Vec<PathBuf>,

    /// How to report problems.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

/// Checks the files and expands them too (without printing the bodies): a bad number or an
/// undefined template variable makes a campaign invalid just as a schema error does.
pub fn run(global: &super::GlobalArgs, args: ValidateArgs) -> Result<i32, CliError> {
    let expanded = global.expand(&args.paths)?;
    // "0 files valid" would pass a CI job that checks nothing.
    expanded.found_any(&args.paths)?;
    let text = views::diagnostics(&expanded.diagnostics, args.format, expanded.files_checked);
    out!("{text}")?;
    Ok(if expanded.diagnostics.is_empty() {
        EXIT_OK
    } else {
        EXIT_ERROR
    })
}
