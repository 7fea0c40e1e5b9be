//! Saved plans (`plan --out FILE`): the exact request bodies a reviewer approved, tied to the
//! state revision and the input files they were computed from.
//!
//! `apply FILE` sends those bytes and nothing else, and refuses when the state or any input
//! changed since, or when the file was edited: it carries a SHA-256 of every input file and an
//! HMAC over its own content, keyed by a secret kept in the state file. The access secret is
//! never in it.

use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Plan;
use crate::error::Error;
use crate::nxcc::CreateAndCall;
use crate::state::StateIdentity;

pub const FORMAT_VERSION: u32 = 1;
const KIND: &str = "campaignctl-plan";

/// A plan file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedPlan {
    pub format_version: u32,
    pub kind: String,
    pub created_at: String,
    pub state: StateIdentity,
    /// Every file the plan was computed from, with its SHA-256.
    pub inputs: Vec<InputFile>,
    /// The requests, in the order they are sent.
    pub requests: Vec<SavedRequest>,
    /// HMAC-SHA256 of everything above, keyed by the state's plan key.
    #[serde(default)]
    pub mac: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputFile {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedRequest {
    pub campaign: String,
    pub base_name: String,
    pub task_name: String,
    pub number_count: usize,
    /// The body exactly as it will be signed and sent.
    pub body: String,
}

impl SavedRequest {
    /// The body, parsed, for recording its intent; refuses a body that is not a createandcall
    /// body or that disagrees with the request's own fields.
    pub fn parsed_body(&self) -> Result<CreateAndCall, Error> {
        let body: CreateAndCall = serde_json::from_str(&self.body).map_err(|err| {
            Error::msg(format!(
                "the plan's body for {}/{} is not a createandcall body: {err}",
                self.campaign, self.task_name
            ))
        })?;
        if body.task_name != self.task_name || body.call_list.len() != self.number_count {
            return Err(Error::msg(format!(
                "the plan's body for {}/{} does not match its summary; the plan file was edited",
                self.campaign, self.task_name
            )));
        }
        Ok(body)
    }
}

/// The SHA-256 of a file's bytes, as lowercase hex.
pub fn hash_file(path: &Path) -> Result<String, Error> {
    let bytes = std::fs::read(path).map_err(|err| Error::io(path, err))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

impl SavedPlan {
    /// A plan file for `plan`, computed from `inputs`, sealed with `key`.
    pub fn new(plan: &Plan, inputs: &[PathBuf], key: &[u8]) -> Result<SavedPlan, Error> {
        let mut inputs: Vec<InputFile> = inputs
            .iter()
            .map(|path| {
                Ok(InputFile {
                    path: crate::load::display(path),
                    sha256: hash_file(path)?,
                })
            })
            .collect::<Result<_, Error>>()?;
        inputs.sort_by(|a, b| a.path.cmp(&b.path));
        inputs.dedup();
        let requests = plan
            .creates()
            .filter_map(|change| {
                let body = change.body.as_ref()?;
                Some(SavedRequest {
                    campaign: change.campaign.clone(),
                    base_name: change.base_name.clone(),
                    task_name: change.task_name.clone(),
                    number_count: change.number_count,
                    body: serde_json::to_string(body).ok()?,
                })
            })
            .collect();
        let mut saved = SavedPlan {
            format_version: FORMAT_VERSION,
            kind: KIND.to_owned(),
            created_at: crate::clock::now(),
            state: plan.state.clone(),
            inputs,
            requests,
            mac: String::new(),
        };
        saved.mac = saved.compute_mac(key);
        Ok(saved)
    }

    fn compute_mac(&self, key: &[u8]) -> String {
        let unsealed = SavedPlan {
            mac: String::new(),
            ..self.clone()
        };
        let text = serde_json::to_string(&unsealed).unwrap_or_default();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(text.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// Writes the plan to `path`, readable by its owner only (it holds phone numbers).
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let text = serde_json::to_string_pretty(self).map_err(|err| Error::msg(err.to_string()))?;
        crate::fsutil::write_private(path, text.as_bytes())
    }

    /// Reads a plan file, checking only its form; see [`SavedPlan::verify`].
    pub fn read(path: &Path) -> Result<SavedPlan, Error> {
        let text = std::fs::read_to_string(path).map_err(|err| Error::io(path, err))?;
        let kind = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| {
                Some((
                    v.get("kind")?.as_str()?.to_owned(),
                    v.get("formatVersion")?.as_u64()?,
                ))
            });
        match kind {
            Some((kind, version)) if kind == KIND && version > u64::from(FORMAT_VERSION) => {
                return Err(Error::msg(format!(
                    "{} is a plan of format {version}, written by a newer campaignctl; this one \
                     reads format {FORMAT_VERSION}",
                    path.display()
                )));
            }
            Some((kind, _)) if kind == KIND => {}
            _ => {
                return Err(Error::msg(format!(
                    "{} is not a campaignctl plan file (make one with `campaignctl plan --out {}`)",
                    path.display(),
                    path.display()
                )));
            }
        }
        serde_json::from_str(&text).map_err(|err| {
            Error::msg(format!(
                "{} is not a valid plan file: {err}",
                path.display()
            ))
        })
    }

    /// Refuses the plan unless it is untouched, made against exactly `state`, and every input
    /// file is as it was. The error says everything that changed.
    pub fn verify(&self, state: &StateIdentity, key: &[u8]) -> Result<(), Error> {
        if self.mac != self.compute_mac(key) {
            return Err(Error::msg(if self.state.id == state.id {
                "the plan file was modified after it was written; refusing to apply it (make a \
                 new plan)"
                    .to_owned()
            } else {
                "the plan was made against a different state file; refusing to apply it (check \
                 --state, or make a new plan)"
                    .to_owned()
            }));
        }
        let mut problems = Vec::new();
        if self.state.version != state.version {
            problems.push(format!(
                "the state changed since the plan was made (revision {} then, {} now)",
                self.state.version, state.version
            ));
        }
        for input in &self.inputs {
            match hash_file(Path::new(&input.path)) {
                Ok(hash) if hash == input.sha256 => {}
                Ok(_) => problems.push(format!("{} changed", input.path)),
                Err(_) => problems.push(format!("{} is missing or unreadable", input.path)),
            }
        }
        if problems.is_empty() {
            return Ok(());
        }
        Err(Error::msg(format!(
            "the plan is stale, refusing to apply it: {}; run `campaignctl plan --out FILE` \
             again and review the new plan",
            problems.join("; ")
        )))
    }
}
