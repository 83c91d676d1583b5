//! National search benchmark: index build time and size, query latency (median and p99), top-1
//! and found-in-top-10 per query class (see `CLASSES`: exact, typo, Cyrillic, Albanian names in
//! Serbian orthography in Latin and Cyrillic, Serbian names in Albanian orthography, with the
//! father's name, double surname, née, a word in no record, a place alone), the latency a node
//! adds by asking over mutual TLS, and (with `--pg`) a PostgreSQL pg_trgm baseline on the same
//! records and the same queries.
//!
//! Data: the seeded synthetic register of `civreg_shared::synth` (38 municipalities, families,
//! both scripts, about 8% corrupted duplicates), loaded through the hub's real ingest (one chain
//! per municipality, batches of 1,000), then indexed by the index that follows the feed.
//! Queries are made from children's birth records and from married women's marriage records
//! sampled uniformly from the same data (seeded), respelled by the bench's own orthography
//! tables (not the index's). Each query remembers the record it was made from; *found* is how
//! often that record is among the first 20 results, *top-1* how often it is first.
//!
//! `--held-out` replaces every name of the synthetic population by one of
//! `data/heldout-names.tsv`: Albanian and Serbian given names and surnames from public lists the
//! project did not write (sources in the file's header), mapped so that a person keeps one name
//! across records ([`HeldOut`]). Its table goes to its own section of `BENCHMARKS.md`.
//!
//! `--baseline EXE` runs the hub phase of this bench built from an earlier commit (copy this
//! file into a checkout of that commit and build it in its own target dir) first, on the same
//! store and queries, for the *before* columns. `CIVREG_BENCH_MISSES=1` prints each top-1 miss
//! with the first hit and the source's place.
//!
//! The benchmark runs in two processes so that their memory is measured apart: this one
//! generates the records and loads them into the hub's store; a child process (this binary again,
//! `--hub-phase DIR`) builds the index, searches in-process and then through a node over mutual
//! TLS. Every pass over the queries is preceded by an unmeasured warm-up pass over the same
//! queries, so the in-hub and the remote figures both come from a warm cache.
//!
//! ```text
//! cargo bench -p civreg-hub --bench search_bench                # 200,000 records
//! cargo bench -p civreg-hub --bench search_bench -- --full      # 3,100,000 records
//! cargo bench -p civreg-hub --bench search_bench -- --records 1000000
//! cargo bench -p civreg-hub --bench search_bench -- --write     # also update BENCHMARKS.md
//! cargo bench -p civreg-hub --bench search_bench -- --quick     # small (what `cargo test` runs)
//! cargo bench -p civreg-hub --bench search_bench -- --held-out  # names from public lists
//! cargo bench -p civreg-hub --bench search_bench -- --full --local-only  # no pass via a node
//! cargo bench -p civreg-hub --bench search_bench -- --held-out --records 1000000
//! hub/benches/pg_baseline.sh [--full] [--write]                # the same, plus pg_trgm
//! ```
//!
//! `--dir DIR` keeps the data directory (store, index, exported queries) and, when it already
//! holds a loaded store, reuses it instead of loading again (for iterating on the query side;
//! published figures come from fresh runs). `--pg CONNINFO` runs the pg_trgm baseline against
//! that server; `pg_baseline.sh` starts a throwaway PostgreSQL and passes it.

#[path = "support/mod.rs"]
mod support;

/// The same allocator as the hub binary, so that the hub measured here runs as it does there.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use civreg_hub::pki::{PeerIdentity, Pki};
use civreg_hub::search::{SearchIndex, SearchQuery};
use civreg_hub::store::HubStore;
use civreg_hub::{paths, serve};
use civreg_proto::v1::search_client::SearchClient;
use civreg_proto::v1::SearchRequest;
use civreg_shared::fields;
use civreg_shared::ids::RegNo;
use civreg_shared::model::Record;
use civreg_shared::normalize;
use civreg_shared::op::{ChangeKind, Hash, Hlc, Op, OpId, GENESIS, OP_FORMAT};
use civreg_shared::synth::population::{Population, PopulationConfig};
use civreg_shared::synth::{to_cyrillic, Rng};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

const SEED: u64 = 0x5EA4C4;
/// Children the queries are drawn from.
const SOURCES: usize = 20_000;

fn dir_size(p: &Path) -> u64 {
    std::fs::read_dir(p)
        .map(|rd| {
            rd.flatten()
                .map(|e| {
                    let m = e.metadata().ok();
                    if m.as_ref().is_some_and(|m| m.is_dir()) {
                        dir_size(&e.path())
                    } else {
                        m.map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

/// A line of /proc/self/status in MiB (`VmHWM`: peak resident, `VmRSS`: resident now).
fn proc_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Resets the peak resident size to the current one (Linux `clear_refs` 5).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// A child whose birth record a query is made from.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Source {
    given: String,
    surname: String,
    year: i32,
    /// The father's given name, when the record names a father.
    father: Option<String>,
    regno: String,
    /// The date of birth as written in the record (`1985-03-12`).
    #[serde(default)]
    dob: String,
    /// The municipality code of the place of birth.
    #[serde(default)]
    place: Option<String>,
    /// The mother's given name.
    #[serde(default)]
    mother: Option<String>,
    /// The child's hidden entity number (`Truth::entities`).
    #[serde(default)]
    entity: u64,
    /// Every record in which this child is a principal (the birth, a planted duplicate of it,
    /// a later marriage or death): the records of the same person.
    #[serde(default)]
    same: Vec<String>,
}

/// A spouse whose surname changed at marriage (a double-surname or née query is made from her).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Spouse {
    given: String,
    before: String,
    after: String,
    regno: String,
}

/// Everything the queries are made from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Sources {
    children: Vec<Source>,
    spouses: Vec<Spouse>,
}

/// A seeded uniform sample (reservoir sampling) of at most `SOURCES` items.
struct Reservoir<T> {
    items: Vec<T>,
    seen: u64,
    rng: Rng,
}

impl<T> Reservoir<T> {
    fn new(seed: u64) -> Self {
        Reservoir {
            items: Vec::new(),
            seen: 0,
            rng: Rng::new(seed),
        }
    }

    /// Offers an item, made only when it is kept.
    fn offer(&mut self, make: impl FnOnce() -> T) {
        self.seen += 1;
        if self.items.len() < SOURCES {
            self.items.push(make());
        } else {
            let i = self.rng.below(self.seen) as usize;
            if i < SOURCES {
                self.items[i] = make();
            }
        }
    }
}

/// What the search text of a record is for the pg_trgm baseline: the folded names
/// (`normalize::fold`: Cyrillic to Latin, lowercase, no diacritics) of the record's principals,
/// and of everyone it names (principals first).
fn pg_row(regno: &str, rec: &Record) -> String {
    let (mut principal, mut others) = (Vec::new(), Vec::new());
    let mut year = String::from("\\N");
    for p in rec.people() {
        let parts = [
            Some(p.given_name),
            Some(p.surname),
            p.other_surname,
            p.father_given_name,
        ];
        let folded = parts
            .into_iter()
            .flatten()
            .map(normalize::fold)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if p.principal {
            if let (Some(d), "\\N") = (p.date_of_birth, year.as_str()) {
                year = chrono::Datelike::year(&d).to_string();
            }
            principal.push(folded);
        } else {
            others.push(folded);
        }
    }
    let principal = principal.join(" ");
    let all = if others.is_empty() {
        principal.clone()
    } else {
        format!("{principal} {}", others.join(" "))
    };
    format!("{regno}\t{year}\t{principal}\t{all}\n")
}

/// Names the project did not write (`data/heldout-names.tsv`: public lists, cited in the file's
/// header): with `--held-out`, every name of the synthetic population is replaced by one of
/// them, so that the queries are made from, and the index holds, names the search was not
/// tuned to.
const HELD_OUT: &str = include_str!("data/heldout-names.tsv");

/// The held-out lists by (community, list), and how a synthetic name maps onto them: the same
/// synthetic name always becomes the same held-out name (a person keeps one name across their
/// records; a family keeps its surname), chosen by a hash of the name, from the list of the
/// community the person's surname belongs to (by the bench's own rule, [`is_serbian`]) and, for
/// a given name, of the person's sex.
struct HeldOut {
    lists: BTreeMap<(String, String), Vec<String>>,
}

impl HeldOut {
    fn load() -> HeldOut {
        let mut lists: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
        for line in HELD_OUT.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            let mut cols = line.split('\t');
            let (Some(c), Some(k), Some(n)) = (cols.next(), cols.next(), cols.next()) else {
                panic!("heldout-names.tsv: a line without three columns: {line:?}");
            };
            lists
                .entry((c.to_string(), k.to_string()))
                .or_default()
                .push(n.to_string());
        }
        HeldOut { lists }
    }

    fn pick(&self, community: &str, list: &str, name: &str) -> String {
        let l = &self.lists[&(community.to_string(), list.to_string())];
        // FNV-1a of the folded name and the list: stable across runs and platforms.
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in normalize::fold(name).bytes().chain(list.bytes()) {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        l[(h % l.len() as u64) as usize].clone()
    }

    /// One name field's value (words and hyphenated parts mapped one by one; a name written
    /// in Cyrillic stays in Cyrillic).
    fn map(&self, community: &str, list: &str, value: &str) -> String {
        let cyrillic = value.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c));
        let latin = normalize::cyrillic_to_latin(value);
        let mut out = String::new();
        let mut word = String::new();
        for c in latin.chars().chain(std::iter::once(' ')) {
            if c.is_whitespace() || c == '-' {
                if !word.is_empty() {
                    out.push_str(&self.pick(community, list, &word));
                    word.clear();
                }
                out.push(c);
            } else {
                word.push(c);
            }
        }
        out.pop();
        if cyrillic {
            to_cyrillic(&out)
        } else {
            out
        }
    }

    /// Replaces every name of a synthetic record's document.
    fn apply(&self, doc: &mut serde_json::Value) {
        let Some(obj) = doc.as_object_mut() else {
            return;
        };
        for (role, person) in obj.iter_mut() {
            let Some(p) = person.as_object_mut() else {
                continue;
            };
            let surname = ["surname", "surname_after", "surname_before"]
                .iter()
                .find_map(|k| p.get(*k).and_then(|v| v.as_str()))
                .map(normalize::cyrillic_to_latin)
                .unwrap_or_default();
            let community = if is_serbian(&surname) { "sr" } else { "sq" };
            let female = match p.get("sex").and_then(|v| v.as_str()) {
                Some(s) => s == "female",
                None => role == "mother",
            };
            let given = if female { "given-f" } else { "given-m" };
            for (key, list) in [
                ("given_name", given),
                ("father_given_name", "given-m"),
                ("surname", "surname"),
                ("surname_before", "surname"),
                ("surname_after", "surname"),
                ("maiden_surname", "surname"),
            ] {
                if let Some(v) = p.get(key).and_then(|v| v.as_str()) {
                    // A maiden surname is of the family the woman was born in.
                    let c = if key == "maiden_surname" || key == "surname_before" {
                        if is_serbian(&normalize::cyrillic_to_latin(v)) {
                            "sr"
                        } else {
                            "sq"
                        }
                    } else {
                        community
                    };
                    let new = self.map(c, list, v);
                    p.insert(key.to_string(), serde_json::Value::String(new));
                }
            }
        }
    }
}

/// Loads `n` synthetic records into the store; returns a seeded sample of children and of
/// spouses whose surname changed (with their record). With `pg`, also writes each record's
/// baseline row there.
fn load(
    store: &HubStore,
    n: u64,
    held_out: Option<&HeldOut>,
    mut pg: Option<&mut dyn Write>,
) -> Sources {
    let mut chains: BTreeMap<String, (u64, Hash, Vec<Op>)> = BTreeMap::new();
    // Uniform samples of all children and spouses, so that the sources are not the first
    // records loaded: both engines break ties by load order.
    let mut children = Reservoir::new(0x50_0ACE);
    let mut spouses = Reservoir::new(0x5B_0B5E);
    // Entity → every record in which it is a principal, for the children ever kept in the
    // sample (a child's first record is its birth, so later ones are caught as they come).
    let mut persons: std::collections::HashMap<u64, Vec<String>> = std::collections::HashMap::new();
    let flush = |m: &str, ops: Vec<Op>| {
        let who = PeerIdentity::Node {
            municipality: m.into(),
            node_id: "1".into(),
        };
        let r = store.ingest(vec![(who, ops)]).expect("ingest");
        assert!(r[0].is_ok(), "{:?}", r[0]);
    };
    let latin = |v: &serde_json::Value, k: &str| -> String {
        normalize::cyrillic_to_latin(v[k].as_str().unwrap_or(""))
    };
    for mut r in Population::new(PopulationConfig::new(SEED, n)) {
        if let Some(h) = held_out {
            h.apply(&mut r.doc);
        }
        let Ok(rec) = r.record() else { continue };
        let m = rec.municipality().to_string();
        let e = chains.entry(m.clone()).or_insert((0, GENESIS, Vec::new()));
        e.0 += 1;
        let regno = RegNo::mint(&m, 2026, r.kind, "1", e.0).to_string();
        for role in ["child", "deceased", "spouse1", "spouse2"] {
            if let Some(records) = r.truth.entities.get(role).and_then(|e| persons.get_mut(e)) {
                records.push(regno.clone());
            }
        }
        if let Some(child) = r.doc.get("child") {
            let entity = r.truth.entities.get("child").copied().unwrap_or_default();
            let persons = &mut persons;
            children.offer(|| {
                persons.entry(entity).or_insert_with(|| vec![regno.clone()]);
                Source {
                    given: latin(child, "given_name"),
                    surname: latin(child, "surname"),
                    year: child["date_of_birth"]
                        .as_str()
                        .and_then(|d| d.get(..4))
                        .and_then(|y| y.parse().ok())
                        .unwrap_or(0),
                    father: r
                        .doc
                        .get("father")
                        .map(|f| latin(f, "given_name"))
                        .filter(|f| !f.is_empty()),
                    regno: regno.clone(),
                    dob: child["date_of_birth"].as_str().unwrap_or("").to_string(),
                    place: r.doc["place_of_birth"]
                        .as_str()
                        .and_then(civreg_shared::gazetteer::resolve)
                        .map(|m| m.code.to_string()),
                    mother: r
                        .doc
                        .get("mother")
                        .map(|f| latin(f, "given_name"))
                        .filter(|f| !f.is_empty()),
                    entity,
                    same: Vec::new(),
                }
            });
        }
        for role in ["spouse1", "spouse2"] {
            if let Some(sp) = r.doc.get(role) {
                let (before, after) = (latin(sp, "surname_before"), latin(sp, "surname_after"));
                if normalize::fold(&before) != normalize::fold(&after) {
                    spouses.offer(|| Spouse {
                        given: latin(sp, "given_name"),
                        before,
                        after,
                        regno: regno.clone(),
                    });
                }
            }
        }
        if let Some(w) = pg.as_mut() {
            w.write_all(pg_row(&regno, &rec).as_bytes())
                .expect("write baseline rows");
        }
        let op = Op {
            format: OP_FORMAT,
            id: OpId {
                municipality: m.clone(),
                node_id: "1".into(),
                seq: e.0,
            },
            hlc: Hlc {
                wall_ms: 1_790_000_000_000 + e.0,
                logical: 0,
            },
            clerk: "bench".into(),
            record_id: regno,
            record_kind: r.kind,
            change: ChangeKind::Create,
            changes: fields::flatten(&rec.to_json())
                .expect("fields")
                .into_iter()
                .map(|(path, value)| fields::FieldChange { path, value })
                .collect(),
            base: vec![],
            reason: String::new(),
            prev_hash: e.1,
            hash: Hash::default(),
        }
        .seal();
        e.1 = op.hash;
        e.2.push(op);
        if e.2.len() == 1_000 {
            let ops = std::mem::take(&mut e.2);
            flush(&m, ops);
        }
    }
    for (m, (_, _, ops)) in chains {
        if !ops.is_empty() {
            flush(&m, ops);
        }
    }
    let mut children = children.items;
    for c in &mut children {
        c.same = persons.get(&c.entity).cloned().unwrap_or_default();
    }
    Sources {
        children,
        spouses: spouses.items,
    }
}

/// One benchmark query: its class, its text, and the record it was made from (for a place-only
/// query, `place:` and the municipality codes the place covers).
#[derive(Debug, Clone, Serialize, Deserialize)]
struct BenchQuery {
    class: String,
    text: String,
    source: String,
    /// The other records of the source's person (a child's later marriage or death, a planted
    /// duplicate): *top-1 by person* counts a first hit among them.
    #[serde(default)]
    same: Vec<String>,
}

/// Whether a name is written the Serbian way (the bench's own rule, not the index's).
fn is_serbian(name: &str) -> bool {
    name.chars().any(|c| "ćčšžđĆČŠŽĐ".contains(c)) || name.ends_with("ić")
}

/// Rewrites a name letter by letter with `table` (longest spelling first), keeping an initial
/// capital. The bench's own tables (written from the two orthographies, not from
/// `civreg_shared::normalize`), so that the index is not tested against itself.
fn respell(name: &str, table: &[(&str, &str)]) -> String {
    let lower = name.to_lowercase();
    let mut out = String::new();
    let mut rest = lower.as_str();
    while let Some(c) = rest.chars().next() {
        match table.iter().find(|(from, _)| rest.starts_with(from)) {
            Some((from, to)) => {
                out.push_str(to);
                rest = &rest[from.len()..];
            }
            None => {
                out.push(c);
                rest = &rest[c.len_utf8()..];
            }
        }
    }
    let mut cs = out.chars();
    match cs.next() {
        Some(f) if name.chars().next().is_some_and(char::is_uppercase) => {
            f.to_uppercase().chain(cs).collect()
        }
        _ => out,
    }
}

/// An Albanian name as a Yugoslav-era Serbian register writes it.
fn albanian_to_serbian(name: &str) -> String {
    const T: &[(&str, &str)] = &[
        ("gj", "đ"),
        ("xh", "dž"),
        ("sh", "š"),
        ("zh", "ž"),
        ("dh", "d"),
        ("th", "t"),
        ("ll", "l"),
        ("rr", "r"),
        ("q", "ć"),
        ("ç", "č"),
        ("ë", "e"),
        ("y", "i"),
        ("x", "dz"),
    ];
    respell(name, T)
}

/// A Serbian name as an Albanian clerk writes it.
fn serbian_to_albanian(name: &str) -> String {
    const T: &[(&str, &str)] = &[
        ("dž", "xh"),
        ("ć", "q"),
        ("č", "ç"),
        ("đ", "gj"),
        ("š", "sh"),
        ("ž", "zh"),
    ];
    respell(name, T)
}

/// Real given names from outside the region, in no synthetic register: a word of a query that
/// matches nothing.
const FOREIGN: &[&str] = &[
    "Siobhan",
    "Giedre",
    "Thorvald",
    "Kazimierz",
    "Yevgenia",
    "Oluwaseun",
    "Saoirse",
    "Radomila",
    "Hrafnhildur",
    "Tadeusz",
];

/// Place names a clerk types alone: every official name, the Albanian definite form, and
/// colloquial names; with the municipality codes each covers.
fn place_names() -> Vec<(String, String)> {
    let mut out = Vec::new();
    for m in civreg_shared::gazetteer::all() {
        let definite = m.name_sq.strip_suffix('ë').map(|s| format!("{s}a"));
        for n in [m.name_sq, m.name_sr_latn, m.name_sr_cyrl]
            .into_iter()
            .map(str::to_string)
            .chain(definite)
        {
            out.push((n, m.code.to_string()));
        }
    }
    for (n, codes) in [
        ("Ђакова", "gjakove"),
        ("Đakova", "gjakove"),
        ("Kosovska Mitrovica", "mitrovice-jugut,mitrovice-veriut"),
        ("Косовска Митровица", "mitrovice-jugut,mitrovice-veriut"),
    ] {
        out.push((n.to_string(), codes.to_string()));
    }
    out
}

/// The query classes, in table order.
const CLASSES: &[&str] = &[
    "exact",
    "typo",
    "Cyrillic",
    "Albanian name, Serbian orthography, Latin",
    "Albanian name, Serbian orthography, Cyrillic",
    "Serbian name, Albanian orthography",
    "with father's name",
    "double surname",
    "née",
    "partial (a word in no record)",
    "place only",
    "full date of birth",
    "with year and place of birth",
    "with mother's given name",
];

fn queries(src: &Sources, per_class: usize) -> Vec<BenchQuery> {
    let mut rng = Rng::new(0x9E11);
    let mut out = Vec::new();
    let kids = &src.children;
    let places = place_names();
    // A random child for which `ok` holds (bounded tries; none when the sample has no such).
    let pick = |rng: &mut Rng, ok: &dyn Fn(&Source) -> bool| -> Option<Source> {
        (0..500)
            .map(|_| &kids[rng.below(kids.len() as u64) as usize])
            .find(|s| ok(s))
            .cloned()
    };
    for _ in 0..per_class {
        let mut push = |class: &str, text: String, source: &str| {
            let same = kids
                .iter()
                .find(|k| k.regno == source)
                .map(|k| k.same.clone())
                .unwrap_or_default();
            out.push(BenchQuery {
                class: class.into(),
                text,
                source: source.into(),
                same,
            })
        };
        if let Some(c) = pick(&mut rng, &|_| true) {
            push(
                "exact",
                format!("{} {} {}", c.given, c.surname, c.year),
                &c.regno,
            );
        }
        if let Some(c) = pick(&mut rng, &|s| s.surname.chars().count() > 3) {
            let chars: Vec<char> = c.surname.chars().collect();
            let drop = 1 + rng.below(chars.len() as u64 - 2) as usize;
            let typo: String = chars
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != drop)
                .map(|(_, c)| c)
                .collect();
            push("typo", format!("{} {typo} {}", c.given, c.year), &c.regno);
        }
        if let Some(c) = pick(&mut rng, &|s| is_serbian(&s.surname)) {
            let name = to_cyrillic(&format!("{} {}", c.given, c.surname));
            push("Cyrillic", format!("{name} {}", c.year), &c.regno);
        }
        let albanian =
            |s: &Source| !is_serbian(&s.surname) && albanian_to_serbian(&s.surname) != s.surname;
        if let Some(c) = pick(&mut rng, &albanian) {
            let name = format!(
                "{} {}",
                albanian_to_serbian(&c.given),
                albanian_to_serbian(&c.surname)
            );
            push(CLASSES[3], format!("{name} {}", c.year), &c.regno);
        }
        if let Some(c) = pick(&mut rng, &albanian) {
            let name = to_cyrillic(&format!(
                "{} {}",
                albanian_to_serbian(&c.given),
                albanian_to_serbian(&c.surname)
            ));
            push(CLASSES[4], format!("{name} {}", c.year), &c.regno);
        }
        if let Some(c) = pick(&mut rng, &|s| {
            is_serbian(&s.surname) && serbian_to_albanian(&s.surname) != s.surname
        }) {
            let name = format!(
                "{} {}",
                serbian_to_albanian(&c.given),
                serbian_to_albanian(&c.surname)
            );
            push(CLASSES[5], format!("{name} {}", c.year), &c.regno);
        }
        if let Some(c) = pick(&mut rng, &|s| s.father.is_some()) {
            let father = c.father.clone().unwrap_or_default();
            push(
                CLASSES[6],
                format!("{} {father} {}", c.given, c.surname),
                &c.regno,
            );
        }
        if !src.spouses.is_empty() {
            let s = &src.spouses[rng.below(src.spouses.len() as u64) as usize];
            push(
                CLASSES[7],
                format!("{} {}-{}", s.given, s.before, s.after),
                &s.regno,
            );
            let s = &src.spouses[rng.below(src.spouses.len() as u64) as usize];
            let nee = if is_serbian(&s.after) {
                "rođena"
            } else {
                "e lindur"
            };
            push(
                CLASSES[8],
                format!("{} {} {nee} {}", s.given, s.after, s.before),
                &s.regno,
            );
        }
        if let Some(c) = pick(&mut rng, &|_| true) {
            let foreign = FOREIGN[rng.below(FOREIGN.len() as u64) as usize];
            push(
                CLASSES[9],
                format!("{} {foreign} {} {}", c.given, c.surname, c.year),
                &c.regno,
            );
        }
        let (name, codes) = &places[rng.below(places.len() as u64) as usize];
        push(CLASSES[10], name.clone(), &format!("place:{codes}"));
    }
    // Namesakes told apart by a further fact, typed the way clerks type it (a generator of
    // their own, so that the classes above keep their queries).
    let mut rng = Rng::new(0xFAC7);
    let person = |c: &Source, class: &str, text: String| BenchQuery {
        class: class.into(),
        text,
        source: c.regno.clone(),
        same: c.same.clone(),
    };
    for _ in 0..per_class {
        if let Some(c) = pick(&mut rng, &|s| s.dob.len() == 10) {
            // `1985-03-12` as `12.03.1985`.
            let d: Vec<&str> = c.dob.split('-').collect();
            let text = format!("{} {} {}.{}.{}", c.given, c.surname, d[2], d[1], d[0]);
            out.push(person(&c, CLASSES[11], text));
        }
        if let Some(c) = pick(&mut rng, &|s| s.place.is_some()) {
            // The place by one of its official names (or the Albanian definite form).
            let code = c.place.clone().unwrap_or_default();
            let names: Vec<&String> = places
                .iter()
                .filter(|(_, codes)| *codes == code)
                .map(|(n, _)| n)
                .collect();
            let place = names[rng.below(names.len() as u64) as usize];
            let text = format!("{} {} {} {place}", c.given, c.surname, c.year);
            out.push(person(&c, CLASSES[12], text));
        }
        if let Some(c) = pick(&mut rng, &|s| s.mother.is_some()) {
            let mother = c.mother.clone().unwrap_or_default();
            let label = if is_serbian(&c.surname) {
                "majka"
            } else {
                "nëna"
            };
            let text = format!("{} {} {label} {mother}", c.given, c.surname);
            out.push(person(&c, CLASSES[13], text));
        }
    }
    out
}

/// Whether the answer has the record a query was made from first (`.0`) and among its first ten
/// (`.1`); for a place-only query, whether its first hit is of that place, and whether all of its
/// first ten are.
fn judge(bq: &BenchQuery, hits: &[(String, String, Option<String>)]) -> (bool, bool) {
    if let Some(codes) = bq.source.strip_prefix("place:") {
        let of_place = |h: &(String, String, Option<String>)| {
            codes.split(',').any(|c| {
                h.1 == c
                    || h.2
                        .as_deref()
                        .and_then(civreg_shared::gazetteer::resolve)
                        .is_some_and(|m| m.code == c)
            })
        };
        let first = hits.first().is_some_and(of_place);
        let ten = !hits.is_empty() && hits.iter().take(10).all(of_place);
        return (first, ten);
    }
    (
        hits.first().is_some_and(|h| h.0 == bq.source),
        hits.iter().take(10).any(|h| h.0 == bq.source),
    )
}

/// Latency and quality of one pass, per class.
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Pass {
    /// class → latencies in ms
    ms: BTreeMap<String, Vec<f64>>,
    /// class → (source record in the first 20, at least one hit)
    found: BTreeMap<String, (usize, usize)>,
    /// class → (source record first, source record in the first 10)
    #[serde(default)]
    top: BTreeMap<String, (usize, usize)>,
    /// class → source record first or tied with the first at the same score
    #[serde(default)]
    tied: BTreeMap<String, usize>,
    /// class → the first hit is a record of the source's person (the source itself, a planted
    /// duplicate of it, the same child's later marriage or death)
    #[serde(default)]
    person: BTreeMap<String, usize>,
}

impl Pass {
    fn add(&mut self, class: &str, ms: f64, source_found: bool, any: bool) {
        self.ms.entry(class.into()).or_default().push(ms);
        let f = self.found.entry(class.into()).or_default();
        f.0 += usize::from(source_found);
        f.1 += usize::from(any);
    }
    fn judged(&mut self, class: &str, (first, ten): (bool, bool)) {
        let t = self.top.entry(class.into()).or_default();
        t.0 += usize::from(first);
        t.1 += usize::from(ten);
    }
    fn all(&self) -> (f64, f64) {
        let mut v: Vec<f64> = self.ms.values().flatten().copied().collect();
        (percentile(&mut v, 0.5), percentile(&mut v, 0.99))
    }
    fn total(&self) -> usize {
        self.ms.values().map(Vec::len).sum()
    }
    fn recall(&self) -> usize {
        self.found.values().map(|f| f.0).sum()
    }
    fn any(&self) -> usize {
        self.found.values().map(|f| f.1).sum()
    }
    fn top1(&self) -> usize {
        self.top.values().map(|f| f.0).sum()
    }
    /// One table row per class: median, p99, found.
    fn class_rows(&self, name: &str) -> String {
        let mut rows = String::new();
        for (class, v) in &self.ms {
            let mut v = v.clone();
            let (a, b) = (percentile(&mut v, 0.5), percentile(&mut v, 0.99));
            let (r, _) = self.found[class];
            rows.push_str(&format!(
                "| {name}: {class} ({} queries) | {a:.2} ms | {b:.2} ms | {r} of {} |\n",
                v.len(),
                v.len()
            ));
        }
        rows
    }
}

/// The quality table: per class, top-1 and found in the first 10, after (and before) the change,
/// with the latency after.
fn quality_rows(after: &Pass, before: Option<&Pass>) -> String {
    let mut rows = String::new();
    let frac = |n: usize, of: usize| {
        if of == 0 {
            "–".to_string()
        } else {
            format!("{:.3}", n as f64 / of as f64)
        }
    };
    let mut classes: Vec<&str> = CLASSES.to_vec();
    for c in after.ms.keys() {
        if !classes.contains(&c.as_str()) {
            classes.push(c);
        }
    }
    for class in classes {
        let Some(ms) = after.ms.get(class) else {
            continue;
        };
        let n = ms.len();
        let mut ms = ms.clone();
        let (a, b) = (percentile(&mut ms, 0.5), percentile(&mut ms, 0.99));
        let (t1, t10) = after.top.get(class).copied().unwrap_or_default();
        let (b1, b10) = before
            .and_then(|p| p.top.get(class).copied())
            .map_or(("–".into(), "–".into()), |(x, y)| {
                (frac(x, n), frac(y, n))
            });
        let tied = after
            .tied
            .get(class)
            .map_or("–".to_string(), |&t| frac(t, n));
        let person = after
            .person
            .get(class)
            .map_or("–".to_string(), |&t| frac(t, n));
        let ok = if t1 as f64 >= 0.99 * n as f64 {
            "✅"
        } else {
            "❌"
        };
        rows.push_str(&format!(
            "| {class} ({n}) | {b1} | **{}** {ok} | {person} | {tied} | {b10} | {} | {a:.2} ms | {b:.2} ms |\n",
            frac(t1, n),
            frac(t10, n)
        ));
    }
    rows
}

/// `--side-by-side BEFORE --and AFTER`: two hub phases' results (`bench-hub-result.json` of two
/// bench binaries run with `--hub-phase DIR` on one store and one query file, copied aside
/// after each run), per class, before → after: strict top-1, top-1 by person, first or tied,
/// top-10, found in the first 20, median, p99. A result of a bench that did not count by
/// person shows "–" there.
fn side_by_side(before: &Path, after: &Path) -> String {
    let read = |p: &Path| -> HubResult {
        serde_json::from_str(&std::fs::read_to_string(p).expect("a hub result file"))
            .expect("hub result parse")
    };
    let (b, a) = (read(before), read(after));
    let mut out = String::from(
        "| query class | strict top-1 | top-1 by person | first or tied | top-10 | found in first 20 | median | p99 |\n|---|---|---|---|---|---|---|---|\n",
    );
    let frac = |n: Option<usize>, of: usize| match n {
        Some(n) if of > 0 => format!("{:.3}", n as f64 / of as f64),
        _ => "–".into(),
    };
    let mut classes: Vec<&str> = CLASSES.to_vec();
    for c in a.local.ms.keys().chain(b.local.ms.keys()) {
        if !classes.contains(&c.as_str()) {
            classes.push(c);
        }
    }
    let cell = |p: &Pass, class: &str| -> Option<[String; 7]> {
        let ms = p.ms.get(class)?;
        let n = ms.len();
        let mut ms = ms.clone();
        let (m50, m99) = (percentile(&mut ms, 0.5), percentile(&mut ms, 0.99));
        let (t1, t10) = p.top.get(class).copied().unwrap_or_default();
        Some([
            frac(Some(t1), n),
            frac(p.person.get(class).copied(), n),
            frac(p.tied.get(class).copied(), n),
            frac(Some(t10), n),
            format!("{}", p.found.get(class).map_or(0, |f| f.0)),
            format!("{m50:.2}"),
            format!("{m99:.2} ms"),
        ])
    };
    let mut totals = (0usize, 0usize, 0usize, 0usize);
    for class in classes {
        let (Some(x), Some(y)) = (cell(&b.local, class), cell(&a.local, class)) else {
            continue;
        };
        let n = a.local.ms[class].len();
        out.push_str(&format!("| {class} ({n}) |"));
        for (x, y) in x.iter().zip(y.iter()) {
            out.push_str(&format!(" {x} → {y} |"));
        }
        out.push('\n');
        totals.0 += b.local.top.get(class).map_or(0, |t| t.0);
        totals.1 += a.local.top.get(class).map_or(0, |t| t.0);
        totals.2 += b.local.found.get(class).map_or(0, |f| f.0);
        totals.3 += a.local.found.get(class).map_or(0, |f| f.0);
    }
    let ((b50, b99), (a50, a99)) = (b.local.all(), a.local.all());
    out.push_str(&format!(
        "| **all** ({}) | {} → {} | | | | {} → {} | {b50:.2} → {a50:.2} | {b99:.2} → {a99:.2} ms |\n",
        a.local.total(),
        totals.0,
        totals.1,
        totals.2,
        totals.3
    ));
    out
}

/// What the hub phase (the child process) measured.
#[derive(Debug, Serialize, Deserialize)]
struct HubResult {
    commit_s: f64,
    committed_segments: usize,
    build_s: f64,
    reindexed: usize,
    docs: u64,
    index_bytes: u64,
    segments: usize,
    build_peak_mib: f64,
    search_start_mib: f64,
    search_peak_mib: f64,
    local: Pass,
    remote: Pass,
    slowest: Vec<(f64, String, String)>,
}

fn read_queries(dir: &Path) -> Vec<BenchQuery> {
    let text = std::fs::read_to_string(dir.join("bench-queries.json")).expect("queries file");
    serde_json::from_str(&text).expect("queries parse")
}

/// A warm-up pass over the queries, then a measured one.
fn run_pass(
    index: &SearchIndex,
    qs: &[BenchQuery],
    slowest: &mut Vec<(f64, String, String)>,
) -> Pass {
    let mut pass = Pass::default();
    for measured in [false, true] {
        for bq in qs {
            let q = SearchQuery {
                text: bq.text.clone(),
                limit: 20,
                ..Default::default()
            };
            let t = Instant::now();
            let r = index.search(&q).expect("search");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if measured {
                let hits: Vec<(String, String, Option<String>)> = r
                    .hits
                    .iter()
                    .map(|h| {
                        (
                            h.regno.clone(),
                            h.municipality.clone(),
                            h.summary.place_of_birth.clone(),
                        )
                    })
                    .collect();
                let hit = r.hits.iter().any(|h| h.regno == bq.source);
                pass.add(&bq.class, ms, hit, !r.hits.is_empty());
                let judged = judge(bq, &hits);
                // `CIVREG_BENCH_MISSES=1`: each top-1 miss, with the first hit and the source's
                // place, for reading why.
                if !judged.0 && std::env::var_os("CIVREG_BENCH_MISSES").is_some() {
                    let pos = r.hits.iter().position(|h| h.regno == bq.source);
                    let show = |h: &civreg_hub::search::Hit| {
                        format!(
                            "{} {:.2} {:?} {:?}",
                            h.regno, h.score, h.summary.people, h.why
                        )
                    };
                    eprintln!(
                        "miss [{}] {:?}: first {}; source at {:?}: {}",
                        bq.class,
                        bq.text,
                        r.hits.first().map(show).unwrap_or_default(),
                        pos,
                        pos.map(|p| show(&r.hits[p])).unwrap_or_default()
                    );
                }
                pass.judged(&bq.class, judged);
                // The source is first, or has the first hit's score: the query cannot tell them
                // apart (another record of the same person, or a namesake with the same facts).
                let tied = judged.0
                    || r.hits.iter().any(|h| {
                        h.regno == bq.source && r.hits.first().is_some_and(|f| f.score == h.score)
                    });
                // `CIVREG_BENCH_MISSES=real`: each query whose source is neither first nor tied,
                // looked for deeper (up to the first 1,000 results), for sorting the misses.
                if !tied
                    && !bq.source.starts_with("place:")
                    && std::env::var_os("CIVREG_BENCH_MISSES").is_some_and(|v| v == "real")
                {
                    eprintln!("{}", deep_miss(index, bq, &r));
                }
                *pass.tied.entry(bq.class.clone()).or_default() += usize::from(tied);
                let person = judged.0 || r.hits.first().is_some_and(|f| bq.same.contains(&f.regno));
                *pass.person.entry(bq.class.clone()).or_default() += usize::from(person);
                slowest.push((ms, bq.class.clone(), bq.text.clone()));
            }
        }
    }
    pass
}

/// A miss looked for in the first 1,000 results: where the source is, its score against the
/// first hit's, how many results share the first hit's score, and both hits explained.
fn deep_miss(index: &SearchIndex, bq: &BenchQuery, page: &civreg_hub::search::Results) -> String {
    let show = |h: &civreg_hub::search::Hit| {
        format!(
            "{} {} {:.3} {:?} {:?}",
            h.regno, h.kind, h.score, h.summary.people, h.why
        )
    };
    let first = page.hits.first();
    let top = first.map_or(f32::NAN, |h| h.score);
    let (mut at, mut same_as_first, mut found) = (None, 0usize, None);
    'pages: for offset in (0..1_000).step_by(100) {
        let r = index
            .search(&SearchQuery {
                text: bq.text.clone(),
                limit: 100,
                offset,
                ..Default::default()
            })
            .expect("search");
        for (i, h) in r.hits.iter().enumerate() {
            same_as_first += usize::from(h.score == top);
            if h.regno == bq.source {
                at = Some(offset + i);
                found = Some(show(h));
                break 'pages;
            }
        }
        if r.hits.len() < 100 {
            break;
        }
    }
    let verdict = match (&at, first) {
        (None, _) => "not in the first 1000",
        (Some(_), Some(f)) if bq.same.contains(&f.regno) => "first hit is the same person",
        (Some(p), _) if *p >= 20 && found.is_some() => "below the page",
        _ => "ranked below the first",
    };
    format!(
        "real miss [{}] {:?}: {verdict}; source at {at:?}, {same_as_first} results with the first's score {top:.3}\n  first: {}\n  source: {}",
        bq.class,
        bq.text,
        first.map(show).unwrap_or_default(),
        found.unwrap_or_default()
    )
}

/// The child process: index build, then searches in the hub and (unless `local_only`) through a
/// node.
fn hub_phase(dir: &Path, local_only: bool) {
    let qs = read_queries(dir);
    reset_peak();
    let store = HubStore::open(
        &paths::db_dir(dir),
        civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(dir))
            .expect("the hub's key file"),
    )
    .expect("store");
    let t = Instant::now();
    let index = SearchIndex::open(dir).expect("index");
    let reindexed = index.catch_up(&store).expect("index build");
    let commit_s = t.elapsed().as_secs_f64();
    let committed_segments = index.segments();
    if std::env::var_os("CIVREG_BENCH_PREMERGE").is_some() {
        let pass = run_pass(&index, &qs, &mut Vec::new());
        let (a, b) = pass.all();
        eprintln!(
            "before merges ({committed_segments} segments): median {a:.2} ms, p99 {b:.2} ms, found {}",
            pass.recall()
        );
    }
    // What a running hub reaches once the merges that follow a large catch-up are done.
    index.wait_merges().expect("merges");
    let build_s = t.elapsed().as_secs_f64();
    let build_peak_mib = proc_mib("VmHWM:");
    let index = SearchIndex::open(dir).expect("index");
    // A reused index (`--dir`) reports the figures of the run that built it.
    let build_file = dir.join("bench-build.json");
    let (commit_s, committed_segments, build_s, build_peak_mib) = if reindexed > 0 {
        let v = (commit_s, committed_segments, build_s, build_peak_mib);
        std::fs::write(&build_file, serde_json::to_string(&v).expect("build")).expect("build file");
        v
    } else {
        eprintln!("reusing the index built earlier in {}", dir.display());
        serde_json::from_str(&std::fs::read_to_string(&build_file).expect("build file"))
            .expect("build file parse")
    };
    let docs = index.len();
    let index_bytes = dir_size(&civreg_hub::search::index_dir(dir));
    let segments = index.segments();

    reset_peak();
    let search_start_mib = proc_mib("VmRSS:");
    let mut slowest = Vec::new();
    let local = run_pass(&index, &qs, &mut slowest);
    let search_peak_mib = proc_mib("VmHWM:");
    slowest.sort_by(|a, b| b.0.total_cmp(&a.0));
    slowest.truncate(15);
    drop(index);
    drop(store);

    // The same queries from a node over mutual TLS.
    let remote = if local_only {
        Pass::default()
    } else {
        remote_pass(dir, &qs)
    };
    let out = HubResult {
        commit_s,
        committed_segments,
        build_s,
        reindexed,
        docs,
        index_bytes,
        segments,
        build_peak_mib,
        search_start_mib,
        search_peak_mib,
        local,
        remote,
        slowest,
    };
    std::fs::write(
        dir.join("bench-hub-result.json"),
        serde_json::to_string(&out).expect("result serialises"),
    )
    .expect("write result");
}

/// The queries from a node over mutual TLS, to a hub serving on loopback.
fn remote_pass(dir: &Path, qs: &[BenchQuery]) -> Pass {
    let pki = Pki::open(&paths::pki_dir(dir)).expect("pki");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = l.local_addr().expect("addr").port();
        let (stop, rx) = tokio::sync::oneshot::channel::<()>();
        let data = dir.to_path_buf();
        let hub = tokio::spawn(async move {
            serve::run(&data, l, async {
                let _ = rx.await;
            })
            .await
        });
        let issued = pki.issue_node("prishtine", "1", 30).expect("issue");
        let tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(pki.ca_pem()))
            .identity(Identity::from_pem(&issued.cert_pem, &issued.key_pem))
            .domain_name("localhost");
        let mut ch = None;
        for _ in 0..600 {
            let ep = Endpoint::from_shared(format!("https://localhost:{port}"))
                .expect("url")
                .tls_config(tls.clone())
                .expect("tls");
            if let Ok(c) = ep.connect().await {
                ch = Some(c);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let mut client = SearchClient::new(ch.expect("connect to the hub"));
        let mut pass = Pass::default();
        for measured in [false, true] {
            for bq in qs {
                let t = Instant::now();
                let r = client
                    .search(SearchRequest {
                        text: bq.text.clone(),
                        limit: 20,
                        clerk: "bench".into(),
                        ..Default::default()
                    })
                    .await
                    .expect("remote search")
                    .into_inner();
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                if measured {
                    let hit = r.hits.iter().any(|h| h.regno == bq.source);
                    pass.add(&bq.class, ms, hit, !r.hits.is_empty());
                }
            }
        }
        let _ = stop.send(());
        let _ = hub.await;
        pass
    })
}

/// What the pg_trgm baseline measured.
struct PgResult {
    version: String,
    load_s: f64,
    index_s: f64,
    table_bytes: i64,
    index_bytes: i64,
    pass: Pass,
}

/// The name text and the year of a query, parsed the way the hub parses it (a 4-digit token is a
/// year; every other token is folded by `normalize::tokens`).
fn pg_query(text: &str) -> (String, Option<i32>) {
    let mut names = Vec::new();
    let mut year = None;
    for raw in text.split_whitespace() {
        if raw.len() == 4 && raw.chars().all(|c| c.is_ascii_digit()) {
            year = raw.parse().ok();
        } else {
            names.extend(normalize::tokens(raw));
        }
    }
    (names.join(" "), year)
}

fn pg_phase(conninfo: &str, dir: &Path, qs: &[BenchQuery]) -> PgResult {
    let mut c =
        postgres::Client::connect(conninfo, postgres::NoTls).expect("connect to PostgreSQL");
    let version: String = c
        .query_one("SHOW server_version", &[])
        .expect("version")
        .get(0);
    c.batch_execute(
        "CREATE EXTENSION IF NOT EXISTS pg_trgm;
         DROP TABLE IF EXISTS rec;
         CREATE UNLOGGED TABLE rec (regno text PRIMARY KEY, year int, principal text NOT NULL, names text NOT NULL);",
    )
    .expect("create table");
    let t = Instant::now();
    {
        let mut w = c
            .copy_in("COPY rec (regno, year, principal, names) FROM STDIN")
            .expect("copy");
        let f = std::fs::File::open(dir.join("bench-pg-rows.tsv")).expect("baseline rows");
        let mut r = std::io::BufReader::with_capacity(1 << 20, f);
        std::io::copy(&mut r, &mut w).expect("copy rows");
        w.finish().expect("copy finish");
    }
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    c.batch_execute(
        "SET maintenance_work_mem = '1GB';
         CREATE INDEX rec_names_trgm ON rec USING gin (names gin_trgm_ops);
         CREATE INDEX rec_year ON rec (year);",
    )
    .expect("create indexes");
    c.batch_execute("VACUUM ANALYZE rec").expect("analyze");
    let index_s = t.elapsed().as_secs_f64();
    let table_bytes: i64 = c
        .query_one("SELECT pg_table_size('rec')", &[])
        .expect("size")
        .get(0);
    let index_bytes: i64 = c
        .query_one("SELECT pg_indexes_size('rec')", &[])
        .expect("size")
        .get(0);
    // word_similarity: the query against the best-matching stretch of the record's names, so a
    // two-word query is not diluted by the parents' names; `<%` (threshold 0.6, the default)
    // uses the trigram index. Principals rank first, as in the hub.
    let by_name = c
        .prepare(
            "SELECT regno FROM rec WHERE $1 <% names
             ORDER BY word_similarity($1, principal) + word_similarity($1, names) DESC LIMIT 20",
        )
        .expect("prepare");
    let by_name_year = c
        .prepare(
            "SELECT regno FROM rec WHERE $1 <% names AND year = $2
             ORDER BY word_similarity($1, principal) + word_similarity($1, names) DESC LIMIT 20",
        )
        .expect("prepare");
    let mut pass = Pass::default();
    // The warm-up pass covers the first 200 queries only: over millions of rows the slowest
    // baseline queries take seconds each.
    for measured in [false, true] {
        for bq in qs.iter().take(if measured { usize::MAX } else { 200 }) {
            let (names, year) = pg_query(&bq.text);
            let t = Instant::now();
            let rows = match year {
                Some(y) => c.query(&by_name_year, &[&names, &y]),
                None => c.query(&by_name, &[&names]),
            }
            .expect("baseline query");
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            if measured {
                let hit = rows.iter().any(|r| r.get::<_, String>(0) == bq.source);
                pass.add(&bq.class, ms, hit, !rows.is_empty());
            }
        }
    }
    PgResult {
        version,
        load_s,
        index_s,
        table_bytes,
        index_bytes,
        pass,
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(dir) = value("--hub-phase") {
        hub_phase(Path::new(&dir), args.iter().any(|a| a == "--local-only"));
        return;
    }
    if let (Some(before), Some(after)) = (value("--side-by-side"), value("--and")) {
        println!("{}", side_by_side(Path::new(&before), Path::new(&after)));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick") || !args.iter().any(|a| a == "--bench");
    let full = args.iter().any(|a| a == "--full");
    let write = args.iter().any(|a| a == "--write");
    let held_out = args.iter().any(|a| a == "--held-out").then(HeldOut::load);
    let pg = value("--pg");
    let n: u64 = if let Some(n) = value("--records") {
        n.parse().expect("--records N")
    } else if quick {
        5_000
    } else if full {
        3_100_000
    } else {
        200_000
    };
    let per_class = if quick { 25 } else { 250 };

    let tmp = tempfile::tempdir().expect("tempdir");
    let dir: PathBuf = value("--dir").map_or_else(|| tmp.path().to_path_buf(), PathBuf::from);
    std::fs::create_dir_all(&dir).expect("data dir");
    let names_file = dir.join("bench-sources.json");
    let pg_rows = dir.join("bench-pg-rows.tsv");
    let (names, load_s, load_peak_mib) = match std::fs::read_to_string(&names_file) {
        Ok(text) if pg.is_none() || pg_rows.exists() => {
            eprintln!("reusing the store loaded in {}", dir.display());
            let v: (Sources, f64, f64, u64) = serde_json::from_str(&text).expect("sources parse");
            assert_eq!(v.3, n, "{} was loaded with another size", dir.display());
            (v.0, v.1, v.2)
        }
        _ => {
            Pki::init(&paths::pki_dir(&dir), &[]).expect("pki");
            civreg_hub::atrest::create_key(&civreg_hub::atrest::default_key_path(&dir))
                .expect("key");
            let store = HubStore::open(
                &paths::db_dir(&dir),
                civreg_hub::atrest::load_key(&civreg_hub::atrest::default_key_path(&dir))
                    .expect("the hub's key file"),
            )
            .expect("store");
            let mut rows = pg.as_ref().map(|_| {
                std::io::BufWriter::new(std::fs::File::create(&pg_rows).expect("rows file"))
            });
            let t = Instant::now();
            let names = load(
                &store,
                n,
                held_out.as_ref(),
                rows.as_mut().map(|w| w as &mut dyn Write),
            );
            if let Some(mut w) = rows {
                w.flush().expect("rows flush");
            }
            let load_s = t.elapsed().as_secs_f64();
            drop(store);
            let peak = proc_mib("VmHWM:");
            std::fs::write(
                &names_file,
                serde_json::to_string(&(&names, load_s, peak, n)).expect("sources"),
            )
            .expect("write sources");
            (names, load_s, peak)
        }
    };
    let qs = queries(&names, per_class);
    std::fs::write(
        dir.join("bench-queries.json"),
        serde_json::to_string_pretty(&qs).expect("queries"),
    )
    .expect("write queries");
    drop(names);

    let hub_phase = |exe: &Path, local_only: bool| -> HubResult {
        let mut cmd = std::process::Command::new(exe);
        cmd.arg("--hub-phase").arg(&dir);
        if local_only {
            cmd.arg("--local-only");
        }
        let status = cmd.status().expect("start the hub phase");
        assert!(status.success(), "the hub phase failed: {status}");
        serde_json::from_str(
            &std::fs::read_to_string(dir.join("bench-hub-result.json")).expect("hub result"),
        )
        .expect("hub result parse")
    };
    // `--baseline EXE`: this bench built from an earlier commit, run first on the same store
    // and queries (its index is removed afterwards, so each builds its own).
    let before = value("--baseline").map(|exe| {
        let _ = std::fs::remove_dir_all(civreg_hub::search::index_dir(&dir));
        let _ = std::fs::remove_file(dir.join("bench-build.json"));
        let r = hub_phase(Path::new(&exe), true);
        std::fs::remove_dir_all(civreg_hub::search::index_dir(&dir)).expect("remove index");
        let _ = std::fs::remove_file(dir.join("bench-build.json"));
        r
    });
    // `--local-only`: no pass through a node (the long full-size runs).
    let hub = hub_phase(
        &std::env::current_exe().expect("exe"),
        args.iter().any(|a| a == "--local-only"),
    );
    for (ms, class, text) in &hub.slowest {
        eprintln!("slow: {ms:8.2} ms  {class:12}  {text}");
    }
    let pg = pg.map(|conninfo| pg_phase(&conninfo, &dir, &qs));

    let (date, commit) = support::measured();
    let (p50, p99) = hub.local.all();
    let (r50, r99) = hub.remote.all();
    let total = hub.local.total();
    let ok = if p99 < 20.0 { "✅" } else { "❌" };
    let quality = quality_rows(&hub.local, before.as_ref().map(|b| &b.local));
    let (b50, b99) = before
        .as_ref()
        .map_or((f64::NAN, f64::NAN), |b| b.local.all());
    let before_note = match &before {
        Some(b) => format!(
            "*Before* is the same bench built from `{}` (`--baseline`), run first on the same store and queries: all classes top-1 {} of {total}, median {b50:.2} ms, p99 {b99:.2} ms.",
            value("--baseline-commit").unwrap_or_else(|| "an earlier commit".into()),
            b.local.top1()
        ),
        None => "No *before* run (`--baseline EXE` gives one).".into(),
    };
    let (title, data) = if held_out.is_some() {
        (
            "National search on held-out names (hub)",
            "synthetic records (seeded `civreg_shared::synth` population) whose every name is replaced by a name from public lists the project did not write \
(`hub/benches/data/heldout-names.tsv`: Albanian and Serbian given names and surnames, sources in its header; the same synthetic name always becomes the same held-out name, \
from the list of the person's community and sex)",
        )
    } else {
        (
            "National search (hub)",
            "synthetic records (seeded `civreg_shared::synth` population)",
        )
    };
    let section = format!(
        "## {title}\n\n\
Measured {date} at commit `{commit}`{note}, `cargo bench -p civreg-hub --bench search_bench{how}`. \
Data: {n} {data}, loaded through the hub's ingest in {load_s:.1} s; \
{total} queries made from children's birth records of the same data, one thread, each pass after an unmeasured warm-up pass over the same queries. \
*Found* is how often the record a query was made from is among its first 20 results. \
Query classes: names as written in the record with the year of birth (*exact*), one letter dropped from the surname (*typo*), \
Serbian names in Cyrillic, Albanian names respelled the way Yugoslav-era Serbian registers write them (q→ć, gj→đ, xh→dž, sh→š, ë→e, y→i, ll→l, …) in Latin and Cyrillic, \
Serbian names respelled by Albanian orthography (ć→q, đ→gj, dž→xh, š→sh, …), all with the year; \
given name, father's given name, surname; a married woman's double surname (before-after) and the same with \"e lindur\"/\"rođena\"; \
a query with a foreign given name that is in no record added; and a place alone (any official name, the Albanian definite form, Ђакова, Kosovska Mitrovica), \
where *top-1* means the first hit is of that place and *top-10* that all of the first ten are. \
*Top-1* is strict: the first hit is the very record the query was made from; *first or tied* also counts a source record that has the first hit's score, \
which the query cannot tell apart (the synthetic population registers the same person's birth, marriage and death, and plants corrupted duplicates). \
The respellings come from the bench's own tables, not from the index's normalisation. {before_note}\n\n\
| query class | top-1 before | top-1 after (target ≥ 0.99) | after: top-1 by person | after: first or tied with the first | top-10 before | top-10 after | median | p99 |\n|---|---|---|---|---|---|---|---|---|\n{quality}\n\
| figure | value |\n|---|---|\n\
| index build (following the feed from empty): committed, then merged | {commit_s:.1} s ({csegs} segments), {build_s:.1} s for {docs} records ({segs} segments) |\n\
| index size on disk | {mib:.1} MiB |\n\
| peak resident: generating and loading the records (bench process) | {load_peak_mib:.0} MiB |\n\
| peak resident: hub process building the index | {build_peak:.0} MiB |\n\
| peak resident: hub process searching (from {s0:.0} MiB when the pass started) | {s1:.0} MiB |\n\
| queries with at least one hit | {any} of {total} |\n\n\
| query class | median | p99 | found in first 20 |\n|---|---|---|---|\n{rows}\
| **all, in the hub** (target p99 < 20 ms {ok}) | **{p50:.2} ms** | **{p99:.2} ms** | {rec} of {total} |\n\
| all, from a node over mutual TLS (one connection) | {r50:.2} ms | {r99:.2} ms | {rrec} of {total} |\n\
| added by the node's round trip (median) | {added:.2} ms | | |\n",
        note = if quick { " (quick sizes)" } else if full { " (full size)" } else { "" },
        how = match (full, held_out.is_some()) {
            (true, true) => " -- --full --held-out".to_string(),
            (true, false) => " -- --full".to_string(),
            (false, true) if n != 200_000 => format!(" -- --held-out --records {n}"),
            (false, true) => " -- --held-out".to_string(),
            (false, false) if n != 200_000 && !quick => format!(" -- --records {n}"),
            (false, false) => String::new(),
        },
        build_s = hub.build_s,
        docs = hub.docs,
        segs = hub.segments,
        commit_s = hub.commit_s,
        csegs = hub.committed_segments,
        mib = hub.index_bytes as f64 / 1_048_576.0,
        build_peak = hub.build_peak_mib,
        s0 = hub.search_start_mib,
        s1 = hub.search_peak_mib,
        any = hub.local.any(),
        rows = hub.local.class_rows("hub"),
        rec = hub.local.recall(),
        rrec = hub.remote.recall(),
        added = r50 - p50,
    );
    println!("{section}");
    let pg_section = pg.map(|pg| {
        let (g50, g99) = pg.pass.all();
        format!(
            "## National search: PostgreSQL pg_trgm baseline\n\n\
Measured {date} at commit `{commit}`{note}, `hub/benches/pg_baseline.sh{how}`, in the same run as the hub's figures above: \
the same {n} records and the same {total} queries, PostgreSQL {ver} (Debian's, a throwaway cluster on this machine, \
`shared_buffers` 1 GB), one connection, one query at a time, after a warm-up pass over the first 200 queries.\n\n\
Setup: one row per record, `names` = the folded names (our `normalize::fold`: Cyrillic to Latin, lowercase, no diacritics) \
of everyone the record names, principals first, and `principal` = those of the principals only; \
a GIN `gin_trgm_ops` index on `names` and a b-tree on the principal's year of birth. \
A query's names are folded the same way and a 4-digit token is the year: \
`WHERE $names <% names [AND year = $y] ORDER BY word_similarity($names, principal) + word_similarity($names, names) DESC LIMIT 20` \
(`pg_trgm.word_similarity_threshold` 0.6, the default).\n\n\
| figure | pg_trgm | civreg-hub (tantivy) |\n|---|---|---|\n\
| load | {pl:.1} s (COPY) | {load_s:.1} s (ingest) |\n\
| index build | {pi:.1} s | {build_s:.1} s |\n\
| size on disk | table {pt:.1} MiB + indexes {px:.1} MiB | {mib:.1} MiB |\n\
| **all queries: median / p99** | **{g50:.2} ms / {g99:.2} ms** | **{p50:.2} ms / {p99:.2} ms** |\n\
| all queries: found in first 20 | {grec} of {total} | {rec} of {total} |\n\n\
| query class | median | p99 | found in first 20 |\n|---|---|---|---|\n{prows}{hrows}",
            ver = pg.version,
            pl = pg.load_s,
            pi = pg.index_s,
            pt = pg.table_bytes as f64 / 1_048_576.0,
            px = pg.index_bytes as f64 / 1_048_576.0,
            build_s = hub.build_s,
            mib = hub.index_bytes as f64 / 1_048_576.0,
            grec = pg.pass.recall(),
            rec = hub.local.recall(),
            prows = pg.pass.class_rows("pg_trgm"),
            hrows = hub.local.class_rows("hub"),
            note = if full { " (full size)" } else { "" },
            how = if full { " --full" } else { "" },
        )
    });
    if let Some(s) = &pg_section {
        println!("{s}");
    }
    if write {
        let name = if held_out.is_some() {
            "search-bench-heldout"
        } else {
            "search-bench"
        };
        support::write_section(name, &section);
        if let Some(s) = &pg_section {
            support::write_section("search-pg-baseline", s);
        }
    }
    drop(tmp);
}
