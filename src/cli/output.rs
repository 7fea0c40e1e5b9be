//! Writing results: to stdout, where a closed pipe (`campaignctl plan | head`) ends the command
//! quietly with exit 1 instead of a panic, and notes to stderr, which never fail a command.

use std::fmt::Arguments;
use std::io::Write;

use super::CliError;

/// Writes `text` to stdout.
pub fn stdout(text: Arguments<'_>) -> Result<(), CliError> {
    let mut out = anstream::stdout().lock();
    out.write_fmt(text)
        .and_then(|()| out.flush())
        .map_err(CliError::Stdout)
}

/// Writes `text` to stderr; a closed stderr loses only the note.
pub fn stderr(text: Arguments<'_>) {
    let mut err = anstream::stderr().lock();
    let _ = err.write_fmt(text);
}

/// `print!` for results: `out!("...")?`.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::cli::output::stdout(format_args!($($arg)*))
    };
}

/// `println!` for results: `outln!("...")?`.
macro_rules! outln {
    () => {
        $crate::cli::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::cli::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` for notes and warnings.
macro_rules! note {
    ($($arg:tt)*) => {
        $crate::cli::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {note, out, outln};
