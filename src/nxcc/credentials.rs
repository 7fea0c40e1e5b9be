//! The access key and secret, read only from the environment.

use secrecy::SecretString;

use super::ConfigError;

/// Environment variable holding the access key.
pub const ACCESS_KEY_VAR: &str = "NXCC_ACCESS_KEY";
/// Environment variable holding the access secret.
pub const ACCESS_SECRET_VAR: &str = "NXCC_ACCESS_SECRET";

/// An NXCC access key and its secret.
///
/// The secret is a [`SecretString`]: `Debug` prints `[REDACTED]`, and reading it takes an explicit
/// `expose_secret()`, which only signing does.
#[derive(Clone, Debug)]
pub struct Credentials {
    pub access_key: String,
    pub access_secret: SecretString,
}

impl Credentials {
    pub fn new(access_key: impl Into<String>, access_secret: impl Into<String>) -> Self {
        Credentials {
            access_key: access_key.into(),
            access_secret: SecretString::from(access_secret.into()),
        }
    }

    /// Reads `NXCC_ACCESS_KEY` and `NXCC_ACCESS_SECRET`.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Like [`Credentials::from_env`], over any source of variables (tests use a map, since
    /// changing the process environment is unsafe while other threads run).
    ///
    /// An empty value counts as missing: an empty key or secret can only be a mistake.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let read = |name: &str| lookup(name).filter(|value| !value.is_empty());
        let key = read(ACCESS_KEY_VAR);
        let secret = read(ACCESS_SECRET_VAR).map(SecretString::from);
        match (key, secret) {
            (Some(access_key), Some(access_secret)) => Ok(Credentials {
                access_key,
                access_secret,
            }),
            (key, secret) => {
                let missing: Vec<&str> = [
                    key.is_none().then_some(ACCESS_KEY_VAR),
                    secret.is_none().then_some(ACCESS_SECRET_VAR),
                ]
                .into_iter()
                .flatten()
                .collect();
                Err(ConfigError::MissingCredentials { missing })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use secrecy::ExposeSecret;

    use super::*;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned()
    }

    #[test]
    fn reads_both_variables() {
        let creds = Credentials::from_lookup(lookup(&[
            (ACCESS_KEY_VAR, "key-1"),
            (ACCESS_SECRET_VAR, "hunter2-secret"),
        ]))
        .expect("both set");
        assert_eq!(creds.access_key, "key-1");
        assert_eq!(creds.access_secret.expose_secret(), "hunter2-secret");
    }

    #[test]
    fn missing_variables_are_named() {
        let err = Credentials::from_lookup(lookup(&[])).expect_err("none set");
        let text = err.to_string();
        assert!(
            text.contains("NXCC_ACCESS_KEY and NXCC_ACCESS_SECRET not set"),
            "{text}"
        );

        let err =
            Credentials::from_lookup(lookup(&[(ACCESS_KEY_VAR, "k")])).expect_err("no secret");
        let text = err.to_string();
        assert!(
            text.starts_with("missing NXCC credentials: NXCC_ACCESS_SECRET not set"),
            "{text}"
        );
        assert!(text.contains("NXCC_ACCESS_KEY"), "{text}");

        let err = Credentials::from_lookup(lookup(&[
            (ACCESS_KEY_VAR, ""),
            (ACCESS_SECRET_VAR, "hunter2-secret"),
        ]))
        .expect_err("empty key");
        let text = err.to_string();
        assert!(text.contains("NXCC_ACCESS_KEY not set"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn debug_hides_the_secret() {
        let creds = Credentials::new("key-1", "hunter2-secret");
        let shown = format!("{creds:?} {creds:#?}");
        assert!(shown.contains("key-1"), "{shown}");
        assert!(!shown.contains("hunter2"), "{shown}");
    }
}
