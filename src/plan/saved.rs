//! Saved plans (`plan --out FILE`): the exact request bodies a reviewer approved, tied to the
//! state revision and the input files they were computed from.
//!
//! `apply FILE` sends those bytes and nothing else, and refuses when the state or any input
//! changed since, or when the file was edited: it carries a SHA-256 of every input file and an
//! HMAC over its own content, keyed by a secret kept in the state file. The access secret is
//! never in it.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::Plan;
use crate::nxcc::CreateAndCall;
use crate::state::StateIdentity;

/// Why a plan file cannot be written or applied.
#[derive(Debug, thiserror::Error)]
pub enum SavedPlanError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },

    #[error(
        "{path} is a plan of format {version}, written by a newer campaignctl; this one reads \
         format {FORMAT_VERSION}"
    )]
    NewerFormat { path: String, version: u64 },

    #[error(
        "{path} is a plan of format {version}, which has no expiry; make a new plan with \
         `campaignctl plan --out FILE`"
    )]
    OlderFormat { path: String, version: u64 },

    #[error("the plan expired at {at}; make a new plan and review it again")]
    Expired { at: String },

    #[error("{path} is not a campaignctl plan file (make one with `campaignctl plan --out FILE`)")]
    NotAPlan { path: String },

    #[error("{path} is not a valid plan file: {source}")]
    Invalid {
        path: String,
        #[source]
        source: serde_json::Error,
    },

    #[error("the plan's body for {campaign}/{task_name} is not a createandcall body: {source}")]
    NotABody {
        campaign: String,
        task_name: String,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "the plan's body for {campaign}/{task_name} does not match its summary; the plan file \
         was edited"
    )]
    BodyMismatch { campaign: String, task_name: String },

    #[error(
        "refusing to write the plan to {path}: it holds something else (a campaign file?), which \
         would be lost; choose another file, e.g. reviewed.plan.json"
    )]
    WouldOverwrite { path: String },

    #[error(
        "the plan file was modified after it was written; refusing to apply it (make a new plan)"
    )]
    Modified,

    #[error(
        "the plan was made against a different state; refusing to apply it (check --state, or \
         make a new plan)"
    )]
    OtherState,

    #[error(
        "the plan is stale, refusing to apply it: {}; run `campaignctl plan --out FILE` again \
         and review the new plan",
        .changes.join("; ")
    )]
    Stale { changes: Vec<String> },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> SavedPlanError + '_ {
    move |source| SavedPlanError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// 2 added `expiresAt`, 3 each request's `sendBy`.
pub const FORMAT_VERSION: u32 = 3;
const KIND: &str = "campaignctl-plan";

/// A plan file's content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SavedPlan {
    pub format_version: u32,
    pub kind: String,
    pub created_at: String,
    /// After this (RFC 3339), the plan is refused: what was reviewed then is not what should
    /// be sent much later.
    pub expires_at: String,
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
    /// The last moment (RFC 3339) the request may leave: its numbers' calling window and the
    /// campaign's `notAfter`, as the plan judged them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub send_by: Option<String>,
    /// The body exactly as it will be signed and sent.
    pub body: String,
}

impl SavedRequest {
    /// The body, parsed, for recording its intent; refuses a body that is not a createandcall
    /// body or that disagrees with the request's own fields.
    pub fn parsed_body(&self) -> Result<CreateAndCall, SavedPlanError> {
        let body: CreateAndCall =
            serde_json::from_str(&self.body).map_err(|source| SavedPlanError::NotABody {
                campaign: self.campaign.clone(),
                task_name: self.task_name.clone(),
                source,
            })?;
        if body.task_name != self.task_name || body.call_list.len() != self.number_count {
            return Err(SavedPlanError::BodyMismatch {
                campaign: self.campaign.clone(),
                task_name: self.task_name.clone(),
            });
        }
        Ok(body)
    }
}

/// The SHA-256 of a file's bytes, as lowercase hex.
pub fn hash_file(path: &Path) -> Result<String, SavedPlanError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    Ok(hex::encode(Sha256::digest(&bytes)))
}

impl SavedPlan {
    /// Writes the plan file of `plan`, computed from `inputs`, valid for `valid_for` from `now`
    /// (the rules' time), sealed with `key`, to `path`, readable by its owner only (it holds
    /// phone numbers).
    ///
    /// Streamed: each request's body is serialized once, into the file and the seal together,
    /// and dropped, so a plan of a million numbers is never held a second time as text. The
    /// seal covers the compact serialization of everything but itself (what
    /// [`SavedPlan::verify`] recomputes from the file it reads); the file is that content laid
    /// out for reading, a request to a line.
    pub fn save(
        plan: &Plan,
        inputs: &[PathBuf],
        key: &[u8],
        now: time::OffsetDateTime,
        valid_for: time::Duration,
        path: &Path,
    ) -> Result<(), SavedPlanError> {
        if path.exists() && !Self::is_plan_file(path) {
            return Err(SavedPlanError::WouldOverwrite {
                path: path.display().to_string(),
            });
        }
        let inputs = input_files(inputs)?;
        let head = Head {
            format_version: FORMAT_VERSION,
            kind: KIND,
            created_at: &crate::clock::now(),
            expires_at: &crate::clock::format(now + valid_for),
            state: &plan.state,
            inputs: &inputs,
        };
        // These types always serialize (strings, numbers and lists of them).
        let compact = serde_json::to_vec(&head).unwrap_or_default();
        let pretty = serde_json::to_vec_pretty(&head).unwrap_or_default();
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
        crate::fsutil::write_private_with(path, |file| {
            // Both serializations of the head end with its closing brace: the requests follow.
            mac.update(compact.strip_suffix(b"}").unwrap_or_default());
            file.write_all(pretty.strip_suffix(b"\n}").unwrap_or_default())?;
            mac.update(b",\"requests\":[");
            file.write_all(b",\n  \"requests\": [")?;
            // The next requests are serialized on a thread of their own while this one is
            // sealed and written; a few at a time, so that memory stays a few bodies deep.
            std::thread::scope(|scope| {
                let (lines, serialized) = std::sync::mpsc::sync_channel::<Vec<u8>>(2);
                scope.spawn(move || {
                    let requests = plan
                        .creates()
                        .filter_map(|change| Some((change, change.body.as_ref()?)));
                    for (change, body) in requests {
                        let request = SavedRequest {
                            campaign: change.campaign.clone(),
                            base_name: change.base_name.clone(),
                            task_name: change.task_name.clone(),
                            number_count: change.number_count,
                            send_by: change.send_by.map(crate::clock::format),
                            body: body.to_json(),
                        };
                        // The writer stopped (a failed write): nothing more is wanted.
                        if lines
                            .send(serde_json::to_vec(&request).unwrap_or_default())
                            .is_err()
                        {
                            return;
                        }
                    }
                });
                for (index, line) in serialized.into_iter().enumerate() {
                    if index > 0 {
                        mac.update(b",");
                        file.write_all(b",")?;
                    }
                    mac.update(&line);
                    file.write_all(b"\n    ")?;
                    file.write_all(&line)?;
                }
                Ok::<(), std::io::Error>(())
            })?;
            mac.update(b"],\"mac\":\"\"}");
            let seal = hex::encode(mac.clone().finalize().into_bytes());
            write!(file, "\n  ],\n  \"mac\": \"{seal}\"\n}}\n")
        })
        .map_err(io_error(path))
    }

    /// The HMAC of everything but the seal itself, over the compact serialization of the rest,
    /// streamed into the hash: a plan of a million numbers is never copied for it.
    fn compute_mac(&self, key: &[u8]) -> String {
        let unsealed = Unsealed {
            head: Head {
                format_version: self.format_version,
                kind: &self.kind,
                created_at: &self.created_at,
                expires_at: &self.expires_at,
                state: &self.state,
                inputs: &self.inputs,
            },
            requests: &self.requests,
            mac: "",
        };
        let mut mac =
            MacWriter(<Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key"));
        // Writing into a hash cannot fail, and these types always serialize.
        let _ = serde_json::to_writer(&mut mac, &unsealed);
        hex::encode(mac.0.finalize().into_bytes())
    }

    /// Whether the file at `path` is a plan file, by its first bytes: a JSON object naming
    /// its kind. Anything unreadable is not.
    pub fn is_plan_file(path: &Path) -> bool {
        use std::io::Read;
        let mut head = Vec::new();
        let read = std::fs::File::open(path).and_then(|file| file.take(256).read_to_end(&mut head));
        let head = String::from_utf8_lossy(&head);
        read.is_ok()
            && head.trim_start().starts_with('{')
            && head.contains(&format!("\"kind\": \"{KIND}\""))
    }

    /// Reads a plan file, checking only its form; see [`SavedPlan::verify`].
    pub fn read(path: &Path) -> Result<SavedPlan, SavedPlanError> {
        let text = std::fs::read_to_string(path).map_err(io_error(path))?;
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
                return Err(SavedPlanError::NewerFormat {
                    path: path.display().to_string(),
                    version,
                });
            }
            Some((kind, version)) if kind == KIND && version < u64::from(FORMAT_VERSION) => {
                return Err(SavedPlanError::OlderFormat {
                    path: path.display().to_string(),
                    version,
                });
            }
            Some((kind, _)) if kind == KIND => {}
            _ => {
                return Err(SavedPlanError::NotAPlan {
                    path: path.display().to_string(),
                });
            }
        }
        serde_json::from_str(&text).map_err(|source| SavedPlanError::Invalid {
            path: path.display().to_string(),
            source,
        })
    }

    /// Refuses the plan unless it is untouched, made against exactly `state`, and every input
    /// file is as it was. The error says everything that changed.
    pub fn verify(
        &self,
        state: &StateIdentity,
        key: &[u8],
        now: time::OffsetDateTime,
    ) -> Result<(), SavedPlanError> {
        if self.mac != self.compute_mac(key) {
            return Err(if self.state.id == state.id {
                SavedPlanError::Modified
            } else {
                SavedPlanError::OtherState
            });
        }
        // Sealed, so the expiry is the one written; unreadable only through a bug.
        if crate::clock::parse(&self.expires_at).is_none_or(|expires| now > expires) {
            return Err(SavedPlanError::Expired {
                at: self.expires_at.clone(),
            });
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
        Err(SavedPlanError::Stale { changes: problems })
    }
}

/// Every input file with its SHA-256, sorted, each once.
fn input_files(inputs: &[PathBuf]) -> Result<Vec<InputFile>, SavedPlanError> {
    let mut inputs: Vec<InputFile> = inputs
        .iter()
        .map(|path| {
            Ok(InputFile {
                path: crate::load::display(path),
                sha256: hash_file(path)?,
            })
        })
        .collect::<Result<_, SavedPlanError>>()?;
    inputs.sort_by(|a, b| a.path.cmp(&b.path));
    inputs.dedup();
    Ok(inputs)
}

/// A plan file's fields before its requests, as [`SavedPlan::save`] writes them.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Head<'a> {
    format_version: u32,
    kind: &'a str,
    created_at: &'a str,
    expires_at: &'a str,
    state: &'a StateIdentity,
    inputs: &'a [InputFile],
}

/// The fields of a plan the seal covers, borrowed, in the file's order: the head
/// [`SavedPlan::save`] seals before it streams the requests, then the requests.
#[derive(Serialize)]
struct Unsealed<'a> {
    #[serde(flatten)]
    head: Head<'a>,
    requests: &'a [SavedRequest],
    mac: &'a str,
}

/// Serialized bytes straight into the HMAC.
struct MacWriter(Hmac<Sha256>);

impl std::io::Write for MacWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
