//! Issue 16, "missing values are evidence of nothing": a historic register entry whose given
//! name can not be read (a child's, a parent's, a spouse's, the deceased's) is imported centrally (marked, and filed for review at the hub), an
//! entry with neither name is still refused, identical rows without a register reference are
//! reported as suspected double entries and imported, and the municipality's office pulls the
//! marked record without stopping. A real hub, the real `civreg-hub` and `civreg-node`
//! binaries, mutual TLS.

use civreg_testkit::prelude as common;

const CSV: &str = "\
kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname
birth,B-1,1968,1,1,Arben,Gashi,m,07.03.1968,Istog,Drita,Gashi
birth,B-1,1968,1,2,,Krasniqi,f,01.04.1968,Istog,Shpresa,Krasniqi
birth,B-1,1968,1,3,,,m,01.05.1968,Istog,Vjosa,Berisha
birth,,,,,,Hoxha,m,01.01.1969,Istog,Mimoza,Hoxha
birth,,,,,,Hoxha,m,01.01.1969,Istog,Mimoza,Hoxha
";

/// A marriage whose first spouse's given name is illegible, and a death whose deceased's is.
const MARRIAGE_DEATH: &str = "\
kind,register.book,register.year,register.page,register.entry,spouse1.given_name,spouse1.surname_before,spouse1.surname_after,spouse1.sex,spouse1.date_of_birth,spouse2.given_name,spouse2.surname_before,spouse2.surname_after,spouse2.sex,spouse2.date_of_birth,date_of_marriage,place_of_marriage,deceased.given_name,deceased.surname,deceased.sex,deceased.date_of_birth,date_of_death,place_of_death
marriage,M-1,1970,1,1,,Gashi,Gashi,m,07.03.1945,Shpresa,Krasniqi,Gashi,f,01.04.1948,12.06.1970,Istog,,,,,,
death,D-1,1971,1,1,,,,,,,,,,,,,,Berisha,m,01.01.1900,02.02.1971,Istog
";

/// `civreg-hub import FILE --municipality istog --operator ana`: exit code and JSON report.
async fn import_pages(
    hub: &common::Hub,
    file: &std::path::Path,
) -> (Option<i32>, serde_json::Value) {
    common::hub_json(
        hub.data_dir(),
        &[
            "import",
            file.to_str().unwrap(),
            "--municipality",
            "istog",
            "--operator",
            "ana",
        ],
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_entry_without_a_given_name_is_imported_marked_filed_for_review_and_pulled_by_the_office(
) {
    let hub = common::Hub::start().await;
    let nodes = tempfile::tempdir().unwrap();
    let office = nodes.path().join("istog-1");
    common::enrol_node(&office, &hub.bundle("istog", "1")).await;
    let file = nodes.path().join("pages.csv");
    std::fs::write(&file, CSV).unwrap();

    let (code, r) = import_pages(&hub, &file).await;
    // A row was refused (neither name): exit 1, with the whole report.
    assert_eq!(code, Some(1), "{r}");
    let rejected = r["rejected"].as_array().unwrap();
    assert_eq!(rejected.len(), 1, "{r}");
    assert_eq!(rejected[0]["line"], 4, "{r}");
    assert!(
        rejected[0]["reasons"].to_string().contains("child.surname"),
        "{r}"
    );
    // The others are imported: the three without a given name marked and counted.
    let imported = r["imported"].as_array().unwrap();
    assert_eq!(imported.len(), 4, "{r}");
    assert_eq!(r["illegible"], 3, "{r}");
    let at = |line: u64| {
        imported
            .iter()
            .find(|i| i["line"] == line)
            .unwrap_or_else(|| panic!("line {line} imported: {r}"))
    };
    assert!(
        at(3)["warnings"].to_string().contains("illegible"),
        "{}",
        at(3)
    );
    // The identical row without a register reference: imported, reported as a double entry.
    let doubles = r["double_entries"].as_array().unwrap();
    assert_eq!(doubles.len(), 1, "{r}");
    assert_eq!(doubles[0]["line"], 6);
    assert_eq!(doubles[0]["same_as_line"], 5);
    let illegible_regno = at(3)["regno"].as_str().unwrap().to_string();

    // Filed for review at the hub.
    let (code, w) = common::hub_json(
        hub.data_dir(),
        &["duplicates", "illegible", "--municipality", "istog"],
    )
    .await;
    assert_eq!(code, Some(0), "{w}");
    assert_eq!(w["total"], 3, "{w}");
    let e = w["entries"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["regno"] == illegible_regno.as_str())
        .unwrap_or_else(|| panic!("{illegible_regno} listed: {w}"));
    assert_eq!(e["role"], "child");
    assert_eq!(e["surname"], "Krasniqi");
    assert_eq!(e["line"], 3);
    assert_eq!(e["operator"], "ana");
    // Another municipality's list does not hold it.
    let (_, other) = common::hub_json(
        hub.data_dir(),
        &["duplicates", "illegible", "--municipality", "peje"],
    )
    .await;
    assert_eq!(other["total"], 0, "{other}");

    // A marriage whose first spouse's given name can not be read, and a death whose deceased's
    // can not: imported the same way, marked, and filed for review with the surname.
    let pages2 = nodes.path().join("pages2.csv");
    std::fs::write(&pages2, MARRIAGE_DEATH).unwrap();
    let (code, r) = import_pages(&hub, &pages2).await;
    assert_eq!(code, Some(0), "{r}");
    assert_eq!(r["imported"].as_array().unwrap().len(), 2, "{r}");
    assert_eq!(r["illegible"], 2, "{r}");
    let marriage_regno = r["imported"][0]["regno"].as_str().unwrap().to_string();
    let (_, w) = common::hub_json(
        hub.data_dir(),
        &["duplicates", "illegible", "--municipality", "istog"],
    )
    .await;
    assert_eq!(w["total"], 5, "{w}");
    let filed: Vec<(String, String)> = w["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["role"].as_str().unwrap().to_string(),
                e["surname"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for (role, surname) in [("spouse1", "Gashi"), ("deceased", "Berisha")] {
        assert!(
            filed.contains(&(role.to_string(), surname.to_string())),
            "{role} {surname} filed: {w}"
        );
    }

    // The office pulls the marked records (its own check of each op accepts them) and does not
    // stop: two rounds succeed, and the record reads as imported.
    for _ in 0..2 {
        let out = common::node(&office, &["--json", "sync", "--once"]).await;
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            common::describe(&["sync"], &out)
        );
    }
    let shown = common::node_json(&office, &["--json", "show", &illegible_regno]).await;
    assert_eq!(
        shown["record"]["child"]["given_name_illegible"], true,
        "{shown}"
    );
    assert_eq!(shown["record"]["child"]["surname"], "Krasniqi", "{shown}");
    let shown = common::node_json(&office, &["--json", "show", &marriage_regno]).await;
    assert_eq!(
        shown["record"]["spouse1"]["given_name_illegible"], true,
        "{shown}"
    );
    let status = common::node_json(&office, &["--json", "status"]).await;
    assert!(
        status["guard"]["halted"].is_null(),
        "the office stopped: {status}"
    );
    let node_digest = common::node_json(&office, &["--json", "digest"]).await;
    let (_, hub_digest) =
        common::hub_json(hub.data_dir(), &["digest", "--municipality", "istog"]).await;
    assert_eq!(node_digest["sha256"], hub_digest["sha256"]);
    // The four births and the marriage and the death.
    assert_eq!(hub_digest["records"], 6);
}

/// A node older than the marked field (it sends no `reads_format`) would stop at the first marked
/// op, every pull: the hub holds its feed back just before it, says on `status` that the office
/// must be upgraded and where its feed waits, and sends the rest once the office reads the
/// format (and the note goes).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_older_office_is_not_sent_a_record_it_can_not_read_and_the_hub_says_so() {
    let hub = common::Hub::start().await;
    let d = tempfile::tempdir().unwrap();
    let file = d.path().join("pages.csv");
    std::fs::write(&file, CSV).unwrap();
    let (_, r) = import_pages(&hub, &file).await;
    let imported = r["imported"].as_array().unwrap();
    assert_eq!(imported.len(), 4, "{r}");
    let marked = imported
        .iter()
        .find(|i| i["line"] == 3)
        .unwrap_or_else(|| panic!("line 3 imported: {r}"))["regno"]
        .as_str()
        .unwrap()
        .to_string();

    let issued = hub.issue("istog", "2");
    let mut old = hub.client(&issued).await;
    // Line 2 (a legible birth) comes first in the feed; line 3 is marked.
    let batches = common::pull_reading(&mut old, 0, 1000, 0).await.unwrap();
    let ops: Vec<_> = batches.iter().flat_map(|b| b.0.iter()).collect();
    assert_eq!(ops.len(), 1, "{ops:?}");
    assert!(ops.iter().all(|o| o.reader_format() == 1));
    let cursor = batches.last().unwrap().1;
    // Asked again, from where it stands: nothing (the cursor does not move past the record).
    let again = common::pull_reading(&mut old, cursor, 1000, 0)
        .await
        .unwrap();
    assert!(again.is_empty(), "{again:?}");

    let held = |st: &serde_json::Value| {
        let chains = if st["chains"].is_array() {
            &st["chains"]
        } else {
            &st["status"]["chains"]
        };
        chains
            .as_array()
            .unwrap_or_else(|| panic!("chains in {st}"))
            .iter()
            .find(|c| c["node"] == "istog/2")
            .and_then(|c| c["held_back"].as_str().map(str::to_string))
    };
    let mut st = serde_json::Value::Null;
    for _ in 0..50 {
        st = common::hub_json(hub.data_dir(), &["status"]).await.1;
        if held(&st).is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    let why = held(&st).unwrap_or_else(|| panic!("istog/2 held back: {st}"));
    assert!(
        why.contains(&marked) && why.contains("upgrade civreg-node"),
        "{why}"
    );
    let out = std::process::Command::new(common::hub_bin())
        .args(["--data-dir", hub.data_dir().to_str().unwrap(), "status"])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(text.contains("WAITS FOR AN UPGRADE"), "{text}");

    // Upgraded: the rest comes, and the note goes.
    let new = common::pull(&mut old, cursor, 1000).await.unwrap();
    let rest: Vec<_> = new.iter().flat_map(|b| b.0.iter()).collect();
    assert_eq!(rest.len(), 3, "{rest:?}");
    assert!(rest.iter().any(|o| o.record_id == marked));
    let mut cleared = false;
    for _ in 0..50 {
        let st = common::hub_json(hub.data_dir(), &["status"]).await.1;
        if held(&st).is_none() {
            cleared = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(cleared, "the note stays after the office caught up");
}
