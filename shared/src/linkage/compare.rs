//! Prepared records and the per-field comparison levels.

use super::jw::jaro_winkler;
use super::{PartialDate, PersonRecord};
use crate::model::Sex;
use crate::normalize::{fold, phonetic_key, variants};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// The fields compared, in the order of a comparison vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    GivenName,
    Surname,
    FatherGivenName,
    MotherGivenName,
    MotherMaidenSurname,
    Sex,
    BirthDate,
    BirthPlace,
    PersonalNumber,
    Address,
}

pub(crate) const FIELDS: [Field; 10] = [
    Field::GivenName,
    Field::Surname,
    Field::FatherGivenName,
    Field::MotherGivenName,
    Field::MotherMaidenSurname,
    Field::Sex,
    Field::BirthDate,
    Field::BirthPlace,
    Field::PersonalNumber,
    Field::Address,
];

pub(crate) const NF: usize = FIELDS.len();

/// The personal number's index in [`FIELDS`] (and in a [`Gamma`]).
pub(crate) const PNUM: usize = 8;
const _: () = assert!(matches!(FIELDS[PNUM], Field::PersonalNumber));

/// A comparison vector: the level of each field, [`MISSING`] where either side has no value.
pub(crate) type Gamma = [u8; NF];

/// Level of a field that one side lacks: weight 0.
pub(crate) const MISSING: u8 = u8::MAX;

/// The classes a given-name or surname level falls into for the names' joint term
/// ([`name_cell`], [`super::model::NamesTogether`]).
pub const NAME_CLASSES: [&str; 3] = ["agree", "typo", "different"];
/// Cells of the names' joint term: given-name class × surname class.
pub(crate) const NAME_CELLS: usize = NAME_CLASSES.len() * NAME_CLASSES.len();

/// The cell of a comparison vector's given name and surname for the names' joint term: each
/// name's class is *agree* (exact, normalised, phonetic; a surname also through a maiden or
/// earlier surname), *typo* (Jaro-Winkler ≥ 0.94 or ≥ 0.88, one typo apart) or *different*; the cell is
/// given class × 3 + surname class. `None` where either name is missing or the names are
/// swapped (the swapped levels are one joint event already, weighed by their own levels).
pub(crate) fn name_cell(g: &Gamma) -> Option<usize> {
    let given = match g[0] {
        0..=2 => 0,
        3..=NAME_ONE_TYPO => 1,
        GIVEN_DIFFERENT => 2,
        _ => return None,
    };
    let surname = match g[1] {
        0..=2 | SURNAME_OTHER => 0,
        3..=NAME_ONE_TYPO => 1,
        SURNAME_DIFFERENT => 2,
        _ => return None,
    };
    Some(given * NAME_CLASSES.len() + surname)
}

const NAME_LEVELS: &[&str] = &[
    "exact",
    "normalised",
    "phonetic",
    "jw>=0.94",
    "jw>=0.88",
    "one typo apart",
    "different",
];
const GIVEN_LEVELS: &[&str] = &[
    "exact",
    "normalised",
    "phonetic",
    "jw>=0.94",
    "jw>=0.88",
    "one typo apart",
    "swapped with surname",
    "different",
];
const SURNAME_LEVELS: &[&str] = &[
    "exact",
    "normalised",
    "phonetic",
    "jw>=0.94",
    "jw>=0.88",
    "one typo apart",
    "other surname",
    "swapped with given name",
    "different",
];
const PNUM_LEVELS: &[&str] = &["same", "one edit apart", "different"];
const DATE_LEVELS: &[&str] = &[
    "exact",
    "day/month swapped",
    "one digit apart",
    "same year",
    "year ±1",
    "different",
];
const SAME_DIFFERENT: &[&str] = &["same", "different"];
const ADDRESS_LEVELS: &[&str] = &["same", "most words", "some words", "different"];

/// Most levels of any field.
pub(crate) const MAX_LEVELS: usize = 9;
/// [`name_level`]'s level of two names one typing error apart that Jaro-Winkler puts under 0.88
/// (short names: `Li`/`Lz`, `Duc`/`Dc`, `Hao`/`Hno`), and its "different".
pub(crate) const NAME_ONE_TYPO: u8 = 5;
const NAME_DIFFERENT: u8 = 6;
/// Surname level reached through a maiden or earlier surname.
pub(crate) const SURNAME_OTHER: u8 = 6;
/// Given-name and surname levels of a pair whose given name and surname are swapped.
pub(crate) const GIVEN_SWAPPED: u8 = 6;
pub(crate) const SURNAME_SWAPPED: u8 = 7;
/// The given name's last level: the two given names differ.
pub(crate) const GIVEN_DIFFERENT: u8 = 7;
/// The surname's last level: the two surnames differ (and no earlier surname agrees).
pub(crate) const SURNAME_DIFFERENT: u8 = 8;
const _: () = assert!(SURNAME_LEVELS.len() == MAX_LEVELS && GIVEN_LEVELS.len() < MAX_LEVELS);
/// Name levels at which the term-frequency adjustment applies (the names agree as names).
pub(crate) const NAME_AGREE_MAX: u8 = 2;

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::GivenName => "given_name",
            Field::Surname => "surname",
            Field::FatherGivenName => "father_given_name",
            Field::MotherGivenName => "mother_given_name",
            Field::MotherMaidenSurname => "mother_maiden_surname",
            Field::Sex => "sex",
            Field::BirthDate => "birth_date",
            Field::BirthPlace => "birth_place",
            Field::PersonalNumber => "personal_number",
            Field::Address => "address",
        }
    }

    /// The names of the levels, best agreement first, disagreement last.
    pub fn levels(self) -> &'static [&'static str] {
        match self {
            Field::FatherGivenName | Field::MotherGivenName | Field::MotherMaidenSurname => {
                NAME_LEVELS
            }
            Field::GivenName => GIVEN_LEVELS,
            Field::Surname => SURNAME_LEVELS,
            Field::BirthDate => DATE_LEVELS,
            Field::PersonalNumber => PNUM_LEVELS,
            Field::Sex | Field::BirthPlace => SAME_DIFFERENT,
            Field::Address => ADDRESS_LEVELS,
        }
    }

    /// Whether a level (by name) is some agreement: every level but `different` (a partial
    /// agreement such as `year ±1` or `jw>=0.88` counts as agreeing).
    pub fn agrees_level(level: &str) -> bool {
        level != "different"
    }

    /// Prior m probabilities, the EM's starting point: how a true match's two records compare.
    pub(crate) fn prior_m(self) -> &'static [f64] {
        match self {
            // "one typo apart" takes its 0.01 from "exact": "different" keeps its prior, which
            // is what its m is where few matches show a field (taken from "different", the
            // parents' names of a weak pair weighed 0.4 bits more against, each).
            Field::FatherGivenName | Field::MotherGivenName | Field::MotherMaidenSurname => {
                &[0.79, 0.06, 0.04, 0.04, 0.02, 0.01, 0.04]
            }
            Field::GivenName => &[0.77, 0.06, 0.04, 0.04, 0.02, 0.01, 0.02, 0.04],
            Field::Surname => &[0.72, 0.06, 0.04, 0.04, 0.02, 0.01, 0.05, 0.02, 0.04],
            Field::BirthDate => &[0.86, 0.03, 0.03, 0.03, 0.01, 0.04],
            Field::Sex => &[0.99, 0.01],
            Field::BirthPlace => &[0.90, 0.10],
            Field::PersonalNumber => &[0.94, 0.03, 0.03],
            // People move: an address is weaker evidence than a date.
            Field::Address => &[0.70, 0.12, 0.08, 0.10],
        }
    }
}

/// A name prepared once for every comparison.
#[derive(Debug, Clone)]
pub(crate) struct NameP {
    pub(crate) raw: Box<str>,
    pub(crate) folded: Box<str>,
    /// Other spellings (`đ` as `d`), without `folded`; usually empty.
    pub(crate) variants: Box<[Box<str>]>,
    pub(crate) key: Box<str>,
    /// Term-frequency adjustment in bits for agreeing on this name's key (0 during training).
    pub(crate) tf_adj: f32,
}

impl NameP {
    pub(crate) fn new(raw: &str) -> Option<NameP> {
        let raw = raw.trim();
        let folded = fold(raw);
        if folded.is_empty() {
            return None;
        }
        let key = phonetic_key(raw);
        let vs: Vec<Box<str>> = variants(raw)
            .into_iter()
            .skip(1)
            .map(String::into_boxed_str)
            .collect();
        Some(NameP {
            raw: raw.into(),
            folded: folded.into(),
            variants: vs.into_boxed_slice(),
            key: key.into(),
            tf_adj: 0.0,
        })
    }

    fn spellings(&self) -> impl Iterator<Item = &str> {
        std::iter::once(&*self.folded).chain(self.variants.iter().map(|v| &**v))
    }
}

/// Interned names: each distinct spelling is prepared once.
#[derive(Debug, Default)]
pub(crate) struct Names {
    map: HashMap<Box<str>, u32>,
    pub(crate) entries: Vec<NameP>,
}

pub(crate) const NONE: u32 = u32::MAX;

impl Names {
    pub(crate) fn intern(&mut self, raw: Option<&str>) -> u32 {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return NONE;
        };
        if let Some(&i) = self.map.get(raw) {
            return i;
        }
        let Some(n) = NameP::new(raw) else {
            return NONE;
        };
        let i = self.entries.len() as u32;
        self.entries.push(n);
        self.map.insert(raw.into(), i);
        i
    }

    #[inline]
    pub(crate) fn at(&self, i: u32) -> Option<&NameP> {
        self.entries.get(i as usize)
    }
}

/// A personal-number token: scheme number (1 JMBG, 2 Kosovo, 3 Albanian, 4 other) and a hash.
pub(crate) type Tok = (u8, u64);

/// A record prepared for comparison: names as ids into two [`Names`] tables (given-type names and
/// surname-type names), the rest packed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Prep {
    pub(crate) given: u32,
    pub(crate) surname: u32,
    pub(crate) birth: u32,
    pub(crate) father: u32,
    pub(crate) mother: u32,
    pub(crate) maiden: u32,
    /// 0 unknown, 1 male, 2 female.
    pub(crate) sex: u8,
    pub(crate) date: Option<PartialDate>,
    /// Gazetteer index + 1, 0 unknown.
    pub(crate) place: u16,
    pub(crate) toks: [Tok; 2],
    /// Per token: index into [`Tables::near`] of its one-edit keys, [`NONE`] when it has none.
    pub(crate) near: [u32; 2],
    /// Index into [`Tables::addresses`], [`NONE`] when there is no address.
    pub(crate) address: u32,
}

/// The name tables a [`Prep`] points into.
#[derive(Debug, Default)]
pub(crate) struct Tables {
    pub(crate) given: Names,
    pub(crate) surname: Names,
    /// One-edit keys of personal numbers ([`super::PnumToken::near`]): the two halves, then
    /// the sorted deletion keys.
    pub(crate) near: Vec<Box<[u64]>>,
    pub(crate) addresses: Addresses,
}

/// Most words of an address compared (a longer address is cut: bounded work per pair).
const ADDRESS_WORDS: usize = 12;

/// Interned addresses, each as its folded words.
#[derive(Debug, Default)]
pub(crate) struct Addresses {
    map: HashMap<Box<str>, u32>,
    pub(crate) entries: Vec<Box<[Box<str>]>>,
}

impl Addresses {
    fn intern(&mut self, raw: Option<&str>) -> u32 {
        let Some(raw) = raw.map(str::trim).filter(|r| !r.is_empty()) else {
            return NONE;
        };
        if let Some(&i) = self.map.get(raw) {
            return i;
        }
        let folded = fold(raw);
        let words: Vec<Box<str>> = folded
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .take(ADDRESS_WORDS)
            .map(Into::into)
            .collect();
        if words.is_empty() {
            return NONE;
        }
        let i = self.entries.len() as u32;
        self.entries.push(words.into_boxed_slice());
        self.map.insert(raw.into(), i);
        i
    }
}

/// Level of two addresses (see [`ADDRESS_LEVELS`]): the same words; else by the share of the
/// words of both that have a like word on the other side (equal, or, for words of four
/// letters or more, one typing error apart: a letter inserted, dropped, changed, or two
/// adjacent letters swapped), ≥ 0.8 "most words", ≥ 0.5 "some words". Linear in the words'
/// length per pair of words, and at most [`ADDRESS_WORDS`] words a side.
pub(crate) fn address_level(a: &[Box<str>], b: &[Box<str>]) -> u8 {
    if a == b {
        return 0;
    }
    let like = |x: &str, y: &str| {
        x == y || (x.len() >= 4 && y.len() >= 4 && one_typo(x.as_bytes(), y.as_bytes()))
    };
    let found = |xs: &[Box<str>], ys: &[Box<str>]| {
        xs.iter().filter(|x| ys.iter().any(|y| like(x, y))).count()
    };
    let share = (found(a, b) + found(b, a)) as f64 / (a.len() + b.len()).max(1) as f64;
    if share >= 0.8 {
        1
    } else if share >= 0.5 {
        2
    } else {
        3
    }
}

/// Whether two different strings are one typing error apart (Damerau-Levenshtein distance 1).
fn one_typo(x: &[u8], y: &[u8]) -> bool {
    let (x, y) = if x.len() <= y.len() { (x, y) } else { (y, x) };
    if y.len() - x.len() > 1 {
        return false;
    }
    let p = x.iter().zip(y).take_while(|(a, b)| a == b).count();
    if x.len() == y.len() {
        if p == x.len() {
            return false;
        }
        // One substitution, or two adjacent letters swapped.
        x[p + 1..] == y[p + 1..]
            || (p + 1 < x.len() && x[p] == y[p + 1] && x[p + 1] == y[p] && x[p + 2..] == y[p + 2..])
    } else {
        // One letter inserted into the shorter.
        x[p..] == y[p + 1..]
    }
}

pub(crate) fn hash_bytes(seed: u64, bytes: &[u8]) -> u64 {
    // FNV-1a, then a splitmix finaliser; never 0 (0 means "no key").
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ seed.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01B3);
    }
    h = (h ^ (h >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    h = (h ^ (h >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    h ^= h >> 31;
    h.max(1)
}

fn scheme_no(s: &str) -> u8 {
    match s {
        "jmbg" => 1,
        "kosovo" => 2,
        "albanian" => 3,
        _ => 4,
    }
}

pub(crate) fn place_no(code: Option<&str>) -> u16 {
    code.and_then(|c| {
        let all = crate::gazetteer::all();
        all.iter()
            .position(|m| m.code == c)
            .or_else(|| {
                crate::gazetteer::resolve(c).and_then(|m| all.iter().position(|x| x.code == m.code))
            })
            .map(|i| i as u16 + 1)
    })
    .unwrap_or(0)
}

impl Prep {
    /// Prepares `r`, interning its names into `t`.
    pub(crate) fn new(r: &PersonRecord, t: &mut Tables) -> Prep {
        let birth = r
            .birth_surname
            .as_deref()
            .filter(|b| fold(b) != fold(&r.surname));
        let mut toks: [Tok; 2] = [(0, 0); 2];
        let mut near = [NONE; 2];
        for ((slot, nslot), tk) in toks.iter_mut().zip(near.iter_mut()).zip(&r.tokens) {
            *slot = (scheme_no(&tk.scheme), hash_bytes(7, tk.token.as_bytes()));
            if tk.near.len() > 2 {
                let mut keys: Vec<u64> = tk.near.clone();
                keys[2..].sort_unstable();
                *nslot = t.near.len() as u32;
                t.near.push(keys.into_boxed_slice());
            }
        }
        Prep {
            given: t.given.intern(Some(&r.given_name)),
            surname: t.surname.intern(Some(&r.surname)),
            birth: t.surname.intern(birth),
            father: t.given.intern(r.father_given_name.as_deref()),
            mother: t.given.intern(r.mother_given_name.as_deref()),
            maiden: t.surname.intern(r.mother_maiden_surname.as_deref()),
            sex: match r.sex {
                None => 0,
                Some(Sex::Male) => 1,
                Some(Sex::Female) => 2,
            },
            date: r.birth_date.filter(|d| d.year != 0),
            place: place_no(r.birth_place.as_deref()),
            toks,
            near,
            address: t.addresses.intern(r.address.as_deref()),
        }
    }
}

/// Level of two names (see [`NAME_LEVELS`]).
#[inline]
pub(crate) fn name_level(a: &NameP, b: &NameP) -> u8 {
    if a.raw == b.raw {
        return 0;
    }
    if a.folded == b.folded
        || ((!a.variants.is_empty() || !b.variants.is_empty())
            && a.spellings().any(|x| b.spellings().any(|y| x == y)))
    {
        return 1;
    }
    if !a.key.is_empty() && a.key == b.key {
        return 2;
    }
    let jw = jaro_winkler(a.folded.as_bytes(), b.folded.as_bytes());
    if jw >= 0.94 {
        3
    } else if jw >= 0.88 {
        4
    } else if one_typo(a.folded.as_bytes(), b.folded.as_bytes()) {
        // Jaro-Winkler is harsh on short names: one letter of three is a third of the name.
        NAME_ONE_TYPO
    } else {
        NAME_DIFFERENT
    }
}

/// What a comparison found, with the names whose frequency adjusts the weight.
pub(crate) struct Compared<'a> {
    pub(crate) gamma: Gamma,
    pub(crate) given: Option<&'a NameP>,
    pub(crate) surname: Option<&'a NameP>,
}

fn pair<'a>(ta: &'a Names, a: u32, tb: &'a Names, b: u32) -> Option<(&'a NameP, &'a NameP)> {
    Some((ta.at(a)?, tb.at(b)?))
}

fn date_level(a: PartialDate, b: PartialDate) -> u8 {
    let dy = (a.year - b.year).abs();
    match (a.month.zip(a.day), b.month.zip(b.day)) {
        (Some((am, ad)), Some((bm, bd))) => {
            if dy == 0 && am == bm && ad == bd {
                0
            } else if dy == 0 && am == bd && ad == bm {
                1
            } else if one_digit_apart(a.year, am, ad, b.year, bm, bd) {
                2
            } else if dy == 0 {
                3
            } else if dy == 1 {
                4
            } else {
                5
            }
        }
        _ => match dy {
            0 => 3,
            1 => 4,
            _ => 5,
        },
    }
}

/// Whether two full dates, written `YYYYMMDD`, differ in one digit or by two adjacent digits
/// swapped: a typing error in the year (1958 for 1985, 1975 for 1957), the month or the day.
fn one_digit_apart(ay: i32, am: u32, ad: u32, by: i32, bm: u32, bd: u32) -> bool {
    if !(0..=9999).contains(&ay)
        || !(0..=9999).contains(&by)
        || am > 99
        || ad > 99
        || bm > 99
        || bd > 99
    {
        return false;
    }
    let digits = |y: i32, m: u32, d: u32| -> [u8; 8] {
        let mut v = (y as u32) * 10_000 + m * 100 + d;
        let mut out = [0u8; 8];
        for o in out.iter_mut().rev() {
            *o = (v % 10) as u8;
            v /= 10;
        }
        out
    };
    let (x, y) = (digits(ay, am, ad), digits(by, bm, bd));
    let diff: Vec<usize> = (0..8).filter(|&i| x[i] != y[i]).collect();
    match diff.as_slice() {
        [_] => true,
        [i, j] => *j == i + 1 && x[*i] == y[*j] && x[*j] == y[*i],
        _ => false,
    }
}

/// Whether two personal numbers are one edit apart: a deletion of one digit from each gives the
/// same string (a substitution, an adjacent transposition, an insertion or a deletion; also a
/// few pairs two edits apart, such as a digit moved by one place).
fn one_edit(ta: &Tables, a: u32, tb: &Tables, b: u32) -> bool {
    let (Some(x), Some(y)) = (ta.near.get(a as usize), tb.near.get(b as usize)) else {
        return false;
    };
    // The first two keys are the number's halves (the blocking keys), the rest its deletions.
    share_a_key(x.get(2..).unwrap_or(&[]), y.get(2..).unwrap_or(&[]))
}

/// Whether two sorted lists of keys have a key in common (one merge walk).
pub(crate) fn share_a_key(x: &[u64], y: &[u64]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < x.len() && j < y.len() {
        match x[i].cmp(&y[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => return true,
        }
    }
    false
}

/// Compares two prepared records (each with its own tables, which may be the same).
pub(crate) fn compare<'a>(ta: &'a Tables, a: &Prep, tb: &'a Tables, b: &Prep) -> Compared<'a> {
    let mut g: Gamma = [MISSING; NF];
    let mut given = None;
    if let Some((x, y)) = pair(&ta.given, a.given, &tb.given, b.given) {
        let l = if std::ptr::eq(ta, tb) && a.given == b.given {
            0
        } else {
            name_level(x, y)
        };
        // "different" is the given name's last level, after "swapped with surname".
        g[0] = if l == NAME_DIFFERENT {
            GIVEN_DIFFERENT
        } else {
            l
        };
        if l <= NAME_AGREE_MAX {
            given = Some(x);
        }
    }
    let mut surname = None;
    if let Some((x, y)) = pair(&ta.surname, a.surname, &tb.surname, b.surname) {
        let direct = if std::ptr::eq(ta, tb) && a.surname == b.surname {
            0
        } else {
            name_level(x, y)
        };
        if direct <= NAME_AGREE_MAX {
            g[1] = direct;
            surname = Some(x);
        } else {
            // Through a maiden or earlier surname on either side.
            let mut other = None;
            for (i, j) in [
                (a.birth, b.surname),
                (a.surname, b.birth),
                (a.birth, b.birth),
            ] {
                if let Some((p, q)) = pair(&ta.surname, i, &tb.surname, j) {
                    if name_level(p, q) <= NAME_AGREE_MAX {
                        other = Some(p);
                        break;
                    }
                }
            }
            match other {
                Some(p) => {
                    g[1] = SURNAME_OTHER;
                    surname = Some(p);
                }
                None => {
                    g[1] = if direct == NAME_DIFFERENT {
                        SURNAME_DIFFERENT
                    } else {
                        direct
                    }
                }
            }
        }
    }
    // Given name and surname entered in each other's field: both direct comparisons disagree
    // and both crossed ones agree, with a typo allowed in both (Jaro-Winkler ≥ 0.94) or a
    // larger one (≥ 0.88, or one typing error in a short name) in one when the other agrees as
    // a name (exact, normalised or phonetic): swapped and then misspelt, as a copy with two
    // corruptions is.
    if g[0] != MISSING && g[1] != MISSING && g[0] >= 3 && g[1] >= 3 && g[1] != SURNAME_OTHER {
        if let (Some(ag), Some(as_), Some(bg), Some(bs)) = (
            ta.given.at(a.given),
            ta.surname.at(a.surname),
            tb.given.at(b.given),
            tb.surname.at(b.surname),
        ) {
            let (x, y) = (name_level(ag, bs), name_level(as_, bg));
            if x.max(y) <= 3 || (x.min(y) <= NAME_AGREE_MAX && x.max(y) <= NAME_ONE_TYPO) {
                g[0] = GIVEN_SWAPPED;
                g[1] = SURNAME_SWAPPED;
                // The names' frequencies count as for names in their own fields: "Nielsen
                // Hannah" for "Hannah Nielsen" is little evidence when both names are common
                // (without it, a swapped pair of the commonest names outweighed an exact one).
                given = (x <= NAME_AGREE_MAX).then_some(ag);
                surname = (y <= NAME_AGREE_MAX).then_some(as_);
            }
        }
    }
    for (k, (i, j)) in [(2, (a.father, b.father)), (3, (a.mother, b.mother))] {
        if let Some((x, y)) = pair(&ta.given, i, &tb.given, j) {
            g[k] = name_level(x, y);
        }
    }
    if let Some((x, y)) = pair(&ta.surname, a.maiden, &tb.surname, b.maiden) {
        g[4] = name_level(x, y);
    }
    if a.sex != 0 && b.sex != 0 {
        g[5] = u8::from(a.sex != b.sex);
    }
    if let (Some(x), Some(y)) = (a.date, b.date) {
        g[6] = date_level(x, y);
    }
    if a.place != 0 && b.place != 0 {
        g[7] = u8::from(a.place != b.place);
    }
    let mut compared = false;
    let mut same = false;
    let mut near = false;
    for (x, &(sa, ha)) in a.toks.iter().enumerate() {
        for (y, &(sb, hb)) in b.toks.iter().enumerate() {
            if sa != 0 && sa == sb {
                compared = true;
                same |= ha == hb;
                if !same && !near {
                    near = one_edit(ta, a.near[x], tb, b.near[y]);
                }
            }
        }
    }
    if let (Some(x), Some(y)) = (
        ta.addresses.entries.get(a.address as usize),
        tb.addresses.entries.get(b.address as usize),
    ) {
        g[9] = if std::ptr::eq(ta, tb) && a.address == b.address {
            0
        } else {
            address_level(x, y)
        };
    }
    if compared {
        g[8] = if same {
            0
        } else if near {
            1
        } else {
            2
        };
    }
    Compared {
        gamma: g,
        given,
        surname,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lvl(a: &str, b: &str) -> u8 {
        name_level(&NameP::new(a).expect("name"), &NameP::new(b).expect("name"))
    }

    #[test]
    fn name_levels() {
        assert_eq!(lvl("Krasniqi", "Krasniqi"), 0);
        assert_eq!(lvl("Đorđević", "Ђорђевић"), 1);
        assert_eq!(lvl("Đorđević", "Dordevic"), 1);
        assert_eq!(lvl("Krasniqi", "Krasnići"), 2);
        assert_eq!(lvl("Shala", "Šala"), 2);
        assert_eq!(lvl("Beriša", "Berisa"), 1);
        assert_eq!(lvl("Xhafer", "Džafer"), 2);
        assert_eq!(lvl("Berisha", "Berishka"), 3);
        assert_eq!(lvl("Morina", "Morena"), 4);
        // Short names one typing error apart, under 0.88.
        assert_eq!(lvl("Li", "Lz"), NAME_ONE_TYPO);
        assert_eq!(lvl("Duc", "Dc"), NAME_ONE_TYPO);
        assert_eq!(lvl("Hao", "Hno"), NAME_ONE_TYPO);
        assert_eq!(lvl("Li", "Lu"), NAME_ONE_TYPO);
        assert_eq!(lvl("Li", "Wu"), NAME_DIFFERENT);
        assert_eq!(lvl("Arben", "Drita"), NAME_DIFFERENT);
    }

    #[test]
    fn name_cells() {
        let g = |given: u8, surname: u8| {
            let mut g: Gamma = [MISSING; NF];
            g[0] = given;
            g[1] = surname;
            name_cell(&g)
        };
        assert_eq!(g(0, 0), Some(0));
        assert_eq!(g(2, SURNAME_OTHER), Some(0));
        assert_eq!(g(3, 4), Some(4));
        assert_eq!(g(NAME_ONE_TYPO, 0), Some(3));
        assert_eq!(g(GIVEN_DIFFERENT, 0), Some(6));
        assert_eq!(g(0, SURNAME_DIFFERENT), Some(2));
        assert_eq!(g(GIVEN_DIFFERENT, SURNAME_DIFFERENT), Some(8));
        assert_eq!(g(GIVEN_SWAPPED, SURNAME_SWAPPED), None);
        assert_eq!(g(MISSING, 0), None);
        assert_eq!(g(0, MISSING), None);
    }

    #[test]
    fn dates() {
        let d = |y, m, d| PartialDate::ymd(y, m, d);
        assert_eq!(date_level(d(1980, 3, 7), d(1980, 3, 7)), 0);
        assert_eq!(date_level(d(1980, 3, 7), d(1980, 7, 3)), 1);
        // One digit off, anywhere; or two adjacent digits swapped.
        assert_eq!(date_level(d(1980, 3, 7), d(1980, 3, 8)), 2);
        assert_eq!(date_level(d(1985, 3, 7), d(1958, 3, 7)), 2);
        assert_eq!(date_level(d(1980, 3, 7), d(1983, 3, 7)), 2);
        assert_eq!(date_level(d(1980, 3, 7), d(1980, 3, 27)), 2);
        assert_eq!(date_level(d(1980, 3, 7), d(1980, 3, 19)), 3);
        assert_eq!(date_level(d(1980, 3, 7), PartialDate::year(1980)), 3);
        assert_eq!(date_level(d(1980, 3, 7), d(1981, 4, 7)), 4);
        assert_eq!(date_level(d(1980, 3, 7), d(1983, 4, 7)), 5);
        assert_eq!(date_level(d(1980, 3, 7), d(1975, 3, 7)), 5);
    }

    #[test]
    fn addresses() {
        let mut t = Addresses::default();
        let mut lv = |a: &str, b: &str| {
            let (x, y) = (t.intern(Some(a)), t.intern(Some(b)));
            address_level(&t.entries[x as usize], &t.entries[y as usize])
        };
        assert_eq!(
            lv(
                "12 Stanley Street Miami 4223",
                "12 stanley street, MIAMI 4223"
            ),
            0
        );
        assert_eq!(
            lv(
                "12 stanley street miami 4223",
                "12 stanley setreet miami 4223"
            ),
            1
        );
        assert_eq!(
            lv("12 stanley street miami 4223", "12 stanley street 4223"),
            1
        );
        assert_eq!(
            lv(
                "12 stanley street miami 4223",
                "12 stanley street dapto 2530"
            ),
            2
        );
        assert_eq!(
            lv("12 stanley street miami 4223", "3 light road pinehill 3212"),
            3
        );
        assert_eq!(
            lv(
                "12 stanley street miami 4223",
                "12 satnley street miami 4223"
            ),
            1
        );
        assert_eq!(
            lv(
                "12 stanley street miami 4223",
                "12 stanly street miami 4223"
            ),
            1
        );
        assert!(one_typo(b"street", b"setreet"));
        assert!(one_typo(b"street", b"strete"));
        assert!(!one_typo(b"street", b"street"));
        assert!(!one_typo(b"street", b"strxxt"));
    }
}
