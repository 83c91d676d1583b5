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
//! - A test that kills or promotes servers takes a cluster of its own ([`Cluster::private`]),
//!   and may make a streaming standby of it ([`Cluster::standby`]: `pg_basebackup -R` into a
//!   second data directory with its own port, optionally the primary's synchronous standby),
//!   SIGKILL every process of a cluster ([`Cluster::kill`], a machine lost) and promote the
//!   standby ([`Cluster::promote`]). Each step returns once its outcome is polled true.
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
    data: PathBuf,
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

/// The `postgres` user's uid and gid.
fn postgres_ids() -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        run(
            &format!("id {flag} postgres"),
            Command::new("id").args([flag, "postgres"]),
        )
        .trim()
        .parse()
        .expect("the postgres user's ids")
    };
    (id("-u"), id("-g"))
}

/// A new directory owned by the `postgres` user, kept (a guardian removes it).
fn postgres_dir(uid: u32, gid: u32) -> PathBuf {
    let top = tempfile::Builder::new()
        .prefix("civreg-pg-")
        .tempdir()
        .expect("a temporary directory")
        .keep();
    std::os::unix::fs::chown(&top, Some(uid), Some(gid)).expect("chown the cluster's directory");
    top
}

/// Starts the server of `data` under a guardian (see the module documentation), with its
/// socket and log in `top`, and waits until it accepts connections.
fn guarded(bin: &Path, data: &Path, top: &Path, port: u16, extra: &str) -> (Child, ChildStdin) {
    let options = format!(
        "-p {port} -k {dir} -c listen_addresses=127.0.0.1,127.0.0.2 -c max_connections=300 -c shared_buffers=64MB -c ssl=on -c ssl_cert_file={dir}/server.pem -c ssl_key_file={dir}/server.key{extra}",
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
            .arg(data)
            .arg(top)
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
    (child, stdin)
}

/// The pids whose parent is `pid` (from /proc).
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let child: u32 = e.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(e.path().join("stat")).ok()?;
            // "pid (comm) state ppid ...": the command may hold spaces and parentheses.
            let after = &stat[stat.rfind(')')? + 1..];
            let ppid: u32 = after.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == pid).then_some(child)
        })
        .collect()
}

/// Whether `pid` is gone (or a zombie nobody reaped yet).
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_some_and(|state| state == "Z" || state == "X"),
    }
}

impl Cluster {
    fn start() -> Cluster {
        let bin = bin_dir();
        let (uid, gid) = postgres_ids();
        // Kept: the guardian removes it when the process ends.
        let top = postgres_dir(uid, gid);
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
        let guard = guarded(&bin, &data, &top, port, "");
        Cluster {
            port,
            password,
            ca_pem,
            bin,
            data,
            socket_dir: top,
            _guard: Mutex::new(guard),
        }
    }

    /// A cluster of the caller's own (not this process's shared one), for a test that kills
    /// or promotes servers; stopped and removed when dropped (or when the process ends).
    pub fn private() -> Cluster {
        Cluster::start()
    }

    /// A streaming standby of this cluster, on the same machine: `pg_basebackup -R` into a
    /// data directory of its own, its own port and socket, a hot standby (it answers reads).
    /// With `synchronous`, this cluster's `synchronous_standby_names` names it, so a commit
    /// on this cluster returns only once the standby has its WAL (`synchronous_commit = on`).
    /// Returns once the standby streams from this cluster (and, if synchronous, is its
    /// synchronous standby). Stopped and removed when dropped (or when the process ends).
    pub fn standby(&self, synchronous: bool) -> Cluster {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let (uid, gid) = postgres_ids();
        let top = postgres_dir(uid, gid);
        let data = top.join("data");
        let name = format!(
            "civreg_standby_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        run(
            "pg_basebackup",
            as_postgres(&self.bin, "pg_basebackup")
                .arg("-h")
                .arg(&self.socket_dir)
                .args(["-p", &self.port.to_string(), "-U", "postgres", "-D"])
                .arg(&data)
                .args(["-R", "-X", "stream", "-c", "fast", "--no-sync"]),
        );
        // The standby names itself to the primary (the name synchronous_standby_names lists):
        // a later setting in postgresql.auto.conf wins over the one -R wrote.
        let auto = data.join("postgresql.auto.conf");
        let mut conf = std::fs::read_to_string(&auto).expect("read postgresql.auto.conf");
        conf.push_str(&format!(
            "\nprimary_conninfo = 'host={} port={} user=postgres application_name={name}'\n",
            self.socket_dir.display(),
            self.port
        ));
        std::fs::write(&auto, conf).expect("write postgresql.auto.conf");
        let ca_pem = tls_files(&top, uid, gid);
        let port = free_port();
        let guard = guarded(&self.bin, &data, &top, port, "");
        let standby = Cluster {
            port,
            password: self.password.clone(),
            ca_pem,
            bin: self.bin.clone(),
            data,
            socket_dir: top,
            _guard: Mutex::new(guard),
        };
        if synchronous {
            self.psql(
                "postgres",
                &format!("ALTER SYSTEM SET synchronous_standby_names = '{name}'"),
            );
            self.psql("postgres", "ALTER SYSTEM SET synchronous_commit = on");
            self.psql("postgres", "SELECT pg_reload_conf()");
        }
        let want = if synchronous {
            "streaming|sync"
        } else {
            "streaming|async"
        };
        crate::wait::wait_until(
            &format!("the standby {name} to stream from the primary ({want})"),
            std::time::Duration::from_secs(60),
            || {
                let got = self.psql(
                    "postgres",
                    &format!(
                        "SELECT state || '|' || sync_state FROM pg_stat_replication WHERE application_name = '{name}'"
                    ),
                );
                (got.trim() == want).then_some(())
            },
        );
        standby
    }

    /// The pid of this cluster's postmaster (`postmaster.pid`'s first line).
    pub fn postmaster_pid(&self) -> u32 {
        let pidfile =
            std::fs::read_to_string(self.data.join("postmaster.pid")).expect("read postmaster.pid");
        pidfile
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
            .expect("postmaster.pid's first line is a pid")
    }

    /// The machine lost: SIGKILL to the postmaster and to every one of its processes at once
    /// (backends, WAL sender, checkpointer), no shutdown of any kind. Returns once they are
    /// gone and the port refuses connections.
    pub fn kill(&self) {
        let postmaster = self.postmaster_pid();
        let mut pids = children_of(postmaster);
        pids.push(postmaster);
        let mut kill = Command::new("kill");
        kill.arg("-KILL").args(pids.iter().map(u32::to_string));
        // Some backends may have ended on their own meanwhile: not an error.
        let _ = kill.output().expect("run kill");
        crate::wait::wait_until(
            "the killed PostgreSQL's processes to be gone",
            std::time::Duration::from_secs(30),
            || {
                (pids.iter().all(|p| gone(*p))
                    && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err())
                .then_some(())
            },
        );
    }

    /// Promotes this standby (`pg_ctl promote`): returns once it takes writes.
    pub fn promote(&self) {
        run(
            "pg_ctl promote",
            as_postgres(&self.bin, "pg_ctl")
                .arg("-D")
                .arg(&self.data)
                .args(["-w", "-t", "60", "promote"]),
        );
        crate::wait::wait_until(
            "the promoted standby to leave recovery",
            std::time::Duration::from_secs(60),
            || (self.psql("postgres", "SELECT pg_is_in_recovery()").trim() == "f").then_some(()),
        );
    }

    /// A new, empty database in this cluster, owned by the `postgres` role.
    pub fn database(&self) -> Database {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        self.psql("postgres", &format!("CREATE DATABASE {name}"));
        Database {
            url: self.url("postgres", &self.password, &name),
            name,
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

    /// The URL of `database` on `hosts` (this cluster first, then e.g. its standby), for a
    /// client that must find whichever of them takes writes: `target_session_attrs=read-write`.
    pub fn failover_url(&self, others: &[&Cluster], database: &str) -> String {
        let mut hosts = vec![format!("127.0.0.1:{}", self.port)];
        hosts.extend(others.iter().map(|c| format!("127.0.0.1:{}", c.port)));
        format!(
            "postgres://postgres:{}@{}/{database}?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
            self.password,
            hosts.join(",")
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
    cluster().database()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A row written on the primary is read on its synchronous standby as soon as the write
    /// returns; the primary SIGKILLed, the promoted standby takes writes.
    #[test]
    fn a_synchronous_standby_has_every_commit_and_takes_writes_once_promoted() {
        let primary = Cluster::private();
        let db = primary.database();
        primary.psql(&db.name, "CREATE TABLE t (v int); INSERT INTO t VALUES (1)");
        let standby = primary.standby(true);
        assert_eq!(
            standby
                .psql("postgres", "SELECT pg_is_in_recovery()")
                .trim(),
            "t"
        );
        // Synchronous (remote flush): the standby has the WAL when the commit returns, and
        // replays it at once; poll for the replay, bounded.
        primary.psql(&db.name, "INSERT INTO t VALUES (2)");
        crate::wait::wait_until(
            "the standby to replay the second row",
            std::time::Duration::from_secs(30),
            || (standby.psql(&db.name, "SELECT sum(v) FROM t").trim() == "3").then_some(()),
        );
        let refused = as_postgres(&standby.bin, "psql")
            .arg("-h")
            .arg(&standby.socket_dir)
            .args(["-p", &standby.port.to_string(), "-d", &db.name])
            .args([
                "-v",
                "ON_ERROR_STOP=1",
                "-X",
                "-c",
                "INSERT INTO t VALUES (9)",
            ])
            .output()
            .expect("psql");
        assert!(
            !refused.status.success()
                && String::from_utf8_lossy(&refused.stderr).contains("read-only"),
            "a standby refuses writes: {}",
            crate::process::describe("psql", &refused)
        );
        let pid = primary.postmaster_pid();
        primary.kill();
        assert!(gone(pid));
        standby.promote();
        standby.psql(&db.name, "INSERT INTO t VALUES (4)");
        assert_eq!(standby.psql(&db.name, "SELECT sum(v) FROM t").trim(), "7");
    }
}
