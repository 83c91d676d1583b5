//! Personal numbers: the Yugoslav JMBG/EMBG, the Kosovo personal number and the Albanian
//! personal number.
//!
//! Each scheme has a parser that checks the number on its own (length, characters, embedded date,
//! region, check digit) and reports every problem it finds; agreement with the rest of a record
//! (date of birth, sex) is checked in [`crate::validate`]. Surrounding whitespace is trimmed;
//! any other character that does not belong (an internal space, a dash) is an error. Nothing here
//! panics, whatever the input.
//!
//! # JMBG regions in use (`RR`)
//!
//! | RR    | region                                                                 |
//! |-------|------------------------------------------------------------------------|
//! | 10–19 | Bosnia and Herzegovina                                                 |
//! | 21–29 | Montenegro                                                             |
//! | 30–39 | Croatia                                                                |
//! | 41–49 | North Macedonia                                                        |
//! | 50–59 | Slovenia                                                               |
//! | 71–79 | central Serbia                                                         |
//! | 80–89 | Vojvodina                                                              |
//! | 91–96 | Kosovo: 91 Prishtina, 92 Mitrovica, 93 Peć, 94 Đakovica, 95 Prizren, 96 Gnjilane |
//!
//! Everything else (00–09, 20, 40, 60–70, 90, 97–99) is not in use. People born elsewhere in
//! former Yugoslavia appear in Kosovo's registers, hence the whole table.

use crate::model::Sex;
use chrono::NaiveDate;

/// The three personal-number schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Jmbg,
    Kosovo,
    Albanian,
}

impl Scheme {
    /// The field name of this scheme in [`crate::model::PersonalNumbers`], also the code prefix.
    pub fn key(self) -> &'static str {
        match self {
            Scheme::Jmbg => "jmbg",
            Scheme::Kosovo => "kosovo",
            Scheme::Albanian => "albanian",
        }
    }

    /// How a clerk calls it.
    pub fn label(self) -> &'static str {
        match self {
            Scheme::Jmbg => "JMBG",
            Scheme::Kosovo => "Kosovo personal number",
            Scheme::Albanian => "Albanian personal number",
        }
    }

    /// The exact length, in characters, of a number of this scheme.
    pub fn length(self) -> usize {
        match self {
            Scheme::Jmbg => 13,
            Scheme::Kosovo => 10,
            Scheme::Albanian => 10,
        }
    }
}

/// A decoded JMBG/EMBG (`DDMMYYYRRBBBK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jmbg {
    pub date_of_birth: NaiveDate,
    /// Region of registration, `RR`; one of [`jmbg_region`]'s known regions.
    pub region: u8,
    /// From `BBB`: 000–499 male, 500–999 female.
    pub sex: Sex,
    /// `BBB` as written (0–999).
    pub serial: u16,
}

/// A decoded Albanian personal number (letter, 8 digits, letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlbanianPn {
    pub date_of_birth: NaiveDate,
    /// From the month: +50 marks a woman.
    pub sex: Sex,
    /// The three serial digits (0–999).
    pub serial: u16,
}

/// A problem that makes a personal number wrong. [`PnumError::code`] is a stable machine name;
/// the `Display` text is a sentence a clerk understands.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PnumError {
    #[error("the {} must be exactly {expected} characters long, but this one has {found}; check it against the identity document, or remove it if the person has none", .scheme.label())]
    Length {
        scheme: Scheme,
        expected: usize,
        found: usize,
    },
    #[error("the {} has {} at position {position} where {expected} belongs; correct it, typing the number without spaces or other signs", .scheme.label(), describe_char(*.found))]
    Character {
        scheme: Scheme,
        /// 1-based position in the trimmed number.
        position: usize,
        found: char,
        /// "a digit" or "a letter".
        expected: &'static str,
    },
    #[error("the JMBG's first seven digits give day {day:02}, month {month:02}, year {year}, which is not a real date; check the number against the identity document")]
    JmbgDate { day: u8, month: u8, year: i32 },
    #[error("JMBG region {region:02} is not in use (digits 8 and 9 must be 10–19, 21–39, 41–59, 71–89 or 91–96); check the number against the identity document")]
    JmbgRegion { region: u8 },
    #[error("the JMBG's check digit (the last digit) is {found}, but the first twelve digits require {expected}; check the number for a mistyped digit")]
    JmbgChecksum { expected: u8, found: u8 },
    #[error("the Albanian personal number starts with {letter:?}, which is not a decade letter (A = 1900s … M = 2020s); check the number against the identity document")]
    AlbanianDecade { letter: char },
    #[error("the Albanian personal number's digits give year {year}, month field {month_field:02} and day {day:02}, which is not a real date (the month is 01–12 for men, 51–62 for women); check the number against the identity document")]
    AlbanianDate { year: i32, month_field: u8, day: u8 },
    #[error("the Albanian personal number's check letter (the last letter) is {found}, but the rest of the number requires {expected}; check the number for a mistyped character")]
    AlbanianChecksum { expected: char, found: char },
}

impl PnumError {
    /// Stable machine name, e.g. `"jmbg.checksum"`.
    pub fn code(&self) -> &'static str {
        match self {
            PnumError::Length { scheme, .. } => match scheme {
                Scheme::Jmbg => "jmbg.length",
                Scheme::Kosovo => "kosovo.length",
                Scheme::Albanian => "albanian.length",
            },
            PnumError::Character { scheme, .. } => match scheme {
                Scheme::Jmbg => "jmbg.character",
                Scheme::Kosovo => "kosovo.character",
                Scheme::Albanian => "albanian.character",
            },
            PnumError::JmbgDate { .. } => "jmbg.date",
            PnumError::JmbgRegion { .. } => "jmbg.region",
            PnumError::JmbgChecksum { .. } => "jmbg.checksum",
            PnumError::AlbanianDecade { .. } => "albanian.decade",
            PnumError::AlbanianDate { .. } => "albanian.date",
            PnumError::AlbanianChecksum { .. } => "albanian.checksum",
        }
    }
}

/// A doubt about a personal number that does not make it wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PnumWarning {
    /// The mod-11 remainder gives 10, for which sources disagree; check digit 0 was accepted.
    #[error("the JMBG's check digit is 0 where the computation gives 10, a case official sources treat differently; confirm the number against the identity document")]
    JmbgCheckTen,
    /// The Kosovo check digit does not match the (unofficial) scheme; the number is kept.
    #[error("the Kosovo personal number's last digit is {found}, where the usual check-digit scheme gives {expected}; the scheme is not officially published, so confirm the number against the identity document")]
    KosovoChecksum { expected: u8, found: u8 },
}

impl PnumWarning {
    /// Stable machine name, e.g. `"kosovo.checksum"`.
    pub fn code(&self) -> &'static str {
        match self {
            PnumWarning::JmbgCheckTen => "jmbg.check_ten",
            PnumWarning::KosovoChecksum { .. } => "kosovo.checksum",
        }
    }
}

fn describe_char(c: char) -> String {
    if c == ' ' {
        "a space".to_string()
    } else if c.is_control() || c.is_whitespace() {
        format!("an invisible character (U+{:04X})", c as u32)
    } else {
        format!("{c:?}")
    }
}

/// Trims, checks the length and that every character passes `ok(index, char, length_ok)`;
/// returns the characters.
fn shape(
    s: &str,
    scheme: Scheme,
    ok: impl Fn(usize, char, bool) -> Result<(), &'static str>,
) -> Result<Vec<char>, Vec<PnumError>> {
    let chars: Vec<char> = s.trim().chars().collect();
    let length_ok = chars.len() == scheme.length();
    let mut errors = Vec::new();
    if !length_ok {
        errors.push(PnumError::Length {
            scheme,
            expected: scheme.length(),
            found: chars.len(),
        });
    }
    if let Some((i, c, expected)) = chars
        .iter()
        .enumerate()
        .find_map(|(i, &c)| ok(i, c, length_ok).err().map(|e| (i, c, e)))
    {
        errors.push(PnumError::Character {
            scheme,
            position: i + 1,
            found: c,
            expected,
        });
    }
    if errors.is_empty() {
        Ok(chars)
    } else {
        Err(errors)
    }
}

fn digit_only(_: usize, c: char, _: bool) -> Result<(), &'static str> {
    if c.is_ascii_digit() {
        Ok(())
    } else {
        Err("a digit")
    }
}

/// Digit values of ASCII digits (callers have checked them).
fn values(chars: &[char]) -> Vec<u8> {
    chars
        .iter()
        .map(|c| c.to_digit(10).unwrap_or(0) as u8)
        .collect()
}

fn number(digits: &[u8]) -> u32 {
    digits.iter().fold(0, |n, &d| n * 10 + u32::from(d))
}

/// The JMBG check digit for the first twelve digit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JmbgCheck {
    /// The check digit must be this.
    Digit(u8),
    /// `11 − (sum mod 11)` is 10: sources disagree; 0 is accepted with a warning.
    Ten,
}

/// Computes the JMBG check digit: weights 7,6,5,4,3,2,7,6,5,4,3,2; `m = 11 − (sum mod 11)`;
/// 11 gives 0, 10 is [`JmbgCheck::Ten`].
pub fn jmbg_check_digit(first12: &[u8; 12]) -> JmbgCheck {
    const W: [u32; 12] = [7, 6, 5, 4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = first12.iter().zip(W).map(|(&d, w)| u32::from(d) * w).sum();
    match 11 - sum % 11 {
        11 => JmbgCheck::Digit(0),
        10 => JmbgCheck::Ten,
        m => JmbgCheck::Digit(m as u8),
    }
}

/// The region a JMBG `RR` stands for, or `None` when it is not in use (see the module table).
pub fn jmbg_region(rr: u8) -> Option<&'static str> {
    Some(match rr {
        10..=19 => "Bosnia and Herzegovina",
        21..=29 => "Montenegro",
        30..=39 => "Croatia",
        41..=49 => "North Macedonia",
        50..=59 => "Slovenia",
        71..=79 => "central Serbia",
        80..=89 => "Vojvodina",
        91 => "Kosovo: Prishtina",
        92 => "Kosovo: Mitrovica",
        93 => "Kosovo: Peć",
        94 => "Kosovo: Đakovica",
        95 => "Kosovo: Prizren",
        96 => "Kosovo: Gnjilane",
        _ => return None,
    })
}

/// Parses and checks a JMBG/EMBG, `DDMMYYYRRBBBK`. The year is 2YYY when YYY < 800, else 1YYY.
/// On success, returns the decoded number with any warnings (check digit 0 where 10 is
/// computed); otherwise every error found.
pub fn parse_jmbg(s: &str) -> Result<(Jmbg, Vec<PnumWarning>), Vec<PnumError>> {
    let d = values(&shape(s, Scheme::Jmbg, digit_only)?);
    let (day, month, yyy) = (number(&d[0..2]), number(&d[2..4]), number(&d[4..7]));
    let year = yyy as i32 + if yyy < 800 { 2000 } else { 1000 };
    let region = number(&d[7..9]) as u8;
    let serial = number(&d[9..12]) as u16;
    let mut errors = Vec::new();
    let mut warnings = Vec::new();
    let date = NaiveDate::from_ymd_opt(year, month, day);
    if date.is_none() {
        errors.push(PnumError::JmbgDate {
            day: day as u8,
            month: month as u8,
            year,
        });
    }
    if jmbg_region(region).is_none() {
        errors.push(PnumError::JmbgRegion { region });
    }
    let mut first12 = [0u8; 12];
    first12.copy_from_slice(&d[..12]);
    let found = d[12];
    match jmbg_check_digit(&first12) {
        JmbgCheck::Digit(k) if k == found => {}
        JmbgCheck::Ten if found == 0 => warnings.push(PnumWarning::JmbgCheckTen),
        JmbgCheck::Digit(expected) => errors.push(PnumError::JmbgChecksum { expected, found }),
        JmbgCheck::Ten => errors.push(PnumError::JmbgChecksum { expected: 0, found }),
    }
    match date {
        Some(date_of_birth) if errors.is_empty() => Ok((
            Jmbg {
                date_of_birth,
                region,
                sex: if serial < 500 { Sex::Male } else { Sex::Female },
                serial,
            },
            warnings,
        )),
        _ => Err(errors),
    }
}

/// The Kosovo check digit (unofficial scheme): weights 4,3,2,7,6,5,4,3,2 on the first nine
/// digit values; `11 − (sum mod 11)`, with 10 or 11 giving 0.
pub fn kosovo_check_digit(first9: &[u8; 9]) -> u8 {
    const W: [u32; 9] = [4, 3, 2, 7, 6, 5, 4, 3, 2];
    let sum: u32 = first9.iter().zip(W).map(|(&d, w)| u32::from(d) * w).sum();
    match 11 - sum % 11 {
        10 | 11 => 0,
        m => m as u8,
    }
}

/// Checks a Kosovo personal number: exactly ten digits (else errors). Because the check-digit
/// scheme is not officially published, a mismatch is only a warning.
pub fn check_kosovo(s: &str) -> Result<Vec<PnumWarning>, Vec<PnumError>> {
    let d = values(&shape(s, Scheme::Kosovo, digit_only)?);
    let mut first9 = [0u8; 9];
    first9.copy_from_slice(&d[..9]);
    let expected = kosovo_check_digit(&first9);
    Ok(if expected == d[9] {
        Vec::new()
    } else {
        vec![PnumWarning::KosovoChecksum {
            expected,
            found: d[9],
        }]
    })
}

/// Alphabet of the Albanian check letter; a first letter's index `L` is taken in it too.
pub const ALBANIAN_CHECK_ALPHABET: &str = "WABCDEFGHIJKLMNOPQRSTUV";

/// The Albanian check letter: `ALBANIAN_CHECK_ALPHABET[(L + Σ i·dᵢ) mod 23]`, with `L` the first
/// letter's index in that alphabet and `dᵢ` the i-th digit (i = 1..8). `None` when `first` is not
/// in the alphabet (X, Y, Z, or not an uppercase ASCII letter).
pub fn albanian_check_letter(first: char, digits: &[u8; 8]) -> Option<char> {
    let alphabet: Vec<char> = ALBANIAN_CHECK_ALPHABET.chars().collect();
    let l = alphabet.iter().position(|&c| c == first)?;
    let sum: usize = digits
        .iter()
        .enumerate()
        .map(|(i, &d)| (i + 1) * usize::from(d))
        .sum();
    alphabet.get((l + sum) % 23).copied()
}

/// Parses and checks an Albanian personal number: decade letter (A = 1900s … J = 1990s,
/// K = 2000s, L = 2010s, M = 2020s), year digit, month (+50 for women), day, three serial digits,
/// check letter. Lowercase is accepted. Example: `J00101999W`, a man born 1990-01-01.
pub fn parse_albanian(s: &str) -> Result<AlbanianPn, Vec<PnumError>> {
    let upper = s.to_ascii_uppercase();
    let chars = shape(&upper, Scheme::Albanian, |i, c, length_ok| {
        if !length_ok {
            // Positions mean nothing in a number of the wrong length.
            if c.is_ascii_alphanumeric() {
                Ok(())
            } else {
                Err("a letter or digit")
            }
        } else if i == 0 || i == 9 {
            if c.is_ascii_uppercase() {
                Ok(())
            } else {
                Err("a letter")
            }
        } else {
            digit_only(i, c, length_ok)
        }
    })?;
    let (first, last) = (chars[0], chars[9]);
    let d = values(&chars[1..9]);
    let mut errors = Vec::new();
    let decade = match first {
        'A'..='M' => Some(1900 + 10 * (first as i32 - 'A' as i32)),
        _ => {
            errors.push(PnumError::AlbanianDecade { letter: first });
            None
        }
    };
    let month_field = number(&d[1..3]) as u8;
    let day = number(&d[3..5]) as u8;
    let (month, sex) = if month_field > 50 {
        (month_field - 50, Sex::Female)
    } else {
        (month_field, Sex::Male)
    };
    let mut date = None;
    if let Some(decade) = decade {
        let year = decade + i32::from(d[0]);
        date = NaiveDate::from_ymd_opt(year, u32::from(month), u32::from(day))
            .filter(|_| month_field <= 12 || month_field > 50);
        if date.is_none() {
            errors.push(PnumError::AlbanianDate {
                year,
                month_field,
                day,
            });
        }
    }
    let mut digits = [0u8; 8];
    digits.copy_from_slice(&d);
    if let Some(expected) = albanian_check_letter(first, &digits) {
        if expected != last {
            errors.push(PnumError::AlbanianChecksum {
                expected,
                found: last,
            });
        }
    }
    match date {
        Some(date_of_birth) if errors.is_empty() => Ok(AlbanianPn {
            date_of_birth,
            sex,
            serial: number(&d[5..8]) as u16,
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Datelike;

    fn digits_of(s: &str) -> Vec<u8> {
        s.bytes().map(|b| b - b'0').collect()
    }

    /// Builds a valid JMBG from its first twelve digits (panics in the m == 10 case).
    fn jmbg_with_check(first12: &str) -> String {
        let d: [u8; 12] = digits_of(first12).try_into().unwrap();
        match jmbg_check_digit(&d) {
            JmbgCheck::Digit(k) => format!("{first12}{k}"),
            JmbgCheck::Ten => panic!("{first12}: m == 10"),
        }
    }

    fn kosovo_with_check(first9: &str) -> String {
        let d: [u8; 9] = digits_of(first9).try_into().unwrap();
        format!("{first9}{}", kosovo_check_digit(&d))
    }

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn codes(errors: &[PnumError]) -> Vec<&'static str> {
        errors.iter().map(PnumError::code).collect()
    }

    // ---- JMBG ----

    #[test]
    fn jmbg_hand_worked_examples() {
        // 0·7+1·6+0·5+1·4+9·3+9·2+0·7+9·6+1·5+0·4+0·3+0·2 = 114; 114 mod 11 = 4; 11 − 4 = 7.
        assert_eq!(jmbg_with_check("010199091000"), "0101990910007");
        // 1·7+5·6+0+6·4+0+0+5·7+9·6+1·5+5·4+0+0 = 175; 175 mod 11 = 10; 11 − 10 = 1.
        assert_eq!(jmbg_with_check("150600591500"), "1506005915001");
        // 2·7+5·6+1·5+2·4+9·3+8·2+5·7+7·6+1·5+0+1·3+2·2 = 189; 189 mod 11 = 2; 11 − 2 = 9.
        assert_eq!(jmbg_with_check("251298571012"), "2512985710129");
    }

    #[test]
    fn jmbg_valid_numbers() {
        let (j, w) = parse_jmbg("0101990910007").unwrap();
        assert_eq!(
            j,
            Jmbg {
                date_of_birth: ymd(1990, 1, 1),
                region: 91,
                sex: Sex::Male,
                serial: 0
            }
        );
        assert!(w.is_empty());

        // Year 005 → 2005; BBB 500 → female.
        let (j, w) = parse_jmbg("1506005915001").unwrap();
        assert_eq!(
            j,
            Jmbg {
                date_of_birth: ymd(2005, 6, 15),
                region: 91,
                sex: Sex::Female,
                serial: 500
            }
        );
        assert!(w.is_empty());

        // Born in central Serbia; surrounding whitespace is trimmed.
        let (j, _) = parse_jmbg("  2512985710129\n").unwrap();
        assert_eq!(
            (j.date_of_birth, j.region, j.sex, j.serial),
            (ymd(1985, 12, 25), 71, Sex::Male, 12)
        );
    }

    #[test]
    fn jmbg_year_boundary() {
        // YYY 799 → 2799 is a real date; 800 → 1800.
        assert_eq!(
            parse_jmbg(&jmbg_with_check("010179991000"))
                .unwrap()
                .0
                .date_of_birth
                .year(),
            2799
        );
        assert_eq!(
            parse_jmbg(&jmbg_with_check("010180091000"))
                .unwrap()
                .0
                .date_of_birth
                .year(),
            1800
        );
    }

    #[test]
    fn jmbg_sex_boundary() {
        assert_eq!(
            parse_jmbg(&jmbg_with_check("010199091499")).unwrap().0.sex,
            Sex::Male
        );
        assert_eq!(
            parse_jmbg(&jmbg_with_check("010199091501")).unwrap().0.sex,
            Sex::Female
        );
        assert_eq!(
            parse_jmbg(&jmbg_with_check("010199091999")).unwrap().0.sex,
            Sex::Female
        );
    }

    #[test]
    fn jmbg_every_single_digit_change_is_caught() {
        for base in ["0101990910007", "1506005915001", "2512985710129"] {
            for pos in 0..13 {
                for d in b'0'..=b'9' {
                    let mut bytes = base.as_bytes().to_vec();
                    if bytes[pos] == d {
                        continue;
                    }
                    bytes[pos] = d;
                    let s = String::from_utf8(bytes).unwrap();
                    assert!(parse_jmbg(&s).is_err(), "{s} (position {pos}) not caught");
                }
            }
        }
    }

    #[test]
    fn jmbg_check_ten_accepts_zero_with_warning() {
        // Search for a body whose remainder gives m == 10.
        let body = (0..1000)
            .map(|serial| format!("010199091{serial:03}"))
            .find(|b| {
                let d: [u8; 12] = digits_of(b).try_into().unwrap();
                jmbg_check_digit(&d) == JmbgCheck::Ten
            })
            .expect("some serial gives m == 10");
        let (_, warnings) = parse_jmbg(&format!("{body}0")).unwrap();
        assert_eq!(warnings, vec![PnumWarning::JmbgCheckTen]);
        assert_eq!(warnings[0].code(), "jmbg.check_ten");
        for k in 1..=9 {
            let errs = parse_jmbg(&format!("{body}{k}")).unwrap_err();
            assert_eq!(codes(&errs), ["jmbg.checksum"]);
        }
    }

    #[test]
    fn jmbg_wrong_length_and_characters() {
        assert_eq!(
            codes(&parse_jmbg("010199091000").unwrap_err()),
            ["jmbg.length"]
        );
        assert_eq!(
            codes(&parse_jmbg("01019909100070").unwrap_err()),
            ["jmbg.length"]
        );
        assert_eq!(codes(&parse_jmbg("").unwrap_err()), ["jmbg.length"]);
        let errs = parse_jmbg("0101990 910007").unwrap_err();
        assert_eq!(codes(&errs), ["jmbg.length", "jmbg.character"]);
        assert!(
            errs[1].to_string().contains("a space at position 8"),
            "{}",
            errs[1]
        );
        assert_eq!(
            codes(&parse_jmbg("010199091000X").unwrap_err()),
            ["jmbg.character"]
        );
        // Non-ASCII digits are not digits here (and do not panic).
        assert_eq!(
            codes(&parse_jmbg("010199091000٧").unwrap_err()),
            ["jmbg.character"]
        );
    }

    #[test]
    fn jmbg_bad_region() {
        for rr in [0, 9, 20, 40, 60, 65, 70, 90, 97, 99] {
            let n = jmbg_with_check_any(&format!("010199{}{rr:02}000", 0));
            let errs = parse_jmbg(&n).unwrap_err();
            assert_eq!(codes(&errs), ["jmbg.region"], "{n}");
            assert!(errs[0]
                .to_string()
                .contains(&format!("region {rr:02} is not in use")));
        }
        for rr in (10..=19)
            .chain(21..=39)
            .chain(41..=59)
            .chain(71..=89)
            .chain(91..=96)
        {
            assert!(jmbg_region(rr).is_some(), "{rr}");
        }
    }

    /// Like `jmbg_with_check` but picks another serial when m == 10.
    fn jmbg_with_check_any(first12: &str) -> String {
        let d: [u8; 12] = digits_of(first12).try_into().unwrap();
        match jmbg_check_digit(&d) {
            JmbgCheck::Digit(k) => format!("{first12}{k}"),
            JmbgCheck::Ten => jmbg_with_check_any(&format!("{}1", &first12[..11])),
        }
    }

    #[test]
    fn jmbg_bad_date() {
        for body in [
            "310299091000",
            "000199091000",
            "011399091000",
            "290200191000",
        ] {
            let n = jmbg_with_check_any(body);
            assert_eq!(codes(&parse_jmbg(&n).unwrap_err()), ["jmbg.date"], "{n}");
        }
        // 29 February of a leap year is fine.
        assert!(parse_jmbg(&jmbg_with_check_any("290200491000")).is_ok());
        // Every problem at once: bad date, bad region, bad checksum.
        let errs = parse_jmbg("3102990000001").unwrap_err();
        assert_eq!(codes(&errs), ["jmbg.date", "jmbg.region", "jmbg.checksum"]);
    }

    // ---- Kosovo ----

    #[test]
    fn kosovo_hand_worked_examples() {
        // 4·1+3·2+2·3+7·4+6·5+5·6+4·7+3·8+2·9 = 174; 174 mod 11 = 9; 11 − 9 = 2.
        assert_eq!(kosovo_with_check("123456789"), "1234567892");
        // 4·1 = 4; 11 − 4 = 7.
        assert_eq!(kosovo_with_check("100000000"), "1000000007");
        // Sum 0 → 11 → 0.
        assert_eq!(kosovo_with_check("000000000"), "0000000000");
        // 2·5 = 10; 11 − 10 = 1.
        assert_eq!(kosovo_with_check("000000005"), "0000000051");
        // 2·6 = 12 → 1; 11 − 1 = 10 → 0.
        assert_eq!(kosovo_with_check("000000006"), "0000000060");
    }

    #[test]
    fn kosovo_valid_numbers() {
        for n in ["1234567892", "1000000007", "0000000000", " 0000000060 "] {
            assert_eq!(check_kosovo(n), Ok(vec![]), "{n}");
        }
    }

    #[test]
    fn kosovo_every_single_digit_change_is_a_warning() {
        for base in ["1234567892", "1000000007", "0000000051"] {
            for pos in 0..10 {
                for d in b'0'..=b'9' {
                    let mut bytes = base.as_bytes().to_vec();
                    if bytes[pos] == d {
                        continue;
                    }
                    bytes[pos] = d;
                    let s = String::from_utf8(bytes).unwrap();
                    let w = check_kosovo(&s).unwrap_or_else(|e| panic!("{s}: error {e:?}"));
                    assert_eq!(w.len(), 1, "{s} (position {pos}) not caught");
                    assert_eq!(w[0].code(), "kosovo.checksum");
                }
            }
        }
    }

    #[test]
    fn kosovo_wrong_length_and_characters() {
        for n in ["123456789", "12345678920", "", "1234567892 1"] {
            assert!(
                codes(&check_kosovo(n).unwrap_err()).contains(&"kosovo.length"),
                "{n}"
            );
        }
        assert_eq!(
            codes(&check_kosovo("12345678a2").unwrap_err()),
            ["kosovo.character"]
        );
        assert_eq!(
            codes(&check_kosovo("12345 7892").unwrap_err()),
            ["kosovo.character"]
        );
    }

    // ---- Albanian ----

    #[test]
    fn albanian_hand_worked_examples() {
        // J is 10 in WABCDEFGHIJ…; 1·0+2·0+3·1+4·0+5·1+6·9+7·9+8·9 = 197; 207 mod 23 = 0 → W.
        assert_eq!(
            albanian_check_letter('J', &[0, 0, 1, 0, 1, 9, 9, 9]),
            Some('W')
        );
        // I is 9; digits 5 57 23 123: 5+10+21+8+15+6+14+24 = 103; 112 mod 23 = 20 → T.
        assert_eq!(
            albanian_check_letter('I', &[5, 5, 7, 2, 3, 1, 2, 3]),
            Some('T')
        );
        // K is 11; digits 5 06 15 001: 5+0+18+4+25+0+0+8 = 60; 71 mod 23 = 2 → B.
        assert_eq!(
            albanian_check_letter('K', &[5, 0, 6, 1, 5, 0, 0, 1]),
            Some('B')
        );
        assert_eq!(albanian_check_letter('X', &[0; 8]), None);
    }

    #[test]
    fn albanian_valid_numbers() {
        assert_eq!(
            parse_albanian("J00101999W"),
            Ok(AlbanianPn {
                date_of_birth: ymd(1990, 1, 1),
                sex: Sex::Male,
                serial: 999
            })
        );
        // A woman: month 07 + 50.
        assert_eq!(
            parse_albanian("I55723123T"),
            Ok(AlbanianPn {
                date_of_birth: ymd(1985, 7, 23),
                sex: Sex::Female,
                serial: 123
            })
        );
        assert_eq!(
            parse_albanian(" k50615001b\t"),
            Ok(AlbanianPn {
                date_of_birth: ymd(2005, 6, 15),
                sex: Sex::Male,
                serial: 1
            })
        );
    }

    #[test]
    fn albanian_every_single_character_change_is_caught() {
        for base in ["J00101999W", "I55723123T", "K50615001B"] {
            for pos in 0..10 {
                let alternatives: Vec<u8> = if pos == 0 || pos == 9 {
                    (b'A'..=b'Z').collect()
                } else {
                    (b'0'..=b'9').collect()
                };
                for c in alternatives {
                    let mut bytes = base.as_bytes().to_vec();
                    if bytes[pos] == c {
                        continue;
                    }
                    bytes[pos] = c;
                    let s = String::from_utf8(bytes).unwrap();
                    assert!(
                        parse_albanian(&s).is_err(),
                        "{s} (position {pos}) not caught"
                    );
                }
            }
        }
    }

    #[test]
    fn albanian_errors() {
        let c = |s: &str| codes(&parse_albanian(s).unwrap_err());
        assert_eq!(c("J00101999"), ["albanian.length"]);
        assert_eq!(c("J00101999WW"), ["albanian.length"]);
        assert_eq!(c("J0010 999W"), ["albanian.character"]);
        assert_eq!(c("J 00101999W"), ["albanian.length", "albanian.character"]);
        assert_eq!(c("100101999W"), ["albanian.character"]);
        assert_eq!(c("J001019991"), ["albanian.character"]);
        assert_eq!(c("JO0101999W"), ["albanian.character"]);
        assert_eq!(c("Ј00101999W"), ["albanian.character"]); // Cyrillic Je
                                                             // N would be the 2030s: not a decade letter (yet).
        assert!(c("N00101999W").contains(&"albanian.decade"));
        // Month field 13 and 63, day 30 February, day 00.
        for body in ["0130199", "0630199", "0023099", "0010099"] {
            let digits: [u8; 8] = digits_of(&format!("{body}9")).try_into().unwrap();
            let n = format!("J{body}9{}", albanian_check_letter('J', &digits).unwrap());
            assert_eq!(c(&n), ["albanian.date"], "{n}");
        }
        assert_eq!(c("J00101999A"), ["albanian.checksum"]);
    }
}
