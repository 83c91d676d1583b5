//! A hub in this process on an ephemeral port ([`Hub`], optionally with its dashboard), raw
//! gRPC clients with chosen certificates, and what the hub's tests build on them: pushes and
//! pulls, a filed conflict, seeded duplicate cases, a signed-in dashboard session, and a checker
//! of the Prometheus text format.

use crate::http::{http_request, HttpResponse};
use crate::ops::{create_birth, full_birth, op};
use civreg_hub::pki::{Issued, Pki};
use civreg_hub::store::HubStore;
use civreg_hub::{paths, serve};
use civreg_proto::v1::sync_client::SyncClient;
use civreg_proto::v1::{HeartbeatReply, HeartbeatRequest, PullRequest, PushRequest};
use civreg_proto::MAX_MESSAGE_BYTES;
use civreg_shared::model::RecordKind;
use civreg_shared::op::{ChangeKind, Hash, Op, GENESIS};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// Makes the key file that seals the store of a hub started on `data_dir` (`pki init` does it
/// for the binary).
pub fn make_hub_key(data_dir: &Path) {
    civreg_hub::atrest::create_key(&civreg_hub::atrest::default_key_path(data_dir))
        .expect("make the hub's key file");
}

/// The keys of the store of a hub that ran on `data_dir`.
pub fn hub_keys(data_dir: &Path) -> civreg_shared::seal::Sealer {
    civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(data_dir))
        .expect("the hub's key file")
}

/// A hub running in this process on 127.0.0.1:(ephemeral port).
pub struct Hub {
    pub dir: tempfile::TempDir,
    pub pki: Pki,
    pub port: u16,
    pub url: String,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), serve::ServeError>>>,
}

impl Hub {
    /// Creates a PKI (default hub names localhost/127.0.0.1) and serves the hub on port 0.
    /// Must be called inside a multi-threaded tokio runtime.
    pub async fn start() -> Hub {
        let dir = tempfile::tempdir().expect("tempdir");
        Pki::init(&paths::pki_dir(dir.path()), &[]).expect("pki init");
        Self::start_in(dir).await
    }

    /// Serves the hub whose data directory (PKI made already) is `dir`.
    pub async fn start_in(dir: tempfile::TempDir) -> Hub {
        Self::start_in_on(dir, 0).await
    }

    /// Serves the hub of `dir` on 127.0.0.1:`port` (0: any free port), e.g. the port of the
    /// bundles it issued before it was stopped.
    pub async fn start_in_on(dir: tempfile::TempDir, port: u16) -> Hub {
        let pki = Pki::open(&paths::pki_dir(dir.path())).expect("pki open");
        if !civreg_hub::atrest::default_key_path(dir.path()).exists() {
            make_hub_key(dir.path());
        }
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .expect("bind 127.0.0.1");
        let port = listener.local_addr().expect("local addr").port();
        let (tx, rx) = oneshot::channel::<()>();
        let data = dir.path().to_path_buf();
        let mut task = tokio::spawn(async move {
            serve::run(&data, listener, async {
                let _ = rx.await;
            })
            .await
        });
        // Wait until the hub answers on its control socket (bound once the store, keys and index
        // are open), so that a hub that failed to start says why here instead of a later
        // "connection refused" from a client.
        let sock = civreg_hub::control::socket_path(dir.path());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if task.is_finished() {
                let res = (&mut task).await.expect("hub task did not panic");
                panic!("the hub stopped while starting: {res:?}");
            }
            if std::os::unix::net::UnixStream::connect(&sock).is_ok() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the hub did not start within 30 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Hub {
            dir,
            pki,
            port,
            url: format!("https://localhost:{port}"),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn data_dir(&self) -> &Path {
        self.dir.path()
    }

    /// Issues a node certificate valid for 365 days (the usual; a node renews one within 30
    /// days of its expiry by itself).
    pub fn issue(&self, municipality: &str, node_id: &str) -> Issued {
        self.pki
            .issue_node(municipality, node_id, 365)
            .expect("issue node certificate")
    }

    /// Issues a node certificate and writes its enrollment bundle under the hub's temp dir.
    pub fn bundle(&self, municipality: &str, node_id: &str) -> PathBuf {
        let out = self
            .dir
            .path()
            .join("bundles")
            .join(format!("{municipality}-{node_id}"));
        self.issue(municipality, node_id)
            .write_bundle(&out, &self.pki.ca_pem(), &self.url)
            .expect("write bundle");
        out
    }

    /// A raw gRPC client authenticated with `issued`.
    pub async fn client(&self, issued: &Issued) -> SyncClient<Channel> {
        self.try_client(Some((&issued.cert_pem, &issued.key_pem)))
            .await
            .expect("connect to the hub")
    }

    /// Connects with the given client certificate and key (or none). The TLS handshake runs
    /// here; with TLS 1.3 a refused client certificate may only show on the first call.
    pub async fn try_client(
        &self,
        identity: Option<(&str, &str)>,
    ) -> Result<SyncClient<Channel>, String> {
        Ok(SyncClient::new(self.channel(identity).await?)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES))
    }

    /// A TLS channel to the hub with the given client certificate and key (or none).
    pub async fn channel(&self, identity: Option<(&str, &str)>) -> Result<Channel, String> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(self.pki.ca_pem()))
            .domain_name("localhost");
        if let Some((cert, key)) = identity {
            tls = tls.identity(Identity::from_pem(cert, key));
        }
        let endpoint = Endpoint::from_shared(self.url.clone())
            .map_err(|e| error_chain(&e))?
            .tls_config(tls)
            .map_err(|e| error_chain(&e))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(20));
        endpoint.connect().await.map_err(|e| error_chain(&e))
    }

    /// Stops the hub, waits for it to finish, and opens its database (retrying while the
    /// server's last references to it are being dropped).
    pub async fn stop(mut self) -> (tempfile::TempDir, HubStore) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let res = tokio::time::timeout(Duration::from_secs(20), task)
                .await
                .expect("hub shuts down within 20 s")
                .expect("hub task did not panic");
            res.expect("hub ran without error");
        }
        let db = paths::db_dir(self.dir.path());
        let deadline = Instant::now() + Duration::from_secs(20);
        let store = loop {
            match HubStore::open(&db, hub_keys(self.dir.path())) {
                Ok(s) => break s,
                Err(e) => {
                    assert!(
                        Instant::now() < deadline,
                        "hub database still locked after shutdown: {e}"
                    );
                    tokio::time::sleep(Duration::from_millis(25)).await;
                }
            }
        };
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().expect("tempdir"));
        (dir, store)
    }
}

impl Drop for Hub {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An error and all its sources, joined, so that TLS alerts deep in the chain are visible.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

/// A heartbeat request with plausible values.
pub fn heartbeat_request() -> HeartbeatRequest {
    HeartbeatRequest {
        version: "test".into(),
        unacked_ops: 0,
        oldest_unacked_age_s: 0,
        clock_ms: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0),
        free_disk_bytes: 1 << 30,
        ..Default::default()
    }
}

/// One heartbeat; the hub's answer carries the caller's acknowledged head.
pub async fn heartbeat(client: &mut SyncClient<Channel>) -> Result<HeartbeatReply, tonic::Status> {
    client
        .heartbeat(heartbeat_request())
        .await
        .map(|r| r.into_inner())
}

/// The hub's acknowledged head for the caller's chain.
pub async fn acked(client: &mut SyncClient<Channel>) -> u64 {
    heartbeat(client).await.expect("heartbeat").acked_seq
}

/// Connects with `identity` and makes one heartbeat: the error text if either fails.
pub async fn try_heartbeat(hub: &Hub, identity: Option<(&str, &str)>) -> Result<u64, String> {
    let mut c = hub
        .try_client(identity)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    heartbeat(&mut c)
        .await
        .map(|r| r.acked_seq)
        .map_err(|s| format!("call: {:?}: {}", s.code(), error_chain(&s)))
}

/// What a push stream answered.
#[derive(Debug)]
pub struct PushOutcome {
    /// The hub's first answer: what it already held of the caller's chain.
    pub held: u64,
    /// One acknowledged head per accepted batch.
    pub acks: Vec<u64>,
    /// The status that ended the stream, if it ended in error.
    pub error: Option<tonic::Status>,
}

impl PushOutcome {
    /// The error, asserting there was one.
    pub fn refused(&self) -> &tonic::Status {
        self.error
            .as_ref()
            .unwrap_or_else(|| panic!("push was accepted but should have been refused: {self:?}"))
    }

    /// Asserts the push was accepted; returns the last acknowledged head.
    pub fn accepted(&self) -> u64 {
        assert!(self.error.is_none(), "push refused: {self:?}");
        *self.acks.last().unwrap_or(&self.held)
    }
}

/// Sends `batches` on one push stream and collects every answer.
pub async fn push(client: &mut SyncClient<Channel>, batches: Vec<Vec<Op>>) -> PushOutcome {
    let reqs: Vec<PushRequest> = batches
        .iter()
        .map(|b| PushRequest {
            ops: b.iter().map(civreg_proto::v1::Op::from).collect(),
        })
        .collect();
    push_raw(client, reqs).await
}

/// Sends wire requests as they are (for malformed or oversized batches).
pub async fn push_raw(client: &mut SyncClient<Channel>, reqs: Vec<PushRequest>) -> PushOutcome {
    let mut stream = match client.push(tokio_stream::iter(reqs)).await {
        Ok(r) => r.into_inner(),
        Err(status) => {
            return PushOutcome {
                held: 0,
                acks: vec![],
                error: Some(status),
            }
        }
    };
    let mut held = None;
    let mut acks = Vec::new();
    let mut error = None;
    loop {
        match stream.message().await {
            Ok(Some(a)) => {
                if held.is_none() {
                    held = Some(a.acked_seq);
                } else {
                    acks.push(a.acked_seq);
                }
            }
            Ok(None) => break,
            Err(status) => {
                error = Some(status);
                break;
            }
        }
    }
    PushOutcome {
        held: held.unwrap_or(0),
        acks,
        error,
    }
}

/// Every op of the caller's municipality feed after `cursor`, with each batch's cursor.
pub async fn pull(
    client: &mut SyncClient<Channel>,
    cursor: u64,
    max_batch: u32,
) -> Result<Vec<(Vec<Op>, u64)>, tonic::Status> {
    pull_reading(client, cursor, max_batch, civreg_shared::op::READS_FORMAT).await
}

/// [`pull`] as a node that reads record format `reads_format` (0: a node older than the field).
pub async fn pull_reading(
    client: &mut SyncClient<Channel>,
    cursor: u64,
    max_batch: u32,
    reads_format: u32,
) -> Result<Vec<(Vec<Op>, u64)>, tonic::Status> {
    let mut stream = client
        .pull(PullRequest {
            cursor,
            max_batch,
            reads_format,
        })
        .await?
        .into_inner();
    let mut out = Vec::new();
    while let Some(b) = stream.message().await? {
        let ops = b
            .ops
            .into_iter()
            .map(|o| Op::try_from(o).expect("the hub sends well-formed ops"))
            .collect();
        out.push((ops, b.cursor));
    }
    Ok(out)
}

/// All ops of a pull, flattened, and the last cursor (or `cursor` if nothing came).
pub async fn pull_all(client: &mut SyncClient<Channel>, cursor: u64) -> (Vec<Op>, u64) {
    let batches = pull(client, cursor, 1000).await.expect("pull");
    let last = batches.last().map(|b| b.1).unwrap_or(cursor);
    (batches.into_iter().flat_map(|b| b.0).collect(), last)
}

// ---------- the dashboard (web) ----------

/// A hub in this process with its dashboard on 127.0.0.1:(ephemeral); returns the hub and the
/// dashboard's address (`127.0.0.1:PORT`).
pub async fn start_web_hub(settings: civreg_hub::web::Settings) -> (Hub, String) {
    start_web_hub_with(settings, |_| {}).await
}

/// The `value` of the first `<input name="NAME" value="...">` in a page.
pub fn input_value(html: &str, name: &str) -> Option<String> {
    let at = html.find(&format!("name=\"{name}\" value=\""))?;
    let rest = &html[at + name.len() + 15..];
    Some(rest[..rest.find('"')?].to_string())
}

/// A signed-in operator's cookie jar for raw requests.
pub struct WebSession {
    pub addr: String,
    pub cookie: String,
    pub csrf: String,
}

impl WebSession {
    /// Signs in through the form, as a browser would, reading the dashboard in English (the
    /// `civreg_lang` cookie; the dashboard's default is Albanian): the tests' assertions are
    /// English texts. [`WebSession::login_in`] signs in with another language.
    pub async fn login(addr: &str, name: &str, password: &str) -> Result<WebSession, HttpResponse> {
        Self::login_in(addr, name, password, "en").await
    }

    /// [`WebSession::login`] in `lang` (a tag: `sq`, `sr-Latn`, `sr-Cyrl`, `en`).
    pub async fn login_in(
        addr: &str,
        name: &str,
        password: &str,
        lang: &str,
    ) -> Result<WebSession, HttpResponse> {
        let lang_cookie = format!("civreg_lang={lang}");
        let form = http_request(addr, "GET", "/login", Some(&lang_cookie), None).await;
        assert_eq!(form.status, 200, "{form:?}");
        let login = form.set_cookie("civreg_login").expect("a login cookie");
        let token = input_value(&form.body, "csrf").expect("a csrf field");
        let res = http_request(
            addr,
            "POST",
            "/login",
            Some(&format!("civreg_login={login}; {lang_cookie}")),
            Some(&[("name", name), ("password", password), ("csrf", &token)]),
        )
        .await;
        let Some(session) = res.set_cookie("civreg_session").filter(|s| !s.is_empty()) else {
            return Err(res);
        };
        assert_eq!(res.status, 303, "{res:?}");
        let cookie = format!("civreg_session={session}; {lang_cookie}");
        let page = http_request(addr, "GET", "/", Some(&cookie), None).await;
        assert_eq!(page.status, 200, "{page:?}");
        let csrf = input_value(&page.body, "csrf").expect("the logout form's csrf field");
        Ok(WebSession {
            addr: addr.to_string(),
            cookie,
            csrf,
        })
    }

    pub async fn get(&self, path: &str) -> HttpResponse {
        http_request(&self.addr, "GET", path, Some(&self.cookie), None).await
    }

    /// A POST with this session's cookie and exactly the given fields.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> HttpResponse {
        http_request(&self.addr, "POST", path, Some(&self.cookie), Some(form)).await
    }
}

/// Two offices of Prishtinë (nodes 8 and 9, raw clients) amend the same birth record
/// concurrently: the hub files one conflict. Returns the record's number and the 3 ops pushed.
pub async fn make_conflict(hub: &Hub) -> (String, u64) {
    use civreg_shared::op::GENESIS;
    let (n1, n2) = (hub.issue("prishtine", "8"), hub.issue("prishtine", "9"));
    let (mut c1, mut c2) = (hub.client(&n1).await, hub.client(&n2).await);
    let create = create_birth("prishtine", "8", 1, GENESIS);
    let record = create.record_id.clone();
    assert_eq!(
        push(&mut c1, vec![vec![create.clone()]]).await.accepted(),
        1
    );
    let amend = |n: &str, seq: u64, prev: Hash, name: &str| {
        Op {
            base: vec![create.id.clone()],
            ..op(
                "prishtine",
                n,
                seq,
                prev,
                &record,
                RecordKind::Birth,
                ChangeKind::Amend,
                &[("child.given_name", serde_json::json!(name))],
            )
        }
        .seal()
    };
    let mine = amend("8", 2, create.hash, "Agron");
    let theirs = amend("9", 1, GENESIS, "Agon");
    assert_eq!(push(&mut c1, vec![vec![mine]]).await.accepted(), 2);
    assert_eq!(push(&mut c2, vec![vec![theirs]]).await.accepted(), 1);
    (record, 3)
}

/// Checks that `text` is valid Prometheus text format (0.0.4) and returns every sample as
/// (`name{labels}`, value). Panics naming the first bad line.
pub fn parse_prometheus(text: &str) -> Vec<(String, f64)> {
    let mut types: std::collections::HashMap<String, String> = Default::default();
    let mut samples = Vec::new();
    let valid_name = |n: &str| {
        !n.is_empty()
            && n.chars().enumerate().all(|(i, c)| {
                c == '_' || c == ':' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            })
    };
    for (i, line) in text.lines().enumerate() {
        let bad = |why: &str| -> ! { panic!("metrics line {}: {why}: {line:?}", i + 1) };
        if line.is_empty() {
            continue;
        }
        if let Some(rest) = line.strip_prefix("# ") {
            let mut parts = rest.splitn(3, ' ');
            match (parts.next(), parts.next(), parts.next()) {
                (Some("HELP"), Some(name), _) if valid_name(name) => {}
                (Some("TYPE"), Some(name), Some(kind)) if valid_name(name) => {
                    if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind) {
                        bad("unknown type");
                    }
                    if types.insert(name.to_string(), kind.to_string()).is_some() {
                        bad("a second TYPE for one family");
                    }
                }
                _ => bad("a comment that is neither HELP nor TYPE"),
            }
            continue;
        }
        let name_end = line.find(['{', ' ']).unwrap_or_else(|| bad("no value"));
        let name = &line[..name_end];
        if !valid_name(name) {
            bad("bad metric name");
        }
        let mut rest = &line[name_end..];
        let mut labels = String::new();
        if rest.starts_with('{') {
            // Label values may hold escaped quotes: scan to the closing brace outside quotes.
            let mut in_quotes = false;
            let mut escaped = false;
            let mut end = None;
            for (j, c) in rest.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' if in_quotes => escaped = true,
                    '"' => in_quotes = !in_quotes,
                    '}' if !in_quotes => {
                        end = Some(j);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.unwrap_or_else(|| bad("unclosed labels"));
            labels = rest[..=end].to_string();
            for pair in split_labels(&rest[1..end]) {
                let (k, v) = pair
                    .split_once('=')
                    .unwrap_or_else(|| bad("label without ="));
                if !(valid_name(k) && v.starts_with('"') && v.ends_with('"') && v.len() >= 2) {
                    bad("bad label");
                }
            }
            rest = &rest[end + 1..];
        }
        let mut fields = rest.split_whitespace();
        let value = fields.next().unwrap_or_else(|| bad("no value"));
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().unwrap_or_else(|_| bad("value is not a number")),
        };
        if let Some(ts) = fields.next() {
            ts.parse::<i64>().unwrap_or_else(|_| bad("bad timestamp"));
        }
        let family = ["_bucket", "_sum", "_count", "_total"]
            .iter()
            .filter_map(|s| name.strip_suffix(s))
            .find(|f| types.contains_key(*f))
            .unwrap_or(name);
        if !types.contains_key(family) {
            bad("a sample before its TYPE line");
        }
        samples.push((format!("{name}{labels}"), value));
    }
    samples
}

fn split_labels(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut in_quotes, mut escaped) = (false, false);
    for c in s.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ',' if !in_quotes => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// [`start_web_hub`], with `prepare` run on the data directory (PKI made, store not yet opened)
/// before the hub starts: for state a test writes into the store itself, e.g.
/// [`seed_duplicate_cases`].
pub async fn start_web_hub_with(
    settings: civreg_hub::web::Settings,
    prepare: impl FnOnce(&Path),
) -> (Hub, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let pki = Pki::init(&paths::pki_dir(dir.path()), &[]).expect("pki init");
    make_hub_key(dir.path());
    prepare(dir.path());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let port = listener.local_addr().expect("local addr").port();
    let http = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0 for http");
    let http_addr = http.local_addr().expect("http local addr").to_string();
    let (tx, rx) = oneshot::channel::<()>();
    let data = dir.path().to_path_buf();
    let task = tokio::spawn(async move {
        let opts = serve::RunOptions {
            http: Some(http),
            web: settings,
            key_file: None,
            ..Default::default()
        };
        serve::run_with(&data, listener, opts, async {
            let _ = rx.await;
        })
        .await
    });
    let hub = Hub {
        dir,
        pki,
        port,
        url: format!("https://localhost:{port}"),
        shutdown: Some(tx),
        task: Some(task),
    };
    (hub, http_addr)
}

/// A case of the duplicates queue seeded by [`seed_duplicate_cases`].
#[derive(Debug, Clone)]
pub struct SeededCase {
    pub id: String,
    /// The registration numbers of records A and B (the mentions are `REGNO/child`).
    pub a: String,
    pub b: String,
}

/// The notes of every record A that [`seed_duplicate_cases`] writes: markup, to check escaping.
pub const SEEDED_NOTES: &str = "copied from book <L-12> & \"page\" 40";

/// Writes into the (stopped) hub's store at `data_dir`, for each `(municipality, given name,
/// weight)`, two births of one child by node `M/1` (B spells the name with an `i` added) and
/// files a duplicate case for the two children (`dedupe`, class `possible`).
pub fn seed_duplicate_cases(data_dir: &Path, cases: &[(&str, &str, f64)]) -> Vec<SeededCase> {
    use civreg_hub::linkage::duplicates::{self, Found};
    use civreg_hub::pki::PeerIdentity;
    let store =
        HubStore::open(&paths::db_dir(data_dir), hub_keys(data_dir)).expect("open the hub's store");
    let mut chains: std::collections::BTreeMap<String, (u64, Hash, Vec<Op>)> = Default::default();
    let mut out = Vec::new();
    let mut found = Vec::new();
    for (m, given, weight) in cases {
        let c = chains
            .entry(m.to_string())
            .or_insert((0, GENESIS, Vec::new()));
        let mut regnos = Vec::new();
        for (name, notes) in [
            (given.to_string(), Some(SEEDED_NOTES)),
            (format!("{given}i"), None),
        ] {
            c.0 += 1;
            let o = full_birth(m, "1", c.0, c.1, &name, "Gashi", "1968-03-14", notes);
            c.1 = o.hash;
            regnos.push(o.record_id.clone());
            c.2.push(o);
        }
        let (a, b) = (
            format!("{}/child", regnos[0]),
            format!("{}/child", regnos[1]),
        );
        out.push(SeededCase {
            id: duplicates::case_id(&a, &b),
            a: regnos[0].clone(),
            b: regnos[1].clone(),
        });
        found.push(Found {
            a,
            b,
            weight: *weight,
            probability: 0.9,
            class: "possible".into(),
            source: "dedupe".into(),
        });
    }
    for (m, (_, _, ops)) in chains {
        let who = PeerIdentity::Node {
            municipality: m,
            node_id: "1".into(),
        };
        let r = store.ingest(vec![(who, ops)]).expect("ingest");
        assert!(r[0].is_ok(), "{:?}", r[0]);
    }
    let n = found.len();
    assert_eq!(
        duplicates::file(&store, found).expect("file the cases"),
        n,
        "every case filed"
    );
    out
}

/// Writes into the (stopped) hub's store at `data_dir` one birth per name of `given`, by node
/// `M/NODE` (a chain of its own), the same child otherwise, and files a duplicate case for
/// every pair of them (`dedupe`, class `possible`, weights from 10.0 up in steps of 0.1): one
/// person registered several times. Returns the mentions (`REGNO/child`), in order.
pub fn seed_person_cluster(data_dir: &Path, m: &str, node: &str, given: &[&str]) -> Vec<String> {
    use civreg_hub::linkage::duplicates::{self, Found};
    use civreg_hub::pki::PeerIdentity;
    let store =
        HubStore::open(&paths::db_dir(data_dir), hub_keys(data_dir)).expect("open the hub's store");
    let (mut prev, mut ops, mut mentions) = (GENESIS, Vec::new(), Vec::new());
    for (i, name) in given.iter().enumerate() {
        let notes = (i == 0).then_some(SEEDED_NOTES);
        let o = full_birth(
            m,
            node,
            i as u64 + 1,
            prev,
            name,
            "Gashi",
            "1968-03-14",
            notes,
        );
        prev = o.hash;
        mentions.push(format!("{}/child", o.record_id));
        ops.push(o);
    }
    let who = PeerIdentity::Node {
        municipality: m.to_string(),
        node_id: node.to_string(),
    };
    let r = store.ingest(vec![(who, ops)]).expect("ingest");
    assert!(r[0].is_ok(), "{:?}", r[0]);
    let mut found = Vec::new();
    for i in 0..mentions.len() {
        for j in i + 1..mentions.len() {
            found.push(Found {
                a: mentions[i].clone(),
                b: mentions[j].clone(),
                weight: 10.0 + 0.1 * found.len() as f64,
                probability: 0.9,
                class: "possible".into(),
                source: "dedupe".into(),
            });
        }
    }
    let n = found.len();
    assert_eq!(
        duplicates::file(&store, found).expect("file the cases"),
        n,
        "every case filed"
    );
    mentions
}
