//! The content of one op, checked on its own: what the node checks before it saves an op, and
//! what the hub checks again when it receives one.
//!
//! Deterministic per op and independent of any record state, so that whether the hub accepts an
//! op never depends on the order in which concurrent ops arrive:
//! - a **create** unflattens into a record of its kind (unknown fields refused) that
//!   [`validate`](super::validate) finds no error in;
//! - an **amendment** writes only fields of its record kind, each value well formed for its
//!   field (dates, sex, personal numbers, lengths); rules between fields are not checked, since
//!   they depend on the merged record;
//! - an **annotation** writes only its office's part of the annotation namespace
//!   ([`crate::annotation`]), each annotation whole;
//! - a **void** or restore writes no field;
//! - every op: at most [`MAX_OP_CHANGES`] changes and [`MAX_OP_BYTES`] bytes, a bounded clerk and
//!   reason, and its record's registration number in canonical form.

use super::{check_name, check_text, pnum_errors, quoted, Report, MIN_REGISTER_YEAR};
use crate::annotation;
use crate::fields::{self, FieldMap};
use crate::ids::{RegNo, HUB_NODE_ID};
use crate::limits::{MAX_NAME_CHARS, MAX_OP_BYTES, MAX_OP_CHANGES, MAX_TEXT_CHARS};
use crate::model::{Record, RecordKind, Sex};
use crate::op::{ChangeKind, Op};
use crate::pnum;
use chrono::{Datelike, NaiveDate};
use serde_json::Value;
use std::collections::BTreeMap;

/// What a field of a record holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Leaf {
    Municipality,
    Name,
    Text,
    Date,
    Sex,
    Jmbg,
    Kosovo,
    Albanian,
    Year,
    Number,
    /// A mark: `true` or `false` (`given_name_illegible`).
    Flag,
    /// A group of fields (`father`, `register`, `child.personal_numbers`), removable as a whole.
    Group,
}

/// The leaf type of `path` in a record of `kind`, and whether it is required (removing it can
/// only make the record invalid); `None` if the kind has no such field.
fn leaf(kind: RecordKind, path: &str) -> Option<(Leaf, bool)> {
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, Some(r)),
        None => (path, None),
    };
    let person = |rest: Option<&str>, required: bool, spouse: bool, principal: bool| {
        let Some(rest) = rest else {
            return Some((Leaf::Group, required));
        };
        Some(match rest {
            "given_name" => (Leaf::Name, required),
            "given_name_illegible" => (Leaf::Flag, false),
            "surname" if !spouse => (Leaf::Name, required),
            "surname_before" | "surname_after" if spouse => (Leaf::Name, required),
            "maiden_surname" if !spouse => (Leaf::Name, false),
            "father_given_name" => (Leaf::Name, false),
            // A birth's child must have both; rules of the birth record, but removing either
            // can never give a valid record.
            "date_of_birth" => (Leaf::Date, principal),
            "sex" => (Leaf::Sex, principal),
            "personal_numbers" => (Leaf::Group, false),
            "personal_numbers.jmbg" => (Leaf::Jmbg, false),
            "personal_numbers.kosovo" => (Leaf::Kosovo, false),
            "personal_numbers.albanian" => (Leaf::Albanian, false),
            _ => return None,
        })
    };
    match (head, rest) {
        ("municipality", None) => return Some((Leaf::Municipality, true)),
        ("notes", None) => return Some((Leaf::Text, false)),
        ("register", None) => return Some((Leaf::Group, false)),
        ("register", Some("book")) => return Some((Leaf::Text, false)),
        ("register", Some("year")) => return Some((Leaf::Year, false)),
        ("register", Some("page" | "entry")) => return Some((Leaf::Number, false)),
        _ => {}
    }
    match kind {
        RecordKind::Birth => match (head, rest) {
            ("place_of_birth", None) => Some((Leaf::Text, true)),
            ("child", r) => person(r, true, false, true),
            ("mother", r) => person(r, true, false, false),
            ("father", r) => person(r, false, false, false),
            _ => None,
        },
        RecordKind::Marriage => match (head, rest) {
            ("date_of_marriage", None) => Some((Leaf::Date, true)),
            ("place_of_marriage", None) => Some((Leaf::Text, true)),
            ("spouse1" | "spouse2", r) => person(r, true, true, false),
            _ => None,
        },
        RecordKind::Death => match (head, rest) {
            ("date_of_death", None) => Some((Leaf::Date, true)),
            ("place_of_death", None) => Some((Leaf::Text, true)),
            ("deceased", r) => person(r, true, false, false),
            _ => None,
        },
    }
}

fn future(r: &mut Report, field: &str, d: NaiveDate, today: NaiveDate) {
    if d > today {
        r.error(
            field,
            "date.future",
            format!("the date {d} is after today ({today}); correct the date"),
        );
    }
}

fn bad_value(r: &mut Report, field: &str, what: &str, v: &Value) {
    let shown = match v {
        Value::String(s) => quoted(s),
        other => quoted(&other.to_string()),
    };
    r.error(
        field,
        "field.value",
        format!("{shown} is not {what}; correct the value"),
    );
}

fn check_date(r: &mut Report, field: &str, v: &Value, today: NaiveDate) {
    match v
        .as_str()
        .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
    {
        Some(d) => future(r, field, d, today),
        None => bad_value(
            r,
            field,
            "a date (YYYY-MM-DD, a day that exists in the calendar)",
            v,
        ),
    }
}

/// One amended field: a field of the record kind, with a value well formed for it.
fn check_leaf(r: &mut Report, kind: RecordKind, path: &str, v: &Value, today: NaiveDate) {
    let Some((leaf, required)) = leaf(kind, path) else {
        r.error(
            path,
            "field.unknown",
            format!("a {kind} record has no field {}; correct the field name (see deploy/examples/{kind}.json)", quoted(path)),
        );
        return;
    };
    if v.is_null() {
        if required {
            r.error(
                path,
                "field.required",
                format!("the field {path} of a {kind} record can not be removed; enter a corrected value instead"),
            );
        }
        return;
    }
    let text = v.as_str();
    match leaf {
        Leaf::Group => r.error(
            path,
            "field.value",
            format!("{path} is a group of fields and can only be removed as a whole; correct the change to name its fields"),
        ),
        Leaf::Municipality => r.error(
            path,
            "field.municipality",
            "a record's municipality can not be changed by an amendment; correct the change (a record of another municipality is registered there)".into(),
        ),
        Leaf::Name => match text {
            Some(s) => check_name(r, path.to_string(), s, required),
            None => bad_value(r, path, "a name (text)", v),
        },
        Leaf::Text => match text {
            Some(s) => {
                check_text(r, path, s);
                if required && s.trim().is_empty() {
                    r.error(
                        path,
                        "place.required",
                        "the place of the event is required but is empty; enter it as written in the source document".into(),
                    );
                }
            }
            None => bad_value(r, path, "text", v),
        },
        Leaf::Date => check_date(r, path, v, today),
        Leaf::Sex => {
            if serde_json::from_value::<Sex>(v.clone()).is_err() {
                bad_value(r, path, "a sex (\"male\" or \"female\")", v);
            }
        }
        Leaf::Jmbg | Leaf::Kosovo | Leaf::Albanian => {
            let Some(s) = text else {
                return bad_value(r, path, "a personal number (text)", v);
            };
            let errors = match leaf {
                Leaf::Jmbg => pnum::parse_jmbg(s).err(),
                Leaf::Kosovo => pnum::check_kosovo(s).err(),
                _ => pnum::parse_albanian(s).err(),
            };
            if let Some(e) = errors {
                pnum_errors(r, path, e);
            }
        }
        Leaf::Year => match v.as_i64() {
            Some(y) if (i64::from(MIN_REGISTER_YEAR)..=i64::from(today.year())).contains(&y) => {}
            _ => r.error(
                path,
                "register.year_range",
                format!("the register year {} is not between {MIN_REGISTER_YEAR} and {}; correct the year", quoted(&v.to_string()), today.year()),
            ),
        },
        Leaf::Flag => {
            if !v.is_boolean() {
                bad_value(r, path, "true or false", v);
            }
        }
        Leaf::Number => match v.as_u64() {
            Some(n) if n >= 1 && n <= u64::from(u32::MAX) => {}
            _ => bad_value(r, path, "a page or entry number (1 or more)", v),
        },
    }
}

/// The changes of an annotate op: only the writer's own office's annotations, each whole.
fn check_annotation(r: &mut Report, op: &Op, today: NaiveDate) {
    let office = annotation::office_segment(&op.id.municipality);
    // key → attr → value
    let mut by_key: BTreeMap<&str, BTreeMap<&str, &Value>> = BTreeMap::new();
    for c in &op.changes {
        let parts: Vec<&str> = c.path.splitn(4, '.').collect();
        let [root, o, key, attr] = parts[..] else {
            r.error(
                &c.path,
                "annotation.path",
                format!("an annotation writes only fields annotation.{office}.KEY.ATTR, not {}; correct the annotation (it can never change the record's own fields)", quoted(&c.path)),
            );
            continue;
        };
        if root != annotation::ROOT
            || !annotation::key_syntax(key)
            || !annotation::ATTRS.contains(&attr)
        {
            r.error(
                &c.path,
                "annotation.path",
                format!("an annotation writes only fields annotation.{office}.KEY.ATTR (KEY of lowercase letters, digits and _, ATTR one of {}), not {}; correct the annotation (it can never change the record's own fields)", annotation::ATTRS.join(", "), quoted(&c.path)),
            );
            continue;
        }
        if o != office {
            r.error(
                &c.path,
                "annotation.office",
                format!("an office of {} writes only its own annotations (annotation.{office}...), not those of {}; correct the annotation", op.id.municipality, quoted(o)),
            );
            continue;
        }
        by_key.entry(key).or_default().insert(attr, &c.value);
    }
    for (key, attrs) in by_key {
        let field = format!("{}{office}.{key}", annotation::PREFIX);
        if attrs.len() != annotation::ATTRS.len() {
            r.error(
                &field,
                "annotation.incomplete",
                format!("an annotation op writes every attribute of the annotation ({}), null where absent; enter the missing ones", annotation::ATTRS.join(", ")),
            );
            continue;
        }
        let get = |a: &str| attrs.get(a).copied().unwrap_or(&Value::Null);
        let event = get("event");
        if event.is_null() {
            if attrs.values().any(|v| !v.is_null()) {
                r.error(
                    format!("{field}.event"),
                    "annotation.event",
                    "an annotation needs its event; enter one, or remove the whole annotation (every attribute null)".into(),
                );
            }
            continue;
        }
        if !event
            .as_str()
            .is_some_and(|e| annotation::EVENTS.contains(&e))
        {
            r.error(
                format!("{field}.event"),
                "annotation.event",
                format!(
                    "the event {} is not one of {}; correct it",
                    quoted(&event.to_string()),
                    annotation::EVENTS.join(", ")
                ),
            );
        }
        let date = get("date");
        if !date.is_null() {
            check_date(r, &format!("{field}.date"), date, today);
        }
        for a in ["place", "text"] {
            match get(a) {
                Value::Null => {}
                Value::String(s) => check_text(r, &format!("{field}.{a}"), s),
                other => bad_value(r, &format!("{field}.{a}"), "text", other),
            }
        }
        match get("record") {
            Value::Null => {}
            Value::String(s) if RegNo::parse(s).is_ok_and(|n| n.to_string() == *s) => {}
            other => r.error(
                format!("{field}.record"),
                "annotation.record",
                format!("{} is not a registration number in its canonical form (such as ISTOG-2026-M-000003); correct it", quoted(&other.to_string())),
            ),
        }
    }
}

/// Where a create comes from: a central import is a create of the hub's own chain under a
/// number of the hub's series (`M-YEAR-KIND-HUB-SEQ`). A node can write neither (the hub
/// authorises only a node's own chain and the numbers it mints), so nothing an office sends is
/// read as a central import.
fn origin(op: &Op) -> super::Origin {
    let hub_number = RegNo::parse(&op.record_id).is_ok_and(|n| {
        n.node
            .as_deref()
            .is_some_and(|id| id.eq_ignore_ascii_case(HUB_NODE_ID))
    });
    if op.id.node_id == HUB_NODE_ID && hub_number {
        super::Origin::CentralImport
    } else {
        super::Origin::Office
    }
}

/// Checks one op's content on its own (see the module docs) relative to `today`, the latest
/// date the op may name. Errors only: an op with any problem is refused.
pub fn check_op(op: &Op, today: NaiveDate) -> Report {
    let mut r = Report::default();
    match RegNo::parse(&op.record_id) {
        Ok(n) if n.to_string() == op.record_id => {
            if n.kind != op.record_kind {
                r.error(
                    "record_id",
                    "op.kind",
                    format!(
                        "the op says its record is a {} but {} is a {}; correct the record kind",
                        op.record_kind,
                        quoted(&op.record_id),
                        n.kind
                    ),
                );
            }
        }
        Ok(n) => r.error(
            "record_id",
            "op.record_id",
            format!(
                "the registration number {} is not in its canonical form; correct it to {n}",
                quoted(&op.record_id)
            ),
        ),
        Err(_) => r.error(
            "record_id",
            "op.record_id",
            format!(
                "{} is not a registration number; correct it (such as PRISHTINE-2026-B-000001)",
                quoted(&op.record_id)
            ),
        ),
    }
    if op.changes.len() > MAX_OP_CHANGES {
        r.error(
            "changes",
            "op.too_many_changes",
            format!("the op changes {} fields, more than the {MAX_OP_CHANGES} allowed in one op; correct it by splitting the change", op.changes.len()),
        );
    }
    let clerk = op.clerk.chars().count();
    if clerk == 0 || clerk > MAX_NAME_CHARS || op.clerk.chars().any(char::is_control) {
        r.error(
            "clerk",
            "op.clerk",
            format!("the clerk's name {} is not 1 to {MAX_NAME_CHARS} characters without control characters; correct the clerk's account name", quoted(&op.clerk)),
        );
    }
    if op.reason.chars().count() > MAX_TEXT_CHARS {
        r.error(
            "reason",
            "op.reason_too_long",
            format!("the reason is longer than the {MAX_TEXT_CHARS} characters allowed; shorten it and remove what belongs in the paper file"),
        );
    }
    let bytes = op.canonical_bytes().len();
    if bytes > MAX_OP_BYTES {
        r.error(
            "op",
            "op.too_large",
            format!("the op is {bytes} bytes, more than the {MAX_OP_BYTES} allowed; correct the fields that are too long"),
        );
    }
    // Past these bounds the content is not worth reading further (and could cost much).
    if r.has_errors() && (bytes > MAX_OP_BYTES || op.changes.len() > MAX_OP_CHANGES) {
        return r;
    }
    let annotated = op
        .changes
        .iter()
        .find(|c| annotation::is_annotation_path(&c.path));
    match op.change {
        ChangeKind::Create | ChangeKind::Amend if annotated.is_some() => {
            let path = annotated.map(|c| c.path.as_str()).unwrap_or_default();
            r.error(
                path,
                "annotation.path",
                format!("a create or an amendment can not write the annotation {}; correct the op (annotations are added by an annotate op)", quoted(path)),
            );
        }
        ChangeKind::Create => {
            let mut map = FieldMap::new();
            for c in &op.changes {
                map.insert(c.path.clone(), c.value.clone());
            }
            match Record::from_json(op.record_kind, fields::unflatten(&map)) {
                Ok(record) => {
                    r.problems.extend(
                        super::validate_as(&record, today, origin(op))
                            .problems
                            .into_iter()
                            .filter(|p| p.severity == super::Severity::Error),
                    );
                    if let Ok(n) = RegNo::parse(&op.record_id) {
                        if n.municipality != record.municipality() {
                            r.error(
                                "municipality",
                                "field.municipality",
                                format!("the record names municipality {} but its number {} is of {}; correct the municipality", quoted(record.municipality()), op.record_id, n.municipality),
                            );
                        }
                    }
                }
                Err(e) => r.error(
                    e.path.clone().unwrap_or_else(|| "record".into()),
                    "record.shape",
                    format!("{e}; correct the record"),
                ),
            }
        }
        ChangeKind::Amend => {
            if op.changes.is_empty() {
                r.error(
                    "changes",
                    "op.changes",
                    "an amendment changes at least one field; enter the change".into(),
                );
            }
            for c in &op.changes {
                check_leaf(&mut r, op.record_kind, &c.path, &c.value, today);
            }
        }
        ChangeKind::Annotate => {
            if op.changes.is_empty() {
                r.error(
                    "changes",
                    "op.changes",
                    "an annotation writes at least one annotation; enter it".into(),
                );
            }
            check_annotation(&mut r, op, today);
        }
        ChangeKind::Void | ChangeKind::Restore => {
            if !op.changes.is_empty() {
                r.error(
                    "changes",
                    "op.changes",
                    "a void or restore changes no field; correct the op (amend the record separately)".into(),
                );
            }
        }
        // Links are the hub's: refused for nodes before their content matters.
        ChangeKind::Link => {}
    }
    r
}
