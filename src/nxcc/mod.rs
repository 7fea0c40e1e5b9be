//! The NXCC provider: the createandcall body, request signing, the HTTP client, and the call
//! records that show what the provider did.

pub mod body;
pub mod client;
pub mod credentials;
mod error;
pub mod order_id;
pub mod records;
pub mod response;
pub mod sign;

pub use body::{CallItem, CreateAndCall};
pub use client::{
    CREATE_AND_CALL_PATH, Client, ClientConfig, DEFAULT_CONNECT_TIMEOUT, DEFAULT_ENDPOINT,
    DEFAULT_REQUEST_TIMEOUT, Outcome, create_and_call_url,
};
pub use credentials::{ACCESS_KEY_VAR, ACCESS_SECRET_VAR, Credentials};
pub use error::ConfigError;
pub use response::{ApiResponse, is_rejection};
pub use sign::{SignAlgorithm, sign, sign_headers};
