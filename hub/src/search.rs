//! National search at the hub: a tantivy index over every record of the register, kept current
//! from the store's feed.
//!
//! **What is indexed.** Per record: the folded name tokens of everyone it names (any script, with
//! and without diacritics, both spellings of đ), split into the record's principals (the child,
//! the deceased, the spouses) and the others (parents); phonetic keys of the same; the principal's
//! date and year of birth; places (the municipality of the place of birth, in any of its names,
//! and the registering municipality); the record kind; and **blind tokens** of personal numbers:
//! HMAC-SHA-256 under a key kept in its own file (`DATA_DIR/search.key`, 0600), never the numbers
//! themselves. A personal number is therefore found only by its exact value, and grep finds it in
//! no index file. Each document also stores a summary for display (names, dates, places: no
//! personal numbers).
//!
//! **Kept current.** An indexer thread follows every municipality's feed (the same positions pull
//! uses), re-indexes the current state of each record the feed names, and commits with the feed
//! positions as the tantivy commit payload, so after a restart it resumes where its last commit
//! ended: nothing is missed and nothing needs a full rebuild.
//!
//! **Queries.** Free text ("Arben Gashi 1968 Prizren", "Гаши", "gashi arbn"): a 4-digit year
//! filters the year of birth, a full date the date of birth (also with day and month swapped), a
//! place name (any language) boosts records of that place, a long run of digits is a personal
//! number (exact, through its blind token); every other token is a name that must match some name
//! of the record exactly, by spelling variant, phonetically, or within edit distance 1 (2 for
//! tokens of six letters or more, ranked below distance 1). Principals rank above parents.
//! Fielded filters: born (year, day or range), municipality, kind. Results are ranked,
//! paginated, and each says why it matched.
//!
//! **Bounded.** A query is refused before any work when it is longer than `MAX_QUERY_BYTES`,
//! has more than `MAX_QUERY_TERMS` words (as the index splits them), asks for more than
//! `MAX_SEARCH_LIMIT` results or pages past `MAX_SEARCH_OFFSET` (`civreg_shared::limits`); a
//! name token longer than `MAX_FUZZY_TERM_CHARS` is matched without typing distance.
//!
//! **Exact before typos.** A query is first run with exact, variant and phonetic name matches
//! only; only when those do not fill the requested page is it run again with the typo-tolerant
//! (fuzzy) clauses. An exact match always outranks a typo-only one (it matches the fuzzy clauses
//! too), so a filled page holds the records the full query would put there, in nearly the same
//! order (the full query adds a constant per field matched); what is saved is expanding each
//! name to every dictionary term within two edits, whose posting lists over millions of records
//! cost tens of milliseconds. [`Results::total`] then counts the exact and phonetic matches.

use crate::store::{HubRecord, HubStore};
use chrono::{Datelike, NaiveDate};
use civreg_shared::gazetteer;
use civreg_shared::limits::{MAX_FUZZY_TERM_CHARS, MAX_QUERY_TERMS, MAX_SEARCH_LIMIT};
use civreg_shared::model::{Record, RecordKind};
use civreg_shared::normalize;
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, FuzzyTermQuery, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption, Schema, Value, FAST, INDEXED, STORED, STRING};
use tantivy::{Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search index: {0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("search index at {path}: {why}")]
    Open { path: String, why: String },
    #[error("search key file {path}: {why}")]
    Key { path: String, why: String },
    #[error("hub store: {0}")]
    Store(#[from] crate::store::StoreError),
    #[error("{0}")]
    Query(String),
}

/// A date-of-birth filter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Born {
    Year(i32),
    Day(NaiveDate),
    Range(NaiveDate, NaiveDate),
}

impl Born {
    /// `YYYY`, `YYYY-MM-DD`, or `FROM..TO` with either form at each end.
    pub fn parse(s: &str) -> Result<Born, SearchError> {
        let err = || {
            SearchError::Query(format!(
                "{s:?} is not a date of birth filter: use YYYY, YYYY-MM-DD or FROM..TO (e.g. 1965..1970)"
            ))
        };
        let bound = |t: &str, start: bool| -> Option<NaiveDate> {
            let t = t.trim();
            if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
                return Some(d);
            }
            let y: i32 = t.parse().ok().filter(|_| t.len() == 4)?;
            if start {
                NaiveDate::from_ymd_opt(y, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(y, 12, 31)
            }
        };
        let s = s.trim();
        if let Some((a, b)) = s.split_once("..") {
            let (from, to) = (
                bound(a, true).ok_or_else(err)?,
                bound(b, false).ok_or_else(err)?,
            );
            return if from <= to {
                Ok(Born::Range(from, to))
            } else {
                Err(err())
            };
        }
        if s.len() == 4 {
            return s.parse().map(Born::Year).map_err(|_| err());
        }
        NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Born::Day)
            .map_err(|_| err())
    }
}

/// A search request.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SearchQuery {
    pub text: String,
    pub born: Option<Born>,
    /// A municipality code: the registering municipality or the place of birth.
    pub municipality: Option<String>,
    pub kind: Option<RecordKind>,
    pub offset: usize,
    pub limit: usize,
}

/// One result.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Hit {
    pub regno: String,
    pub municipality: String,
    pub kind: String,
    pub score: f32,
    /// What a clerk needs to recognise the record (no personal numbers).
    pub summary: Summary,
    /// Why it matched, one line per query term.
    pub why: Vec<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Summary {
    /// (role, full name as typed) of everyone named.
    pub people: Vec<(String, String)>,
    pub date_of_birth: Option<String>,
    pub place_of_birth: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Results {
    /// How many records match. When the exact, variant and phonetic matches fill the requested
    /// page, only those are counted (records that match a name only within typing distance are
    /// not); otherwise every match is.
    pub total: usize,
    pub hits: Vec<Hit>,
}

struct Fields {
    regno: Field,
    municipality: Field,
    kind: Field,
    principal: Field,
    other: Field,
    phonetic: Field,
    principal_phonetic: Field,
    year: Field,
    dob: Field,
    place: Field,
    pnum: Field,
    summary: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let f = Fields {
        regno: b.add_text_field("regno", STRING | STORED),
        municipality: b.add_text_field("municipality", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        principal: b.add_text_field("principal", STRING),
        other: b.add_text_field("other", STRING),
        phonetic: b.add_text_field("phonetic", STRING),
        principal_phonetic: b.add_text_field("principal_phonetic", STRING),
        year: b.add_i64_field("year", INDEXED | FAST),
        dob: b.add_i64_field("dob", INDEXED | FAST),
        place: b.add_text_field("place", STRING),
        pnum: b.add_text_field("pnum", STRING),
        summary: b.add_text_field("summary", STORED),
    };
    (b.build(), f)
}

/// The keyed blind index of personal numbers: HMAC-SHA-256 of the digits.
pub struct Blinder(hmac::Key);

impl Blinder {
    /// Opens (or creates, 0600) the key file.
    pub fn open(path: &Path) -> Result<Blinder, SearchError> {
        let err = |why: String| SearchError::Key {
            path: path.display().to_string(),
            why,
        };
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut k = [0u8; 32];
                ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut k)
                    .map_err(|_| err("no randomness".into()))?;
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(|e| err(e.to_string()))?;
                f.write_all(hex::encode(k).as_bytes())
                    .and_then(|()| f.sync_all())
                    .map_err(|e| err(e.to_string()))?;
                hex::encode(k).into_bytes()
            }
            Err(e) => return Err(err(e.to_string())),
        };
        let key = hex::decode(String::from_utf8_lossy(&bytes).trim())
            .ok()
            .filter(|k| k.len() == 32)
            .ok_or_else(|| err("not 64 hex digits: restore it from backup (the index must be rebuilt with a new key)".into()))?;
        Ok(Blinder(hmac::Key::new(hmac::HMAC_SHA256, &key)))
    }

    /// The blind token of a personal number (digits only, so spacing does not matter).
    pub fn token(&self, number: &str) -> String {
        let digits: String = number.chars().filter(char::is_ascii_alphanumeric).collect();
        hex::encode(&hmac::sign(&self.0, digits.to_ascii_uppercase().as_bytes()).as_ref()[..16])
    }
}

pub fn index_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("index")
}

pub fn key_path(data_dir: &Path) -> PathBuf {
    data_dir.join("search.key")
}

/// Records read from the store and staged at a time during a catch-up.
const STAGE_CHUNK: usize = 10_000;

/// Feed positions covered by the last commit, per municipality.
type Positions = BTreeMap<String, u64>;

pub struct SearchIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    f: Fields,
    blinder: Blinder,
    positions: Mutex<Positions>,
}

fn days(d: NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce())
}

fn name_terms(text: &str, out: &mut Vec<String>) {
    for t in normalize::tokens(text) {
        for v in normalize::variants(&t) {
            if !out.contains(&v) {
                out.push(v);
            }
        }
    }
}

impl SearchIndex {
    pub fn open(data_dir: &Path) -> Result<SearchIndex, SearchError> {
        let dir = index_dir(data_dir);
        std::fs::create_dir_all(&dir).map_err(|e| SearchError::Open {
            path: dir.display().to_string(),
            why: e.to_string(),
        })?;
        let (schema, f) = schema();
        let mmap =
            tantivy::directory::MmapDirectory::open(&dir).map_err(|e| SearchError::Open {
                path: dir.display().to_string(),
                why: e.to_string(),
            })?;
        let index = Index::open_or_create(mmap, schema)?;
        let positions: Positions = index
            .load_metas()?
            .payload
            .and_then(|p| serde_json::from_str(&p).ok())
            .unwrap_or_default();
        let writer = index.writer(64 * 1024 * 1024)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
            blinder: Blinder::open(&key_path(data_dir))?,
            positions: Mutex::new(positions),
        })
    }

    pub fn blinder(&self) -> &Blinder {
        &self.blinder
    }

    fn document(&self, st: &HubRecord, rec: &Record) -> TantivyDocument {
        let f = &self.f;
        let mut d = TantivyDocument::default();
        d.add_text(f.regno, &st.regno);
        let owner = civreg_shared::ids::RegNo::parse(&st.regno)
            .map(|r| r.municipality)
            .unwrap_or_default();
        d.add_text(f.municipality, &owner);
        d.add_text(f.place, &owner);
        d.add_text(f.kind, st.kind.as_str());
        let mut summary = Summary::default();
        let (mut principal, mut other) = (Vec::new(), Vec::new());
        for p in rec.people() {
            let full = [
                Some(p.given_name),
                p.other_surname.map(|_| ""),
                Some(p.surname),
            ]
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
            summary.people.push((p.role.to_string(), full));
            let bucket = if p.principal {
                &mut principal
            } else {
                &mut other
            };
            for part in [
                Some(p.given_name),
                Some(p.surname),
                p.other_surname,
                p.father_given_name,
            ]
            .into_iter()
            .flatten()
            {
                name_terms(part, bucket);
            }
            if p.principal {
                if let Some(dob) = p.date_of_birth {
                    d.add_i64(f.year, i64::from(dob.year()));
                    d.add_i64(f.dob, days(dob));
                    summary.date_of_birth.get_or_insert(dob.to_string());
                }
            }
            for (_, n) in p.personal_numbers.iter() {
                d.add_text(f.pnum, self.blinder.token(n));
            }
        }
        for t in &principal {
            d.add_text(f.principal, t);
            d.add_text(f.principal_phonetic, normalize::phonetic_key(t));
        }
        for t in &other {
            d.add_text(f.other, t);
            d.add_text(f.phonetic, normalize::phonetic_key(t));
        }
        if let Some(place) = st.fields.get("place_of_birth").and_then(|v| v.as_str()) {
            summary.place_of_birth = Some(place.to_string());
            if let Some(m) = gazetteer::resolve(place) {
                d.add_text(f.place, m.code);
            }
        }
        d.add_text(
            f.summary,
            serde_json::to_string(&summary).expect("summary serialises"),
        );
        d
    }

    /// Re-indexes these records (current states); voided records leave the index.
    fn stage(&self, w: &mut IndexWriter, states: &[HubRecord]) {
        for st in states {
            w.delete_term(Term::from_field_text(self.f.regno, &st.regno));
            if st.voided.is_some() {
                continue;
            }
            match st.record() {
                Ok(rec) => {
                    if let Err(e) = w.add_document(self.document(st, &rec)) {
                        tracing::error!(record = %st.regno, error = %e, "not indexed");
                    }
                }
                // A record that does not type-check (a damaged historic page) is still findable by
                // number; it is logged, and left out of name search.
                Err(e) => tracing::warn!(record = %st.regno, error = %e, "record not indexed"),
            }
        }
    }

    /// Indexes what the feed added since the last commit and commits. Returns the number of
    /// records re-indexed.
    pub fn catch_up(&self, store: &HubStore) -> Result<usize, SearchError> {
        let mut positions = self
            .positions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let mut touched: BTreeMap<String, ()> = BTreeMap::new();
        let mut moved = false;
        for m in gazetteer::all() {
            let cursor = positions.get(m.code).copied().unwrap_or(0);
            let mut cur = cursor;
            loop {
                let (records, next) = store.feed_records_after(m.code, cur, 5_000)?;
                if records.is_empty() {
                    break;
                }
                for regno in records {
                    touched.insert(regno, ());
                }
                cur = next;
            }
            if cur != cursor {
                positions.insert(m.code.to_string(), cur);
                moved = true;
            }
        }
        if !moved {
            return Ok(0);
        }
        // Staged in chunks so that a catch-up over the whole register (a first start, a rebuild)
        // never holds every record in memory at once; it is still one commit.
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let mut reindexed = 0;
        let mut states = Vec::with_capacity(STAGE_CHUNK);
        let mut regnos = touched.keys().peekable();
        while regnos.peek().is_some() {
            states.clear();
            for regno in regnos.by_ref().take(STAGE_CHUNK) {
                if let Some(st) = store.record(regno)? {
                    states.push(st);
                }
            }
            self.stage(&mut w, &states);
            reindexed += states.len();
        }
        let mut commit = w.prepare_commit()?;
        commit.set_payload(&serde_json::to_string(&positions).expect("positions serialise"));
        commit.commit()?;
        drop(w);
        self.reader.reload()?;
        *self.positions.lock().unwrap_or_else(|p| p.into_inner()) = positions;
        Ok(reindexed)
    }

    /// Runs [`SearchIndex::catch_up`] every `every` until the returned handle is dropped, on a
    /// thread of lower CPU priority than ingest (see [`lower_priority`]).
    pub fn follow(self: &Arc<Self>, store: Arc<HubStore>, every: Duration) -> Follower {
        let (stop, rx) = std::sync::mpsc::channel::<()>();
        let me = self.clone();
        let handle = std::thread::Builder::new()
            .name("civreg-indexer".into())
            .spawn(move || {
                lower_priority();
                loop {
                    if let Err(e) = me.catch_up(&store) {
                        tracing::error!(error = %e, "search index not updated; retrying");
                    }
                    match rx.recv_timeout(every) {
                        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => continue,
                        _ => return,
                    }
                }
            })
            .expect("spawn indexer");
        Follower {
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    pub fn search(&self, q: &SearchQuery) -> Result<Results, SearchError> {
        let f = &self.f;
        // Bounded before any work: a query's size, its words, its page and how deep it pages
        // (a hostile offset would make the collector reserve room for every skipped hit).
        civreg_shared::limits::check_search(&q.text, q.offset, q.limit)
            .map_err(|e| SearchError::Query(e.to_string()))?;
        let searcher = self.reader.searcher();
        let limit = q.limit.clamp(1, MAX_SEARCH_LIMIT);
        let collector = (TopDocs::with_limit(limit).and_offset(q.offset), Count);
        let (query, plan) = self.query(q, false)?;
        let (mut top, mut total) = searcher.search(&query, &collector)?;
        if !plan.names.is_empty() && total < q.offset + limit {
            let (query, _) = self.query(q, true)?;
            (top, total) = searcher.search(&query, &collector)?;
        }
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let text = |fl: Field| {
                doc.get_first(fl)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let summary: Summary = serde_json::from_str(&text(f.summary)).unwrap_or_default();
            let why = plan.explain(&summary);
            hits.push(Hit {
                regno: text(f.regno),
                municipality: text(f.municipality),
                kind: text(f.kind),
                score,
                summary,
                why,
            });
        }
        Ok(Results { total, hits })
    }

    /// The query for `q`, and what it asked for; name tokens match within typing distance only
    /// when `fuzzy`.
    fn query(&self, q: &SearchQuery, fuzzy: bool) -> Result<(BooleanQuery, Plan), SearchError> {
        let f = &self.f;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut plan = Plan::default();
        // Words that name a place: also surnames (Gjakova, Prizreni, Peja).
        let mut place_words: Vec<&str> = Vec::new();
        for raw in q.text.split_whitespace() {
            let digits: String = raw.chars().filter(char::is_ascii_digit).collect();
            if digits.len() >= 9 && digits.len() + 2 >= raw.len() {
                must.push((Occur::Must, term(f.pnum, &self.blinder.token(raw))));
                plan.pnum = true;
                continue;
            }
            if raw.len() == 4 && digits.len() == 4 {
                let y: i64 = digits.parse().unwrap_or(0);
                must.push((Occur::Must, range(f.year, y, y)));
                plan.years.push(y);
                continue;
            }
            if let Some(d) = parse_date(raw) {
                let mut alts: Vec<(Occur, Box<dyn Query>)> =
                    vec![(Occur::Should, range(f.dob, days(d), days(d)))];
                if let Some(s) = swapped(d) {
                    alts.push((Occur::Should, range(f.dob, days(s), days(s))));
                }
                must.push((Occur::Must, Box::new(BooleanQuery::new(alts))));
                plan.dates.push(d);
                continue;
            }
            if let Some(m) = gazetteer::resolve(raw) {
                must.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(term(f.place, m.code), 2.0)),
                ));
                plan.places.push((raw.to_string(), m.display()));
                place_words.push(raw);
                continue;
            }
            for t in normalize::tokens(raw) {
                must.push((Occur::Must, self.name_query(&t, fuzzy)));
                plan.names.push(t);
            }
            // Each name is a clause of its own (with its variants, phonetic keys and typing
            // distances): their number is bounded however the words are glued together.
            if plan.names.len() > MAX_QUERY_TERMS {
                return Err(SearchError::Query(format!(
                    "the query names more than {MAX_QUERY_TERMS} words: leave out some words"
                )));
            }
        }
        // Nothing but place names (and fielded filters, added below, that narrow without
        // naming anyone): the words are taken as names as well, so that a surname that is also
        // a place ("Gjakova") is searched, rather than refused or answered with every record
        // of the place.
        if !must.iter().any(|(o, _)| *o == Occur::Must) {
            for raw in place_words {
                for t in normalize::tokens(raw) {
                    must.push((Occur::Must, self.name_query(&t, fuzzy)));
                    plan.names.push(t);
                }
            }
        }
        if let Some(b) = q.born {
            let (a, z) = match b {
                Born::Year(y) => (
                    NaiveDate::from_ymd_opt(y, 1, 1),
                    NaiveDate::from_ymd_opt(y, 12, 31),
                ),
                Born::Day(d) => (Some(d), Some(d)),
                Born::Range(a, z) => (Some(a), Some(z)),
            };
            let (Some(a), Some(z)) = (a, z) else {
                return Err(SearchError::Query(
                    "that date of birth filter is out of range".into(),
                ));
            };
            must.push((Occur::Must, range(f.dob, days(a), days(z))));
        }
        if let Some(m) = &q.municipality {
            let code = gazetteer::resolve(m)
                .map(|g| g.code)
                .ok_or_else(|| SearchError::Query(format!("unknown municipality {m:?}")))?;
            must.push((Occur::Must, term(f.place, code)));
        }
        if let Some(k) = q.kind {
            must.push((Occur::Must, term(f.kind, k.as_str())));
        }
        if !must.iter().any(|(o, _)| *o == Occur::Must) {
            return Err(SearchError::Query(
                "give at least a name, a year, a date or a personal number".into(),
            ));
        }
        Ok((BooleanQuery::new(must), plan))
    }

    /// A name token matches exactly, by spelling variant or phonetically; with `fuzzy` also
    /// within one typing difference (edit distance 1, a transposition counting one), and tokens
    /// of 6 letters or more within two, below those within one. Principals weigh more than
    /// parents.
    fn name_query(&self, t: &str, fuzzy: bool) -> Box<dyn Query> {
        let f = &self.f;
        let mut alts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for v in normalize::variants(t) {
            alts.push((Occur::Should, boost(term(f.principal, &v), 6.0)));
            alts.push((Occur::Should, boost(term(f.other, &v), 3.0)));
        }
        let key = normalize::phonetic_key(t);
        if !key.is_empty() {
            alts.push((Occur::Should, boost(term(f.principal_phonetic, &key), 2.5)));
            alts.push((Occur::Should, boost(term(f.phonetic, &key), 1.2)));
        }
        // No name is longer than MAX_FUZZY_TERM_CHARS: a longer token is matched exactly only,
        // as the cost of a typing-distance automaton grows with the token's length.
        if !fuzzy || t.chars().count() > MAX_FUZZY_TERM_CHARS {
            return Box::new(BooleanQuery::new(alts));
        }
        // (distance, principal weight, parent weight): a match within one difference also
        // matches within two, so it scores the sum and ranks above a match within two only.
        let fuzzies: &[(u8, f32, f32)] = if t.chars().count() >= 6 {
            &[(1, 1.0, 0.5), (2, 0.5, 0.2)]
        } else {
            &[(1, 1.5, 0.7)]
        };
        for &(distance, wp, wo) in fuzzies {
            for (field, w) in [(f.principal, wp), (f.other, wo)] {
                alts.push((
                    Occur::Should,
                    boost(
                        Box::new(FuzzyTermQuery::new(
                            Term::from_field_text(field, t),
                            distance,
                            true,
                        )),
                        w,
                    ),
                ));
            }
        }
        Box::new(BooleanQuery::new(alts))
    }

    /// How many segments the current searcher sees (for benchmarks and diagnostics).
    pub fn segments(&self) -> usize {
        self.reader.searcher().segment_readers().len()
    }

    /// How many records the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits for the indexer's writer to finish merging (for benchmarks and a clean stop).
    pub fn wait_merges(self) -> Result<(), SearchError> {
        let w = self.writer.into_inner().unwrap_or_else(|p| p.into_inner());
        w.wait_merging_threads()?;
        let _ = &self.index;
        Ok(())
    }
}

/// Stops the indexer thread when dropped.
pub struct Follower {
    stop: Option<std::sync::mpsc::Sender<()>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Drop for Follower {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

fn boost(q: Box<dyn Query>, w: f32) -> Box<dyn Query> {
    Box::new(BoostQuery::new(q, w))
}

fn range(field: Field, from: i64, to: i64) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        std::ops::Bound::Included(Term::from_field_i64(field, from)),
        std::ops::Bound::Included(Term::from_field_i64(field, to)),
    ))
}

fn parse_date(t: &str) -> Option<NaiveDate> {
    ["%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(t, f).ok())
}

fn swapped(d: NaiveDate) -> Option<NaiveDate> {
    (d.day() <= 12 && d.day() != d.month())
        .then(|| NaiveDate::from_ymd_opt(d.year(), d.day(), d.month()))
        .flatten()
}

/// What a query asked for, to explain each hit.
#[derive(Default)]
struct Plan {
    names: Vec<String>,
    years: Vec<i64>,
    dates: Vec<NaiveDate>,
    places: Vec<(String, String)>,
    pnum: bool,
}

impl Plan {
    fn explain(&self, s: &Summary) -> Vec<String> {
        let mut why = Vec::new();
        for t in &self.names {
            let mut best: Option<(u8, String)> = None;
            for (role, full) in &s.people {
                for part in normalize::tokens(full) {
                    let how = if normalize::variants(&part).iter().any(|v| v == t)
                        || normalize::variants(t).contains(&part)
                    {
                        Some((0, "exact, ignoring script and diacritics".to_string()))
                    } else if normalize::phonetic_key(&part) == normalize::phonetic_key(t) {
                        Some((1, "sounds alike".to_string()))
                    } else {
                        let d = strsim::damerau_levenshtein(&part, t);
                        (d <= 2).then(|| {
                            (
                                2,
                                format!("{d} typing difference{}", if d == 1 { "" } else { "s" }),
                            )
                        })
                    };
                    if let Some((rank, text)) = how {
                        if best.as_ref().is_none_or(|(r, _)| rank < *r) {
                            best = Some((rank, format!("{t:?}: {full} ({role}): {text}")));
                        }
                    }
                }
            }
            why.push(
                best.map(|(_, s)| s)
                    .unwrap_or_else(|| format!("{t:?}: a father's name or spelling variant")),
            );
        }
        for y in &self.years {
            why.push(format!(
                "{y}: born {}",
                s.date_of_birth.as_deref().unwrap_or("?")
            ));
        }
        for d in &self.dates {
            let born = s.date_of_birth.as_deref().unwrap_or("?");
            let how = if born == d.to_string() {
                ""
            } else {
                " (day and month swapped)"
            };
            why.push(format!("{d}: born {born}{how}"));
        }
        for (typed, place) in &self.places {
            why.push(format!("{typed:?}: {place}"));
        }
        if self.pnum {
            why.push("personal number: exact".into());
        }
        why
    }
}

/// Lowers the calling thread's CPU priority (to nice 7 on Linux), so that on a busy hub storing
/// and acknowledging pushes comes before indexing them: the index lags during a burst and
/// catches up after it, and a node never waits for the index. Where the OS refuses, the thread
/// keeps its priority (logged).
fn lower_priority() {
    use thread_priority::{set_current_thread_priority, ThreadPriority, ThreadPriorityValue};
    let Ok(v) = ThreadPriorityValue::try_from(INDEXER_PRIORITY) else {
        return;
    };
    if let Err(e) = set_current_thread_priority(ThreadPriority::Crossplatform(v)) {
        tracing::warn!(error = ?e, "search indexer keeps its CPU priority");
    }
}

/// The indexer's priority on thread-priority's cross-platform scale (0 lowest, 99 highest; on
/// Linux's normal policy, below 50 is a positive nice value).
const INDEXER_PRIORITY: u8 = 30;
