//! An office's clerk accounts as the hub keeps them (issue 17): each clerk's name and password
//! hash exactly as the node stores it (argon2id, PHC string), so that `init --recover` can give
//! the accounts back and each clerk signs in again with their own password. Never a password in
//! clear, never a weaker hash: [`check_password_hash`] takes argon2id at the node's parameters
//! or stronger, and nothing else.
//!
//! One rule for both ends: the node checks a roster the hub gives back with [`check`], the hub
//! checks what a node sends with the same function; both name a roster by [`digest`], so the
//! heartbeat carries the whole roster only when the two digests differ.

use crate::limits::{MAX_CLERKS, MAX_PASSWORD_HASH_BYTES};
use serde::{Deserialize, Serialize};

/// The node's argon2id parameters (the `argon2` crate's defaults, `Argon2::default()`): a
/// hash at lower cost is refused.
pub const MIN_M_COST_KIB: u32 = 19_456;
pub const MIN_T_COST: u32 = 2;
pub const MIN_P_COST: u32 = 1;
/// Upper bounds, so that checking a password against a hash from elsewhere costs at most 1 GiB
/// of memory and bounded time.
pub const MAX_M_COST_KIB: u32 = 1 << 20;
pub const MAX_T_COST: u32 = 16;
pub const MAX_P_COST: u32 = 16;

/// One clerk account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClerkAccount {
    pub name: String,
    /// The argon2id PHC string, as the node stores it.
    pub password_hash: String,
}

/// An office's clerk accounts and the node's change counter (one more for every add, password
/// change or removal; informative: the roster is replaced whole).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Roster {
    pub version: u64,
    pub clerks: Vec<ClerkAccount>,
}

/// Why a roster is not taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RosterProblem {
    #[error("the roster holds {0} clerk accounts; at most {max} are kept for an office", max = MAX_CLERKS)]
    TooMany(usize),
    #[error(
        "clerk name {0:?} is not valid (1 to 32 lowercase letters, digits, dots or underscores)"
    )]
    BadName(String),
    #[error("clerk {0:?} is named twice")]
    Repeated(String),
    #[error("the password hash of clerk {name:?} is not taken: {why}")]
    BadHash { name: String, why: String },
}

/// A clerk's name: 1 to 32 lowercase ASCII letters, digits, dots or underscores.
pub fn valid_clerk_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 32
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'_')
}

fn b64_len(s: &str, min_bytes: usize, max_bytes: usize, what: &str) -> Result<(), String> {
    if !s
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
    {
        return Err(format!("its {what} is not unpadded base64"));
    }
    // Unpadded base64: 4 characters per 3 bytes; a remainder of one character is impossible.
    if s.len() % 4 == 1 {
        return Err(format!("its {what} is not unpadded base64"));
    }
    let bytes = s.len() * 3 / 4;
    if bytes < min_bytes || bytes > max_bytes {
        return Err(format!(
            "its {what} has {bytes} bytes (between {min_bytes} and {max_bytes} are taken)"
        ));
    }
    Ok(())
}

fn param(part: Option<&str>, key: &str, min: u32, max: u32) -> Result<(), String> {
    let v = part
        .and_then(|p| p.strip_prefix(key))
        .and_then(|p| p.strip_prefix('='))
        .ok_or_else(|| format!("its parameters are not m=..,t=..,p=.. (missing {key})"))?;
    if v.is_empty() || v.len() > 10 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("its parameter {key} is not a number"));
    }
    let n: u64 = v
        .parse()
        .map_err(|_| format!("its parameter {key} is not a number"))?;
    if n < u64::from(min) {
        return Err(format!(
            "its parameter {key}={n} is weaker than the node's ({key}={min})"
        ));
    }
    if n > u64::from(max) {
        return Err(format!(
            "its parameter {key}={n} is over the bound ({key}={max})"
        ));
    }
    Ok(())
}

/// Whether `phc` is an argon2id hash (PHC string, version 19) at the node's parameters or
/// stronger, with a salt of 16 to 64 bytes and an output of 32 to 64 bytes; why not otherwise.
pub fn check_password_hash(phc: &str) -> Result<(), String> {
    if phc.len() > MAX_PASSWORD_HASH_BYTES {
        return Err(format!(
            "it is {} bytes long; at most {MAX_PASSWORD_HASH_BYTES} are taken",
            phc.len()
        ));
    }
    let mut parts = phc.split('$');
    if parts.next() != Some("") {
        return Err("it is not a PHC string ($argon2id$...)".into());
    }
    match parts.next() {
        Some("argon2id") => {}
        Some(other) if other.starts_with("argon2") => {
            return Err(format!("{other} is not taken: only argon2id"));
        }
        _ => return Err("it is not an argon2id hash".into()),
    }
    if parts.next() != Some("v=19") {
        return Err("its version is not 19".into());
    }
    let params = parts.next().unwrap_or_default();
    let mut ps = params.split(',');
    param(ps.next(), "m", MIN_M_COST_KIB, MAX_M_COST_KIB)?;
    param(ps.next(), "t", MIN_T_COST, MAX_T_COST)?;
    param(ps.next(), "p", MIN_P_COST, MAX_P_COST)?;
    if ps.next().is_some() {
        return Err("its parameters are not m=..,t=..,p=.. (more given)".into());
    }
    b64_len(parts.next().unwrap_or_default(), 16, 64, "salt")?;
    b64_len(parts.next().unwrap_or_default(), 32, 64, "hash")?;
    if parts.next().is_some() {
        return Err("it has more parts than $argon2id$v=19$PARAMS$SALT$HASH".into());
    }
    Ok(())
}

/// Whether a roster may be kept: at most `MAX_CLERKS` accounts, each name valid and named once,
/// each hash taken by [`check_password_hash`].
pub fn check(roster: &Roster) -> Result<(), RosterProblem> {
    if roster.clerks.len() > MAX_CLERKS {
        return Err(RosterProblem::TooMany(roster.clerks.len()));
    }
    let mut seen = std::collections::BTreeSet::new();
    for c in &roster.clerks {
        if !valid_clerk_name(&c.name) {
            return Err(RosterProblem::BadName(c.name.chars().take(40).collect()));
        }
        if !seen.insert(c.name.as_str()) {
            return Err(RosterProblem::Repeated(c.name.clone()));
        }
        check_password_hash(&c.password_hash).map_err(|why| RosterProblem::BadHash {
            name: c.name.clone(),
            why,
        })?;
    }
    Ok(())
}

/// SHA-256 of the accounts in name order (each name and hash length-prefixed), whatever order
/// they come in; the change counter is not part of it.
pub fn digest(clerks: &[ClerkAccount]) -> [u8; 32] {
    let mut sorted: Vec<&ClerkAccount> = clerks.iter().collect();
    sorted.sort_by(|a, b| a.name.cmp(&b.name));
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(b"civreg-clerk-roster-1");
    for c in sorted {
        for s in [&c.name, &c.password_hash] {
            ctx.update(&(s.len() as u64).to_be_bytes());
            ctx.update(s.as_bytes());
        }
    }
    ctx.finish()
        .as_ref()
        .try_into()
        .expect("SHA-256 is 32 bytes")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GOOD: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$RdescudvJCsgt3ub+b+dWRWJTmaaJObG7xm4HTcgcsQ";

    fn acct(name: &str) -> ClerkAccount {
        ClerkAccount {
            name: name.into(),
            password_hash: GOOD.into(),
        }
    }

    #[test]
    fn takes_the_nodes_hash_and_stronger() {
        assert_eq!(check_password_hash(GOOD), Ok(()));
        let stronger = GOOD.replace("m=19456,t=2,p=1", "m=65536,t=3,p=4");
        assert_eq!(check_password_hash(&stronger), Ok(()));
    }

    #[test]
    fn refuses_weaker_or_other_hashes() {
        for (bad, says) in [
            ("hunter22", "PHC"),
            ("", "argon2id"),
            (&GOOD.replace("argon2id", "argon2i"), "only argon2id"),
            (&GOOD.replace("m=19456", "m=4096"), "weaker"),
            (&GOOD.replace("t=2", "t=1"), "weaker"),
            (&GOOD.replace("v=19", "v=16"), "version"),
            (&GOOD.replace("m=19456", "m=99999999999"), "not a number"),
            (&GOOD.replace("c29tZXNhbHRzb21lc2FsdA", "c2FsdA"), "salt"),
            (
                &GOOD.replace("$RdescudvJCsgt3ub+b+dWRWJTmaaJObG7xm4HTcgcsQ", "$"),
                "hash",
            ),
            (&format!("{GOOD}$extra"), "more parts"),
            (&GOOD.replace("RdescudvJCsg", "Rdescudv!Csg"), "base64"),
            (&format!("$bcrypt$v=19{}", "x".repeat(300)), "bytes long"),
            (
                "$2b$12$abcdefghijklmnopqrstuuABCDEFGHIJKLMNOPQRSTUVWXYZ01234",
                "argon2id",
            ),
        ] {
            let e = check_password_hash(bad).expect_err(bad);
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn a_roster_is_bounded_and_well_formed() {
        let ok = Roster {
            version: 3,
            clerks: vec![acct("drita"), acct("besnik")],
        };
        assert_eq!(check(&ok), Ok(()));
        let many = Roster {
            version: 1,
            clerks: (0..=MAX_CLERKS).map(|i| acct(&format!("c{i}"))).collect(),
        };
        assert_eq!(check(&many), Err(RosterProblem::TooMany(MAX_CLERKS + 1)));
        let twice = Roster {
            version: 1,
            clerks: vec![acct("drita"), acct("drita")],
        };
        assert!(matches!(check(&twice), Err(RosterProblem::Repeated(_))));
        let bad_name = Roster {
            version: 1,
            clerks: vec![acct("Drita!")],
        };
        assert!(matches!(check(&bad_name), Err(RosterProblem::BadName(_))));
        let mut weak = acct("drita");
        weak.password_hash = "correct horse battery staple".into();
        assert!(matches!(
            check(&Roster {
                version: 1,
                clerks: vec![weak]
            }),
            Err(RosterProblem::BadHash { .. })
        ));
    }

    #[test]
    fn the_digest_ignores_order_and_sees_every_change() {
        let a = vec![acct("drita"), acct("besnik")];
        let b = vec![acct("besnik"), acct("drita")];
        assert_eq!(digest(&a), digest(&b));
        let mut c = a.clone();
        c[0].password_hash = GOOD.replace("t=2", "t=3");
        assert_ne!(digest(&a), digest(&c));
        assert_ne!(digest(&a), digest(&a[..1]));
        assert_ne!(digest(&[]), digest(&a[..1]));
        // Length prefixes: moving bytes between name and hash changes the digest.
        let x = [ClerkAccount {
            name: "ab".into(),
            password_hash: "c".into(),
        }];
        let y = [ClerkAccount {
            name: "a".into(),
            password_hash: "bc".into(),
        }];
        assert_ne!(digest(&x), digest(&y));
    }

    proptest! {
        #[test]
        fn never_panics_on_any_text(s in ".{0,300}") {
            let _ = check_password_hash(&s);
        }

        #[test]
        fn never_panics_on_phc_like_text(
            alg in "argon2(id|i|d)?",
            v in "v=[0-9]{0,3}",
            params in "[mtp=,0-9]{0,30}",
            salt in "[A-Za-z0-9+/!]{0,70}",
            hash in "[A-Za-z0-9+/]{0,90}",
        ) {
            let _ = check_password_hash(&format!("${alg}${v}${params}${salt}${hash}"));
        }
    }
}
