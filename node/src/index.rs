//! The node's search index: in memory only, built from the decrypted records when a search first
//! needs it and kept current by every write. Nothing of it touches the disk, so the at-rest
//! encryption is not weakened by searching.
//!
//! The query is parsed by the same parser as the hub's ([`civreg_shared::query`]): names, years,
//! dates, places of one or more words, personal numbers (with or without a `JMBG:` prefix, and
//! the Albanian letter + 8 digits + letter form). Names are indexed under their folded spellings
//! (any script, with or without diacritics, both spellings of đ), their orthographic keys (the
//! same name in Albanian and Serbian orthography: `Krasnići = Krasniqi`) and phonetic keys; the
//! words a query word may meet are found there (exactly, also in the other orthography,
//! phonetically, by prefix, or within the typing distance), and how each written name behind
//! them meets it is decided by the hub's rule ([`Word::meet`]).
//!
//! Candidates are the records whose names meet every name word of the query; when there are
//! none, the records meeting any. They are ranked by the one rule of the hub and the nodes
//! ([`civreg_shared::query::rank`]): the name words within one person, the principal before the
//! parents, one word of a record's name answering at most one word of the query ("Gashi Gashi" is
//! no full match of a record with one Gashi); years, dates, places and personal numbers that
//! agree add to the score; equal scores go to the commoner spelling, then to the registration
//! number. A hit explains each part of the query as data ([`Why`], said in the reader's language
//! through the catalogues) and lists the parts it does not match (a partial answer). Personal
//! numbers and the `--born`/`--municipality` filters restrict.

use crate::node::RecordState;
use chrono::NaiveDate;
use civreg_shared::gazetteer;
use civreg_shared::i18n::Lang;
use civreg_shared::model::RecordKind;
use civreg_shared::normalize;
use civreg_shared::query::rank::{Facts, How, Meet, Meets, NameField, Plan, Rank, Word};
use civreg_shared::query::{self, Why};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// The date-of-birth filter of `--born` and the search page: the shared one.
pub use civreg_shared::query::{DateFilter, DateFilterError};

/// A search request.
#[derive(Debug, Clone)]
pub struct Query {
    /// Free text: names in any script, years, dates, places, personal numbers.
    pub text: String,
    pub born: Option<DateFilter>,
    /// A municipality code: the record's registering municipality or place of event.
    pub municipality: Option<String>,
    pub limit: usize,
}

impl Query {
    pub fn text(t: &str) -> Query {
        Query {
            text: t.to_string(),
            born: None,
            municipality: None,
            limit: 20,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SearchHit {
    pub regno: String,
    pub kind: RecordKind,
    pub summary: String,
    pub score: f32,
    /// Why the record matched, one line per part of the query, in English: [`SearchHit::explain`]
    /// said in [`Lang::En`].
    pub why: Vec<String>,
    /// The same as data, for each reader to say in their language ([`Why::text`]).
    pub explain: Vec<Why>,
    /// The parts of the query this record does not match (a partial answer).
    pub unmatched: Vec<String>,
}

#[derive(Debug, Clone)]
struct Doc {
    regno: String,
    kind: RecordKind,
    live: bool,
    municipality: String,
    place: Option<&'static str>,
    /// The principals' dates of birth (for `--born`).
    dobs: Vec<NaiveDate>,
    /// The persons, places and date of birth that ranking reads.
    facts: Facts,
    /// Per person, each word of their names as `Person::parts` numbers them: its field and
    /// its written id ([`Index::written`]).
    parts: Vec<Vec<(NameField, u32)>>,
    place_of_birth: Option<String>,
    summary: String,
}

/// The in-memory index over a node's records.
#[derive(Default)]
pub struct Index {
    docs: Vec<Doc>,
    by_regno: HashMap<String, u32>,
    /// Folded words (every variant of every written name word), by word id. Sorted, so that
    /// the words beginning with a query word are one range ([`Index::expand`]).
    vocab: BTreeMap<String, u32>,
    words: Vec<String>,
    /// [`letter_bits`] of each word, by word id.
    word_letters: Vec<u64>,
    /// The records holding each word, by word id.
    postings: Vec<Vec<u32>>,
    /// The written name words each word id is a variant of.
    word_written: Vec<Vec<u32>>,
    by_len: Vec<Vec<u32>>,
    phonetic: HashMap<String, Vec<u32>>,
    /// Orthographic key ([`normalize::orthographic_key`]) → the words written with it.
    ortho: HashMap<String, Vec<u32>>,
    /// Name words as written in the records (one token, with their diacritics and script), by
    /// written id; with the word id whose records count as the spelling's frequency.
    written: HashMap<String, u32>,
    written_words: Vec<(String, u32)>,
    pnums: HashMap<String, Vec<u32>>,
}

/// The letters of a word as a set of 64 bits (each letter hashed to one bit). For two words
/// within `k` edits (optimal string alignment), each of the two has at most `k` letters the other
/// lacks: an insertion, deletion or substitution adds or removes at most one letter of each
/// side, a swap none. So when either side's bits not in the other exceed `k`, the words are
/// further apart than `k` ([`letters_within`]); letters sharing a bit only make the test pass
/// more often, never fail wrongly. It spares [`within`]'s table for nearly every word of a large
/// vocabulary (a typo search at 200,000 records scored every word of the query's length ± 2).
fn letter_bits(w: &str) -> u64 {
    w.chars().fold(0u64, |m, c| m | 1u64 << (c as u32 % 64))
}

/// Whether words with letter sets `a` and `b` can be within `max` edits (see [`letter_bits`]).
fn letters_within(a: u64, b: u64, max: usize) -> bool {
    (a & !b).count_ones() as usize <= max && (b & !a).count_ones() as usize <= max
}

/// Switches the letter-set test before the typo distance off (`false`) or on (the default):
/// for benchmarks only, to measure before and after in one run (`web_bench`).
#[doc(hidden)]
pub fn set_typo_prefilter(on: bool) {
    TYPO_PREFILTER.store(on, std::sync::atomic::Ordering::Relaxed);
}

static TYPO_PREFILTER: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Switches the sorted lookup of the words a query word begins off (`false`: every longer word of
/// the vocabulary is compared, as before) or on (the default): for benchmarks only, to measure
/// before and after in one run (`web_bench --before prefix`).
#[doc(hidden)]
pub fn set_prefix_range(on: bool) {
    PREFIX_RANGE.store(on, std::sync::atomic::Ordering::Relaxed);
}

static PREFIX_RANGE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Switches the per-candidate ranking's shortcuts off (`false`: each name word looked up in a
/// SipHash map, every candidate's rank kept until the end, as before) or on (the default): for
/// benchmarks only, to measure before and after in one run (`web_bench --before rank`).
#[doc(hidden)]
pub fn set_fast_rank(on: bool) {
    FAST_RANK.store(on, std::sync::atomic::Ordering::Relaxed);
}

static FAST_RANK: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(true);

/// Bounded edit distance (optimal string alignment: insert, delete, substitute, or swap two
/// adjacent letters): `None` when over `max`.
fn within(a: &str, b: &str, max: usize) -> Option<usize> {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    if a.len().abs_diff(b.len()) > max {
        return None;
    }
    let mut prev2: Vec<usize> = vec![0; b.len() + 1];
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        let mut row_min = cur[0];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cur[j] = cur[j].min(prev2[j - 2] + 1);
            }
            row_min = row_min.min(cur[j]);
        }
        if row_min > max {
            return None;
        }
        std::mem::swap(&mut prev2, &mut prev);
        std::mem::swap(&mut prev, &mut cur);
    }
    let d = prev[b.len()];
    (d <= max).then_some(d)
}

impl Index {
    fn word_id(&mut self, w: &str) -> u32 {
        if let Some(&id) = self.vocab.get(w) {
            return id;
        }
        let id = self.words.len() as u32;
        self.words.push(w.to_string());
        self.word_letters.push(letter_bits(w));
        self.vocab.insert(w.to_string(), id);
        self.postings.push(Vec::new());
        self.word_written.push(Vec::new());
        let len = w.chars().count();
        if self.by_len.len() <= len {
            self.by_len.resize(len + 1, Vec::new());
        }
        self.by_len[len].push(id);
        self.phonetic
            .entry(normalize::phonetic_key(w))
            .or_default()
            .push(id);
        id
    }

    /// Indexes one written name word of record `doc`; returns its written id.
    fn add_part(&mut self, tok: &str, doc: u32) -> u32 {
        let known = self.written.get(tok).copied();
        let wid = known.unwrap_or(self.written_words.len() as u32);
        let mut first = None;
        let key = normalize::orthographic_key(tok);
        if !key.is_empty() && !key.contains(' ') {
            let id = self.word_id(&normalize::fold(tok));
            first = Some(id);
            let ids = self.ortho.entry(key).or_default();
            if !ids.contains(&id) {
                ids.push(id);
            }
        }
        for v in normalize::variants(tok) {
            for w in normalize::tokens(&v) {
                let id = self.word_id(&w);
                first.get_or_insert(id);
                let list = &mut self.postings[id as usize];
                if list.last() != Some(&doc) {
                    list.push(doc);
                }
                if known.is_none() {
                    let ws = &mut self.word_written[id as usize];
                    if !ws.contains(&wid) {
                        ws.push(wid);
                    }
                }
            }
        }
        if known.is_none() {
            // A word with no letters still gets an id, so that parts stay numbered as written.
            self.written_words
                .push((tok.to_string(), first.unwrap_or(u32::MAX)));
            self.written.insert(tok.to_string(), wid);
        }
        wid
    }

    /// Number of live (not void, not superseded) records.
    pub fn len(&self) -> usize {
        self.docs.iter().filter(|d| d.live).count()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Adds or replaces a record. Void records leave the search.
    pub fn upsert(&mut self, st: &RecordState) {
        if let Some(old) = self.by_regno.remove(&st.regno) {
            self.docs[old as usize].live = false;
        }
        if st.voided.is_some() {
            return;
        }
        let Ok(rec) = st.record() else { return };
        let doc = self.docs.len() as u32;
        let people = rec.people();
        let municipality = rec.municipality().to_string();
        let place = gazetteer::resolve(rec.event_place()).map(|m| m.code);
        let mut places = vec![municipality.clone()];
        places.extend(place.map(str::to_string));
        let facts = Facts::of(&people, places);
        let mut parts = Vec::with_capacity(facts.persons.len());
        for person in &facts.persons {
            let mine: Vec<(NameField, u32)> = person
                .parts()
                .map(|(field, tok)| (field, self.add_part(tok, doc)))
                .collect();
            parts.push(mine);
        }
        let mut dobs = Vec::new();
        for p in &people {
            if p.principal {
                dobs.extend(p.date_of_birth);
            }
            for (_, n) in p.personal_numbers.iter() {
                self.pnums
                    .entry(query::number_key(n))
                    .or_default()
                    .push(doc);
            }
        }
        let place_of_birth = Some(rec.event_place().to_string()).filter(|p| !p.is_empty());
        self.docs.push(Doc {
            regno: st.regno.clone(),
            kind: st.kind,
            live: true,
            municipality,
            place,
            dobs,
            facts,
            parts,
            place_of_birth,
            summary: rec.summary(),
        });
        self.by_regno.insert(st.regno.clone(), doc);
    }

    /// Indexed words a query term (folded `term`, as typed `typed`) may meet: the same letters
    /// (also in the other orthography), phonetically, within the typing distance of
    /// [`Word::max_typos`], or by their beginning. [`Word::meet`] then says how each written name
    /// behind them meets the term, as it does at the hub.
    fn expand(&self, term: &str, typed: &str, max: usize) -> Vec<u32> {
        let mut found: Vec<u32> = Vec::new();
        for v in normalize::variants(term) {
            if let Some(&id) = self.vocab.get(&v) {
                found.push(id);
            }
        }
        for k in normalize::orthographic_expansions(typed) {
            found.extend(self.ortho.get(&k).map(Vec::as_slice).unwrap_or(&[]));
        }
        if let Some(ids) = self.phonetic.get(&normalize::phonetic_key(term)) {
            found.extend(ids);
        }
        let len = term.chars().count();
        if max > 0 {
            let lo = len.saturating_sub(max);
            let hi = (len + max).min(self.by_len.len().saturating_sub(1));
            let bits = letter_bits(term);
            let prefilter = TYPO_PREFILTER.load(std::sync::atomic::Ordering::Relaxed);
            for l in lo..=hi {
                for &id in self.by_len.get(l).map(Vec::as_slice).unwrap_or(&[]) {
                    if prefilter && !letters_within(bits, self.word_letters[id as usize], max) {
                        continue;
                    }
                    if within(term, &self.words[id as usize], max).is_some_and(|d| d > 0) {
                        found.push(id);
                    }
                }
            }
        }
        if len >= 3 {
            if PREFIX_RANGE.load(std::sync::atomic::Ordering::Relaxed) {
                // The longer words that begin with the term: one range of the sorted vocabulary
                // (the term itself, first in it, is no prefix match).
                found.extend(
                    self.vocab
                        .range::<str, _>((
                            std::ops::Bound::Excluded(term),
                            std::ops::Bound::Unbounded,
                        ))
                        .take_while(|(w, _)| w.starts_with(term))
                        .map(|(_, &id)| id),
                );
            } else {
                for l in (len + 1)..self.by_len.len() {
                    for &id in &self.by_len[l] {
                        if self.words[id as usize].starts_with(term) {
                            found.push(id);
                        }
                    }
                }
            }
        }
        found.sort_unstable();
        found.dedup();
        found
    }

    /// How one query word meets the index: each written name word it meets, and how (by
    /// [`Word::meet`], the hub's rule), and the records holding them.
    fn lookup(&self, w: &Word) -> Lookup {
        let mut how: HashMap<u32, Option<How>> = HashMap::new();
        let mut docs: Vec<u32> = Vec::new();
        for id in self.expand(&w.folded, &w.typed, w.max_typos()) {
            let mut any = false;
            for &wid in &self.word_written[id as usize] {
                let h = *how
                    .entry(wid)
                    .or_insert_with(|| w.meet(&self.written_words[wid as usize].0));
                any |= h.is_some();
            }
            if any {
                docs.extend_from_slice(&self.postings[id as usize]);
            }
        }
        docs.sort_unstable();
        docs.dedup();
        let mut hits: Vec<(u32, How, u64)> = how
            .iter()
            .filter_map(|(&wid, h)| {
                let word = self.written_words[wid as usize].1;
                let df = self.postings.get(word as usize).map_or(0, Vec::len) as u64;
                h.map(|h| (wid, h, df))
            })
            .collect();
        hits.sort_unstable_by_key(|h| h.0);
        Lookup {
            typed: w.typed.clone(),
            folded: w.folded.clone(),
            how,
            hits,
            docs,
        }
    }

    /// What [`Word::meets`] gives for the persons of `doc`, from the lookups: each name word of
    /// each person looked up in the sorted list of written names the query word meets
    /// ([`Lookup::hits`]).
    fn meets(&self, doc: &Doc, lookups: &[Lookup], w: &Word, fast: bool) -> Meets {
        let Some(l) = lookups
            .iter()
            .find(|l| l.typed == w.typed && l.folded == w.folded)
        else {
            return vec![Vec::new(); doc.parts.len()];
        };
        if !fast {
            return self.meets_hashed(doc, l, w);
        }
        doc.parts
            .iter()
            .map(|parts| {
                let mut mine = Vec::new();
                for (no, &(field, wid)) in parts.iter().enumerate() {
                    if let Ok(i) = l.hits.binary_search_by_key(&wid, |h| h.0) {
                        let (_, how, df) = l.hits[i];
                        mine.push((no, Meet::new(how, field, w.role, df)));
                    }
                }
                mine
            })
            .collect()
    }

    /// [`Index::meets`] as it was before the sorted list (a SipHash lookup of every name word, the
    /// spelling's record count looked up again): for the benchmark's "before" only
    /// ([`set_fast_rank`]).
    fn meets_hashed(&self, doc: &Doc, l: &Lookup, w: &Word) -> Meets {
        doc.parts
            .iter()
            .map(|parts| {
                parts
                    .iter()
                    .enumerate()
                    .filter_map(|(no, (field, wid))| {
                        let how = l.how.get(wid).copied().flatten()?;
                        let word = self.written_words[*wid as usize].1;
                        let df = self.postings.get(word as usize).map_or(0, Vec::len) as u64;
                        Some((no, Meet::new(how, *field, w.role, df)))
                    })
                    .collect()
            })
            .collect()
    }

    pub fn search(&self, q: &Query) -> Vec<SearchHit> {
        self.search_with(q, FAST_RANK.load(std::sync::atomic::Ordering::Relaxed))
    }

    /// [`Index::search`], with the per-candidate ranking's shortcuts (`fast`) or without them
    /// (as before them, for the benchmark's "before" and the test that both answer the same).
    fn search_with(&self, q: &Query, fast: bool) -> Vec<SearchHit> {
        let parsed = query::parse(&q.text);
        let mut plan = Plan::of(&parsed);
        // The node also meets a name by its beginning ("Gash"), as clerks type.
        for w in plan
            .words
            .iter_mut()
            .chain(plan.places.iter_mut().filter_map(|p| p.also_name.as_mut()))
        {
            w.prefix = true;
        }
        let municipality = q.municipality.as_deref();
        let lookups: Vec<Lookup> = plan
            .words
            .iter()
            .chain(plan.places.iter().filter_map(|p| p.also_name.as_ref()))
            .map(|w| self.lookup(w))
            .collect();
        let terms = &lookups[..plan.words.len()];
        let pnum_docs: Vec<&[u32]> = plan
            .numbers
            .iter()
            .map(|t| self.pnums.get(t).map(Vec::as_slice).unwrap_or(&[]))
            .collect();

        let has_terms = !terms.is_empty() || !pnum_docs.is_empty();
        if plan.is_empty() && q.born.is_none() && municipality.is_none() {
            return Vec::new();
        }
        let rank = |d: u32, explain: bool| -> Rank {
            let doc = &self.docs[d as usize];
            plan.rank_with(
                &doc.facts,
                doc.place_of_birth.as_deref(),
                &|w: &Word| self.meets(doc, &lookups, w, fast),
                explain,
            )
        };
        // Score, then the commoner spelling, then the registration number: the same order every
        // time. A total order (one live record per registration number), so the first `limit`
        // are the same whether they are picked at the end or on the way.
        let order = |a: &(u32, Rank), b: &(u32, Rank)| {
            b.1.score
                .total_cmp(&a.1.score)
                .then(b.1.spelling.total_cmp(&a.1.spelling))
                .then_with(|| {
                    self.docs[a.0 as usize]
                        .regno
                        .cmp(&self.docs[b.0 as usize].regno)
                })
        };
        let limit = q.limit.max(1);
        // Candidates: the records every name word meets, starting from the rarest; when none
        // does, the records any meets. Ranked by one rule with the hub ([`Plan::rank_with`]).
        let run = |partial: bool| -> Vec<(u32, Rank)> {
            let candidates: Vec<u32> = if let Some(docs) = pnum_docs.iter().min_by_key(|d| d.len())
            {
                docs.to_vec()
            } else if partial {
                let mut all: Vec<u32> = terms.iter().flat_map(|l| l.docs.iter().copied()).collect();
                all.sort_unstable();
                all.dedup();
                all
            } else if let Some(l) = terms.iter().min_by_key(|l| l.docs.len()) {
                l.docs.clone()
            } else {
                (0..self.docs.len() as u32).collect()
            };
            let mut scored: Vec<(u32, Rank)> = Vec::new();
            for d in candidates {
                let doc = &self.docs[d as usize];
                if !doc.live {
                    continue;
                }
                if !pnum_docs.iter().all(|docs| docs.contains(&d)) {
                    continue;
                }
                if !partial && !terms.iter().all(|l| l.docs.binary_search(&d).is_ok()) {
                    continue;
                }
                if let Some(f) = &q.born {
                    if !doc.dobs.iter().any(|x| f.matches(*x)) {
                        continue;
                    }
                }
                if let Some(m) = municipality {
                    if doc.municipality != m && doc.place != Some(m) {
                        continue;
                    }
                }
                let r = rank(d, false);
                // Only facts asked (a year, a place): the records that agree with one.
                if !has_terms && r.score <= 0.0 && q.born.is_none() && municipality.is_none() {
                    continue;
                }
                scored.push((d, r));
                // Only the first `limit` are shown: keep at most twice that, cutting back to the
                // best `limit` when full, instead of every candidate's rank until the end.
                if fast && scored.len() >= limit.saturating_mul(2) {
                    scored.select_nth_unstable_by(limit - 1, order);
                    scored.truncate(limit);
                }
            }
            scored
        };
        let mut scored = run(false);
        if scored.is_empty() && terms.len() > 1 {
            scored = run(true);
        }
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit - 1, order);
            scored.truncate(limit);
        }
        scored.sort_by(order);
        scored
            .into_iter()
            .map(|(d, r)| {
                let doc = &self.docs[d as usize];
                let explained = rank(d, true);
                SearchHit {
                    regno: doc.regno.clone(),
                    kind: doc.kind,
                    summary: doc.summary.clone(),
                    score: r.score,
                    why: explained.why.iter().map(|w| w.text(Lang::En)).collect(),
                    explain: explained.why,
                    unmatched: r.unmatched,
                }
            })
            .collect()
    }
}

/// How one query word meets the index.
struct Lookup {
    typed: String,
    folded: String,
    /// Written id → how the word meets that written name (`None`: it does not).
    how: HashMap<u32, Option<How>>,
    /// The written names it meets: written id, how, and how many records hold the spelling
    /// ([`Meet::df`]); sorted by written id, for [`Index::meets`] to search per candidate.
    hits: Vec<(u32, How, u64)>,
    /// The records holding a name it meets (sorted).
    docs: Vec<u32>,
}

#[cfg(test)]
mod tests {
    use super::*;

    use civreg_shared::query::{DateAgrees, WhyField};
    use serde_json::json;

    fn born(given: &str, surname: &str, mother: (&str, &str, &str)) -> serde_json::Value {
        json!({
            "child": {"given_name": given, "surname": surname, "sex": "female",
                      "date_of_birth": "1990-05-06"},
            "place_of_birth": "Prishtinë",
            "mother": {"given_name": mother.0, "surname": mother.1, "maiden_surname": mother.2}
        })
    }

    /// One word of a record's name answers one word of the query: "Gashi Gashi" fully matches
    /// a record with two Gashis (the child's surname and the mother's), and only partly one with
    /// a single Gashi, which says which word it lacks.
    #[test]
    fn one_query_word_one_name() {
        let n = crate::node::Node::in_memory("prishtine", "1").unwrap();
        let c = crate::node::Node::clerk_unchecked("drita");
        let reg = |d| n.register(&c, RecordKind::Birth, d).unwrap().regno;
        // Registered first, so that a tie would put it first.
        let one = reg(born("Besa", "Gashi", ("Vjosa", "Berisha", "Shala")));
        let two = reg(born("Besa", "Gashi", ("Vjosa", "Gashi", "Shala")));
        let hits = n.search(&Query::text("Gashi Gashi")).unwrap();
        let regnos: Vec<&str> = hits.iter().map(|h| h.regno.as_str()).collect();
        assert_eq!(regnos, [two.as_str(), one.as_str()], "{hits:?}");
        assert!(hits[0].unmatched.is_empty(), "{hits:?}");
        assert_eq!(hits[1].unmatched, ["Gashi"], "{hits:?}");
        assert!(
            hits[1].explain.contains(&Why::NoName {
                word: "Gashi".into()
            }),
            "{:?}",
            hits[1].explain
        );
        // One Gashi alone is a full match of both.
        let hits = n.search(&Query::text("Gashi")).unwrap();
        assert!(hits.iter().all(|h| h.unmatched.is_empty()), "{hits:?}");
    }

    /// The given name and the surname of a query match within one person of a record, the
    /// principal (the child) before a parent, and a parent who bears both before a record that
    /// has them on two people; each line says whose name and which field matched, in every
    /// language of the catalogues.
    #[test]
    fn a_name_matches_within_one_person_the_principal_first() {
        let n = crate::node::Node::in_memory("prishtine", "1").unwrap();
        let c = crate::node::Node::clerk_unchecked("drita");
        let reg = |d| n.register(&c, RecordKind::Birth, d).unwrap().regno;
        // Drita on the child, Gashi on the mother: the name split across two people.
        let split = reg(born("Drita", "Berisha", ("Vjosa", "Gashi", "Shala")));
        // The mother is Drita, born Gashi.
        let mother = reg(born("Besnik", "Krasniqi", ("Drita", "Krasniqi", "Gashi")));
        // The child is Drita Gashi.
        let child = reg(born("Drita", "Gashi", ("Vjosa", "Gashi", "Hoxha")));
        let hits = n.search(&Query::text("Drita Gashi")).unwrap();
        let regnos: Vec<&str> = hits.iter().map(|h| h.regno.as_str()).collect();
        assert_eq!(
            regnos,
            [child.as_str(), mother.as_str(), split.as_str()],
            "{hits:#?}"
        );
        let fields = |h: &SearchHit| -> Vec<(String, WhyField)> {
            h.explain
                .iter()
                .filter_map(|w| match w {
                    Why::Name { role, field, .. } => Some((role.clone(), *field)),
                    _ => None,
                })
                .collect()
        };
        assert_eq!(
            fields(&hits[0]),
            [
                ("child".to_string(), WhyField::Given),
                ("child".to_string(), WhyField::Surname)
            ]
        );
        assert_eq!(
            fields(&hits[1]),
            [
                ("mother".to_string(), WhyField::Given),
                ("mother".to_string(), WhyField::Birth)
            ]
        );
        for lang in Lang::ALL {
            let line = hits[1].explain[1].text(lang);
            assert!(!line.contains("search-"), "{lang:?}: {line}");
            if lang != Lang::En {
                assert_ne!(line, hits[1].why[1], "{lang:?} says it in English");
            }
        }
        assert_eq!(hits[1].why[1], hits[1].explain[1].text(Lang::En));
    }

    /// The words a query word begins are found in the sorted vocabulary: every longer word that
    /// begins with it (Latin, diacritics, Cyrillic; words sorting right after it and far after
    /// it), as comparing every word of the vocabulary finds them.
    #[test]
    fn every_word_a_term_begins_is_found() {
        let mut ix = Index::default();
        let words = [
            "gash",
            "gashi",
            "gashaj",
            "gashia",
            "gasha",
            "gashë",
            "gashiqi",
            "gasi",
            "gas",
            "gat",
            "krasniqi",
            "krasniq",
            "krasniqaj",
            "krasnici",
            "kras",
            "јован",
            "јовановић",
            "јованка",
            "јо",
            "zgash",
            "ga",
            "gashizzzzzz",
        ];
        for w in words {
            ix.word_id(w);
        }
        for term in [
            "gas",
            "gash",
            "gashi",
            "kras",
            "krasniq",
            "јов",
            "јован",
            "zzz",
        ] {
            let found = ix.expand(term, term, 0);
            let want: Vec<u32> = words
                .iter()
                .filter(|w| w.starts_with(term) && **w != term)
                .map(|w| ix.vocab[*w])
                .collect();
            assert!(!want.is_empty() || term == "zzz");
            for id in want {
                assert!(
                    found.contains(&id),
                    "{term:?} does not find {:?}: {found:?}",
                    ix.words[id as usize]
                );
            }
        }
    }

    /// A generated office of namesakes: births with given names, surnames and mothers drawn
    /// from short lists (Albanian and Serbian, Latin and Cyrillic, double surnames, a given name
    /// that is also a surname), some with a father, years and places varied.
    fn namesakes(records: usize) -> crate::node::Node {
        let n = crate::node::Node::in_memory("prishtine", "1").unwrap();
        let c = crate::node::Node::clerk_unchecked("drita");
        let given = [
            "Arben",
            "Arbën",
            "Drita",
            "Besnik",
            "Vjosa",
            "Ђорђе",
            "Милица",
            "Marko",
            "Jelena",
            "Agim",
            "Shpresa",
            "Gashi",
            "Dritë",
        ];
        let surnames = [
            "Gashi",
            "Krasniqi",
            "Krasnići",
            "Краснићи",
            "Berisha",
            "Hoxha",
            "Gashaj",
            "Јовановић",
            "Jovanović",
            "Shala",
            "Kelmendi",
            "Gashi-Krasniqi",
        ];
        let places = ["Prishtinë", "Prizren", "Fushë Kosovë", "Pejë"];
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |k: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % k as u64) as usize
        };
        for _ in 0..records {
            let surname = surnames[next(surnames.len())];
            let mut child = json!({
                "given_name": given[next(given.len())], "surname": surname,
                "sex": if next(2) == 0 { "male" } else { "female" },
                "date_of_birth": format!("{}-{:02}-{:02}", 1965 + next(12), 1 + next(12), 1 + next(28)),
            });
            if next(3) == 0 {
                child["father_given_name"] = json!(given[next(given.len())]);
            }
            let mut doc = json!({
                "child": child,
                "place_of_birth": places[next(places.len())],
                "mother": {"given_name": given[next(given.len())], "surname": surname,
                           "maiden_surname": surnames[next(surnames.len())]},
            });
            if next(2) == 0 {
                doc["father"] = json!({"given_name": given[next(given.len())], "surname": surname});
            }
            n.register(&c, RecordKind::Birth, doc).unwrap();
        }
        n
    }

    /// The per-candidate ranking's shortcuts (written names found in a sorted list, only the
    /// best `limit` kept on the way) answer exactly as ranking every candidate did: the same
    /// records in the same order, with the same scores, explanations and unmatched parts, for
    /// names in both orthographies and scripts, typos, beginnings, a name with a year or a
    /// place, words no single record has (the partial answer), filters, and limits from one
    /// to more than there are candidates.
    #[test]
    fn ranking_shortcuts_answer_as_ranking_every_candidate() {
        let n = namesakes(1200);
        n.ensure_index().unwrap();
        let guard = n.lock_index();
        let ix = guard.as_ref().unwrap();
        let texts = [
            "Krasniqi",
            "Krasnići",
            "Краснићи",
            "Gashi",
            "Gash",
            "Gasih",
            "Gashi Gashi",
            "Drita Gashi",
            "Gashi Drita",
            "Arben Arben Krasniqi",
            "Arben Krasniqi 1971",
            "Jovanovic",
            "Милица Јовановић 1970",
            "Berisha Prizren",
            "Drita Hoxha Shala",
            "Shpresa Zzzzz",
            "1971",
            "Pejë",
            "Drita 14.03.1970",
        ];
        let (mut compared, mut cut) = (0, 0);
        for text in texts {
            for limit in [1, 2, 3, 20, 5000] {
                for filter in 0..3 {
                    let mut q = Query::text(text);
                    q.limit = limit;
                    match filter {
                        1 => q.born = Some(DateFilter::parse("1968..1972").unwrap()),
                        2 => q.municipality = Some("prizren".into()),
                        _ => {}
                    }
                    let fast = ix.search_with(&q, true);
                    let every = ix.search_with(&q, false);
                    assert_eq!(
                        format!("{fast:?}"),
                        format!("{every:?}"),
                        "{text:?}, limit {limit}, filter {filter}"
                    );
                    compared += 1;
                    cut += usize::from(every.len() == limit && limit > 1);
                }
            }
        }
        // The answers were cut at the limit often enough for a dropped record to show.
        assert!(cut > 100, "{cut} of {compared} answers cut at the limit");
    }

    /// Among hundreds of namesakes, the few whose year agrees rank first wherever they were
    /// registered, and among them the lowest registration numbers, however small the limit.
    #[test]
    fn the_best_are_found_wherever_they_are_among_the_candidates() {
        let n = crate::node::Node::in_memory("prishtine", "1").unwrap();
        let c = crate::node::Node::clerk_unchecked("drita");
        let mut agree = Vec::new();
        for i in 0..300 {
            let year = if [7, 150, 151, 299].contains(&i) {
                1971
            } else {
                1980
            };
            let regno = n
                .register(
                    &c,
                    RecordKind::Birth,
                    json!({
                        "child": {"given_name": "Arben", "surname": "Krasniqi", "sex": "male",
                                  "date_of_birth": format!("{year}-05-06")},
                        "place_of_birth": "Prishtinë",
                        "mother": {"given_name": "Drita", "surname": "Krasniqi"}
                    }),
                )
                .unwrap()
                .regno;
            if year == 1971 {
                agree.push(regno);
            }
        }
        agree.sort();
        for limit in 1..=4 {
            let mut q = Query::text("Arben Krasniqi 1971");
            q.limit = limit;
            let hits = n.search(&q).unwrap();
            let regnos: Vec<&str> = hits.iter().map(|h| h.regno.as_str()).collect();
            assert_eq!(regnos, agree[..limit], "limit {limit}");
        }
    }

    #[test]
    fn bounded_distance() {
        assert_eq!(within("arbn", "arben", 1), Some(1));
        assert_eq!(within("gashi", "gashi", 2), Some(0));
        assert_eq!(within("krasniqi", "krasnici", 2), Some(1));
        assert_eq!(within("abc", "xyz", 2), None);
        assert_eq!(within("berisha", "bersiha", 1), Some(1), "transposition");
    }

    /// The letter-set test never turns away a word the edit distance would accept: random words
    /// (Latin with diacritics and Cyrillic, so letters share bits) and random edits of them.
    #[test]
    fn the_letter_test_keeps_every_word_within_the_distance() {
        let alphabet: Vec<char> = "abcdeëfghijklmnopqrsçtuvwxyzžđćčшђжћчабвгдеиклмнопрстуц"
            .chars()
            .collect();
        let mut seed = 0x2545_F491_4F6C_DD1Du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut near, mut spared) = (0, 0);
        for _ in 0..20_000 {
            let len = 1 + next(10);
            let a: Vec<char> = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let mut b = a.clone();
            for _ in 0..next(4) {
                let i = next(b.len() + 1);
                match next(4) {
                    0 => b.insert(i, alphabet[next(alphabet.len())]),
                    1 if i < b.len() => {
                        b.remove(i);
                    }
                    2 if i < b.len() => b[i] = alphabet[next(alphabet.len())],
                    _ if i + 1 < b.len() => b.swap(i, i + 1),
                    _ => {}
                }
            }
            // Sometimes an unrelated word: the test must also turn words away.
            if next(3) == 0 {
                b = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            }
            let (a, b): (String, String) = (a.into_iter().collect(), b.into_iter().collect());
            for max in 1..=2 {
                let passes = letters_within(letter_bits(&a), letter_bits(&b), max);
                if within(&a, &b, max).is_some() {
                    near += 1;
                    assert!(
                        passes,
                        "{a:?} and {b:?} are within {max} but the letters say no"
                    );
                } else if !passes {
                    spared += 1;
                }
            }
        }
        assert!(
            near > 5_000 && spared > 5_000,
            "{near} near, {spared} spared"
        );
    }

    #[test]
    fn date_filters() {
        assert_eq!(DateFilter::parse("1968").unwrap(), DateFilter::Year(1968));
        assert!(matches!(
            DateFilter::parse("1968-03-14").unwrap(),
            DateFilter::Day(_)
        ));
        let r = DateFilter::parse("1965..1970").unwrap();
        assert!(r.matches(NaiveDate::from_ymd_opt(1970, 12, 31).unwrap()));
        assert!(!r.matches(NaiveDate::from_ymd_opt(1971, 1, 1).unwrap()));
        assert!(DateFilter::parse("1970..1965").is_err());
        assert!(DateFilter::parse("68").is_err());
        assert!(DateFilter::parse("1968-13-01").is_err());
    }

    /// The node reads every row of the shared table of tricky query texts as the table says: it
    /// finds the record the reading points to, for that reason. The hub's search is held to the
    /// same table (`hub/tests/search.rs`), so the two cannot read a word differently.
    #[test]
    fn the_shared_table_of_tricky_texts_is_read_as_it_says() {
        use civreg_shared::query::tokens::{Reading, TRICKY};
        /// Whether a hit's explanation says what the reading expects.
        type Says = Box<dyn Fn(&[Why]) -> bool>;
        let n = crate::node::Node::in_memory("prishtine", "1").unwrap();
        let c = crate::node::Node::clerk_unchecked("drita");
        let shpresa = json!({
            "child": {"given_name": "Shpresa", "surname": "Krasniqi-Gashi", "sex": "female",
                      "date_of_birth": "1968-03-14",
                      "personal_numbers": {"jmbg": "1403968955005", "albanian": "G85314001T"}},
            "place_of_birth": "Fushë Kosovë",
            "mother": {"given_name": "Drita", "surname": "Krasniqi", "maiden_surname": "Hoxha"}
        });
        let besa = json!({
            "child": {"given_name": "Besa", "surname": "Berisha", "sex": "female",
                      "date_of_birth": "1968-04-03"},
            "place_of_birth": "Prishtinë",
            "mother": {"given_name": "Vjosa", "surname": "Berisha", "maiden_surname": "Shala"}
        });
        let a = n.register(&c, RecordKind::Birth, shpresa).unwrap().regno;
        let b = n.register(&c, RecordKind::Birth, besa).unwrap().regno;
        let ymd = |(y, m, d): (i32, u32, u32)| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        for row in TRICKY {
            // The record the reading points to, and the line of its explanation that says so.
            let (want, says): (&str, Says) = match row.reading {
                Reading::Number(_) => (&a, Box::new(|w| w.contains(&Why::Number))),
                Reading::Year(y) => (
                    &a,
                    Box::new(move |w| {
                        w.iter().any(
                            |l| matches!(l, Why::Year { year, agrees: true, .. } if *year == y),
                        )
                    }),
                ),
                Reading::Date { ymd: d, swapped } => {
                    let (want, how) = match swapped {
                        None => (&a, DateAgrees::Exact),
                        Some(_) => (&b, DateAgrees::Swapped),
                    };
                    let date = ymd(d).to_string();
                    (
                        want,
                        Box::new(move |w| {
                            w.iter().any(|l| {
                                matches!(l, Why::Date { date: t, agrees, .. }
                                    if *t == date && *agrees == how)
                            })
                        }),
                    )
                }
                Reading::Place(_) => (
                    &a,
                    Box::new(|w| w.iter().any(|l| matches!(l, Why::Place { .. }))),
                ),
                Reading::Names(words) => (
                    &a,
                    Box::new(move |w| {
                        w.iter().filter(|l| matches!(l, Why::Name { .. })).count() == words.len()
                            && !w.iter().any(|l| matches!(l, Why::NoName { .. }))
                    }),
                ),
            };
            let hits = n.search(&Query::text(row.text)).unwrap();
            let hit = hits.iter().find(|h| h.regno == want);
            let Some(hit) = hit else {
                panic!("{:?}: {want} not found: {hits:?}", row.text);
            };
            assert!(says(&hit.explain), "{:?}: {:?}", row.text, hit.explain);
            assert!(hit.unmatched.is_empty(), "{:?}: {hit:?}", row.text);
            if matches!(row.reading, Reading::Number(_)) {
                assert_eq!(hits.len(), 1, "{:?}: {hits:?}", row.text);
            }
        }
    }
}
