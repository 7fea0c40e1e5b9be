//! What can go wrong with state: the store's own error type, so that `state` needs nothing above
//! it. Every message says where the state is (never with a password), what happened and what to
//! do.

/// A refusal or failure of the state store.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The store refused or failed, in words: a foreign or damaged file, a newer format, a held
    /// lock, a change that would record a number as sent twice, a database that cannot be
    /// reached.
    #[error("{0}")]
    Message(String),

    /// A file of the state could not be read or written.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl StateError {
    pub fn msg(message: impl Into<String>) -> Self {
        StateError::Message(message.into())
    }

    pub fn io(path: impl AsRef<std::path::Path>, source: std::io::Error) -> Self {
        StateError::Io {
            path: path.as_ref().display().to_string(),
            source,
        }
    }
}
