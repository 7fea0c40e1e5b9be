//! What an editor shows, proven with the real yaml-language-server (the one VS Code, Neovim and
//! Helix run; `scripts/test` installs it under `.tools/`) over LSP JSON-RPC on stdio, configured
//! with the workspace's own `.vscode/settings.json`: no problem in the examples, each broken file
//! flagged at its line, and completions that insert `key: `, never a bare key.
//!
//! One server serves every test (starting node costs more than all the cases together); each
//! test holds it for its whole conversation and opens documents of its own. Every wait is
//! bounded by [`PATIENCE`], so a hung server fails the test instead of hanging it.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

use serde_json::{Value, json};

use crate::support::PATIENCE;

/// The server's entry point as `scripts/test` installs it, relative to the repository.
const SERVER_SCRIPT: &str =
    ".tools/yaml-ls/node_modules/yaml-language-server/bin/yaml-language-server";

/// LSP's `CompletionItemKind.Property`: a key of a mapping.
const PROPERTY: u64 = 10;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A `file://` URI for `path`, percent-encoded as the server expects.
fn file_uri(path: &Path) -> String {
    let mut uri = String::from("file://");
    for byte in path.to_string_lossy().bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/".contains(&byte) {
            uri.push(char::from(byte));
        } else {
            uri.push_str(&format!("%{byte:02X}"));
        }
    }
    uri
}

/// The checked-in schema, as the server reads it.
fn schema() -> Value {
    let text = std::fs::read_to_string(root().join("schema/campaign.schema.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A running yaml-language-server and what it has said that no one has taken yet.
struct Server {
    child: Child,
    stdin: ChildStdin,
    incoming: Receiver<Value>,
    stderr: Arc<Mutex<String>>,
    next_id: u64,
    responses: HashMap<u64, Value>,
    /// The latest diagnostics published for each document.
    diagnostics: HashMap<String, Vec<Value>>,
    /// The `yaml` settings section, answered whenever the server asks for its configuration.
    settings: Value,
    configured: bool,
}

/// The shared server, or `None` when it is not installed and this is not CI.
fn server() -> Option<MutexGuard<'static, Server>> {
    static SERVER: OnceLock<Option<Mutex<Server>>> = OnceLock::new();
    let server = SERVER.get_or_init(|| {
        let script = root().join(SERVER_SCRIPT);
        let installed = script.is_file() && node_runs();
        if !installed {
            let ci = std::env::var("CI").is_ok_and(|value| value == "true");
            assert!(
                !ci,
                "yaml-language-server is not installed at {SERVER_SCRIPT} (or node is missing); \
                 ./scripts/test installs it"
            );
            // Straight to stderr: the test harness hides what `eprintln!` says in a passing test.
            let _ = writeln!(
                std::io::stderr(),
                "\n*** SKIPPED the editor tests: yaml-language-server is not installed at \
                 {SERVER_SCRIPT} (or node is missing). Run ./scripts/test to install it; with \
                 CI=true these tests fail instead. ***\n"
            );
            return None;
        }
        Some(Mutex::new(Server::start(&script)))
    });
    // A test that failed while talking to the server leaves the conversation in order: each
    // request waits for its own answer.
    server
        .as_ref()
        .map(|server| server.lock().unwrap_or_else(PoisonError::into_inner))
}

fn node_runs() -> bool {
    Command::new("node")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

impl Server {
    fn start(script: &Path) -> Server {
        let mut child = Command::new("node")
            .arg(script)
            .arg("--stdio")
            .current_dir(root())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("node starts");
        let stdin = child.stdin.take().unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut stderr_pipe = child.stderr.take().unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let collected = Arc::clone(&stderr);
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr_pipe.read_to_string(&mut text);
            collected.lock().unwrap().push_str(&text);
        });
        let (sender, incoming) = std::sync::mpsc::channel();
        std::thread::spawn(move || read_messages(stdout, &sender));
        let mut server = Server {
            child,
            stdin,
            incoming,
            stderr,
            next_id: 0,
            responses: HashMap::new(),
            diagnostics: HashMap::new(),
            settings: workspace_settings(),
            configured: false,
        };
        server.initialize();
        server
    }

    fn initialize(&mut self) {
        let root_uri = file_uri(&root());
        self.request(
            "initialize",
            json!({
                // The server exits when this process does, even if the pipe outlives it.
                "processId": std::process::id(),
                "rootUri": root_uri,
                "workspaceFolders": [{"uri": root_uri, "name": "campaignctl"}],
                "capabilities": {
                    "workspace": {"configuration": true, "workspaceFolders": true},
                    "textDocument": {
                        "completion": {"completionItem": {
                            "snippetSupport": true,
                            "documentationFormat": ["markdown", "plaintext"],
                        }},
                        "hover": {"contentFormat": ["markdown", "plaintext"]},
                        "publishDiagnostics": {},
                    },
                },
            }),
        );
        self.notify("initialized", json!({}));
        self.wait_for("the server to ask for its settings", |server| {
            server.configured.then_some(())
        });
        // The server applies the settings asynchronously; its code lens handler waits until
        // they are applied, so its answer means documents opened from now on see the schema.
        let uri = file_uri(&root().join("settings-applied.campaign.yaml"));
        self.request(
            "textDocument/codeLens",
            json!({"textDocument": {"uri": uri}}),
        );
    }

    fn send(&mut self, message: &Value) {
        let body = message.to_string();
        let framed = format!("Content-Length: {}\r\n\r\n{body}", body.len());
        if let Err(err) = self.stdin.write_all(framed.as_bytes()) {
            panic!(
                "cannot write to yaml-language-server ({err}){}",
                self.exit_report()
            );
        }
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(&json!({"jsonrpc": "2.0", "method": method, "params": params}));
    }

    /// Sends a request and waits for its result.
    fn request(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        self.send(&json!({"jsonrpc": "2.0", "id": id, "method": method, "params": params}));
        let response = self.wait_for(&format!("the answer to {method}"), |server| {
            server.responses.remove(&id)
        });
        assert!(
            response.get("error").is_none(),
            "{method} failed: {response}"
        );
        response["result"].clone()
    }

    /// Reads what the server says until `ready` finds what the caller waits for.
    fn wait_for<T>(&mut self, what: &str, mut ready: impl FnMut(&mut Server) -> Option<T>) -> T {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(found) = ready(self) {
                return found;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.incoming.recv_timeout(left) {
                Ok(message) => self.receive(message),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("yaml-language-server: no {what} within {PATIENCE:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!(
                        "yaml-language-server stopped before {what}{}",
                        self.exit_report()
                    )
                }
            }
        }
    }

    fn receive(&mut self, message: Value) {
        let method = message["method"].as_str().unwrap_or_default().to_owned();
        match (message.get("id"), method.as_str()) {
            // Responses to our requests.
            (Some(id), "") => {
                if let Some(id) = id.as_u64() {
                    self.responses.insert(id, message);
                }
            }
            // Requests from the server: its settings, registrations, progress tokens.
            (Some(id), _) => {
                let result = self.answer(&method, &message["params"]);
                let id = id.clone();
                self.send(&json!({"jsonrpc": "2.0", "id": id, "result": result}));
            }
            (None, "textDocument/publishDiagnostics") => {
                let params = &message["params"];
                let uri = params["uri"].as_str().unwrap_or_default().to_owned();
                let found = params["diagnostics"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default();
                self.diagnostics.insert(uri, found);
            }
            // Log messages and telemetry.
            (None, _) => {}
        }
    }

    fn answer(&mut self, method: &str, params: &Value) -> Value {
        if method != "workspace/configuration" {
            return Value::Null;
        }
        let items = params["items"].as_array().cloned().unwrap_or_default();
        let sections = items.iter().map(|item| {
            if item["section"] == "yaml" {
                self.configured = true;
                self.settings.clone()
            } else {
                Value::Null
            }
        });
        sections.collect::<Vec<_>>().into()
    }

    fn exit_report(&mut self) -> String {
        let status = self.child.try_wait().ok().flatten();
        let stderr = self.stderr.lock().unwrap().clone();
        format!("; exit status {status:?}; its stderr:\n{stderr}")
    }

    /// Opens a document with `text` and returns the diagnostics the server publishes for it.
    fn open(&mut self, path: &Path, text: &str) -> Vec<Value> {
        let uri = file_uri(path);
        self.diagnostics.remove(&uri);
        self.notify(
            "textDocument/didOpen",
            json!({"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": text}}),
        );
        let what = format!("diagnostics for {}", path.display());
        self.wait_for(&what, |server| server.diagnostics.remove(&uri))
    }

    /// The schemas the server applies to an open document, by URI.
    fn schemas_of(&mut self, path: &Path) -> Vec<String> {
        let found = self.request("yaml/get/jsonSchema", json!(file_uri(path)));
        let found = found.as_array().cloned().unwrap_or_default();
        found
            .iter()
            .filter_map(|schema| schema["uri"].as_str().map(str::to_owned))
            .collect()
    }

    /// The completion items at `line` (0-based), at the end of that line.
    fn complete(&mut self, path: &Path, text: &str, line: usize) -> Vec<Value> {
        let character = text.lines().nth(line).unwrap().chars().count();
        self.open(path, text);
        let result = self.request(
            "textDocument/completion",
            json!({
                "textDocument": {"uri": file_uri(path)},
                "position": {"line": line, "character": character},
            }),
        );
        let items = result.get("items").unwrap_or(&result);
        items.as_array().cloned().unwrap_or_default()
    }
}

/// The `yaml` section of VS Code's settings as VS Code's YAML extension sends it: the
/// workspace's `.vscode/settings.json` (its `yaml.schemas` maps the campaign file globs to the
/// checked-in schema), with the schema store off so that nothing comes from the network.
fn workspace_settings() -> Value {
    let text = std::fs::read_to_string(root().join(".vscode/settings.json")).unwrap();
    let settings: Value = serde_json::from_str(&text).expect(".vscode/settings.json is JSON");
    json!({
        "schemas": settings["yaml.schemas"],
        "validate": true,
        "completion": true,
        "hover": true,
        "schemaStore": {"enable": false},
        "kubernetesCRDStore": {"enable": false},
    })
}

/// LSP messages from the server's stdout: `Content-Length` headers, a blank line, the JSON.
fn read_messages(stdout: ChildStdout, sender: &Sender<Value>) {
    let mut reader = BufReader::new(stdout);
    loop {
        let mut length = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some(value) = line.strip_prefix("Content-Length:") {
                length = value.trim().parse::<usize>().ok();
            }
        }
        let Some(length) = length else { return };
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let Ok(message) = serde_json::from_slice(&body) else {
            return;
        };
        if sender.send(message).is_err() {
            return;
        }
    }
}

/// A folder for documents that exist only for a test. Not `tempfile`'s default `.tmp…` name:
/// globs in editor settings skip folders whose names start with a dot, as `**` does in a shell.
fn scratch() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("campaignctl-editor-")
        .tempdir()
        .unwrap()
}

/// What a test asserts about a diagnostic: its 1-based line, as editors and `validate` show it,
/// and its message.
fn line_and_message(diagnostic: &Value) -> (u64, String) {
    let line = diagnostic["range"]["start"]["line"].as_u64().unwrap() + 1;
    (line, diagnostic["message"].as_str().unwrap().to_owned())
}

/// The text a completion item inserts.
fn insert_text(item: &Value) -> &str {
    item["textEdit"]["newText"]
        .as_str()
        .or_else(|| item["insertText"].as_str())
        .unwrap_or_default()
}

/// The examples, and the valid fixtures that stretch the format (a byte-order mark, merge keys,
/// whole numbers written as `2.0`).
#[test]
fn valid_files_have_no_problems_in_the_editor() {
    let Some(mut server) = server() else { return };
    let folders = [
        root().join("campaigns"),
        root().join("tests/fixtures/validate/valid"),
    ];
    let workspace = campaignctl::load::Root::new(&root(), None).unwrap();
    let (examples, missing) = campaignctl::load::discover(&folders, &workspace);
    assert!(missing.is_empty() && examples.len() > 3, "{missing:?}");
    let schema_uri = file_uri(&root().join("schema/campaign.schema.json"));
    for example in examples {
        let text = std::fs::read_to_string(&example).unwrap();
        let diagnostics = server.open(&example, &text);
        // No schema would mean no problems too: make sure the editor checked against ours.
        assert_eq!(
            server.schemas_of(&example),
            [schema_uri.as_str()],
            "{}",
            example.display()
        );
        assert!(
            diagnostics.is_empty(),
            "{}: {diagnostics:#?}",
            example.display()
        );
    }
}

/// The guide's whole files (its YAML blocks that start with `name:`), as a reader would paste
/// them into a new file.
#[test]
fn the_guide_s_campaign_files_have_no_problems_in_the_editor() {
    let Some(mut server) = server() else { return };
    let guide = std::fs::read_to_string(root().join("docs/campaign-files.md")).unwrap();
    let files: Vec<&str> = guide
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .filter(|block| block.starts_with("name:"))
        .collect();
    assert!(files.len() >= 2, "the guide shows no whole campaign file");
    let dir = scratch();
    for (number, text) in files.into_iter().enumerate() {
        let path = dir.path().join(format!("guide-{number}.campaign.yaml"));
        std::fs::write(&path, text).unwrap();
        let diagnostics = server.open(&path, text);
        assert!(!server.schemas_of(&path).is_empty(), "{text}");
        assert!(diagnostics.is_empty(), "{text}\n{diagnostics:#?}");
    }
}

/// The broken fixtures have no modeline and sit two folders down: only the workspace settings'
/// `**/*.campaign.yaml` can give them the schema.
#[test]
fn broken_files_are_flagged_at_their_line() {
    let Some(mut server) = server() else { return };
    let name_rule = schema()["properties"]["name"]["patternErrorMessage"]
        .as_str()
        .unwrap()
        .to_owned();
    let broken = root().join("tests/fixtures/validate/campaigns");
    let cases = [
        (
            "unknown-enum",
            6,
            "Value is not accepted. Valid values: \"none\", \"ratio\"",
        ),
        ("unknown-key", 11, "Property startuptype is not allowed."),
        ("bad-name", 1, name_rule.as_str()),
        ("wrong-type", 10, "Incorrect type. Expected \"integer\"."),
        // Inside a `$ref`: the references resolve under the schema's `$id`.
        ("csv-wrong-key", 13, "Property column is not allowed."),
    ];
    for (name, line, message) in cases {
        let path = broken.join(format!("{name}.campaign.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let found: Vec<(u64, String)> = server
            .open(&path, &text)
            .iter()
            .map(line_and_message)
            .collect();
        assert!(
            !found.is_empty()
                && found
                    .iter()
                    .all(|(at, text)| *at == line && text.contains(message)),
            "{name}: expected only `{message}` at line {line}, found {found:#?}"
        );
    }
}

/// The `.yml` glob of the workspace settings, on a file outside the repository.
#[test]
fn a_campaign_yml_file_gets_the_schema_too() {
    let Some(mut server) = server() else { return };
    let dir = scratch();
    let path = dir.path().join("team/renewal.campaign.yml");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = "name: renewal\ntsk: {}\n";
    std::fs::write(&path, text).unwrap();
    let found: Vec<(u64, String)> = server
        .open(&path, text)
        .iter()
        .map(line_and_message)
        .collect();
    assert!(
        found.contains(&(2, "Property tsk is not allowed.".to_owned())),
        "{found:#?}"
    );
}

/// The workspace file gets its own schema from the same settings.
#[test]
fn the_workspace_file_gets_its_schema() {
    let Some(mut server) = server() else { return };
    let dir = scratch();
    let path = dir.path().join("campaignctl.yaml");
    let text = "limits:\n  perNumber: {calls: 3, within: 24h}\nmaxNumber: 5\n";
    std::fs::write(&path, text).unwrap();
    let found: Vec<(u64, String)> = server
        .open(&path, text)
        .iter()
        .map(line_and_message)
        .collect();
    assert_eq!(
        found,
        [(3, "Property maxNumber is not allowed.".to_owned())],
        "{found:#?}"
    );
}

/// Accepting a key must leave valid YAML to type into: `key: `, or `key:` and a new line for a
/// mapping or a list. A bare `key` (what an `allOf`-wrapped `$ref` gave) is not.
#[test]
fn completing_a_key_inserts_the_colon() {
    let Some(mut server) = server() else { return };
    let dir = scratch();
    let cases = [
        ("name: draft\nta\n", 1, "task", "task:\n"),
        (
            "name: draft\ntask:\n  taskName: draft\n  dispatch\n",
            3,
            "dispatchType",
            "dispatchType: ",
        ),
    ];
    for (number, (text, line, label, expected)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("draft-{number}.campaign.yaml"));
        std::fs::write(&path, text).unwrap();
        let items = server.complete(&path, text, line);
        let item = items
            .iter()
            .find(|item| item["label"] == label)
            .unwrap_or_else(|| panic!("no completion `{label}` in {items:#?}"));
        let inserted = insert_text(item);
        assert!(
            inserted.starts_with(expected) || inserted.starts_with(&format!("{label}: ")),
            "`{label}` inserts {inserted:?}"
        );
        for item in items.iter().filter(|item| item["kind"] == PROPERTY) {
            let label = item["label"].as_str().unwrap();
            assert!(
                insert_text(item).starts_with(&format!("{label}:")),
                "`{label}` inserts {:?}",
                insert_text(item)
            );
        }
    }
}

/// Each value an editor offers for `dispatchType` and `startupType` explains itself, and each
/// API code says which name it stands for.
#[test]
fn enum_values_are_offered_with_their_own_descriptions() {
    let Some(mut server) = server() else { return };
    let dir = scratch();
    let cases = [
        ("dispatchType", ["none", "ratio", "predictive"].as_slice()),
        (
            "startupType",
            ["none", "manual", "scheduled", "immediate"].as_slice(),
        ),
    ];
    for (key, names) in cases {
        let path = dir.path().join(format!("{key}.campaign.yaml"));
        let text = format!("name: draft\ntask:\n  {key}: \n");
        std::fs::write(&path, &text).unwrap();
        let items = server.complete(&path, &text, 2);
        let documentation = |value: &str| {
            let item = items
                .iter()
                .find(|item| item["label"] == value)
                .unwrap_or_else(|| panic!("`{key}` offers no `{value}`: {items:#?}"));
            let text = item["documentation"]["value"].as_str();
            text.or_else(|| item["documentation"].as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let mut seen: Vec<String> = Vec::new();
        for (code, name) in names.iter().enumerate() {
            let by_name = documentation(name);
            let by_code = documentation(&code.to_string());
            assert!(
                by_code.contains(&format!("`{name}`")),
                "`{key}: {code}` is documented as {by_code:?}"
            );
            for text in [by_name, by_code] {
                assert!(
                    !text.is_empty() && !seen.contains(&text),
                    "`{key}`: {text:?} is empty or shared by two values"
                );
                seen.push(text);
            }
        }
    }
}
