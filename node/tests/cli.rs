//! The node through its real binary: registration, amendment, void, history, validation, clerks,
//! search across scripts, CSV import, export, and the key file.

use civreg_testkit::node as common;

use common::*;
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Write};
use std::process::Stdio;
use std::time::Duration;

fn problems_fields(v: &Value) -> Vec<(String, String)> {
    v["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("problems: {v}"))
        .iter()
        .map(|p| {
            (
                p["field"].as_str().unwrap_or_default().to_string(),
                p["code"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

/// Asserts the node holds no record and no op at all.
fn assert_empty(node: &TestNode) {
    let lines = node.export();
    let kinds: Vec<_> = lines.iter().map(|l| l["type"].clone()).collect();
    assert_eq!(kinds, vec![json!("node")], "nothing stored: {lines:?}");
    let (code, v) = node.verify();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ops_checked"], json!(0), "{v}");
}

#[test]
fn examples_register_amend_void_and_show_history() {
    let node = TestNode::new();
    let b = node.register_file("birth", &example("birth.json"));
    let m = node.register_file("marriage", &example("marriage.json"));
    let d = node.register_file("death", &example("death.json"));
    for (regno, letter) in [(&b, 'B'), (&m, 'M'), (&d, 'D')] {
        assert!(regno.starts_with("PRISHTINE-"), "{regno}");
        assert_eq!(regno_kind(regno), letter, "{regno}");
        assert_eq!(regno_seq(regno), 1, "{regno}");
    }

    // A second clerk makes the amendment, so the history must tell the two apart.
    let mut add = node.command(&["clerk", "add", "blerim"]);
    add.env("CIVREG_NEW_CLERK_PASSWORD", "blerim-password");
    run_command(add).ok();
    let amend_file = example("amend-birth.json");
    let out = run_command({
        let mut c = node.command(&[
            "--json",
            "amend",
            &b,
            "--file",
            amend_file.to_str().expect("utf-8"),
            "--reason",
            "typo in the 1968 register",
        ]);
        c.env("CIVREG_CLERK", "blerim")
            .env("CIVREG_CLERK_PASSWORD", "blerim-password");
        c
    })
    .ok();
    assert_eq!(out.json()["regno"], json!(b));

    let (code, h) = node.json(&["show", &b, "--history"]);
    assert_eq!(code, 0, "{h}");
    let versions = h["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2, "{h}");
    let (v1, v2) = (&versions[0], &versions[1]);
    assert_eq!(v1["version"], json!(1));
    assert_eq!(v1["clerk"], json!(CLERK));
    assert_eq!(v1["change"], json!("create"));
    let v1_changes = v1["changes"].as_array().expect("changes");
    assert!(
        v1_changes.contains(&json!(["child.given_name", null, "Arben"])),
        "{v1}"
    );
    assert!(
        v1_changes.contains(&json!(["mother.maiden_surname", null, "Berisha"])),
        "{v1}"
    );
    assert_eq!(v1["record"]["mother"]["maiden_surname"], json!("Berisha"));
    assert_eq!(v2["version"], json!(2));
    assert_eq!(v2["clerk"], json!("blerim"));
    assert_eq!(v2["change"], json!("amend"));
    assert_eq!(v2["reason"], json!("typo in the 1968 register"));
    assert_eq!(
        v2["changes"],
        json!([
            ["father.father_given_name", "Rexhep", "Rexhë"],
            ["mother.maiden_surname", "Berisha", "Krasniqi"]
        ]),
        "only the changed fields, old → new"
    );
    assert_eq!(v2["record"]["mother"]["maiden_surname"], json!("Krasniqi"));
    assert_eq!(v2["record"]["child"]["given_name"], json!("Arben"));

    let text = node.run(&["show", &b, "--history"]).ok().stdout;
    assert!(text.contains("2 version(s)"), "{text}");
    assert!(text.contains("by drita"), "{text}");
    assert!(text.contains("by blerim"), "{text}");
    assert!(
        text.contains("mother.maiden_surname: Berisha → Krasniqi"),
        "{text}"
    );
    assert!(
        text.contains("father.father_given_name: Rexhep → Rexhë"),
        "{text}"
    );
    assert!(text.contains("reason: typo in the 1968 register"), "{text}");

    let (code, cur) = node.json(&["show", &b]);
    assert_eq!(code, 0);
    assert_eq!(cur["record"]["mother"]["maiden_surname"], json!("Krasniqi"));
    assert_eq!(cur["versions"], json!(2));
    assert_eq!(cur["voided"], Value::Null);

    // Void the death record: it stays, marked void, and leaves search.
    assert_eq!(node.search(&["Fatime", "Krasniqi"]).first(), Some(&d));
    let (code, v) = node.json(&["void", &d, "--reason", "registered twice"]);
    assert_eq!(code, 0, "{v}");
    let (code, shown) = node.json(&["show", &d]);
    assert_eq!(code, 0, "{shown}");
    assert_eq!(shown["voided"]["reason"], json!("registered twice"));
    assert_eq!(shown["voided"]["clerk"], json!(CLERK));
    assert_eq!(shown["record"]["deceased"]["given_name"], json!("Fatime"));
    let text = node.run(&["show", &d]).ok().stdout;
    assert!(text.contains("VOID: registered twice"), "{text}");
    let hits = node.search(&["Fatime", "Krasniqi"]);
    assert!(!hits.contains(&d), "a void record leaves search: {hits:?}");
    let hits = node.search(&["Krasniqi"]);
    assert!(!hits.contains(&d), "{hits:?}");
    assert!(
        hits.contains(&b),
        "the amended birth (mother née Krasniqi) is found: {hits:?}"
    );
    let (code, h) = node.json(&["show", &d, "--history"]);
    assert_eq!(code, 0);
    let last = h["versions"].as_array().expect("versions").last().cloned();
    let last = last.expect("a version");
    assert_eq!(last["change"], json!("void"));
    assert_eq!(last["reason"], json!("registered twice"));

    // An amendment needs a reason, as a void does.
    let o = node.run(&["amend", &m, "--file", amend_file.to_str().expect("utf-8")]);
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("a reason is required to amend"),
        "{}",
        o.stderr
    );
    // A void record can not be changed or voided again; a void needs a reason.
    let o = node.run(&[
        "amend",
        &d,
        "--file",
        amend_file.to_str().expect("utf-8"),
        "--reason",
        "typo",
    ]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("void"), "{}", o.stderr);
    let o = node.run(&["void", &d, "--reason", "again"]);
    assert_ne!(o.code, 0);
    let o = node.run(&["void", &m, "--reason", "  "]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("reason"), "{}", o.stderr);

    let (code, v) = node.verify();
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["ok"], json!(true));
    assert_eq!(
        v["ops_checked"],
        json!(5),
        "3 creates, 1 amend, 1 void: {v}"
    );
    assert_eq!(v["records_checked"], json!(3));
}

#[test]
fn a_bad_jmbg_check_digit_is_refused_naming_the_field_and_stores_nothing() {
    let node = TestNode::new();
    let mut doc = read_example("birth.json");
    let good = doc["child"]["personal_numbers"]["jmbg"]
        .as_str()
        .expect("jmbg")
        .to_string();
    doc["child"]["personal_numbers"]["jmbg"] = json!(break_check_digit(&good));

    let o = node.run_stdin(
        &["--json", "register", "birth", "--file", "-"],
        doc.to_string().as_bytes(),
    );
    assert_ne!(o.code, 0, "{}", o.stdout);
    let v = o.json();
    assert_eq!(v["ok"], json!(false));
    assert!(
        problems_fields(&v).contains(&(
            "child.personal_numbers.jmbg".to_string(),
            "jmbg.checksum".to_string()
        )),
        "{v}"
    );
    let o = node.run_stdin(
        &["register", "birth", "--file", "-"],
        doc.to_string().as_bytes(),
    );
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("child.personal_numbers.jmbg"),
        "the message names the field: {}",
        o.stderr
    );
    assert!(o.stderr.contains("check digit"), "{}", o.stderr);
    assert!(!o.stdout.contains("saved"), "{}", o.stdout);

    assert_empty(&node);
    // The sequence did not advance: the next good record is number 1.
    let regno = node.register_file("birth", &example("birth.json"));
    assert_eq!(regno_seq(&regno), 1, "{regno}");
    let recs = node.records();
    assert_eq!(recs.len(), 1);
    assert_eq!(
        recs[&regno]["record"]["child"]["personal_numbers"]["jmbg"],
        json!(good)
    );
}

#[test]
fn dates_in_the_future_are_refused_naming_the_field_and_store_nothing() {
    let node = TestNode::new();
    let doc = birth("Arben", "Gashi", "2999-03-14");
    let o = node.run_stdin(
        &["--json", "register", "birth", "--file", "-"],
        doc.to_string().as_bytes(),
    );
    assert_ne!(o.code, 0, "{}", o.stdout);
    let v = o.json();
    assert!(
        problems_fields(&v).contains(&("child.date_of_birth".to_string(), "date.future".into())),
        "{v}"
    );
    let o = node.run_stdin(
        &["register", "birth", "--file", "-"],
        doc.to_string().as_bytes(),
    );
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("child.date_of_birth"), "{}", o.stderr);

    let mut death = read_example("death.json");
    death["date_of_death"] = json!("2999-12-30");
    let o = node.run_stdin(
        &["register", "death", "--file", "-"],
        death.to_string().as_bytes(),
    );
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("date_of_death"), "{}", o.stderr);

    assert_empty(&node);
    let regno = node.register("birth", &birth("Arben", "Gashi", "1999-03-14"));
    assert_eq!(
        regno_seq(&regno),
        1,
        "the refusals consumed no number: {regno}"
    );
}

/// An impossible calendar date (30 February) is refused, and the message says which field holds
/// it, as every other validation message does.
#[test]
fn impossible_dates_are_refused_naming_the_field() {
    let node = TestNode::new();
    let doc = birth("Arben", "Gashi", "1968-02-30");
    let o = node.run_stdin(
        &["register", "birth", "--file", "-"],
        doc.to_string().as_bytes(),
    );
    assert_ne!(o.code, 0);
    assert_empty(&node);
    assert!(
        o.stderr.contains("date_of_birth"),
        "the message should name the field child.date_of_birth: {}",
        o.stderr
    );

    // The same in a CSV import: the rejected row's reason names the column.
    let csv = node.dir.path().join("bad-date.csv");
    std::fs::write(
        &csv,
        "kind,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n\
         birth,Dardan,Kastrati,male,1975-02-30,Prishtinë,Lule,Kastrati\n",
    )
    .expect("write csv");
    let (code, rep) = node.json(&["import", csv.to_str().expect("utf-8")]);
    assert_ne!(code, 0);
    let reasons = rep["rejected"][0]["reasons"].to_string();
    assert_eq!(rep["rejected"][0]["line"], json!(2), "{rep}");
    assert!(
        reasons.contains("date_of_birth"),
        "the reason should name the column child.date_of_birth: {reasons}"
    );
}

#[test]
fn a_refused_document_in_a_stream_consumes_no_number() {
    let node = TestNode::new();
    let mut bad = birth("Besnik", "Gashi", "1968-09-02");
    bad["child"]["personal_numbers"] =
        json!({"jmbg": break_check_digit(&jmbg("1968-09-02", 91, 100))});
    let input = format!(
        "{}\n{}\n{}\n",
        birth("Arben", "Gashi", "1968-03-14"),
        bad,
        birth("Agon", "Hoxha", "1972-05-09")
    );
    let o = node.run_stdin(
        &["--json", "register", "birth", "--file", "-"],
        input.as_bytes(),
    );
    assert_eq!(o.code, 1, "one document was refused: {}", o.stdout);
    let lines = o.json_lines();
    assert_eq!(lines.len(), 3, "{}", o.stdout);
    assert_eq!(lines[0]["ok"], json!(true));
    assert_eq!(lines[1]["ok"], json!(false));
    assert_eq!(lines[2]["ok"], json!(true));
    let (a, c) = (
        lines[0]["regno"].as_str().expect("regno"),
        lines[2]["regno"].as_str().expect("regno"),
    );
    assert_eq!((regno_seq(a), regno_seq(c)), (1, 2), "{a} {c}");
    let recs = node.records();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[c]["record"]["child"]["given_name"], json!("Agon"));
    assert!(!recs
        .values()
        .any(|r| r["record"]["child"]["given_name"] == "Besnik"));
}

#[test]
fn a_record_of_another_municipality_is_refused() {
    let node = TestNode::new();
    let mut doc = read_example("marriage.json");
    doc["municipality"] = json!("prizren");
    let o = node.run_stdin(
        &["register", "marriage", "--file", "-"],
        doc.to_string().as_bytes(),
    );
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("prishtine"), "{}", o.stderr);
    assert!(o.stderr.contains("prizren"), "{}", o.stderr);
    doc["municipality"] = json!("Призрен");
    let o = node.run_stdin(
        &["register", "marriage", "--file", "-"],
        doc.to_string().as_bytes(),
    );
    assert_ne!(o.code, 0, "another script does not make it the node's own");
    assert_empty(&node);

    // The node's own municipality by any of its names is accepted and stored as its code.
    doc["municipality"] = json!("Приштина");
    let regno = node.register("marriage", &doc);
    assert_eq!(
        node.records()[&regno]["record"]["municipality"],
        json!("prishtine")
    );
}

#[test]
fn bad_amendments_are_refused_and_change_nothing() {
    let node = TestNode::new();
    let b = node.register_file("birth", &example("birth.json"));
    let changes = node.dir.path().join("changes.json");
    let file = changes.to_str().expect("utf-8").to_string();
    let cases = [
        (r#"{"municipality": "prizren"}"#, "municipality"),
        (r#"{"child.given_name": "Arben"}"#, "nothing to change"),
        (r#"{"child.eye_colour": "brown"}"#, "eye_colour"),
        (
            r#"{"child": {"personal_numbers": {"jmbg": "1403968950012"}}}"#,
            "child.personal_numbers.jmbg",
        ),
        (
            r#"{"child.date_of_birth": "2999-01-01"}"#,
            "child.date_of_birth",
        ),
        ("{not json", "not valid JSON"),
    ];
    for (body, says) in cases {
        std::fs::write(&changes, body).expect("write changes");
        let o = node.run(&["amend", &b, "--file", &file, "--reason", "test"]);
        assert_ne!(o.code, 0, "{body}");
        assert!(o.stderr.contains(says), "{body}: {}", o.stderr);
    }
    assert_eq!(node.ops().len(), 1, "no amendment was written");
    let (code, h) = node.json(&["show", &b, "--history"]);
    assert_eq!(code, 0);
    assert_eq!(h["versions"].as_array().map(Vec::len), Some(1));
    let (code, v) = node.verify();
    assert_eq!(code, 0, "{v}");
}

#[test]
fn an_unknown_registration_number_is_a_clear_error() {
    let node = TestNode::new();
    node.register_file("birth", &example("birth.json"));
    let amend = example("amend-birth.json");
    let amend = amend.to_str().expect("utf-8");
    for args in [
        vec!["show", "PRISHTINE-2026-B-000099"],
        vec!["show", "PRISHTINE-2026-B-000099", "--history"],
        vec![
            "amend",
            "PRISHTINE-2026-B-000099",
            "--file",
            amend,
            "--reason",
            "x",
        ],
        vec!["void", "PRISHTINE-2026-B-000099", "--reason", "x"],
    ] {
        let o = node.run(&args);
        assert_ne!(o.code, 0, "{args:?}");
        assert!(
            o.stderr
                .contains("no record PRISHTINE-2026-B-000099 at this node"),
            "{args:?}: {}",
            o.stderr
        );
    }
    let o = node.run(&["show", "garbage"]);
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("not a registration number"),
        "{}",
        o.stderr
    );
    let (code, v) = node.json(&["show", "PRISHTINE-2026-B-000099"]);
    assert_ne!(code, 0);
    assert_eq!(v["ok"], json!(false));
    assert!(v["error"].as_str().is_some_and(|e| e.contains("no record")));
    assert_eq!(node.ops().len(), 1, "nothing was written");
}

#[test]
fn a_wrong_password_or_unknown_clerk_is_refused_and_stores_nothing() {
    let node = TestNode::new();
    let birth_file = example("birth.json");
    for (clerk, password) in [(CLERK, "not-the-password"), ("nobody", PASSWORD)] {
        let mut c = node.command(&[
            "register",
            "birth",
            "--file",
            birth_file.to_str().expect("utf-8"),
        ]);
        c.env("CIVREG_CLERK", clerk)
            .env("CIVREG_CLERK_PASSWORD", password);
        let o = run_command(c);
        assert_ne!(o.code, 0, "{clerk}");
        assert!(
            o.stderr.contains("unknown clerk or wrong password"),
            "{}",
            o.stderr
        );
    }
    // Nor can a wrong password add a clerk.
    let mut c = node.command(&["clerk", "add", "intruder"]);
    c.env("CIVREG_CLERK_PASSWORD", "not-the-password");
    assert_ne!(run_command(c).code, 0);
    let (code, names) = node.json(&["clerk", "list"]);
    assert_eq!(code, 0);
    assert_eq!(names, json!([CLERK]));
    assert_empty(&node);
}

#[test]
fn without_credentials_and_without_a_terminal_it_says_to_set_them() {
    let node = TestNode::new();
    let birth_file = example("birth.json");
    let file = birth_file.to_str().expect("utf-8");

    let mut c = node.command_without_terminal(&["register", "birth", "--file", file]);
    c.env_remove("CIVREG_CLERK")
        .env_remove("CIVREG_CLERK_PASSWORD")
        .stdin(Stdio::null());
    let o = run_command(c);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("set CIVREG_CLERK"), "{}", o.stderr);

    let mut c = node.command_without_terminal(&["register", "birth", "--file", file]);
    c.env_remove("CIVREG_CLERK_PASSWORD").stdin(Stdio::null());
    let o = run_command(c);
    assert_ne!(o.code, 0);
    assert!(
        o.stderr.contains("set CIVREG_CLERK_PASSWORD"),
        "{}",
        o.stderr
    );

    // Commands that change nothing need no clerk.
    let mut c = node.command_without_terminal(&["verify"]);
    c.env_remove("CIVREG_CLERK")
        .env_remove("CIVREG_CLERK_PASSWORD");
    assert_eq!(run_command(c).code, 0);
    assert_empty(&node);
}

#[test]
fn search_finds_names_across_scripts_spellings_numbers_dates_and_places() {
    // A node of Ferizaj, so that `--municipality` can only match the place of the event.
    let node = TestNode::with_municipality("ferizaj");
    let arben_jmbg = "1403968950011";
    let mut d = birth("Arben", "Gashi", "1968-03-14");
    d["place_of_birth"] = json!("Prizren");
    d["child"]["personal_numbers"] = json!({ "jmbg": arben_jmbg });
    d["father"] = json!({"given_name": "Hysen", "surname": "Gashi"});
    let arben = node.register("birth", &d);

    let mut d = birth("Ђорђе", "Ђорђевић", "1969-05-21");
    d["place_of_birth"] = json!("Priština");
    d["mother"]["given_name"] = json!("Милица");
    let djordje = node.register("birth", &d);

    let mut d = birth("Fatime", "Krasniqi", "1975-02-11");
    d["child"]["sex"] = json!("female");
    d["child"]["personal_numbers"] = json!({ "jmbg": jmbg("1975-02-11", 91, 520) });
    let fatime = node.register("birth", &d);

    // Distractors that share a name, a year or a place with the records above.
    let mut d = birth("Arben", "Berisha", "1970-06-01");
    d["place_of_birth"] = json!("Pejë");
    let arben_berisha = node.register("birth", &d);
    let besnik_jmbg = jmbg("1968-09-02", 91, 100);
    let mut d = birth("Besnik", "Gashi", "1968-09-02");
    d["child"]["personal_numbers"] = json!({ "jmbg": besnik_jmbg });
    let besnik = node.register("birth", &d);
    let mut d = birth("Fatime", "Hoxha", "1976-04-04");
    d["child"]["sex"] = json!("female");
    d["place_of_birth"] = json!("Gjilan");
    let fatime_hoxha = node.register("birth", &d);
    let mut d = birth("Ђорђе", "Петровић", "1969-07-07");
    d["place_of_birth"] = json!("Gračanica");
    let petrovic = node.register("birth", &d);

    let first = |args: &[&str], want: &str| {
        let hits = node.search(args);
        assert_eq!(
            hits.first().map(String::as_str),
            Some(want),
            "search {args:?}: {hits:?}"
        );
        hits
    };
    let as_set = |v: Vec<String>| v.into_iter().collect::<BTreeSet<_>>();
    let set = |v: &[&String]| v.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>();

    for q in [
        "Gashi Arben",
        "Arben Gashi 1968",
        "Гаши Арбен",
        "gashi arbn",
    ] {
        let args: Vec<&str> = q.split(' ').collect();
        let hits = first(&args, &arben);
        assert!(!hits.contains(&arben_berisha), "{q}: {hits:?}");
        assert!(!hits.contains(&besnik), "{q}: {hits:?}");
    }
    for q in ["Djordjevic", "Dordevic", "Ђорђевић", "Đorđević"] {
        let hits = first(&[q], &djordje);
        assert!(!hits.contains(&petrovic), "{q}: {hits:?}");
    }
    let hits = first(&["Krasnići"], &fatime);
    assert!(!hits.contains(&fatime_hoxha), "{hits:?}");

    assert_eq!(node.search(&[arben_jmbg]), vec![arben.clone()]);
    assert_eq!(node.search(&[&besnik_jmbg]), vec![besnik.clone()]);

    assert_eq!(
        node.search(&["Arben", "--born", "1968"]),
        vec![arben.clone()]
    );
    assert_eq!(
        as_set(node.search(&["--born", "1968"])),
        set(&[&arben, &besnik])
    );
    assert_eq!(
        node.search(&["Gashi", "--born", "1968-03-14"]),
        vec![arben.clone()]
    );
    assert_eq!(node.search(&["--born", "1968-03-14"]), vec![arben.clone()]);
    assert_eq!(
        node.search(&["Arben", "--born", "1960..1969"]),
        vec![arben.clone()]
    );
    assert_eq!(
        as_set(node.search(&["--born", "1960..1969"])),
        set(&[&arben, &djordje, &besnik, &petrovic])
    );

    for m in ["Prishtina", "Приштина", "Priština", "prishtine"] {
        assert_eq!(
            node.search(&["Fatime", "--municipality", m]),
            vec![fatime.clone()],
            "--municipality {m}"
        );
        assert_eq!(
            as_set(node.search(&["--municipality", m])),
            set(&[&djordje, &fatime, &besnik]),
            "--municipality {m}"
        );
    }
    assert_eq!(
        node.search(&["Gashi", "--municipality", "Prizren"]),
        vec![arben.clone()]
    );

    // Every answer says it is local, in text as in JSON.
    let text = node.run(&["search", "Gashi"]).ok().stdout;
    assert!(text.contains("local answer"), "{text}");
    assert!(!text.contains("every part of the query"), "{text}");
    // A name in no record: the closest records, and the answer says they are partial.
    let text = node.run(&["search", "Gashi", "Hashimko"]).ok().stdout;
    assert!(
        text.contains("no record matches every part of the query"),
        "{text}"
    );
    assert!(text.contains(&arben), "{text}");
    let v = node.run(&["--json", "search", "Gashi", "Hashimko"]).json();
    assert_eq!(v["partial"], json!(true), "{v}");
    assert_eq!(v["hits"][0]["unmatched"], json!(["Hashimko"]), "{v}");
    let v = node.run(&["--json", "search", "Gashi"]).json();
    assert_eq!(v["partial"], json!(false), "{v}");
    let o = node.run(&["search", "Gashi", "--municipality", "Atlantis"]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("unknown municipality"), "{}", o.stderr);
}

/// The rows of `deploy/examples/import-sample.csv` that are accepted, by line, with their kind.
const SAMPLE_ACCEPTED: &[(u64, char)] = &[
    (2, 'B'),
    (3, 'B'),
    (4, 'B'),
    (5, 'M'),
    (6, 'M'),
    (7, 'D'),
    (8, 'D'),
    (12, 'B'),
    (13, 'D'),
];

#[test]
fn import_sample_reports_every_row_and_a_rerun_imports_nothing_twice() {
    let node = TestNode::new();
    let sample = example("import-sample.csv");
    let sample = sample.to_str().expect("utf-8");
    let report_path = node.dir.path().join("report.json");
    let report_arg = report_path.to_str().expect("utf-8");

    let o = node.run(&["--json", "import", sample, "--report", report_arg]);
    assert_eq!(o.code, 1, "rows were rejected: {}{}", o.stdout, o.stderr);
    let rep = o.json();
    let from_file: Value =
        serde_json::from_slice(&std::fs::read(&report_path).expect("report file"))
            .expect("report parses");
    assert_eq!(from_file, rep, "the report file is the printed report");
    assert_eq!(rep["rows"], json!(13), "{rep}");

    let accepted = rep["accepted"].as_array().expect("accepted");
    let got: Vec<(u64, char)> = accepted
        .iter()
        .map(|a| {
            (
                a["line"].as_u64().expect("line"),
                regno_kind(a["regno"].as_str().expect("regno")),
            )
        })
        .collect();
    assert_eq!(got, SAMPLE_ACCEPTED, "{rep}");
    let regnos: BTreeSet<&str> = accepted
        .iter()
        .map(|a| a["regno"].as_str().expect("regno"))
        .collect();
    assert_eq!(regnos.len(), accepted.len(), "distinct numbers");

    let rejected = rep["rejected"].as_array().expect("rejected");
    let lines: Vec<u64> = rejected
        .iter()
        .map(|r| r["line"].as_u64().expect("line"))
        .collect();
    assert_eq!(lines, vec![9, 10, 11, 14], "{rep}");
    let reason = |line: u64| {
        rejected
            .iter()
            .find(|r| r["line"] == json!(line))
            .map(|r| r["reasons"].to_string())
            .expect("rejected line")
    };
    assert!(reason(9).len() > 4, "a reason for the bad date: {rep}");
    assert!(reason(10).contains("adoption"), "{}", reason(10));
    assert!(
        reason(11).contains("child.personal_numbers.jmbg") && reason(11).contains("check digit"),
        "{}",
        reason(11)
    );
    assert!(
        reason(14).contains("cells") || reason(14).contains("truncated"),
        "{}",
        reason(14)
    );
    assert!(rep["skipped"].as_array().expect("skipped").is_empty());

    // A rerun, in text: nothing imported again.
    let text = node.run(&["import", sample]).stdout;
    assert!(
        text.contains("13 rows: 0 imported, 9 already imported (skipped), 4 rejected"),
        "{text}"
    );

    // The records are there, with their content in their own script.
    let recs = node.records();
    assert_eq!(recs.len(), 9);
    let by_line = |line: u64| -> &Value {
        let regno = accepted
            .iter()
            .find(|a| a["line"] == json!(line))
            .and_then(|a| a["regno"].as_str())
            .expect("accepted line");
        &recs[regno]["record"]
    };
    assert_eq!(by_line(2)["child"]["given_name"], json!("Agon"));
    assert_eq!(by_line(2)["register"]["page"], json!(12));
    assert_eq!(by_line(4)["child"]["surname"], json!("Јовановић"));
    assert_eq!(by_line(5)["spouse2"]["surname_after"], json!("Shala"));
    assert_eq!(by_line(8)["deceased"]["given_name"], json!("Hajrije"));
    assert_eq!(by_line(13)["deceased"]["surname"], json!("Ђорђевић"));
    let ops_before = node.ops().len();
    assert_eq!(ops_before, 9);

    // Another rerun, in JSON: every accepted row is skipped as already imported, with its number.
    let (code, again) = node.json(&["import", sample]);
    assert_eq!(code, 1, "the bad rows are still bad: {again}");
    assert!(again["accepted"].as_array().expect("accepted").is_empty());
    let mut skipped: Vec<(u64, String)> = again["skipped"]
        .as_array()
        .expect("skipped")
        .iter()
        .map(|s| {
            assert_eq!(s["reason"], json!("already imported"), "{s}");
            (
                s["line"].as_u64().expect("line"),
                s["regno"].as_str().expect("regno").to_string(),
            )
        })
        .collect();
    skipped.sort();
    let first: Vec<(u64, String)> = accepted
        .iter()
        .map(|a| {
            (
                a["line"].as_u64().expect("line"),
                a["regno"].as_str().expect("regno").to_string(),
            )
        })
        .collect();
    assert_eq!(skipped, first);
    assert_eq!(node.records().len(), 9, "record count unchanged");
    assert_eq!(node.ops().len(), ops_before, "no op written");
    let (code, v) = node.verify();
    assert_eq!(code, 0, "{v}");
}

#[test]
fn import_skips_repeated_register_entries_within_a_file() {
    let node = TestNode::new();
    let csv = node.dir.path().join("pages.csv");
    let header = "kind,register.book,register.year,register.page,register.entry,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname";
    let rows = [
        "birth,L-1,1980,1,1,Agon,Hoxha,male,1980-01-01,Prishtinë,Arta,Hoxha",
        "birth,L-1,1980,1,2,Blerta,Hoxha,female,1980-02-02,Prishtinë,Arta,Hoxha",
        // The same register entry as line 2, retyped with a different name: skipped.
        "birth,l-1 ,1980,1,1,Agoni,Hoxha,male,1980-01-01,Prishtinë,Arta,Hoxha",
        "birth,L-1,1980,1,3,Dren,Hoxha,male,1980-03-03,Prishtinë,Arta,Hoxha",
    ];
    std::fs::write(&csv, format!("{header}\n{}\n", rows.join("\n"))).expect("write csv");
    let (code, rep) = node.json(&["import", csv.to_str().expect("utf-8")]);
    assert_eq!(code, 0, "{rep}");
    let lines = |k: &str| -> Vec<u64> {
        rep[k]
            .as_array()
            .expect("array")
            .iter()
            .map(|r| r["line"].as_u64().expect("line"))
            .collect()
    };
    assert_eq!(lines("accepted"), vec![2, 3, 5], "{rep}");
    assert_eq!(lines("skipped"), vec![4], "{rep}");
    let names: BTreeSet<String> = node
        .records()
        .values()
        .map(|r| {
            r["record"]["child"]["given_name"]
                .as_str()
                .expect("name")
                .to_string()
        })
        .collect();
    assert_eq!(
        names,
        ["Agon", "Blerta", "Dren"]
            .map(String::from)
            .into_iter()
            .collect()
    );
}

#[test]
fn import_without_a_kind_column_is_refused() {
    let node = TestNode::new();
    let csv = node.dir.path().join("nokind.csv");
    std::fs::write(
        &csv,
        "child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n\
         Agon,Hoxha,male,1980-01-01,Prishtinë,Arta,Hoxha\n",
    )
    .expect("write csv");
    let o = node.run(&["import", csv.to_str().expect("utf-8")]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("no `kind` column"), "{}", o.stderr);
    let o = node.run(&["import", "/nonexistent/file.csv"]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("/nonexistent/file.csv"), "{}", o.stderr);
    assert_empty(&node);
}

#[test]
fn export_is_json_lines_with_the_node_every_record_and_every_op() {
    let node = TestNode::new();
    let b = node.register_file("birth", &example("birth.json"));
    node.register_file("marriage", &example("marriage.json"));
    node.register_file("death", &example("death.json"));
    let amend = example("amend-birth.json");
    node.run(&[
        "amend",
        &b,
        "--file",
        amend.to_str().expect("utf-8"),
        "--reason",
        "typo",
    ])
    .ok();

    let out = node.run(&["export"]).ok();
    assert!(out.stdout.ends_with('\n'));
    let lines = out.json_lines();
    assert_eq!(lines.len(), out.stdout.lines().count(), "every line parses");
    let of = |t: &str| lines.iter().filter(|l| l["type"] == t).collect::<Vec<_>>();
    let nodes = of("node");
    assert_eq!(nodes.len(), 1);
    assert_eq!(lines[0]["type"], json!("node"), "the node line comes first");
    assert_eq!(nodes[0]["municipality"], json!("prishtine"));
    assert_eq!(nodes[0]["node_id"], json!("1"));
    let records = of("record");
    let ops = of("op");
    assert_eq!(records.len(), 3);
    assert_eq!(ops.len(), 4);
    assert_eq!(lines.len(), 1 + 3 + 4, "nothing else");
    let birth = records
        .iter()
        .find(|r| r["regno"] == json!(b))
        .expect("birth");
    assert_eq!(
        birth["record"]["mother"]["maiden_surname"],
        json!("Krasniqi")
    );
    assert_eq!(birth["versions"], json!(2));

    // The ops are the whole chain, in order, each linked to the one before.
    let mut prev = "0".repeat(64);
    for (i, op) in ops.iter().enumerate() {
        assert_eq!(op["id"]["seq"], json!(i + 1), "{op}");
        assert_eq!(op["prev_hash"], json!(prev), "{op}");
        prev = op["hash"].as_str().expect("hash").to_string();
    }
    assert_eq!(ops[3]["change"], json!("amend"));
    assert_eq!(ops[3]["record_id"], json!(b));

    // --out writes the same lines to a file and says how many.
    let file = node.dir.path().join("all.jsonl");
    let (code, v) = node.json(&["export", "--out", file.to_str().expect("utf-8")]);
    assert_eq!(code, 0);
    assert_eq!(v, json!({"ok": true, "records": 3, "ops": 4}));
    let written: Vec<Value> = std::fs::read_to_string(&file)
        .expect("export file")
        .lines()
        .map(|l| serde_json::from_str(l).expect("line parses"))
        .collect();
    assert_eq!(written, lines);
}

#[test]
fn a_second_process_is_refused_while_one_holds_the_database() {
    let node = TestNode::new();
    let mut c = node.command(&["--json", "register", "birth", "--file", "-"]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut first = c.spawn().expect("spawn");
    let mut stdin = first.stdin.take().expect("stdin");
    let mut stdout = BufReader::new(first.stdout.take().expect("stdout"));
    writeln!(stdin, "{}", birth("Arben", "Gashi", "1968-03-14")).expect("write");
    stdin.flush().expect("flush");
    // Once it reports a save, it has the database open; it stays open waiting for more input.
    let mut line = String::new();
    stdout.read_line(&mut line).expect("read");
    let v: Value = serde_json::from_str(&line).expect("result line");
    assert_eq!(v["ok"], json!(true), "{line}");

    let o = node.run(&["show", v["regno"].as_str().expect("regno")]);
    assert_ne!(o.code, 0, "{}", o.stdout);
    assert!(o.stderr.contains("in use"), "{}", o.stderr);
    let o = node.run(&["register", "birth", "--file", "-"]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("in use"), "{}", o.stderr);

    writeln!(stdin, "{}", birth("Besnik", "Gashi", "1968-09-02")).expect("write");
    drop(stdin);
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stdout, &mut rest).expect("read");
    let status = first.wait().expect("wait");
    assert!(status.success(), "{rest}");
    assert_eq!(rest.lines().count(), 1, "{rest}");
    // The lock goes with the process.
    let recs = wait_for("the database to be free", Duration::from_secs(10), || {
        let o = node.run(&["export"]);
        (o.code == 0).then(|| o.json_lines())
    });
    assert_eq!(recs.iter().filter(|l| l["type"] == "record").count(), 2);
}

#[test]
fn a_missing_key_file_is_a_clear_error() {
    let node = TestNode::new();
    let b = node.register_file("birth", &example("birth.json"));
    let moved = node.dir.path().join("backup.key");
    std::fs::rename(node.key(), &moved).expect("move the key away");
    for args in [vec!["show", b.as_str()], vec!["verify"], vec!["export"]] {
        let o = node.run(&args);
        assert_ne!(o.code, 0, "{args:?}");
        assert!(o.stderr.contains("key file"), "{args:?}: {}", o.stderr);
        assert!(
            o.stderr.contains(&node.key().display().to_string()),
            "names the path: {}",
            o.stderr
        );
        assert!(!o.all().contains("Arben"), "{}", o.all());
    }
    let o = node.run_stdin(
        &["register", "birth", "--file", "-"],
        birth("Agon", "Hoxha", "1972-05-09").to_string().as_bytes(),
    );
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("key file"), "{}", o.stderr);
    // --key-file finds it elsewhere.
    let o = node
        .run(&["--key-file", moved.to_str().expect("utf-8"), "show", &b])
        .ok();
    assert!(o.stdout.contains("Arben"), "{}", o.stdout);
    // And nothing was written while the key was missing.
    std::fs::rename(&moved, node.key()).expect("restore the key");
    assert_eq!(node.records().len(), 1);
}

#[test]
fn a_wrong_or_damaged_key_file_is_a_clear_error() {
    let node = TestNode::new();
    let b = node.register_file("birth", &example("birth.json"));
    let other = TestNode::new();
    let other_key = other.key();
    for args in [vec!["show", b.as_str()], vec!["verify"], vec!["export"]] {
        let mut a = vec!["--key-file", other_key.to_str().expect("utf-8")];
        a.extend_from_slice(&args);
        let o = node.run(&a);
        assert_ne!(o.code, 0, "{args:?}");
        assert!(
            o.stderr
                .contains("key file does not belong to this database"),
            "{args:?}: {}",
            o.stderr
        );
        assert!(!o.all().contains("Arben"), "{}", o.all());
    }
    let damaged = node.dir.path().join("damaged.key");
    std::fs::write(&damaged, "not a key\n").expect("write");
    let o = node.run(&["--key-file", damaged.to_str().expect("utf-8"), "show", &b]);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("key file"), "{}", o.stderr);
    assert!(o.stderr.contains("damaged"), "{}", o.stderr);
    // The real key still works: nothing was changed.
    assert_eq!(node.run(&["show", &b]).ok().code, 0);
}

/// Error messages are printed once: a key-file or registration-number problem must not be
/// repeated as its own cause (`error: X: X`).
#[test]
fn error_messages_are_said_once() {
    let node = TestNode::new();
    let o = node.run(&["show", "garbage"]);
    assert_ne!(o.code, 0);
    assert_eq!(
        o.stderr.matches("is not a registration number").count(),
        1,
        "the message is repeated: {}",
        o.stderr
    );
    std::fs::remove_file(node.key()).expect("remove the key");
    let o = node.run(&["verify"]);
    assert_ne!(o.code, 0);
    assert_eq!(
        o.stderr.matches("not found").count(),
        1,
        "the message is repeated: {}",
        o.stderr
    );
}

#[test]
fn export_needs_a_signed_in_clerk_and_is_in_the_access_log() {
    let node = TestNode::new();
    let b = node.register_file("birth", &example("birth.json"));
    // No clerk: refused, nothing written.
    let mut c = node.command_without_terminal(&["export"]);
    c.env_remove("CIVREG_CLERK")
        .env_remove("CIVREG_CLERK_PASSWORD");
    let o = run_command(c);
    assert_ne!(o.code, 0);
    assert!(o.stderr.contains("set CIVREG_CLERK"), "{}", o.stderr);
    assert!(!o.stdout.contains(&b), "nothing exported: {}", o.stdout);
    // A wrong password: refused.
    let mut c = node.command(&["export"]);
    c.env("CIVREG_CLERK_PASSWORD", "not-the-password-1");
    let o = run_command(c);
    assert_ne!(o.code, 0);
    assert!(!o.stdout.contains(&b), "nothing exported: {}", o.stdout);
    // The clerk: exported, and the access log says who, when and where to.
    let lines = node.export();
    assert!(lines.iter().any(|l| l["regno"] == json!(b)), "{lines:?}");
    let log = node.run(&["--json", "access-log"]).ok().json();
    let exports: Vec<&Value> = log
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["action"] == "export")
        .collect();
    assert_eq!(exports.len(), 1, "{log}");
    assert_eq!(exports[0]["clerk"], json!(CLERK));
    assert!(
        exports[0]["query"]
            .as_str()
            .is_some_and(|q| q.contains("standard output")),
        "{log}"
    );
}

/// `show` and `search` answer with personal data: without credentials, or with a wrong
/// password, they are refused and nothing is shown (they used to answer anyone, logged as an
/// unnamed clerk); with the clerk they answer and the access log names them.
#[test]
fn show_and_search_need_a_signed_in_clerk() {
    let node = TestNode::new();
    let b = node.register_file("birth", &example("birth.json"));
    // The example's child.
    let given = "Arben".to_string();
    for args in [vec!["show", b.as_str()], vec!["search", given.as_str()]] {
        let mut c = node.command_without_terminal(&args);
        c.env_remove("CIVREG_CLERK")
            .env_remove("CIVREG_CLERK_PASSWORD");
        let o = run_command(c);
        assert_ne!(o.code, 0, "{args:?}: {}", o.stdout);
        assert!(
            o.stderr.contains("set CIVREG_CLERK"),
            "{args:?}: {}",
            o.stderr
        );
        assert!(
            !o.stdout.contains(&b),
            "{args:?}: nothing shown: {}",
            o.stdout
        );
        let mut c = node.command(&args);
        c.env("CIVREG_CLERK_PASSWORD", "not-the-password-1");
        let o = run_command(c);
        assert_ne!(o.code, 0, "{args:?}: {}", o.stdout);
        assert!(
            !o.stdout.contains(&b),
            "{args:?}: nothing shown: {}",
            o.stdout
        );
    }
    let o = node.run(&["search", &given]).ok();
    assert!(o.stdout.contains(&b), "{}", o.stdout);
    let o = node.run(&["show", &b]).ok();
    assert!(o.stdout.contains(&b), "{}", o.stdout);
    let log = node.run(&["--json", "access-log"]).ok().json();
    let entries = log.as_array().expect("entries");
    assert!(
        entries.iter().all(|e| e["clerk"] == json!(CLERK)),
        "every entry names the clerk, none is unnamed: {log}"
    );
    assert!(
        entries.iter().any(|e| e["action"]
            .as_str()
            .is_some_and(|a| a.starts_with("search"))),
        "{log}"
    );
    assert!(entries.iter().any(|e| e["action"] == "view"), "{log}");
}

// ---- the command line in the clerk's language (issue 14) ----------------------------------

use civreg_shared::i18n::{Arg, Catalog, Lang};

/// A command for `node` whose language comes only from `vars` (`CIVREG_LANG`, `LANG`...): the
/// test environment's own language variables, and testkit's English, are removed.
fn in_locale(node: &TestNode, args: &[&str], vars: &[(&str, &str)]) -> std::process::Command {
    let mut c = node.command(args);
    for v in [
        "CIVREG_LANG",
        "CIVREG_NODE_LANG",
        "LC_ALL",
        "LC_MESSAGES",
        "LANG",
    ] {
        c.env_remove(v);
    }
    for (k, v) in vars {
        c.env(k, v);
    }
    c
}

/// A birth whose child's JMBG has a wrong check digit, written to a file; its path.
fn bad_jmbg_file(node: &TestNode) -> String {
    let mut doc = read_example("birth.json");
    let good = doc["child"]["personal_numbers"]["jmbg"]
        .as_str()
        .expect("jmbg")
        .to_string();
    doc["child"]["personal_numbers"]["jmbg"] = json!(break_check_digit(&good));
    let path = node.dir.path().join("bad-jmbg.json");
    std::fs::write(&path, doc.to_string()).expect("write the document");
    path.to_str().expect("utf-8").to_string()
}

fn has_cyrillic(s: &str) -> bool {
    s.chars().any(|c| ('\u{0400}'..='\u{04FF}').contains(&c))
}

#[test]
fn a_validation_error_reads_as_in_the_app_in_the_language_asked_for() {
    let node = TestNode::new();
    let file = bad_jmbg_file(&node);
    let c = Catalog::get();

    // --lang sr-Cyrl: the app's sentence for the code, in Cyrillic, naming the field.
    let o = run_command(in_locale(
        &node,
        &["--lang", "sr-Cyrl", "register", "birth", "--file", &file],
        &[("LANG", "en_US.UTF-8")],
    ));
    assert_eq!(o.code, 1, "{o:?}");
    let cyrillic = c.validation(Lang::SrCyrl, "jmbg.checksum");
    assert!(has_cyrillic(&cyrillic), "{cyrillic}");
    assert!(o.stderr.contains(&cyrillic), "{}", o.stderr);
    assert!(
        o.stderr.contains("child.personal_numbers.jmbg"),
        "{}",
        o.stderr
    );
    assert!(
        o.stderr.contains(&c.text(Lang::SrCyrl, "cli-not-saved")),
        "{}",
        o.stderr
    );
    assert!(!o.stderr.contains("check digit"), "{}", o.stderr);
    // CIVREG_LANG says the same; --json stays English and language-independent.
    let o = run_command(in_locale(
        &node,
        &["register", "birth", "--file", &file],
        &[("CIVREG_LANG", "sr-cyrl")],
    ));
    assert!(o.stderr.contains(&cyrillic), "{}", o.stderr);
    let o = run_command(in_locale(
        &node,
        &["--json", "register", "birth", "--file", &file],
        &[("CIVREG_LANG", "sr-Cyrl")],
    ));
    let v = o.json();
    assert_eq!(v["problems"][0]["code"], json!("jmbg.checksum"), "{v}");
    assert!(!has_cyrillic(&o.stdout), "{}", o.stdout);

    // No --lang: the locale. sr_RS.UTF-8@latin is Serbian in Latin script.
    let o = run_command(in_locale(
        &node,
        &["register", "birth", "--file", &file],
        &[("LANG", "sr_RS.UTF-8@latin")],
    ));
    let latin = c.validation(Lang::SrLatn, "jmbg.checksum");
    assert!(o.stderr.contains(&latin), "{}", o.stderr);
    assert!(!has_cyrillic(&o.stderr), "{}", o.stderr);
    // LC_ALL wins over LANG, and LC_MESSAGES too.
    let o = run_command(in_locale(
        &node,
        &["register", "birth", "--file", &file],
        &[("LC_ALL", "sr_RS.UTF-8"), ("LANG", "sr_RS.UTF-8@latin")],
    ));
    assert!(o.stderr.contains(&cyrillic), "{}", o.stderr);

    // LANG=C (and no --lang): the default, Albanian.
    let o = run_command(in_locale(
        &node,
        &["register", "birth", "--file", &file],
        &[("LANG", "C")],
    ));
    let albanian = c.validation(Lang::Sq, "jmbg.checksum");
    assert!(o.stderr.contains(&albanian), "{}", o.stderr);
    assert!(o.stderr.starts_with("gabim: "), "{}", o.stderr);
    assert_empty(&node);
}

#[test]
fn an_unknown_language_is_refused_with_the_choices() {
    let node = TestNode::new();
    for (args, vars) in [
        (&["--lang", "xx", "status"][..], &[][..]),
        (&["status"][..], &[("CIVREG_LANG", "xx")][..]),
    ] {
        let o = run_command(in_locale(&node, args, vars));
        assert_eq!(o.code, 2, "{o:?}");
        assert!(o.stderr.contains("xx"), "{}", o.stderr);
        for tag in ["sq", "sr-Latn", "sr-Cyrl", "en"] {
            assert!(o.stderr.contains(tag), "{tag}: {}", o.stderr);
        }
    }
    // An unknown language in the locale is no error: the default.
    let o = run_command(in_locale(&node, &["status"], &[("LANG", "de_DE.UTF-8")]));
    assert_eq!(o.code, 0, "{o:?}");
    let sync = Catalog::get().text(Lang::Sq, "cli-status-sync");
    assert!(o.stdout.contains(&format!("{sync}:")), "{}", o.stdout);
}

#[test]
fn search_status_and_common_errors_speak_the_clerks_language() {
    let node = TestNode::new();
    let c = Catalog::get();
    node.register_file("birth", &example("birth.json"));

    // The search's header, in Albanian: the local answer and why it is local.
    let o = run_command(in_locale(&node, &["search", "Arben"], &[("LANG", "sq_XK")])).ok();
    let why = c.text(Lang::Sq, "cli-search-why-not-enrolled");
    let header = c.format(Lang::Sq, "cli-search-local", &[("why", Arg::from(why))]);
    assert_eq!(
        o.stdout.lines().next(),
        Some(header.as_str()),
        "{}",
        o.stdout
    );
    assert!(o.stdout.contains("PRISHTINE-"), "{}", o.stdout);
    // The hit's summary too, as `show` says it; in English as the record's own summary.
    let summary = |lang| {
        c.format(
            lang,
            "cli-summary-birth",
            &[
                ("name", Arg::from("Arben Gashi")),
                ("date", Arg::from("1968-03-14")),
                ("place", Arg::from("Prizren")),
            ],
        )
    };
    assert!(o.stdout.contains(&summary(Lang::Sq)), "{}", o.stdout);
    let regno = "PRISHTINE-2026-B-000001";
    let o = run_command(in_locale(&node, &["--lang", "sr-Cyrl", "show", regno], &[])).ok();
    assert!(
        o.stdout
            .starts_with(&format!("{regno} — {}", summary(Lang::SrCyrl))),
        "{}",
        o.stdout
    );
    let o = node.run(&["show", regno]).ok();
    assert!(
        o.stdout.starts_with(&format!(
            "{regno} — Arben Gashi, born 1968-03-14 in Prizren"
        )),
        "{}",
        o.stdout
    );
    let o = run_command(in_locale(&node, &["--lang", "sq", "search", "Zzyzx"], &[])).ok();
    assert!(
        o.stdout.contains(&c.text(Lang::Sq, "cli-search-none")),
        "{}",
        o.stdout
    );

    // An unknown record and a wrong password, in Serbian (Latin).
    let o = run_command(in_locale(
        &node,
        &["--lang", "sr-Latn", "show", "PRISHTINE-2026-B-000099"],
        &[],
    ));
    assert_eq!(o.code, 1, "{o:?}");
    let want = c.format(
        Lang::SrLatn,
        "cli-err-not-found",
        &[("regno", Arg::from("PRISHTINE-2026-B-000099"))],
    );
    assert!(o.stderr.contains(&want), "{}", o.stderr);
    let o = run_command(in_locale(
        &node,
        &[
            "--lang",
            "sr-Latn",
            "void",
            "PRISHTINE-2026-B-000001",
            "--reason",
            "x",
        ],
        &[("CIVREG_CLERK_PASSWORD", "not-the-password")],
    ));
    assert_eq!(o.code, 1, "{o:?}");
    assert!(
        o.stderr
            .contains(&c.text(Lang::SrLatn, "cli-err-bad-credentials")),
        "{}",
        o.stderr
    );

    // status in Cyrillic.
    let o = run_command(in_locale(&node, &["--lang", "sr-Cyrl", "status"], &[])).ok();
    assert!(
        o.stdout
            .contains(&c.text(Lang::SrCyrl, "cli-status-not-enrolled")),
        "{}",
        o.stdout
    );
    assert!(has_cyrillic(&o.stdout), "{}", o.stdout);
}

#[test]
fn an_imports_rejected_rows_give_their_reasons_in_the_language_asked_for() {
    let node = TestNode::new();
    let csv = node.dir.path().join("pages.csv");
    std::fs::write(
        &csv,
        "kind,child.given_name,child.surname,child.sex,child.date_of_birth,place_of_birth,mother.given_name,mother.surname\n\
         birth,Arben,Gashi,male,14.03.1968,Prizren,Drita,Gashi\n\
         birth,Besa,Krasniqi,female,xx.yy.1970,Prizren,Vjosa,Krasniqi\n",
    )
    .unwrap();
    let file = csv.to_str().unwrap();
    let c = Catalog::get();
    let o = run_command(in_locale(
        &node,
        &["--lang", "sr-Cyrl", "import", file],
        &[("LANG", "en_US.UTF-8")],
    ));
    assert_eq!(o.code, 1, "a rejected row: {o:?}");
    let cyrillic = c.text(Lang::SrCyrl, "import-r-value");
    assert!(has_cyrillic(&cyrillic), "{cyrillic}");
    assert!(o.stdout.contains(&cyrillic), "{}", o.stdout);
    // The same row again, in English: the English sentence, and `--json` stays English.
    let o = run_command(in_locale(
        &node,
        &["--lang", "en", "--json", "import", file],
        &[],
    ));
    assert!(!has_cyrillic(&o.stdout), "{}", o.stdout);
    assert!(
        o.stdout.contains("\"line\":3") || o.stdout.contains("\"line\": 3"),
        "{}",
        o.stdout
    );
}
