//! The duplicate check's matching model, from the hub (issue 16: "a trained model is saved and
//! versioned, reused by import, match and the duplicate check").
//!
//! Every heartbeat reply names the hub's current model (its id and the SHA-256 of its JSON);
//! the node says which model the hub last offered it (`dupes_model_sha256` of the request), so
//! the hub sends the model whole only when it changed. An offered model is checked before use
//! ([`check_offered`]: at most [`MAX_NODE_MODEL_BYTES`], its digest, the structure and ranges of
//! `Model::check`); one that passes is kept in `meta` (sealed, since it carries the register's
//! name frequencies) and used by the clerk app's duplicate check from then on, offline too.
//! One that fails is not used: the model held before stays (the hub's last good one, or the
//! compiled-in default), the refusal is kept for `status` and logged, and the same model is
//! not asked for again. No model from the hub yet: the compiled-in default
//! (`web::dupes`).
//!
//! `meta` keys: `dupes_model` (sealed: [`ModelInfo`] and the model JSON), `dupes_model_offered`
//! (the SHA-256 last offered, taken or refused), `dupes_model_refused` (a [`ModelRefusal`]).

use super::{Node, NodeError};
use crate::store::Tree;
use civreg_shared::limits::MAX_NODE_MODEL_BYTES;
use civreg_shared::linkage::Model;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const HELD: &[u8] = b"dupes_model";
const OFFERED: &[u8] = b"dupes_model_offered";
const REFUSED: &[u8] = b"dupes_model_refused";

/// The longest model id taken (the hub's ids are 20 digits).
const MAX_ID_CHARS: usize = 64;

/// The hub's model the duplicate check uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The hub's id of the model (`civreg-hub match models`).
    pub id: String,
    /// SHA-256 of its JSON, hex.
    pub sha256: String,
    /// People of the register it was trained on.
    pub trained_on: u64,
    /// Its Match and Possible thresholds, in bits.
    pub matched: f64,
    pub possible: f64,
    pub received_ms: u64,
}

/// A model the hub offered that failed the checks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRefusal {
    pub id: String,
    pub why: String,
    pub at_ms: u64,
}

/// What `status` shows of the duplicate check's model.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DupesModelStatus {
    /// The hub's model in use; `None`: the compiled-in default.
    pub hub: Option<ModelInfo>,
    /// The last model refused, if it came after the one in use.
    pub refused: Option<ModelRefusal>,
}

/// The hub's model in use, parsed.
pub struct HubModel {
    pub info: ModelInfo,
    pub model: Model,
}

#[derive(Serialize, Deserialize)]
struct Held {
    info: ModelInfo,
    model: String,
}

/// Checks a model the hub offers: the id, the size, the digest, then the model itself (every
/// field's levels, m and u in (0, 1], λ and the class probabilities in (0, 1), finite
/// thresholds, the name frequencies' u). Says why not.
pub fn check_offered(id: &str, sha256: &[u8], json: &[u8]) -> Result<Model, String> {
    if id.is_empty()
        || id.chars().count() > MAX_ID_CHARS
        || !id.chars().all(|c| c.is_ascii_alphanumeric())
    {
        return Err(format!(
            "the model id {:?} is not 1 to {MAX_ID_CHARS} letters and digits",
            id.chars().take(MAX_ID_CHARS).collect::<String>()
        ));
    }
    if json.len() > MAX_NODE_MODEL_BYTES {
        return Err(format!(
            "the model is {} bytes, more than the {MAX_NODE_MODEL_BYTES} taken",
            json.len()
        ));
    }
    let digest = ring::digest::digest(&ring::digest::SHA256, json);
    if digest.as_ref() != sha256 {
        return Err("the model does not match the SHA-256 the hub named for it".into());
    }
    let text = std::str::from_utf8(json).map_err(|_| "the model is not UTF-8 text".to_string())?;
    Model::from_json(text).map_err(|e| e.to_string())
}

impl Node {
    /// The SHA-256 of the model the hub last offered (taken or refused).
    pub fn dupes_model_offered(&self) -> Result<Option<Vec<u8>>, NodeError> {
        Ok(self.store.get(Tree::Meta, OFFERED)?)
    }

    /// The hub's model the duplicate check uses; `None`: none taken yet (the compiled-in
    /// default is used), or the one kept can not be read (logged).
    pub fn dupes_model(&self) -> Option<Arc<HubModel>> {
        let mut cache = self.dupes_model.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(m) = cache.as_ref() {
            return m.clone();
        }
        let loaded = match self.read_held() {
            Ok(m) => m.map(Arc::new),
            Err(why) => {
                tracing::warn!(%why, "the hub's matching model kept here can not be read; the built-in one is used");
                None
            }
        };
        *cache = Some(loaded.clone());
        loaded
    }

    fn read_held(&self) -> Result<Option<HubModel>, String> {
        let Some(sealed) = self
            .store
            .get(Tree::Meta, HELD)
            .map_err(|e| e.to_string())?
        else {
            return Ok(None);
        };
        let plain = self
            .crypto
            .open(Tree::Meta.name(), HELD, &sealed)
            .map_err(|e| e.to_string())?;
        let held: Held = serde_json::from_slice(&plain).map_err(|e| e.to_string())?;
        let model = Model::from_json(&held.model).map_err(|e| e.to_string())?;
        Ok(Some(HubModel {
            info: held.info,
            model,
        }))
    }

    /// Takes the model the hub offers (see the module docs): `Ok(Ok(info))` when it is used
    /// from now on, `Ok(Err(why))` when it was refused and the model held before stays.
    pub fn take_dupes_model(
        &self,
        id: &str,
        sha256: &[u8],
        json: &[u8],
    ) -> Result<Result<ModelInfo, String>, NodeError> {
        let now = (self.clock)();
        let checked = check_offered(id, sha256, json);
        let offered = sha256.iter().take(32).copied().collect::<Vec<u8>>();
        match checked {
            Ok(model) => {
                let info = ModelInfo {
                    id: id.to_string(),
                    sha256: hex::encode(&offered),
                    trained_on: model.training.records,
                    matched: model.thresholds.matched,
                    possible: model.thresholds.possible,
                    received_ms: now,
                };
                let held = Held {
                    info: info.clone(),
                    model: String::from_utf8_lossy(json).into_owned(),
                };
                let plain = serde_json::to_vec(&held).expect("a model record serialises");
                let sealed = self.crypto.seal(Tree::Meta.name(), HELD, &plain);
                self.write(|tx| {
                    let b = tx.batch();
                    b.put(Tree::Meta, HELD.to_vec(), sealed);
                    b.put(Tree::Meta, OFFERED.to_vec(), offered);
                    b.delete(Tree::Meta, REFUSED.to_vec());
                    Ok(())
                })?;
                *self.dupes_model.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some(Some(Arc::new(HubModel {
                        info: info.clone(),
                        model,
                    })));
                Ok(Ok(info))
            }
            Err(why) => {
                // What the model names (a level's name) may be long: the reason is bounded.
                let why: String = why
                    .chars()
                    .take(civreg_shared::limits::MAX_TEXT_CHARS)
                    .collect();
                let refusal = ModelRefusal {
                    id: id.chars().take(MAX_ID_CHARS).collect(),
                    why: why.clone(),
                    at_ms: now,
                };
                let r = serde_json::to_vec(&refusal).expect("a refusal serialises");
                self.write(|tx| {
                    let b = tx.batch();
                    b.put(Tree::Meta, OFFERED.to_vec(), offered);
                    b.put(Tree::Meta, REFUSED.to_vec(), r);
                    Ok(())
                })?;
                Ok(Err(why))
            }
        }
    }

    /// The model in use and the last refusal, for `status`.
    pub fn dupes_model_status(&self) -> Result<DupesModelStatus, NodeError> {
        let refused = self
            .store
            .get(Tree::Meta, REFUSED)?
            .and_then(|v| serde_json::from_slice(&v).ok());
        Ok(DupesModelStatus {
            hub: self.dupes_model().map(|m| m.info.clone()),
            refused,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compiled-in model's JSON, with `edit` applied, as the hub would offer it.
    fn offered(edit: impl FnOnce(&mut serde_json::Value)) -> (Vec<u8>, Vec<u8>) {
        let mut v: serde_json::Value =
            serde_json::from_str(include_str!("../web/dupes_model.json")).expect("the model");
        edit(&mut v);
        let json = serde_json::to_vec(&v).expect("json");
        let sha = ring::digest::digest(&ring::digest::SHA256, &json)
            .as_ref()
            .to_vec();
        (json, sha)
    }

    #[test]
    fn a_good_model_is_taken_kept_and_used_and_a_hostile_one_keeps_it() {
        let node = Node::in_memory("istog", "1").expect("node");
        assert!(node.dupes_model().is_none(), "the built-in model at first");
        let (json, sha) = offered(|v| v["thresholds"]["matched"] = 31.5.into());
        let info = node
            .take_dupes_model("00000000000000000042", &sha, &json)
            .expect("written")
            .expect("taken");
        assert_eq!(info.matched, 31.5);
        let held = node.dupes_model().expect("the hub's model");
        assert_eq!(held.info.id, "00000000000000000042");
        assert_eq!(held.model.thresholds.matched, 31.5);
        assert_eq!(node.dupes_model_offered().unwrap(), Some(sha.clone()));

        // Hostile models: each refused, saying why; the model taken before stays in use.
        let level = |v: &mut serde_json::Value, what: &str, x: serde_json::Value| {
            v["fields"][0]["levels"][0][what] = x;
        };
        let cases: Vec<(&str, Vec<u8>, Vec<u8>)> = vec![
            {
                // NaN is no JSON number: a model that says "NaN" does not parse.
                let (j, s) = offered(|v| v["lambda"] = "NaN".into());
                ("NaN", j, s)
            },
            {
                let (j, s) = offered(|v| level(v, "m", 1.5.into()));
                ("m = 1.5", j, s)
            },
            {
                let (j, s) = offered(|v| level(v, "u", 0.into()));
                ("u = 0", j, s)
            },
            {
                let (j, s) = offered(|v| v["thresholds"]["possible"] = 1e308.into());
                ("possible above match", j, s)
            },
            {
                let (j, s) = offered(|v| {
                    let counts = v["given_tf"]["counts"].as_object_mut().expect("counts");
                    for i in 0..(MAX_NODE_MODEL_BYTES / 10) {
                        counts.insert(format!("k{i:08}"), 1.into());
                    }
                });
                ("oversized", j, s)
            },
            {
                let (j, _) = offered(|_| {});
                ("another digest", j, vec![0; 32])
            },
        ];
        for (what, json, sha) in cases {
            let why = node
                .take_dupes_model("00000000000000000043", &sha, &json)
                .expect("written")
                .expect_err(what);
            assert!(!why.is_empty(), "{what}");
            let held = node.dupes_model().expect("still the hub's model");
            assert_eq!(held.info.id, "00000000000000000042", "{what}: {why}");
            let st = node.dupes_model_status().unwrap();
            assert_eq!(
                st.refused.map(|r| r.id).as_deref(),
                Some("00000000000000000043")
            );
            // Not asked for again: the node says it was offered this one.
            assert_eq!(node.dupes_model_offered().unwrap(), Some(sha), "{what}");
        }
        // A bad id is refused too.
        let (json, sha) = offered(|_| {});
        assert!(node
            .take_dupes_model("../../x", &sha, &json)
            .unwrap()
            .is_err());
    }

    #[test]
    fn the_model_taken_is_read_back_after_a_restart() {
        let dir = tempfile::tempdir().expect("dir");
        let paths = crate::node::Paths::new(&dir.path().join("data"), None);
        Node::init(&paths, "istog", "1").expect("init");
        let (json, sha) = offered(|v| v["thresholds"]["possible"] = 12.25.into());
        {
            let node = Node::open(&paths).expect("open");
            node.take_dupes_model("7", &sha, &json)
                .unwrap()
                .expect("taken");
        }
        let node = Node::open(&paths).expect("open again");
        let held = node.dupes_model().expect("kept offline");
        assert_eq!(
            (held.info.id.as_str(), held.model.thresholds.possible),
            ("7", 12.25)
        );
    }
}
