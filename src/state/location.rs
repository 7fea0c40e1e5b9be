//! Where state lives: a SQLite file path, or a workspace in a PostgreSQL database.

use std::path::{Path, PathBuf};

use super::StateError;

pub use super::pg_url::PgUrl;

/// The workspace used when none is named.
pub const DEFAULT_WORKSPACE: &str = "default";

/// The state named by `--state` (and `--workspace`).
#[derive(Debug, Clone)]
pub enum Location {
    Sqlite(PathBuf),
    Postgres(Box<PgUrl>),
}

impl Location {
    /// `postgres://…` or `postgresql://…` is a PostgreSQL database (with `workspace` in it);
    /// anything else is the path of a SQLite file.
    pub fn parse(state: &Path, workspace: &str) -> Result<Location, StateError> {
        let text = state.to_string_lossy();
        if is_url(&text) {
            return Ok(Location::Postgres(Box::new(PgUrl::parse(
                &text, workspace,
            )?)));
        }
        if workspace != DEFAULT_WORKSPACE {
            return Err(StateError::msg(format!(
                "--workspace {workspace} needs a PostgreSQL state (--state postgres://…): a \
                 SQLite state file holds one workspace"
            )));
        }
        Ok(Location::Sqlite(state.to_owned()))
    }

    /// The state `apply --sandbox` uses: its own SQLite file beside the real state (for a
    /// PostgreSQL state, under `.campaignctl/`), so a trial never marks real work as done.
    pub fn sandbox(&self) -> Location {
        match self {
            Location::Sqlite(path) => Location::Sqlite(path.with_file_name("sandbox.db")),
            Location::Postgres(_) => Location::Sqlite(PathBuf::from(".campaignctl/sandbox.db")),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => write!(f, "{url}"),
        }
    }
}

fn is_url(text: &str) -> bool {
    ["postgres://", "postgresql://"].iter().any(|scheme| {
        text.len() >= scheme.len() && text[..scheme.len()].eq_ignore_ascii_case(scheme)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_postgres_and_anything_else_a_file() {
        let pg = Location::parse(Path::new("postgresql://u@localhost/db"), "ci").unwrap();
        assert!(matches!(pg, Location::Postgres(_)));
        let file = Location::parse(Path::new("postgres.db"), DEFAULT_WORKSPACE).unwrap();
        assert!(matches!(file, Location::Sqlite(_)));
    }

    #[test]
    fn the_sandbox_state_is_always_a_local_file_of_its_own() {
        let file = Location::parse(Path::new("s/state.db"), DEFAULT_WORKSPACE).unwrap();
        let pg = Location::parse(Path::new("postgres://u@h/db"), DEFAULT_WORKSPACE).unwrap();
        for (location, expected) in [(file, "s/sandbox.db"), (pg, ".campaignctl/sandbox.db")] {
            match location.sandbox() {
                Location::Sqlite(path) => assert_eq!(path, Path::new(expected)),
                Location::Postgres(_) => panic!("the sandbox never uses a shared state"),
            }
        }
    }

    #[test]
    fn a_workspace_needs_postgres() {
        let err = Location::parse(Path::new("s.db"), "team").unwrap_err();
        assert!(err.to_string().contains("PostgreSQL"), "{err}");
    }
}
