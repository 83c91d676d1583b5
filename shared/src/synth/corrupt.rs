//! The corruptions a duplicate entry of a record gets, as historic registers show them.
//!
//! Each works on one principal of the record (the child, the deceased, or one spouse), or on
//! the whole record for the script and the place, and keeps the record valid (a corrupted
//! duplicate still passes [`crate::validate::validate`], as it did when a clerk entered it):
//!
//! | kind | what |
//! |---|---|
//! | `typo` | one letter substituted, dropped, inserted or two swapped, in a name |
//! | `ocr` | an OCR confusion in a name: `rn`↔`m`, `l`↔`I` (the register's `l`/`1`: digits are refused in names), `ë`→`e`, `cl`→`d`, `h`→`b`, `nn`→`m` |
//! | `diacritics` | every diacritic of the person's names dropped (`ë ç č ć š ž đ` → `e c c c s z d`) |
//! | `transliteration` | a Latin transliteration habit in a name: `Đ`→`Dj` or `D`, `Č`/`Ć`→`C`, `Š`→`S` or `Sh`, `Ž`→`Z` or `Zh`, `Sh`→`S`, `Xh`→`X`, `Zh`→`Z`, `Ç`→`C` |
//! | `script` | the record written in the other script (Latin ↔ Cyrillic; Albanian names through their Serbian spelling, `Krasniqi` → `Краснићи`) |
//! | `swapped_day_month` | date of birth with day and month swapped (only when the day is ≤ 12 and differs from the month); the person's JMBG is left out, as it would contradict the date |
//! | `maiden_surname` | a married woman under her maiden surname (and without it as a second surname) |
//! | `wrong_digit` | one digit of a personal number wrong (the JMBG's last serial digit, a Kosovo number's 2nd–9th digit) with the check digit consistent, as a number copied from a wrong source passes its check |
//! | `place_language` | the place written in the other language (`Prishtinë` ↔ `Priština`) |
//! | `missing_field` | the father's given name, or (not for a child) the date of birth, left out |

use super::population::{with_jmbg_check, with_kosovo_check, PersonSpec, RecordSpec};
use super::Rng;
use crate::gazetteer;
use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use unicode_normalization::char::{decompose_canonical, is_combining_mark};

/// A kind of corruption; see the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CorruptionKind {
    Typo,
    Ocr,
    Diacritics,
    Transliteration,
    Script,
    SwappedDayMonth,
    MaidenSurname,
    WrongDigit,
    PlaceLanguage,
    MissingField,
}

impl CorruptionKind {
    pub const ALL: [CorruptionKind; 10] = [
        CorruptionKind::Typo,
        CorruptionKind::Ocr,
        CorruptionKind::Diacritics,
        CorruptionKind::Transliteration,
        CorruptionKind::Script,
        CorruptionKind::SwappedDayMonth,
        CorruptionKind::MaidenSurname,
        CorruptionKind::WrongDigit,
        CorruptionKind::PlaceLanguage,
        CorruptionKind::MissingField,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            CorruptionKind::Typo => "typo",
            CorruptionKind::Ocr => "ocr",
            CorruptionKind::Diacritics => "diacritics",
            CorruptionKind::Transliteration => "transliteration",
            CorruptionKind::Script => "script",
            CorruptionKind::SwappedDayMonth => "swapped_day_month",
            CorruptionKind::MaidenSurname => "maiden_surname",
            CorruptionKind::WrongDigit => "wrong_digit",
            CorruptionKind::PlaceLanguage => "place_language",
            CorruptionKind::MissingField => "missing_field",
        }
    }

    /// Relative frequency among duplicates.
    fn weight(self) -> f64 {
        match self {
            CorruptionKind::Typo => 3.0,
            CorruptionKind::Diacritics | CorruptionKind::Transliteration => 1.5,
            CorruptionKind::SwappedDayMonth => 1.5,
            _ => 1.0,
        }
    }
}

/// One corruption applied to a duplicate: its kind and the field path it touched (`record` for
/// the whole record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corruption {
    pub kind: CorruptionKind,
    pub field: String,
}

/// Applies up to `n` different corruptions to one principal of `spec` (or the whole record);
/// returns what was done. Every kind is tried only where it applies.
pub(crate) fn apply(spec: &mut RecordSpec, n: usize, rng: &mut Rng) -> Vec<Corruption> {
    let principals = spec.principals();
    let Some(&t) = principals.get(rng.below(principals.len().max(1) as u64) as usize) else {
        return Vec::new();
    };
    let mut kinds: Vec<CorruptionKind> = CorruptionKind::ALL.to_vec();
    let mut done = Vec::new();
    while done.len() < n && !kinds.is_empty() {
        let total: f64 = kinds.iter().map(|k| k.weight()).sum();
        let mut u = rng.unit() * total;
        let mut pick = kinds.len() - 1;
        for (i, k) in kinds.iter().enumerate() {
            if u < k.weight() {
                pick = i;
                break;
            }
            u -= k.weight();
        }
        let kind = kinds.swap_remove(pick);
        if let Some(field) = apply_one(spec, t, kind, rng) {
            done.push(Corruption { kind, field });
        }
    }
    done
}

fn path(p: &PersonSpec, field: &str) -> String {
    format!("{}.{field}", p.role)
}

/// The name fields of a person: (field name for the path, value).
fn name_fields(p: &mut PersonSpec) -> Vec<(&'static str, &mut String)> {
    let sur = if p.role.starts_with("spouse") {
        "surname_after"
    } else {
        "surname"
    };
    let mut v: Vec<(&'static str, &mut String)> = vec![("given_name", &mut p.given)];
    v.push((sur, &mut p.surname));
    if let Some(f) = p.father.as_mut() {
        v.push(("father_given_name", f));
    }
    v
}

fn apply_one(
    spec: &mut RecordSpec,
    t: usize,
    kind: CorruptionKind,
    rng: &mut Rng,
) -> Option<String> {
    match kind {
        CorruptionKind::Typo => {
            let p = &mut spec.people[t];
            let role = p.role;
            let mut fields = name_fields(p);
            // given 40%, surname 45%, father 15% (when there is one)
            let u = rng.unit();
            let i = if u < 0.40 {
                0
            } else if u < 0.85 || fields.len() < 3 {
                1
            } else {
                2
            };
            let (name, value) = fields.swap_remove(i);
            let new = typo(value, rng)?;
            *value = new;
            Some(format!("{role}.{name}"))
        }
        CorruptionKind::Ocr => {
            const PAIRS: &[(&str, &str)] = &[
                ("rn", "m"),
                ("m", "rn"),
                ("l", "I"),
                ("I", "l"),
                ("ë", "e"),
                ("cl", "d"),
                ("h", "b"),
                ("nn", "m"),
            ];
            let p = &mut spec.people[t];
            let role = p.role;
            let mut fields = name_fields(p);
            let start = rng.below(fields.len() as u64) as usize;
            let len = fields.len();
            for k in 0..len {
                let i = (start + k) % len;
                let value = &mut *fields[i].1;
                let found: Vec<(usize, &str, &str)> = PAIRS
                    .iter()
                    .filter_map(|(a, b)| value.find(a).map(|pos| (pos, *a, *b)))
                    .collect();
                if found.is_empty() {
                    continue;
                }
                let (pos, a, b) = found[rng.below(found.len() as u64) as usize];
                value.replace_range(pos..pos + a.len(), b);
                return Some(format!("{role}.{}", fields[i].0));
            }
            None
        }
        CorruptionKind::Diacritics => {
            let p = &mut spec.people[t];
            let role = p.role;
            let mut any = false;
            for (_, v) in name_fields(p) {
                let s = strip_diacritics(v);
                if s != *v {
                    *v = s;
                    any = true;
                }
            }
            if let Some(o) = p.other.as_mut() {
                *o = strip_diacritics(o);
            }
            any.then(|| role.to_string())
        }
        CorruptionKind::Transliteration => {
            const RULES: &[(&str, &[&str])] = &[
                ("Đ", &["Dj", "D"]),
                ("đ", &["dj", "d"]),
                ("Č", &["C", "Ch"]),
                ("č", &["c", "ch"]),
                ("Ć", &["C"]),
                ("ć", &["c"]),
                ("Š", &["S", "Sh"]),
                ("š", &["s", "sh"]),
                ("Ž", &["Z", "Zh"]),
                ("ž", &["z", "zh"]),
                ("Sh", &["S"]),
                ("sh", &["s"]),
                ("Xh", &["X", "Dž"]),
                ("xh", &["x"]),
                ("Zh", &["Z"]),
                ("zh", &["z"]),
                ("Ç", &["C"]),
                ("ç", &["c"]),
            ];
            let p = &mut spec.people[t];
            let role = p.role;
            for (name, value) in name_fields(p) {
                let hits: Vec<&(&str, &[&str])> =
                    RULES.iter().filter(|(a, _)| value.contains(a)).collect();
                if hits.is_empty() {
                    continue;
                }
                let (from, tos) = hits[rng.below(hits.len() as u64) as usize];
                let to = tos[rng.below(tos.len() as u64) as usize];
                *value = value.replace(from, to);
                return Some(format!("{role}.{name}"));
            }
            None
        }
        CorruptionKind::Script => {
            spec.cyrillic = !spec.cyrillic;
            Some("record".into())
        }
        CorruptionKind::SwappedDayMonth => {
            let p = &mut spec.people[t];
            let dob = p.dob?;
            if dob.day() > 12 || dob.day() == dob.month() {
                return None;
            }
            let swapped = NaiveDate::from_ymd_opt(dob.year(), dob.day(), dob.month())?;
            if swapped > super::LATEST {
                return None;
            }
            p.dob = Some(swapped);
            p.jmbg = None;
            Some(path(p, "date_of_birth"))
        }
        CorruptionKind::MaidenSurname => {
            let p = &mut spec.people[t];
            let maiden = p.other.take()?;
            p.surname = maiden;
            let f = if p.role.starts_with("spouse") {
                "surname_after"
            } else {
                "surname"
            };
            Some(path(p, f))
        }
        CorruptionKind::WrongDigit => {
            let p = &mut spec.people[t];
            if let Some(j) = p.jmbg.clone() {
                let body = &j[..11];
                let old = j.as_bytes()[11];
                let start = rng.below(10) as u8;
                for k in 0..10u8 {
                    let d = b'0' + (start + k) % 10;
                    if d == old {
                        continue;
                    }
                    if let Some(n) = with_jmbg_check(&format!("{body}{}", char::from(d))) {
                        p.jmbg = Some(n);
                        return Some(path(p, "personal_numbers.jmbg"));
                    }
                }
                None
            } else if let Some(k) = p.kosovo.clone() {
                let mut first9: Vec<u8> = k.as_bytes()[..9].to_vec();
                let i = 1 + rng.below(8) as usize;
                let old = first9[i];
                first9[i] = b'0' + ((old - b'0') + 1 + rng.below(9) as u8) % 10;
                let first9 = String::from_utf8(first9).ok()?;
                p.kosovo = Some(with_kosovo_check(&first9));
                Some(path(p, "personal_numbers.kosovo"))
            } else {
                None
            }
        }
        CorruptionKind::PlaceLanguage => {
            let m = gazetteer::by_code(spec.place)?;
            if m.name_sq == m.name_sr_latn && !spec.cyrillic {
                return None;
            }
            spec.serbian_place = !spec.serbian_place;
            Some(
                match spec.kind {
                    crate::model::RecordKind::Birth => "place_of_birth",
                    crate::model::RecordKind::Marriage => "place_of_marriage",
                    crate::model::RecordKind::Death => "place_of_death",
                }
                .into(),
            )
        }
        CorruptionKind::MissingField => {
            let p = &mut spec.people[t];
            if p.father.is_some() {
                p.father = None;
                Some(path(p, "father_given_name"))
            } else if p.role != "child" && p.dob.is_some() {
                p.dob = None;
                p.jmbg = None;
                Some(path(p, "date_of_birth"))
            } else {
                None
            }
        }
    }
}

/// One random edit of a name: substitute, delete, insert or transpose a letter.
fn typo(name: &str, rng: &mut Rng) -> Option<String> {
    const LETTERS: &[char] = &[
        'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o', 'p', 'r', 's',
        't', 'u', 'v', 'z',
    ];
    let base: Vec<char> = name.chars().collect();
    if base.len() < 3 {
        return None;
    }
    for _ in 0..10 {
        let mut w = base.clone();
        // Not the first letter: clerks rarely get the initial wrong.
        let i = 1 + rng.below(w.len() as u64 - 1) as usize;
        match rng.below(4) {
            0 => w[i] = *rng.pick(LETTERS),
            1 if w.len() > 3 => {
                w.remove(i);
            }
            2 => w.insert(i, *rng.pick(LETTERS)),
            _ if i + 1 < w.len() => w.swap(i, i + 1),
            _ => w[i] = *rng.pick(LETTERS),
        }
        if w != base
            && w.iter()
                .all(|c| c.is_alphabetic() || *c == ' ' || *c == '-')
        {
            return Some(w.into_iter().collect());
        }
    }
    None
}

/// The name without diacritics, case kept (`Gërguri → Gerguri`, `Đokić → Dokic`).
pub(crate) fn strip_diacritics(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            'đ' => out.push('d'),
            'Đ' => out.push('D'),
            c if c.is_ascii() => out.push(c),
            c => decompose_canonical(c, |d| {
                if !is_combining_mark(d) {
                    out.push(d);
                }
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip() {
        assert_eq!(
            strip_diacritics("Gërguri Đokić Çeku Šarić"),
            "Gerguri Dokic Ceku Saric"
        );
        assert_eq!(strip_diacritics("Ђорђе"), "Ђорђе");
    }

    #[test]
    fn typo_changes_one_thing() {
        let mut rng = Rng::new(7);
        for _ in 0..200 {
            let t = typo("Krasniqi", &mut rng).expect("long enough");
            assert_ne!(t, "Krasniqi");
            assert!(t.starts_with('K'));
            let d = t.chars().count() as i64 - 8;
            assert!((-1..=1).contains(&d), "{t}");
        }
        assert!(typo("Al", &mut rng).is_none());
    }
}
