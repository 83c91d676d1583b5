//! National search at the hub: a tantivy index over every record of the register, kept current
//! from the store's feed.
//!
//! **What is indexed.** Per record: the folded name tokens of everyone it names (any script, with
//! and without diacritics, both spellings of đ), split into the record's principals (the child,
//! the deceased, the spouses) and the others (parents, and the father's given name written in a
//! principal's own entry); phonetic keys of the same; the principal's
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
//! **Queries.** Free text ("Arben Gashi 1968 Prizren", "Гаши", "gashi arbn", "Drita Gashi e
//! lindur Krasniqi", "Хоџа Косовска Митровица", "Ђакова"), parsed by the query language both the
//! hub and the nodes use ([`civreg_shared::query`]): name words, years, dates (also with day and
//! month swapped), places of one or more words (a place alone is a query), personal numbers
//! (exact, through their blind token). Each name word matches a name of a record by its
//! **orthographic spelling** ([`normalize::orthographic_key`]: the same name in either
//! community's orthography and any script, `Krasnići = Краснићи = Krasniqi`, ranked as exact,
//! the commonest spelling in the register first), by its folded spelling, phonetically, or
//! within one typing difference (two for words of six letters or more), each lower. A word the
//! clerk labelled as a parent's given name ("Arben Gashi nëna Drita") is asked of the parents'
//! names only.
//!
//! **Ranking.** The index query is run in stages: every part of the query required without
//! typing distance, then with it, then (when those do not fill the page) every part optional, so
//! that a record ranks by how much of the query it matches and a query that nothing matches fully
//! still answers with the closest records, flagged [`Results::partial`]. The candidates (the page
//! and [`RERANK_MARGIN`] more) are then re-ranked from the stored names of each person of the
//! record ([`Plan::rank`], `civreg_shared::query::rank`: the one rule of the hub and the nodes):
//! the name words of a query count within one person, the principal (child, deceased, spouse)
//! before the parents, each word of a record's name answering at most
//! one word of the query ([`Plan::assign`]: in "Arben Arben Gërguri" the second Arben must be
//! another name, the father's), and a child's father's given name counts as the
//! middle name of the Albanian "Arben Besnik Gashi"; agreeing facts (year, date, place) add to
//! the score; equal scores go to the commoner spelling, then to the registration number, so the
//! order is the same every time. Each hit says, per part of the query, whose name and which
//! field matched and how ([`Hit::explain`], as data each reader says in their language, and
//! [`Hit::why`], the same in English), and lists the parts it does not match. Fielded filters (born,
//! municipality, kind) always restrict.
//!
//! **Bounded.** A query is refused before any work when it is longer than `MAX_QUERY_BYTES`,
//! has more than `MAX_QUERY_TERMS` words (as the index splits them), asks for more than
//! `MAX_SEARCH_LIMIT` results or pages past `MAX_SEARCH_OFFSET` (`civreg_shared::limits`); a
//! name token longer than `MAX_FUZZY_TERM_CHARS` is matched without typing distance.
//!
//! **Exact before typos.** The typo-tolerant clauses are only used when the exact, orthographic
//! and phonetic matches do not fill the requested page. An exact match always outranks a
//! typo-only one. [`Results::total`] counts the matches of the stage that answered. The names
//! within typing distance of a word are listed once per query from the term dictionaries
//! ([`SearchIndex::word_typos`], the automaton of tantivy's fuzzy query) and asked as one term
//! query each: tantivy's fuzzy query reads the records of every term it matches (the word's own
//! spelling included: tens of thousands for a common surname at a million records) into a bitset
//! of each segment, for each stage, before any intersection can skip; that was most of the cost
//! of a query with a word in no record at a million records (BENCHMARKS.md). A word near more
//! than `MAX_TYPO_TERMS` names keeps tantivy's fuzzy query.

pub mod service;

use crate::store::{HubRecord, HubStore};
use chrono::{Datelike, NaiveDate};
use civreg_shared::gazetteer;
use civreg_shared::i18n::Lang;
use civreg_shared::limits::{MAX_FUZZY_TERM_CHARS, MAX_QUERY_TERMS, MAX_SEARCH_LIMIT};
use civreg_shared::model::{Record, RecordKind};
use civreg_shared::normalize;
use civreg_shared::query::rank::{Facts, Person, PlacePart, Plan, Word};
use civreg_shared::query::{self, ParsedQuery, Why};
use ring::hmac;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, ConstScoreQuery, DisjunctionMaxQuery, FuzzyTermQuery, Occur, Query, RangeQuery,
    TermQuery,
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

/// The date-of-birth filter of a search: the shared one ([`query::DateFilter`]), also what
/// the node parses.
pub use civreg_shared::query::DateFilter as Born;

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
    /// Why it matched, one line per part of the query (and which field of whom matched), in
    /// English: [`Hit::explain`] said in [`Lang::En`].
    pub why: Vec<String>,
    /// The same as data, for each reader to say in their language ([`Why::text`]).
    #[serde(default)]
    pub explain: Vec<Why>,
    /// The parts of the query this record does not match (empty for a full match).
    #[serde(default)]
    pub unmatched: Vec<String>,
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
    /// No record matches every part of the query: the hits are the closest partial answers.
    #[serde(default)]
    pub partial: bool,
}

struct Fields {
    regno: Field,
    municipality: Field,
    kind: Field,
    principal: Field,
    other: Field,
    phonetic: Field,
    principal_phonetic: Field,
    principal_key: Field,
    other_key: Field,
    year: Field,
    dob: Field,
    place: Field,
    pnum: Field,
    summary: Field,
    facts: Field,
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
        principal_key: b.add_text_field("principal_key", STRING),
        other_key: b.add_text_field("other_key", STRING),
        year: b.add_i64_field("year", INDEXED | FAST),
        dob: b.add_i64_field("dob", INDEXED | FAST),
        place: b.add_text_field("place", STRING),
        pnum: b.add_text_field("pnum", STRING),
        summary: b.add_text_field("summary", STORED),
        facts: b.add_text_field("facts", STORED),
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
        Self::parse(path, &bytes)
    }

    /// Loads an existing key file (a missing one is an error, never a new key).
    pub fn load(path: &Path) -> Result<Blinder, SearchError> {
        let bytes = std::fs::read(path).map_err(|e| SearchError::Key {
            path: path.display().to_string(),
            why: e.to_string(),
        })?;
        Self::parse(path, &bytes)
    }

    /// Loads the key of an index that already holds tokens (`index_dir`): a missing file is
    /// refused with what to do, never replaced.
    fn load_for(path: &Path, index_dir: &Path) -> Result<Blinder, SearchError> {
        match std::fs::read(path) {
            Ok(bytes) => Self::parse(path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(SearchError::Key {
                path: path.display().to_string(),
                why: format!(
                    "missing, while the search index {} holds personal numbers blinded with it. \
                     Put the key file back from the hub's backup (every `civreg-hub backup` \
                     carries it); a new key would make every number searched find nothing",
                    index_dir.display()
                ),
            }),
            Err(e) => Err(SearchError::Key {
                path: path.display().to_string(),
                why: e.to_string(),
            }),
        }
    }

    fn parse(path: &Path, bytes: &[u8]) -> Result<Blinder, SearchError> {
        let err = |why: String| SearchError::Key {
            path: path.display().to_string(),
            why,
        };
        let key = hex::decode(String::from_utf8_lossy(bytes).trim())
            .ok()
            .filter(|k| k.len() == 32)
            .ok_or_else(|| err("not 64 hex digits: restore it from backup (the index must be rebuilt with a new key)".into()))?;
        Ok(Blinder(hmac::Key::new(hmac::HMAC_SHA256, &key)))
    }

    /// The blind token of a personal number, in its one normal form ([`query::number_key`]:
    /// letters and digits, uppercase, so spacing and case do not matter).
    pub fn token(&self, number: &str) -> String {
        let key = query::number_key(number);
        hex::encode(&hmac::sign(&self.0, key.as_bytes()).as_ref()[..16])
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

/// What the index's fields hold, where the schema alone does not say: 2 since a principal's
/// own father's given name is indexed with the parents' names. An index of another layout is
/// rebuilt from the store when opened.
const LAYOUT: u32 = 2;

/// The commit payload: the layout, and the feed positions the commit covers.
#[derive(Debug, Serialize, Deserialize)]
struct Payload {
    layout: u32,
    positions: Positions,
}

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
        Self::open_at(&index_dir(data_dir), &key_path(data_dir))
    }

    /// The index in `dir` with the search key in `key_file` (created if missing while the index
    /// holds nothing; refused if missing under a filled index): the search
    /// key's rotation builds the new index beside the old one ([`crate::rotate::search`]).
    pub fn open_at(dir: &Path, key_file: &Path) -> Result<SearchIndex, SearchError> {
        let dir = dir.to_path_buf();
        std::fs::create_dir_all(&dir).map_err(|e| SearchError::Open {
            path: dir.display().to_string(),
            why: e.to_string(),
        })?;
        let (schema, f) = schema();
        let open_dir = || {
            tantivy::directory::MmapDirectory::open(&dir).map_err(|e| SearchError::Open {
                path: dir.display().to_string(),
                why: e.to_string(),
            })
        };
        // An index written by an older version (other fields, or the same fields holding other
        // terms: `LAYOUT`): it is derived data, so it is removed and rebuilt from the store (the
        // positions start again from the beginning).
        let rebuild = |why: &str| -> Result<Index, SearchError> {
            tracing::warn!(path = %dir.display(), %why, "search index of an older layout: rebuilding it from the store");
            std::fs::remove_dir_all(&dir)
                .and_then(|()| std::fs::create_dir_all(&dir))
                .map_err(|e| SearchError::Open {
                    path: dir.display().to_string(),
                    why: e.to_string(),
                })?;
            Ok(Index::open_or_create(open_dir()?, schema.clone())?)
        };
        let mut index = match Index::open_or_create(open_dir()?, schema.clone()) {
            Ok(i) => i,
            Err(tantivy::TantivyError::SchemaError(why)) => rebuild(&why)?,
            Err(e) => return Err(e.into()),
        };
        let payload = index.load_metas()?.payload;
        let positions: Positions = match payload.as_deref().map(serde_json::from_str::<Payload>) {
            Some(Ok(p)) if p.layout == LAYOUT => p.positions,
            Some(_) => {
                index = rebuild(&format!("not of layout {LAYOUT}"))?;
                Positions::default()
            }
            None => Positions::default(),
        };
        let writer = index.writer(64 * 1024 * 1024)?;
        let reader: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .try_into()?;
        // A new key only for an index that has never held a token: a key file gone missing under
        // a filled index (a restore that left it out, a wrong `--data-dir`) would otherwise be
        // replaced in silence, and every personal number searched would find nothing.
        let blinder = if positions.is_empty() && reader.searcher().num_docs() == 0 {
            Blinder::open(key_file)?
        } else {
            Blinder::load_for(key_file, &dir)?
        };
        Ok(SearchIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            f,
            blinder,
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
        let mut facts = Facts::default();
        let (mut principal, mut other) = (Vec::new(), Vec::new());
        let (mut principal_keys, mut other_keys) = (Vec::new(), Vec::new());
        for p in rec.people() {
            facts.persons.push(Person::of(&p));
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
            // A principal's own names are the principal's; the father's given name written in
            // a principal's entry is a parent's name, indexed with the parents' (so that "Arben
            // Gashi" does not find every Gashi whose father is Arben at a principal's score: the
            // candidates re-ranked are then the namesakes, not them).
            for (part, own) in [
                (Some(p.given_name), true),
                (Some(p.surname), true),
                (p.other_surname, true),
                (p.father_given_name, false),
            ]
            .into_iter()
            .filter_map(|(part, own)| part.map(|t| (t, own)))
            {
                let (bucket, keys) = if p.principal && own {
                    (&mut principal, &mut principal_keys)
                } else {
                    (&mut other, &mut other_keys)
                };
                name_terms(part, bucket);
                for k in normalize::orthographic_key(part).split(' ') {
                    if !k.is_empty() && !keys.iter().any(|x: &String| x == k) {
                        keys.push(k.to_string());
                    }
                }
            }
            if p.principal {
                if let Some(dob) = p.date_of_birth {
                    d.add_i64(f.year, i64::from(dob.year()));
                    d.add_i64(f.dob, days(dob));
                    summary.date_of_birth.get_or_insert(dob.to_string());
                    facts.dob.get_or_insert(dob);
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
        for k in &principal_keys {
            d.add_text(f.principal_key, k);
        }
        for k in &other_keys {
            d.add_text(f.other_key, k);
        }
        facts.places.push(owner.clone());
        if let Some(place) = st.fields.get("place_of_birth").and_then(|v| v.as_str()) {
            summary.place_of_birth = Some(place.to_string());
            if let Some(m) = gazetteer::resolve(place) {
                d.add_text(f.place, m.code);
                facts.places.push(m.code.to_string());
            }
        }
        d.add_text(
            f.facts,
            serde_json::to_string(&facts).expect("facts serialise"),
        );
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
            // Read together: one round trip per chunk on PostgreSQL, not one per record.
            let chunk: Vec<&String> = regnos.by_ref().take(STAGE_CHUNK).collect();
            states.extend(store.records_many(&chunk)?.into_iter().flatten());
            self.stage(&mut w, &states);
            reindexed += states.len();
        }
        let mut commit = w.prepare_commit()?;
        let payload = Payload {
            layout: LAYOUT,
            positions: positions.clone(),
        };
        commit.set_payload(&serde_json::to_string(&payload).expect("positions serialise"));
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
        let need = q.offset + limit;
        let parsed = query::parse(&q.text);
        let plan = self.plan(&parsed, &searcher)?;
        // Candidates: more than the page, so that re-ranking can bring a record that the
        // index scored a little lower onto the page.
        let collector = (TopDocs::with_limit(need + RERANK_MARGIN), Count);
        let mut stages = vec![Stage::Strict { fuzzy: false }];
        if !plan.words.is_empty() {
            stages.push(Stage::Strict { fuzzy: true });
        }
        stages.push(Stage::Relaxed);
        let mut found = (Vec::new(), 0usize);
        // The index's terms within typing distance of each name word, listed once for both
        // stages that use them (and only when one is reached).
        let mut typos: Option<Typos> = None;
        for stage in stages {
            // Records that match every part, if any, are the answer; the relaxed stage is for
            // queries that nothing matches fully.
            if matches!(stage, Stage::Relaxed) && found.1 > 0 {
                break;
            }
            let fuzzy = match stage {
                Stage::Strict { fuzzy } => fuzzy,
                Stage::Relaxed => true,
            };
            if fuzzy && typos.is_none() {
                typos = Some(self.typos(&plan, &searcher)?);
            }
            let none = Typos::default();
            let typos = typos.as_ref().unwrap_or(&none);
            let Some(query) = self.query(q, &plan, stage, typos)? else {
                continue;
            };
            found = searcher.search(&query, &collector)?;
            if found.1 >= need {
                break;
            }
        }
        let (top, total) = found;
        let mut ranked = Vec::with_capacity(top.len());
        for (_, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr)?;
            let text = |fl: Field| {
                doc.get_first(fl)
                    .and_then(|v| v.as_str())
                    .unwrap_or_default()
                    .to_string()
            };
            let facts: Facts = serde_json::from_str(&text(f.facts)).unwrap_or_default();
            let summary: Summary = serde_json::from_str(&text(f.summary)).unwrap_or_default();
            let regno = text(f.regno);
            let rank = plan.rank(&facts, summary.place_of_birth.as_deref());
            ranked.push((rank, regno, text(f.municipality), text(f.kind), summary));
        }
        // Name score (with agreeing facts), then the commoner spelling, then the registration
        // number: the same order every time.
        ranked.sort_by(|a, b| {
            b.0.score
                .total_cmp(&a.0.score)
                .then(b.0.spelling.total_cmp(&a.0.spelling))
                .then_with(|| a.1.cmp(&b.1))
        });
        let partial = ranked.first().is_some_and(|r| !r.0.unmatched.is_empty());
        let hits = ranked
            .into_iter()
            .skip(q.offset)
            .take(limit)
            .map(|(rank, regno, municipality, kind, summary)| Hit {
                regno,
                municipality,
                kind,
                score: rank.score,
                summary,
                why: rank.why.iter().map(|w| w.text(Lang::En)).collect(),
                explain: rank.why,
                unmatched: rank.unmatched,
            })
            .collect();
        Ok(Results {
            total,
            hits,
            partial,
        })
    }

    /// What a parsed query asks for, with the index's spellings of each name word.
    fn plan(
        &self,
        parsed: &ParsedQuery,
        searcher: &tantivy::Searcher,
    ) -> Result<Plan, SearchError> {
        let f = &self.f;
        let word = |n: &query::NameWord| -> Result<Word, SearchError> {
            let mut w = Word::new(n);
            // The orthographic spellings the index holds, commonest first (ties by spelling).
            let mut keys: Vec<(String, u64)> = Vec::new();
            for k in &w.expansions {
                let df = searcher.doc_freq(&Term::from_field_text(f.principal_key, k))?
                    + searcher.doc_freq(&Term::from_field_text(f.other_key, k))?;
                if df > 0 {
                    keys.push((k.clone(), df));
                }
            }
            keys.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
            keys.truncate(MAX_KEYS_PER_WORD);
            w.keys = keys;
            Ok(w)
        };
        let mut plan = Plan {
            years: parsed.years.clone(),
            dates: parsed.dates.clone(),
            numbers: parsed
                .numbers
                .iter()
                .map(|n| self.blinder.token(n))
                .collect(),
            ..Plan::default()
        };
        for n in &parsed.names {
            plan.words.push(word(n)?);
        }
        for p in &parsed.places {
            plan.places.push(PlacePart {
                typed: p.typed.clone(),
                display: p.display.clone(),
                codes: p.codes.iter().map(|c| c.to_string()).collect(),
                also_name: p.also_name.as_ref().map(&word).transpose()?,
            });
        }
        // Each name is a clause of its own (with its spellings, phonetic keys and typing
        // distances): their number is bounded however the words are glued together.
        if plan.words.len() + plan.places.len() > MAX_QUERY_TERMS {
            return Err(SearchError::Query(format!(
                "the query names more than {MAX_QUERY_TERMS} words: leave out some words"
            )));
        }
        Ok(plan)
    }

    /// The index query of one stage; `None` when the stage has nothing to ask.
    fn query(
        &self,
        q: &SearchQuery,
        plan: &Plan,
        stage: Stage,
        typos: &Typos,
    ) -> Result<Option<BooleanQuery>, SearchError> {
        let f = &self.f;
        let (strict, fuzzy) = match stage {
            Stage::Strict { fuzzy } => (true, fuzzy),
            Stage::Relaxed => (false, true),
        };
        let mut filters: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // The parts of the query: each required in a strict stage, each optional in the relaxed
        // one (where a record ranks by how much of the query it matches).
        let mut parts: Vec<Box<dyn Query>> = Vec::new();
        for n in &plan.numbers {
            filters.push((Occur::Must, term(f.pnum, n)));
        }
        for (i, w) in plan.words.iter().enumerate() {
            parts.push(self.name_query(w, fuzzy.then(|| typos.word(i))));
        }
        // A year or a date is one value: its postings (a range over the fast field scans the
        // whole column of every segment, which was a third of a relaxed stage's cost at a
        // million records).
        for &y in &plan.years {
            parts.push(konst(value(f.year, y.into()), YEAR_SCORE));
        }
        for d in &plan.dates {
            let mut alts: Vec<Box<dyn Query>> = vec![konst(value(f.dob, days(*d)), DATE_SCORE)];
            if let Some(s) = query::swapped(*d) {
                alts.push(konst(value(f.dob, days(s)), DATE_SCORE * 0.75));
            }
            parts.push(Box::new(DisjunctionMaxQuery::new(alts)));
        }
        for (i, p) in plan.places.iter().enumerate() {
            let mut alts: Vec<Box<dyn Query>> = p
                .codes
                .iter()
                .map(|c| {
                    // A place alone: its records before those of a surname spelled like it.
                    let score = if plan.words.is_empty() {
                        PLACE_ALONE_SCORE
                    } else {
                        PLACE_SCORE
                    };
                    konst(term(f.place, c), score)
                })
                .collect();
            if let Some(w) = &p.also_name {
                alts.push(self.name_query(w, fuzzy.then(|| typos.place(i))));
            }
            parts.push(Box::new(DisjunctionMaxQuery::new(alts)));
        }
        if let Some(b) = q.born {
            let Some((a, z)) = b.bounds() else {
                return Err(SearchError::Query(
                    "that date of birth filter is out of range".into(),
                ));
            };
            filters.push((Occur::Must, range(f.dob, days(a), days(z))));
        }
        if let Some(m) = &q.municipality {
            let codes = gazetteer::resolve_places(m);
            if codes.is_empty() {
                return Err(SearchError::Query(format!(
                    "unknown municipality {m:?}: use a name or code from the gazetteer, e.g. prishtine"
                )));
            }
            let alts = codes.iter().map(|c| term(f.place, c.code)).collect();
            filters.push((Occur::Must, Box::new(DisjunctionMaxQuery::new(alts))));
        }
        if let Some(k) = q.kind {
            filters.push((Occur::Must, term(f.kind, k.as_str())));
        }
        if parts.is_empty() && filters.is_empty() {
            return Err(SearchError::Query(
                "give at least a name, a year, a date, a place or a personal number".into(),
            ));
        }
        if strict {
            filters.extend(parts.into_iter().map(|p| (Occur::Must, p)));
            return Ok(Some(BooleanQuery::new(filters)));
        }
        if parts.is_empty() {
            // Only filters: the strict stage asked exactly this already.
            return Ok(None);
        }
        let any: Vec<(Occur, Box<dyn Query>)> =
            parts.into_iter().map(|p| (Occur::Should, p)).collect();
        filters.push((Occur::Must, Box::new(BooleanQuery::new(any))));
        Ok(Some(BooleanQuery::new(filters)))
    }

    /// How a name word matches, the best way counting: its orthographic spelling (any script,
    /// either community's orthography; the commonest spelling a little above the rarer ones),
    /// its folded spelling, phonetically, and with `typos` (a fuzzy stage) within one typing
    /// difference (two for words of six letters or more). Principals weigh more than parents.
    fn name_query(&self, w: &Word, typos: Option<&WordTypos>) -> Box<dyn Query> {
        let f = &self.f;
        let mut alts: Vec<Box<dyn Query>> = Vec::new();
        // A word labelled as a parent's name ("nëna Drita") is asked of the parents' names
        // only, at a principal's weight (the query said whose name it is).
        let parent = w.role.is_parent();
        let other = if parent { 1.0 } else { OTHER };
        let n = w.keys.len();
        for (rank, (k, _)) in w.keys.iter().enumerate() {
            // Equal spellings rank by how common they are in the register.
            let bonus = SPELLING_STEP * (n - 1 - rank) as f32;
            if !parent {
                alts.push(konst(term(f.principal_key, k), EXACT + bonus));
            }
            alts.push(konst(term(f.other_key, k), EXACT * other + bonus));
        }
        for v in &w.variants {
            if !parent {
                alts.push(konst(term(f.principal, v), FOLDED));
            }
            alts.push(konst(term(f.other, v), FOLDED * other));
        }
        if !w.phonetic.is_empty() {
            if !parent {
                alts.push(konst(term(f.principal_phonetic, &w.phonetic), PHONETIC));
            }
            alts.push(konst(term(f.phonetic, &w.phonetic), PHONETIC * other));
        }
        match typos {
            None => {}
            Some(WordTypos::Terms(terms)) => {
                for (principal, t, distance) in terms {
                    if parent && *principal {
                        continue;
                    }
                    let (field, weight) = if *principal {
                        (f.principal, 1.0)
                    } else {
                        (f.other, other)
                    };
                    alts.push(konst(term(field, t), typo_score(*distance) * weight));
                }
            }
            Some(WordTypos::Many) => {
                // More spellings within typing distance than are worth a clause each: tantivy's
                // fuzzy query, which gathers the documents of every such term in a bitset.
                let fields: &[(Field, f32)] = if parent {
                    &[(f.other, 1.0)]
                } else {
                    &[(f.principal, 1.0), (f.other, OTHER)]
                };
                for &(distance, score) in typo_distances(&w.folded) {
                    for &(field, weight) in fields {
                        alts.push(konst(
                            Box::new(FuzzyTermQuery::new(
                                Term::from_field_text(field, &w.folded),
                                distance,
                                true,
                            )),
                            score * weight,
                        ));
                    }
                }
            }
        }
        Box::new(DisjunctionMaxQuery::new(alts))
    }

    /// The index's spellings within typing distance of every name word of the plan (and of
    /// the places that may be surnames).
    fn typos(&self, plan: &Plan, searcher: &tantivy::Searcher) -> Result<Typos, SearchError> {
        let mut out = Typos::default();
        for w in &plan.words {
            out.words.push(self.word_typos(w, searcher)?);
        }
        for p in &plan.places {
            out.places.push(match &p.also_name {
                Some(w) => self.word_typos(w, searcher)?,
                None => WordTypos::Terms(Vec::new()),
            });
        }
        Ok(out)
    }

    /// The names of the index within one typing difference of `w` (two for words of six letters
    /// or more; none for words shorter than three or longer than `MAX_FUZZY_TERM_CHARS`, as
    /// the cost of a typing-distance automaton grows with the word's length), each with its
    /// distance, read from the term dictionaries of the principals' and the others' names.
    ///
    /// This is what tantivy's fuzzy query matches, listed instead of gathered: that query reads
    /// the documents of every term it matches into a bitset of the whole segment (the word's own
    /// spelling included, tens of thousands of records for a common surname at a million), where
    /// one term query per spelling lets an intersection with the query's other parts skip
    /// through the postings. The spellings the word already matches by its folded forms are
    /// left out (they score higher there).
    fn word_typos(&self, w: &Word, searcher: &tantivy::Searcher) -> Result<WordTypos, SearchError> {
        let Some(&(max, _)) = typo_distances(&w.folded).last() else {
            return Ok(WordTypos::Terms(Vec::new()));
        };
        let dfa = lev_builder(max).build_dfa(&w.folded);
        let mut found: BTreeMap<(bool, String), u8> = BTreeMap::new();
        for (principal, field) in [(true, self.f.principal), (false, self.f.other)] {
            for segment in searcher.segment_readers() {
                let inverted = segment.inverted_index(field)?;
                let mut stream = inverted
                    .terms()
                    .search(Lev(&dfa))
                    .into_stream()
                    .map_err(|e| SearchError::Index(e.into()))?;
                while stream.advance() {
                    let levenshtein_automata::Distance::Exact(d) = dfa.eval(stream.key()) else {
                        continue;
                    };
                    let Ok(text) = std::str::from_utf8(stream.key()) else {
                        continue;
                    };
                    if w.variants.iter().any(|v| v == text) {
                        continue;
                    }
                    let e = found.entry((principal, text.to_string())).or_insert(d);
                    *e = (*e).min(d);
                    if found.len() > MAX_TYPO_TERMS {
                        return Ok(WordTypos::Many);
                    }
                }
            }
        }
        Ok(WordTypos::Terms(
            found.into_iter().map(|((p, t), d)| (p, t, d)).collect(),
        ))
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

/// The records whose indexed integer `field` holds `v`.
fn value(field: Field, v: i64) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_i64(field, v),
        IndexRecordOption::Basic,
    ))
}

fn range(field: Field, from: i64, to: i64) -> Box<dyn Query> {
    Box::new(RangeQuery::new(
        std::ops::Bound::Included(Term::from_field_i64(field, from)),
        std::ops::Bound::Included(Term::from_field_i64(field, to)),
    ))
}

/// A query wrapped to score a constant (the first ranking counts how a part matched, not how
/// rare its term is; [`Plan::rank`] then re-ranks the candidates).
fn konst(q: Box<dyn Query>, score: f32) -> Box<dyn Query> {
    Box::new(ConstScoreQuery::new(q, score))
}

/// The typing distances a word is matched within, with the index-query score of each: one
/// from three letters, two from six, none outside 3..=`MAX_FUZZY_TERM_CHARS` letters.
fn typo_distances(folded: &str) -> &'static [(u8, f32)] {
    match folded.chars().count() {
        len if !(3..=MAX_FUZZY_TERM_CHARS).contains(&len) => &[],
        len if len >= 6 => &[(1, TYPO1), (2, TYPO2)],
        _ => &[(1, TYPO1)],
    }
}

/// The index-query score of a spelling `distance` typing differences from the word (the best
/// of the distances it is within, as tantivy's fuzzy clauses score it).
fn typo_score(distance: u8) -> f32 {
    if distance <= 1 {
        TYPO1
    } else {
        TYPO2
    }
}

/// The Damerau-Levenshtein automaton builder for `distance` (1 or 2), built once: building it
/// is the costly part, each word's automaton then comes from it.
fn lev_builder(distance: u8) -> &'static levenshtein_automata::LevenshteinAutomatonBuilder {
    use levenshtein_automata::LevenshteinAutomatonBuilder;
    use std::sync::OnceLock;
    static ONE: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    static TWO: OnceLock<LevenshteinAutomatonBuilder> = OnceLock::new();
    let cell = if distance <= 1 { &ONE } else { &TWO };
    cell.get_or_init(|| LevenshteinAutomatonBuilder::new(distance.min(2), true))
}

/// A word's typing-distance automaton over a term dictionary (what tantivy's fuzzy query runs).
struct Lev<'a>(&'a levenshtein_automata::DFA);

impl tantivy_fst::Automaton for Lev<'_> {
    type State = u32;

    fn start(&self) -> u32 {
        self.0.initial_state()
    }

    fn is_match(&self, state: &u32) -> bool {
        matches!(
            self.0.distance(*state),
            levenshtein_automata::Distance::Exact(_)
        )
    }

    fn can_match(&self, state: &u32) -> bool {
        *state != levenshtein_automata::SINK_STATE
    }

    fn accept(&self, state: &u32, byte: u8) -> u32 {
        self.0.transition(*state, byte)
    }
}

/// The spellings of the index within typing distance of a name word.
#[derive(Debug, Clone)]
enum WordTypos {
    /// (a principal's name, the spelling, its distance from the word).
    Terms(Vec<(bool, String, u8)>),
    /// More than `MAX_TYPO_TERMS`: matched by tantivy's fuzzy query instead.
    Many,
}

/// [`WordTypos`] of each name word of a plan, and of each place's name reading.
#[derive(Debug, Clone, Default)]
struct Typos {
    words: Vec<WordTypos>,
    places: Vec<WordTypos>,
}

impl Typos {
    fn word(&self, i: usize) -> &WordTypos {
        self.words.get(i).unwrap_or(&WordTypos::Many)
    }

    fn place(&self, i: usize) -> &WordTypos {
        self.places.get(i).unwrap_or(&WordTypos::Many)
    }
}

/// Spellings within typing distance listed for one word before it falls back to tantivy's
/// fuzzy query (a short common word can be near hundreds of names).
const MAX_TYPO_TERMS: usize = 256;

/// Index-query scores of a name word: by its orthographic spelling (exact in either
/// orthography), its folded spelling only (same letters once diacritics are gone, another
/// spelling: `Krasniçi` for `Krasnići`), phonetically, and within one or two typing differences.
const EXACT: f32 = 6.0;
const FOLDED: f32 = 5.5;
const PHONETIC: f32 = 2.5;
const TYPO1: f32 = 1.5;
const TYPO2: f32 = 0.8;
/// A parent's name counts this much of a principal's.
const OTHER: f32 = 0.5;
/// Between two spellings of a word that both match exactly, the commoner one scores this much
/// more per rank (at most `MAX_KEYS_PER_WORD` ranks: below the gap between exact and folded).
const SPELLING_STEP: f32 = 0.05;
const MAX_KEYS_PER_WORD: usize = 8;
const YEAR_SCORE: f32 = 2.0;
const DATE_SCORE: f32 = 3.0;
const PLACE_SCORE: f32 = 2.0;
/// A place that is the query's only words (no name words): above any reading of the same word
/// as a name, so that "Ferizaj" or "Viti" alone lists records of that place, not of the surname
/// Ferizaj or the phonetically close Viita (a clerk adds a given name or year for the surname).
const PLACE_ALONE_SCORE: f32 = EXACT + 1.0;
/// Candidates taken beyond the requested page for re-ranking.
const RERANK_MARGIN: usize = 20;

/// One pass over the index: every part required (without or with typing distance), or every
/// part optional (records ranked by how much of the query they match).
#[derive(Debug, Clone, Copy)]
enum Stage {
    Strict { fuzzy: bool },
    Relaxed,
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;
    use tantivy::collector::DocSetCollector;

    /// An index committed by an older layout (its payload the bare feed positions) is rebuilt
    /// from the store when opened: emptied, its positions back at the beginning; one of this
    /// layout is kept.
    #[test]
    fn an_index_of_an_older_layout_is_rebuilt() {
        let dir = tempfile::tempdir().expect("tempdir");
        let commit = |payload: &str| {
            let index = SearchIndex::open(dir.path()).expect("index");
            let mut w = index.writer.lock().expect("writer");
            let mut d = TantivyDocument::default();
            d.add_text(index.f.regno, "r1");
            w.add_document(d).expect("add");
            let mut c = w.prepare_commit().expect("prepare");
            c.set_payload(payload);
            c.commit().expect("commit");
        };
        let reopened = || {
            let index = SearchIndex::open(dir.path()).expect("index");
            let positions = index.positions.lock().expect("positions").clone();
            (index.len(), positions)
        };
        commit(r#"{"prishtine":5}"#);
        assert_eq!(reopened(), (0, Positions::default()));
        let now = serde_json::to_string(&Payload {
            layout: LAYOUT,
            positions: [("prishtine".to_string(), 5)].into(),
        })
        .expect("payload");
        commit(&now);
        assert_eq!(reopened(), (1, [("prishtine".to_string(), 5)].into()));
    }

    /// The spellings listed within typing distance of a word match the records tantivy's fuzzy
    /// query matches, each at its own distance: the listed term queries stand in for it.
    #[test]
    fn listed_typo_spellings_match_what_the_fuzzy_query_matches() {
        let dir = tempfile::tempdir().expect("tempdir");
        let index = SearchIndex::open(dir.path()).expect("index");
        let names = [
            ("krasniqi", "gashi"),
            ("krasniçi", "berisha"),
            ("kranqi", "krasniqi"),
            ("krasniq", "hoxha"),
            ("ali", "alia"),
            ("alija", "ilir"),
            ("dragana", "dragan"),
            ("radmila", "radomir"),
            ("đinovci", "gjinovci"),
            ("siobhan", "arben"),
        ];
        {
            let mut w = index.writer.lock().expect("writer");
            // Two commits: two segments at least, whose term dictionaries are all read.
            for (i, (principal, other)) in names.iter().enumerate() {
                let mut d = TantivyDocument::default();
                d.add_text(index.f.regno, format!("r{i}"));
                let (mut p, mut o) = (Vec::new(), Vec::new());
                name_terms(principal, &mut p);
                name_terms(other, &mut o);
                for t in &p {
                    d.add_text(index.f.principal, t);
                }
                for t in &o {
                    d.add_text(index.f.other, t);
                }
                w.add_document(d).expect("add");
                if i == names.len() / 2 {
                    w.commit().expect("commit");
                }
            }
            w.commit().expect("commit");
        }
        index.reader.reload().expect("reload");
        let searcher = index.reader.searcher();
        assert!(searcher.segment_readers().len() >= 2);
        let docs = |q: &dyn Query| -> BTreeSet<(u32, u32)> {
            searcher
                .search(q, &DocSetCollector)
                .expect("search")
                .into_iter()
                .map(|a| (a.segment_ord, a.doc_id))
                .collect()
        };
        let mut listed_any = 0;
        for typed in [
            "Krasniqi", "Krasnqi", "Krasnici", "Ali", "Ale", "Dragna", "Radomila", "Đinovci",
            "Gjinovc", "Berisa", "Xyzzyq", "Al",
        ] {
            let parsed = query::parse(typed);
            let word = Word::new(&parsed.names[0]);
            let WordTypos::Terms(listed) = index.word_typos(&word, &searcher).expect("typos")
            else {
                panic!("{typed}: a handful of names is not too many spellings");
            };
            listed_any += listed.len();
            for (principal, field) in [(true, index.f.principal), (false, index.f.other)] {
                let variants: BTreeSet<(u32, u32)> = word
                    .variants
                    .iter()
                    .flat_map(|v| docs(&*term(field, v)))
                    .collect();
                for &(distance, _) in typo_distances(&word.folded) {
                    let fuzzy = docs(&FuzzyTermQuery::new(
                        Term::from_field_text(field, &word.folded),
                        distance,
                        true,
                    ));
                    let by_terms: BTreeSet<(u32, u32)> = listed
                        .iter()
                        .filter(|(p, _, d)| *p == principal && *d <= distance)
                        .flat_map(|(_, t, _)| docs(&*term(field, t)))
                        .collect();
                    // Every listed spelling is within the distance; what the fuzzy query
                    // matches is listed, or one of the word's own folded forms.
                    assert!(
                        by_terms.is_subset(&fuzzy),
                        "{typed} within {distance}: listed {by_terms:?}, fuzzy {fuzzy:?}"
                    );
                    let covered: BTreeSet<_> = by_terms.union(&variants).copied().collect();
                    assert!(
                        fuzzy.is_subset(&covered),
                        "{typed} within {distance}: fuzzy {fuzzy:?}, listed {by_terms:?} and \
                         folded forms {variants:?}"
                    );
                }
            }
        }
        assert!(listed_any > 0, "some spellings are within typing distance");
    }
}
