//! The apply lock of a SQLite state: one apply at a time per state file, and a clear answer
//! about who holds it.
//!
//! An OS file lock (flock) on `<state>.lock` is released by the kernel when its holder dies,
//! even by SIGKILL, so a crash never leaves a stale lock behind. The file's text says who holds
//! it, for the message a second apply prints. Callers pass the state's resolved path (symlinks
//! followed), so every name of one file shares one lock.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::StateError;

/// Who holds the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    pub pid: u32,
    pub host: String,
    pub since: String,
}

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct StateLock {
    file: File,
}

impl LockInfo {
    /// This process, now.
    pub fn of_this_process() -> LockInfo {
        LockInfo {
            pid: std::process::id(),
            host: hostname(),
            since: crate::clock::now(),
        }
    }

    pub fn describe(&self) -> String {
        format!("process {} on {} since {}", self.pid, self.host, self.since)
    }
}

impl StateLock {
    /// The lock file that guards `state`.
    pub fn path_for(state: &Path) -> PathBuf {
        let mut name = state.as_os_str().to_owned();
        name.push(".lock");
        PathBuf::from(name)
    }

    /// Takes the lock for `state`, failing at once if another process holds it.
    pub fn acquire(state: &Path) -> Result<StateLock, StateError> {
        let path = Self::path_for(state);
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|err| StateError::io(parent, err))?;
        }
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|err| StateError::io(&path, err))?;
        // A holder that wrote no name yet is just starting, or just leaving: look again, and
        // take the lock if it left.
        let mut holder = None;
        for _ in 0..10 {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    holder = holder_of(&mut file);
                    if holder.is_some() {
                        break;
                    }
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
                Err(TryLockError::Error(err)) => return Err(StateError::io(&path, err)),
            }
        }
        if holder.is_some() || file.try_lock().is_err() {
            return Err(StateError::msg(format!(
                "the state {} is locked by {}: another apply is running; wait for it to finish \
                 (the lock is released automatically when that process ends)",
                state.display(),
                holder.unwrap_or_else(|| "another process".to_owned())
            )));
        }
        let info = LockInfo::of_this_process();
        let text = serde_json::to_string(&info).unwrap_or_default();
        let written = file
            .set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(text.as_bytes()))
            .and_then(|()| file.flush());
        written.map_err(|err| StateError::io(&path, err))?;
        Ok(StateLock { file })
    }

    /// Who holds the lock of `state` now, without taking it.
    pub fn holder(state: &Path) -> Result<Option<String>, StateError> {
        let path = Self::path_for(state);
        let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(StateError::io(&path, err)),
        };
        match file.try_lock() {
            Ok(()) => {
                let _ = file.unlock();
                Ok(None)
            }
            Err(TryLockError::WouldBlock) => Ok(Some(
                holder_of(&mut file).unwrap_or_else(|| "another process".to_owned()),
            )),
            Err(TryLockError::Error(err)) => Err(StateError::io(&path, err)),
        }
    }
}

impl Drop for StateLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

/// What a held lock file says about its holder, if it says anything yet.
fn holder_of(file: &mut File) -> Option<String> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text))
        .ok()?;
    serde_json::from_str::<LockInfo>(&text)
        .ok()
        .map(|info| info.describe())
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|h| h.trim().to_owned())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown host".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_told_who_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let state = dir.path().join("state.db");
        let held = StateLock::acquire(&state).unwrap();
        let err = StateLock::acquire(&state).unwrap_err().to_string();
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
        let holder = StateLock::holder(&state).unwrap().unwrap();
        assert!(holder.contains(&std::process::id().to_string()), "{holder}");
        drop(held);
        assert_eq!(StateLock::holder(&state).unwrap(), None);
        StateLock::acquire(&state).unwrap();
    }
}
