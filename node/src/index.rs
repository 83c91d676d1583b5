//! The node's search index: in memory only, built from the decrypted records when a search first
//! needs it and kept current by every write. Nothing of it touches the disk, so the at-rest
//! encryption is not weakened by searching.
//!
//! The query is parsed by the same parser as the hub's ([`civreg_shared::query`]): names, years,
//! dates, places of one or more words, personal numbers (with or without a `JMBG:` prefix, and
//! the Albanian letter + 8 digits + letter form). Names are indexed under their folded spellings
//! (any script, with or without diacritics, both spellings of đ), their orthographic keys (the
//! same name in Albanian and Serbian orthography: `Krasnići = Krasniqi`) and phonetic keys; a
//! query term matches a name exactly (also in the other orthography), by spelling variant,
//! phonetically, by prefix, or within edit distance 2, each with a lower score. Every name term
//! of a query must match some name of a record (AND); when no record matches them all, the
//! records matching the most terms are given and marked partial. Years, dates and places add to
//! the score; personal numbers and the `--born`/`--municipality` filters restrict.

use crate::node::RecordState;
use chrono::{Datelike, NaiveDate};
use civreg_shared::gazetteer;
use civreg_shared::model::RecordKind;
use civreg_shared::normalize;
use civreg_shared::query::{self, Agreement};
use serde::Serialize;
use std::collections::HashMap;

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
    /// Why the record matched, one reason per query term.
    pub why: Vec<String>,
    /// The name words of the query this record does not match (a partial answer).
    pub unmatched: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Given,
    Surname,
    OtherSurname,
    FatherName,
}

impl Field {
    fn label(self) -> &'static str {
        match self {
            Field::Given => "given name",
            Field::Surname => "surname",
            Field::OtherSurname => "earlier surname",
            Field::FatherName => "father's name",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    field: Field,
    principal: bool,
    /// Index of the person in the record's people list (0 = first principal).
    person: u8,
}

impl Posting {
    fn weight(&self) -> f32 {
        let w = match self.field {
            Field::Given | Field::Surname => 3.0,
            Field::OtherSurname => 2.5,
            Field::FatherName => 1.5,
        };
        if self.principal {
            w
        } else {
            w / 3.0
        }
    }
}

#[derive(Debug, Clone)]
struct Doc {
    regno: String,
    kind: RecordKind,
    live: bool,
    municipality: String,
    place: Option<&'static str>,
    dobs: Vec<NaiveDate>,
    event: Option<NaiveDate>,
    roles: Vec<&'static str>,
    summary: String,
}

/// The in-memory index over a node's records.
#[derive(Default)]
pub struct Index {
    docs: Vec<Doc>,
    by_regno: HashMap<String, u32>,
    vocab: HashMap<String, u32>,
    words: Vec<String>,
    /// [`letter_bits`] of each word, by word id.
    word_letters: Vec<u64>,
    postings: Vec<Vec<Posting>>,
    by_len: Vec<Vec<u32>>,
    phonetic: HashMap<String, Vec<u32>>,
    /// Orthographic key ([`normalize::orthographic_key`]) → the words written with it.
    ortho: HashMap<String, Vec<u32>>,
    pnums: HashMap<String, Vec<u32>>,
}

/// How a query term met an indexed word.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Match {
    Exact,
    Phonetic,
    Prefix,
    Typo(usize),
}

impl Match {
    fn quality(self) -> f32 {
        match self {
            Match::Exact => 1.0,
            Match::Phonetic => 0.85,
            Match::Prefix => 0.6,
            Match::Typo(1) => 0.7,
            Match::Typo(_) => 0.5,
        }
    }

    fn describe(self) -> String {
        match self {
            Match::Exact => "exact".into(),
            Match::Phonetic => "sounds alike".into(),
            Match::Prefix => "beginning".into(),
            Match::Typo(n) => format!("{n} letter(s) apart"),
        }
    }
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

    fn add_name(&mut self, text: &str, p: Posting) {
        for tok in text.split(|c: char| c.is_whitespace() || c == '-') {
            let key = normalize::orthographic_key(tok);
            if !key.is_empty() && !key.contains(' ') {
                let id = self.word_id(&normalize::fold(tok));
                let ids = self.ortho.entry(key).or_default();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
            for v in normalize::variants(tok) {
                for w in normalize::tokens(&v) {
                    let id = self.word_id(&w);
                    let list = &mut self.postings[id as usize];
                    if !list.last().is_some_and(|l| {
                        l.doc == p.doc && l.person == p.person && l.field == p.field
                    }) {
                        list.push(p);
                    }
                }
            }
        }
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
        let mut dobs = Vec::new();
        let mut roles = Vec::new();
        for (i, p) in people.iter().enumerate() {
            let post = |field| Posting {
                doc,
                field,
                principal: p.principal,
                person: i as u8,
            };
            self.add_name(p.given_name, post(Field::Given));
            self.add_name(p.surname, post(Field::Surname));
            if let Some(o) = p.other_surname {
                self.add_name(o, post(Field::OtherSurname));
            }
            if let Some(f) = p.father_given_name {
                self.add_name(f, post(Field::FatherName));
            }
            if p.principal {
                dobs.extend(p.date_of_birth);
            }
            roles.push(p.role);
            for (_, n) in p.personal_numbers.iter() {
                self.pnums
                    .entry(query::number_key(n))
                    .or_default()
                    .push(doc);
            }
        }
        self.docs.push(Doc {
            regno: st.regno.clone(),
            kind: st.kind,
            live: true,
            municipality: rec.municipality().to_string(),
            place: gazetteer::resolve(rec.event_place()).map(|m| m.code),
            dobs,
            event: rec.event_date(),
            roles,
            summary: rec.summary(),
        });
        self.by_regno.insert(st.regno.clone(), doc);
    }

    /// Indexed words a query term (folded `term`, as typed `typed`) meets, each with how it met.
    fn expand(&self, term: &str, typed: &str) -> Vec<(u32, Match)> {
        let mut found: HashMap<u32, Match> = HashMap::new();
        let mut better = |id: u32, m: Match| {
            let e = found.entry(id).or_insert(m);
            if m.quality() > e.quality() {
                *e = m;
            }
        };
        for v in normalize::variants(term) {
            if let Some(&id) = self.vocab.get(&v) {
                better(id, Match::Exact);
            }
        }
        for k in normalize::orthographic_expansions(typed) {
            for &id in self.ortho.get(&k).map(Vec::as_slice).unwrap_or(&[]) {
                better(id, Match::Exact);
            }
        }
        if let Some(ids) = self.phonetic.get(&normalize::phonetic_key(term)) {
            for &id in ids {
                better(id, Match::Phonetic);
            }
        }
        let len = term.chars().count();
        let max = if len <= 3 {
            0
        } else if len <= 5 {
            1
        } else {
            2
        };
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
                    if let Some(d) = within(term, &self.words[id as usize], max) {
                        if d > 0 {
                            better(id, Match::Typo(d));
                        }
                    }
                }
            }
        }
        if len >= 3 {
            for l in (len + 1)..self.by_len.len() {
                for &id in &self.by_len[l] {
                    if self.words[id as usize].starts_with(term) {
                        better(id, Match::Prefix);
                    }
                }
            }
        }
        found.into_iter().collect()
    }

    pub fn search(&self, q: &Query) -> Vec<SearchHit> {
        let parsed = query::parse(&q.text);
        let pnum_terms = parsed.numbers.clone();
        let years = parsed.years.clone();
        let dates = parsed.dates.clone();
        // (folded, typed) name words.
        let mut name_terms: Vec<(String, String)> = parsed
            .names
            .iter()
            .map(|n| (n.folded.clone(), n.typed.clone()))
            .collect();
        let mut places: Vec<Vec<&'static str>> = Vec::new();
        for p in &parsed.places {
            match &p.also_name {
                // A single word that is also an indexed name stays a name.
                Some(n) if self.vocab.contains_key(&n.folded) => {
                    name_terms.push((n.folded.clone(), n.typed.clone()));
                }
                _ => places.push(p.codes.clone()),
            }
        }
        let municipality = q.municipality.as_deref();

        // Per name term: for each record it meets, the best way it meets it. Only numbers here;
        // the explanation is written for the records returned, not for every candidate.
        let term_maps: Vec<HashMap<u32, Best>> = name_terms
            .iter()
            .map(|(t, typed)| {
                let mut m: HashMap<u32, Best> = HashMap::new();
                for (word, how) in self.expand(t, typed) {
                    for p in &self.postings[word as usize] {
                        let score = how.quality() * p.weight();
                        let e = m.entry(p.doc).or_insert(Best {
                            score: 0.0,
                            word,
                            post: *p,
                            how,
                        });
                        if score > e.score {
                            *e = Best {
                                score,
                                word,
                                post: *p,
                                how,
                            };
                        }
                    }
                }
                m
            })
            .collect();
        let pnum_docs: Vec<&[u32]> = pnum_terms
            .iter()
            .map(|t| self.pnums.get(t).map(Vec::as_slice).unwrap_or(&[]))
            .collect();

        let has_terms = !term_maps.is_empty() || !pnum_docs.is_empty();
        if !has_terms
            && years.is_empty()
            && dates.is_empty()
            && places.is_empty()
            && q.born.is_none()
            && municipality.is_none()
        {
            return Vec::new();
        }
        // Candidates: the records every term meets, starting from the rarest term; when none
        // does, the records any term meets, ranked by how much of the query they match.
        let run = |partial: bool| -> Vec<(u32, f32)> {
            let candidates: Vec<u32> = if let Some(docs) = pnum_docs.iter().min_by_key(|d| d.len())
            {
                docs.to_vec()
            } else if partial {
                let mut all: Vec<u32> = term_maps.iter().flat_map(|m| m.keys().copied()).collect();
                all.sort_unstable();
                all.dedup();
                all
            } else if let Some(m) = term_maps.iter().min_by_key(|m| m.len()) {
                m.keys().copied().collect()
            } else {
                (0..self.docs.len() as u32).collect()
            };
            let mut scored: Vec<(u32, f32)> = Vec::new();
            for d in candidates {
                let doc = &self.docs[d as usize];
                if !doc.live {
                    continue;
                }
                if !pnum_docs.iter().all(|docs| docs.contains(&d)) {
                    continue;
                }
                let mut score = 10.0 * pnum_docs.len() as f32;
                let mut all = true;
                for m in &term_maps {
                    match m.get(&d) {
                        Some(b) => score += b.score,
                        None => all = false,
                    }
                }
                if !all && !partial {
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
                let bonus = bonuses(doc, &years, &dates, &places, None);
                if !has_terms && bonus <= 0.0 && q.born.is_none() && municipality.is_none() {
                    continue;
                }
                scored.push((d, score + bonus));
            }
            scored
        };
        let mut scored = run(false);
        if scored.is_empty() && term_maps.len() > 1 {
            scored = run(true);
        }
        let order = |a: &(u32, f32), b: &(u32, f32)| {
            b.1.partial_cmp(&a.1)
                .unwrap_or(std::cmp::Ordering::Equal)
                .then_with(|| {
                    self.docs[a.0 as usize]
                        .regno
                        .cmp(&self.docs[b.0 as usize].regno)
                })
        };
        let limit = q.limit.max(1);
        if scored.len() > limit {
            scored.select_nth_unstable_by(limit - 1, order);
            scored.truncate(limit);
        }
        scored.sort_by(order);
        scored
            .into_iter()
            .map(|(d, score)| {
                let doc = &self.docs[d as usize];
                let mut why: Vec<String> = pnum_docs
                    .iter()
                    .map(|_| "personal number: exact".to_string())
                    .collect();
                let mut unmatched = Vec::new();
                for ((t, typed), m) in name_terms.iter().zip(&term_maps) {
                    let Some(b) = m.get(&d) else {
                        unmatched.push(typed.clone());
                        why.push(format!("{typed:?}: no such name in this record"));
                        continue;
                    };
                    let role = doc.roles.get(b.post.person as usize).copied().unwrap_or("");
                    why.push(format!(
                        "{t:?} ~ {role} {} {:?} ({})",
                        b.post.field.label(),
                        self.words[b.word as usize],
                        b.how.describe()
                    ));
                }
                bonuses(doc, &years, &dates, &places, Some(&mut why));
                SearchHit {
                    regno: doc.regno.clone(),
                    kind: doc.kind,
                    summary: doc.summary.clone(),
                    score,
                    why,
                    unmatched,
                }
            })
            .collect()
    }
}

/// How one name term best meets a record.
#[derive(Debug, Clone, Copy)]
struct Best {
    score: f32,
    word: u32,
    post: Posting,
    how: Match,
}

/// Score added by years, dates and places in the query; with `why`, also says what matched.
fn bonuses(
    doc: &Doc,
    years: &[i32],
    dates: &[NaiveDate],
    places: &[Vec<&'static str>],
    mut why: Option<&mut Vec<String>>,
) -> f32 {
    let mut score = 0.0;
    let mut say = |s: String| {
        if let Some(w) = why.as_deref_mut() {
            w.push(s);
        }
    };
    let dates_of_doc = || doc.dobs.iter().chain(doc.event.iter());
    for y in years {
        if dates_of_doc().any(|x| x.year() == *y) {
            score += 2.0;
            say(format!("year {y}"));
        }
    }
    for dt in dates {
        // The best agreement of any of the record's dates.
        match dates_of_doc()
            .filter_map(|x| query::agreement(*dt, *x))
            .min()
        {
            Some(Agreement::Exact) => {
                score += 3.0;
                say(format!("date {dt}"));
            }
            Some(Agreement::Swapped) => {
                score += 1.5;
                say(format!("date {dt} with day and month swapped"));
            }
            Some(Agreement::SameYear) => {
                score += 0.5;
                say(format!("year of {dt}"));
            }
            None => {}
        }
    }
    for codes in places {
        if let Some(p) = codes
            .iter()
            .find(|p| doc.place == Some(**p) || doc.municipality == **p)
        {
            score += 1.5;
            say(format!("place {p}"));
        }
    }
    score
}

#[cfg(test)]
mod tests {
    use super::*;

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
        use serde_json::json;
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
            let (want, needles): (&str, Vec<String>) = match row.reading {
                Reading::Number(_) => (&a, vec!["personal number: exact".into()]),
                Reading::Year(y) => (&a, vec![format!("year {y}")]),
                Reading::Date {
                    ymd: d,
                    swapped: None,
                } => (&a, vec![format!("date {}", ymd(d))]),
                Reading::Date {
                    ymd: d,
                    swapped: Some(_),
                } => (
                    &b,
                    vec![format!("date {} with day and month swapped", ymd(d))],
                ),
                Reading::Place(codes) => (&a, vec![format!("place {}", codes[0])]),
                Reading::Names(words) => (&a, words.iter().map(|w| format!("{w:?} ~")).collect()),
            };
            let hits = n.search(&Query::text(row.text)).unwrap();
            let hit = hits.iter().find(|h| h.regno == want);
            let Some(hit) = hit else {
                panic!("{:?}: {want} not found: {hits:?}", row.text);
            };
            for needle in &needles {
                assert!(
                    hit.why.iter().any(|w| w.contains(needle.as_str())),
                    "{:?}: {needle:?} not in {:?}",
                    row.text,
                    hit.why
                );
            }
            if matches!(row.reading, Reading::Number(_)) {
                assert_eq!(hits.len(), 1, "{:?}: {hits:?}", row.text);
            }
        }
    }
}
