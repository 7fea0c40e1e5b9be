//! The integration tests: one binary, so the crate is linked once and the helpers in
//! [`support`] are shared. Each module drives one part of the product from the outside.

#![allow(clippy::print_stdout, clippy::print_stderr)] // Tests report seeds and counts.

mod apply;
mod architecture;
mod calling;
mod cli;
mod confinement;
mod editor;
mod expand;
mod guards;
mod parts;
mod plan_output;
mod provider;
mod reconcile;
mod state_postgres;
mod state_server;
mod state_shared;
mod state_sqlite;
mod support;
mod terminal;
mod validate;
mod workflow;
