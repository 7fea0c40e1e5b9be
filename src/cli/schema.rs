//! `campaignctl schema`: the JSON Schema of campaign files, or of the workspace file.

use campaignctl::error::EXIT_OK;

use super::CliError;
use super::output::outln;

#[derive(Debug, clap::Args)]
pub struct SchemaArgs {
    /// The schema of the workspace file (`campaignctl.yaml` at the workspace root: limits,
    /// maxNumbers and a default calling window for every campaign) instead.
    #[arg(long)]
    pub workspace_file: bool,
}

pub fn run(args: &SchemaArgs) -> Result<i32, CliError> {
    outln!("{}", schema_text(args.workspace_file))?;
    Ok(EXIT_OK)
}

/// The schema as checked in at `schema/campaign.schema.json` or, for the workspace file,
/// `schema/workspace.schema.json` (without the final newline).
pub fn schema_text(workspace: bool) -> String {
    let schema = if workspace {
        campaignctl::model::workspace_schema()
    } else {
        campaignctl::model::campaign_schema()
    };
    serde_json::to_string_pretty(&schema).unwrap_or_default()
}
