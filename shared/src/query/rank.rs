//! One query, one person: how a record answers a parsed query, the same rule for the hub's
//! national search and the node's local one. Each engine finds its candidates its own way (the
//! hub through tantivy, the node through its postings); both rank and explain them here.
//!
//! - The name words of a query count **within one person** of the record, the principal
//!   (child, deceased, spouse) before the parents ([`NON_PRINCIPAL`]).
//! - **One query word, one name** ([`Plan::assign`]): a word of a record's name answers at most
//!   one word of the query, so "Gashi Gashi" is no full match of a record with one Gashi, and
//!   in "Arben Arben Gërguri" the second Arben must be another name (the father's).
//! - A word the person does not have counts less when another person of the record has it
//!   (fully for a child's father's given name: the Albanian "given, father's, surname").
//! - Agreeing facts (year, date, place, personal number) add [`FACT`] each; a place alone counts
//!   above the reading of the same word as a name.
//! - Every part of the query is explained ([`Why`]: whose name, which field, how) or listed as
//!   unmatched.
//!
//! How a query word meets one written name is [`Word::meet`]; an engine that already knows
//! (the node, from its vocabulary) gives [`Plan::rank`] the same answers through its `meets`
//! argument, so the rule above is written once.

use super::{agreement, Agreement, DateAgrees, NameRole, NameWord, Why, WhyField, WhyHow};
use crate::model::PersonView;
use crate::normalize;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};

/// A name word matched in a person who is not a principal counts this much.
pub const NON_PRINCIPAL: f32 = 0.7;
/// The query's first name word is the given name of the person it is about (a tie-breaker,
/// below any difference in how the words match).
pub const GIVEN_FIRST: f32 = 0.01;
/// A fact of the query (year, date, place, personal number) that agrees counts this much of a
/// name word matched exactly.
pub const FACT: f32 = 0.5;

/// A person of a record as ranking needs them (no personal numbers). The hub stores these in its
/// index (JSON): the field names are part of its layout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub role: String,
    pub principal: bool,
    #[serde(default)]
    pub born: Option<NaiveDate>,
    pub given: String,
    pub surname: String,
    /// Surname at birth or before marriage.
    #[serde(default)]
    pub other: Option<String>,
    /// The father's given name, written in this person's own entry.
    #[serde(default)]
    pub father: Option<String>,
}

impl Person {
    pub fn of(p: &PersonView<'_>) -> Person {
        Person {
            role: p.role.to_string(),
            principal: p.principal,
            born: p.date_of_birth,
            given: p.given_name.to_string(),
            surname: p.surname.to_string(),
            other: p.other_surname.map(str::to_string),
            father: p.father_given_name.map(str::to_string),
        }
    }

    /// The words of this person's names, in the order that numbers them within the person
    /// (given name, surname, surname at birth, father's name; each split at spaces and hyphens).
    pub fn parts(&self) -> impl Iterator<Item = (NameField, &str)> {
        [
            (NameField::Given, Some(&self.given)),
            (NameField::Surname, Some(&self.surname)),
            (NameField::Birth, self.other.as_ref()),
            (NameField::Father, self.father.as_ref()),
        ]
        .into_iter()
        .flat_map(|(field, text)| {
            text.into_iter()
                .flat_map(|t| name_parts(t))
                .map(move |p| (field, p))
        })
    }

    /// Why `word` met this person's `field`, `how`.
    fn why(&self, word: &str, field: WhyField, how: How) -> Why {
        Why::Name {
            word: word.to_string(),
            person: format!("{} {}", self.given, self.surname),
            born_as: self.other.clone(),
            role: self.role.clone(),
            field,
            how: how.why(),
        }
    }
}

/// The words of a name field: split at spaces and hyphens (a double surname is two words).
pub fn name_parts(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| c.is_whitespace() || c == '-')
        .filter(|p| !p.is_empty())
}

/// What ranking needs of a record (no personal numbers).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Facts {
    pub persons: Vec<Person>,
    /// Municipality codes: the registering one, and the place of birth's.
    pub places: Vec<String>,
    /// The first principal's date of birth.
    pub dob: Option<NaiveDate>,
}

impl Facts {
    /// The persons of a record (`Record::people`) and its municipality codes.
    pub fn of(people: &[PersonView<'_>], places: Vec<String>) -> Facts {
        Facts {
            persons: people.iter().map(Person::of).collect(),
            places,
            dob: people
                .iter()
                .filter(|p| p.principal)
                .find_map(|p| p.date_of_birth),
        }
    }
}

/// A field of a person's name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameField {
    Given,
    Surname,
    /// Surname at birth or before marriage.
    Birth,
    Father,
}

impl NameField {
    fn why(self) -> WhyField {
        match self {
            NameField::Given => WhyField::Given,
            NameField::Surname => WhyField::Surname,
            NameField::Birth => WhyField::Birth,
            NameField::Father => WhyField::Father,
        }
    }

    /// How much a match in this field counts for a word meant as `role`.
    pub fn weight(self, role: NameRole) -> f32 {
        match (self, role) {
            (NameField::Birth, NameRole::Birth) => 1.0,
            (_, NameRole::Birth) => 0.8,
            (NameField::Given | NameField::Surname, NameRole::Any) => 1.0,
            (NameField::Birth, NameRole::Any) => 0.9,
            (NameField::Father, NameRole::Any) => 0.8,
            // A parent's given name as the query labels it ("nëna Drita"): met by that
            // parent's given name (or, for the father, the father's name written in the
            // person's own entry); see [`Plan::rank_with`].
            (NameField::Given | NameField::Father, NameRole::Mother | NameRole::Father) => 1.0,
            (NameField::Surname | NameField::Birth, NameRole::Mother | NameRole::Father) => 0.3,
        }
    }
}

/// How a query word met a name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum How {
    Exact,
    Orthography,
    Folded,
    Phonetic,
    Typos(usize),
    /// The name begins with the word (only where the engine asks for it: [`Word::prefix`]).
    Prefix,
}

impl How {
    pub fn quality(self) -> f32 {
        match self {
            How::Exact | How::Orthography => 1.0,
            How::Folded => 0.95,
            How::Phonetic => 0.8,
            How::Typos(1) => 0.6,
            How::Prefix => 0.5,
            How::Typos(_) => 0.45,
        }
    }

    pub fn why(self) -> WhyHow {
        match self {
            How::Exact => WhyHow::Exact,
            How::Orthography => WhyHow::Orthography,
            How::Folded => WhyHow::Folded,
            How::Phonetic => WhyHow::Phonetic,
            How::Typos(d) => WhyHow::Typos(u32::try_from(d).unwrap_or(u32::MAX)),
            How::Prefix => WhyHow::Prefix,
        }
    }
}

/// The best way a word met one name word of a person.
#[derive(Debug, Clone, Copy)]
pub struct Meet {
    pub value: f32,
    pub field: NameField,
    pub how: How,
    /// How many records hold the spelling met (ties between equal matches go to the commoner).
    pub df: u64,
}

impl Meet {
    pub fn new(how: How, field: NameField, role: NameRole, df: u64) -> Meet {
        Meet {
            value: how.quality() * field.weight(role),
            field,
            how,
            df,
        }
    }
}

/// One name word of a query, with what matching it needs.
#[derive(Debug, Clone)]
pub struct Word {
    pub typed: String,
    pub folded: String,
    pub role: NameRole,
    pub variants: Vec<String>,
    pub phonetic: String,
    /// Every orthographic spelling the word may stand for.
    pub expansions: Vec<String>,
    /// Those the engine's records hold, with how many records hold each, commonest first (for
    /// [`Meet::df`]; may be empty).
    pub keys: Vec<(String, u64)>,
    /// Whether a name that begins with the word meets it ([`How::Prefix`]).
    pub prefix: bool,
}

impl Word {
    pub fn new(n: &NameWord) -> Word {
        Word {
            typed: n.typed.clone(),
            folded: n.folded.clone(),
            role: n.role,
            variants: normalize::variants(&n.folded),
            phonetic: normalize::phonetic_key(&n.folded),
            expansions: normalize::orthographic_expansions(&n.typed),
            keys: Vec::new(),
            prefix: false,
        }
    }

    /// How many records hold this orthographic spelling (from [`Word::keys`]).
    pub fn df(&self, key: &str) -> u64 {
        self.keys
            .iter()
            .find(|(k, _)| k == key)
            .map_or(0, |(_, n)| *n)
    }

    /// The typing differences allowed for this word: none up to 2 letters, one up to 5, then
    /// two.
    pub fn max_typos(&self) -> usize {
        match self.folded.chars().count() {
            0..=2 => 0,
            3..=5 => 1,
            _ => 2,
        }
    }

    /// How this word meets one name (one word of a name field, as written in the record).
    pub fn meet(&self, written: &str) -> Option<How> {
        let folded = normalize::fold(written);
        if folded.is_empty() {
            return None;
        }
        let same_letters =
            self.variants.contains(&folded) || normalize::variants(written).contains(&self.folded);
        let key = normalize::orthographic_key(written);
        if self.expansions.contains(&key) {
            return Some(if same_letters {
                How::Exact
            } else {
                How::Orthography
            });
        }
        if same_letters {
            return Some(How::Folded);
        }
        if !self.phonetic.is_empty() && normalize::phonetic_key(&folded) == self.phonetic {
            return Some(How::Phonetic);
        }
        let max = self.max_typos();
        let d = strsim::damerau_levenshtein(&folded, &self.folded);
        if max > 0 && d <= max {
            return Some(How::Typos(d));
        }
        (self.prefix && self.folded.chars().count() >= 3 && folded.starts_with(&self.folded))
            .then_some(How::Prefix)
    }

    /// Every way this word meets each person: per person, each name word (numbered within the
    /// person as [`Person::parts`] does) that it meets, and how.
    pub fn meets(&self, persons: &[Person]) -> Meets {
        persons
            .iter()
            .map(|p| {
                p.parts()
                    .enumerate()
                    .filter_map(|(no, (field, part))| {
                        self.meet(part).map(|how| {
                            let df = self.df(&normalize::orthographic_key(part));
                            (no, Meet::new(how, field, self.role, df))
                        })
                    })
                    .collect()
            })
            .collect()
    }
}

/// A place named in a query.
#[derive(Debug, Clone)]
pub struct PlacePart {
    pub typed: String,
    pub display: String,
    pub codes: Vec<String>,
    /// A one-word place that may also be a surname.
    pub also_name: Option<Word>,
}

/// What a query asks for, ready for ranking.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub words: Vec<Word>,
    pub places: Vec<PlacePart>,
    pub years: Vec<i32>,
    pub dates: Vec<NaiveDate>,
    /// The personal numbers, in the form the engine looks them up (the hub: blind tokens);
    /// ranking only counts them (a candidate holds them all).
    pub numbers: Vec<String>,
}

/// A candidate's place in the answer, and why.
#[derive(Debug, Clone)]
pub struct Rank {
    pub score: f32,
    /// Sum of ln(1 + records holding each matched spelling): among equal scores, commoner
    /// spellings first.
    pub spelling: f32,
    /// One line per part of the query (empty unless asked for).
    pub why: Vec<Why>,
    /// The parts of the query this record does not match (empty for a full match).
    pub unmatched: Vec<String>,
}

/// Up to this many (query word, name) pairs, [`Plan::assign`] picks the strongest free pair
/// again after each choice instead of sorting them all (no allocation; at most this many pairs
/// looked at per choice).
const ASSIGN_SELECT: usize = 32;

/// Per person, each name word (numbered within the person) that a query word meets, and how.
pub type Meets = Vec<Vec<(usize, Meet)>>;

/// Per query word, what it meets (see [`Word::meets`]).
pub type Table = Vec<Meets>;

impl Plan {
    /// The plan of a parsed query, without the engine's spellings ([`Word::keys`]) and with
    /// personal numbers as parsed.
    pub fn of(parsed: &super::ParsedQuery) -> Plan {
        Plan {
            words: parsed.names.iter().map(Word::new).collect(),
            places: parsed
                .places
                .iter()
                .map(|p| PlacePart {
                    typed: p.typed.clone(),
                    display: p.display.clone(),
                    codes: p.codes.iter().map(|c| c.to_string()).collect(),
                    also_name: p.also_name.as_ref().map(Word::new),
                })
                .collect(),
            years: parsed.years.clone(),
            dates: parsed.dates.clone(),
            numbers: parsed.numbers.clone(),
        }
    }

    /// Whether the query asks for anything.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
            && self.places.is_empty()
            && self.years.is_empty()
            && self.dates.is_empty()
            && self.numbers.is_empty()
    }

    /// The best single way a word meets one person (any of their name words).
    fn best(cands: &[(usize, Meet)]) -> Option<Meet> {
        cands
            .iter()
            .map(|(_, m)| *m)
            .fold(None, |b: Option<Meet>, m| match b {
                Some(b) if b.value >= m.value => Some(b),
                _ => Some(m),
            })
    }

    /// Which query word each name word of person `i` answers: **one query word, one name**. A
    /// name word of the record answers at most one word of the query (so in "Arben Arben
    /// Gërguri" the given name Arben answers the first word only, and the second must be met by
    /// another name: the father's). The strongest pairs are taken first (the earlier query word
    /// first among equals), the same way every time.
    pub fn assign(table: &[Meets], i: usize) -> Vec<Option<Meet>> {
        Self::assign_where(table, i, |_| true)
    }

    /// [`Plan::assign`] over the query words `own` keeps (the others are left unanswered).
    fn assign_where(table: &[Meets], i: usize, own: impl Fn(usize) -> bool) -> Vec<Option<Meet>> {
        let mut out: Vec<Option<Meet>> = vec![None; table.len()];
        let mine = |wi: usize| {
            if own(wi) {
                table[wi].get(i).map(Vec::as_slice).unwrap_or(&[])
            } else {
                &[]
            }
        };
        let count: usize = (0..table.len()).map(|wi| mine(wi).len()).sum();
        if count <= ASSIGN_SELECT {
            // Few pairs (a person meets a query word in one or two names): the strongest pair
            // still free, picked again after each choice, is the same pair as the next one the
            // sorted walk below would accept (a pair once turned away stays turned away), with
            // no list to build and sort. The names used are bits of one `u64`, so only for
            // names numbered below 64 (more only in hostile input: the sorted walk below).
            if (0..table.len()).all(|wi| mine(wi).iter().all(|(part, _)| *part < 64)) {
                let mut used = 0u64;
                loop {
                    let mut best: Option<(usize, usize, Meet)> = None;
                    for (wi, slot) in out.iter().enumerate() {
                        if slot.is_some() {
                            continue;
                        }
                        for &(part, m) in mine(wi) {
                            if used & (1u64 << part) != 0 {
                                continue;
                            }
                            // Stronger first, then the earlier query word, then the earlier name.
                            if best.is_none_or(|(bw, bp, b)| {
                                m.value
                                    .total_cmp(&b.value)
                                    .then(bw.cmp(&wi))
                                    .then(bp.cmp(&part))
                                    .is_gt()
                            }) {
                                best = Some((wi, part, m));
                            }
                        }
                    }
                    let Some((wi, part, m)) = best else { break };
                    out[wi] = Some(m);
                    used |= 1u64 << part;
                }
                return out;
            }
        }
        Self::assign_sorted(table.len(), mine)
    }

    /// The pick by sorting: every pair of (query word, name) that `mine` gives sorted, strongest
    /// first (then the earlier query word, then the earlier name), and the free ones taken in
    /// that order. [`Plan::assign_where`] picks without sorting when there are few pairs.
    fn assign_sorted<'a>(
        words: usize,
        mine: impl Fn(usize) -> &'a [(usize, Meet)],
    ) -> Vec<Option<Meet>> {
        let mut pairs: Vec<(usize, usize, Meet)> = Vec::new();
        for wi in 0..words {
            for (part, m) in mine(wi) {
                pairs.push((wi, *part, *m));
            }
        }
        pairs.sort_by(|a, b| {
            b.2.value
                .total_cmp(&a.2.value)
                .then(a.0.cmp(&b.0))
                .then(a.1.cmp(&b.1))
        });
        let mut out: Vec<Option<Meet>> = vec![None; words];
        let mut used: Vec<usize> = Vec::new();
        for (wi, part, m) in pairs {
            if out[wi].is_none() && !used.contains(&part) {
                out[wi] = Some(m);
                used.push(part);
            }
        }
        out
    }

    /// Ranks one candidate from the written names of its persons ([`Word::meets`]), explained.
    pub fn rank(&self, facts: &Facts, place_of_birth: Option<&str>) -> Rank {
        self.rank_with(
            facts,
            place_of_birth,
            &|w: &Word| w.meets(&facts.persons),
            true,
        )
    }

    /// Ranks one candidate (see the module documentation). `meets` gives, for a word of the
    /// plan, what [`Word::meets`] would give for `facts.persons`; `explain` asks for the
    /// [`Rank::why`] lines (an engine that ranks many candidates explains only those it shows).
    pub fn rank_with(
        &self,
        facts: &Facts,
        place_of_birth: Option<&str>,
        meets: &dyn Fn(&Word) -> Meets,
        explain: bool,
    ) -> Rank {
        let persons = &facts.persons;
        let table: Table = self.words.iter().map(meets).collect();
        // How each person answers the query's words on their own (one name word, one query
        // word); a word labelled as a parent's name ("nëna Drita") is never the person's own.
        let own: Vec<Vec<Option<Meet>>> = (0..persons.len())
            .map(|i| Self::assign_where(&table, i, |wi| !self.words[wi].role.is_parent()))
            .collect();
        // A word labelled as a parent's given name, met as such for `main`: the mother's given
        // name (a child's mother in the record), the father's (a child's father in the record,
        // or the father's name written in `main`'s own entry).
        let parent = |main: usize, wi: usize| -> Option<(Meet, usize)> {
            let role = self.words[wi].role;
            let child = persons[main].role == "child";
            let mut best: Option<(Meet, usize)> = None;
            for (j, cands) in table[wi].iter().enumerate() {
                for (_, m) in cands {
                    let fits = match role {
                        NameRole::Mother => {
                            j != main
                                && child
                                && persons[j].role == "mother"
                                && m.field == NameField::Given
                        }
                        NameRole::Father => {
                            (j == main && m.field == NameField::Father)
                                || (j != main
                                    && child
                                    && persons[j].role == "father"
                                    && m.field == NameField::Given)
                        }
                        NameRole::Any | NameRole::Birth => false,
                    };
                    if fits && best.is_none_or(|(b, _)| m.value > b.value) {
                        best = Some((*m, j));
                    }
                }
            }
            best
        };
        // The best way another person than `main` answers word `wi`, weighed by who they are.
        let spill = |main: usize, wi: usize| -> Option<(f32, usize)> {
            let mut best: Option<(f32, usize)> = None;
            for (j, cands) in table[wi].iter().enumerate() {
                let Some(m) = Self::best(cands) else { continue };
                if j == main {
                    continue;
                }
                let main_role = persons[main].role.as_str();
                let w = match (main_role, persons[j].role.as_str(), m.field) {
                    ("child", "father", NameField::Given) => 0.8,
                    ("child", "mother", NameField::Given | NameField::Birth) => 0.5,
                    _ => 0.3,
                };
                let v = m.value * w;
                if best.is_none_or(|(b, _)| v > b) {
                    best = Some((v, j));
                }
            }
            best
        };
        // The person the query is about.
        let mut main: Option<(f32, usize)> = None;
        for (i, p) in persons.iter().enumerate() {
            let pw = if p.principal { 1.0 } else { NON_PRINCIPAL };
            let s: f32 = (0..self.words.len())
                .map(|wi| match own[i][wi] {
                    Some(m) => m.value * pw,
                    None if self.words[wi].role.is_parent() => {
                        parent(i, wi).map_or(0.0, |(m, _)| m.value * pw)
                    }
                    None => spill(i, wi).map_or(0.0, |(v, _)| v),
                })
                .sum();
            if main.is_none_or(|(b, _)| s > b) {
                main = Some((s, i));
            }
        }
        let (mut score, main) = main.unwrap_or((0.0, 0));
        // The given name comes first in the Albanian "given, father's, surname": among equal
        // scores, the person whose given name is the query's first name word goes first
        // ("Arben Ukë Mustafa" is Arben son of Ukë, not Ukë son of Arben).
        if own
            .get(main)
            .and_then(|o| o.first().copied().flatten())
            .is_some_and(|m| m.field == NameField::Given)
        {
            score += GIVEN_FIRST;
        }
        let mut spelling = 0.0;
        let mut why = Vec::new();
        let mut unmatched = Vec::new();
        for (wi, w) in self.words.iter().enumerate() {
            let mine = own.get(main).and_then(|o| o[wi]);
            let (m, who) = match mine {
                Some(m) => (Some(m), main),
                None if w.role.is_parent() => match parent(main, wi) {
                    Some((m, j)) => (Some(m), j),
                    None => (None, main),
                },
                None => match spill(main, wi) {
                    Some((_, j)) => (Self::best(&table[wi][j]), j),
                    None => (None, main),
                },
            };
            match m {
                Some(m) => {
                    spelling += (1.0 + m.df as f32).ln();
                    if explain {
                        let p = &persons[who];
                        let field =
                            if who != main && m.field == NameField::Given && p.role == "father" {
                                WhyField::FathersGiven
                            } else {
                                m.field.why()
                            };
                        why.push(p.why(&w.typed, field, m.how));
                    }
                }
                None => {
                    if explain {
                        why.push(Why::NoName {
                            word: w.typed.clone(),
                        });
                    }
                    unmatched.push(w.typed.clone());
                }
            }
        }
        // The dates of the person the query is about (or the record's principal).
        let born = persons.get(main).and_then(|p| p.born).or(facts.dob);
        let born_text = || born.map(|d| d.to_string());
        for y in &self.years {
            let agrees = born.is_some_and(|d| d.year() == *y);
            if agrees {
                score += FACT;
            } else {
                unmatched.push(y.to_string());
            }
            if explain {
                why.push(Why::Year {
                    year: *y,
                    born: born_text(),
                    agrees,
                });
            }
        }
        for d in &self.dates {
            let agrees = match born.and_then(|b| agreement(*d, b)) {
                Some(Agreement::Exact) => {
                    score += FACT;
                    DateAgrees::Exact
                }
                Some(Agreement::Swapped) => {
                    score += FACT * 0.75;
                    DateAgrees::Swapped
                }
                // Only the date of birth counts here: the same year alone is no agreement.
                Some(Agreement::SameYear) | None => {
                    unmatched.push(d.to_string());
                    DateAgrees::No
                }
            };
            if explain {
                why.push(Why::Date {
                    date: d.to_string(),
                    born: born_text(),
                    agrees,
                });
            }
        }
        for p in &self.places {
            if facts.places.iter().any(|c| p.codes.contains(c)) {
                // A place alone counts above a name reading of the word (at most 1).
                score += if self.words.is_empty() {
                    1.0 + GIVEN_FIRST
                } else {
                    FACT
                };
                if explain {
                    why.push(Why::Place {
                        word: p.typed.clone(),
                        place: p.display.clone(),
                    });
                }
                continue;
            }
            // The name reading: the person it meets best, principals before parents (the
            // first of equals).
            let weight = |i: usize| {
                if persons[i].principal {
                    1.0
                } else {
                    NON_PRINCIPAL
                }
            };
            let named = p.also_name.as_ref().and_then(|w| {
                meets(w)
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, m)| Self::best(&m).map(|m| (i, m)))
                    .fold(None::<(usize, Meet)>, |best, (i, m)| match best {
                        Some((j, b)) if b.value * weight(j) >= m.value * weight(i) => Some((j, b)),
                        _ => Some((i, m)),
                    })
            });
            match named {
                Some((i, m)) => {
                    score += m.value * weight(i);
                    if explain {
                        why.push(persons[i].why(&p.typed, m.field.why(), m.how));
                    }
                }
                None => {
                    if explain {
                        why.push(Why::NotPlace {
                            word: p.typed.clone(),
                            place: p.display.clone(),
                            record_place: place_of_birth.map(str::to_string),
                        });
                    }
                    unmatched.push(p.typed.clone());
                }
            }
        }
        for _ in &self.numbers {
            score += FACT * 2.0;
            if explain {
                why.push(Why::Number);
            }
        }
        Rank {
            score,
            spelling,
            why,
            unmatched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One query word, one name: the pick without sorting gives what sorting every pair gave,
    /// on random tables with many ties (few distinct values), names met by several words, a
    /// word meeting a name twice, names numbered past 64, and more pairs than the pick takes.
    #[test]
    fn assign_picks_as_sorting_every_pair_did() {
        let hows = [
            How::Exact,
            How::Folded,
            How::Phonetic,
            How::Typos(1),
            How::Typos(2),
            How::Prefix,
        ];
        let fields = [
            NameField::Given,
            NameField::Surname,
            NameField::Birth,
            NameField::Father,
        ];
        let mut seed = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        let (mut few, mut many) = (0, 0);
        for round in 0..20_000 {
            let words = 1 + next(5);
            let persons = 1 + next(3);
            // Mostly few names; sometimes many (more pairs than the pick takes) or high numbers.
            let names = match round % 10 {
                0 => 40,
                1 => 80,
                _ => 1 + next(6),
            };
            let table: Table = (0..words)
                .map(|_| {
                    (0..persons)
                        .map(|_| {
                            (0..next(names.min(12) + 1))
                                .map(|_| {
                                    let role = if next(4) == 0 {
                                        NameRole::Birth
                                    } else {
                                        NameRole::Any
                                    };
                                    let m = Meet::new(
                                        hows[next(hows.len())],
                                        fields[next(fields.len())],
                                        role,
                                        next(3) as u64,
                                    );
                                    (next(names), m)
                                })
                                .collect()
                        })
                        .collect()
                })
                .collect();
            for i in 0..persons + 1 {
                let count: usize = table.iter().map(|w| w.get(i).map_or(0, Vec::len)).sum();
                if count <= ASSIGN_SELECT {
                    few += 1;
                } else {
                    many += 1;
                }
                let got = format!("{:?}", Plan::assign(&table, i));
                let want = format!(
                    "{:?}",
                    Plan::assign_sorted(table.len(), |wi| table[wi]
                        .get(i)
                        .map(Vec::as_slice)
                        .unwrap_or(&[]))
                );
                assert_eq!(got, want, "person {i} of {table:?}");
            }
        }
        assert!(
            few > 10_000 && many > 500,
            "{few} with few pairs, {many} with many"
        );
    }

    fn person(role: &str, principal: bool, given: &str, surname: &str) -> Person {
        Person {
            role: role.into(),
            principal,
            born: None,
            given: given.into(),
            surname: surname.into(),
            other: None,
            father: None,
        }
    }

    /// A birth record: the child, the mother, the father.
    fn birth(child: (&str, &str), mother: &str, father: &str) -> Facts {
        Facts {
            persons: vec![
                person("child", true, child.0, child.1),
                person("mother", false, mother, child.1),
                person("father", false, father, child.1),
            ],
            places: vec![],
            dob: None,
        }
    }

    fn score(text: &str, facts: &Facts) -> Rank {
        Plan::of(&super::super::parse(text)).rank(facts, None)
    }

    /// A parent's given name labelled by the clerk counts only as that parent's: the child whose
    /// mother is Drita first, then the namesake whose mother is not, and the child named Drita
    /// whose father is Arben (the same words, other roles) below both of them.
    #[test]
    fn a_labelled_parent_counts_as_that_parent_only() {
        let sought = birth(("Arben", "Gashi"), "Drita", "Besnik");
        let namesake = birth(("Arben", "Gashi"), "Shpresa", "Besnik");
        let drita = birth(("Drita", "Gashi"), "Vjosa", "Arben");
        let text = "Arben Gashi nëna Drita";
        let (a, b, c) = (
            score(text, &sought),
            score(text, &namesake),
            score(text, &drita),
        );
        assert!(a.score > b.score, "{a:?} {b:?}");
        assert!(b.score > c.score, "{b:?} {c:?}");
        assert!(a.unmatched.is_empty(), "{a:?}");
        assert_eq!(b.unmatched, ["Drita"]);
        let why = a.why.iter().map(|w| format!("{w:?}")).collect::<String>();
        assert!(why.contains("mother"), "{why}");
        // Unlabelled, the same words read as Drita daughter of Arben as well.
        let (a, c) = (
            score("Arben Gashi Drita", &sought),
            score("Arben Gashi Drita", &drita),
        );
        assert!(c.score > a.score, "{a:?} {c:?}");
        // The father labelled: his given name in the record, or written in the child's entry.
        let mut own = birth(("Arben", "Gashi"), "Drita", "Ilir");
        own.persons.truncate(2);
        own.persons[0].father = Some("Besnik".into());
        for f in [&sought, &own] {
            let r = score("Arben Gashi babai Besnik", f);
            assert!(r.unmatched.is_empty(), "{r:?}");
        }
        let r = score("Arben Gashi babai Drita", &sought);
        assert_eq!(r.unmatched, ["Drita"], "the mother is no father");
    }
}
