//! The provider client against the sandbox, over real loopback sockets: every answer code, every
//! injected fault, signatures over arbitrary bodies, secrecy, and the `sandbox` command itself.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use campaignctl::nxcc::{
    ApiResponse, CREATE_AND_CALL_PATH, CallItem, Client, ClientConfig, CreateAndCall, Credentials,
    Outcome, SignAlgorithm, sign,
};
use campaignctl::sandbox::{Fault, Sandbox, SandboxConfig, SandboxHandle};
use proptest::prelude::*;
use proptest::test_runner::{Config as ProptestConfig, TestRunner};
use secrecy::SecretString;
use serde_json::{Value, json};

const KEY: &str = "test-access-key";
const SECRET: &str = "Sx9-very-secret-Qm2";

async fn sandbox(faults: &[&str]) -> SandboxHandle {
    Sandbox::start(SandboxConfig {
        listen: "127.0.0.1:0".parse().expect("address"),
        credentials: Credentials::new(KEY, SECRET),
        faults: faults
            .iter()
            .map(|spec| spec.parse::<Fault>().expect("fault spec"))
            .collect(),
        records: Default::default(),
    })
    .await
    .expect("sandbox starts")
}

fn config(endpoint: &str, key: &str, secret: &str, algorithm: SignAlgorithm) -> ClientConfig {
    ClientConfig {
        endpoint: endpoint.to_owned(),
        algorithm,
        connect_timeout: Duration::from_secs(2),
        request_timeout: Duration::from_secs(5),
        ..ClientConfig::new(Credentials::new(key, secret))
    }
}

fn client(sandbox: &SandboxHandle) -> Client {
    Client::new(config(&sandbox.base_url(), KEY, SECRET, SignAlgorithm::Md5)).expect("client")
}

fn task(name: &str, desc: &str, other: &str) -> CreateAndCall {
    CreateAndCall {
        task_name: name.to_owned(),
        task_desc: Some(desc.to_owned()),
        country: "HK".to_owned(),
        strategy_name: "Default Strategy".to_owned(),
        dispatch_type: 0,
        agent_group_no: "NX09445G000025".to_owned(),
        predict_call_rate: 1.0,
        ratio_call_rate: 1.0,
        start_count: 1,
        startup_type: Some(3),
        call_list: vec![CallItem {
            order_id: "FFDD1791E22F4D9DBA967C245C58E544".to_owned(),
            user_phone: "85235757581".to_owned(),
            other: other.to_owned(),
        }],
    }
}

fn body() -> String {
    serde_json::to_string(&task("renewal-2026Q2-north", "Renewal", "C-1")).expect("serializes")
}

fn now_ms() -> u64 {
    let elapsed = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock");
    u64::try_from(elapsed.as_millis()).expect("millis fit")
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("reqwest client")
}

/// The headers a correct client sends for `body` at `ts`.
fn signed_headers(ts: u64, body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("accessKey", KEY.to_owned()),
        ("ts", ts.to_string()),
        ("bizType", "8".to_owned()),
        ("action", "cc".to_owned()),
        (
            "sign",
            sign(
                KEY,
                ts,
                body,
                &SecretString::from(SECRET),
                SignAlgorithm::Md5,
            ),
        ),
        ("content-type", "application/json".to_owned()),
    ]
}

/// Posts to the sandbox's createandcall path exactly these headers and body.
async fn raw(sandbox: &SandboxHandle, headers: &[(&str, String)], body: &str) -> ApiResponse {
    let mut request = http()
        .post(format!("{}{CREATE_AND_CALL_PATH}", sandbox.base_url()))
        .body(body.to_owned());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("sandbox answers");
    assert_eq!(response.status(), 200, "coded answers come with HTTP 200");
    ApiResponse::parse(&response.bytes().await.expect("answer body")).expect("coded answer")
}

async fn read_json(response: reqwest::Response) -> Value {
    let bytes = response.bytes().await.expect("answer body");
    serde_json::from_slice(&bytes).expect("JSON")
}

async fn get_json(sandbox: &SandboxHandle, path: &str) -> Value {
    let url = format!("{}{path}", sandbox.base_url());
    read_json(http().get(url).send().await.expect("sandbox answers")).await
}

fn rejected_code(outcome: &Outcome) -> i64 {
    match outcome {
        Outcome::Rejected { code, .. } => *code,
        other => panic!("expected a rejection, got {other:?}"),
    }
}

fn assert_unknown(outcome: &Outcome) {
    assert!(
        matches!(outcome, Outcome::Unknown { .. }),
        "expected unknown, got {outcome:?}"
    );
    assert!(outcome.may_have_created());
}

#[tokio::test]
async fn created_with_md5_and_sha256_and_recorded_as_sent() {
    let sandbox = sandbox(&[]).await;
    for algorithm in [SignAlgorithm::Md5, SignAlgorithm::Sha256] {
        let client =
            Client::new(config(&sandbox.base_url(), KEY, SECRET, algorithm)).expect("client");
        let outcome = client.create_and_call(&body()).await;
        assert!(
            matches!(outcome, Outcome::Created { .. }),
            "{algorithm}: {outcome:?}"
        );
        assert!(outcome.may_have_created());
        let tasks = sandbox.tasks();
        let last = tasks.last().expect("recorded");
        assert_eq!(outcome.req_id(), Some(last.req_id.as_str()));
        assert_eq!(
            last.body,
            serde_json::from_str::<Value>(&body()).expect("JSON")
        );
    }
    assert_eq!(sandbox.tasks().len(), 2);

    let listed = get_json(&sandbox, "/_sandbox/tasks").await;
    let listed = listed.as_array().expect("array");
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["reqId"], json!(sandbox.tasks()[0].req_id));
    assert_eq!(listed[0]["body"]["taskName"], "renewal-2026Q2-north");
    assert!(
        listed[0]["receivedAt"]
            .as_str()
            .is_some_and(|at| at.ends_with('Z'))
    );

    let requests = get_json(&sandbox, "/_sandbox/requests").await;
    assert_eq!(requests[1]["number"], 2);
    assert_eq!(requests[1]["code"], 0);
    assert_eq!(requests[1]["recorded"], true);
}

#[tokio::test]
async fn client_mistakes_are_rejections() {
    let sandbox = sandbox(&[]).await;
    let url = sandbox.base_url();

    let wrong_key =
        Client::new(config(&url, "other-key", SECRET, SignAlgorithm::Md5)).expect("client");
    let outcome = wrong_key.create_and_call(&body()).await;
    assert_eq!(rejected_code(&outcome), 1005);
    assert!(!outcome.may_have_created());

    let wrong_secret =
        Client::new(config(&url, KEY, "not-it", SignAlgorithm::Sha256)).expect("client");
    assert_eq!(
        rejected_code(&wrong_secret.create_and_call(&body()).await),
        1003
    );

    let client = client(&sandbox);
    let mut no_numbers = task("t", "d", "o");
    no_numbers.call_list.clear();
    let mut plus_phone = task("t", "d", "o");
    plus_phone.call_list[0].user_phone = "+85235757581".to_owned();
    let mut missing = serde_json::to_value(task("t", "d", "o")).expect("value");
    missing
        .as_object_mut()
        .expect("object")
        .remove("strategyName");
    for bad in [
        "not json".to_owned(),
        String::new(),
        serde_json::to_string(&no_numbers).expect("json"),
        serde_json::to_string(&plus_phone).expect("json"),
        missing.to_string(),
    ] {
        assert_eq!(
            rejected_code(&client.create_and_call(&bad).await),
            41000,
            "{bad}"
        );
    }
    assert!(sandbox.tasks().is_empty());
    // A rejection other than 1004 is final: one request each, no retry.
    assert_eq!(sandbox.requests().len(), 7);
}

#[tokio::test]
async fn gate_checks_give_their_documented_codes() {
    let sandbox = sandbox(&[]).await;
    let body = body();

    for missing in ["accessKey", "ts", "bizType", "action", "sign"] {
        let headers: Vec<_> = signed_headers(now_ms(), &body)
            .into_iter()
            .filter(|(name, _)| *name != missing)
            .collect();
        assert_eq!(
            raw(&sandbox, &headers, &body).await.code,
            1001,
            "without {missing}"
        );
    }

    for (name, value) in [("bizType", "1"), ("action", "send"), ("algorithm", "sha1")] {
        let mut headers = signed_headers(now_ms(), &body);
        headers.retain(|(n, _)| *n != name);
        headers.push((name, value.to_owned()));
        assert_eq!(
            raw(&sandbox, &headers, &body).await.code,
            1002,
            "{name}: {value}"
        );
    }

    // Correctly signed, but long ago, then in the future, then not 13 digits.
    let stale = now_ms() - 120_000;
    assert_eq!(
        raw(&sandbox, &signed_headers(stale, &body), &body)
            .await
            .code,
        1004
    );
    let future = now_ms() + 120_000;
    assert_eq!(
        raw(&sandbox, &signed_headers(future, &body), &body)
            .await
            .code,
        1004
    );
    let seconds = now_ms() / 1000;
    assert_eq!(
        raw(&sandbox, &signed_headers(seconds, &body), &body)
            .await
            .code,
        1004
    );

    let mut headers = signed_headers(now_ms(), &body);
    headers.retain(|(name, _)| *name != "content-type");
    headers.push(("content-type", "text/plain".to_owned()));
    assert_eq!(raw(&sandbox, &headers, &body).await.code, 1003);

    // Signed with MD5 but claiming SHA-256.
    let mut headers = signed_headers(now_ms(), &body);
    headers.push(("algorithm", "sha256".to_owned()));
    assert_eq!(raw(&sandbox, &headers, &body).await.code, 1003);

    // One byte more than what was signed.
    let headers = signed_headers(now_ms(), &body);
    assert_eq!(
        raw(&sandbox, &headers, &format!("{body} ")).await.code,
        1003
    );

    // And the same request, untouched, passes: the checks above failed for their own reason.
    let ok = raw(&sandbox, &signed_headers(now_ms(), &body), &body).await;
    assert_eq!(ok.code, 0);
    assert_eq!(sandbox.tasks().len(), 1);
    assert_eq!(
        ok.req_id.as_deref(),
        Some(sandbox.tasks()[0].req_id.as_str())
    );
}

#[tokio::test]
async fn codes_88_and_99_are_unknown_never_retried() {
    let sandbox = sandbox(&["1=code:88", "2=code:99", "3=code:88+record", "4=code:7"]).await;
    let client = client(&sandbox);
    for _ in 0..4 {
        assert_unknown(&client.create_and_call(&body()).await);
    }
    let requests = sandbox.requests();
    assert_eq!(requests.len(), 4);
    let codes: Vec<_> = requests.iter().map(|r| r.code).collect();
    assert_eq!(codes, [Some(88), Some(99), Some(88), Some(7)]);
    // Only the `+record` fault created the task behind the unknown answer.
    let tasks = sandbox.tasks();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].request, 3);
}

#[tokio::test]
async fn http_errors_and_unreadable_answers_are_unknown() {
    let sandbox = sandbox(&["1=http:500", "2=http:502+record", "3=http:200"]).await;
    let client = client(&sandbox);
    for _ in 0..3 {
        assert_unknown(&client.create_and_call(&body()).await);
    }
    let statuses: Vec<_> = sandbox.requests().iter().map(|r| r.http_status).collect();
    assert_eq!(statuses, [Some(500), Some(502), Some(200)]);
    let recorded: Vec<_> = sandbox.tasks().iter().map(|t| t.request).collect();
    assert_eq!(recorded, [2]);
}

#[tokio::test]
async fn a_slow_answer_beyond_the_timeout_is_unknown_but_the_task_exists() {
    let sandbox = sandbox(&["1=delay:3000"]).await;
    let client = Client::new(ClientConfig {
        request_timeout: Duration::from_millis(300),
        ..config(&sandbox.base_url(), KEY, SECRET, SignAlgorithm::Md5)
    })
    .expect("client");
    let started = Instant::now();
    let outcome = client.create_and_call(&body()).await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "the timeout applies"
    );
    assert_unknown(&outcome);
    assert_eq!(sandbox.tasks().len(), 1);
    assert_eq!(sandbox.requests().len(), 1, "never retried");

    // A short delay within the timeout is just a slow success.
    sandbox.set_faults(vec!["*=delay:50".parse().expect("spec")]);
    assert!(matches!(
        client.create_and_call(&body()).await,
        Outcome::Created { .. }
    ));
}

#[tokio::test]
async fn a_dropped_connection_is_unknown() {
    let sandbox = sandbox(&["1=drop+record", "2=drop", "3=delay:20+drop"]).await;
    let client = client(&sandbox);
    for _ in 0..3 {
        assert_unknown(&client.create_and_call(&body()).await);
    }
    assert_eq!(sandbox.requests().len(), 3, "never retried");
    assert!(sandbox.requests().iter().all(|r| r.http_status.is_none()));
    let recorded: Vec<_> = sandbox.tasks().iter().map(|t| t.request).collect();
    assert_eq!(recorded, [1], "accepted, then dropped");
}

#[tokio::test]
async fn stale_ts_is_signed_again_once() {
    let sandbox = sandbox(&["1=code:1004"]).await;
    let client = client(&sandbox);
    assert!(matches!(
        client.create_and_call(&body()).await,
        Outcome::Created { .. }
    ));
    assert_eq!(sandbox.requests().len(), 2);
    assert_eq!(sandbox.tasks().len(), 1);

    sandbox.set_faults(vec!["3-4=code:1004".parse().expect("spec")]);
    assert_eq!(rejected_code(&client.create_and_call(&body()).await), 1004);
    assert_eq!(sandbox.requests().len(), 4, "one retry, not two");
    assert_eq!(sandbox.tasks().len(), 1);

    // Any other rejection is final at once.
    sandbox.set_faults(vec!["5=code:1003".parse().expect("spec")]);
    assert_eq!(rejected_code(&client.create_and_call(&body()).await), 1003);
    assert_eq!(sandbox.requests().len(), 5);
}

#[tokio::test]
async fn nothing_listening_is_not_sent() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let client = Client::new(config(
        &format!("http://127.0.0.1:{port}/"),
        KEY,
        SECRET,
        SignAlgorithm::Md5,
    ))
    .expect("client");
    let outcome = client.create_and_call(&body()).await;
    assert!(matches!(outcome, Outcome::NotSent { .. }), "{outcome:?}");
    assert!(!outcome.may_have_created());
}

#[tokio::test]
async fn faults_can_be_armed_on_a_running_sandbox() {
    let sandbox = sandbox(&[]).await;
    let client = client(&sandbox);
    assert!(matches!(
        client.create_and_call(&body()).await,
        Outcome::Created { .. }
    ));

    let url = format!("{}/_sandbox/faults", sandbox.base_url());
    let arm = http().post(&url).body(r#"["*=delay:1", "2=code:99"]"#);
    let armed = read_json(arm.send().await.expect("answer")).await;
    assert_eq!(
        armed,
        json!({"faults": ["*=delay:1", "2=code:99"], "nextRequest": 2})
    );
    assert_unknown(&client.create_and_call(&body()).await);
    assert!(matches!(
        client.create_and_call(&body()).await,
        Outcome::Created { .. }
    ));

    let refused = http()
        .post(&url)
        .body(r#"["2=explode"]"#)
        .send()
        .await
        .expect("answer");
    assert_eq!(refused.status(), 400);
    let message = read_json(refused).await;
    assert!(
        message["error"]
            .as_str()
            .is_some_and(|m| m.contains("2=explode")),
        "{message}"
    );

    let cleared = read_json(http().post(&url).body("[]").send().await.expect("answer")).await;
    assert_eq!(cleared, json!({"faults": [], "nextRequest": 4}));
    assert_eq!(get_json(&sandbox, "/_sandbox/faults").await, cleared);

    let missing = http()
        .get(format!("{}/nope", sandbox.base_url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(missing.status(), 404);
    let wrong_method = http()
        .get(format!("{}{CREATE_AND_CALL_PATH}", sandbox.base_url()))
        .send()
        .await
        .expect("answer");
    assert_eq!(wrong_method.status(), 405);
}

#[tokio::test]
async fn the_secret_appears_nowhere() {
    let sandbox = sandbox(&["2=code:88+record", "3=http:500", "4=drop"]).await;
    let url = sandbox.base_url();
    let config = config(&url, KEY, SECRET, SignAlgorithm::Sha256);
    let client = Client::new(config.clone()).expect("client");

    let mut seen = vec![
        format!("{config:?}"),
        format!("{client:#?}"),
        format!("{sandbox:?}"),
        format!("{:?}", Credentials::new(KEY, SECRET)),
    ];
    for _ in 0..4 {
        let outcome = client.create_and_call(&body()).await;
        seen.push(format!("{outcome:?} {outcome}"));
    }
    let wrong_secret = Client::new(ClientConfig {
        credentials: Credentials::new(KEY, format!("{SECRET}x")),
        ..config.clone()
    })
    .expect("client");
    let outcome = wrong_secret.create_and_call(&body()).await;
    assert_eq!(rejected_code(&outcome), 1003);
    seen.push(format!("{outcome:?} {outcome}"));
    let outcome = Client::new(ClientConfig {
        endpoint: "http://127.0.0.1:1".to_owned(),
        ..config.clone()
    })
    .expect("client")
    .create_and_call(&body())
    .await;
    seen.push(format!("{outcome:?} {outcome}"));

    for path in ["/_sandbox/tasks", "/_sandbox/requests", "/_sandbox/faults"] {
        seen.push(get_json(&sandbox, path).await.to_string());
    }
    seen.push(format!("{:?} {:?}", sandbox.tasks(), sandbox.requests()));
    let refusal = raw(&sandbox, &signed_headers(now_ms(), "x"), "y").await;
    seen.push(format!("{refusal:?}"));
    let missing =
        Credentials::from_lookup(|name| (name == "NXCC_ACCESS_SECRET").then(|| SECRET.to_owned()))
            .expect_err("key missing");
    seen.push(format!("{missing} {missing:?}"));
    let bad_key = Client::new(ClientConfig {
        credentials: Credentials::new("bad\nkey", SECRET),
        ..config
    })
    .expect_err("header-unsafe key");
    seen.push(format!("{bad_key} {bad_key:?}"));

    for text in &seen {
        assert!(!text.contains(SECRET), "the secret leaked: {text}");
    }
}

#[test]
fn the_sandbox_verifies_what_the_client_signed_for_any_body() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let sandbox = runtime.block_on(sandbox(&[]));
    let md5 = client(&sandbox);
    let sha256 = Client::new(config(
        &sandbox.base_url(),
        KEY,
        SECRET,
        SignAlgorithm::Sha256,
    ))
    .expect("client");
    let large = prop::collection::vec(any::<char>(), 0..20_000).prop_map(String::from_iter);
    let strategy = (any::<String>(), large, any::<String>(), any::<bool>());

    let mut runner = TestRunner::new(ProptestConfig {
        cases: 64,
        ..ProptestConfig::default()
    });
    let result = runner.run(&strategy, |(name, desc, other, use_sha256)| {
        let client = if use_sha256 { &sha256 } else { &md5 };
        // Valid JSON of any content is accepted and recorded exactly as sent...
        let body =
            serde_json::to_string(&task(&format!("t{name}"), &desc, &other)).expect("serializes");
        let outcome = runtime.block_on(client.create_and_call(&body));
        prop_assert!(matches!(outcome, Outcome::Created { .. }), "{:?}", outcome);
        let recorded = sandbox.tasks().pop().expect("recorded").body;
        prop_assert_eq!(
            recorded,
            serde_json::from_str::<Value>(&body).expect("JSON")
        );
        // ...and any text at all still passes the signature check, failing only on its content.
        let outcome = runtime.block_on(client.create_and_call(&other));
        prop_assert!(
            matches!(outcome, Outcome::Rejected { code: 41000, .. }),
            "{:?}",
            outcome
        );
        Ok(())
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Kills the sandbox process even when an assertion fails first.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_sandbox_command_serves_until_killed() {
    let mut child = Running(
        Command::new(env!("CARGO_BIN_EXE_campaignctl"))
            .args(["sandbox", "--listen", "127.0.0.1:0", "--fault", "1=code:88"])
            .env("NXCC_ACCESS_KEY", KEY)
            .env("NXCC_ACCESS_SECRET", SECRET)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("campaignctl starts"),
    );
    let stdout = child.0.stdout.take().expect("stdout");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = sender.send(line);
    });
    let line = receiver
        .recv_timeout(Duration::from_secs(20))
        .expect("a first line in time");
    let url = line
        .trim_end()
        .strip_prefix("listening on http://127.0.0.1:")
        .map(|port| format!("http://127.0.0.1:{port}"))
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let client = Client::new(config(&url, KEY, SECRET, SignAlgorithm::Md5)).expect("client");
        assert_unknown(&client.create_and_call(&body()).await);
        let outcome = client.create_and_call(&body()).await;
        assert!(matches!(outcome, Outcome::Created { .. }), "{outcome:?}");

        let listed = http().get(format!("{url}/_sandbox/tasks")).send().await;
        let tasks = read_json(listed.expect("answer")).await;
        let tasks = tasks.as_array().expect("array");
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0]["reqId"].as_str(), outcome.req_id());
        assert_eq!(tasks[0]["request"], 2);
        assert_eq!(tasks[0]["body"]["callList"][0]["userPhone"], "85235757581");
    });
    drop(child);
}

#[test]
fn the_sandbox_command_teaches_and_checks_its_fault_grammar() {
    let help = Command::new(env!("CARGO_BIN_EXE_campaignctl"))
        .args(["sandbox", "--help"])
        .output()
        .expect("runs");
    assert!(help.status.success());
    let text = String::from_utf8_lossy(&help.stdout);
    for needle in [
        "--listen",
        "127.0.0.1:8787",
        "WHEN=ACTION",
        "code:C",
        "drop",
        "record",
        "delay:MS",
        "/_sandbox/faults",
    ] {
        assert!(text.contains(needle), "--help lacks {needle}:\n{text}");
    }

    let bad = Command::new(env!("CARGO_BIN_EXE_campaignctl"))
        .args(["sandbox", "--listen", "127.0.0.1:0", "--fault", "3=explode"])
        .stdin(Stdio::null())
        .output()
        .expect("runs");
    assert_eq!(bad.status.code(), Some(1));
    let text = String::from_utf8_lossy(&bad.stderr);
    assert!(text.contains("invalid fault `3=explode`"), "{text}");
}
