//! Rollout stages: which municipalities may sync, and what they may register.
//!
//! Every municipality of the gazetteer has a stage:
//! - `planned`: no node of it may connect (every call is refused, with the reason);
//! - `pilot` and `live`: full sync;
//! - `suspended`: its nodes may pull but not push; they are told why, keep registering locally,
//!   and push when the municipality is resumed.
//!
//! A stage also lists the record kinds the municipality may register (creates of other kinds are
//! refused). Stages live in `DATA_DIR/rollout.json`, written atomically by `civreg-hub rollout
//! set` (which works whether or not the hub runs); the running hub re-reads the file when it
//! changes, so a change takes effect without a restart. Every change is appended to
//! `DATA_DIR/rollout.log` (JSON lines) with the operator who made it and why.
//!
//! Before the first change the three pilot municipalities (Istog, Mitrovicë/Mitrovica,
//! Prishtinë) are `pilot` and the other 35 `planned`.

use civreg_shared::gazetteer;
use civreg_shared::model::RecordKind;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime};

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

pub fn log_path(data_dir: &Path) -> PathBuf {
    data_dir.join("rollout.log")
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

impl Rollout {
    /// The stages in `data_dir` (the defaults when no change was ever made).
    pub fn load(data_dir: &Path) -> Result<Rollout, RolloutError> {
        let p = path(data_dir);
        let text = match std::fs::read_to_string(&p) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Rollout::default()),
            Err(source) => {
                return Err(RolloutError::Io {
                    path: p.display().to_string(),
                    source,
                })
            }
        };
        let mut r: Rollout = serde_json::from_str(&text).map_err(|e| RolloutError::Damaged {
            path: p.display().to_string(),
            why: e.to_string(),
        })?;
        // Municipalities missing from the file (a gazetteer that grew) take the default.
        for (code, entry) in Rollout::default().municipalities {
            r.municipalities.entry(code).or_insert(entry);
        }
        Ok(r)
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

    /// Changes a municipality's stage (and, if given, its record kinds), writes the file
    /// atomically and appends the change to the log.
    pub fn set(
        data_dir: &Path,
        municipality: &str,
        stage: Stage,
        kinds: Option<Vec<RecordKind>>,
        operator: &str,
        reason: &str,
    ) -> Result<Entry, RolloutError> {
        if operator.trim().is_empty() {
            return Err(RolloutError::OperatorRequired);
        }
        let mut r = Rollout::load(data_dir)?;
        let entry = r
            .municipalities
            .get_mut(municipality)
            .ok_or_else(|| RolloutError::Unknown(municipality.to_string()))?;
        let before = entry.clone();
        entry.stage = stage;
        if let Some(k) = kinds {
            entry.kinds = k;
        }
        entry.changed_by = Some(operator.trim().to_string());
        entry.changed_at_ms = Some(now_ms());
        entry.reason = reason.trim().to_string();
        let after = entry.clone();
        let io = |p: &Path| {
            let p = p.display().to_string();
            move |source| RolloutError::Io { path: p, source }
        };
        let p = path(data_dir);
        let text = serde_json::to_string_pretty(&r).expect("rollout serialises");
        // The directory is fsynced too: a decision reported made survives a power cut.
        civreg_runtime::fs::write_atomic(&p, text.as_bytes(), civreg_runtime::fs::Mode::Public)
            .map_err(io(&p))?;
        let line = serde_json::json!({
            "at_ms": after.changed_at_ms,
            "operator": operator.trim(),
            "municipality": municipality,
            "from": before.stage,
            "to": after.stage,
            "kinds": after.kinds,
            "reason": after.reason,
        });
        let lp = log_path(data_dir);
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&lp)
            .map_err(io(&lp))?;
        writeln!(log, "{line}").map_err(io(&lp))?;
        log.sync_all().map_err(io(&lp))?;
        tracing::info!(municipality, from = %before.stage, to = %after.stage, operator = operator.trim(), "rollout stage changed");
        Ok(after)
    }
}

/// The running hub's view of the stages: re-read when the file changes (checked at most every
/// 200 ms), so `rollout set` takes effect without a restart.
pub struct Watcher {
    data_dir: PathBuf,
    state: Mutex<(Instant, Option<SystemTime>, Rollout)>,
}

const RECHECK: Duration = Duration::from_millis(200);

impl Watcher {
    pub fn new(data_dir: &Path) -> Result<Watcher, RolloutError> {
        let r = Rollout::load(data_dir)?;
        let mtime = std::fs::metadata(path(data_dir))
            .and_then(|m| m.modified())
            .ok();
        Ok(Watcher {
            data_dir: data_dir.to_path_buf(),
            state: Mutex::new((Instant::now(), mtime, r)),
        })
    }

    /// The current stages. A file that can no longer be read keeps the last good stages (and
    /// says so in the log).
    pub fn current(&self) -> Rollout {
        let mut st = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if st.0.elapsed() >= RECHECK {
            st.0 = Instant::now();
            let mtime = std::fs::metadata(path(&self.data_dir))
                .and_then(|m| m.modified())
                .ok();
            if mtime != st.1 {
                match Rollout::load(&self.data_dir) {
                    Ok(r) => {
                        st.1 = mtime;
                        st.2 = r;
                    }
                    Err(e) => {
                        tracing::error!(error = %e, "rollout stages not reloaded; keeping the last good ones")
                    }
                }
            }
        }
        st.2.clone()
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
        let dir = tempfile::tempdir().unwrap();
        let e = Rollout::set(
            dir.path(),
            "prishtine",
            Stage::Suspended,
            None,
            "vjosa",
            "audit",
        )
        .unwrap();
        assert_eq!(e.stage, Stage::Suspended);
        let r = Rollout::load(dir.path()).unwrap();
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
        Rollout::set(
            dir.path(),
            "peje",
            Stage::Live,
            Some(vec![RecordKind::Birth]),
            "vjosa",
            "",
        )
        .unwrap();
        let r = Rollout::load(dir.path()).unwrap();
        assert!(r.check_push("peje", [RecordKind::Birth]).is_ok());
        assert!(matches!(
            r.check_push("peje", [RecordKind::Death]),
            Err(Refusal::Kind { .. })
        ));
        let log = std::fs::read_to_string(log_path(dir.path())).unwrap();
        assert_eq!(log.lines().count(), 2);
        assert!(log.contains("\"operator\":\"vjosa\""));
        assert!(matches!(
            Rollout::set(dir.path(), "atlantis", Stage::Live, None, "vjosa", ""),
            Err(RolloutError::Unknown(_))
        ));
        assert!(matches!(
            Rollout::set(dir.path(), "peje", Stage::Live, None, " ", ""),
            Err(RolloutError::OperatorRequired)
        ));
        std::fs::write(path(dir.path()), "{ not json").unwrap();
        assert!(matches!(
            Rollout::load(dir.path()),
            Err(RolloutError::Damaged { .. })
        ));
    }
}
