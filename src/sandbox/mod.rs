//! A local fake NXCC server: a real HTTP server that checks every request like the provider
//! (headers, `ts` window, key, signature, body), records the tasks it accepts, and answers wrongly
//! on purpose when told to (see [`fault`]).
//!
//! It is built on hyper rather than axum because one fault must close the connection without any
//! answer, which hyper does when the service fails and axum's infallible handlers cannot.
//!
//! Endpoints:
//! - `POST /saas/cc/openapi/ai/createandcall`: the provider's API.
//! - `POST /saas/cc/openapi/cdr/page`, `POST /saas/cc/openapi/cdr/queryByOrderId`: call records
//!   of the tasks it accepted (see [`records`]).
//! - `GET /_sandbox/tasks`: accepted tasks, `[{"reqId", "receivedAt", "request", "body"}]`.
//! - `GET /_sandbox/requests`: every createandcall request and how it was answered.
//! - `GET /_sandbox/faults`, `POST /_sandbox/faults`: the armed faults (a JSON array of specs).

mod check;
pub mod fault;
pub mod records;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{CONTENT_TYPE, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tokio::sync::{broadcast, oneshot};
use tokio::task::{JoinHandle, JoinSet};

pub use self::fault::{Answer, Fault, FaultSpecError, Target};
pub use self::records::RecordsConfig;
use crate::nxcc::client::CREATE_AND_CALL_PATH;
use crate::nxcc::records::{CDR_BY_ORDER_ID_PATH, CDR_PAGE_PATH};
use crate::nxcc::response::CODE_OK;
use crate::nxcc::{ApiResponse, Credentials};

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
}

/// The address `campaignctl sandbox` listens on by default.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8787";

/// A createandcall callList is not documented to have a limit; this only bounds memory.
const MAX_BODY_BYTES: usize = 64 << 20;

/// How to start a sandbox.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// Port 0 picks a free port; [`SandboxHandle::local_addr`] tells which.
    pub listen: SocketAddr,
    /// The only key and secret the sandbox accepts.
    pub credentials: Credentials,
    pub faults: Vec<Fault>,
    pub records: RecordsConfig,
}

/// A task the sandbox accepted.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordedTask {
    pub req_id: String,
    /// RFC 3339, UTC.
    pub received_at: String,
    /// The same, in milliseconds since the epoch: when its calls start is counted from it.
    #[serde(skip)]
    pub received_ms: u64,
    /// The number of the createandcall request that carried it.
    pub request: u64,
    /// The body as sent, parsed (key order kept).
    pub body: serde_json::Value,
}

/// One createandcall request and what the sandbox did with it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestRecord {
    /// 1-based, in order of arrival: the number faults refer to.
    pub number: u64,
    pub received_at: String,
    /// The code answered, when the answer was a coded one.
    pub code: Option<i64>,
    /// The HTTP status answered; `None` when the connection was dropped.
    pub http_status: Option<u16>,
    pub req_id: Option<String>,
    /// Whether its task was recorded (it passed every check and no fault prevented it).
    pub recorded: bool,
    /// The fault applied, as its spec.
    pub fault: Option<String>,
}

/// Starts sandboxes.
pub struct Sandbox;

impl Sandbox {
    /// Binds `config.listen` and serves on the current tokio runtime until the handle is shut
    /// down or dropped.
    pub async fn start(config: SandboxConfig) -> Result<SandboxHandle, SandboxError> {
        let listener =
            TcpListener::bind(config.listen)
                .await
                .map_err(|source| SandboxError::Listen {
                    addr: config.listen,
                    source,
                })?;
        let local_addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Listen {
                addr: config.listen,
                source,
            })?;
        let (events, _) = broadcast::channel(1024);
        let shared = Arc::new(Shared {
            credentials: config.credentials,
            id_seed: format!("{local_addr}{:?}", SystemTime::now()),
            events,
            inner: Mutex::new(Inner {
                received: 0,
                tasks: Vec::new(),
                requests: Vec::new(),
                faults: config.faults,
                records_received: 0,
                records: config.records,
            }),
        });
        let (stop, stopped) = oneshot::channel();
        let server = tokio::spawn(serve(listener, Arc::clone(&shared), stopped));
        Ok(SandboxHandle {
            local_addr,
            shared,
            stop: Some(stop),
            server: Some(server),
        })
    }
}

/// A running sandbox. Dropping it stops the server.
pub struct SandboxHandle {
    local_addr: SocketAddr,
    shared: Arc<Shared>,
    stop: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<()>>,
}

impl SandboxHandle {
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// `http://ADDR`, the endpoint to give a client.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.local_addr)
    }

    pub fn tasks(&self) -> Vec<RecordedTask> {
        self.shared.lock().tasks.clone()
    }

    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().requests.clone()
    }

    /// Replaces the armed faults. Request numbers keep counting from the start.
    pub fn set_faults(&self, faults: Vec<Fault>) {
        self.shared.lock().faults = faults;
    }

    /// Every createandcall request from now on, as it is answered (for a live log).
    pub fn subscribe(&self) -> broadcast::Receiver<RequestRecord> {
        self.shared.events.subscribe()
    }

    /// Stops accepting, closes open connections (answers still being delayed are never sent)
    /// and waits for the server to end.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for SandboxHandle {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

impl std::fmt::Debug for SandboxHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxHandle")
            .field("local_addr", &self.local_addr)
            .finish_non_exhaustive()
    }
}

struct Shared {
    credentials: Credentials,
    /// Makes reqIds differ between sandboxes.
    id_seed: String,
    events: broadcast::Sender<RequestRecord>,
    inner: Mutex<Inner>,
}

struct Inner {
    received: u64,
    tasks: Vec<RecordedTask>,
    requests: Vec<RequestRecord>,
    faults: Vec<Fault>,
    /// Requests to the records APIs so far: the numbers their faults refer to.
    records_received: u64,
    records: RecordsConfig,
}

impl Shared {
    /// No code panics while holding the lock, but if it ever did, the records are still the best
    /// account of what was received.
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn req_id(&self, number: u64) -> String {
        self.req_id_in(b"", number)
    }

    /// The reqId of request `number` of a numbering of its own (`stream`), unlike any other.
    fn req_id_in(&self, stream: &[u8], number: u64) -> String {
        let digest = Sha256::new()
            .chain_update(self.id_seed.as_bytes())
            .chain_update(stream)
            .chain_update(number.to_be_bytes())
            .finalize();
        hex::encode(&digest[..16])
    }
}

/// The connection task's error when a fault says to answer nothing: hyper then closes the
/// connection without writing a response.
#[derive(Debug)]
struct DropConnection;

impl std::fmt::Display for DropConnection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped on purpose")
    }
}

impl std::error::Error for DropConnection {}

type Answered = Result<Response<Full<Bytes>>, DropConnection>;

async fn serve(listener: TcpListener, shared: Arc<Shared>, mut stopped: oneshot::Receiver<()>) {
    // Dropping the set at the end aborts every connection still open.
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            _ = &mut stopped => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let shared = Arc::clone(&shared);
                    let service = service_fn(move |request| route(Arc::clone(&shared), request));
                    connections.spawn(async move {
                        // A connection ends in an error when a client goes away or a fault drops
                        // it; either way there is nobody left to tell.
                        let _ = http1::Builder::new()
                            .serve_connection(TokioIo::new(stream), service)
                            .await;
                    });
                }
                // Out of file descriptors or the like: wait rather than spin.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(50)).await,
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn route(shared: Arc<Shared>, request: Request<Incoming>) -> Answered {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    match (path.as_str(), method) {
        (CREATE_AND_CALL_PATH, Method::POST) => create_and_call(&shared, request).await,
        (CDR_PAGE_PATH, Method::POST) => {
            records::answer(&shared, request, records::Api::Page).await
        }
        (CDR_BY_ORDER_ID_PATH, Method::POST) => {
            records::answer(&shared, request, records::Api::ByOrderId).await
        }
        ("/_sandbox/tasks", Method::GET) => Ok(json(StatusCode::OK, &shared.lock().tasks)),
        ("/_sandbox/requests", Method::GET) => Ok(json(StatusCode::OK, &shared.lock().requests)),
        ("/_sandbox/faults", Method::GET) => Ok(faults_answer(&shared.lock())),
        ("/_sandbox/faults", Method::POST) => Ok(set_faults(&shared, request).await),
        (
            CREATE_AND_CALL_PATH | CDR_PAGE_PATH | CDR_BY_ORDER_ID_PATH | "/_sandbox/tasks"
            | "/_sandbox/requests" | "/_sandbox/faults",
            _,
        ) => Ok(error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")),
        _ => Ok(error(StatusCode::NOT_FOUND, "not found")),
    }
}

async fn create_and_call(shared: &Shared, request: Request<Incoming>) -> Answered {
    let (parts, body) = request.into_parts();
    let body = match read_body(body).await {
        Ok(body) => body,
        Err(answer) => return answer,
    };
    let received_at = rfc3339_now();
    let now_ms = now_millis();

    let (number, fault) = {
        let mut inner = shared.lock();
        inner.received += 1;
        let number = inner.received;
        (number, fault::fault_for(&inner.faults, number).copied())
    };
    let req_id = shared.req_id(number);

    let check = || check::check(&shared.credentials, &parts.headers, &body, now_ms);
    let (answer, msg, task) = match fault.and_then(|fault| fault.answer) {
        None => match check() {
            Ok(parsed) => (Answer::Code(CODE_OK), "success".to_owned(), Some(parsed)),
            Err(refusal) => (Answer::Code(refusal.code), refusal.msg, None),
        },
        // The fault answers in the request's place; `record` still lets a good task through.
        Some(answer) => {
            let record = fault.is_some_and(|fault| fault.record);
            let task = if record { check().ok() } else { None };
            (answer, "injected fault".to_owned(), task)
        }
    };

    let record = RequestRecord {
        number,
        received_at: received_at.clone(),
        code: match answer {
            Answer::Code(code) => Some(code),
            Answer::Http(_) | Answer::Drop => None,
        },
        http_status: match answer {
            Answer::Code(_) => Some(200),
            Answer::Http(status) => Some(status),
            Answer::Drop => None,
        },
        req_id: matches!(answer, Answer::Code(_)).then(|| req_id.clone()),
        recorded: task.is_some(),
        fault: fault.map(|fault| fault.to_string()),
    };
    {
        let mut inner = shared.lock();
        if let Some(body) = task {
            inner.tasks.push(RecordedTask {
                req_id: req_id.clone(),
                received_at,
                received_ms: now_ms,
                request: number,
                body,
            });
        }
        inner.requests.push(record.clone());
    }
    // Nobody listening is fine: the log is optional.
    let _ = shared.events.send(record);
    reply(fault, answer, req_id, msg, serde_json::Value::Null).await
}

/// Waits out the fault's delay, if any, then answers as `answer` says.
async fn reply(
    fault: Option<Fault>,
    answer: Answer,
    req_id: String,
    msg: String,
    data: serde_json::Value,
) -> Answered {
    if let Some(delay) = fault.and_then(|fault| fault.delay) {
        tokio::time::sleep(delay).await;
    }
    match answer {
        Answer::Code(code) => Ok(json(
            StatusCode::OK,
            &ApiResponse {
                req_id: Some(req_id),
                code,
                msg: Some(msg),
                data,
            },
        )),
        Answer::Http(status) => Ok(empty(
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        )),
        Answer::Drop => Err(DropConnection),
    }
}

async fn set_faults(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let body = match read_body(request.into_body()).await {
        Ok(body) => body,
        Err(_) => return error(StatusCode::BAD_REQUEST, "unreadable body"),
    };
    let specs: Vec<String> = match serde_json::from_slice(&body) {
        Ok(specs) => specs,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "expected a JSON array of fault specs, e.g. [\"3=code:88\"]",
            );
        }
    };
    let faults: Result<Vec<Fault>, FaultSpecError> =
        specs.iter().map(|spec| spec.parse()).collect();
    match faults {
        Ok(faults) => {
            let mut inner = shared.lock();
            inner.faults = faults;
            faults_answer(&inner)
        }
        Err(err) => error(StatusCode::BAD_REQUEST, &err.to_string()),
    }
}

fn faults_answer(inner: &Inner) -> Response<Full<Bytes>> {
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Faults {
        faults: Vec<String>,
        next_request: u64,
    }
    json(
        StatusCode::OK,
        &Faults {
            faults: inner.faults.iter().map(Fault::to_string).collect(),
            next_request: inner.received + 1,
        },
    )
}

async fn read_body(body: Incoming) -> Result<Bytes, Answered> {
    match Limited::new(body, MAX_BODY_BYTES).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(Ok(error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body larger than the sandbox accepts",
        ))),
        // The client went away mid-body: nobody to answer.
        Err(_) => Err(Err(DropConnection)),
    }
}

fn json(status: StatusCode, value: &impl Serialize) -> Response<Full<Bytes>> {
    match serde_json::to_vec(value) {
        Ok(bytes) => {
            let mut response = Response::new(Full::new(Bytes::from(bytes)));
            *response.status_mut() = status;
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            response
        }
        Err(_) => empty(StatusCode::INTERNAL_SERVER_ERROR),
    }
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    json(status, &serde_json::json!({ "error": message }))
}

fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = status;
    response
}

fn now_millis() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|now| u64::try_from(now.as_millis()).ok())
        .unwrap_or_default()
}

fn rfc3339_now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}
