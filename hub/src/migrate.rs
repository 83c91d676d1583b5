//! Moving a hub's store between databases, so that no one is locked in (issue 19, part 4):
//!
//! - `civreg-hub migrate --from DATA_DIR --to postgres://…` ([`migrate`]): a sled hub store,
//!   copied into PostgreSQL (any [`HubBackend`], in fact) entry by entry, values as stored
//!   (sealed: the target needs the same key file);
//! - `civreg-hub export-jsonl --out FILE` ([`export_jsonl`]): the store as JSON Lines
//!   ([`jsonl`], the format is documented there);
//! - `civreg-hub import-jsonl --from FILE` ([`import_jsonl`]): such a file into an empty store.
//!
//! Both writers (migrate and import) work the same way:
//! 1. The target must be empty, or hold the record of an earlier, unfinished run of the same
//!    copy ([`Migration`], under `meta`/`migration`, in clear: where from and a cursor): that
//!    run is resumed. Anything else is refused, and nothing in it is touched.
//! 2. The record is written first, alone. While it exists, no hub opens the target
//!    ([`StoreError::MigrationUnfinished`]): it holds part of a store.
//! 3. The source's entries are read in key order, from the cursor on, and written in batches of
//!    bounded size; each batch carries the record with its new cursor, in one
//!    [`HubBackend::apply`], then [`HubBackend::flush`]. A SIGKILL loses at most the batch in
//!    flight, and the next run starts after the last batch that committed.
//! 4. The check, before success is reported: every entry of the target equal to the source's
//!    (a merge of both scans), then the target opened as a store with the key file, and every
//!    chain's head (the hub's own chain `agency/hub` among them) and every municipality's digest
//!    equal on both sides. Then the record is removed: the target is a hub store.
//!
//! The source must not change meanwhile: `migrate` holds the sled database's lock (a hub that
//! runs on it is refused), and the JSON Lines file carries its own checksum. A source changed
//! between two runs (the hub served in between) is found by the record's fingerprint, or by the
//! check at the end, and then the copy is started again with `--restart`.

use crate::atrest::KeyError;
use crate::review::ReviewError;
use crate::store::aux;
use crate::store::backend::postgres::PostgresBackend;
use crate::store::backend::sled::SledBackend;
use crate::store::{Batch, HubBackend, HubStore, KeyValue, StoreError};
use civreg_shared::seal::Sealer;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Entries per batch unless `--batch` says otherwise.
pub const DEFAULT_BATCH: usize = 2_000;

/// A batch is written once it holds this many bytes, whatever its count.
const BATCH_BYTES: usize = 8 << 20;

#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] KeyError),
    #[error(transparent)]
    Review(#[from] ReviewError),
    #[error("{0} holds no hub database (no db/ directory): give the data directory of the hub to migrate (--from)")]
    NoSource(PathBuf),
    #[error("the target {0} is not empty and holds no unfinished migration: migrate and import write only into an empty database (create a new one, or drop the tables civreg_hub_kv and civreg_hub_schema if it holds nothing you need)")]
    NotEmpty(String),
    #[error("the target {target} holds an unfinished copy from {was}, not from {now}: finish that one (run it again with the same source), or start over with --restart")]
    OtherSource {
        target: String,
        was: String,
        now: String,
    },
    #[error("the source {0} changed since the unfinished copy into this target started (a hub served it meanwhile): run the copy again with --restart")]
    SourceChanged(String),
    #[error("the copy in {target} differs from its source {source_at}: {what}; nothing was reported done and the target stays closed to hubs: run the copy again with --restart")]
    Differs {
        target: String,
        source_at: String,
        what: String,
    },
    #[error("the migration record in {0} is damaged ({1}): start over with --restart")]
    Record(String, String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} already exists: export into a new file (move the old one aside first)")]
    Exists(PathBuf),
    #[error("{path} line {line} can not be imported: {why}")]
    Jsonl {
        path: PathBuf,
        line: u64,
        why: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> MigrateError + '_ {
    move |source| MigrateError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// An unfinished copy, as kept in the target under `meta`/`migration`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Migration {
    /// Where from: a sled database's path, or a JSON Lines file's.
    pub source: String,
    /// What the source held when the copy started (see [`fingerprint`]), hex.
    pub fingerprint: String,
    /// The last key copied, hex (`None`: nothing yet).
    pub after: Option<String>,
    /// Entries copied so far.
    pub copied: u64,
    /// Entries in the source.
    pub total: u64,
}

/// What both sides are compared on at the end: every chain's head and every municipality's
/// digest (municipalities with records only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// `(chain, seq, hash)`, in chain order; the hub's own chain `agency/hub` among them.
    pub chains: Vec<(String, u64, String)>,
    /// `(municipality, records, digest)`, in gazetteer order.
    pub digests: Vec<(String, u64, String)>,
}

/// What a finished copy did.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub source: String,
    pub target: String,
    /// Entries in the target (all checked equal to the source's).
    pub entries: u64,
    /// Whether an earlier, interrupted run was resumed.
    pub resumed: bool,
    /// Equal on both sides.
    pub summary: Summary,
    pub elapsed_ms: u64,
}

/// Heads and digests of `store`.
pub fn summary(store: &HubStore) -> Result<Summary, MigrateError> {
    let chains = store
        .heads()
        .into_iter()
        .map(|(c, h)| (c, h.seq, h.hash.to_string()))
        .collect();
    let mut digests = Vec::new();
    for muni in civreg_shared::gazetteer::all() {
        let d = crate::review::digest(store, muni.code)?;
        if d.records > 0 {
            digests.push((muni.code.to_string(), d.records, d.sha256));
        }
    }
    Ok(Summary { chains, digests })
}

fn record_key() -> Vec<u8> {
    aux::META.key(aux::META_MIGRATION)
}

/// The unfinished copy recorded in `target`, if any.
pub fn unfinished(target: &dyn HubBackend) -> Result<Option<Migration>, MigrateError> {
    match target.get(&record_key())? {
        None => Ok(None),
        Some(v) => serde_json::from_slice(&v)
            .map(Some)
            .map_err(|e| MigrateError::Record(target.location(), e.to_string())),
    }
}

fn put_record(b: &mut Batch, m: &Migration) {
    b.put(
        record_key(),
        serde_json::to_vec(m).expect("a migration record serialises"),
    );
}

/// The fingerprint of a store's state: its key check and every chain head and the feed
/// position counter (what any write changes but an `aux` one), SHA-256, hex.
fn fingerprint(source: &dyn HubBackend) -> Result<String, MigrateError> {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    for k in [aux::META_KEY_CHECK, aux::META_FEED_POS] {
        let v = source.get(&aux::META.key(k))?.unwrap_or_default();
        ctx.update(&(v.len() as u64).to_be_bytes());
        ctx.update(&v);
    }
    let end = crate::store::backend::prefix_end(aux::CHAINS.prefix);
    for kv in source.scan(aux::CHAINS.prefix, end.as_deref()) {
        let (k, v) = kv?;
        for part in [&k, &v] {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
    }
    Ok(hex::encode(ctx.finish()))
}

/// Empties `target` of what an unfinished copy wrote (`--restart`); refuses a target without
/// such a record.
fn restart(target: &dyn HubBackend) -> Result<(), MigrateError> {
    if unfinished(target)?.is_none() {
        if target.scan(b"", None).next().is_some() {
            return Err(MigrateError::NotEmpty(target.location()));
        }
        return Ok(());
    }
    // The record goes last: until then the target stays closed to hubs.
    let rk = record_key();
    loop {
        let mut b = Batch::default();
        for kv in target.scan(b"", None) {
            let (k, _) = kv?;
            if k != rk {
                b.delete(k);
            }
            if b.len() >= DEFAULT_BATCH {
                break;
            }
        }
        if b.is_empty() {
            break;
        }
        target.apply(b)?;
    }
    let mut b = Batch::default();
    b.delete(rk);
    target.apply(b)?;
    target.flush()?;
    Ok(())
}

/// The record to go on with in `target`: a new one (the target empty) or the earlier run's
/// (same source, same fingerprint). Returns it and whether it was resumed.
fn begin(
    target: &dyn HubBackend,
    source: &str,
    fingerprint: &str,
    total: u64,
) -> Result<(Migration, bool), MigrateError> {
    if let Some(m) = unfinished(target)? {
        if m.source != source {
            return Err(MigrateError::OtherSource {
                target: target.location(),
                was: m.source,
                now: source.to_string(),
            });
        }
        if m.fingerprint != fingerprint {
            return Err(MigrateError::SourceChanged(source.to_string()));
        }
        return Ok((m, true));
    }
    if target.scan(b"", None).next().is_some() {
        return Err(MigrateError::NotEmpty(target.location()));
    }
    let m = Migration {
        source: source.to_string(),
        fingerprint: fingerprint.to_string(),
        after: None,
        copied: 0,
        total,
    };
    let mut b = Batch::default();
    put_record(&mut b, &m);
    target.apply(b)?;
    target.flush()?;
    Ok((m, false))
}

/// Copies `entries` (in ascending key order; those at or before the record's cursor are
/// skipped) into `target`, in batches that each carry the record with its cursor.
fn copy(
    target: &dyn HubBackend,
    m: &mut Migration,
    entries: &mut dyn Iterator<Item = Result<KeyValue, MigrateError>>,
    batch_max: usize,
    progress: &mut dyn FnMut(&Migration),
) -> Result<(), MigrateError> {
    let after = m
        .after
        .as_deref()
        .map(hex::decode)
        .transpose()
        .map_err(|e| MigrateError::Record(target.location(), e.to_string()))?;
    let rk = record_key();
    let mut b = Batch::default();
    let mut bytes = 0usize;
    let mut last: Option<Vec<u8>> = None;
    let mut n = 0u64;
    let mut write = |b: &mut Batch, last: &Option<Vec<u8>>, n: &mut u64, m: &mut Migration| {
        m.after = last.as_ref().map(hex::encode);
        m.copied += *n;
        *n = 0;
        put_record(b, m);
        target.apply(std::mem::take(b))?;
        target.flush()?;
        progress(m);
        Ok::<_, MigrateError>(())
    };
    for kv in entries {
        let (k, v) = kv?;
        if after.as_ref().is_some_and(|a| k <= *a) || k == rk {
            continue;
        }
        bytes += k.len() + v.len();
        last = Some(k.clone());
        b.put(k, v);
        n += 1;
        if b.len() >= batch_max || bytes >= BATCH_BYTES {
            write(&mut b, &last, &mut n, &mut *m)?;
            bytes = 0;
        }
    }
    if n > 0 {
        write(&mut b, &last, &mut n, &mut *m)?;
    }
    Ok(())
}

/// Every entry of `target` (but the record) equal to `expected`'s, in order; the count.
fn compare(
    target: &dyn HubBackend,
    expected: &mut dyn Iterator<Item = Result<KeyValue, MigrateError>>,
    source_at: &str,
) -> Result<u64, MigrateError> {
    let rk = record_key();
    let differs = |what: String| MigrateError::Differs {
        target: target.location(),
        source_at: source_at.to_string(),
        what,
    };
    let show = |k: &[u8]| String::from_utf8_lossy(k).escape_debug().to_string();
    let mut got = target.scan(b"", None).filter(|kv| match kv {
        Ok((k, _)) => *k != rk,
        Err(_) => true,
    });
    let mut n = 0u64;
    loop {
        match (expected.next().transpose()?, got.next().transpose()?) {
            (None, None) => return Ok(n),
            (Some((k, _)), None) => {
                return Err(differs(format!("the entry {} is missing", show(&k))))
            }
            (None, Some((k, _))) => {
                return Err(differs(format!(
                    "the entry {} is not in the source",
                    show(&k)
                )))
            }
            (Some((ek, ev)), Some((gk, gv))) => {
                if ek != gk {
                    let (a, b) = (show(&ek), show(&gk));
                    return Err(differs(format!("the source's entry {a} is {b} here")));
                }
                if ev != gv {
                    return Err(differs(format!(
                        "the entry {} holds another value",
                        show(&ek)
                    )));
                }
            }
        }
        n += 1;
    }
}

/// The check at the end of a copy: the target opened as a store with `keys` has `expected`'s
/// heads and digests; then the record goes.
fn finish(
    target: Arc<dyn HubBackend>,
    keys: Sealer,
    expected: &Summary,
    source_at: &str,
) -> Result<(), MigrateError> {
    let store = HubStore::open_migrating(target.clone(), keys)?;
    let got = summary(&store)?;
    drop(store);
    let differs = |what: String| MigrateError::Differs {
        target: target.location(),
        source_at: source_at.to_string(),
        what,
    };
    if got.chains != expected.chains {
        let first = expected
            .chains
            .iter()
            .zip(&got.chains)
            .find(|(a, b)| a != b)
            .map_or_else(
                || "a chain is missing".to_string(),
                |(a, b)| format!("chain {} has head #{} here, #{} there", a.0, b.1, a.1),
            );
        return Err(differs(first));
    }
    if got.digests != expected.digests {
        let first = expected
            .digests
            .iter()
            .zip(&got.digests)
            .find(|(a, b)| a != b)
            .map_or_else(
                || "a municipality's records are missing".to_string(),
                |(a, _)| format!("municipality {}'s digest differs", a.0),
            );
        return Err(differs(first));
    }
    let mut b = Batch::default();
    b.delete(record_key());
    target.apply(b)?;
    target.flush()?;
    Ok(())
}

/// Opens the database at `at` for a copy into it (sled is made if missing).
pub fn open_target(at: &crate::paths::StoreAt) -> Result<Arc<dyn HubBackend>, MigrateError> {
    let b: Arc<dyn HubBackend> = match at {
        crate::paths::StoreAt::Postgres(url) => Arc::new(PostgresBackend::open(url)?),
        crate::paths::StoreAt::Sled(path) => Arc::new(SledBackend::open(path)?),
    };
    Ok(b)
}

/// Opens the sled database of the hub in `data_dir`, as a copy's source: refused while a hub
/// (or a command) has it open.
pub fn open_source(data_dir: &Path) -> Result<Arc<dyn HubBackend>, MigrateError> {
    let db = crate::paths::db_dir(data_dir);
    if !db.is_dir() {
        return Err(MigrateError::NoSource(data_dir.to_path_buf()));
    }
    match SledBackend::open(&db) {
        Err(StoreError::Locked(p)) => Err(MigrateError::Store(StoreError::Backend(format!(
            "the hub database at {p} is in use by a civreg-hub process: stop the hub (and any command on it), then migrate"
        )))),
        other => Ok(Arc::new(other?)),
    }
}

/// `civreg-hub migrate`: copies the store in `source` (opened with the key file `key_file`)
/// into `target` (see the module documentation), `batch` entries per write; `restart_it`
/// drops an unfinished earlier copy first. `progress` is told after each batch.
pub fn migrate(
    source: Arc<dyn HubBackend>,
    key_file: &Path,
    target: Arc<dyn HubBackend>,
    batch: usize,
    restart_it: bool,
    progress: &mut dyn FnMut(&Migration),
) -> Result<Outcome, MigrateError> {
    let started = std::time::Instant::now();
    // Checks the key and brings an older layout to the current one before anything is copied.
    let store = HubStore::open_backend(source.clone(), crate::atrest::load_key(key_file)?)?;
    let expected = summary(&store)?;
    drop(store);
    if restart_it {
        restart(&*target)?;
    }
    let source_at = source.location();
    let print = fingerprint(&*source)?;
    let total = source
        .scan(b"", None)
        .try_fold(0u64, |n, kv| kv.map(|_| n + 1))?;
    let (mut m, resumed) = begin(&*target, &source_at, &print, total)?;
    let from = m
        .after
        .as_deref()
        .map(hex::decode)
        .transpose()
        .map_err(|e| MigrateError::Record(target.location(), e.to_string()))?
        .unwrap_or_default();
    let mut entries = source
        .scan(&from, None)
        .map(|kv| kv.map_err(MigrateError::from));
    copy(&*target, &mut m, &mut entries, batch.max(1), progress)?;
    let mut all = source
        .scan(b"", None)
        .map(|kv| kv.map_err(MigrateError::from));
    let entries = compare(&*target, &mut all, &source_at)?;
    finish(
        target.clone(),
        crate::atrest::load_key(key_file)?,
        &expected,
        &source_at,
    )?;
    Ok(Outcome {
        source: source_at,
        target: target.location(),
        entries,
        resumed,
        summary: expected,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

/// A progress line of a copy.
pub fn progress_line(m: &Migration) -> String {
    format!(
        "copied {} of {} entries from {}",
        m.copied,
        m.total.max(m.copied),
        m.source
    )
}

pub mod jsonl {
    //! The JSON Lines form of a hub's store (`civreg-hub export-jsonl`, `import-jsonl`).
    //!
    //! One JSON object per line, UTF-8, `\n` after each:
    //! 1. the header: `{"format":"civreg-hub-jsonl","version":1,"source":"…",
    //!    "exported_at":"2026-12-07T14:00:00Z"}` (the store's layout is its entry `m/layout`);
    //! 2. one line per entry of the store, in ascending key order:
    //!    `{"key":"6d2f6c61796f7574","value":"36"}`: the key and the value, hex, exactly as
    //!    the store holds them. Keys are in clear (a keyspace prefix, then municipality and node
    //!    codes, numbers big-endian; `store/aux.rs` lists them); values of the sealed keyspaces
    //!    (`f/`, `b/`, `k/`, `x/`) are sealed with the hub's key file (`civreg_shared::seal`),
    //!    the others are in clear;
    //! 3. the trailer: `{"end":{"entries":N,"sha256":"…","summary":{"chains":[…],"digests":[…]}}}`:
    //!    the count of entry lines, the SHA-256 of every byte before the trailer line (header
    //!    and entries), and every chain's head and every municipality's digest at export.
    //!
    //! An import checks the whole file (header, order, hex, count, checksum) before it writes
    //! anything, and the target's heads and digests against the trailer's at the end.

    use super::Summary;
    use serde::{Deserialize, Serialize};

    pub const FORMAT: &str = "civreg-hub-jsonl";
    pub const VERSION: u32 = 1;

    /// Longest line an import reads: a value is at most a few MiB (runs and buckets are
    /// bounded, `store::commit::RUN_BYTES`), twice that in hex.
    pub const MAX_LINE: u64 = 64 << 20;

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Header {
        pub format: String,
        pub version: u32,
        pub source: String,
        pub exported_at: String,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Entry {
        pub key: String,
        pub value: String,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct End {
        pub entries: u64,
        pub sha256: String,
        pub summary: Summary,
    }

    #[derive(Debug, Clone, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Trailer {
        pub end: End,
    }
}

/// What an export wrote.
#[derive(Debug, Clone, Serialize)]
pub struct Exported {
    pub path: PathBuf,
    pub entries: u64,
    pub bytes: u64,
    pub summary: Summary,
}

/// `civreg-hub export-jsonl --out FILE`: the store `store` as JSON Lines ([`jsonl`]), read
/// while its writes are held (one state between two group commits). Written to `FILE.partial`,
/// synced, then renamed: a file at `out` is always whole.
pub fn export_jsonl(store: &HubStore, source: &str, out: &Path) -> Result<Exported, MigrateError> {
    if out.exists() {
        return Err(MigrateError::Exists(out.to_path_buf()));
    }
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    let file = std::fs::File::create(&partial).map_err(io(&partial))?;
    let mut w = Hashing::new(BufWriter::new(file));
    let header = jsonl::Header {
        format: jsonl::FORMAT.into(),
        version: jsonl::VERSION,
        source: source.to_string(),
        exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    line(&mut w, &header).map_err(io(&partial))?;
    let entries = store.with_writes_held(|it, _heads| -> Result<u64, MigrateError> {
        let mut n = 0u64;
        for kv in it {
            let (k, v) = kv?;
            let e = jsonl::Entry {
                key: hex::encode(&k),
                value: hex::encode(&v),
            };
            line(&mut w, &e).map_err(io(&partial))?;
            n += 1;
        }
        Ok(n)
    })?;
    let summary = summary(store)?;
    let sha256 = hex::encode(w.ctx.clone().finish());
    let trailer = jsonl::Trailer {
        end: jsonl::End {
            entries,
            sha256,
            summary: summary.clone(),
        },
    };
    line(&mut w, &trailer).map_err(io(&partial))?;
    let bytes = w.bytes;
    let file = w.inner.into_inner().map_err(|e| MigrateError::Io {
        path: partial.clone(),
        source: e.into_error(),
    })?;
    file.sync_all().map_err(io(&partial))?;
    std::fs::rename(&partial, out).map_err(io(out))?;
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(io(dir))?;
    }
    Ok(Exported {
        path: out.to_path_buf(),
        entries,
        bytes,
        summary,
    })
}

fn line<W: Write>(w: &mut W, value: &impl Serialize) -> std::io::Result<()> {
    let mut s = serde_json::to_vec(value).map_err(std::io::Error::other)?;
    s.push(b'\n');
    w.write_all(&s)
}

/// A writer that hashes what it writes.
struct Hashing<W> {
    inner: W,
    ctx: ring::digest::Context,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            ctx: ring::digest::Context::new(&ring::digest::SHA256),
            bytes: 0,
        }
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.ctx.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// A JSON Lines file read line by line, each line bounded ([`jsonl::MAX_LINE`]).
struct Lines {
    path: PathBuf,
    r: BufReader<std::fs::File>,
    n: u64,
    buf: Vec<u8>,
}

impl Lines {
    fn open(path: &Path) -> Result<Lines, MigrateError> {
        Ok(Lines {
            path: path.to_path_buf(),
            r: BufReader::new(std::fs::File::open(path).map_err(io(path))?),
            n: 0,
            buf: Vec::new(),
        })
    }

    fn bad(&self, why: impl Into<String>) -> MigrateError {
        MigrateError::Jsonl {
            path: self.path.clone(),
            line: self.n,
            why: why.into(),
        }
    }

    /// The next line without its `\n` (`None` at the end of the file).
    fn next_line(&mut self) -> Result<Option<&[u8]>, MigrateError> {
        self.buf.clear();
        let got = (&mut self.r)
            .take(jsonl::MAX_LINE + 1)
            .read_until(b'\n', &mut self.buf)
            .map_err(io(&self.path))?;
        if got == 0 {
            return Ok(None);
        }
        self.n += 1;
        if self.buf.last() != Some(&b'\n') {
            return Err(if self.buf.len() as u64 > jsonl::MAX_LINE {
                self.bad(format!(
                    "the line is longer than {} bytes: this is not an export of civreg-hub",
                    jsonl::MAX_LINE
                ))
            } else {
                self.bad("the file ends inside a line: it is cut short; export it again")
            });
        }
        Ok(Some(&self.buf[..self.buf.len() - 1]))
    }

    fn parse<T: serde::de::DeserializeOwned>(
        &mut self,
        what: &str,
    ) -> Result<Option<(T, Vec<u8>)>, MigrateError> {
        let Some(l) = self.next_line()? else {
            return Ok(None);
        };
        let raw = l.to_vec();
        match serde_json::from_slice(&raw) {
            Ok(v) => Ok(Some((v, raw))),
            Err(e) => Err(self.bad(format!("not {what}: {e}"))),
        }
    }
}

/// One pass over a JSON Lines export: the header checked, each entry given to `each` (in
/// ascending key order, hex decoded), the trailer checked (count, checksum) and returned.
fn read_jsonl(
    path: &Path,
    each: &mut dyn FnMut(KeyValue) -> Result<(), MigrateError>,
) -> Result<(jsonl::Header, jsonl::End), MigrateError> {
    let mut lines = Lines::open(path)?;
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    let Some((header, raw)) = lines.parse::<jsonl::Header>("the header")? else {
        return Err(lines.bad("the file is empty: give a file `civreg-hub export-jsonl` wrote"));
    };
    if header.format != jsonl::FORMAT || header.version != jsonl::VERSION {
        return Err(lines.bad(format!(
            "the header says format {:?} version {}; this civreg-hub reads {} version {}",
            header.format,
            header.version,
            jsonl::FORMAT,
            jsonl::VERSION
        )));
    }
    ctx.update(&raw);
    ctx.update(b"\n");
    let mut n = 0u64;
    let mut prev: Option<Vec<u8>> = None;
    loop {
        let Some(l) = lines.next_line()? else {
            return Err(lines
                .bad("the file ends without its trailer line: it is cut short; export it again"));
        };
        let raw = l.to_vec();
        if raw.starts_with(br#"{"end""#) {
            let t: jsonl::Trailer = serde_json::from_slice(&raw)
                .map_err(|e| lines.bad(format!("not the trailer: {e}")))?;
            if t.end.entries != n {
                return Err(lines.bad(format!(
                    "the trailer counts {} entries, the file holds {n}: it is damaged; export it again",
                    t.end.entries
                )));
            }
            let sha = hex::encode(ctx.finish());
            if t.end.sha256 != sha {
                return Err(lines.bad(
                    "the file's checksum differs from its trailer's: it is damaged or altered; export it again",
                ));
            }
            if lines.next_line()?.is_some() {
                return Err(lines.bad("there is more after the trailer line"));
            }
            return Ok((header, t.end));
        }
        let e: jsonl::Entry =
            serde_json::from_slice(&raw).map_err(|e| lines.bad(format!("not an entry: {e}")))?;
        let k = hex::decode(&e.key).map_err(|e| lines.bad(format!("the key is not hex: {e}")))?;
        let v =
            hex::decode(&e.value).map_err(|e| lines.bad(format!("the value is not hex: {e}")))?;
        if prev.as_ref().is_some_and(|p| k <= *p) {
            return Err(lines.bad("the entries are not in ascending key order"));
        }
        if k == record_key() {
            return Err(lines.bad("an export never holds a migration record"));
        }
        ctx.update(&raw);
        ctx.update(b"\n");
        prev = Some(k.clone());
        each((k, v))?;
        n += 1;
    }
}

/// `civreg-hub import-jsonl --from FILE`: the export in `path` into `target` (empty, or
/// holding this file's unfinished import), then the check against the trailer's heads and
/// digests with the key file `key_file`.
pub fn import_jsonl(
    path: &Path,
    key_file: &Path,
    target: Arc<dyn HubBackend>,
    batch: usize,
    restart_it: bool,
    progress: &mut dyn FnMut(&Migration),
) -> Result<Outcome, MigrateError> {
    let started = std::time::Instant::now();
    let keys = crate::atrest::load_key(key_file)?;
    // The whole file checked before anything is written.
    let (_, end) = read_jsonl(path, &mut |_| Ok(()))?;
    if restart_it {
        restart(&*target)?;
    }
    let source_at = std::path::absolute(path)
        .map_err(io(path))?
        .display()
        .to_string();
    let (mut m, resumed) = begin(&*target, &source_at, &end.sha256, end.entries)?;
    // One thread reads the file, this one writes: a bounded channel between them.
    let (rx, reader) = spawn_reader(path);
    let mut entries = rx.iter();
    let copied = copy(&*target, &mut m, &mut entries, batch.max(1), progress);
    // The reader stops at its next send once the channel is gone.
    drop(rx);
    let _ = reader.join();
    copied?;
    // The target's entries against the file's (read a third time: never all in memory).
    let (rx, reader) = spawn_reader(path);
    let mut expected = rx.iter();
    let compared = compare(&*target, &mut expected, &source_at);
    drop(rx);
    let _ = reader.join();
    let entries = compared?;
    finish(target.clone(), keys, &end.summary, &source_at)?;
    Ok(Outcome {
        source: source_at,
        target: target.location(),
        entries,
        resumed,
        summary: end.summary,
        elapsed_ms: started.elapsed().as_millis() as u64,
    })
}

type Reader = (
    std::sync::mpsc::Receiver<Result<KeyValue, MigrateError>>,
    std::thread::JoinHandle<()>,
);

/// A thread that reads the export at `path` ([`read_jsonl`]) into a bounded channel; it stops
/// when the receiver is dropped.
fn spawn_reader(path: &Path) -> Reader {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<KeyValue, MigrateError>>(4_096);
    let path = path.to_path_buf();
    let reader = std::thread::spawn(move || {
        let r = read_jsonl(&path, &mut |kv| {
            tx.send(Ok(kv)).map_err(|_| MigrateError::Jsonl {
                path: path.clone(),
                line: 0,
                why: "the reader stopped".into(),
            })
        });
        if let Err(e) = r {
            let _ = tx.send(Err(e));
        }
    });
    (rx, reader)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pki::PeerIdentity;
    use crate::store::backend::memory::MemoryBackend;
    use crate::store::backend::{Applied, Entries, Expected};
    use civreg_shared::model::RecordKind;
    use civreg_shared::op::ChangeKind;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A hub store in sled under `dir` with two offices' chains, an op of the hub's own chain
    /// and some `aux` state, sealed with the key file `dir/hub.key`.
    fn filled(dir: &Path) -> (Arc<dyn HubBackend>, PathBuf) {
        let key = crate::atrest::default_key_path(dir);
        crate::atrest::create_key(&key).unwrap();
        let backend: Arc<dyn HubBackend> =
            Arc::new(SledBackend::open(&crate::paths::db_dir(dir)).unwrap());
        let store = HubStore::open_backend(backend.clone(), crate::atrest::load_key(&key).unwrap())
            .unwrap();
        for (m, n, count) in [("prishtine", "1", 700), ("istog", "2", 300)] {
            let who = PeerIdentity::Node {
                municipality: m.into(),
                node_id: n.into(),
            };
            let ops = civreg_testkit::ops::chain(m, n, count);
            for part in ops.chunks(128) {
                for a in store.ingest(vec![(who.clone(), part.to_vec())]).unwrap() {
                    a.unwrap();
                }
            }
        }
        let regno = civreg_testkit::ops::regno("prishtine", "1", RecordKind::Birth, 3);
        store
            .write_own(|id, prev| {
                let mut op = civreg_testkit::ops::op(
                    crate::store::HUB_CHAIN_MUNICIPALITY,
                    crate::store::HUB_CHAIN_NODE,
                    id.seq,
                    prev,
                    &regno,
                    RecordKind::Birth,
                    ChangeKind::Annotate,
                    &[("notes.hub", "checked".into())],
                );
                op.id = id;
                op.seal()
            })
            .unwrap();
        store
            .aux_write(&[(b"t/migrate".to_vec(), Some(b"kept".to_vec()))])
            .unwrap();
        (backend, key)
    }

    /// A backend whose writes fail after `ok` of them (a process killed mid-copy, as far as
    /// the target can tell: the batches before are committed, the rest never came).
    struct Dying {
        inner: Arc<MemoryBackend>,
        left: AtomicUsize,
    }

    impl HubBackend for Dying {
        fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.get(key)
        }
        fn scan(&self, from: &[u8], to: Option<&[u8]>) -> Entries<'_> {
            self.inner.scan(from, to)
        }
        fn last_in(&self, from: &[u8], to: &[u8]) -> Result<Option<KeyValue>, StoreError> {
            self.inner.last_in(from, to)
        }
        fn apply(&self, batch: Batch) -> Result<(), StoreError> {
            if self
                .left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_err()
            {
                return Err(StoreError::Unreachable("killed".into()));
            }
            self.inner.apply(batch)
        }
        fn apply_if(&self, e: &[Expected], b: &Batch) -> Result<Applied, StoreError> {
            self.inner.apply_if(e, b)
        }
        fn flush(&self) -> Result<(), StoreError> {
            self.inner.flush()
        }
        fn layout(&self) -> Result<Option<Vec<u8>>, StoreError> {
            self.inner.layout()
        }
        fn set_layout(&self, mark: &[u8]) -> Result<(), StoreError> {
            self.inner.set_layout(mark)
        }
        fn with_layout_lock(
            &self,
            f: &mut dyn FnMut() -> Result<(), StoreError>,
        ) -> Result<(), StoreError> {
            self.inner.with_layout_lock(f)
        }
        fn location(&self) -> String {
            "(dying memory)".into()
        }
    }

    fn entries(b: &dyn HubBackend) -> Vec<KeyValue> {
        b.scan(b"", None).map(Result::unwrap).collect()
    }

    #[test]
    fn a_migration_killed_mid_copy_resumes_and_ends_equal_on_both_sides() {
        let dir = tempfile::tempdir().unwrap();
        let (source, key) = filled(dir.path());
        let mem = Arc::new(MemoryBackend::new());
        // Dies after its record and three batches.
        let dying = Arc::new(Dying {
            inner: mem.clone(),
            left: AtomicUsize::new(4),
        });
        let mut seen = Vec::new();
        let e = migrate(source.clone(), &key, dying, 20, false, &mut |m| {
            seen.push(m.copied)
        })
        .unwrap_err();
        assert!(e.to_string().contains("killed"), "{e}");
        assert_eq!(seen, [20, 40, 60]);
        // Half a store: no hub opens it, and it says what to do.
        let e = HubStore::open_backend(mem.clone(), crate::atrest::load_key(&key).unwrap())
            .err()
            .expect("refused")
            .to_string();
        assert!(e.contains("migration") && e.contains("unfinished"), "{e}");
        let target: Arc<dyn HubBackend> = mem.clone();
        let m = unfinished(&*target).unwrap().expect("the record");
        assert_eq!(m.copied, 60);
        // Resumed: starts after the last batch that committed.
        let mut seen = Vec::new();
        let o = migrate(source.clone(), &key, target.clone(), 20, false, &mut |m| {
            seen.push(m.copied)
        })
        .unwrap();
        assert!(o.resumed);
        assert_eq!(seen.first(), Some(&80));
        // Each entry copied once over both runs: nothing before the cursor again.
        assert_eq!(seen.last(), Some(&(entries(&*source).len() as u64)));
        assert_eq!(entries(&*source), entries(&*target));
        assert_eq!(o.entries, entries(&*source).len() as u64);
        assert!(o
            .summary
            .chains
            .iter()
            .any(|c| c.0 == "agency/hub" && c.1 == 1));
        let mut counts: Vec<(&str, u64)> = o
            .summary
            .digests
            .iter()
            .map(|d| (d.0.as_str(), d.1))
            .collect();
        counts.sort();
        assert_eq!(counts, [("istog", 300), ("prishtine", 700)]);
        // A store now, with the same heads and digests.
        let store =
            HubStore::open_backend(target.clone(), crate::atrest::load_key(&key).unwrap()).unwrap();
        assert_eq!(summary(&store).unwrap(), o.summary);
        assert_eq!(store.aux_get(b"t/migrate").unwrap(), Some(b"kept".to_vec()));
        drop(store);
        // A second run into the finished store is refused: it is not empty.
        let e = migrate(source, &key, target, 100, false, &mut |_| {}).unwrap_err();
        assert!(matches!(e, MigrateError::NotEmpty(_)), "{e}");
    }

    #[test]
    fn a_target_with_other_data_or_another_copy_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let (source, key) = filled(dir.path());
        let target: Arc<dyn HubBackend> = Arc::new(MemoryBackend::new());
        let mut b = Batch::default();
        b.put(b"x/someone-else".to_vec(), b"1".to_vec());
        target.apply(b).unwrap();
        let e = migrate(
            source.clone(),
            &key,
            target.clone(),
            100,
            false,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(e, MigrateError::NotEmpty(_)), "{e}");
        assert!(e.to_string().contains("empty database"), "{e}");
        // --restart does not empty a database that is not a copy's.
        let e = migrate(source.clone(), &key, target.clone(), 100, true, &mut |_| {}).unwrap_err();
        assert!(matches!(e, MigrateError::NotEmpty(_)), "{e}");
        assert_eq!(entries(&*target).len(), 1);
        // The unfinished copy of another source: named, and left alone; --restart starts over.
        let target: Arc<dyn HubBackend> = Arc::new(MemoryBackend::new());
        let mut b = Batch::default();
        put_record(
            &mut b,
            &Migration {
                source: "/elsewhere/db".into(),
                fingerprint: "00".into(),
                after: None,
                copied: 0,
                total: 9,
            },
        );
        b.put(b"c/elsewhere".to_vec(), b"1".to_vec());
        target.apply(b).unwrap();
        let e = migrate(
            source.clone(),
            &key,
            target.clone(),
            100,
            false,
            &mut |_| {},
        )
        .unwrap_err();
        assert!(
            matches!(&e, MigrateError::OtherSource { was, .. } if was == "/elsewhere/db"),
            "{e}"
        );
        let o = migrate(source.clone(), &key, target.clone(), 100, true, &mut |_| {}).unwrap();
        assert!(!o.resumed);
        assert_eq!(entries(&*source), entries(&*target));
    }

    #[test]
    fn a_source_changed_between_two_runs_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let (source, key) = filled(dir.path());
        let mem = Arc::new(MemoryBackend::new());
        let dying = Arc::new(Dying {
            inner: mem.clone(),
            left: AtomicUsize::new(2),
        });
        migrate(source.clone(), &key, dying, 100, false, &mut |_| {}).unwrap_err();
        // The hub served in between: a new op.
        let store =
            HubStore::open_backend(source.clone(), crate::atrest::load_key(&key).unwrap()).unwrap();
        let who = PeerIdentity::Node {
            municipality: "istog".into(),
            node_id: "2".into(),
        };
        let next = civreg_testkit::ops::chain("istog", "2", 301).pop().unwrap();
        store.ingest(vec![(who, vec![next])]).unwrap()[0]
            .as_ref()
            .unwrap();
        drop(store);
        let e = migrate(source.clone(), &key, mem.clone(), 100, false, &mut |_| {}).unwrap_err();
        assert!(matches!(e, MigrateError::SourceChanged(_)), "{e}");
        assert!(e.to_string().contains("--restart"), "{e}");
        migrate(source.clone(), &key, mem.clone(), 100, true, &mut |_| {}).unwrap();
        assert_eq!(entries(&*source), entries(&*mem));
    }

    #[test]
    fn a_copy_that_differs_from_its_source_is_never_reported_done() {
        let dir = tempfile::tempdir().unwrap();
        let (source, key) = filled(dir.path());
        let mem = Arc::new(MemoryBackend::new());
        let dying = Arc::new(Dying {
            inner: mem.clone(),
            left: AtomicUsize::new(3),
        });
        migrate(source.clone(), &key, dying, 100, false, &mut |_| {}).unwrap_err();
        // An entry already copied is damaged in the target.
        let (k, _) = entries(&*mem)
            .into_iter()
            .find(|(k, _)| k.starts_with(aux::BUCKETS.prefix))
            .expect("a bucket copied");
        let mut b = Batch::default();
        b.put(k, b"damaged".to_vec());
        mem.apply(b).unwrap();
        let e = migrate(source.clone(), &key, mem.clone(), 100, false, &mut |_| {}).unwrap_err();
        assert!(matches!(e, MigrateError::Differs { .. }), "{e}");
        assert!(e.to_string().contains("another value"), "{e}");
        // Still closed to hubs.
        assert!(unfinished(&*mem).unwrap().is_some());
    }

    #[test]
    fn a_jsonl_export_imports_into_an_empty_store_and_a_damaged_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let (source, key) = filled(dir.path());
        let store =
            HubStore::open_backend(source.clone(), crate::atrest::load_key(&key).unwrap()).unwrap();
        let file = dir.path().join("hub.jsonl");
        let e = export_jsonl(&store, "the test's", &file).unwrap();
        assert_eq!(e.entries, entries(&*source).len() as u64);
        assert!(matches!(
            export_jsonl(&store, "again", &file),
            Err(MigrateError::Exists(_))
        ));
        drop(store);
        let text = std::fs::read_to_string(&file).unwrap();
        let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        assert_eq!(first["format"], "civreg-hub-jsonl");
        // Imported, interrupted and resumed.
        let mem = Arc::new(MemoryBackend::new());
        let dying = Arc::new(Dying {
            inner: mem.clone(),
            left: AtomicUsize::new(3),
        });
        import_jsonl(&file, &key, dying, 100, false, &mut |_| {}).unwrap_err();
        let o = import_jsonl(&file, &key, mem.clone(), 100, false, &mut |_| {}).unwrap();
        assert!(o.resumed);
        assert_eq!(entries(&*source), entries(&*mem));
        assert_eq!(o.summary, e.summary);
        // Into a store that is not empty: refused.
        let e2 = import_jsonl(&file, &key, mem.clone(), 100, false, &mut |_| {}).unwrap_err();
        assert!(matches!(e2, MigrateError::NotEmpty(_)), "{e2}");
        // Damaged files are refused before anything is written.
        let lines: Vec<&str> = text.lines().collect();
        let n = lines.len();
        let mut flipped = lines.clone();
        let changed = flipped[5].replacen("\"value\":\"", "\"value\":\"00", 1);
        flipped[5] = &changed;
        let cases: Vec<(String, &str)> = vec![
            (lines[..n - 1].join("\n") + "\n", "trailer"),
            (text[..text.len() - 10].to_string(), "cut short"),
            (flipped.join("\n") + "\n", "checksum"),
            (
                [lines[0], lines[2], lines[1]].join("\n") + "\n",
                "ascending",
            ),
            (String::new(), "empty"),
            (
                "{\"format\":\"other\",\"version\":1,\"source\":\"\",\"exported_at\":\"\"}\n"
                    .into(),
                "format",
            ),
            ("not json\n".into(), "header"),
            (
                format!("{}\n{{\"key\":\"zz\",\"value\":\"\"}}\n", lines[0]),
                "not hex",
            ),
        ];
        for (body, says) in cases {
            let bad = dir.path().join("bad.jsonl");
            std::fs::write(&bad, &body).unwrap();
            let target = Arc::new(MemoryBackend::new());
            let e = import_jsonl(&bad, &key, target.clone(), 100, false, &mut |_| {})
                .unwrap_err()
                .to_string();
            assert!(e.contains(says) && e.contains("bad.jsonl"), "{says}: {e}");
            assert!(entries(&*target).is_empty(), "{says}: nothing written");
        }
    }
}
