//! Rollout stages: which municipalities may sync, and what they may register.
//!
//! Every municipality of the gazetteer has a stage:
//! - `planned`: no node of it may connect (every call is refused, with the reason);
//! - `pilot` and `live`: full sync;
//! - `suspended`: its nodes may pull but not push; they are told why, keep registering locally,
//!   and push when the municipality is resumed.
//!
//! A stage also lists the record kinds the municipality may register (creates of other kinds are
//! refused). The stages are one plan kept in the hub's store (`aux` prefix `rollout/`: the
//! plan and its version, written together by compare-and-set, [`Rollout::set_in`]), so every
//! hub over one database enforces the same plan: each running hub follows the version
//! ([`Watcher`], read again at most every [`FOLLOW_EVERY`]), and a change made through any hub
//! (`civreg-hub rollout set`, through the running hub's control socket or the store, or the
//! dashboard) applies at every hub within seconds, without a restart. Every change is also
//! appended to the rollout audit trail in the store ([`crate::audit`], `civreg-hub rollout
//! log` at any hub), with the operator who made it and why.
//!
//! Before the first change the three pilot municipalities (Istog, Mitrovicë/Mitrovica,
//! Prishtinë) are `pilot` and the other 35 `planned`. Earlier versions kept the plan in
//! `DATA_DIR/rollout.json`; [`import_file`] takes it into the store once (when the store has
//! no plan yet) and renames it, so that the file is never read again.

use crate::store::{aux, AuxReads, HubStore, StoreError};
use civreg_shared::gazetteer;
use civreg_shared::model::RecordKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The municipalities the first tools ran in.
pub const PILOTS: [&str; 3] = ["istog", "mitrovice-jugut", "prishtine"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    Planned,
    Pilot,
    Live,
    Suspended,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Planned => "planned",
            Stage::Pilot => "pilot",
            Stage::Live => "live",
            Stage::Suspended => "suspended",
        }
    }
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

const ALL_KINDS: [RecordKind; 3] = [RecordKind::Birth, RecordKind::Marriage, RecordKind::Death];

/// One municipality's stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub stage: Stage,
    /// The record kinds it may register.
    pub kinds: Vec<RecordKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub changed_at_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub reason: String,
}

/// Why a node's call is refused by the rollout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("rollout: municipality {0} is planned, not yet rolled out: its nodes may not sync until an operator moves it to pilot or live")]
    Planned(String),
    #[error("rollout: municipality {municipality} is suspended{by}: its nodes may pull but not push; registrations stay on the node and are pushed when it is resumed{why}")]
    Suspended {
        municipality: String,
        by: String,
        why: String,
    },
    #[error("rollout: municipality {municipality} may not register {kind} records yet (its stage allows {allowed})")]
    Kind {
        municipality: String,
        kind: RecordKind,
        allowed: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum RolloutError {
    #[error("unknown municipality {0:?}: `civreg-hub rollout list` shows the codes")]
    Unknown(String),
    #[error("an operator name is needed (--operator NAME or CIVREG_OPERATOR)")]
    OperatorRequired,
    #[error("{path}: {why}; fix or delete the file (deleting it restores the default stages)")]
    Damaged { path: String, why: String },
    #[error("the rollout plan in the hub's store can not be read ({0}): restore the store from a backup")]
    StoreDamaged(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("the stage was changed, but its entry in the rollout log was not kept: {0}")]
    Audit(#[from] crate::audit::AuditError),
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
}

/// The stage of every municipality.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rollout {
    pub municipalities: BTreeMap<String, Entry>,
}

impl Default for Rollout {
    fn default() -> Self {
        let municipalities = gazetteer::all()
            .iter()
            .map(|m| {
                let stage = if PILOTS.contains(&m.code) {
                    Stage::Pilot
                } else {
                    Stage::Planned
                };
                (
                    m.code.to_string(),
                    Entry {
                        stage,
                        kinds: ALL_KINDS.to_vec(),
                        changed_by: None,
                        changed_at_ms: None,
                        reason: String::new(),
                    },
                )
            })
            .collect();
        Rollout { municipalities }
    }
}

pub fn path(data_dir: &Path) -> PathBuf {
    data_dir.join("rollout.json")
}

use civreg_runtime::clock::now_ms;

fn kinds_text(kinds: &[RecordKind]) -> String {
    if kinds.is_empty() {
        "none".into()
    } else {
        kinds
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The plan as the store keeps it, with its version (1 for the first plan written).
#[derive(Serialize, Deserialize)]
struct Kept<P> {
    version: u64,
    plan: P,
}

fn version_key() -> Vec<u8> {
    aux::aux_key(aux::ROLLOUT, "version")
}

fn plan_key() -> Vec<u8> {
    aux::aux_key(aux::ROLLOUT, "plan")
}

fn decode_version(raw: &[u8]) -> Result<u64, RolloutError> {
    let b: [u8; 8] = raw
        .try_into()
        .map_err(|_| RolloutError::StoreDamaged(format!("a version of {} bytes", raw.len())))?;
    Ok(u64::from_be_bytes(b))
}

impl Rollout {
    /// Reads a plan as JSON; municipalities it lacks (a gazetteer that grew) take the default.
    fn parse(text: &[u8]) -> Result<Rollout, serde_json::Error> {
        let mut r: Rollout = serde_json::from_slice(text)?;
        for (code, entry) in Rollout::default().municipalities {
            r.municipalities.entry(code).or_insert(entry);
        }
        Ok(r)
    }

    fn decode_kept(raw: &[u8]) -> Result<(u64, Rollout), RolloutError> {
        let k: Kept<serde_json::Value> =
            serde_json::from_slice(raw).map_err(|e| RolloutError::StoreDamaged(e.to_string()))?;
        let plan = serde_json::to_vec(&k.plan).expect("a JSON value serialises");
        let r = Rollout::parse(&plan).map_err(|e| RolloutError::StoreDamaged(e.to_string()))?;
        Ok((k.version, r))
    }

    /// The version of the plan in `store` (0: no change was ever made, the defaults apply).
    pub fn version_in(store: &HubStore) -> Result<u64, RolloutError> {
        store
            .aux_get(&version_key())?
            .map_or(Ok(0), |raw| decode_version(&raw))
    }

    /// The plan in `store` and its version (the defaults and 0 when no change was ever made).
    pub fn read_in(store: &HubStore) -> Result<(u64, Rollout), RolloutError> {
        match store.aux_get(&plan_key())? {
            Some(raw) => Rollout::decode_kept(&raw),
            None => Ok((0, Rollout::default())),
        }
    }

    /// [`read_in`](Self::read_in), noting both keys as conditions of a write.
    fn read_noting(store: &HubStore, reads: &mut AuxReads) -> Result<(u64, Rollout), RolloutError> {
        let version = store
            .aux_get_noting(&version_key(), reads)?
            .map_or(Ok(0), |raw| decode_version(&raw))?;
        let (kept, r) = match store.aux_get_noting(&plan_key(), reads)? {
            Some(raw) => Rollout::decode_kept(&raw)?,
            None => (0, Rollout::default()),
        };
        if kept != version {
            return Err(RolloutError::StoreDamaged(format!(
                "version {version} beside a plan of version {kept}"
            )));
        }
        Ok((version, r))
    }

    /// The writes that make `plan` the plan of version `version`.
    fn writes(version: u64, plan: &Rollout) -> Vec<crate::store::AuxWrite> {
        let kept = serde_json::to_vec(&Kept { version, plan }).expect("a rollout plan serialises");
        vec![
            (version_key(), Some(version.to_be_bytes().to_vec())),
            (plan_key(), Some(kept)),
        ]
    }

    pub fn entry(&self, municipality: &str) -> Option<&Entry> {
        self.municipalities.get(municipality)
    }

    /// May a node of `municipality` connect at all (pull, heartbeat)?
    pub fn check_connect(&self, municipality: &str) -> Result<(), Refusal> {
        match self.entry(municipality).map(|e| e.stage) {
            Some(Stage::Pilot | Stage::Live | Stage::Suspended) => Ok(()),
            _ => Err(Refusal::Planned(municipality.to_string())),
        }
    }

    /// May a node of `municipality` push ops that create records of these kinds?
    pub fn check_push(
        &self,
        municipality: &str,
        created: impl IntoIterator<Item = RecordKind>,
    ) -> Result<(), Refusal> {
        let Some(e) = self.entry(municipality) else {
            return Err(Refusal::Planned(municipality.to_string()));
        };
        match e.stage {
            Stage::Planned => return Err(Refusal::Planned(municipality.to_string())),
            Stage::Suspended => {
                return Err(Refusal::Suspended {
                    municipality: municipality.to_string(),
                    by: e
                        .changed_by
                        .as_ref()
                        .map(|b| format!(" by {b}"))
                        .unwrap_or_default(),
                    why: if e.reason.is_empty() {
                        String::new()
                    } else {
                        format!(" (reason: {})", e.reason)
                    },
                })
            }
            Stage::Pilot | Stage::Live => {}
        }
        for kind in created {
            if !e.kinds.contains(&kind) {
                return Err(Refusal::Kind {
                    municipality: municipality.to_string(),
                    kind,
                    allowed: kinds_text(&e.kinds),
                });
            }
        }
        Ok(())
    }

    /// Changes a municipality's stage (and, if given, its record kinds) in the plan kept in
    /// `store`, by compare-and-set on the plan's version (a change made at the same moment
    /// through another hub is read and this one applied over it), and appends the change to
    /// the rollout audit trail ([`crate::audit::Trail::Rollout`]).
    pub fn set_in(
        store: &HubStore,
        municipality: &str,
        stage: Stage,
        kinds: Option<Vec<RecordKind>>,
        operator: &str,
        reason: &str,
    ) -> Result<Entry, RolloutError> {
        if operator.trim().is_empty() {
            return Err(RolloutError::OperatorRequired);
        }
        let (before, after, version) = store.aux_decide(|reads| {
            let (version, mut r) = Rollout::read_noting(store, reads)?;
            let entry = r
                .municipalities
                .get_mut(municipality)
                .ok_or_else(|| RolloutError::Unknown(municipality.to_string()))?;
            let before = entry.clone();
            entry.stage = stage;
            if let Some(k) = &kinds {
                entry.kinds = k.clone();
            }
            entry.changed_by = Some(operator.trim().to_string());
            entry.changed_at_ms = Some(now_ms());
            entry.reason = reason.trim().to_string();
            let after = entry.clone();
            let writes = Rollout::writes(version + 1, &r);
            Ok::<_, RolloutError>(((before, after, version + 1), Some(writes)))
        })?;
        let line = serde_json::json!({
            "at_ms": after.changed_at_ms,
            "operator": operator.trim(),
            "municipality": municipality,
            "from": before.stage,
            "to": after.stage,
            "kinds": after.kinds,
            "reason": after.reason,
        });
        crate::audit::append(store, crate::audit::Trail::Rollout, &line)?;
        tracing::info!(municipality, from = %before.stage, to = %after.stage, operator = operator.trim(), version, "rollout stage changed");
        Ok(after)
    }
}

/// Takes an earlier version's `DATA_DIR/rollout.json` into the store, once: when the store has
/// no plan yet, the file's becomes version 1; when it has one (made through another hub, or
/// imported before), the file is left out. Either way the file is renamed
/// (`rollout.json.imported`, `rollout.json.not-imported`) and never read again, and the log
/// says which. Returns whether the file's plan was imported.
pub fn import_file(data_dir: &Path, store: &HubStore) -> Result<bool, RolloutError> {
    let p = path(data_dir);
    let io = |source| RolloutError::Io {
        path: p.display().to_string(),
        source,
    };
    let text = match std::fs::read(&p) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(io(e)),
    };
    let plan = Rollout::parse(&text).map_err(|e| RolloutError::Damaged {
        path: p.display().to_string(),
        why: e.to_string(),
    })?;
    let imported = store.aux_decide(|reads| {
        let (version, _) = Rollout::read_noting(store, reads)?;
        if version != 0 {
            return Ok::<_, RolloutError>((false, None));
        }
        Ok((true, Some(Rollout::writes(1, &plan))))
    })?;
    let to = data_dir.join(if imported {
        "rollout.json.imported"
    } else {
        "rollout.json.not-imported"
    });
    std::fs::rename(&p, &to).map_err(io)?;
    if imported {
        tracing::info!(from = %p.display(), kept_as = %to.display(), "rollout plan imported into the hub's store; the file is no longer read");
    } else {
        tracing::warn!(file = %p.display(), kept_as = %to.display(), "the hub's store already holds a rollout plan (made through another hub, or imported before): this file was not imported and is no longer read");
    }
    Ok(imported)
}

/// How often a running hub reads the plan's version in the store again.
pub const FOLLOW_EVERY: Duration = Duration::from_secs(1);

/// The running hub's view of the stages: it follows the plan's version in the store (read
/// again at most every [`FOLLOW_EVERY`], the plan itself only when the version moved), so a
/// change made through any hub over the same database takes effect here within seconds.
pub struct Watcher {
    store: Arc<HubStore>,
    state: Mutex<Followed>,
}

struct Followed {
    checked: Instant,
    version: u64,
    plan: Rollout,
}

impl Watcher {
    pub fn follow(store: Arc<HubStore>) -> Result<Watcher, RolloutError> {
        let (version, plan) = Rollout::read_in(&store)?;
        Ok(Watcher {
            store,
            state: Mutex::new(Followed {
                checked: Instant::now(),
                version,
                plan,
            }),
        })
    }

    /// The current stages. A plan that can not be read keeps the last good one (and says so
    /// in the log).
    pub fn current(&self) -> Rollout {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.checked.elapsed() >= FOLLOW_EVERY {
            st.checked = Instant::now();
            let read = Rollout::version_in(&self.store).and_then(|v| {
                if v == st.version {
                    Ok(None)
                } else {
                    Rollout::read_in(&self.store).map(Some)
                }
            });
            match read {
                Ok(None) => {}
                Ok(Some((version, plan))) => {
                    tracing::info!(version, "rollout plan changed in the store; now enforced");
                    st.version = version;
                    st.plan = plan;
                }
                Err(e) => {
                    tracing::error!(error = %e, "rollout plan not read again; keeping the last good one")
                }
            }
        }
        st.plan.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_open_the_pilots_only() {
        let r = Rollout::default();
        assert_eq!(r.municipalities.len(), 38);
        assert!(r.check_connect("prishtine").is_ok());
        assert!(r.check_push("istog", [RecordKind::Death]).is_ok());
        assert!(matches!(r.check_connect("peje"), Err(Refusal::Planned(_))));
        assert!(matches!(
            r.check_push("nowhere", []),
            Err(Refusal::Planned(_))
        ));
    }

    #[test]
    fn set_persists_logs_and_enforces() {
        let store = Arc::new(HubStore::open_temporary().unwrap());
        let watcher = Watcher::follow(store.clone()).unwrap();
        assert_eq!(Rollout::version_in(&store).unwrap(), 0);
        let e = Rollout::set_in(
            &store,
            "prishtine",
            Stage::Suspended,
            None,
            "vjosa",
            "audit",
        )
        .unwrap();
        assert_eq!(e.stage, Stage::Suspended);
        let (version, r) = Rollout::read_in(&store).unwrap();
        assert_eq!(version, 1);
        assert!(
            r.check_connect("prishtine").is_ok(),
            "suspended nodes may pull"
        );
        let refusal = r.check_push("prishtine", []).unwrap_err();
        assert!(
            refusal.to_string().contains("suspended by vjosa"),
            "{refusal}"
        );
        assert!(refusal.to_string().contains("audit"), "{refusal}");
        Rollout::set_in(
            &store,
            "peje",
            Stage::Live,
            Some(vec![RecordKind::Birth]),
            "vjosa",
            "",
        )
        .unwrap();
        let (version, r) = Rollout::read_in(&store).unwrap();
        assert_eq!(version, 2);
        assert!(r.check_push("peje", [RecordKind::Birth]).is_ok());
        assert!(matches!(
            r.check_push("peje", [RecordKind::Death]),
            Err(Refusal::Kind { .. })
        ));
        // The running hub's view follows the version.
        let deadline = Instant::now() + Duration::from_secs(10);
        while watcher
            .current()
            .check_push("peje", [RecordKind::Birth])
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "the watcher did not follow the store"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        let log = crate::audit::read(&store, crate::audit::Trail::Rollout, None, None, 10)
            .unwrap()
            .entries;
        assert_eq!(log.len(), 2);
        assert_eq!(
            (&log[0]["operator"], &log[1]["to"]),
            (&"vjosa".into(), &"live".into())
        );
        assert!(matches!(
            Rollout::set_in(&store, "atlantis", Stage::Live, None, "vjosa", ""),
            Err(RolloutError::Unknown(_))
        ));
        assert!(matches!(
            Rollout::set_in(&store, "peje", Stage::Live, None, " ", ""),
            Err(RolloutError::OperatorRequired)
        ));
        assert_eq!(
            Rollout::version_in(&store).unwrap(),
            2,
            "refusals write nothing"
        );
    }

    #[test]
    fn a_file_of_an_earlier_version_is_imported_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = HubStore::open_temporary().unwrap();
        assert!(
            !import_file(dir.path(), &store).unwrap(),
            "no file, nothing"
        );
        let mut plan = Rollout::default();
        plan.municipalities.get_mut("peje").unwrap().stage = Stage::Live;
        plan.municipalities.remove("istog");
        std::fs::write(path(dir.path()), serde_json::to_vec(&plan).unwrap()).unwrap();
        assert!(import_file(dir.path(), &store).unwrap());
        assert!(
            !path(dir.path()).exists(),
            "the file is no longer the truth"
        );
        assert!(dir.path().join("rollout.json.imported").exists());
        let (version, r) = Rollout::read_in(&store).unwrap();
        assert_eq!(version, 1);
        assert!(r.check_push("peje", []).is_ok());
        assert!(
            r.check_push("istog", []).is_ok(),
            "missing ones take the default"
        );
        // A second hub's file, once the store has a plan: left out.
        std::fs::write(
            path(dir.path()),
            serde_json::to_vec(&Rollout::default()).unwrap(),
        )
        .unwrap();
        assert!(!import_file(dir.path(), &store).unwrap());
        assert!(dir.path().join("rollout.json.not-imported").exists());
        assert!(Rollout::read_in(&store)
            .unwrap()
            .1
            .check_push("peje", [])
            .is_ok());
        std::fs::write(path(dir.path()), "{ not json").unwrap();
        assert!(matches!(
            import_file(dir.path(), &store),
            Err(RolloutError::Damaged { .. })
        ));
    }
}
