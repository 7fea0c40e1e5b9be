//! Expansion: campaign files become the exact createandcall bodies they describe.

pub mod phone;
pub mod template;
