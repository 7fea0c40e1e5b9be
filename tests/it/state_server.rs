//! A real, throwaway PostgreSQL server for the tests: one cluster per test run, made with
//! `initdb` in a temporary folder, listening on a free loopback port with password
//! authentication, and stopped (and deleted) by a watchdog when the test process ends, however
//! it ends. Each test gets a database of its own.
//!
//! When the PostgreSQL binaries are missing or the server cannot start, the PostgreSQL tests
//! fail under CI (`CI=true`) and are skipped loudly elsewhere. `scripts/test` installs
//! PostgreSQL from Debian's packages when it is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The superuser the tests connect as, and its password (made up, loopback only).
pub const USER: &str = "campaignctl";
pub const PASSWORD: &str = "Pg-Test-Password-4Kx8";

pub struct PgServer {
    pub port: u16,
    /// Whether the server takes TLS connections (with Debian's self-signed "snakeoil"
    /// certificate, when it is installed).
    pub tls: bool,
    _dir: PathBuf,
}

static SERVER: OnceLock<Result<PgServer, String>> = OnceLock::new();
static DATABASES: AtomicUsize = AtomicUsize::new(0);

/// The test server, or `None` (after saying so loudly) when it cannot run here and this is not
/// CI. Under CI a server that cannot start fails the test.
pub fn server() -> Option<&'static PgServer> {
    match SERVER.get_or_init(start) {
        Ok(server) => Some(server),
        Err(why) if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("PostgreSQL tests cannot run under CI: {why}")
        }
        Err(why) => {
            eprintln!(
                "\n*** SKIPPING a PostgreSQL test: {why}. Install PostgreSQL (scripts/test does) \
                 to run it. ***\n"
            );
            None
        }
    }
}

impl PgServer {
    /// A URL with the password, to a new empty database.
    pub fn fresh_database(&self) -> String {
        let n = DATABASES.fetch_add(1, Ordering::SeqCst);
        let name = format!("t{}_{n}", std::process::id());
        let mut admin = self.admin("postgres");
        admin
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .expect("create database");
        self.url(&name)
    }

    pub fn url(&self, database: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// A direct connection, for reading what campaignctl stored and for breaking things.
    pub fn admin(&self, database: &str) -> postgres::Client {
        postgres::Client::connect(&self.url(database), postgres::NoTls).expect("connect")
    }
}

/// The folder of the newest installed PostgreSQL binaries.
fn bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|entry| {
            let entry = entry.ok()?;
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Runs `program ARGS` as the unprivileged `postgres` user when we are root (the server
/// refuses to run as root), else as ourselves.
fn as_server_user(program: &Path) -> Command {
    if is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

fn start() -> Result<PgServer, String> {
    let bin = bin_dir().ok_or("no PostgreSQL binaries under /usr/lib/postgresql")?;
    let dir = tempfile::Builder::new()
        .prefix("campaignctl-pg-")
        .tempdir()
        .map_err(|err| err.to_string())?
        .keep();
    let data = dir.join("data");
    let password_file = dir.join("password");
    std::fs::write(&password_file, PASSWORD).map_err(|err| err.to_string())?;
    // A self-signed certificate, like most PostgreSQL servers have, when one is at hand.
    let tls = ["ssl-cert-snakeoil.pem", "ssl-cert-snakeoil.key"]
        .iter()
        .zip(["/etc/ssl/certs", "/etc/ssl/private"])
        .all(|(name, folder)| {
            let copy = dir.join(name);
            std::fs::copy(Path::new(folder).join(name), &copy).is_ok()
                && std::fs::set_permissions(
                    &copy,
                    std::os::unix::fs::PermissionsExt::from_mode(0o600),
                )
                .is_ok()
        });
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(&dir)
            .status()
            .map_err(|err| err.to_string())?;
        if !status.success() {
            return Err("cannot hand the cluster folder to the postgres user".to_owned());
        }
    }
    let initdb = as_server_user(&bin.join("initdb"))
        .arg("-D")
        .arg(&data)
        .args([
            "-U",
            USER,
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
        ])
        .arg(format!("--pwfile={}", password_file.display()))
        .args(["--no-sync", "-E", "UTF8", "--locale=C"])
        .output()
        .map_err(|err| format!("initdb: {err}"))?;
    if !initdb.status.success() {
        return Err(format!(
            "initdb failed: {}",
            String::from_utf8_lossy(&initdb.stderr)
        ));
    }
    let port = free_port();
    let options = format!(
        "-c listen_addresses=127.0.0.1 -c port={port} -c unix_socket_directories={} \
         -c fsync=off -c max_connections=200 {}",
        dir.display(),
        if tls {
            format!(
                "-c ssl=on -c ssl_cert_file={0}/ssl-cert-snakeoil.pem \
                 -c ssl_key_file={0}/ssl-cert-snakeoil.key",
                dir.display()
            )
        } else {
            String::new()
        }
    );
    let log = dir.join("server.log");
    let started = as_server_user(&bin.join("pg_ctl"))
        .arg("-D")
        .arg(&data)
        .args(["-o", &options, "-l"])
        .arg(&log)
        .args(["-w", "start"])
        .stdout(Stdio::null())
        .output()
        .map_err(|err| format!("pg_ctl: {err}"))?;
    if !started.status.success() {
        return Err(format!(
            "the server did not start: {}{}",
            String::from_utf8_lossy(&started.stderr),
            std::fs::read_to_string(&log).unwrap_or_default()
        ));
    }
    watch(&bin, &data, &dir);
    let server = PgServer {
        port,
        tls,
        _dir: dir,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while postgres::Client::connect(&server.url("postgres"), postgres::NoTls).is_err() {
        if Instant::now() > deadline {
            return Err("the server started but takes no connections".to_owned());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    eprintln!(
        "PostgreSQL test server on 127.0.0.1:{port} (TLS {})",
        if tls { "on" } else { "off" }
    );
    Ok(server)
}

/// Stops the server and removes its folder once this test process is gone.
fn watch(bin: &Path, data: &Path, dir: &Path) {
    let stop = format!(
        "{}'{}' -D '{}' -m immediate stop",
        if is_root() {
            "runuser -u postgres -- "
        } else {
            ""
        },
        bin.join("pg_ctl").display(),
        data.display()
    );
    let script = format!(
        "while kill -0 {pid} 2>/dev/null; do sleep 0.5; done; {stop} >/dev/null 2>&1; \
         rm -rf '{dir}'",
        pid = std::process::id(),
        dir = dir.display()
    );
    let _ = Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
}
