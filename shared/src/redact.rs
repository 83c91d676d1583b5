//! Finds personal numbers in free text, however they were typed, so that no log holds one in
//! clear: every log and audit writer of hub and node (access logs, tracing fields that carry a
//! query or a clerk, the operator-actions log) passes peer- or user-supplied text through
//! [`redact`] or [`redact_with`] first.
//!
//! **What counts as a personal number** (the schemes of [`crate::pnum`]):
//! - a run of digits, possibly broken by up to [`MAX_GAP`] separators (space, `.`, `-`, `/`, `_`,
//!   `,`, `:`, `;`, `'`, `+`) between digit groups, that holds at least [`MIN_DIGITS`] digits:
//!   a JMBG (13), a Kosovo number (10), typed as `1403968950011`, `JMBG:1403968950011`,
//!   `jmbg=1403968950011;`, `14.03.1968-950011`, `140 396 895 0011`, or glued to letters;
//! - an Albanian number: a letter standing alone, 8 digits (separators allowed as above) and a letter,
//!   `I05101999A`, `i 05101999 a`, `I0510-1999A`.
//!
//! Digits are ASCII digits and the other decimal digits a keyboard or a paste can bring
//! (full-width `０`–`９`, Arabic-Indic `٠`–`٩`, Persian `۰`–`۹`).
//!
//! The detector errs on the side of privacy: any run of nine digits or more goes, whatever it is
//! (a phone number too). A date (`14.03.1968`, 8 digits) or a year stays readable.

/// Fewest digits that make a run a personal number (the shortest scheme, Kosovo, has 10; a
/// number missing one digit is still hidden).
pub const MIN_DIGITS: usize = 9;

/// Most separator characters between two digit groups of one number.
pub const MAX_GAP: usize = 3;

/// What [`redact`] writes in place of a personal number.
pub const MARK: &str = "[personal number]";

fn digit(c: char) -> Option<u32> {
    match c {
        '0'..='9' => Some(c as u32 - '0' as u32),
        '\u{FF10}'..='\u{FF19}' => Some(c as u32 - 0xFF10),
        '\u{0660}'..='\u{0669}' => Some(c as u32 - 0x0660),
        '\u{06F0}'..='\u{06F9}' => Some(c as u32 - 0x06F0),
        _ => None,
    }
}

fn separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '.' | '-' | '/' | '_' | ',' | ':' | ';' | '\'' | '+' | '\u{00A0}'
    )
}

/// One personal number found in a text: the byte range it covers, and its characters without
/// separators (ASCII digits, letters uppercased), the form it is stored and blinded in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    pub start: usize,
    pub end: usize,
    pub canonical: String,
}

/// Every personal number in `text`, in order, not overlapping.
pub fn find(text: &str) -> Vec<Found> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let end_of = |i: usize| chars.get(i).map_or(text.len(), |&(b, _)| b);
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i].1).is_none() {
            i += 1;
            continue;
        }
        // A run of digit groups joined by short gaps of separators.
        let first = i;
        let mut last = i; // index of the last digit of the run
        let mut digits = String::new();
        let mut j = i;
        loop {
            while j < chars.len() {
                match digit(chars[j].1) {
                    Some(d) => {
                        digits.push(char::from_digit(d, 10).expect("a decimal digit"));
                        last = j;
                        j += 1;
                    }
                    None => break,
                }
            }
            let mut k = j;
            while k < chars.len() && k - j < MAX_GAP && separator(chars[k].1) {
                k += 1;
            }
            if k > j && k < chars.len() && digit(chars[k].1).is_some() {
                j = k;
            } else {
                break;
            }
        }
        // An Albanian number: a letter, eight digits, a letter (separators allowed around).
        let letter_at = |from: usize, step: isize| -> Option<usize> {
            let mut k = from as isize;
            for _ in 0..=MAX_GAP {
                k += step;
                let c = chars.get(usize::try_from(k).ok()?)?.1;
                if c.is_ascii_alphabetic() {
                    // The letter stands alone (not the end of a word such as "born").
                    let beyond = k + step;
                    let alone = usize::try_from(beyond)
                        .ok()
                        .and_then(|b| chars.get(b))
                        .is_none_or(|&(_, n)| !n.is_alphabetic());
                    return alone.then_some(k as usize);
                }
                if !separator(c) {
                    return None;
                }
            }
            None
        };
        let albanian = if digits.len() == 8 {
            letter_at(first, -1).zip(letter_at(last, 1))
        } else {
            None
        };
        if let Some((a, z)) = albanian {
            let mut canonical = String::with_capacity(10);
            canonical.push(chars[a].1.to_ascii_uppercase());
            canonical.push_str(&digits);
            canonical.push(chars[z].1.to_ascii_uppercase());
            out.push(Found {
                start: chars[a].0,
                end: end_of(z + 1),
                canonical,
            });
            i = z + 1;
        } else if digits.len() >= MIN_DIGITS {
            out.push(Found {
                start: chars[first].0,
                end: end_of(last + 1),
                canonical: digits,
            });
            i = last + 1;
        } else {
            i = last + 1;
        }
    }
    out
}

/// `text` with every personal number replaced by `mark(canonical form)`.
pub fn redact_with(text: &str, mut mark: impl FnMut(&str) -> String) -> String {
    let found = find(text);
    if found.is_empty() {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for f in found {
        out.push_str(&text[at..f.start]);
        out.push_str(&mark(&f.canonical));
        at = f.end;
    }
    out.push_str(&text[at..]);
    out
}

/// `text` with every personal number replaced by [`MARK`].
pub fn redact(text: &str) -> String {
    redact_with(text, |_| MARK.to_string())
}

/// Whether `text` holds a personal number.
pub fn holds_number(text: &str) -> bool {
    !find(text).is_empty()
}

/// What a peer or a form supplied, made fit for a log: personal numbers replaced by [`MARK`],
/// control characters replaced by spaces, and cut to `max_chars` characters (marked with `…`).
pub fn for_log(text: &str, max_chars: usize) -> String {
    // Cut first (with room for a number that straddles the cut), so that the work is bounded
    // by `max_chars`, whatever the input's size.
    let head: String = text.chars().take(max_chars + 32).collect();
    let clean: String = redact(&head)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let cut = text.chars().nth(max_chars + 32).is_some() || clean.chars().count() > max_chars;
    if cut {
        let mut s: String = clean.chars().take(max_chars).collect();
        // A number cut in the middle could leave enough digits to guess: drop a trailing run.
        while s.ends_with(|c: char| digit(c).is_some() || separator(c)) {
            s.pop();
        }
        s.push('…');
        s
    } else {
        clean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const JMBG: &str = "1403968950011";

    /// Every form a clerk has been seen to type a number in, and what must vanish from it.
    fn typed_forms() -> Vec<String> {
        vec![
            JMBG.into(),
            format!("JMBG:{JMBG}"),
            format!("JMBG: {JMBG}"),
            format!("jmbg={JMBG};"),
            format!("JMBG{JMBG}"),
            format!("({JMBG})"),
            "14.03.1968-950011".into(),
            "14.03.1968 950011".into(),
            "1403968-950011".into(),
            "140 396 895 0011".into(),
            "1403.968.950.011".into(),
            "14-03-968-95-001-1".into(),
            "1403968950011"
                .chars()
                .map(|c| char::from_u32(c as u32 - '0' as u32 + 0xFF10).unwrap())
                .collect(),
            "I05101999A".into(),
            "i05101999a".into(),
            "I 05101999 A".into(),
            "I0510-1999A".into(),
            "nr.I05101999A,".into(),
            "1234567892".into(),
            "kosovo:1234567892".into(),
            "123 456 789 2".into(),
            "123-456-7892".into(),
        ]
    }

    #[test]
    fn every_typed_form_is_hidden() {
        for form in typed_forms() {
            for text in [
                form.clone(),
                format!("Arben Gashi {form}"),
                format!("{form} Prizren 1968"),
                format!("search \"{form}\" please"),
            ] {
                let r = redact(&text);
                let digits: String = r.chars().filter(|c| digit(*c).is_some()).collect();
                assert!(r.contains(MARK), "{text:?} -> {r:?}");
                assert!(
                    digits.len() <= 4,
                    "{text:?} -> {r:?} keeps digits {digits:?}"
                );
                assert!(!r.contains("05101999"), "{text:?} -> {r:?}");
            }
        }
    }

    #[test]
    fn names_years_and_dates_stay_readable() {
        for text in [
            "Arben Gashi 1968 Prizren",
            "Gashi 14.03.1968",
            "born 1968-03-14 in Prishtinë",
            "Ђорђевић 1965..1970",
            "born 14.03.1968 in Prizren",
            "14.03.1968",
            "",
            "IXI",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn the_canonical_form_is_the_stored_one() {
        let f = find("JMBG: 140 396 895 0011 and i 05101999 a");
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].canonical, JMBG);
        assert_eq!(f[1].canonical, "I05101999A");
        let marked = redact_with("x 14.03.1968-950011 y", |c| format!("<{}>", c.len()));
        assert_eq!(marked, "x <14> y");
    }

    #[test]
    fn for_log_bounds_and_cleans() {
        let long = "a".repeat(10_000);
        let s = for_log(&long, 100);
        assert_eq!(s.chars().count(), 101);
        assert!(s.ends_with('…'));
        assert_eq!(for_log("ana\nmaria", 100), "ana maria");
        // A number straddling the cut leaves no digits behind.
        let s = for_log(&format!("{}{JMBG}", "a".repeat(95)), 100);
        assert!(!s.contains("14039"), "{s}");
        assert_eq!(
            for_log(&format!("clerk {JMBG}"), 100),
            format!("clerk {MARK}")
        );
    }

    proptest! {
        /// A JMBG typed with any separators between any digits, inside any text of letters,
        /// never survives.
        #[test]
        fn any_separation_is_hidden(
            seps in proptest::collection::vec(proptest::sample::select(vec!["", "", "", " ", ".", "-", "/", " - ", ": "]), 12),
            before in "[a-zA-Zë :=]{0,12}",
            after in "[a-zA-Zë ;,]{0,12}",
        ) {
            let mut n = String::new();
            for (i, c) in JMBG.chars().enumerate() {
                n.push(c);
                if i < 12 { n.push_str(seps[i]); }
            }
            let text = format!("{before}{n}{after}");
            let r = redact(&text);
            let digits: String = r.chars().filter(char::is_ascii_digit).collect();
            prop_assert!(digits.is_empty(), "{} -> {}", text, r);
        }

        #[test]
        fn never_panics_and_keeps_text_without_long_digit_runs(s in "\\PC{0,64}") {
            let r = redact(&s);
            if !holds_number(&s) {
                prop_assert_eq!(r, s);
            }
        }
    }
}

/// The mark that stands for a personal number in a log: `pn:` and eight letters (a–p) spelling
/// the first four bytes of its blind token. Letters, not hex digits, so that a mark can never
/// be read as (or contain) digits of a personal number.
pub fn mark(token: &[u8]) -> String {
    let mut out = String::from("pn:");
    for b in token.iter().take(4) {
        out.push(char::from(b'a' + (b >> 4)));
        out.push(char::from(b'a' + (b & 0x0f)));
    }
    out
}

#[cfg(test)]
mod mark_tests {
    #[test]
    fn a_mark_is_letters_only() {
        assert_eq!(super::mark(&[0x19, 0x13, 0x78, 0x92, 0xff]), "pn:bjbdhijc");
        assert_eq!(super::mark(&[]), "pn:");
    }
}
