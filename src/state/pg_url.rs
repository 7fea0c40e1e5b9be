//! A PostgreSQL state's address: the URL, completed from libpq's usual environment (`PGHOST`,
//! `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSWORD`, `.pgpass`) the way `psql` would, and shown
//! everywhere with its password masked.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::StateError;

/// A parsed `postgres://` URL and the workspace in that database.
#[derive(Clone)]
pub struct PgUrl {
    pub(crate) config: postgres::Config,
    pub(crate) workspace: String,
    /// The password as found (URL, environment or `.pgpass`), only to mask it in messages.
    password: Option<String>,
    shown: String,
}

impl std::fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl std::fmt::Display for PgUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl PgUrl {
    pub fn parse(url: &str, workspace: &str) -> Result<PgUrl, StateError> {
        check_workspace(workspace)?;
        let mut config = postgres::Config::from_str(url).map_err(|err| {
            StateError::msg(format!(
                "invalid PostgreSQL URL {}: {}",
                mask_url(url),
                mask_in(&with_causes(&err), url_password(url).as_deref())
            ))
        })?;
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        if config.get_hosts().is_empty() {
            config.host(&env("PGHOST").unwrap_or_else(|| "localhost".to_owned()));
        }
        if config.get_ports().is_empty() {
            let port = env("PGPORT").and_then(|p| p.parse().ok()).unwrap_or(5432);
            config.port(port);
        }
        if config.get_user().is_none() {
            let user = env("PGUSER")
                .or_else(|| env("USER"))
                .unwrap_or_else(|| "postgres".to_owned());
            config.user(&user);
        }
        let user = config.get_user().unwrap_or_default().to_owned();
        if config.get_dbname().is_none() {
            config.dbname(&env("PGDATABASE").unwrap_or_else(|| user.clone()));
        }
        if config.get_connect_timeout().is_none() {
            let seconds = env("PGCONNECT_TIMEOUT")
                .and_then(|t| t.parse().ok())
                .unwrap_or(10);
            config.connect_timeout(Duration::from_secs(seconds));
        }
        let host = host_of(&config);
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let dbname = config.get_dbname().unwrap_or_default().to_owned();
        if config.get_password().is_none() {
            let found = env("PGPASSWORD").or_else(|| {
                let file = env("PGPASSFILE")
                    .map(PathBuf::from)
                    .or_else(|| env("HOME").map(|home| PathBuf::from(home).join(".pgpass")))?;
                let text = read_private(&file)?;
                pgpass_lookup(&text, &host, port, &dbname, &user)
            });
            if let Some(password) = found {
                config.password(password);
            }
        }
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let shown = format!("postgres://{user}@{host}:{port}/{dbname} (workspace {workspace})");
        Ok(PgUrl {
            config,
            workspace: workspace.to_owned(),
            password,
            shown,
        })
    }

    /// `text` with the password, wherever it appears, replaced by `***`.
    pub(crate) fn mask(&self, text: &str) -> String {
        mask_in(text, self.password.as_deref())
    }
}

/// An error's text followed by its causes: the driver's top line alone says little.
pub(crate) fn with_causes(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

fn host_of(config: &postgres::Config) -> String {
    match config.get_hosts().first() {
        Some(postgres::config::Host::Tcp(host)) => host.clone(),
        #[cfg(unix)]
        Some(postgres::config::Host::Unix(path)) => path.display().to_string(),
        None => "localhost".to_owned(),
    }
}

/// A workspace name: letters, digits, `.`, `_` and `-`, at most 63 characters.
fn check_workspace(name: &str) -> Result<(), StateError> {
    let valid = (1..=63).contains(&name.len())
        && name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(StateError::msg(format!(
            "invalid workspace name {name:?}: use 1 to 63 letters, digits, '.', '_' or '-', \
             starting with a letter or digit"
        )))
    }
}

/// libpq ignores a password file that others may read; so does this.
fn read_private(path: &std::path::Path) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return None;
        }
    }
    std::fs::read_to_string(path).ok()
}

/// The password `.pgpass` text gives for a connection: the first line whose
/// `host:port:database:user` fields match (`*` matches anything, `\` escapes `:` and `\`).
pub(crate) fn pgpass_lookup(
    text: &str,
    host: &str,
    port: u16,
    database: &str,
    user: &str,
) -> Option<String> {
    let port = port.to_string();
    // libpq matches "localhost" for connections over a Unix socket.
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let fields = split_pgpass(line);
            let [h, p, d, u, password] = fields.as_slice() else {
                return None;
            };
            let matches = |field: &str, value: &str| field == "*" || field == value;
            (matches(h, host) && matches(p, &port) && matches(d, database) && matches(u, user))
                .then(|| password.clone())
        })
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => field.extend(chars.next()),
            ':' if fields.len() < 4 => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

/// The password in a URL's user info, if any.
fn url_password(url: &str) -> Option<String> {
    let (_, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next()?;
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (_, password) = userinfo.split_once(':')?;
    Some(password.to_owned())
}

/// `url` with the password in its user info replaced by `***`.
pub(crate) fn mask_url(url: &str) -> String {
    match url_password(url) {
        Some(password) if !password.is_empty() => {
            let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
            let (userinfo, after) = rest.split_once('@').unwrap_or(("", rest));
            let user = userinfo.split_once(':').map_or(userinfo, |(user, _)| user);
            format!("{scheme}://{user}:***@{after}")
        }
        _ => url.to_owned(),
    }
}

fn mask_in(text: &str, password: Option<&str>) -> String {
    match password {
        Some(password) if !password.is_empty() => text.replace(password, "***"),
        _ => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked_in_urls_and_messages() {
        assert_eq!(
            mask_url("postgres://ci:s3cret@db.example:5432/state?sslmode=require"),
            "postgres://ci:***@db.example:5432/state?sslmode=require"
        );
        assert_eq!(mask_url("postgres://ci@db/state"), "postgres://ci@db/state");
        let url = PgUrl::parse("postgres://ci:s3cret@db.example/state", "team").unwrap();
        let shown = url.to_string();
        assert!(!shown.contains("s3cret"), "{shown}");
        assert!(shown.contains("ci@db.example:5432/state"), "{shown}");
        assert_eq!(url.mask("auth failed for s3cret"), "auth failed for ***");
    }

    #[test]
    fn pgpass_lines_match_with_wildcards_and_escapes() {
        let text = "# comment\n\
                    other:5432:*:ci:wrong\n\
                    db.example:5432:state:ci:pa\\:ss\n\
                    *:*:*:*:fallback\n";
        assert_eq!(
            pgpass_lookup(text, "db.example", 5432, "state", "ci").as_deref(),
            Some("pa:ss")
        );
        assert_eq!(
            pgpass_lookup(text, "db.example", 6543, "state", "ci").as_deref(),
            Some("fallback")
        );
        assert_eq!(
            pgpass_lookup("localhost:5432:*:*:sock\n", "/run/pg", 5432, "d", "u").as_deref(),
            Some("sock")
        );
        assert_eq!(pgpass_lookup("h:1:d:u\n", "h", 1, "d", "u"), None);
    }

    #[test]
    fn workspace_names_are_checked() {
        assert!(check_workspace("ci-main_2.x").is_ok());
        for bad in ["", "-x", "a b", "x;drop", &"w".repeat(64)] {
            assert!(check_workspace(bad).is_err(), "{bad:?}");
        }
    }
}
