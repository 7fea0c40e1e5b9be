//! `campaignctl sandbox` (being built: see issue 4).

use crate::error::Error;

#[derive(Debug, clap::Args)]
pub struct SandboxArgs {}

pub fn run(_global: &super::GlobalArgs, _args: SandboxArgs) -> Result<i32, Error> {
    Err(Error::msg("sandbox: not built yet"))
}
