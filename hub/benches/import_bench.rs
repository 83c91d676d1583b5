//! Central import benchmark: `civreg-hub import` of historic register pages, as the library call
//! that the command makes (`civreg_hub::linkage::import::import_file`), into a real hub store on disk.
//!
//! Data (fixed seed, so runs compare): the seeded synthetic population of `civreg_shared::synth`
//! (births, marriages, deaths of the 38 municipalities, both scripts, families, valid personal
//! numbers), written as the importer's CSV with the municipality column left empty (the import
//! names it). The records that are not planted corrupted copies form the *register* file; the
//! planted copies (typos, OCR confusions, dropped diacritics, transliteration, swapped day and
//! month, maiden/married surnames, a wrong digit in a personal number, places in the other
//! language) form the *caseload* file. Both are imported into one municipality, register first.
//!
//! Figures:
//! - rows per second of each import, wall time from the call to its report (reading, validating,
//!   minting numbers and person identifiers, linking, one atomic batch and flush per 256 rows);
//!   the caseload import also trains the matcher on the register and indexes it first;
//! - how the caseload's principals were classed (match, possible, new), and against the ground
//!   truth: the share of copies found as the person they copy (recall, match or possible) and the
//!   share of matches that are right (precision). A match to another record of the same person
//!   (the birth of the deceased, say) counts as right;
//! - the process's peak resident memory (`VmHWM`), which includes the data generation.
//!
//! ```text
//! cargo bench -p civreg-hub --bench import_bench                # 200,000 records
//! cargo bench -p civreg-hub --bench import_bench -- --write     # also update BENCHMARKS.md
//! cargo bench -p civreg-hub --bench import_bench -- --quick     # 5,000 records
//! cargo bench -p civreg-hub --bench import_bench -- --records N
//! ```

#[path = "support/mod.rs"]
mod support;

/// The same allocator as the hub binary, so that the hub measured here runs as it does there.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

use civreg_hub::linkage::import::import_file;
use civreg_hub::search::Blinder;
use civreg_hub::store::HubStore;
use civreg_shared::synth::population::{Population, PopulationConfig};
use civreg_shared::synth::write::CsvWriter;
use std::collections::HashMap;
use std::time::Instant;

const SEED: u64 = 20261122;
const MUNICIPALITY: &str = "prishtine";

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let quick = args.iter().any(|a| a == "--quick");
    let write = args.iter().any(|a| a == "--write");
    let n: u64 = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(if quick { 5_000 } else { 200_000 });
    let dir = tempfile::tempdir_in(concat!(env!("CARGO_MANIFEST_DIR"), "/../target"))
        .or_else(|_| tempfile::tempdir())
        .expect("temp dir");

    // The two files, and the truth: who each role of each row is.
    let t0 = Instant::now();
    let file =
        |name: &str| std::io::BufWriter::new(std::fs::File::create(dir.path().join(name)).unwrap());
    let mut register = CsvWriter::new(file("register.csv")).unwrap();
    let mut caseload = CsvWriter::new(file("caseload.csv")).unwrap();
    let mut register_entities: Vec<HashMap<String, u64>> = Vec::new();
    let mut copy_entities: Vec<HashMap<String, u64>> = Vec::new();
    for r in Population::new(PopulationConfig::new(SEED, n)) {
        let Ok(rec) = r.record() else { continue };
        let mut doc = rec.to_json();
        if let Some(o) = doc.as_object_mut() {
            o.remove("municipality");
        }
        let entities: HashMap<String, u64> = r
            .truth
            .entities
            .iter()
            .map(|(role, e)| (role.to_string(), *e))
            .collect();
        if r.truth.duplicate_of.is_some() {
            caseload.write(r.kind, &doc).unwrap();
            copy_entities.push(entities);
        } else {
            register.write(r.kind, &doc).unwrap();
            register_entities.push(entities);
        }
    }
    register.finish().unwrap();
    caseload.finish().unwrap();
    let generated = t0.elapsed().as_secs_f64();

    let store = HubStore::open(
        &dir.path().join("db"),
        civreg_hub::atrest::keys_from_master(&[7; 32]),
    )
    .expect("hub store");
    let blinder = Blinder::open(&dir.path().join("search.key")).expect("key");
    let run = |name: &str| {
        let t = Instant::now();
        let r = import_file(
            &store,
            &blinder,
            &dir.path().join(name),
            MUNICIPALITY,
            "bench",
            &mut |_, _, _| {},
        )
        .expect("import");
        (r, t.elapsed().as_secs_f64())
    };
    let (r1, t1) = run("register.csv");
    assert_eq!(
        r1.imported.len(),
        register_entities.len(),
        "every register row imported"
    );
    let (r2, t2) = run("caseload.csv");
    assert_eq!(
        r2.imported.len(),
        copy_entities.len(),
        "every copy imported"
    );

    // Quality against the truth.
    let mut entity_of: HashMap<String, u64> = HashMap::new();
    for (imp, ents) in r1.imported.iter().zip(&register_entities) {
        for (role, e) in ents {
            entity_of.insert(format!("{}/{role}", imp.regno), *e);
        }
    }
    let (mut found, mut matched, mut right) = (0u64, 0u64, 0u64);
    for (imp, ents) in r2.imported.iter().zip(&copy_entities) {
        let same = |p: &civreg_hub::linkage::import::Principal| {
            p.candidate
                .as_ref()
                .and_then(|c| entity_of.get(c))
                .is_some_and(|e| ents.get(&p.role) == Some(e))
        };
        if imp.people.iter().any(|p| p.outcome != "new" && same(p)) {
            found += 1;
        }
        for p in imp.people.iter().filter(|p| p.outcome == "match") {
            matched += 1;
            right += u64::from(same(p));
        }
    }
    let copies = copy_entities.len() as f64;
    let recall = found as f64 / copies.max(1.0);
    let precision = right as f64 / (matched as f64).max(1.0);
    let peak = peak_rss_mib();

    let (date, commit) = support::measured();
    let mut s = String::new();
    s.push_str(&format!(
        "## Central import — {date}, commit `{commit}`{}\n\n",
        if quick { " (quick run)" } else { "" }
    ));
    s.push_str(&format!(
        "`cargo bench -p civreg-hub --bench import_bench -- --write`: {n} generated records (seed {SEED}, {generated:.1} s to generate), {} register rows and {} planted copies, all imported into `{MUNICIPALITY}` on a hub store on disk.\n\n",
        register_entities.len(),
        copy_entities.len()
    ));
    s.push_str(
        "| import | rows | wall | rows/s | outcome of the principals |\n|---|---|---|---|---|\n",
    );
    s.push_str(&format!(
        "| register (empty register: nothing to match) | {} | {t1:.1} s | {:.0} | {} new |\n",
        r1.rows,
        r1.rows as f64 / t1,
        r1.new
    ));
    s.push_str(&format!(
        "| caseload of copies (matcher trained on the {} people of the register first) | {} | {t2:.1} s | {:.0} | {} match, {} possible (review queue), {} new |\n\n",
        r2.register_people,
        r2.rows,
        r2.rows as f64 / t2,
        r2.matched,
        r2.possible,
        r2.new
    ));
    s.push_str(&format!(
        "Copies found as the person they copy (match or possible): **{found} of {} (recall {recall:.3})**; matches that are right: **{right} of {matched} (precision {precision:.3})**. Process peak RSS (with generation): {peak:.0} MiB.\n\n",
        copy_entities.len()
    ));
    print!("{s}");
    if write {
        support::write_section("import-bench", &s);
    }
}
