//! Issue 16, "a trained model is saved and versioned, reused by import, match and the duplicate
//! check": the office's duplicate check uses the hub's current matching model, delivered with
//! the heartbeat, and the next one after the hub retrains. A real hub, the real `civreg-hub`
//! and `civreg-node` binaries, mutual TLS. (Hostile models are refused by the node's own
//! check: `node/src/node/dupes_model.rs`.)

use civreg_testkit::prelude as common;

use serde_json::Value;
use std::path::Path;

/// A register of `n` synthetic births of Istog, as a CSV the import takes.
fn register_csv(dir: &Path, n: u64) -> std::path::PathBuf {
    let out = dir.join("synth");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_civreg-hub"))
        .arg("--data-dir")
        .arg(dir.join("scratch"))
        .args([
            "synth",
            "--records",
            &n.to_string(),
            "--seed",
            "16",
            "--out",
        ])
        .arg(&out)
        .output()
        .expect("run civreg-hub synth");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(out.join("records.csv")).unwrap();
    // The import names the municipality: the generated column is dropped.
    let mut rdr = csv::Reader::from_reader(text.as_bytes());
    let header = rdr.headers().unwrap().clone();
    let drop = header.iter().position(|h| h == "municipality");
    let mut w = csv::Writer::from_writer(Vec::new());
    let keep = |r: &csv::StringRecord| -> Vec<String> {
        r.iter()
            .enumerate()
            .filter(|(i, _)| Some(*i) != drop)
            .map(|(_, c)| c.to_string())
            .collect()
    };
    w.write_record(keep(&header)).unwrap();
    for r in rdr.records() {
        w.write_record(keep(&r.unwrap())).unwrap();
    }
    let path = dir.join("register.csv");
    std::fs::write(&path, w.into_inner().unwrap()).unwrap();
    path
}

async fn sync(office: &Path) {
    let out = common::node(office, &["--json", "sync", "--once"]).await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        common::describe(&["sync"], &out)
    );
}

/// The model the office's duplicate check uses, as `status` shows it.
async fn office_model(office: &Path) -> Value {
    let status = common::node_json(office, &["--json", "status"]).await;
    status["dupes_model"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_offices_duplicate_check_takes_the_hubs_model_and_the_next_after_a_retraining() {
    let hub = common::Hub::start().await;
    let nodes = tempfile::tempdir().unwrap();
    let office = nodes.path().join("istog-1");
    common::enrol_node(&office, &hub.bundle("istog", "1")).await;

    // No model at the hub yet: the office keeps its built-in one.
    sync(&office).await;
    let m = office_model(&office).await;
    assert!(m["hub"].is_null(), "{m}");

    // A register, and a model trained on it.
    let csv = register_csv(nodes.path(), 400);
    let imported = common::hub_ok_json_async(
        hub.data_dir(),
        &[
            "import",
            csv.to_str().unwrap(),
            "--municipality",
            "istog",
            "--operator",
            "ana",
        ],
    )
    .await;
    assert!(!imported["imported"].as_array().unwrap().is_empty());
    let first =
        common::hub_ok_json_async(hub.data_dir(), &["match", "train", "--operator", "ana"]).await;
    let first_id = first["id"].as_str().unwrap().to_string();

    sync(&office).await;
    let m = office_model(&office).await;
    assert_eq!(m["hub"]["id"], first_id.as_str(), "{m}");
    assert_eq!(m["hub"]["trained_on"], first["people"], "{m}");
    let close = |a: &Value, b: &Value| (a.as_f64().unwrap() - b.as_f64().unwrap()).abs() < 1e-9;
    assert!(
        close(&m["hub"]["matched"], &first["thresholds"]["matched"]),
        "{m} {first}"
    );
    assert!(
        close(&m["hub"]["possible"], &first["thresholds"]["possible"]),
        "{m} {first}"
    );
    assert!(m["refused"].is_null(), "{m}");
    let received = m["hub"]["received_ms"].clone();

    // A round with no new model sends none: the office keeps the same one, as received.
    sync(&office).await;
    let again = office_model(&office).await;
    assert_eq!(again["hub"]["received_ms"], received, "{again}");

    // The hub retrains: the office takes the new model at its next round.
    let second =
        common::hub_ok_json_async(hub.data_dir(), &["match", "train", "--operator", "ana"]).await;
    let second_id = second["id"].as_str().unwrap();
    assert_ne!(second_id, first_id);
    sync(&office).await;
    let m = office_model(&office).await;
    assert_eq!(m["hub"]["id"], second_id, "{m}");
    assert_eq!(m["hub"]["trained_on"], second["people"], "{m}");
    assert!(
        close(&m["hub"]["matched"], &second["thresholds"]["matched"]),
        "{m} {second}"
    );

    // Offline, the office still holds it (kept in its store): `status` without the hub.
    hub.stop().await;
    let m = office_model(&office).await;
    assert_eq!(m["hub"]["id"], second_id, "{m}");
}
