//! How results look: one module per kind of output, apart from the domain types they show.

pub mod diagnostics;
