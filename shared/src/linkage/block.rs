//! Blocking: which pairs are compared at all.

use super::compare::{hash_bytes, Prep, Tables, NONE};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};

/// The blocking rules, unioned; a pair is compared once, under the first rule that blocks it in
/// a block within that rule's cap.
pub const RULES: [&str; 16] = [
    "personal number",
    "personal number, one edit apart",
    "surname + date of birth",
    "given name + date of birth",
    "given name + surname, either order, + birth year",
    "given name + surname + father's given name",
    "father's + mother's given names + birth year + the day or the month of birth",
    "date of birth + both initials, or both names' last two letters, either order",
    "date of birth + one name's initial and the last two letters of either name, either order",
    "one name + the other's initial, either order, + day and month of birth + decade of birth",
    "one name + the other's last two letters, either order, + day and month of birth + decade of birth",
    "one name + the other's initial, either order, + day and month of birth + last digit of the birth year",
    "one name + the other's initial, either order (pairs with a record without a date)",
    "one name + the other's initial, either order, + birth year + month",
    "one name + the other's initial, either order, + birth year + day",
    "one name + the other's last two letters, either order, + birth year + municipality of birth",
];

/// The rule that blocks on names alone, for a record without a date of birth against records
/// with one (records with dates are found by the rules with a date or a year). [`super::link`]
/// and [`super::dedupe`] use it; training leaves it out (its EM sessions are the rules with
/// dates). Dedupe left it out before issue 16's clusters: comparing parents named without
/// dates with everyone of the same names took namesakes for one person (precision at Match
/// fell from 0.95 to 0.91 on the synthetic register), when a swapped pair of common names
/// still outweighed the same names in place; on the generic benchmark a true pair with a
/// missing date and no personal number had no other rule.
pub(crate) const NAMES_ONLY: usize = 12;

/// Given name, surname and father's given name, without a date: for a pair of which one
/// record lacks a full date of birth (see [`Blocks::shares`]).
pub(crate) const FATHER: usize = 5;

/// Both parents' given names, the year and the day or month of birth.
const PARENTS: usize = 6;

/// Whether a record's date of birth is whole (year, month and day): [`FATHER`] compares only
/// pairs of which one record's is not.
fn full_date(p: &Prep) -> bool {
    p.date.is_some_and(|d| d.month.is_some() && d.day.is_some())
}

/// Whether `rule` may compare records `a` and `b` at all, whatever keys they share: names
/// alone ([`NAMES_ONLY`]) where one has no date; [`FATHER`] where one lacks a full date.
pub(crate) fn applies(rule: usize, a: &Prep, b: &Prep) -> bool {
    match rule {
        NAMES_ONLY => a.date.is_none() != b.date.is_none(),
        FATHER => !(full_date(a) && full_date(b)),
        _ => true,
    }
}

/// The date of birth with both initials, or both names' last two letters (either order).
const DATE_INITIALS: usize = 7;

/// The date of birth with one name's initial and the other's last two letters (either order):
/// one name misspelt at its first letter and the other at its end; and, in a second row of
/// keys ([`SIGNATURE_ROW`]), one name's initial and its own last two letters, in either field:
/// one name misspelt in its middle (or found in the other field) and the other name
/// misspelt, replaced or missing. FEBRL 3 has such pairs (a given name replaced or left out
/// and the surname mistyped), which no other rule with the date reaches without a date's
/// block of every person of one initial (the date with either initial: 52 million pairs at
/// 3.1 million records).
const DATE_CROSS: usize = 8;

/// Key rows: one per rule, and a second row of [`DATE_CROSS`]'s keys (a rule has two keys a
/// record in each row).
pub(crate) const NK: usize = NR + 1;
const SIGNATURE_ROW: usize = NR;

/// The key rows of `rule`.
fn rows_of(rule: usize) -> impl Iterator<Item = usize> {
    std::iter::once(rule).chain((rule == DATE_CROSS).then_some(SIGNATURE_ROW))
}

/// The rule of key row `row`.
pub(crate) fn rule_of_row(row: usize) -> usize {
    if row == SIGNATURE_ROW {
        DATE_CROSS
    } else {
        row
    }
}

/// Whether key lists `ka` and `kb` share a key under `rule` (block caps not applied).
pub(crate) fn share_under(ka: &[Keys; NK], kb: &[Keys; NK], rule: usize) -> bool {
    rows_of(rule).any(|row| ka[row].iter().any(|&x| x != 0 && kb[row].contains(&x)))
}

/// One name's key, the other's initial, the day and month of birth, and the decade of birth
/// (a mistyped last digit of the year), or the last digit of the year (a mistyped tens digit).
const NAMES_DAY_MONTH_DECADE: usize = 9;
const NAMES_DAY_MONTH_DIGIT: usize = 11;

/// The same as [`NAMES_DAY_MONTH_DECADE`] with the other name's last two letters instead of its
/// initial: the other name misspelt at its first letter.
const NAMES_LAST_DAY_MONTH_DECADE: usize = 10;

/// One name's key, the other's initial and the year of birth (either order), with the month
/// (a mistyped day) or the day (a mistyped month).
const NAMES_YEAR_MONTH: usize = 13;
const NAMES_YEAR_DAY: usize = 14;

/// One name's key, the other's last two letters (either order), the year and the municipality
/// of birth.
const NAMES_YEAR_PLACE: usize = 15;

pub(crate) const NR: usize = RULES.len();

/// The rule of personal numbers one edit apart, and its own block cap. Its keys are halves of
/// the number, and a structured number's first half is shared by many people (a JMBG's is the
/// date of birth; at 20,000 synthetic records one half-key block held 1,031 records and the
/// rule brought 170,702 pairs, 85% of all pairs compared). A half shared by more than this many
/// records is skipped (counted in the rule's skipped blocks): its pairs are left to the other
/// rules, which the same date of birth and names reach. Within a block, only the pairs whose
/// numbers are one edit apart are the rule's ([`Blocks`]' `near`).
pub(crate) const NEAR_RULE: usize = 1;
const NEAR_CAP: usize = 64;

/// The keys of one record under one rule (0 = none).
pub(crate) type Keys = [u64; 2];

/// Blocking keys of `p` under every rule. Dates enter as (year, smaller of day and month,
/// larger), so a date with day and month swapped gives the same key.
pub(crate) fn keys_of(t: &Tables, p: &Prep) -> [Keys; NK] {
    let mut out = [[0u64; 2]; NK];
    for (slot, &(scheme, h)) in out[0].iter_mut().zip(&p.toks) {
        if scheme != 0 {
            let mut b = [0u8; 9];
            b[0] = scheme;
            b[1..].copy_from_slice(&h.to_le_bytes());
            *slot = hash_bytes(0, &b);
        }
    }
    fn key(names: &super::compare::Names, i: u32) -> Option<&str> {
        if i == NONE {
            return None;
        }
        names.at(i).map(|n| &*n.key).filter(|k| !k.is_empty())
    }
    // One-edit halves of the first personal number that has them.
    for (x, &(scheme, _)) in p.toks.iter().enumerate() {
        let Some(near) = t.near.get(p.near[x] as usize) else {
            continue;
        };
        if scheme != 0 && near.len() >= 2 {
            out[1] = [near[0].max(1), near[1].max(1)];
            break;
        }
    }
    let given = key(&t.given, p.given);
    let father = key(&t.given, p.father);
    let mother = key(&t.given, p.mother);
    let surnames = [key(&t.surname, p.surname), key(&t.surname, p.birth)];
    let full_date = p.date.and_then(|d| {
        let (m, day) = (d.month?, d.day?);
        let (lo, hi) = if m <= day { (m, day) } else { (day, m) };
        let mut b = [0u8; 6];
        b[..4].copy_from_slice(&d.year.to_le_bytes());
        b[4] = lo as u8;
        b[5] = hi as u8;
        Some(b)
    });
    let mut buf: Vec<u8> = Vec::with_capacity(64);
    let mut mk = |rule: u64, parts: &[&[u8]]| -> u64 {
        buf.clear();
        for part in parts {
            buf.extend_from_slice(part);
            buf.push(0xff);
        }
        hash_bytes(rule, &buf)
    };
    for (k, s) in surnames.iter().enumerate() {
        let Some(s) = s else { continue };
        if let Some(d) = &full_date {
            out[2][k] = mk(2, &[s.as_bytes(), d]);
        }
        if let (Some(g), Some(f)) = (given, father) {
            out[5][k] = mk(5, &[g.as_bytes(), s.as_bytes(), f.as_bytes()]);
        }
    }
    // Given name and surname in either order (a pair with the two swapped meets) and the year
    // of birth: a date known only to its year, or a day and month both mistyped. (With the
    // year within one, as two keys of two-year buckets, a common given name and surname born
    // in three years made one block: 34 million pairs at 3.1 million records, against 11
    // million for the year; a year mistyped in one digit with the day and month right is the
    // rules with the decade or the year's last digit.)
    if let (Some(g), Some(s), Some(d)) = (given, surnames[0], p.date) {
        let (lo, hi) = if g <= s { (g, s) } else { (s, g) };
        out[4][0] = mk(4, &[lo.as_bytes(), hi.as_bytes(), &d.year.to_le_bytes()]);
    }
    // Both parents' names, the year and one of the day and the month (the same tag for both,
    // so a date with the two swapped, or one of them mistyped, still meets): a child's record
    // whose own given name and surname were both misspelt still meets its original. (With
    // the year alone, the children of every couple of common names born in one year made a
    // block: 13 million pairs at 3.1 million records, and at 200,000 records no planted pair
    // that another rule did not also bring.)
    if let (Some(f), Some(m), Some(d)) = (father, mother, p.date) {
        let y = d.year.to_le_bytes();
        for (slot, n) in [d.month, d.day].into_iter().enumerate() {
            if let Some(n) = n {
                out[PARENTS][slot] = mk(6, &[f.as_bytes(), m.as_bytes(), &y, &[n as u8]]);
            }
        }
    }
    if let (Some(g), Some(d)) = (given, &full_date) {
        out[3][0] = mk(3, &[g.as_bytes(), d]);
    }
    // The date with both initials, in either order (so swapped names meet): both names
    // mistyped after their first letter, or swapped and one mistyped, with the date right.
    // (With the initial of either name alone, a date's block held every tenth person born
    // that day: 52 million pairs at 3.1 million records.)
    let initial = |names: &super::compare::Names, i: u32| -> Option<char> {
        if i == NONE {
            return None;
        }
        names.at(i)?.folded.chars().next()
    };
    // A name's last two letters (the whole name if shorter): what a name misspelt at its first
    // letter keeps. (With the last letter alone, few letters end most names of a language, -i
    // and -a of Albanian surnames and given names: the date with both last letters and one
    // name with the other's last letter and the day, month and decade compared 29.6 million
    // pairs at 3.1 million records, and 5.1 million with the last two letters.)
    let ending = |names: &super::compare::Names, i: u32| -> Option<String> {
        if i == NONE {
            return None;
        }
        let f = &names.at(i)?.folded;
        let n = f.chars().count();
        (n > 0).then(|| f.chars().skip(n.saturating_sub(2)).collect())
    };
    let (gi, si) = (initial(&t.given, p.given), initial(&t.surname, p.surname));
    let (gi, si) = (gi.map(String::from), si.map(String::from));
    let (ge, se) = (ending(&t.given, p.given), ending(&t.surname, p.surname));
    // Slot 0 the initials, slot 1 the endings (both names misspelt at their first letters).
    for (slot, (tag, a, b)) in [(b'i', &gi, &si), (b'l', &ge, &se)].into_iter().enumerate() {
        if let (Some(d), Some(a), Some(b)) = (&full_date, a, b) {
            let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
            out[DATE_INITIALS][slot] = mk(7, &[&[tag], lo.as_bytes(), hi.as_bytes(), d]);
        }
    }
    // One name's initial and the other's ending, the same tag for both slots (swapped names
    // meet): one name misspelt at its first letter, the other further on; and one name's
    // initial and its own ending, in either field, with the same tag: one name misspelt in
    // its middle, or in the other field, whatever the other name is (see [`DATE_CROSS`]).
    for (row, pairs) in [
        (DATE_CROSS, [(&gi, &se), (&si, &ge)]),
        (SIGNATURE_ROW, [(&gi, &ge), (&si, &se)]),
    ] {
        for (slot, (a, b)) in pairs.into_iter().enumerate() {
            if let (Some(d), Some(a), Some(b)) = (&full_date, a, b) {
                let tag = if row == DATE_CROSS { 16 } else { 17 };
                out[row][slot] = mk(tag, &[a.as_bytes(), b.as_bytes(), d]);
            }
        }
    }
    // One name's key and the other's initial, in either order (the same tag for both slots,
    // so swapped names meet), as (given key, surname initial) and (surname key, given
    // initial).
    let name_initial = [given.zip(si), surnames[0].zip(gi)];
    let name_last = [given.zip(se), surnames[0].zip(ge)];
    // With the day and month and the year's decade, or its last digit: a year mistyped in
    // one digit (the last keeps the decade, the tens digit keeps the last) and a name
    // misspelt or swapped. (With a name's key alone and any year, a common surname's
    // birthday held hundreds of records: 390 million pairs at 3.1 million records.)
    if let (Some(d), Some(date)) = (&full_date, p.date) {
        let decade = date.year.div_euclid(10).to_le_bytes();
        let digit = [date.year.rem_euclid(10) as u8];
        for (slot, nl) in name_last.iter().enumerate() {
            if let Some((n, c)) = nl {
                let parts = [n.as_bytes(), c.as_bytes(), &d[4..], &decade[..]];
                out[NAMES_LAST_DAY_MONTH_DECADE][slot] = mk(15, &parts);
            }
        }
        for (slot, ni) in name_initial.iter().enumerate() {
            if let Some((n, c)) = ni {
                let parts = [n.as_bytes(), c.as_bytes(), &d[4..]];
                out[NAMES_DAY_MONTH_DECADE][slot] = mk(8, &[&parts[..], &[&decade[..]]].concat());
                out[NAMES_DAY_MONTH_DIGIT][slot] = mk(9, &[&parts[..], &[&digit[..]]].concat());
            }
        }
    }
    // Names alone. Used by `link` and `dedupe` for a row without a date ([`NAMES_ONLY`]);
    // blocks of common names go over the cap and are skipped.
    for (slot, ni) in name_initial.iter().enumerate() {
        if let Some((n, c)) = ni {
            out[NAMES_ONLY][slot] = mk(10, &[n.as_bytes(), c.as_bytes()]);
        }
    }
    // The same with the year of birth and the month, or the day: a misspelt name and a
    // mistyped day, or month (rule 4 needs both names' keys, rules 2, 3, 7, 8 and 9 the day
    // and month). (With the year alone: 85 million pairs at 3.1 million records.)
    if let Some(d) = p.date {
        let y = d.year.to_le_bytes();
        for (slot, ni) in name_initial.iter().enumerate() {
            let Some((n, c)) = ni else { continue };
            if let Some(m) = d.month {
                out[NAMES_YEAR_MONTH][slot] = mk(11, &[n.as_bytes(), c.as_bytes(), &y, &[m as u8]]);
            }
            if let Some(day) = d.day {
                out[NAMES_YEAR_DAY][slot] = mk(12, &[n.as_bytes(), c.as_bytes(), &y, &[day as u8]]);
            }
        }
    }
    // One name's key, the other's last two letters (either order), the year and the
    // municipality of birth: the other name misspelt at its first letter (so that neither its
    // key nor its initial agrees; a typo further on leaves the initial to rules 11 and 12) and the day
    // or month mistyped. The last letters and the place keep the blocks small: without them a
    // common surname born in one year in one municipality is a block of dozens at 3.1 million.
    let tail = |names: &super::compare::Names, i: u32| -> Option<String> {
        if i == NONE {
            return None;
        }
        let f = &names.at(i)?.folded;
        let n = f.chars().count();
        (n >= 3).then(|| f.chars().skip(n - 2).collect())
    };
    if let Some(d) = p.date.filter(|_| p.place != 0) {
        let (y, at) = (d.year.to_le_bytes(), p.place.to_le_bytes());
        let tails = [tail(&t.surname, p.surname), tail(&t.given, p.given)];
        for (slot, (name, other)) in [given, surnames[0]].iter().zip(&tails).enumerate() {
            if let (Some(n), Some(o)) = (name, other) {
                out[NAMES_YEAR_PLACE][slot] = mk(13, &[n.as_bytes(), o.as_bytes(), &y, &at]);
            }
        }
    }
    out
}

/// The largest block compared under `rule` with the general cap `cap`: the cap, or the
/// rule's own where it has a smaller one ([`NEAR_CAP`] for numbers one edit apart,
/// [`NAMES_ONLY_CAP`] for names alone).
fn cap_of(cap: usize, rule: usize) -> usize {
    match rule {
        NEAR_RULE => cap.min(NEAR_CAP),
        NAMES_ONLY => cap.min(NAMES_ONLY_CAP),
        _ => cap,
    }
}

/// The block cap of [`NAMES_ONLY`]: a record without a date among more namesakes than this
/// (one name and the other's initial) is not told from them by its names, and at 200,000
/// records the rule's blocks of up to 1,000 compared 750,000 pairs, two thirds of all, of which
/// none reached Match.
const NAMES_ONLY_CAP: usize = 200;

/// Counts for one blocking rule.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleStats {
    pub rule: String,
    /// Records with at least one key under this rule.
    pub records_keyed: u64,
    /// Blocks of two or more records.
    pub blocks: u64,
    pub largest_block: u64,
    /// Blocks larger than the cap, not compared, and the records in them.
    pub skipped_blocks: u64,
    pub skipped_records: u64,
    /// Pairs compared under this rule (not already compared under an earlier one).
    pub pairs: u64,
}

/// What blocking did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockingStats {
    pub records: u64,
    /// Blocks larger than this are skipped.
    pub block_cap: u64,
    pub rules: Vec<RuleStats>,
    /// Distinct pairs compared, all rules together.
    pub pairs: u64,
    /// All pairs of the records, n(n−1)/2, for scale.
    pub all_pairs: u64,
}

/// Blocking keys of a set of records, sorted per rule.
pub(crate) struct Blocks {
    pub(crate) keys: Vec<[Keys; NK]>,
    /// Per key row (a rule's, [`rows_of`]): (key, record) sorted by key.
    pub(crate) sorted: Vec<Vec<(u64, u32)>>,
    pub(crate) cap: usize,
    /// Records without a date of birth (see [`NAMES_ONLY`]).
    pub(crate) dateless: Vec<bool>,
    /// Records with a whole date of birth (see [`FATHER`]).
    full: Vec<bool>,
    /// Whether [`Blocks::for_each_pair`] visits the pairs of [`NAMES_ONLY`] (dedupe; not
    /// training).
    pub(crate) names_only: bool,
    /// Per record: bit `2 * row + slot` is set when the record's key in that slot of that key
    /// row is in a block within its rule's cap. A pair that shares a key only in a block over the cap was
    /// not compared under that rule, so a later rule must still compare it (once it did not:
    /// numbers one edit apart share the first half of a JMBG, the date of birth, in blocks over
    /// their cap, and the pairs of the same names and date behind them were compared by no
    /// rule: at 3.1 million records `wrong_digit` duplicates found at Match fell from 90% to
    /// 27%).
    open: Vec<u64>,
    /// Per record: the sorted deletion keys of the personal number whose halves are its keys
    /// under [`NEAR_RULE`] (empty without one). A pair sharing a half is blocked by that rule
    /// only when the numbers are one edit apart (they share a deletion key): a half is shared
    /// by everyone of one date of birth (a JMBG's first half) or one serial (its second), and
    /// those pairs are left to the rules of names and dates, which compare them if they agree
    /// there (at 200,000 records the rule compared 530,000 pairs, of which about 1,000 were
    /// one edit apart).
    near: Vec<Box<[u64]>>,
}

impl Blocks {
    pub(crate) fn build(t: &Tables, preps: &[Prep], cap: usize) -> Blocks {
        let keys: Vec<[Keys; NK]> = preps.iter().map(|p| keys_of(t, p)).collect();
        let sorted: Vec<Vec<(u64, u32)>> = (0..NK)
            .map(|r| {
                let mut v: Vec<(u64, u32)> = Vec::with_capacity(keys.len());
                for (i, k) in keys.iter().enumerate() {
                    let mut seen = 0u64;
                    for &x in &k[r] {
                        if x != 0 && x != seen {
                            v.push((x, i as u32));
                            seen = x;
                        }
                    }
                }
                v.sort_unstable();
                v
            })
            .collect();
        let dateless = preps.iter().map(|p| p.date.is_none()).collect();
        let full = preps.iter().map(full_date).collect();
        let mut open = vec![0u64; keys.len()];
        for (r, v) in sorted.iter().enumerate() {
            let within = cap_of(cap, rule_of_row(r));
            let mut i = 0;
            while i < v.len() {
                let mut j = i + 1;
                while j < v.len() && v[j].0 == v[i].0 {
                    j += 1;
                }
                if j - i <= within {
                    for &(key, rec) in &v[i..j] {
                        for (slot, &k) in keys[rec as usize][r].iter().enumerate() {
                            if k == key {
                                open[rec as usize] |= 1 << (2 * r + slot);
                            }
                        }
                    }
                }
                i = j;
            }
        }
        let near = preps
            .iter()
            .map(|p| {
                p.toks
                    .iter()
                    .zip(&p.near)
                    .filter(|(tok, _)| tok.0 != 0)
                    .filter_map(|(_, &i)| t.near.get(i as usize))
                    .find(|n| n.len() >= 2)
                    .map_or_else(Default::default, |n| n[2..].into())
            })
            .collect();
        Blocks {
            keys,
            sorted,
            cap,
            dateless,
            full,
            names_only: false,
            open,
            near,
        }
    }

    fn cap_of(&self, rule: usize) -> usize {
        cap_of(self.cap, rule)
    }

    /// The smallest (key, key row) that records `a` and `b` share under `rule` in a block
    /// within the rule's cap.
    fn shares(&self, a: usize, b: usize, rule: usize) -> Option<(u64, usize)> {
        if rule == FATHER && self.full[a] && self.full[b] {
            return None;
        }
        let mut best: Option<(u64, usize)> = None;
        for row in rows_of(rule) {
            let (ka, kb) = (&self.keys[a][row], &self.keys[b][row]);
            let bits = self.open[a] >> (2 * row);
            for (slot, &x) in ka.iter().enumerate() {
                if x != 0 && bits & (1 << slot) != 0 && kb.contains(&x) {
                    best = Some(best.map_or((x, row), |y| y.min((x, row))));
                }
            }
        }
        if rule == NEAR_RULE && best.is_some() && !self.one_edit(a, b) {
            return None;
        }
        best
    }

    /// Whether the numbers of `a` and `b` behind their [`NEAR_RULE`] keys share a deletion
    /// key (are one edit apart, or equal).
    fn one_edit(&self, a: usize, b: usize) -> bool {
        super::compare::share_a_key(&self.near[a], &self.near[b])
    }

    /// The records sharing `key` in key row `row` ([`keys_of`]), or `None` when the block is
    /// over its rule's cap.
    pub(crate) fn block(&self, row: usize, key: u64) -> Option<&[(u64, u32)]> {
        let v = &self.sorted[row];
        let lo = v.partition_point(|e| e.0 < key);
        let hi = lo + v[lo..].partition_point(|e| e.0 == key);
        (hi - lo <= self.cap_of(rule_of_row(row))).then(|| &v[lo..hi])
    }

    /// Whether dedupe compares records `a` and `b`: they share a key under a rule (not names
    /// alone) in a block within the cap.
    pub(crate) fn compares(&self, a: usize, b: usize) -> bool {
        self.rules_of(a, b) != 0
    }

    /// The rules under which records `a` and `b` are compared, bit `r` for rule `r`: they
    /// share a key under it in a block within its cap (names alone only where one of the two
    /// has no date and [`Blocks::names_only`] is set).
    pub(crate) fn rules_of(&self, a: usize, b: usize) -> u32 {
        let names_only = self.names_only && self.dateless[a] != self.dateless[b];
        (0..NR)
            .filter(|&r| r != NAMES_ONLY || names_only)
            .filter(|&r| self.shares(a, b, r).is_some())
            .fold(0, |m, r| m | 1 << r)
    }

    /// Calls `visit(acc, i, j)` for every distinct blocked pair `i < j`, on `threads` threads,
    /// each with its own accumulator from `init`. Returns the accumulators and the counts.
    pub(crate) fn for_each_pair<A: Send>(
        &self,
        threads: usize,
        init: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, u32, u32) + Sync,
    ) -> (Vec<A>, BlockingStats) {
        self.pairs(None, threads, init, visit)
    }

    /// Like [`Blocks::for_each_pair`] for the pairs of one rule's blocks only, whether or not an
    /// earlier rule also brings them together.
    pub(crate) fn for_each_pair_of_rule<A: Send>(
        &self,
        rule: usize,
        threads: usize,
        init: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, u32, u32) + Sync,
    ) -> (Vec<A>, BlockingStats) {
        self.pairs(Some(rule), threads, init, visit)
    }

    fn pairs<A: Send>(
        &self,
        only: Option<usize>,
        threads: usize,
        init: impl Fn() -> A + Sync,
        visit: impl Fn(&mut A, u32, u32) + Sync,
    ) -> (Vec<A>, BlockingStats) {
        let n = self.keys.len() as u64;
        let mut stats = BlockingStats {
            records: n,
            block_cap: self.cap as u64,
            all_pairs: n * n.saturating_sub(1) / 2,
            ..Default::default()
        };
        let threads = threads.max(1);
        let mut accs: Vec<A> = (0..threads).map(|_| init()).collect();
        for (r, name) in RULES.iter().enumerate() {
            if only.is_some_and(|o| o != r) {
                continue;
            }
            // Names alone: `link`, and dedupe when asked (see [`NAMES_ONLY`]).
            if r == NAMES_ONLY && !self.names_only {
                stats.rules.push(RuleStats {
                    rule: (*name).to_string(),
                    ..Default::default()
                });
                continue;
            }
            let earlier = if only.is_some() { 0 } else { r };
            let mut rs = RuleStats {
                rule: (*name).to_string(),
                ..Default::default()
            };
            // (key row, start, end) of each block within the cap.
            let mut runs: Vec<(usize, usize, usize)> = Vec::new();
            let mut keyed = 0u64;
            let mut last_rec = u32::MAX;
            for row in rows_of(r) {
                let v = &self.sorted[row];
                let mut i = 0;
                while i < v.len() {
                    let mut j = i + 1;
                    while j < v.len() && v[j].0 == v[i].0 {
                        j += 1;
                    }
                    let len = j - i;
                    if len >= 2 {
                        rs.blocks += 1;
                        rs.largest_block = rs.largest_block.max(len as u64);
                        if len > self.cap_of(r) {
                            rs.skipped_blocks += 1;
                            rs.skipped_records += len as u64;
                        } else {
                            runs.push((row, i, j));
                        }
                    }
                    i = j;
                }
            }
            // records with a key (a record may have several keys under a rule)
            let mut recs: Vec<u32> = rows_of(r)
                .flat_map(|row| self.sorted[row].iter().map(|e| e.1))
                .collect();
            recs.sort_unstable();
            for x in recs {
                if x != last_rec {
                    keyed += 1;
                    last_rec = x;
                }
            }
            rs.records_keyed = keyed;
            // Big blocks first, so that the threads finish together.
            runs.sort_unstable_by_key(|&(_, a, b)| std::cmp::Reverse(b - a));
            let next = AtomicUsize::new(0);
            let counts: Vec<u64> = std::thread::scope(|s| {
                let handles: Vec<_> = accs
                    .iter_mut()
                    .map(|acc| {
                        let (next, runs, visit) = (&next, &runs, &visit);
                        s.spawn(move || {
                            let mut pairs = 0u64;
                            loop {
                                let k = next.fetch_add(1, Ordering::Relaxed);
                                let Some(&(row, lo, hi)) = runs.get(k) else {
                                    break;
                                };
                                let block = &self.sorted[row][lo..hi];
                                let key = (block[0].0, row);
                                for x in 0..block.len() {
                                    for y in x + 1..block.len() {
                                        let (mut a, mut b) = (block[x].1, block[y].1);
                                        if a > b {
                                            std::mem::swap(&mut a, &mut b);
                                        }
                                        if (r == NAMES_ONLY
                                            && self.dateless[a as usize]
                                                == self.dateless[b as usize])
                                            || (r == FATHER
                                                && self.full[a as usize]
                                                && self.full[b as usize])
                                        {
                                            continue;
                                        }
                                        let (a_, b_) = (a as usize, b as usize);
                                        // Names alone compare only a pair of which one
                                        // side has no date.
                                        let names_only = self.names_only
                                            && self.dateless[a_] != self.dateless[b_];
                                        if (0..earlier).any(|e| {
                                            (e != NAMES_ONLY || names_only)
                                                && self.shares(a_, b_, e).is_some()
                                        }) {
                                            continue;
                                        }
                                        if self.shares(a_, b_, r) != Some(key) {
                                            continue;
                                        }
                                        pairs += 1;
                                        visit(acc, a, b);
                                    }
                                }
                            }
                            pairs
                        })
                    })
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
                    .collect()
            });
            rs.pairs = counts.iter().sum();
            stats.pairs += rs.pairs;
            stats.rules.push(rs);
        }
        (accs, stats)
    }
}

/// What each blocking rule brings, as [`super::dedupe`] blocks (caps applied): for the
/// benchmark's table of the pairs only one rule brings.
#[doc(hidden)]
#[derive(Debug, Clone, Default)]
pub struct RuleReport {
    /// Per pair asked about: bit `r` set when rule `r` ([`RULES`]) compares it.
    pub blocked_by: Vec<u32>,
    /// Per rule: the pairs of its own blocks within its cap, whether or not another rule
    /// also brings them.
    pub alone: Vec<u64>,
    /// Dedupe's blocking (each pair under the first rule that brings it), walked without
    /// scoring, and the seconds the walk took.
    pub first: BlockingStats,
    pub walk_seconds: f64,
}

/// [`RuleReport`] of `pairs` (indices into `records`) with `model`'s block cap.
#[doc(hidden)]
pub fn rule_report(
    model: &super::Model,
    records: &[super::PersonRecord],
    pairs: &[(usize, usize)],
) -> RuleReport {
    let prepared = model.prepare(records);
    let mut blocks = Blocks::build(&prepared.tables, &prepared.preps, model.block_cap);
    blocks.names_only = true;
    let blocked_by = pairs
        .iter()
        .map(|&(a, b)| {
            if a < records.len() && b < records.len() && a != b {
                blocks.rules_of(a, b)
            } else {
                0
            }
        })
        .collect();
    let alone = (0..NR)
        .map(|r| {
            blocks
                .for_each_pair_of_rule(r, default_threads(), || (), |_, _, _| {})
                .1
                .pairs
        })
        .collect();
    let t0 = std::time::Instant::now();
    let first = blocks
        .for_each_pair(default_threads(), || (), |_, _, _| {})
        .1;
    let walk_seconds = t0.elapsed().as_secs_f64();
    RuleReport {
        blocked_by,
        alone,
        first,
        walk_seconds,
    }
}

/// How many threads to use: the machine's parallelism, at most 8.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
}
