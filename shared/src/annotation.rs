//! Annotations: a marriage, a death or another event noted on a record, by any office.
//!
//! An annotation never changes the record's own fields. It lives in its own field namespace,
//! beside the record's fields in [`crate::merge::RecordState::fields`]:
//!
//! ```text
//! annotation.<OFFICE>.<KEY>.<ATTR>
//! ```
//! - `OFFICE` is the annotating office's municipality code with `-` written `_` (`istog`,
//!   `mitrovice_jugut`): an office writes only under its own, so no office can change or remove
//!   another's annotation.
//! - `KEY` names the annotation within the office: 1 to [`MAX_KEY_CHARS`] lowercase letters,
//!   digits and `_` (the node derives it from the source record's number, see [`key_for`]).
//! - `ATTR` is one of [`ATTRS`]: `event` (one of [`EVENTS`]), `date` (YYYY-MM-DD), `place`,
//!   `record` (the registration number of the source record) and `text`.
//!
//! An annotate op writes every attribute of each annotation it touches (`null` where absent),
//! so an annotation is always whole; writing them all `null` removes it. Creates and amendments
//! never write this namespace ([`crate::validate::check_op`]).

use crate::fields::FieldMap;
use serde::{Deserialize, Serialize};

/// The first segment of every annotation path.
pub const ROOT: &str = "annotation";
/// [`ROOT`] followed by its dot: the prefix of every annotation path.
pub const PREFIX: &str = "annotation.";
/// The attributes of an annotation.
pub const ATTRS: &[&str] = &["date", "event", "place", "record", "text"];
/// The events an annotation may note.
pub const EVENTS: &[&str] = &["marriage", "death", "divorce", "other"];
/// Longest annotation key, in characters.
pub const MAX_KEY_CHARS: usize = 64;

/// Whether a field path lies in the annotation namespace.
pub fn is_annotation_path(path: &str) -> bool {
    path == ROOT || path.starts_with(PREFIX)
}

/// The `OFFICE` segment of a municipality: its code with `-` written `_`.
pub fn office_segment(municipality: &str) -> String {
    municipality.replace('-', "_")
}

/// Whether `key` is a valid annotation key (or office segment).
pub fn key_syntax(key: &str) -> bool {
    !key.is_empty()
        && key.chars().count() <= MAX_KEY_CHARS
        && key
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The key a node gives an annotation: from the source record's number when there is one (so
/// noting the same marriage twice updates one annotation), else from the event and the time.
pub fn key_for(event: &str, record: Option<&str>, now_ms: u64) -> String {
    match record {
        Some(r) => r.to_ascii_lowercase().replace('-', "_"),
        None => format!("{event}_{now_ms}"),
    }
}

/// One annotation of a record, as `show` presents it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Annotation {
    /// The annotating office's municipality segment (see the module docs).
    pub office: String,
    pub key: String,
    pub event: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub place: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

/// The record's own fields: `fields` without the annotation namespace.
pub fn record_fields(fields: &FieldMap) -> FieldMap {
    fields
        .iter()
        .filter(|(k, _)| !is_annotation_path(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// The annotations held in `fields`, by office and key. Entries without an event (which no
/// accepted op writes) are left out.
pub fn annotations(fields: &FieldMap) -> Vec<Annotation> {
    let mut out: Vec<Annotation> = Vec::new();
    for (path, value) in fields.range(PREFIX.to_string()..) {
        let Some(rest) = path.strip_prefix(PREFIX) else {
            break;
        };
        let mut parts = rest.splitn(3, '.');
        let (Some(office), Some(key), Some(attr)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let text = match value {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let at = match out.last_mut() {
            Some(a) if a.office == office && a.key == key => a,
            _ => {
                out.push(Annotation {
                    office: office.to_string(),
                    key: key.to_string(),
                    event: String::new(),
                    date: None,
                    place: None,
                    record: None,
                    text: None,
                });
                out.last_mut().expect("just pushed")
            }
        };
        match attr {
            "event" => at.event = text,
            "date" => at.date = Some(text),
            "place" => at.place = Some(text),
            "record" => at.record = Some(text),
            "text" => at.text = Some(text),
            _ => {}
        }
    }
    out.retain(|a| !a.event.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn annotations_are_read_apart_from_the_record() {
        let mut f = FieldMap::new();
        f.insert("child.given_name".into(), json!("Arben"));
        f.insert("annotation.istog.k1.event".into(), json!("marriage"));
        f.insert("annotation.istog.k1.date".into(), json!("2024-05-01"));
        f.insert("annotation.prizren.k2.event".into(), json!("death"));
        f.insert("annotation.prizren.k3.text".into(), json!("no event"));
        assert_eq!(record_fields(&f).len(), 1);
        let a = annotations(&f);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].office, "istog");
        assert_eq!(a[0].date.as_deref(), Some("2024-05-01"));
        assert_eq!(a[1].event, "death");
        assert!(key_syntax(&key_for(
            "marriage",
            Some("ISTOG-2026-M-000003"),
            1
        )));
        assert!(key_syntax(&key_for("other", None, 17)));
        assert!(!key_syntax("Bad-Key"));
        assert_eq!(office_segment("mitrovice-jugut"), "mitrovice_jugut");
    }
}
