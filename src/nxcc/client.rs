//! The HTTP client for `createandcall`: signs the exact bytes it sends and says, for every way a
//! request can end, whether the task may exist.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use reqwest::{Url, redirect, retry};

use super::ConfigError;
use super::credentials::Credentials;
use super::response::{ApiResponse, CODE_OK, CODE_STALE_TS, is_refused_unread, is_rejection};
use super::sign::{ACTION_CC, BIZ_TYPE_CC, SignAlgorithm, sign};

/// The gateway used when none is configured.
pub const DEFAULT_ENDPOINT: &str = "https://api2.nxcloud.com";
/// The createandcall path, appended to the gateway's base URL.
pub const CREATE_AND_CALL_PATH: &str = "/saas/cc/openapi/ai/createandcall";
/// Default limit for establishing a connection (TCP and TLS).
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// Default limit for a whole request, from connecting to the last byte of the answer.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Answers are a few hundred bytes; a larger one is not the provider's and is not worth reading.
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// How to reach the provider.
#[derive(Clone, Debug)]
pub struct ClientConfig {
    /// The gateway's base URL, e.g. `https://api-hk.nxlink.ai`; the createandcall path is appended.
    pub endpoint: String,
    pub credentials: Credentials,
    pub algorithm: SignAlgorithm,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
}

impl ClientConfig {
    /// The default gateway, MD5 signatures and the default timeouts.
    pub fn new(credentials: Credentials) -> Self {
        ClientConfig {
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            credentials,
            algorithm: SignAlgorithm::default(),
            connect_timeout: DEFAULT_CONNECT_TIMEOUT,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }
}

/// How one createandcall request ended, from the point of view of "could the task exist now?".
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Code 0: the provider created the task.
    Created {
        req_id: Option<String>,
        msg: Option<String>,
    },
    /// A documented rejection (1001–1005, 41000): the provider did not create the task.
    Rejected {
        code: i64,
        msg: Option<String>,
        req_id: Option<String>,
    },
    /// No connection could be made, so no byte of the request reached the provider.
    NotSent { reason: String },
    /// Refused for its size (HTTP 413, 414, 431) before anything read it: nothing was created.
    TooLarge { status: StatusCode },
    /// Anything else: the task may or may not exist (codes 88, 99 or undocumented ones, an HTTP
    /// error status, a timeout, a connection lost after sending, an unreadable answer).
    Unknown {
        reason: String,
        req_id: Option<String>,
    },
}

impl Outcome {
    /// Whether the provider may have created the task: true for `Created` and `Unknown`. A number
    /// in such a task must never be sent again automatically.
    pub fn may_have_created(&self) -> bool {
        matches!(self, Outcome::Created { .. } | Outcome::Unknown { .. })
    }

    /// The provider's request id, when an answer carried one.
    pub fn req_id(&self) -> Option<&str> {
        match self {
            Outcome::Created { req_id, .. }
            | Outcome::Rejected { req_id, .. }
            | Outcome::Unknown { req_id, .. } => req_id.as_deref(),
            Outcome::NotSent { .. } | Outcome::TooLarge { .. } => None,
        }
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let req = |req_id: &Option<String>| match req_id {
            Some(id) => format!(" (reqId {id})"),
            None => String::new(),
        };
        match self {
            Outcome::Created { req_id, .. } => write!(f, "created{}", req(req_id)),
            Outcome::Rejected { code, msg, req_id } => {
                write!(f, "rejected with code {code}")?;
                if let Some(msg) = msg {
                    write!(f, ": {msg}")?;
                }
                write!(f, "{}", req(req_id))
            }
            Outcome::NotSent { reason } => write!(f, "not sent: {reason}"),
            Outcome::TooLarge { status } => {
                write!(
                    f,
                    "refused unread: HTTP {status} (the request is too large)"
                )
            }
            Outcome::Unknown { reason, req_id } => {
                write!(f, "outcome unknown: {reason}{}", req(req_id))
            }
        }
    }
}

/// A createandcall client. Cloning is cheap and shares the connection pool.
#[derive(Clone, Debug)]
pub struct Client {
    http: reqwest::Client,
    /// The gateway's base URL, checked; every API path is appended to it.
    base: Url,
    url: Url,
    access_key: HeaderValue,
    credentials: Credentials,
    algorithm: SignAlgorithm,
}

impl Client {
    pub fn new(config: ClientConfig) -> Result<Client, ConfigError> {
        let base = gateway_url(&config.endpoint)?;
        let url = join_path(&base, CREATE_AND_CALL_PATH);
        let access_key = HeaderValue::from_str(&config.credentials.access_key)
            .map_err(|_| ConfigError::KeyNotAHeader)?;
        if config.connect_timeout.is_zero() || config.request_timeout.is_zero() {
            return Err(ConfigError::ZeroTimeout);
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(concat!("campaignctl/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(config.connect_timeout)
            .timeout(config.request_timeout)
            // A 307/308 would make reqwest send the body again, to wherever it points: a second
            // request that may create a second task. An answer other than 2xx is unknown instead.
            .redirect(redirect::Policy::none())
            // Whatever is retried, it is done here, where the meaning of each answer is known.
            .retry(retry::never());
        if is_loopback(&url) {
            // The sandbox runs on loopback; a proxy from the environment could not reach it.
            builder = builder.no_proxy();
        }
        let http = builder
            .build()
            .map_err(|err| ConfigError::HttpClient(describe(&err)))?;
        Ok(Client {
            http,
            base,
            url,
            access_key,
            credentials: config.credentials,
            algorithm: config.algorithm,
        })
    }

    /// The full createandcall URL requests go to.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Sends one createandcall request with `body`, the already-serialized JSON, byte for byte.
    ///
    /// A 1004 (stale `ts`) is a rejection, so it is signed again with a fresh `ts` and sent once
    /// more; nothing else is ever retried.
    pub async fn create_and_call(&self, body: &str) -> Outcome {
        match self.send_once(body).await {
            Outcome::Rejected {
                code: CODE_STALE_TS,
                ..
            } => self.send_once(body).await,
            outcome => outcome,
        }
    }

    async fn send_once(&self, body: &str) -> Outcome {
        match self.post(self.url.clone(), body).await {
            Exchange::NotConnected(reason) => Outcome::NotSent { reason },
            Exchange::Lost(reason) => Outcome::Unknown {
                reason,
                req_id: None,
            },
            Exchange::Answered { status, answer } => classify(status, &answer),
        }
    }

    /// The URL of `path` under the configured gateway.
    pub(crate) fn url_for(&self, path: &str) -> Url {
        join_path(&self.base, path)
    }

    /// Signs `body` with a fresh `ts` and POSTs it to `url`; the answer is read whole, up to a
    /// bound, but not interpreted: what it means depends on the API.
    ///
    /// Always sends the `algorithm` header, even for MD5: the docs list `md5` as a value, and
    /// saying it removes any doubt about which hash the provider should check.
    pub(crate) async fn post(&self, url: Url, body: &str) -> Exchange {
        // Taken as late as possible: the provider rejects a `ts` more than 60 s from its clock.
        let ts = match now_millis() {
            Ok(ts) => ts,
            Err(reason) => return Exchange::NotConnected(reason),
        };
        let signature = sign(
            &self.credentials.access_key,
            ts,
            body,
            &self.credentials.access_secret,
            self.algorithm,
        );
        let request = self
            .http
            .post(url)
            .header("accessKey", self.access_key.clone())
            .header("ts", ts)
            .header("bizType", BIZ_TYPE_CC)
            .header("action", ACTION_CC)
            .header("sign", signature)
            .header("algorithm", self.algorithm.header_value())
            .header(CONTENT_TYPE, "application/json")
            .body(body.to_owned());

        let mut response = match request.send().await {
            Ok(response) => response,
            // Connector errors (DNS, TCP connect, TLS handshake, proxy tunnel) all happen before
            // the request is written; a builder error before anything at all.
            Err(err) if err.is_connect() || err.is_builder() => {
                return Exchange::NotConnected(describe(&err));
            }
            Err(err) => return Exchange::Lost(describe(&err)),
        };

        let status = response.status();
        let mut answer = Vec::new();
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) if answer.len() + chunk.len() <= MAX_ANSWER_BYTES => {
                    answer.extend_from_slice(&chunk);
                }
                Ok(Some(_)) => {
                    return Exchange::Lost(format!(
                        "HTTP {status} with an answer larger than {MAX_ANSWER_BYTES} bytes"
                    ));
                }
                Ok(None) => break,
                Err(err) => {
                    return Exchange::Lost(format!(
                        "HTTP {status}, then reading the answer failed: {}",
                        describe(&err)
                    ));
                }
            }
        }
        Exchange::Answered { status, answer }
    }
}

/// How a signed POST ended, before its answer is read for meaning.
#[derive(Debug)]
pub(crate) enum Exchange {
    /// No connection could be made, so no byte of the request reached the provider.
    NotConnected(String),
    /// The request may have arrived, but no complete answer came back.
    Lost(String),
    Answered {
        status: StatusCode,
        answer: Vec<u8>,
    },
}

/// What an answer means. Only a 2xx status with a readable code is trusted: the provider answers
/// its codes with HTTP 200, so anything else comes from something in between; of that, only a
/// refusal for size proves that nothing was created.
fn classify(status: StatusCode, answer: &[u8]) -> Outcome {
    if is_refused_unread(status.as_u16()) {
        return Outcome::TooLarge { status };
    }
    let parsed = ApiResponse::parse(answer);
    if !status.is_success() {
        let reason = match &parsed {
            Ok(response) => format!("HTTP {status} with code {}", response.code),
            Err(_) => format!("HTTP {status}"),
        };
        return Outcome::Unknown {
            reason,
            req_id: parsed.ok().and_then(|response| response.req_id),
        };
    }
    let response = match parsed {
        Ok(response) => response,
        Err(reason) => {
            return Outcome::Unknown {
                reason: format!("unreadable answer: {reason}"),
                req_id: None,
            };
        }
    };
    match response.code {
        CODE_OK => Outcome::Created {
            req_id: response.req_id,
            msg: response.msg,
        },
        code if is_rejection(code) => Outcome::Rejected {
            code,
            msg: response.msg,
            req_id: response.req_id,
        },
        code => Outcome::Unknown {
            reason: match response.msg {
                Some(msg) => format!("code {code}: {msg}"),
                None => format!("code {code}"),
            },
            req_id: response.req_id,
        },
    }
}

/// The createandcall URL under a gateway base URL, which may end in a slash or carry a path
/// prefix (a proxy or the sandbox behind one).
pub fn create_and_call_url(endpoint: &str) -> Result<Url, ConfigError> {
    Ok(join_path(&gateway_url(endpoint)?, CREATE_AND_CALL_PATH))
}

/// A gateway base URL, checked: http(s), a host, no query, fragment or credentials.
fn gateway_url(endpoint: &str) -> Result<Url, ConfigError> {
    let invalid = |why: &'static str| ConfigError::InvalidEndpoint {
        endpoint: without_userinfo(endpoint),
        why,
    };
    let url = Url::parse(endpoint.trim()).map_err(|err| invalid(parse_problem(err)))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid("the scheme must be https (or http)"));
    }
    if url.host().is_none() {
        return Err(invalid("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("give the base URL only, without `?` or `#` parts"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "credentials come from NXCC_ACCESS_KEY/NXCC_ACCESS_SECRET, not the URL",
        ));
    }
    Ok(url)
}

/// `path` appended to the base's own path, keeping a prefix and dropping a trailing slash.
fn join_path(base: &Url, path: &str) -> Url {
    let mut url = base.clone();
    url.set_path(&format!("{}{path}", base.path().trim_end_matches('/')));
    url
}

/// `endpoint` as it may be shown: a user name or password written into it (`https://k:s@host`)
/// is replaced by `***`, so a secret put where it does not belong is never echoed.
fn without_userinfo(endpoint: &str) -> String {
    let Some((scheme, rest)) = endpoint.split_once("://") else {
        return endpoint.to_owned();
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{scheme}://***{}", &rest[at..]),
        None => endpoint.to_owned(),
    }
}

/// What is wrong with a URL that does not parse, in words that quote nothing of it.
fn parse_problem(err: url::ParseError) -> &'static str {
    match err {
        url::ParseError::RelativeUrlWithoutBase => {
            "not an absolute URL; write it as https://HOST, e.g. https://api-hk.nxlink.ai"
        }
        url::ParseError::EmptyHost => "it has no host",
        url::ParseError::InvalidPort => "the port is not a number from 0 to 65535",
        _ => "not a valid URL",
    }
}

/// Whether `url` names this machine: the sandbox, never a real provider.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

fn now_millis() -> Result<u64, String> {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .ok()
        .and_then(|elapsed| u64::try_from(elapsed.as_millis()).ok())
        .ok_or_else(|| "the system clock is before 1970".to_owned())
}

/// An error with its causes, e.g. "error sending request for url (…): client error (Connect):
/// tcp connect error: Connection refused (os error 111)".
fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.ends_with(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_appends_the_path_to_any_base() {
        for (base, want) in [
            (
                "https://api2.nxcloud.com",
                "https://api2.nxcloud.com/saas/cc/openapi/ai/createandcall",
            ),
            (
                "https://api-hk.nxlink.ai/",
                "https://api-hk.nxlink.ai/saas/cc/openapi/ai/createandcall",
            ),
            (
                "http://127.0.0.1:8787",
                "http://127.0.0.1:8787/saas/cc/openapi/ai/createandcall",
            ),
            (
                " http://localhost:1/prefix/ ",
                "http://localhost:1/prefix/saas/cc/openapi/ai/createandcall",
            ),
        ] {
            assert_eq!(create_and_call_url(base).expect(base).as_str(), want);
        }
    }

    #[test]
    fn url_rejects_what_cannot_be_a_gateway() {
        for bad in [
            "api2.nxcloud.com",
            "ftp://api2.nxcloud.com",
            "https://api2.nxcloud.com/?x=1",
            "https://user:pw@api2.nxcloud.com",
            "",
        ] {
            let err = create_and_call_url(bad).expect_err(bad).to_string();
            assert!(err.starts_with("invalid NXCC endpoint"), "{err}");
        }
    }

    #[test]
    fn classify_follows_the_code_table() {
        let ok = StatusCode::OK;
        assert_eq!(
            classify(
                ok,
                br#"{"reqId":"r1","code":0,"msg":"success","data":null}"#
            ),
            Outcome::Created {
                req_id: Some("r1".into()),
                msg: Some("success".into())
            }
        );
        for code in [1001, 1002, 1003, 1004, 1005, 41000] {
            let answer = format!(r#"{{"reqId":"r","code":{code},"msg":"no"}}"#);
            let outcome = classify(ok, answer.as_bytes());
            assert!(matches!(outcome, Outcome::Rejected { code: c, .. } if c == code));
            assert!(!outcome.may_have_created());
        }
        for code in [88, 99, 7, 1006] {
            let answer = format!(r#"{{"reqId":"r","code":{code},"msg":"hmm"}}"#);
            let outcome = classify(ok, answer.as_bytes());
            assert!(matches!(outcome, Outcome::Unknown { .. }), "{outcome:?}");
            assert!(outcome.may_have_created());
            assert_eq!(outcome.req_id(), Some("r"));
        }
    }

    #[test]
    fn classify_trusts_no_answer_outside_2xx_or_unreadable() {
        let rejected_shape = br#"{"reqId":"r","code":1003,"msg":"bad sign"}"#;
        for status in [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::FOUND,
            StatusCode::UNAUTHORIZED,
        ] {
            let outcome = classify(status, rejected_shape);
            assert!(matches!(outcome, Outcome::Unknown { .. }), "{outcome:?}");
        }
        for status in [
            StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::URI_TOO_LONG,
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        ] {
            let outcome = classify(status, b"");
            assert_eq!(outcome, Outcome::TooLarge { status });
            assert!(!outcome.may_have_created());
        }
        for body in [&b""[..], b"<html>busy</html>", br#"{"code":"0"}"#] {
            assert!(matches!(
                classify(StatusCode::OK, body),
                Outcome::Unknown { .. }
            ));
        }
    }

    #[test]
    fn client_refuses_bad_configuration() {
        let mut config = ClientConfig::new(Credentials::new("key\n", "s"));
        assert!(Client::new(config.clone()).is_err());
        config.credentials = Credentials::new("key", "s");
        config.request_timeout = Duration::ZERO;
        assert!(Client::new(config.clone()).is_err());
        config.request_timeout = DEFAULT_REQUEST_TIMEOUT;
        let client = Client::new(config).expect("valid");
        assert_eq!(
            client.url().as_str(),
            "https://api2.nxcloud.com/saas/cc/openapi/ai/createandcall"
        );
    }

    #[test]
    fn outcome_display_is_short_and_plain() {
        let outcome = Outcome::Rejected {
            code: 1003,
            msg: Some("invalid signature".into()),
            req_id: Some("r9".into()),
        };
        assert_eq!(
            outcome.to_string(),
            "rejected with code 1003: invalid signature (reqId r9)"
        );
    }
}
