//! Clerk accounts beyond adding one: a password changed, a clerk removed, and the roster kept
//! at the hub (issue 17), so that `init --recover` gives the accounts back after a dead PC.
//!
//! The tree `clerks` holds name → argon2id PHC string. `meta` holds the roster's change counter
//! (`clerks_version`, one more for every add, password change and removal, in the same write),
//! the digest of the roster the hub last said it holds (`clerks_at_hub`: the heartbeat sends the
//! whole roster only when the node's differs), and, for a node rebuilt with `init --recover`,
//! `clerks_wanted` (ask the hub for its roster instead of sending the empty one) until the hub's
//! roster is installed (`clerks_restored` then says what came back, for the report).

use super::{Clerk, Node, NodeError};
use crate::store::Tree;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::Argon2;
use civreg_shared::roster::{self, ClerkAccount, Roster};
use serde::{Deserialize, Serialize};

const VERSION: &[u8] = b"clerks_version";
const AT_HUB: &[u8] = b"clerks_at_hub";
const WANTED: &[u8] = b"clerks_wanted";
/// The value of [`WANTED`] after a backup's restore (a recovery writes `1`).
const WANTED_AFTER_BACKUP: &[u8] = b"backup";
const RESTORED: &[u8] = b"clerks_restored";

/// What a recovery took back of the hub's roster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RosterRestored {
    /// Accounts installed from the hub's roster.
    pub restored: usize,
    /// Whether the hub held a roster of this office at all.
    pub hub_held: bool,
    /// When the hub took the roster it gave back (its last change heard from the office), and
    /// the office's change counter then.
    pub hub_received_ms: u64,
    pub version: u64,
    /// Accounts added here after the recovery and before the hub's roster came, kept.
    pub kept_local: usize,
}

/// The argon2id hash of `password` at the node's parameters (`Argon2::default()`).
pub(super) fn hash_password(password: &str) -> Result<String, NodeError> {
    let mut salt = [0u8; 16];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut salt)
        .map_err(|_| NodeError::Key(crate::crypto::KeyError::Rng))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| NodeError::Corrupt(e.to_string()))?;
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| NodeError::Corrupt(format!("password hashing failed: {e}")))?
        .to_string())
}

fn u64_of(v: Option<Vec<u8>>) -> u64 {
    v.and_then(|v| <[u8; 8]>::try_from(v.as_slice()).ok())
        .map_or(0, u64::from_be_bytes)
}

impl Node {
    /// The roster's change counter.
    pub fn roster_version(&self) -> Result<u64, NodeError> {
        Ok(u64_of(self.store.get(Tree::Meta, VERSION)?))
    }

    /// The counter after one more change, as a `meta` write.
    pub(super) fn next_roster_version(&self) -> Result<(Vec<u8>, Vec<u8>), NodeError> {
        let v = self.roster_version()?.saturating_add(1);
        Ok((VERSION.to_vec(), v.to_be_bytes().to_vec()))
    }

    /// Every clerk account (name and password hash as stored) and the change counter.
    pub fn clerk_roster(&self) -> Result<Roster, NodeError> {
        let clerks = self
            .store
            .scan(Tree::Clerks)
            .map(|r| {
                let (k, v) = r?;
                Ok(ClerkAccount {
                    name: String::from_utf8_lossy(&k).into_owned(),
                    password_hash: String::from_utf8_lossy(&v).into_owned(),
                })
            })
            .collect::<Result<Vec<_>, NodeError>>()?;
        Ok(Roster {
            version: self.roster_version()?,
            clerks,
        })
    }

    /// Sets clerk `name`'s password (a signed-in clerk `by` does it: their own, or a colleague's
    /// who forgot theirs). The old password stops working at once.
    pub fn change_password(&self, by: &Clerk, name: &str, password: &str) -> Result<(), NodeError> {
        let _ = by;
        if password.chars().count() < 8 {
            return Err(NodeError::WeakPassword);
        }
        let phc = hash_password(password)?;
        self.write(|tx| {
            if self.store.get(Tree::Clerks, name.as_bytes())?.is_none() {
                return Err(NodeError::NoSuchClerk(name.to_string()));
            }
            let (k, v) = self.next_roster_version()?;
            let b = tx.batch();
            b.put(Tree::Clerks, name.as_bytes().to_vec(), phc.into_bytes());
            b.put(Tree::Meta, k, v);
            Ok(())
        })
    }

    /// Removes clerk `name` (a signed-in clerk `by` does it): they can no longer sign in. The
    /// last clerk is not removed, so that someone can always add another.
    pub fn remove_clerk(&self, by: &Clerk, name: &str) -> Result<(), NodeError> {
        let _ = by;
        self.write(|tx| {
            if self.store.get(Tree::Clerks, name.as_bytes())?.is_none() {
                return Err(NodeError::NoSuchClerk(name.to_string()));
            }
            if self.store.len(Tree::Clerks)? <= 1 {
                return Err(NodeError::LastClerk(name.to_string()));
            }
            let (k, v) = self.next_roster_version()?;
            let b = tx.batch();
            b.delete(Tree::Clerks, name.as_bytes().to_vec());
            b.put(Tree::Meta, k, v);
            Ok(())
        })
    }

    /// Whether clerk `name` exists (a remembered session of a removed clerk ends).
    pub fn clerk_exists(&self, name: &str) -> Result<bool, NodeError> {
        Ok(self.store.get(Tree::Clerks, name.as_bytes())?.is_some())
    }

    /// The digest of the roster the hub last said it holds of this office.
    pub fn roster_at_hub(&self) -> Result<Option<[u8; 32]>, NodeError> {
        Ok(self
            .store
            .get(Tree::Meta, AT_HUB)?
            .and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok()))
    }

    /// Keeps what the hub said it holds (written only when it changed).
    pub fn note_roster_at_hub(&self, digest: Option<[u8; 32]>) -> Result<(), NodeError> {
        if self.roster_at_hub()? == digest {
            return Ok(());
        }
        self.write(|tx| {
            match digest {
                Some(d) => tx.batch().put(Tree::Meta, AT_HUB.to_vec(), d.to_vec()),
                None => tx.batch().delete(Tree::Meta, AT_HUB.to_vec()),
            }
            Ok(())
        })
    }

    /// A rebuilt node: ask the hub for its roster at the next heartbeat, instead of sending
    /// this node's (empty) one over it.
    pub fn want_roster(&self) -> Result<(), NodeError> {
        self.write(|tx| {
            tx.batch().put(Tree::Meta, WANTED.to_vec(), b"1".to_vec());
            Ok(())
        })
    }

    /// After a backup is restored: the hub's roster is asked for, and it replaces the backup's
    /// when it is at least as new (its change counter), since the accounts changed after the
    /// backup (added, passwords changed, removed) are the hub's; a backup newer than the hub's
    /// copy keeps its own roster, which the next heartbeat sends.
    pub fn want_roster_after_backup(&self) -> Result<(), NodeError> {
        self.write(|tx| {
            tx.batch()
                .put(Tree::Meta, WANTED.to_vec(), WANTED_AFTER_BACKUP.to_vec());
            Ok(())
        })
    }

    pub fn roster_wanted(&self) -> Result<bool, NodeError> {
        Ok(self.store.get(Tree::Meta, WANTED)?.is_some())
    }

    /// What a recovery took back of the hub's roster, once it has.
    pub fn roster_restored(&self) -> Result<Option<RosterRestored>, NodeError> {
        match self.store.get(Tree::Meta, RESTORED)? {
            None => Ok(None),
            Some(v) => serde_json::from_slice(&v)
                .map(Some)
                .map_err(|_| NodeError::Corrupt("node metadata (clerks_restored)".into())),
        }
    }

    /// Installs the roster the hub holds of this office (`None`: it holds none), checked as the
    /// hub checks what it takes, in one write: each account the node does not have (one added
    /// here since the recovery is newer, and kept), the change counter, the hub's digest, and
    /// what came back; the wish is lifted.
    pub fn install_roster(
        &self,
        hub: Option<(Roster, u64)>,
        hub_digest: Option<[u8; 32]>,
    ) -> Result<RosterRestored, NodeError> {
        if let Some((r, _)) = &hub {
            roster::check(r).map_err(|p| {
                NodeError::HubRoster(format!(
                    "the hub's copy of this office's clerk accounts: {p}"
                ))
            })?;
        }
        let after_backup =
            self.store.get(Tree::Meta, WANTED)?.as_deref() == Some(WANTED_AFTER_BACKUP);
        self.write(|tx| {
            let local = self.clerk_roster()?;
            if after_backup {
                return Ok(Self::replace_roster(tx, &local, hub.as_ref(), hub_digest));
            }
            let mut done = RosterRestored {
                restored: 0,
                hub_held: hub.is_some(),
                hub_received_ms: 0,
                version: local.version,
                kept_local: local.clerks.len(),
            };
            let b = tx.batch();
            if let Some((r, received_ms)) = &hub {
                for c in &r.clerks {
                    if !local.clerks.iter().any(|l| l.name == c.name) {
                        b.put(
                            Tree::Clerks,
                            c.name.as_bytes().to_vec(),
                            c.password_hash.as_bytes().to_vec(),
                        );
                        done.restored += 1;
                    }
                }
                done.hub_received_ms = *received_ms;
                done.version = r.version.max(local.version);
                // Accounts added here since are news to the hub: the counter moves on, and the
                // next heartbeat sends the whole roster.
                if done.kept_local > 0 {
                    done.version = done.version.saturating_add(1);
                }
            }
            b.put(
                Tree::Meta,
                VERSION.to_vec(),
                done.version.to_be_bytes().to_vec(),
            );
            match hub_digest.filter(|_| done.kept_local == 0) {
                Some(d) => b.put(Tree::Meta, AT_HUB.to_vec(), d.to_vec()),
                None => b.delete(Tree::Meta, AT_HUB.to_vec()),
            }
            b.put(
                Tree::Meta,
                RESTORED.to_vec(),
                serde_json::to_vec(&done).expect("serialises"),
            );
            b.delete(Tree::Meta, WANTED.to_vec());
            Ok(done)
        })
    }
}

impl Node {
    /// [`Node::install_roster`] after a backup's restore, inside its write: the hub's roster
    /// replaces the backup's when at least as new; otherwise the backup's stays and is sent.
    fn replace_roster(
        tx: &mut super::Tx<'_>,
        local: &Roster,
        hub: Option<&(Roster, u64)>,
        hub_digest: Option<[u8; 32]>,
    ) -> RosterRestored {
        let b = tx.batch();
        let done = match hub {
            Some((r, received_ms)) if r.version >= local.version => {
                let mut restored = 0;
                for l in &local.clerks {
                    if !r.clerks.iter().any(|c| c.name == l.name) {
                        b.delete(Tree::Clerks, l.name.as_bytes().to_vec());
                    }
                }
                for c in &r.clerks {
                    if !local.clerks.contains(c) {
                        b.put(
                            Tree::Clerks,
                            c.name.as_bytes().to_vec(),
                            c.password_hash.as_bytes().to_vec(),
                        );
                        restored += 1;
                    }
                }
                match hub_digest {
                    Some(d) => b.put(Tree::Meta, AT_HUB.to_vec(), d.to_vec()),
                    None => b.delete(Tree::Meta, AT_HUB.to_vec()),
                }
                RosterRestored {
                    restored,
                    hub_held: true,
                    hub_received_ms: *received_ms,
                    version: r.version,
                    kept_local: 0,
                }
            }
            _ => {
                // The backup's roster is the newer (or the hub holds none): it is sent.
                b.delete(Tree::Meta, AT_HUB.to_vec());
                RosterRestored {
                    restored: 0,
                    hub_held: hub.is_some(),
                    hub_received_ms: hub.map_or(0, |(_, ms)| *ms),
                    version: local.version,
                    kept_local: local.clerks.len(),
                }
            }
        };
        b.put(
            Tree::Meta,
            VERSION.to_vec(),
            done.version.to_be_bytes().to_vec(),
        );
        b.put(
            Tree::Meta,
            RESTORED.to_vec(),
            serde_json::to_vec(&done).expect("serialises"),
        );
        b.delete(Tree::Meta, WANTED.to_vec());
        done
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node() -> Node {
        Node::in_memory("istog", "1").unwrap()
    }

    #[test]
    fn every_change_moves_the_counter_and_the_digest() {
        let n = node();
        n.add_clerk(None, "drita", "drita-password").unwrap();
        let by = n.authenticate("drita", "drita-password").unwrap();
        n.add_clerk(Some(&by), "besnik", "besnik-password").unwrap();
        let r1 = n.clerk_roster().unwrap();
        assert_eq!(r1.version, 2);
        assert_eq!(
            roster::check(&r1),
            Ok(()),
            "the node's hashes pass the hub's check"
        );
        n.change_password(&by, "besnik", "besnik-new-password")
            .unwrap();
        let r2 = n.clerk_roster().unwrap();
        assert_eq!(r2.version, 3);
        assert_ne!(roster::digest(&r1.clerks), roster::digest(&r2.clerks));
        assert!(n.authenticate("besnik", "besnik-password").is_err());
        n.authenticate("besnik", "besnik-new-password").unwrap();
        n.remove_clerk(&by, "besnik").unwrap();
        assert_eq!(n.roster_version().unwrap(), 4);
        assert!(n.authenticate("besnik", "besnik-new-password").is_err());
        assert!(matches!(
            n.remove_clerk(&by, "drita"),
            Err(NodeError::LastClerk(_))
        ));
        assert!(matches!(
            n.change_password(&by, "nobody", "long enough"),
            Err(NodeError::NoSuchClerk(_))
        ));
        assert_eq!(
            n.roster_version().unwrap(),
            4,
            "a refused change counts nothing"
        );
    }

    #[test]
    fn a_recovered_node_takes_the_hubs_roster_and_keeps_newer_local_accounts() {
        let old = node();
        old.add_clerk(None, "drita", "drita-password").unwrap();
        let by = old.authenticate("drita", "drita-password").unwrap();
        old.add_clerk(Some(&by), "besnik", "besnik-password")
            .unwrap();
        let at_hub = old.clerk_roster().unwrap();
        let d = roster::digest(&at_hub.clerks);

        let fresh = node();
        fresh.want_roster().unwrap();
        fresh
            .add_clerk(None, "besnik", "besnik-newer-password")
            .unwrap();
        let done = fresh
            .install_roster(Some((at_hub.clone(), 77)), Some(d))
            .unwrap();
        assert_eq!(done.restored, 1);
        assert_eq!(done.kept_local, 1);
        assert_eq!(done.hub_received_ms, 77);
        assert!(!fresh.roster_wanted().unwrap());
        fresh.authenticate("drita", "drita-password").unwrap();
        fresh
            .authenticate("besnik", "besnik-newer-password")
            .unwrap();
        // The local account is news to the hub: not the hub's digest, a counter past the hub's.
        assert_eq!(fresh.roster_at_hub().unwrap(), None);
        assert_eq!(fresh.roster_version().unwrap(), at_hub.version + 1);
        assert_eq!(fresh.roster_restored().unwrap(), Some(done));

        // A roster the hub's check refuses installs nothing.
        let other = node();
        other.want_roster().unwrap();
        let mut bad = at_hub.clone();
        bad.clerks[0].password_hash = "plain text".into();
        assert!(matches!(
            other.install_roster(Some((bad, 1)), None),
            Err(NodeError::HubRoster(_))
        ));
        assert!(other.roster_wanted().unwrap());
        assert_eq!(other.clerk_count().unwrap(), 0);
    }

    #[test]
    fn a_restored_backup_takes_the_hubs_newer_roster_and_keeps_its_own_newer_one() {
        // The backup: drita and besnik.
        let n = node();
        n.add_clerk(None, "drita", "drita-password").unwrap();
        let by = n.authenticate("drita", "drita-password").unwrap();
        n.add_clerk(Some(&by), "besnik", "besnik-password").unwrap();
        let backup = n.clerk_roster().unwrap();
        // After it, at the hub: arta added, besnik removed, drita's password changed.
        let later = node();
        later.add_clerk(None, "drita", "drita-password").unwrap();
        let lby = later.authenticate("drita", "drita-password").unwrap();
        later
            .add_clerk(Some(&lby), "arta", "arta-password")
            .unwrap();
        later
            .change_password(&lby, "drita", "drita-new-password")
            .unwrap();
        let mut at_hub = later.clerk_roster().unwrap();
        at_hub.version = backup.version + 3;
        let d = roster::digest(&at_hub.clerks);

        n.want_roster_after_backup().unwrap();
        assert!(n.roster_wanted().unwrap());
        let done = n
            .install_roster(Some((at_hub.clone(), 9)), Some(d))
            .unwrap();
        assert_eq!(done.restored, 2, "arta, and drita's new password");
        assert!(!n.roster_wanted().unwrap());
        n.authenticate("drita", "drita-new-password").unwrap();
        assert!(n.authenticate("drita", "drita-password").is_err());
        n.authenticate("arta", "arta-password").unwrap();
        assert!(
            n.authenticate("besnik", "besnik-password").is_err(),
            "removed after the backup"
        );
        assert_eq!(n.roster_version().unwrap(), at_hub.version);
        assert_eq!(n.roster_at_hub().unwrap(), Some(d));

        // A backup newer than the hub's copy keeps its own, and sends it.
        let m = node();
        m.add_clerk(None, "drita", "drita-password").unwrap();
        let mby = m.authenticate("drita", "drita-password").unwrap();
        m.add_clerk(Some(&mby), "besnik", "besnik-password")
            .unwrap();
        let mut old_at_hub = m.clerk_roster().unwrap();
        old_at_hub.clerks.retain(|c| c.name == "drita");
        old_at_hub.version = 1;
        let od = roster::digest(&old_at_hub.clerks);
        m.want_roster_after_backup().unwrap();
        let done = m.install_roster(Some((old_at_hub, 5)), Some(od)).unwrap();
        assert_eq!(done.restored, 0);
        m.authenticate("besnik", "besnik-password").unwrap();
        assert_eq!(
            m.roster_at_hub().unwrap(),
            None,
            "sent at the next heartbeat"
        );
        assert_eq!(m.roster_version().unwrap(), 2);
    }
}
