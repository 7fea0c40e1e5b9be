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

/// Appends `markdown` to the GitHub Actions job summary when the job has one
/// (`GITHUB_STEP_SUMMARY`); a summary that cannot be written is only noted.
pub fn job_summary(markdown: impl FnOnce() -> String) {
    let Some(path) = std::env::var_os("GITHUB_STEP_SUMMARY").filter(|p| !p.is_empty()) else {
        return;
    };
    let written = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut file| writeln!(file, "{}", markdown()));
    if let Err(err) = written {
        stderr(format_args!(
            "warning: cannot append to the job summary (GITHUB_STEP_SUMMARY): {}\n",
            err.kind()
        ));
    }
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
