//! What a certificate states: the claims signed into its QR code.
//!
//! The claims are a CBOR map with short keys (a QR code is small). They name the people of the
//! record by name, date of birth, sex and the opaque 9-digit person identifier when the hub has
//! given one; there is **no field for a personal number** (JMBG or any other), so none can ever
//! be signed into a certificate.

use civreg_shared::merge::RecordState;
use civreg_shared::model::{RecordKind, Sex};
use ring::digest::{digest, SHA256};
use serde::{Deserialize, Serialize};

use crate::CertError;

/// Format of the claims; a verifier refuses any other.
pub const CLAIMS_FORMAT: u8 = 1;

/// Most people a certificate names (a birth names three).
pub const MAX_PEOPLE: usize = 4;

/// The signed content of a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    #[serde(rename = "v")]
    pub format: u8,
    /// The certificate's serial number (`C-ISTOG-2026-000042`).
    #[serde(rename = "s")]
    pub serial: String,
    /// `B`, `M` or `D`.
    #[serde(rename = "k")]
    pub kind: char,
    /// The record's registration number.
    #[serde(rename = "r")]
    pub regno: String,
    /// How many ops the record had when the certificate was issued (its version).
    #[serde(rename = "rv")]
    pub record_version: u32,
    /// The first 8 bytes (hex) of the SHA-256 of the record's heads: which version exactly.
    #[serde(rename = "rh")]
    pub record_head: String,
    /// Date of issue (`YYYY-MM-DD`, UTC).
    #[serde(rename = "d")]
    pub issued_on: String,
    /// Time of issue, Unix seconds.
    #[serde(rename = "t")]
    pub issued_at: i64,
    /// The issuing office: `municipality/node` (`istog/1`), or `hub` for central services.
    #[serde(rename = "o")]
    pub office: String,
    /// The record's municipality (gazetteer code).
    #[serde(rename = "m")]
    pub municipality: String,
    /// The date of the event (birth, marriage, death), `YYYY-MM-DD`.
    #[serde(rename = "ed", default, skip_serializing_if = "Option::is_none")]
    pub event_date: Option<String>,
    /// The place of the event, as registered.
    #[serde(rename = "ep")]
    pub event_place: String,
    /// The paper register entry, `book/year/page/entry`, when there is one.
    #[serde(rename = "rg", default, skip_serializing_if = "Option::is_none")]
    pub register: Option<String>,
    /// The people of the record, principals first.
    #[serde(rename = "p")]
    pub people: Vec<PersonClaim>,
}

/// One person named by a certificate. Deliberately without personal numbers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PersonClaim {
    /// `child`, `mother`, `father`, `spouse1`, `spouse2` or `deceased`.
    #[serde(rename = "r")]
    pub role: String,
    #[serde(rename = "g")]
    pub given_name: String,
    /// Current surname (spouses: after the marriage).
    #[serde(rename = "s")]
    pub surname: String,
    /// Maiden surname, or surname before the marriage.
    #[serde(rename = "o", default, skip_serializing_if = "Option::is_none")]
    pub other_surname: Option<String>,
    #[serde(rename = "f", default, skip_serializing_if = "Option::is_none")]
    pub father_given_name: Option<String>,
    #[serde(rename = "b", default, skip_serializing_if = "Option::is_none")]
    pub date_of_birth: Option<String>,
    /// `M` or `F`.
    #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
    pub sex: Option<char>,
    /// The opaque person identifier (9 digits), when the hub has given one.
    #[serde(rename = "i", default, skip_serializing_if = "Option::is_none")]
    pub person_id: Option<String>,
}

/// Who issues, and when: what [`Claims::from_state`] needs besides the record.
#[derive(Debug, Clone)]
pub struct IssueContext {
    pub serial: String,
    pub office: String,
    pub issued_at: i64,
}

impl Claims {
    /// The claims of a certificate of `state` as it is now.
    pub fn from_state(state: &RecordState, ctx: &IssueContext) -> Result<Claims, CertError> {
        if state.voided.is_some() {
            return Err(CertError::Voided(state.regno.clone()));
        }
        let record = state
            .record()
            .map_err(|e| CertError::Record(format!("{}: {e}", state.regno)))?;
        let issued_on = chrono::DateTime::from_timestamp(ctx.issued_at, 0)
            .ok_or_else(|| CertError::Record(format!("issue time {} out of range", ctx.issued_at)))?
            .date_naive()
            .to_string();
        let people = record
            .people()
            .into_iter()
            .map(|p| PersonClaim {
                role: p.role.to_owned(),
                given_name: p.given_name.to_owned(),
                surname: p.surname.to_owned(),
                other_surname: p.other_surname.map(str::to_owned),
                father_given_name: p.father_given_name.map(str::to_owned),
                date_of_birth: p.date_of_birth.map(|d| d.to_string()),
                sex: p.sex.map(|s| match s {
                    Sex::Male => 'M',
                    Sex::Female => 'F',
                }),
                person_id: state.persons.get(p.role).map(|l| l.person.clone()),
            })
            .collect();
        Ok(Claims {
            format: CLAIMS_FORMAT,
            serial: ctx.serial.clone(),
            kind: record.kind().letter(),
            regno: state.regno.clone(),
            record_version: u32::try_from(state.ops.len()).unwrap_or(u32::MAX),
            record_head: head_digest(state),
            issued_on,
            issued_at: ctx.issued_at,
            office: ctx.office.clone(),
            municipality: record.municipality().to_owned(),
            event_date: record.event_date().map(|d| d.to_string()),
            event_place: record.event_place().to_owned(),
            register: record
                .register()
                .map(|r| format!("{}/{}/{}/{}", r.book, r.year, r.page, r.entry)),
            people,
        })
    }

    /// The record kind.
    pub fn record_kind(&self) -> Option<RecordKind> {
        RecordKind::from_letter(self.kind)
    }

    /// Checks what a verifier relies on after the signature: format, kind, sizes, ids.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.format != CLAIMS_FORMAT {
            return Err(format!("claims format {} is not known", self.format));
        }
        if self.record_kind().is_none() {
            return Err(format!("record kind {:?} is not known", self.kind));
        }
        if self.people.is_empty() || self.people.len() > MAX_PEOPLE {
            return Err(format!("{} people named", self.people.len()));
        }
        for p in &self.people {
            if let Some(id) = &p.person_id {
                civreg_shared::ids::PersonId::parse(id).map_err(|e| e.to_string())?;
            }
        }
        Ok(())
    }

    /// The principal person (the child, the first spouse, the deceased).
    pub fn principal(&self) -> Option<&PersonClaim> {
        self.people.first()
    }
}

/// The first 8 bytes (hex) of the SHA-256 of a record state's heads, sorted: which version of
/// the record a certificate was issued from. The hub compares it with the record it holds.
pub fn head_digest(state: &RecordState) -> String {
    let mut heads: Vec<String> = state.heads.iter().map(|h| h.to_string()).collect();
    heads.sort();
    let d = digest(&SHA256, heads.join("\n").as_bytes());
    hex_lower(&d.as_ref()[..8])
}

pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The texts of the record a certificate prints, for checks that the font covers them.
pub fn texts(claims: &Claims) -> Vec<&str> {
    let mut v = vec![claims.event_place.as_str(), claims.regno.as_str()];
    for p in &claims.people {
        v.push(&p.given_name);
        v.push(&p.surname);
        if let Some(o) = &p.other_surname {
            v.push(o);
        }
        if let Some(f) = &p.father_given_name {
            v.push(f);
        }
    }
    v
}

/// The serial of the `seq`th certificate of `year` issued by `office`: `C-ISTOG-2026-000042`
/// for an office's first workstation (`istog/1`), `C-ISTOG-2026-2-000042` for another
/// (`istog/2`), `C-HUB-2026-000042` for the hub's central services (`hub`). Zero-padded, so
/// one office's serials sort in the order of issue.
pub fn mint_serial(office: &str, year: i32, seq: u64) -> String {
    match office.split_once('/') {
        Some((m, "1")) => format!("C-{}-{year:04}-{seq:06}", m.to_ascii_uppercase()),
        Some((m, n)) => format!("C-{}-{year:04}-{n}-{seq:06}", m.to_ascii_uppercase()),
        None => format!("C-{}-{year:04}-{seq:06}", office.to_ascii_uppercase()),
    }
}

/// Where serial `serial` stands among those `office` mints: `(year, sequence)`, or `None` when
/// `office` can not have minted it (another office's serial, or not a serial at all).
pub fn serial_order(serial: &str, office: &str) -> Option<(u32, u64)> {
    let (prefix, node) = match office.split_once('/') {
        Some((m, n)) => (m, Some(n)),
        None => (office, None),
    };
    if prefix.is_empty() || serial.len() > 64 {
        return None;
    }
    let rest = serial
        .strip_prefix("C-")?
        .strip_prefix(prefix.to_ascii_uppercase().as_str())?
        .strip_prefix('-')?;
    let (year, rest) = rest.split_once('-')?;
    let seq = match node {
        None | Some("1") => rest,
        Some(n) => rest.strip_prefix(n)?.strip_prefix('-')?,
    };
    let digits = |s: &str, min: usize| s.len() >= min && s.bytes().all(|b| b.is_ascii_digit());
    if year.len() != 4 || !digits(year, 4) || !digits(seq, 6) || seq.len() > 18 {
        return None;
    }
    Some((year.parse().ok()?, seq.parse().ok()?))
}
