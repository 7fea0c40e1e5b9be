//! What can be wrong with the provider's configuration before a request is made.

use super::credentials::{ACCESS_KEY_VAR, ACCESS_SECRET_VAR};

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(
        "missing NXCC credentials: {} not set; set both {ACCESS_KEY_VAR} and {ACCESS_SECRET_VAR} \
         in the environment",
        .missing.join(" and ")
    )]
    MissingCredentials { missing: Vec<&'static str> },

    #[error("{ACCESS_KEY_VAR} contains characters that cannot be sent in an HTTP header")]
    KeyNotAHeader,

    #[error("NXCC client timeouts must be longer than zero")]
    ZeroTimeout,

    #[error("cannot set up the HTTP client: {0}")]
    HttpClient(String),

    /// `endpoint` is shown without any user name or password it held.
    #[error("invalid NXCC endpoint `{endpoint}`: {why}")]
    InvalidEndpoint { endpoint: String, why: &'static str },
}
