//! A throwaway PostgreSQL cluster for the tests: Debian's `postgresql` package's `initdb` and
//! `pg_ctl`, one cluster per test process (started at the first [`database`] call), a fresh
//! database per test.
//!
//! - The tests run as root and `initdb` refuses root, so the server runs as the `postgres`
//!   user (`runuser`), with its data directory and unix socket in a temporary directory that
//!   user owns, listening on a free port of 127.0.0.1. Logins over TCP take a password
//!   (scram-sha-256, as a real hub's would); the unix socket trusts the `postgres` user, for
//!   creating databases with `psql`.
//! - No orphan server: a guardian shell, in a process group of its own, starts the server and
//!   then reads its standard input, a pipe whose only writer is this process. When this
//!   process ends, however it ends (SIGKILL included), the pipe closes, and the guardian stops
//!   the server (`pg_ctl stop -m immediate`) and removes its directory.
//! - The binaries missing is a test failure that says to install `postgresql` (never a skip).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

/// The shared cluster of this test process.
pub struct Cluster {
    pub port: u16,
    /// The password of the `postgres` role over TCP.
    pub password: String,
    /// The CA of the server's TLS certificate, which names 127.0.0.1 only (the server also
    /// listens on 127.0.0.2, a name the certificate does not give).
    pub ca_pem: PathBuf,
    bin: PathBuf,
    socket_dir: PathBuf,
    /// The guardian's standard input: dropped only when the process ends.
    _guard: Mutex<(Child, ChildStdin)>,
}

/// A database of its own for one test, in the shared cluster.
pub struct Database {
    pub name: String,
    /// `postgres://postgres:PASSWORD@127.0.0.1:PORT/NAME?sslmode=disable`
    pub url: String,
}

/// The directory of the newest installed PostgreSQL's binaries.
fn bin_dir() -> PathBuf {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("initdb").exists().then_some((v, bin))
        })
        .collect();
    found.sort();
    match found.pop() {
        Some((_, bin)) => bin,
        None => panic!(
            "PostgreSQL's server binaries are missing (no /usr/lib/postgresql/*/bin/initdb): the PostgreSQL store's tests need them; install Debian's postgresql package (apt-get install postgresql; .ci/test does)"
        ),
    }
}

fn run(what: &str, cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: could not run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        crate::process::describe(what, &out)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn as_postgres(bin: &Path, tool: &str) -> Command {
    let mut c = Command::new("runuser");
    c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
    c
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl Cluster {
    fn start() -> Cluster {
        let bin = bin_dir();
        let uid: u32 = run(
            "id -u postgres",
            Command::new("id").args(["-u", "postgres"]),
        )
        .trim()
        .parse()
        .expect("the postgres user's uid");
        let gid: u32 = run(
            "id -g postgres",
            Command::new("id").args(["-g", "postgres"]),
        )
        .trim()
        .parse()
        .expect("the postgres user's gid");
        // Kept: the guardian removes it when the process ends.
        let top = tempfile::Builder::new()
            .prefix("civreg-pg-")
            .tempdir()
            .expect("a temporary directory")
            .keep();
        std::os::unix::fs::chown(&top, Some(uid), Some(gid))
            .expect("chown the cluster's directory");
        let data = top.join("data");
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let password = format!("pw{:016x}{}", nanos, std::process::id());
        let pwfile = top.join("pw");
        std::fs::write(&pwfile, &password).expect("write the password file");
        std::os::unix::fs::chown(&pwfile, Some(uid), Some(gid)).expect("chown the password file");
        run(
            "initdb",
            as_postgres(&bin, "initdb")
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--no-sync",
                    "-E",
                    "UTF8",
                    "--locale=C",
                ])
                .arg(format!("--pwfile={}", pwfile.display())),
        );
        // Password logins from the whole loopback network (127.0.0.2 for the TLS name test).
        let hba = data.join("pg_hba.conf");
        let mut rules = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
        rules.push_str("\nhost all all 127.0.0.0/8 scram-sha-256\n");
        std::fs::write(&hba, rules).expect("write pg_hba.conf");
        let ca_pem = tls_files(&top, uid, gid);
        let port = free_port();
        let options = format!(
            "-p {port} -k {dir} -c listen_addresses=127.0.0.1,127.0.0.2 -c max_connections=300 -c shared_buffers=64MB -c ssl=on -c ssl_cert_file={dir}/server.pem -c ssl_key_file={dir}/server.key",
            dir = top.display()
        );
        let pg_ctl = bin.join("pg_ctl");
        let script = r#"
            runuser -u postgres -- "$1" -D "$2" -l "$3/log" -o "$4" -w -t 60 start >/dev/null || exit 1
            echo started
            cat >/dev/null
            runuser -u postgres -- "$1" -D "$2" -m immediate -w stop >/dev/null
            rm -rf "$3"
        "#;
        let mut child = {
            use std::os::unix::process::CommandExt;
            Command::new("sh")
                .args(["-c", script, "civreg-pg-guardian"])
                .arg(&pg_ctl)
                .arg(&data)
                .arg(&top)
                .arg(&options)
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                // Nothing after "started" may write to the test's output, which may be gone by
                // then (a write to a closed pipe would end the guardian before its cleanup).
                .stderr(Stdio::null())
                // Out of the test's process group: a signal to the group leaves it to clean up.
                .process_group(0)
                .spawn()
                .expect("start the PostgreSQL guardian")
        };
        let stdin = child.stdin.take().expect("the guardian's stdin");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("the guardian's stdout"))
            .read_line(&mut line)
            .expect("read the guardian's answer");
        if line.trim() != "started" {
            let log = std::fs::read_to_string(top.join("log")).unwrap_or_default();
            panic!("the test PostgreSQL cluster did not start (port {port}): {log}");
        }
        Cluster {
            port,
            password,
            ca_pem,
            bin,
            socket_dir: top,
            _guard: Mutex::new((child, stdin)),
        }
    }

    /// Runs SQL as the `postgres` superuser over the unix socket.
    pub fn psql(&self, database: &str, sql: &str) -> String {
        run(
            &format!("psql {sql}"),
            as_postgres(&self.bin, "psql")
                .arg("-h")
                .arg(&self.socket_dir)
                .args(["-p", &self.port.to_string(), "-d", database])
                .args(["-v", "ON_ERROR_STOP=1", "-X", "-A", "-t", "-q", "-c", sql]),
        )
    }

    /// The URL of `database` for `user`/`password` over TCP.
    pub fn url(&self, user: &str, password: &str, database: &str) -> String {
        format!(
            "postgres://{user}:{password}@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }
}

/// A throwaway CA and the server's certificate and key (`openssl`, which Debian's postgresql
/// brings through ssl-cert) in `dir`; returns the CA's PEM file.
fn tls_files(dir: &Path, uid: u32, gid: u32) -> PathBuf {
    let openssl = |what: &str, args: &[&str]| {
        run(what, Command::new("openssl").current_dir(dir).args(args));
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    let mut ca = vec![
        "req",
        "-x509",
        "-days",
        "2",
        "-subj",
        "/CN=civreg test PostgreSQL CA",
    ];
    ca.extend(ec);
    ca.extend([
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
        "-addext",
        "basicConstraints=critical,CA:TRUE",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
    ]);
    openssl("openssl req (CA)", &ca);
    let mut csr = vec!["req", "-subj", "/CN=127.0.0.1"];
    csr.extend(ec);
    csr.extend(["-keyout", "server.key", "-out", "server.csr"]);
    openssl("openssl req (server)", &csr);
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write server.ext");
    openssl(
        "openssl x509 (server)",
        &[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            "server.ext",
            "-out",
            "server.pem",
        ],
    );
    for f in ["server.key", "server.pem"] {
        let p = dir.join(f);
        std::os::unix::fs::chown(&p, Some(uid), Some(gid)).expect("chown the server's TLS files");
        std::fs::set_permissions(&p, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .expect("chmod the server's TLS files");
    }
    dir.join("ca.pem")
}

/// The cluster of this test process, started at the first call.
pub fn cluster() -> &'static Cluster {
    static CLUSTER: OnceLock<Cluster> = OnceLock::new();
    CLUSTER.get_or_init(Cluster::start)
}

/// A new, empty database in the shared cluster, owned by the `postgres` role.
pub fn database() -> Database {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let c = cluster();
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    c.psql("postgres", &format!("CREATE DATABASE {name}"));
    Database {
        url: c.url("postgres", &c.password, &name),
        name,
    }
}
