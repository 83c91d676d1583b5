//! The duplicate check before a birth or death is saved: the app looks for the same person in
//! this office's records, and in the national register when the hub answers (the search the
//! clerk's own search makes, `pages::run_search`), and shows the candidates beside what was
//! typed. The clerk opens the existing record, or confirms a new entry; that decision is kept
//! in the create op's reason (`dupes-checked: REGNO, ...`), so it stays in the record's history
//! and reaches the hub with the record.

use super::auth::Signed;
use super::pages::{run_search, Answer, SearchForm};
use super::{Context, FormBody};
use civreg_shared::fields;
use civreg_shared::i18n::{Catalog, Lang};
use civreg_shared::model::RecordKind;

/// How the create op's reason names a confirmed duplicate check.
const NOTE_PREFIX: &str = "dupes-checked: ";
/// The form field of the clerk's decision, and its value for "a new entry".
pub const DECISION: &str = "_dupes";
pub const NEW_ENTRY: &str = "new";
/// The form field carrying the candidates shown (what the decision was about).
pub const SHOWN: &str = "_dupes_shown";
/// At most this many candidates are shown.
const MAX_SHOWN: usize = 5;

/// The person a record of `kind` is about: the child of a birth, the deceased of a death.
pub fn principal(kind: RecordKind) -> Option<&'static str> {
    match kind {
        RecordKind::Birth => Some("child"),
        RecordKind::Death => Some("deceased"),
        RecordKind::Marriage => None,
    }
}

/// The searches that would find the same person: the names, within a year of the date of
/// birth when there is one; and each personal number on its own.
fn searches(kind: RecordKind, doc: &serde_json::Value) -> Vec<SearchForm> {
    let Some(who) = principal(kind) else {
        return Vec::new();
    };
    let Ok(flat) = fields::flatten(doc) else {
        return Vec::new();
    };
    let text = |path: &str| {
        flat.get(&format!("{who}.{path}"))
            .and_then(|v| v.as_str())
            .map(str::trim)
            .unwrap_or_default()
            .to_string()
    };
    let kind = kind.as_str().to_string();
    let mut out = Vec::new();
    let (given, surname) = (text("given_name"), text("surname"));
    if !given.is_empty() && !surname.is_empty() {
        let born = text("date_of_birth")
            .get(..4)
            .and_then(|y| y.parse::<i32>().ok())
            .map(|y| format!("{}..{}", y - 1, y + 1))
            .unwrap_or_default();
        out.push(SearchForm {
            q: format!("{given} {surname}"),
            born,
            municipality: String::new(),
            kind: kind.clone(),
        });
    }
    for scheme in ["jmbg", "kosovo", "albanian"] {
        let n = text(&format!("personal_numbers.{scheme}"));
        if !n.is_empty() {
            out.push(SearchForm {
                q: n,
                born: String::new(),
                municipality: String::new(),
                kind: kind.clone(),
            });
        }
    }
    out
}

/// The candidates for the record about to be saved, or `None` when nothing looks like it.
/// A search that fails (a query the index refuses) is no candidate: the check never stops a
/// clerk from saving.
pub fn candidates(
    ctx: &Context,
    who: &Signed,
    kind: RecordKind,
    doc: &serde_json::Value,
) -> Option<Answer> {
    let mut found: Option<Answer> = None;
    for f in searches(kind, doc) {
        let Ok(a) = run_search(ctx, who, &f) else {
            continue;
        };
        match &mut found {
            None => found = Some(a),
            Some(all) => {
                for h in a.hits {
                    if !all.hits.iter().any(|x| x.regno == h.regno) {
                        all.hits.push(h);
                    }
                }
            }
        }
    }
    let mut a = found?;
    a.hits.truncate(MAX_SHOWN);
    if a.hits.is_empty() {
        return None;
    }
    a.count_text =
        Catalog::get().format(who.lang, "dupes-count", &[("count", a.hits.len().into())]);
    Some(a)
}

/// Whether the clerk already decided this is a new entry.
pub fn confirmed_new(form: &FormBody) -> bool {
    form.get(DECISION) == NEW_ENTRY
}

/// The note kept with the record when the clerk confirmed a new entry over shown candidates:
/// only registration numbers from the form's list are kept (the list comes back from the
/// browser, so anything else in it is dropped).
pub fn note(form: &FormBody) -> String {
    if !confirmed_new(form) {
        return String::new();
    }
    let shown: Vec<&str> = form
        .get(SHOWN)
        .split(',')
        .map(str::trim)
        .filter(|r| civreg_shared::ids::RegNo::parse(r).is_ok())
        .take(MAX_SHOWN)
        .collect();
    if shown.is_empty() {
        return String::new();
    }
    format!("{NOTE_PREFIX}{}", shown.join(", "))
}

/// A create op's reason as the record's history shows it: the duplicate check in the clerk's
/// language, anything else as written.
pub fn history_text(lang: Lang, reason: &str) -> String {
    match reason.strip_prefix(NOTE_PREFIX) {
        Some(regnos) => {
            Catalog::get().format(lang, "record-dupes-checked", &[("regnos", regnos.into())])
        }
        None => Catalog::get().format(lang, "record-reason", &[("reason", reason.into())]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_birth_is_looked_up_by_names_within_a_year_and_by_each_personal_number() {
        let doc = json!({"child": {"given_name": " Arben ", "surname": "Gashi",
            "date_of_birth": "1968-03-14", "personal_numbers": {"jmbg": "1403968950011"}}});
        let s = searches(RecordKind::Birth, &doc);
        assert_eq!(s.len(), 2);
        assert_eq!(
            (s[0].q.as_str(), s[0].born.as_str(), s[0].kind.as_str()),
            ("Arben Gashi", "1967..1969", "birth")
        );
        assert_eq!((s[1].q.as_str(), s[1].born.as_str()), ("1403968950011", ""));
        // A death without a date of birth: the names alone. A marriage: no check.
        let doc = json!({"deceased": {"given_name": "Ђорђе", "surname": "Ђорђевић"}});
        let s = searches(RecordKind::Death, &doc);
        assert_eq!((s.len(), s[0].born.as_str()), (1, ""));
        assert!(searches(RecordKind::Marriage, &doc).is_empty());
        // One name missing: no name search (it would match half the register).
        assert!(searches(
            RecordKind::Birth,
            &json!({"child": {"given_name": "Arben"}})
        )
        .is_empty());
    }
}
