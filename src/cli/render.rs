//! `campaignctl render` (being built: see issue 3).

use std::path::PathBuf;

use crate::error::Error;

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// Campaign files, or folders searched recursively for `*.campaign.yaml` / `*.campaign.yml`.
    #[arg(value_name = "PATH", default_value = crate::load::DEFAULT_PATH)]
    pub paths: Vec<PathBuf>,
}

pub fn run(_global: &super::GlobalArgs, _args: RenderArgs) -> Result<i32, Error> {
    Err(Error::msg("render: not built yet"))
}
