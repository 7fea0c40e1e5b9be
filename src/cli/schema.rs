//! `campaignctl schema`: the JSON Schema of campaign files.

use campaignctl::error::EXIT_OK;

use super::CliError;
use super::output::outln;

pub fn run() -> Result<i32, CliError> {
    outln!("{}", schema_text())?;
    Ok(EXIT_OK)
}

/// The schema as checked in at `schema/campaign.schema.json` (without the final newline).
pub fn schema_text() -> String {
    serde_json::to_string_pretty(&campaignctl::model::campaign_schema()).unwrap_or_default()
}
