//! Output for scripts: JSON documents whose shapes are their own types, with a format version,
//! so that renaming a domain type's field never changes public output.

pub mod apply;
pub mod diagnostics;
pub mod plan;
pub mod reconcile;
pub mod state;
