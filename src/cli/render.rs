//! `campaignctl render`: the createandcall bodies the campaign files describe, as JSON.

use std::io::Write;
use std::path::PathBuf;

use serde::Serialize;

use campaignctl::error::EXIT_OK;
use campaignctl::nxcc::CreateAndCall;
use campaignctl::pipeline;

use super::CliError;

#[derive(Debug, clap::Args)]
pub struct RenderArgs {
    /// Campaign files, or folders searched recursively for `*.campaign.yaml` / `*.campaign.yml`.
    #[arg(value_name = "PATH", default_value = campaignctl::load::DEFAULT_PATH)]
    pub paths: Vec<PathBuf>,

    #[command(flatten)]
    pub parts: super::plan::PartsArgs,
}

/// One request of the output: a task, or one part of it.
#[derive(Serialize)]
struct RenderedTask<'a> {
    campaign: &'a str,
    file: &'a str,
    /// Exactly the body apply would send (apply sends it compact; this is pretty-printed).
    body: &'a CreateAndCall,
}

pub fn run(global: &super::GlobalArgs, args: RenderArgs) -> Result<i32, CliError> {
    let campaigns = global.expand(&args.paths)?.into_campaigns(&args.paths)?;
    let now = campaignctl::clock::rules_now()?;
    let requests = pipeline::requests(campaigns, args.parts.max_call_list_size, now);
    let tasks: Vec<RenderedTask<'_>> = requests
        .campaigns
        .iter()
        .flat_map(|campaign| {
            requests
                .creates()
                .filter(|change| change.campaign == campaign.name)
                .filter_map(|change| change.body.as_ref())
                .map(|body| RenderedTask {
                    campaign: &campaign.name,
                    file: &campaign.file,
                    body,
                })
        })
        .collect();
    // A million numbers make a large document: write it through a buffer, not a String.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    serde_json::to_writer_pretty(&mut stdout, &tasks)
        .map_err(std::io::Error::from)
        .and_then(|()| writeln!(stdout))
        .and_then(|()| stdout.flush())
        .map_err(CliError::Stdout)?;
    Ok(EXIT_OK)
}
