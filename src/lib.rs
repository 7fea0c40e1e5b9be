//! campaignctl: outbound AI call campaigns as code.
//!
//! The pipeline, one module per phase, run by one driver ([`pipeline`]):
//! [`load`] → [`validate`] → [`expand`] → [`plan`] → [`apply`], with the provider in [`nxcc`],
//! what was sent in [`state`], tasks in doubt settled from the provider's call records in
//! [`reconcile`], and a local fake provider in [`sandbox`].
//! The library never prints and knows no command line; the binary (`src/main.rs`, `src/cli/`)
//! renders results and maps errors to exit codes.

pub mod apply;
pub mod clock;
pub mod diagnostic;
pub mod error;
pub mod expand;
pub mod fsutil;
pub mod load;
pub mod model;
pub mod nxcc;
pub mod phone;
pub mod pipeline;
pub mod plan;
pub mod reconcile;
pub mod sandbox;
pub mod state;
pub mod template;
pub mod validate;
pub mod window;

pub use diagnostic::Diagnostic;
pub use error::{Error, Result};
