//! Records as flat maps of dotted field paths ("mother.maiden_surname" → "Berisha").
//!
//! Ops carry changes at this granularity, so that amendments touch fields, not whole records,
//! and a merge can compare field by field. A record's JSON form and its field map convert both
//! ways without loss; `null` and absent are the same thing.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// A record's fields: dotted path → scalar JSON value (string, number or bool).
pub type FieldMap = BTreeMap<String, Value>;

/// One changed field. `Value::Null` removes the field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub path: String,
    pub value: Value,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FieldError {
    #[error("field {0:?}: lists are not allowed here")]
    Array(String),
    #[error("field path {0:?} is not valid: use names of letters, digits and underscores joined by dots")]
    BadPath(String),
    #[error("the changes must be a JSON object, e.g. {{\"mother\": {{\"maiden_surname\": \"Berisha\"}}}}")]
    NotObject,
}

fn check_path(path: &str) -> Result<(), FieldError> {
    let ok = !path.is_empty()
        && path.split('.').all(|seg| {
            !seg.is_empty() && seg.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
        });
    if ok {
        Ok(())
    } else {
        Err(FieldError::BadPath(path.to_string()))
    }
}

fn walk(prefix: &str, v: &Value, out: &mut Vec<(String, Value)>) -> Result<(), FieldError> {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                check_path(&path)?;
                walk(&path, child, out)?;
            }
            Ok(())
        }
        Value::Array(_) => Err(FieldError::Array(prefix.to_string())),
        scalar => {
            out.push((prefix.to_string(), scalar.clone()));
            Ok(())
        }
    }
}

/// Flattens a record's JSON object into its field map; `null` leaves are dropped.
pub fn flatten(v: &Value) -> Result<FieldMap, FieldError> {
    if !v.is_object() {
        return Err(FieldError::NotObject);
    }
    let mut out = Vec::new();
    walk("", v, &mut out)?;
    Ok(out.into_iter().filter(|(_, v)| !v.is_null()).collect())
}

/// Rebuilds the nested JSON object from a field map.
pub fn unflatten(map: &FieldMap) -> Value {
    let mut root = Map::new();
    for (path, value) in map {
        let mut cur = &mut root;
        let mut segs = path.split('.').peekable();
        while let Some(seg) = segs.next() {
            if segs.peek().is_none() {
                cur.insert(seg.to_string(), value.clone());
            } else {
                let entry = cur
                    .entry(seg.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !entry.is_object() {
                    *entry = Value::Object(Map::new());
                }
                match entry {
                    Value::Object(m) => cur = m,
                    _ => unreachable!("just made an object"),
                }
            }
        }
    }
    Value::Object(root)
}

/// Parses a change document: a JSON object, nested (`{"mother": {"surname": "X"}}`) or with
/// dotted keys (`{"mother.surname": "X"}`), or both. `null` removes a field. The result is sorted
/// by path.
pub fn parse_changes(v: &Value) -> Result<Vec<FieldChange>, FieldError> {
    if !v.is_object() {
        return Err(FieldError::NotObject);
    }
    let mut out = Vec::new();
    walk("", v, &mut out)?;
    let mut map: BTreeMap<String, Value> = BTreeMap::new();
    for (path, value) in out {
        map.insert(path, value);
    }
    Ok(map
        .into_iter()
        .map(|(path, value)| FieldChange { path, value })
        .collect())
}

/// Applies changes to a field map. Setting a path removes whatever was below or above it, so a
/// map never holds both `father` and `father.surname`.
pub fn apply(map: &mut FieldMap, changes: &[FieldChange]) {
    for c in changes {
        // Whatever is above: each proper prefix of the path that ends before a dot.
        for (i, _) in c.path.match_indices('.') {
            map.remove(&c.path[..i]);
        }
        // Whatever is below: the keys that start with "path.", a contiguous range of the map.
        let below = format!("{}.", c.path);
        let doomed: Vec<String> = map
            .range(below.clone()..)
            .take_while(|(k, _)| k.starts_with(&below))
            .map(|(k, _)| k.clone())
            .collect();
        for k in doomed {
            map.remove(&k);
        }
        if c.value.is_null() {
            map.remove(&c.path);
        } else {
            map.insert(c.path.clone(), c.value.clone());
        }
    }
}

/// The changes that turn `old` into `new`, sorted by path.
pub fn diff(old: &FieldMap, new: &FieldMap) -> Vec<FieldChange> {
    let mut out: Vec<FieldChange> = Vec::new();
    for (k, v) in new {
        if old.get(k) != Some(v) {
            out.push(FieldChange {
                path: k.clone(),
                value: v.clone(),
            });
        }
    }
    for k in old.keys() {
        if !new.contains_key(k) {
            out.push(FieldChange {
                path: k.clone(),
                value: Value::Null,
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flatten_unflatten_roundtrip() {
        let v = json!({"a": {"b": "x", "c": 3}, "d": true, "e": null});
        let m = flatten(&v).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m["a.b"], json!("x"));
        assert_eq!(unflatten(&m), json!({"a": {"b": "x", "c": 3}, "d": true}));
    }

    #[test]
    fn changes_nested_and_dotted_meet() {
        let a = parse_changes(&json!({"mother": {"surname": "X"}})).unwrap();
        let b = parse_changes(&json!({"mother.surname": "X"})).unwrap();
        assert_eq!(a, b);
        assert!(parse_changes(&json!(["x"])).is_err());
        assert!(parse_changes(&json!({"a": [1]})).is_err());
        assert!(parse_changes(&json!({"a..b": 1})).is_err());
        assert!(parse_changes(&json!({"a b": 1})).is_err());
    }

    #[test]
    fn apply_replaces_subtrees_and_removes() {
        let mut m =
            flatten(&json!({"father": {"given_name": "A", "surname": "B"}, "x": 1})).unwrap();
        apply(
            &mut m,
            &[FieldChange {
                path: "father".into(),
                value: Value::Null,
            }],
        );
        assert_eq!(m.len(), 1);
        apply(
            &mut m,
            &[FieldChange {
                path: "x.y".into(),
                value: json!(2),
            }],
        );
        assert_eq!(unflatten(&m), json!({"x": {"y": 2}}));
    }

    #[test]
    fn diff_then_apply_gives_new() {
        let old = flatten(&json!({"a": 1, "b": {"c": "x"}, "d": "gone"})).unwrap();
        let new = flatten(&json!({"a": 2, "b": {"c": "x", "e": "new"}})).unwrap();
        let d = diff(&old, &new);
        let mut m = old.clone();
        apply(&mut m, &d);
        assert_eq!(m, new);
        assert_eq!(d.len(), 3);
    }
}
