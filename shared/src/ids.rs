//! Identifiers: node ids and registration numbers.
//!
//! A registration number is minted offline and is unique without coordination:
//! `{MUNICIPALITY}-{YEAR}-{KIND}-{SEQ}` for an office's first node (node id `1`), and
//! `{MUNICIPALITY}-{YEAR}-{KIND}-{NODE}-{SEQ}` for any other node, e.g. `PRISHTINE-2026-B-000042`
//! and `PRISHTINE-2026-B-2-000007`. The sequence is per node, per year and per kind. Because node
//! ids are unique within a municipality (the hub issues one certificate per node id), no two
//! offices or workstations can mint the same number.
//!
//! Parsing is from the right: the sequence is the last part; if the third part from the right is
//! a four-digit year there is no node part, otherwise the second from the right is the node part.
//! A registration number reveals the municipality, year and kind of the entry and nothing about
//! the person.

use crate::model::RecordKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Id of the office's default (first) node, which gets the short form of registration numbers.
pub const PRIMARY_NODE_ID: &str = "1";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdError {
    #[error("node id {0:?} is not valid: use 1 to 12 lowercase letters or digits, e.g. \"1\" or \"ws2\"")]
    NodeId(String),
    #[error("{0:?} is not a registration number: expected MUNICIPALITY-YEAR-KIND-SEQUENCE, e.g. PRISHTINE-2026-B-000042")]
    RegNo(String),
    #[error("node id {0:?} is reserved for the hub's own records: choose another, e.g. \"ws2\"")]
    ReservedNodeId(String),
    #[error("{0:?} is not a person identifier: expected 9 digits, the last a check digit, e.g. 418203957")]
    PersonId(String),
    #[error(
        "person identifier {0} has a wrong check digit: a digit was mistyped or two were swapped"
    )]
    PersonIdCheck(String),
}

/// The node id in registration numbers the hub mints itself (records loaded centrally by
/// `civreg-hub import`): `PRISHTINE-2026-B-HUB-000001`. No node may be enrolled under it.
pub const HUB_NODE_ID: &str = "hub";

/// An opaque person identifier: 9 digits, the first not 0, the last a Damm check digit over the
/// first eight. Drawn at random by the hub (which keeps it unique), so it says nothing about the
/// person: not the birth date, sex or place that a JMBG gives away. A typo in one digit, or two
/// neighbouring digits swapped, always fails the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonId(u32);

/// The Damm algorithm's quasigroup of order 10 (weakly totally anti-symmetric).
const DAMM: [[u8; 10]; 10] = [
    [0, 3, 1, 7, 5, 9, 8, 6, 4, 2],
    [7, 0, 9, 2, 1, 5, 4, 8, 6, 3],
    [4, 2, 0, 6, 8, 7, 1, 3, 5, 9],
    [1, 7, 5, 0, 9, 8, 3, 4, 2, 6],
    [6, 1, 2, 3, 0, 4, 5, 9, 7, 8],
    [3, 6, 7, 4, 2, 0, 9, 5, 8, 1],
    [5, 8, 6, 9, 7, 2, 0, 1, 3, 4],
    [8, 9, 4, 5, 3, 6, 2, 0, 1, 7],
    [9, 4, 3, 8, 6, 1, 7, 2, 0, 5],
    [2, 5, 8, 1, 4, 3, 6, 7, 9, 0],
];

fn damm(digits: impl Iterator<Item = u8>) -> u8 {
    digits.fold(0, |interim, d| DAMM[interim as usize][d as usize])
}

impl PersonId {
    /// The identifier whose first eight digits are `body` (10,000,000..=99,999,999).
    pub fn from_body(body: u32) -> Option<PersonId> {
        if !(10_000_000..=99_999_999).contains(&body) {
            return None;
        }
        let check = damm(body.to_string().bytes().map(|b| b - b'0'));
        Some(PersonId(body * 10 + check as u32))
    }

    /// A random identifier from 8 random bytes (the caller's CSPRNG).
    pub fn from_random(bytes: [u8; 8]) -> PersonId {
        let n = u64::from_le_bytes(bytes) % 90_000_000;
        PersonId::from_body(10_000_000 + n as u32).expect("in range")
    }

    pub fn parse(s: &str) -> Result<PersonId, IdError> {
        let t: String = s
            .trim()
            .chars()
            .filter(|c| *c != ' ' && *c != '-')
            .collect();
        if t.len() != 9 || !t.bytes().all(|b| b.is_ascii_digit()) || t.starts_with('0') {
            return Err(IdError::PersonId(s.to_string()));
        }
        if damm(t.bytes().map(|b| b - b'0')) != 0 {
            return Err(IdError::PersonIdCheck(t));
        }
        Ok(PersonId(t.parse().expect("nine digits")))
    }
}

impl fmt::Display for PersonId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:09}", self.0)
    }
}

impl TryFrom<String> for PersonId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        PersonId::parse(&s)
    }
}

impl From<PersonId> for String {
    fn from(p: PersonId) -> String {
        p.to_string()
    }
}

/// Checks a node id: 1 to 12 ASCII lowercase letters or digits, and not the hub's own
/// ([`HUB_NODE_ID`]).
pub fn check_node_id(id: &str) -> Result<(), IdError> {
    if id == HUB_NODE_ID {
        return Err(IdError::ReservedNodeId(id.to_string()));
    }
    if node_id_syntax(id) {
        Ok(())
    } else {
        Err(IdError::NodeId(id.to_string()))
    }
}

/// Whether `id` is 1 to 12 ASCII lowercase letters or digits.
fn node_id_syntax(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 12
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// A registration number, the id of a record everywhere in the system.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RegNo {
    pub municipality: String,
    pub year: i32,
    pub kind: RecordKind,
    /// `None` for the primary node.
    pub node: Option<String>,
    pub seq: u64,
}

impl RegNo {
    pub fn mint(municipality: &str, year: i32, kind: RecordKind, node_id: &str, seq: u64) -> Self {
        RegNo {
            municipality: municipality.to_string(),
            year,
            kind,
            node: (node_id != PRIMARY_NODE_ID).then(|| node_id.to_string()),
            seq,
        }
    }

    pub fn parse(s: &str) -> Result<Self, IdError> {
        let err = || IdError::RegNo(s.to_string());
        let s_trim = s.trim();
        let parts: Vec<&str> = s_trim.split('-').collect();
        if parts.len() < 4 {
            return Err(err());
        }
        let n = parts.len();
        let is_year = |p: &str| p.len() == 4 && p.bytes().all(|b| b.is_ascii_digit());
        let (year_i, kind_i, node) = if is_year(parts[n - 3]) {
            (n - 3, n - 2, None)
        } else {
            if n < 5 {
                return Err(err());
            }
            let node = parts[n - 2].to_ascii_lowercase();
            if !node_id_syntax(&node) || node == PRIMARY_NODE_ID {
                return Err(err());
            }
            (n - 4, n - 3, Some(node))
        };
        let seq_s = parts[n - 1];
        if seq_s.len() < 6 || !seq_s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        let seq: u64 = seq_s.parse().map_err(|_| err())?;
        let year: i32 = parts[year_i].parse().map_err(|_| err())?;
        let kind_s = parts[kind_i];
        let kind = match kind_s.chars().collect::<Vec<_>>().as_slice() {
            [c] => RecordKind::from_letter(c.to_ascii_uppercase()).ok_or_else(err)?,
            _ => return Err(err()),
        };
        let municipality = parts[..year_i].join("-").to_ascii_lowercase();
        if municipality.is_empty() || seq == 0 {
            return Err(err());
        }
        Ok(RegNo {
            municipality,
            year,
            kind,
            node,
            seq,
        })
    }
}

impl fmt::Display for RegNo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}-{:04}-{}-",
            self.municipality.to_ascii_uppercase(),
            self.year,
            self.kind.letter()
        )?;
        if let Some(n) = &self.node {
            write!(f, "{}-", n.to_ascii_uppercase())?;
        }
        write!(f, "{:06}", self.seq)
    }
}

impl TryFrom<String> for RegNo {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        RegNo::parse(&s)
    }
}

impl From<RegNo> for String {
    fn from(r: RegNo) -> String {
        r.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn person_ids_carry_a_check_digit_that_catches_typos_and_swaps() {
        let p = PersonId::from_body(41_820_395).unwrap();
        assert_eq!(p.to_string().len(), 9);
        assert_eq!(PersonId::parse(&p.to_string()).unwrap(), p);
        let s = p.to_string();
        for i in 0..9 {
            for d in b'0'..=b'9' {
                let mut t = s.clone().into_bytes();
                if t[i] == d || (i == 0 && d == b'0') {
                    continue;
                }
                t[i] = d;
                let t = String::from_utf8(t).unwrap();
                assert!(PersonId::parse(&t).is_err(), "{t} passed");
            }
            if i < 8
                && s.as_bytes()[i] != s.as_bytes()[i + 1]
                && !(i == 0 && s.as_bytes()[1] == b'0')
            {
                let mut t = s.clone().into_bytes();
                t.swap(i, i + 1);
                let t = String::from_utf8(t).unwrap();
                assert!(PersonId::parse(&t).is_err(), "swap {t} passed");
            }
        }
        assert!(PersonId::parse("12345678").is_err());
        assert!(PersonId::parse("012345678").is_err());
        assert!(PersonId::parse("12345678x").is_err());
        assert!(matches!(
            "1234567890"
                .parse::<u64>()
                .map(|_| PersonId::parse("1234567890")),
            Ok(Err(IdError::PersonId(_)))
        ));
    }

    #[test]
    fn the_hub_node_id_is_reserved_but_its_numbers_parse() {
        assert_eq!(
            check_node_id("hub"),
            Err(IdError::ReservedNodeId("hub".into()))
        );
        let r = RegNo::mint("istog", 1968, RecordKind::Birth, HUB_NODE_ID, 1);
        assert_eq!(r.to_string(), "ISTOG-1968-B-HUB-000001");
        assert_eq!(RegNo::parse(&r.to_string()).unwrap(), r);
    }

    proptest! {
        #[test]
        fn random_person_ids_are_valid(bytes in any::<[u8; 8]>()) {
            let p = PersonId::from_random(bytes);
            prop_assert_eq!(PersonId::parse(&p.to_string()).unwrap(), p);
        }
    }

    #[test]
    fn primary_node_gets_short_form() {
        let r = RegNo::mint("prishtine", 2026, RecordKind::Birth, "1", 42);
        assert_eq!(r.to_string(), "PRISHTINE-2026-B-000042");
        assert_eq!(RegNo::parse("PRISHTINE-2026-B-000042").unwrap(), r);
    }

    #[test]
    fn other_nodes_carry_their_id() {
        let r = RegNo::mint("mitrovice-jugut", 2026, RecordKind::Death, "ws2", 7);
        assert_eq!(r.to_string(), "MITROVICE-JUGUT-2026-D-WS2-000007");
        assert_eq!(RegNo::parse(&r.to_string()).unwrap(), r);
        // lowercase input is accepted
        assert_eq!(
            RegNo::parse("mitrovice-jugut-2026-d-ws2-000007").unwrap(),
            r
        );
    }

    #[test]
    fn a_node_called_like_a_kind_or_year_is_unambiguous() {
        for node in ["b", "2026", "d", "m"] {
            let r = RegNo::mint("istog", 2025, RecordKind::Marriage, node, 1);
            assert_eq!(RegNo::parse(&r.to_string()).unwrap(), r, "{r}");
        }
    }

    #[test]
    fn malformed_numbers_are_refused() {
        for bad in [
            "",
            "PRISHTINE",
            "PRISHTINE-2026-X-000001",
            "PRISHTINE-26-B-000001",
            "PRISHTINE-2026-B-42",
            "PRISHTINE-2026-B-000000",
            "2026-B-000001",
            "PRISHTINE-2026-B-1-000001",
            "PRISHTINE-2026-B-UPPER_-000001",
        ] {
            assert!(RegNo::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn node_ids() {
        assert!(check_node_id("1").is_ok());
        assert!(check_node_id("ws12").is_ok());
        assert!(check_node_id("").is_err());
        assert!(check_node_id("WS1").is_err());
        assert!(check_node_id("a-b").is_err());
        assert!(check_node_id("abcdefghijklm").is_err());
    }

    proptest! {
        #[test]
        fn mint_then_parse_roundtrips(
            muni in "[a-z]{1,8}(-[a-z]{1,8})?",
            year in 1900i32..2100,
            k in 0usize..3,
            node in "[a-z0-9]{1,12}",
            seq in 1u64..10_000_000,
        ) {
            let kind = [RecordKind::Birth, RecordKind::Marriage, RecordKind::Death][k];
            let r = RegNo::mint(&muni, year, kind, &node, seq);
            prop_assert_eq!(RegNo::parse(&r.to_string()).unwrap(), r);
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,40}") {
            let _ = RegNo::parse(&s);
        }
    }
}
