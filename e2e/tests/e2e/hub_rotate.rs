//! Key rotation at the hub (issue 17), through the real binaries: a hub holding records pushed
//! by a real node (one with a personal number) and rows of a central import; `rotate-key`
//! refused while the hub serves; `rotate-key` SIGKILLed among the record states, `--resume`
//! SIGKILLed again in `aux`, every command and `serve` refused with a message to resume, then
//! `--resume` to the end; `rotate-search-key` SIGKILLed among the import keys, refused the same
//! way, resumed. Then the hub serves: the digests are those of before, a search by the personal
//! number finds the record (and the old search key's token finds nothing in the new index), a
//! rerun of the import imports nothing twice, the node syncs, and the old key file no longer
//! opens the database.

use civreg_testkit::fleet::*;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const JMBG: &str = "1403968950011";
const RECORDS: u64 = 120;
/// Rows of the central import without a register entry (keyed by tokens of the search key).
const IMPORTED: usize = 120;

fn hub_cmd(dir: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(hub_bin());
    c.arg("--data-dir").arg(dir).args(args);
    c
}

fn hub(dir: &Path, args: &[&str]) -> Output {
    hub_cmd(dir, args).output().expect("run civreg-hub")
}

fn hub_ok(dir: &Path, args: &[&str]) -> Output {
    let out = hub(dir, args);
    assert!(
        out.status.success(),
        "{}",
        describe(&format!("civreg-hub {args:?}"), &out)
    );
    out
}

fn json_of(out: &Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", describe("civreg-hub", out)))
}

/// Runs `args` and SIGKILLs it at the `nth` progress line that names `marker`. Its standard
/// error is a pipe of one page, not read after that line: the rotation blocks on its next
/// progress lines instead of running to its end before the kill lands (it has far more than a
/// page of them left).
fn kill_at(dir: &Path, args: &[&str], marker: &str, nth: u64) {
    let mut child = hub_cmd(dir, args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn civreg-hub");
    let stderr = child.stderr.take().expect("stderr");
    rustix::pipe::fcntl_setpipe_size(&stderr, 4096).expect("shrink the progress pipe");
    let mut lines = BufReader::new(stderr).lines();
    let mut seen = Vec::new();
    let mut hits = 0;
    while hits < nth {
        let line = lines
            .next()
            .unwrap_or_else(|| panic!("{args:?} ended before {marker} #{nth}: {seen:#?}"))
            .expect("read the rotation's progress");
        hits += u64::from(line.contains(marker));
        seen.push(line);
    }
    child.kill().expect("SIGKILL the rotation");
    let status = child.wait().expect("wait for the rotation");
    assert!(!status.success(), "{args:?} was killed: {status:?}");
}

/// `serve` and a command that opens the store both refuse, saying to run `resume`.
fn refused_while_rotating(dir: &Path, resume: &str) {
    for args in [
        &["digest", "--municipality", MUNICIPALITY][..],
        &[
            "serve",
            "--grpc-listen",
            "127.0.0.1:0",
            "--http-listen",
            "127.0.0.1:0",
        ][..],
    ] {
        let mut child = hub_cmd(dir, args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn civreg-hub");
        let status = wait_until(
            &format!("civreg-hub {args:?} to exit"),
            Duration::from_secs(60),
            || child.try_wait().expect("try_wait"),
        );
        let out = child.wait_with_output().expect("output");
        assert!(
            !status.success(),
            "{}",
            describe(&format!("{args:?}"), &out)
        );
        assert!(
            String::from_utf8_lossy(&out.stderr).contains(resume),
            "{}",
            describe(&format!("{args:?} while a rotation is unfinished"), &out)
        );
    }
}

fn digests(dir: &Path) -> Vec<String> {
    [MUNICIPALITY, "prizren"]
        .iter()
        .map(|m| {
            String::from_utf8_lossy(&hub_ok(dir, &["--json", "digest", "--municipality", m]).stdout)
                .into_owned()
        })
        .collect()
}

fn found_by_number(dir: &Path) -> String {
    String::from_utf8_lossy(&hub_ok(dir, &["--json", "search", JMBG, "--operator", "test"]).stdout)
        .into_owned()
}

#[test]
fn hub_key_rotations_killed_midway_resume_and_the_hub_serves_the_same_register() {
    let setup = Setup::new();
    let node = &setup.node;
    let hub_dir = setup.hub_dir.clone();
    let mut docs = birth_docs(0, RECORDS);
    docs.push(serde_json::json!({
        "child": {
            "given_name": "Vlorjana", "surname": "Qerkezaj", "sex": "male",
            "date_of_birth": "1968-03-14", "personal_numbers": { "jmbg": JMBG }
        },
        "place_of_birth": "Prizren",
        "mother": { "given_name": "Shpresimira", "surname": "Qerkezaj" }
    }));
    let numbered = node.register_births(&docs).pop().expect("the last record");

    // Rows without a register entry: their import keys are tokens of the search key.
    let csv = setup.path("central.csv");
    let mut rows = String::from("kind,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n");
    for given in [
        "Ardit", "Blerim", "Dritan", "Egzon", "Fisnik", "Gentian", "Ilir", "Jetmir",
    ] {
        for surname in [
            "Berisha", "Hoxha", "Krasniqi", "Morina", "Shala", "Bytyqi", "Gashi", "Kelmendi",
            "Rexhepi", "Sopi", "Thaqi", "Ukaj", "Veseli", "Zeqiri", "Ahmeti",
        ] {
            rows.push_str(&format!(
                "birth,{given},{surname},male,1971-02-03,Prizren,Mimoza,{surname}\n"
            ));
        }
    }
    std::fs::write(&csv, rows).expect("write the import file");
    let csv_arg = csv.to_str().expect("utf-8");
    let import = [
        "--json",
        "import",
        csv_arg,
        "--municipality",
        "prizren",
        "--operator",
        "test",
    ];
    let first = json_of(&hub_ok(&hub_dir, &import));
    assert_eq!(
        first["imported"].as_array().map(Vec::len),
        Some(IMPORTED),
        "{first}"
    );

    let mut proc = setup.start_hub();
    node.run_ok(&["sync", "--once", "--hub", &proc.url()]);
    let found = wait_until(
        "the hub's search to find the record by its personal number",
        Duration::from_secs(60),
        || {
            let text = found_by_number(&hub_dir);
            text.contains(&numbered).then_some(text)
        },
    );
    assert!(found.contains(&numbered));
    let before = digests(&hub_dir);

    // While the hub serves, both rotations are refused and write nothing.
    let new_key = setup.path("hub.key.new");
    let new_key_arg = new_key.to_str().expect("utf-8");
    for cmd in ["rotate-key", "rotate-search-key"] {
        let refused = hub(&hub_dir, &[cmd, "--new-key-file", new_key_arg]);
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("serve` is running"),
            "{}",
            describe(cmd, &refused)
        );
        assert!(!new_key.exists());
    }
    proc.stop();

    // The at-rest key: killed among the runs of ops, resumed and killed again in aux.
    kill_at(
        &hub_dir,
        &["rotate-key", "--new-key-file", new_key_arg, "--batch", "1"],
        "(now: feed)",
        2,
    );
    refused_while_rotating(&hub_dir, "civreg-hub rotate-key --resume");
    kill_at(
        &hub_dir,
        &["rotate-key", "--resume", "--batch", "1"],
        "(now: aux)",
        2,
    );
    assert!(new_key.exists(), "the new key file is kept until the end");
    let again = hub(&hub_dir, &["rotate-key", "--new-key-file", "third.key"]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already in progress"),
        "{}",
        describe("a second rotate-key", &again)
    );
    let done = json_of(&hub_ok(
        &hub_dir,
        &["--json", "rotate-key", "--resume", "--batch", "50"],
    ));
    assert_eq!(done["ok"], true, "{done}");
    let old_key = std::path::PathBuf::from(
        done["rotation"]["old_key_file"]
            .as_str()
            .expect("old key file"),
    );
    assert!(old_key.exists(), "{done}");
    assert!(!new_key.exists(), "the new key became the hub's key file");

    // The search key: killed among the import keys, resumed.
    let new_search = setup.path("search.key.new");
    let new_search_arg = new_search.to_str().expect("utf-8");
    kill_at(
        &hub_dir,
        &[
            "rotate-search-key",
            "--new-key-file",
            new_search_arg,
            "--batch",
            "1",
        ],
        "(now: imports)",
        2,
    );
    refused_while_rotating(&hub_dir, "civreg-hub rotate-search-key --resume");
    let done = json_of(&hub_ok(
        &hub_dir,
        &["--json", "rotate-search-key", "--resume"],
    ));
    assert_eq!(done["ok"], true, "{done}");
    assert_eq!(done["rotation"]["import_keys_moved"], IMPORTED, "{done}");
    assert_eq!(done["rotation"]["import_keys_unmatched"], 0, "{done}");
    let old_search = std::path::PathBuf::from(
        done["rotation"]["old_key_file"]
            .as_str()
            .expect("old search key"),
    );
    assert!(!new_search.exists());

    // The old search key's token of the number matches nothing in the new index.
    {
        let old_index = civreg_hub::search::SearchIndex::open_at(
            &civreg_hub::search::index_dir(&hub_dir),
            &old_search,
        )
        .expect("open the index with the old search key");
        let r = old_index
            .search(&civreg_hub::search::SearchQuery {
                text: JMBG.into(),
                limit: 10,
                ..Default::default()
            })
            .expect("search");
        assert!(
            !r.hits.iter().any(|h| h.regno == numbered),
            "a token under the old key still matches"
        );
    }

    // The hub serves the same register.
    let mut proc = setup.start_hub();
    assert_eq!(digests(&hub_dir), before, "the digests are those of before");
    assert!(
        found_by_number(&hub_dir).contains(&numbered),
        "the personal number still finds the record"
    );
    let rerun = json_of(&hub(&hub_dir, &import));
    assert_eq!(
        rerun["imported"].as_array().map(Vec::len),
        Some(0),
        "{rerun}"
    );
    assert_eq!(
        rerun["skipped"].as_array().map(Vec::len),
        Some(IMPORTED),
        "{rerun}"
    );
    let later = node
        .register_births(&birth_docs(RECORDS, 1))
        .pop()
        .expect("a record");
    node.run_ok(&["sync", "--once", "--hub", &proc.url()]);
    hub_ok(&hub_dir, &["show", &later, "--operator", "test"]);
    proc.stop();

    // The old key file opens nothing any more.
    let old = hub(
        &hub_dir,
        &[
            "--key-file",
            old_key.to_str().expect("utf-8"),
            "digest",
            "--municipality",
            MUNICIPALITY,
        ],
    );
    assert!(!old.status.success());
    assert!(
        String::from_utf8_lossy(&old.stderr).contains("does not open the hub database"),
        "{}",
        describe("digest with the old key", &old)
    );
}
