//! `state migrate --to`: copy a whole state into another backend (SQLite into PostgreSQL, and
//! back), so a team can move its state without a number ever becoming dialable again.

use super::StateError;
use super::{Location, Store};

/// What was copied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Copied {
    pub attempts: usize,
    pub numbers: usize,
}

/// Copies everything `source` holds into the state at `target`, which must hold nothing yet.
/// Both are locked while copying, so no apply changes either in between; the source is only
/// read. The copy gets its own identity and plan key: a plan saved against the source is
/// refused by the copy (make it again), so one reviewed plan cannot be applied to both.
pub fn copy(source: &mut Store, target: &Location) -> Result<Copied, StateError> {
    source.lock()?;
    let mut into = Store::open(target)?;
    if into.location() == source.location() {
        return Err(StateError::msg(
            "the source and the target of a migration are the same state",
        ));
    }
    into.lock()?;
    if !into.backend.is_empty()? {
        return Err(StateError::msg(format!(
            "the target state {} already holds tasks; refusing to mix two states (migrate into \
             a new workspace or a path that does not exist yet). Nothing was copied",
            into.location()
        )));
    }
    let dump = source.backend.dump()?;
    into.backend.load(&dump)?;
    Ok(Copied {
        attempts: dump.attempts.len(),
        numbers: dump.numbers.len(),
    })
}
