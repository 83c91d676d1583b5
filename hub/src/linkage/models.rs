//! Saved matching models (issue 16): the Fellegi-Sunter model trained on the register is kept,
//! versioned, and reused by `match dedupe`, `match link` and the central `import`, instead of
//! training again on every run (at 3.1 million people a training is minutes of work). It is
//! trained again only by command (`civreg-hub match train`), or when no usable model is saved.
//!
//! The models live in the hub's store, under the `aux` prefix [`MODELS`], not as files: a model
//! carries the register's given-name and surname frequencies, so it is sealed at rest with the
//! rest of the register, goes into the hub's backups, and is shared by every hub process over
//! one database. Keys:
//! - `model/saved/ID` → a saved model and what it was trained on (JSON); `ID` is the training
//!   time in milliseconds, zero-padded, so the keys sort by age;
//! - `model/current` → the `ID` in use.
//!
//! A saved model whose format this version does not know (`Model::check`) is not used: it is
//! reported, and a new one is trained and saved. The last [`KEEP`] models are kept.

use crate::linkage::matching::{train, MatchError};
use crate::store::aux::{aux_key, MODELS};
use crate::store::HubStore;
use civreg_shared::linkage::{Model, PersonRecord, Thresholds};
use serde::{Deserialize, Serialize};

/// How many saved models are kept (the current one and those before it).
pub const KEEP: usize = 5;

const SAVED: &str = "saved/";
const CURRENT: &str = "current";

/// What a saved model was trained on, and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelInfo {
    /// The model's id: its training time in milliseconds since 1970, zero-padded.
    pub id: String,
    pub trained_at_ms: u64,
    /// People of the register it was trained on.
    pub people: u64,
    /// The model's layout version (`civreg_shared::linkage::MODEL_FORMAT` when it was saved).
    pub format: u32,
    /// Prior probability that two people of the training set are the same person.
    pub lambda: f64,
    /// The Match and Possible thresholds for a register of the training set's size.
    pub thresholds: Thresholds,
    /// Who asked for it: an operator's command, or the first run that needed a model.
    pub by: String,
    /// Whether this is the model in use (in listings).
    #[serde(default)]
    pub current: bool,
}

#[derive(Serialize, Deserialize)]
struct Saved {
    info: ModelInfo,
    /// The model as JSON text ([`Model::to_json`]), parsed and checked when it is used.
    model: String,
}

/// Which model a run used, for its report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelUse {
    /// The saved model's id.
    pub id: String,
    pub trained_at_ms: u64,
    /// People of the register it was trained on.
    pub trained_on: u64,
    /// Trained by this run (no usable model was saved, or the operator asked for it).
    pub trained_now: bool,
    /// A note for the operator: why a model was trained now, or that the register has changed
    /// much since the model was trained.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

fn saved_key(id: &str) -> Vec<u8> {
    aux_key(MODELS, &format!("{SAVED}{id}"))
}

fn read(store: &HubStore, id: &str) -> Result<Option<Saved>, MatchError> {
    let Some(bytes) = store.aux_get(&saved_key(id))? else {
        return Ok(None);
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| MatchError::Model(format!("saved model {id} can not be read: {e}")))
}

/// The id of the model in use, if one was saved.
pub fn current_id(store: &HubStore) -> Result<Option<String>, MatchError> {
    Ok(store
        .aux_get(&aux_key(MODELS, CURRENT))?
        .map(|b| String::from_utf8_lossy(&b).into_owned()))
}

/// A saved model and what it was trained on, or why it can not be used.
pub type Usable = Result<(ModelInfo, Model), String>;

/// The model in use: its id, and the model with what it was trained on, or why it can not be
/// used (another version's format, damage, a missing entry).
pub fn current(store: &HubStore) -> Result<Option<(String, Usable)>, MatchError> {
    let Some(id) = current_id(store)? else {
        return Ok(None);
    };
    let usable = match read(store, &id) {
        Ok(Some(saved)) => Model::from_json(&saved.model)
            .map_err(|e| e.to_string())
            .map(|m| (saved.info, m)),
        Ok(None) => Err("it is missing from the store".to_string()),
        Err(e) => Err(e.to_string()),
    };
    Ok(Some((id, usable)))
}

/// Every saved model, newest first.
pub fn list(store: &HubStore) -> Result<Vec<ModelInfo>, MatchError> {
    let current = current_id(store)?;
    let mut out = Vec::new();
    for kv in store.aux_scan(&aux_key(MODELS, SAVED)) {
        let (_, v) = kv?;
        let saved: Saved = serde_json::from_slice(&v)
            .map_err(|e| MatchError::Model(format!("a saved model can not be read: {e}")))?;
        let mut info = saved.info;
        info.current = current.as_deref() == Some(info.id.as_str());
        out.push(info);
    }
    out.reverse();
    Ok(out)
}

/// Saves `model` as the current one, and forgets all but the last [`KEEP`].
pub fn save(store: &HubStore, model: &Model, by: &str) -> Result<ModelInfo, MatchError> {
    let mut now = civreg_runtime::clock::now_ms();
    // Two trainings within one millisecond get distinct ids.
    while store.aux_get(&saved_key(&format!("{now:020}")))?.is_some() {
        now += 1;
    }
    let id = format!("{now:020}");
    let info = ModelInfo {
        id: id.clone(),
        trained_at_ms: now,
        people: model.training.records,
        format: model.format,
        lambda: model.lambda,
        thresholds: model.thresholds,
        by: by.to_string(),
        current: true,
    };
    let saved = Saved {
        info: info.clone(),
        model: model.to_json(),
    };
    let bytes = serde_json::to_vec(&saved)
        .map_err(|e| MatchError::Model(format!("the model can not be written: {e}")))?;
    let mut writes = vec![
        (saved_key(&id), Some(bytes)),
        (aux_key(MODELS, CURRENT), Some(id.as_bytes().to_vec())),
    ];
    // The oldest beyond KEEP (counting the new one) go.
    let mut ids: Vec<Vec<u8>> = Vec::new();
    for kv in store.aux_scan(&aux_key(MODELS, SAVED)) {
        ids.push(kv?.0);
    }
    let excess = (ids.len() + 1).saturating_sub(KEEP);
    writes.extend(ids.into_iter().take(excess).map(|k| (k, None)));
    store.aux_write(&writes)?;
    Ok(info)
}

/// The current model as the offices' duplicate check gets it (issue 16, sent with the heartbeat
/// reply, `sync::service`): the model in use, its name frequencies cut to the commonest keys so
/// that its JSON holds at most [`MAX_NODE_MODEL_BYTES`] (a key cut off counts as a name seen
/// once, as a name the training never saw: at a register's size, only rare names are cut, and
/// they weigh a little more than they would), and the SHA-256 of that JSON.
#[derive(Debug, Clone)]
pub struct NodeModel {
    pub id: String,
    pub sha256: [u8; 32],
    pub json: std::sync::Arc<Vec<u8>>,
}

pub use civreg_shared::limits::MAX_NODE_MODEL_BYTES;

/// The names of one frequency table kept: the `keep` commonest (ties by key).
fn cut(tf: &mut civreg_shared::linkage::TermFrequencies, keep: usize) {
    if tf.counts.len() <= keep {
        return;
    }
    let mut all: Vec<(String, u64)> = std::mem::take(&mut tf.counts).into_iter().collect();
    all.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    all.truncate(keep);
    tf.counts = all.into_iter().collect();
}

/// [`NodeModel`] of `model` saved as `id`; `None` when even without name frequencies it would
/// not fit (a model of another shape: not sent).
pub fn node_model(id: &str, model: &Model) -> Option<NodeModel> {
    let mut m = model.clone();
    // What the training report says of blocking and EM is of no use to a duplicate check.
    m.training.sessions.clear();
    let mut keep = m.given_tf.counts.len().max(m.surname_tf.counts.len());
    loop {
        cut(&mut m.given_tf, keep);
        cut(&mut m.surname_tf, keep);
        let json = m.to_json().into_bytes();
        if json.len() <= MAX_NODE_MODEL_BYTES {
            let sha256 = ring::digest::digest(&ring::digest::SHA256, &json)
                .as_ref()
                .try_into()
                .expect("SHA-256 is 32 bytes");
            return Some(NodeModel {
                id: id.to_string(),
                sha256,
                json: std::sync::Arc::new(json),
            });
        }
        if keep == 0 {
            return None;
        }
        // Each key costs about the same: cut to what should fit, and at least by a quarter.
        let ratio = MAX_NODE_MODEL_BYTES as f64 / json.len() as f64;
        keep = ((keep as f64 * ratio * 0.95) as usize).min(keep - keep.div_ceil(4));
    }
}

/// The current model for the offices, or `None` when none is saved or it can not be used.
pub fn current_for_nodes(store: &HubStore) -> Result<Option<NodeModel>, MatchError> {
    Ok(match current(store)? {
        Some((id, Ok((_, model)))) => node_model(&id, &model),
        _ => None,
    })
}

/// The current [`NodeModel`], made once per model id (each heartbeat reads only the current
/// id; the model is read, cut and hashed again only when it changed).
#[derive(Default)]
pub struct NodeModelCache(std::sync::Mutex<Option<(Option<String>, Option<NodeModel>)>>);

impl NodeModelCache {
    pub fn get(&self, store: &HubStore) -> Result<Option<NodeModel>, MatchError> {
        let id = current_id(store)?;
        let mut held = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((held_id, m)) = held.as_ref() {
            if *held_id == id {
                return Ok(m.clone());
            }
        }
        let m = current_for_nodes(store)?;
        *held = Some((id, m.clone()));
        Ok(m)
    }
}

/// Trains a model on `people` and saves it as the current one.
pub fn train_and_save(
    store: &HubStore,
    people: &[PersonRecord],
    by: &str,
) -> Result<(Model, ModelInfo), MatchError> {
    let model = train(people)?;
    let info = save(store, &model, by)?;
    Ok((model, info))
}

/// The model a run over `people` (the register, as it stands) uses: the saved one, or, when none
/// can be used or `retrain` is asked, one trained now and saved. The report says which.
pub fn model_for(
    store: &HubStore,
    people: &[PersonRecord],
    retrain: bool,
    by: &str,
) -> Result<(Model, ModelUse), MatchError> {
    let mut note = None;
    if !retrain {
        match current(store)? {
            Some((_, Ok((info, model)))) => {
                let now = people.len() as u64;
                let then = info.people.max(1);
                let note = (now > then.saturating_mul(2) || now.saturating_mul(2) < then).then(|| {
                    format!(
                        "the model was trained on {then} people and the register now names {now}: train it again with `civreg-hub match train`"
                    )
                });
                return Ok((
                    model,
                    ModelUse {
                        id: info.id,
                        trained_at_ms: info.trained_at_ms,
                        trained_on: info.people,
                        trained_now: false,
                        note,
                    },
                ));
            }
            Some((id, Err(why))) => {
                tracing::warn!(model = %id, %why, "the saved matching model can not be used; training a new one");
                note = Some(format!(
                    "the saved model {id} could not be used ({why}): a new one was trained"
                ));
            }
            None => {
                note = Some("no model was saved yet: one was trained and saved".to_string());
            }
        }
    }
    let (model, info) = train_and_save(store, people, by)?;
    Ok((
        model,
        ModelUse {
            id: info.id,
            trained_at_ms: info.trained_at_ms,
            trained_on: info.people,
            trained_now: true,
            note,
        },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use civreg_shared::synth::population::{Population, PopulationConfig};

    fn store() -> HubStore {
        HubStore::open_memory(civreg_shared::seal::Sealer::new(b"civreg-hub", &[3; 32]))
            .expect("a memory store")
    }

    fn people() -> Vec<PersonRecord> {
        let mut out = Vec::new();
        for (i, r) in Population::new(PopulationConfig::new(5, 600)).enumerate() {
            let Ok(rec) = r.record() else { continue };
            out.extend(PersonRecord::from_record(&format!("R{i}"), &rec, |_, n| {
                format!("t{n}")
            }));
        }
        out
    }

    #[test]
    fn the_first_run_trains_and_saves_and_the_next_reuses_the_same_model() {
        let (store, people) = (store(), people());
        let (a, first) = model_for(&store, &people, false, "test").expect("trained");
        assert!(first.trained_now && first.note.is_some(), "{first:?}");
        let (b, second) = model_for(&store, &people, false, "test").expect("reused");
        assert!(!second.trained_now, "{second:?}");
        assert_eq!(second.id, first.id);
        // The saved model comes back as it was (to the last bit or so of each number: JSON).
        let close = |x: f64, y: f64| (x - y).abs() <= 1e-12 * x.abs().max(1.0);
        assert!(close(a.lambda, b.lambda) && close(a.thresholds.matched, b.thresholds.matched));
        for (fa, fb) in a.fields.iter().zip(&b.fields) {
            for (la, lb) in fa.levels.iter().zip(&fb.levels) {
                assert!(
                    close(la.m, lb.m) && close(la.u, lb.u),
                    "{}",
                    fa.field.as_str()
                );
            }
        }
        assert_eq!(a.given_tf.counts, b.given_tf.counts);
        // Asked to retrain: a new model, now the current one.
        let (_, third) = model_for(&store, &people, true, "test").expect("retrained");
        assert!(third.trained_now && third.id != first.id);
        let listed = list(&store).expect("list");
        assert_eq!(listed.len(), 2);
        assert!(listed[0].current && listed[0].id == third.id, "{listed:?}");
        assert!(!listed[1].current);
    }

    #[test]
    fn a_model_of_another_format_is_not_used_but_replaced_and_said_so() {
        let (store, people) = (store(), people());
        let (_, first) = model_for(&store, &people, false, "test").expect("trained");
        // Rewrite the saved model as a later version would have written it.
        let key = saved_key(&first.id);
        let mut saved: serde_json::Value =
            serde_json::from_slice(&store.aux_get(&key).unwrap().unwrap()).unwrap();
        let mut model: serde_json::Value =
            serde_json::from_str(saved["model"].as_str().unwrap()).unwrap();
        model["format"] = 999.into();
        saved["model"] = model.to_string().into();
        store
            .aux_write(&[(key, Some(serde_json::to_vec(&saved).unwrap()))])
            .unwrap();
        let (_, next) = model_for(&store, &people, false, "test").expect("trained again");
        assert!(next.trained_now, "{next:?}");
        assert!(
            next.note.as_deref().is_some_and(|n| n.contains("999")),
            "{next:?}"
        );
        assert_ne!(next.id, first.id);
    }

    #[test]
    fn the_offices_get_the_current_model_cut_to_fit_and_its_digest() {
        let (store, people) = (store(), people());
        assert!(
            current_for_nodes(&store).unwrap().is_none(),
            "no model saved yet"
        );
        let (model, used) = model_for(&store, &people, false, "test").expect("trained");
        let nm = current_for_nodes(&store)
            .unwrap()
            .expect("the current model");
        assert_eq!(nm.id, used.id);
        let digest = ring::digest::digest(&ring::digest::SHA256, &nm.json);
        assert_eq!(digest.as_ref(), nm.sha256.as_slice());
        let sent = Model::from_json(std::str::from_utf8(&nm.json).unwrap()).expect("checks");
        assert_eq!(
            sent.given_tf.counts, model.given_tf.counts,
            "small: nothing cut"
        );
        // A register with many more names than fit: the commonest are kept, and it fits.
        let mut big = model.clone();
        for i in 0..200_000u64 {
            big.surname_tf.counts.insert(format!("s{i:07}"), 1 + i % 7);
        }
        big.surname_tf.counts.insert("gash".into(), 1_000_000);
        let nm = node_model("9", &big).expect("fits once cut");
        assert!(nm.json.len() <= MAX_NODE_MODEL_BYTES, "{}", nm.json.len());
        let sent = Model::from_json(std::str::from_utf8(&nm.json).unwrap()).expect("checks");
        assert!(sent.surname_tf.counts.len() < big.surname_tf.counts.len());
        assert_eq!(sent.surname_tf.counts.get("gash"), Some(&1_000_000));
        assert_eq!(sent.surname_tf.total, big.surname_tf.total);
        let least_kept = sent.surname_tf.counts.values().min().copied().unwrap();
        let dropped_max = big
            .surname_tf
            .counts
            .iter()
            .filter(|(k, _)| !sent.surname_tf.counts.contains_key(*k))
            .map(|(_, c)| *c)
            .max()
            .unwrap();
        assert!(dropped_max <= least_kept, "{dropped_max} > {least_kept}");
    }

    #[test]
    fn only_the_last_few_models_are_kept() {
        let (store, people) = (store(), people());
        let model = train(&people).expect("trained");
        for _ in 0..KEEP + 3 {
            save(&store, &model, "test").expect("saved");
        }
        let listed = list(&store).expect("list");
        assert_eq!(listed.len(), KEEP);
        assert_eq!(listed.iter().filter(|m| m.current).count(), 1);
        assert!(listed[0].current, "the newest is in use");
    }

    #[test]
    fn a_register_that_grew_much_is_pointed_out() {
        let (store, people) = (store(), people());
        let small = &people[..people.len() / 3];
        model_for(&store, small, false, "test").expect("trained");
        let (_, used) = model_for(&store, &people, false, "test").expect("reused");
        assert!(!used.trained_now);
        assert!(
            used.note
                .as_deref()
                .is_some_and(|n| n.contains("match train")),
            "{used:?}"
        );
    }
}
