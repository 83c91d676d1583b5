//! Identity linkage at the hub: `civreg-hub import` (historic register pages), `match dedupe`
//! and `match link` (the Fellegi-Sunter matcher over the register), the `duplicates` review
//! queue, and `synth` (a seeded synthetic register to try them on).

use super::args::{DuplicatesCommand, MatchCommand};
use super::{ask, municipality_code, operator_label, print, print_answer, Ctx};
use crate::control;
use crate::control::answer::{CaseSide, CaseView, ClusterView, DedupeAnswer};
use crate::linkage::clusters::{Cluster, ClusterDecision};
use crate::linkage::duplicates::Case;
use crate::linkage::import::ImportReport;
use crate::linkage::matching::LinkReport;
use crate::linkage::models::{ModelInfo, ModelUse};
use anyhow::{Context, Result};
use civreg_shared::i18n::{Arg, Catalog, Lang};
use serde::Serialize;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};

/// `civreg-hub import FILE --municipality M`. Exits 1 when rows were rejected.
pub(super) fn import(
    ctx: &Ctx,
    file: &Path,
    municipality: &str,
    operator: String,
    report: Option<PathBuf>,
) -> Result<()> {
    let path = std::fs::canonicalize(file)
        .with_context(|| format!("{}: can not read it", file.display()))?;
    let v: ImportReport = ask(
        &ctx.data_dir,
        control::Request::Import {
            path,
            municipality: municipality_code(municipality)?,
            operator,
        },
    )?;
    if let Some(out) = report {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(&out)
                .with_context(|| format!("could not write {}", out.display()))?,
        );
        let sections = [
            ("imported", as_values(&v.imported)?),
            ("skipped", as_values(&v.skipped)?),
            ("rejected", as_values(&v.rejected)?),
        ];
        for (section, rows) in sections {
            for mut row in rows {
                if let serde_json::Value::Object(m) = &mut row {
                    m.insert("status".into(), json!(section));
                }
                writeln!(w, "{row}")?;
            }
        }
        w.flush()?;
    }
    for r in &v.rejected {
        eprintln!("line {}: rejected: {}", r.line, r.reasons.join("; "));
    }
    say_model(v.model.as_ref());
    for d in &v.double_entries {
        eprintln!(
            "line {}: suspected double entry, identical to line {} (no register reference): imported as {}, check the register page",
            d.line, d.same_as_line, d.regno
        );
    }
    print_answer(ctx.json, &v, || {
        format!(
            "{} rows: {} imported into {} ({} suspected double entries), {} skipped (already imported), {} rejected\npeople: {} matched to the register, {} possible matches filed for review (`civreg-hub duplicates list`), {} new\nreview queue: {} open case(s) closed (their two sides are now one person), {} case(s) proposed for the parents of children linked",
            v.rows, v.imported.len(), v.municipality,
            v.double_entries.len(), v.skipped.len(), v.rejected.len(), v.matched, v.possible, v.new,
            v.moot_closed, v.parents_proposed
        )
    })?;
    // Rejected rows: exit 1, as `civreg-node import` does (the output is complete).
    if !v.rejected.is_empty() {
        let _ = std::io::stdout().flush();
        std::process::exit(1);
    }
    Ok(())
}

/// Each item as JSON (object keys in order).
fn as_values<T: Serialize>(items: &[T]) -> Result<Vec<serde_json::Value>> {
    items
        .iter()
        .map(|i| serde_json::to_value(i).context("a row could not be written as JSON"))
        .collect()
}

/// `civreg-hub match dedupe|link`.
pub(super) fn matching(ctx: &Ctx, command: MatchCommand) -> Result<()> {
    match command {
        MatchCommand::Dedupe {
            municipality,
            threshold,
            report_only,
            retrain,
            out,
        } => {
            let m = municipality.map(|m| municipality_code(&m)).transpose()?;
            let r: DedupeAnswer = ask(
                &ctx.data_dir,
                control::Request::MatchDedupe {
                    municipality: m,
                    threshold,
                    report_only,
                    retrain,
                },
            )?;
            write_dedupe(ctx.json, &r, out.as_deref())
        }
        MatchCommand::Link {
            file,
            out,
            expect_matches,
            threshold,
            possible,
            retrain,
        } => {
            let path = std::fs::canonicalize(&file)
                .with_context(|| format!("{}: can not read it", file.display()))?;
            let params = crate::linkage::matching::LinkParams {
                expect_matches,
                threshold,
                possible,
                retrain,
            };
            let r: LinkReport = ask(&ctx.data_dir, control::Request::MatchLink { path, params })?;
            write_link(ctx.json, &r, out.as_deref())
        }
        MatchCommand::Train { operator } => {
            let info: ModelInfo = ask(
                &ctx.data_dir,
                control::Request::MatchTrain {
                    operator: operator_label(&operator),
                },
            )?;
            print_answer(ctx.json, &info, || {
                format!(
                    "model {} trained on {} people and saved as the one in use (Match from {:.1} bits, Possible from {:.1})",
                    info.id, info.people, info.thresholds.matched, info.thresholds.possible
                )
            })
        }
        MatchCommand::Models => {
            let list: Vec<ModelInfo> = ask(&ctx.data_dir, control::Request::MatchModels)?;
            print_answer(ctx.json, &list, || {
                if list.is_empty() {
                    return "no model saved yet: `civreg-hub match train` trains one (or the first `match` or `import` does)".to_string();
                }
                list.iter()
                    .map(|m| {
                        format!(
                            "{} {}  trained {} on {} people by {}, format {}, Match from {:.1} bits, Possible from {:.1}",
                            if m.current { "*" } else { " " },
                            m.id,
                            utc(m.trained_at_ms),
                            m.people,
                            m.by,
                            m.format,
                            m.thresholds.matched,
                            m.thresholds.possible
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })
        }
    }
}

/// A time in milliseconds as UTC, to the second.
fn utc(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(crate::pki::format_utc)
        .unwrap_or_else(|_| format!("{ms} ms"))
}

/// Which saved model a run used, and the note that goes with it, on standard error.
fn say_model(m: Option<&ModelUse>) {
    let Some(m) = m else { return };
    eprintln!(
        "model {} ({}, trained on {} people{})",
        m.id,
        utc(m.trained_at_ms),
        m.trained_on,
        if m.trained_now {
            ", trained by this run"
        } else {
            ""
        }
    );
    if let Some(note) = &m.note {
        eprintln!("{note}");
    }
}

/// One CSV cell, as a report's JSON value reads in a spreadsheet.
enum Cell<'a> {
    Text(&'a str),
    Empty,
    /// A number as JSON writes it.
    Number(String),
    /// Lists (agreeing fields, notes) as one cell, `;`-separated.
    List(&'a [String]),
}

impl Cell<'_> {
    fn number<N: Serialize>(n: N) -> Cell<'static> {
        match serde_json::to_value(n) {
            Ok(serde_json::Value::Null) | Err(_) => Cell::Empty,
            Ok(v) => Cell::Number(v.to_string()),
        }
    }

    fn text(s: Option<&str>) -> Cell<'_> {
        s.map_or(Cell::Empty, Cell::Text)
    }

    fn csv(&self) -> String {
        let quoted = |s: &str| {
            if s.contains(',') || s.contains('"') {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        match self {
            Cell::Text(s) => quoted(s),
            Cell::Empty => String::new(),
            Cell::Number(n) => n.clone(),
            Cell::List(items) => quoted(&items.join("; ")),
        }
    }
}

/// A dedupe or link report's rows: JSON Lines with --json, else CSV, to a file or stdout.
fn write_rows<T: Serialize>(
    json_mode: bool,
    header: &str,
    items: &[T],
    cells: impl Fn(&T) -> Vec<Cell<'_>>,
    out: Option<&Path>,
) -> Result<()> {
    let mut w: Box<dyn Write> = match out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("could not write {}", p.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    };
    if !json_mode {
        writeln!(w, "{header}")?;
    }
    for it in items {
        if json_mode {
            let v = serde_json::to_value(it).context("a row could not be written as JSON")?;
            writeln!(w, "{v}")?;
        } else {
            let line: Vec<String> = cells(it).iter().map(Cell::csv).collect();
            writeln!(w, "{}", line.join(","))?;
        }
    }
    w.flush()?;
    Ok(())
}

/// Writes a dedupe report (JSON Lines with --json, else CSV); a summary goes to standard error.
fn write_dedupe(json_mode: bool, r: &DedupeAnswer, out: Option<&Path>) -> Result<()> {
    let rep = &r.report;
    write_rows(
        json_mode,
        "a,b,class,weight,probability",
        &rep.pairs,
        |p| {
            vec![
                Cell::Text(&p.a),
                Cell::Text(&p.b),
                Cell::Text(&p.class),
                Cell::number(p.weight),
                Cell::number(p.probability),
            ]
        },
        out,
    )?;
    eprintln!(
        "{} probable duplicate pairs among {} people (threshold {:.1}, {} pairs compared)",
        rep.pairs.len(),
        rep.people,
        rep.threshold,
        rep.pairs_compared
    );
    say_model(rep.model.as_ref());
    Ok(())
}

/// Writes a link report (JSON Lines with --json, else CSV); the rejected rows and a summary go
/// to standard error.
fn write_link(json_mode: bool, r: &LinkReport, out: Option<&Path>) -> Result<()> {
    write_rows(
        json_mode,
        "line,id,class,record,role,person,weight,probability,match_from,possible_from,agree,disagree,notes",
        &r.rows,
        |row| {
            vec![
                Cell::number(row.line),
                Cell::Text(&row.id),
                Cell::Text(&row.class),
                Cell::text(row.record.as_deref()),
                Cell::text(row.role.as_deref()),
                Cell::text(row.person.as_deref()),
                Cell::number(row.weight),
                Cell::number(row.probability),
                Cell::number(row.thresholds.map(|t| t.matched)),
                Cell::number(row.thresholds.map(|t| t.possible)),
                Cell::List(&row.agree),
                Cell::List(&row.disagree),
                Cell::List(&row.notes),
            ]
        },
        out,
    )?;
    for rej in &r.rejected {
        eprintln!("line {}: rejected: {}", rej.line, rej.reason);
    }
    let by_class = |c: &str| r.rows.iter().filter(|i| i.class == c).count();
    eprintln!("{}", prior_text(&r.prior, super::operator_lang()));
    eprintln!(
        "{} rows linked against {} people: {} match, {} possible, {} new; {} rejected",
        r.rows.len(),
        r.register_people,
        by_class("match"),
        by_class("possible"),
        by_class("new"),
        r.rejected.len()
    );
    say_model(r.model.as_ref());
    Ok(())
}

/// A link job's prior in the operator's language: the overall thresholds, then the share and
/// the thresholds of each kind of row (the identifying fields its rows lack), as the job
/// classes them.
fn prior_text(p: &civreg_shared::linkage::LinkPrior, lang: Lang) -> String {
    let c = Catalog::get();
    let bits = |b: f64| format!("{b:.1}");
    let source = match p.source.as_str() {
        "expected by the user" => c.text(lang, "cli-link-source-user"),
        "deterministic rules" => c.text(lang, "cli-link-source-rules"),
        s if s.starts_with("deterministic rules, refined by EM") => {
            c.text(lang, "cli-link-source-refined")
        }
        s => s.to_string(),
    };
    let mut out = c.format(
        lang,
        if p.thresholds_given {
            "cli-link-prior-given"
        } else {
            "cli-link-prior"
        },
        &[
            ("expected", format!("{:.0}", p.expected_matches).into()),
            ("source", source.into()),
            ("lambda", format!("{:.2e}", p.lambda).into()),
            ("match", bits(p.thresholds.matched).into()),
            ("possible", bits(p.thresholds.possible).into()),
        ],
    );
    for k in &p.by_kind {
        let args = [
            ("rows", Arg::Num(k.rows as f64)),
            ("share", format!("{:.3}", k.share).into()),
            (
                "match",
                k.thresholds.map_or("?".into(), |t| bits(t.matched)).into(),
            ),
            (
                "possible",
                k.thresholds.map_or("?".into(), |t| bits(t.possible)).into(),
            ),
        ];
        out.push('\n');
        if k.lacks.is_empty() {
            out.push_str(&c.format(lang, "cli-link-kind-complete", &args));
        } else {
            let lacks: Vec<String> = k
                .lacks
                .iter()
                .map(|f| {
                    let key = format!("cli-link-field-{}", f.replace('_', "-"));
                    if c.has(lang, &key) {
                        c.text(lang, &key)
                    } else {
                        f.clone()
                    }
                })
                .collect();
            let mut all: Vec<(&str, Arg)> = args.into();
            all.push(("lacks", lacks.join(", ").into()));
            out.push_str(&c.format(lang, "cli-link-kind", &all));
        }
    }
    out
}

/// `civreg-hub duplicates COMMAND`.
pub(super) fn duplicates(ctx: &Ctx, command: DuplicatesCommand) -> Result<()> {
    let data_dir = &ctx.data_dir;
    let decide = |id: String, action: &str, reason: String, operator: String| {
        ask::<Case>(
            data_dir,
            control::Request::DuplicatesDecide {
                id,
                action: action.into(),
                operator,
                reason,
            },
        )
    };
    let c = match command {
        DuplicatesCommand::List { municipality, all } => {
            let m = municipality.map(|m| municipality_code(&m)).transpose()?;
            let cases: Vec<Case> = ask(
                data_dir,
                control::Request::DuplicatesList {
                    municipality: m,
                    all,
                },
            )?;
            return print_answer(ctx.json, &cases, || {
                if cases.is_empty() {
                    return "no duplicates waiting".into();
                }
                cases
                    .iter()
                    .map(|c| {
                        format!(
                            "{}  {:<9} weight {:>6.1}  {}  {}  ({}, {})",
                            c.id,
                            c.status.as_str(),
                            c.weight,
                            c.a,
                            c.b,
                            c.class,
                            c.source
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        DuplicatesCommand::Illegible { municipality } => {
            let m = municipality.map(|m| municipality_code(&m)).transpose()?;
            let w: crate::linkage::illegible::Waiting = ask(
                data_dir,
                control::Request::DuplicatesIllegible { municipality: m },
            )?;
            return print_answer(ctx.json, &w, || {
                if w.total == 0 {
                    return "no entries with an illegible given name waiting".into();
                }
                let mut lines: Vec<String> = w
                    .entries
                    .iter()
                    .map(|e| {
                        format!(
                            "{}  {:<8} surname {}  ({} line {}, imported by {})",
                            e.regno, e.role, e.surname, e.file, e.line, e.operator
                        )
                    })
                    .collect();
                if w.total > w.entries.len() as u64 {
                    lines.push(format!("... and {} more", w.total - w.entries.len() as u64));
                }
                lines.join("\n")
            });
        }
        DuplicatesCommand::Show { id, operator } => {
            let v: CaseView = ask(
                data_dir,
                control::Request::DuplicatesShow {
                    id,
                    by: operator_label(&operator),
                },
            )?;
            return print_answer(ctx.json, &v, || {
                let side = |label: &str, s: &CaseSide| {
                    format!(
                        "{label}: {} ({}), person {}\n{}",
                        s.mention,
                        s.view.kind.as_str(),
                        s.view.persons.get(&s.role).map_or("?", String::as_str),
                        serde_json::to_string_pretty(&s.view.record).unwrap_or_default()
                    )
                };
                let proposed = v.case.proposed.as_ref().map_or(String::new(), |p| {
                    format!(
                        "\nproposed: the parents of a person linked on {} by {} ({})",
                        utc(p.at_ms),
                        p.operator,
                        p.children.join(" = ")
                    )
                });
                format!(
                    "case {}: {} (weight {:.1}, probability {:.3}, found by {}){}\n\n{}\n\n{}",
                    v.case.id,
                    v.case.status.as_str(),
                    v.case.weight,
                    v.case.probability,
                    v.case.source,
                    proposed,
                    side("A", &v.a),
                    side("B", &v.b)
                )
            });
        }
        DuplicatesCommand::Link {
            id,
            reason,
            operator,
        } => decide(id, "link", reason, operator)?,
        DuplicatesCommand::Dismiss {
            id,
            reason,
            operator,
        } => decide(id, "dismiss", reason, operator)?,
        DuplicatesCommand::Unlink {
            id,
            reason,
            operator,
        } => decide(id, "unlink", reason, operator)?,
        DuplicatesCommand::Clusters { municipality } => {
            let m = municipality.map(|m| municipality_code(&m)).transpose()?;
            let list: Vec<Cluster> = ask(
                data_dir,
                control::Request::DuplicatesClusters { municipality: m },
            )?;
            return print_answer(ctx.json, &list, || {
                if list.is_empty() {
                    return "no duplicates waiting".into();
                }
                list.iter()
                    .map(|c| {
                        format!(
                            "{}  {} records, {} people, {} open cases, weight {:.1} to {:.1}  ({}){}",
                            c.id,
                            c.size,
                            c.nodes.len(),
                            c.cases.len(),
                            c.weakest,
                            c.strongest,
                            c.municipalities.join(", "),
                            if c.too_large() {
                                "  too large for one decision: decide its cases one by one"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        DuplicatesCommand::Cluster { id, operator } => {
            let v: ClusterView = ask(
                data_dir,
                control::Request::DuplicatesCluster {
                    id,
                    by: operator_label(&operator),
                },
            )?;
            return print_answer(ctx.json, &v, || cluster_text(&v));
        }
        DuplicatesCommand::DecideCluster {
            id,
            one_person,
            group,
            version,
            reason,
            operator,
        } => {
            let groups = if one_person {
                None
            } else if group.is_empty() {
                anyhow::bail!("say what the records are: --one-person, or --group REGNO/ROLE=N for every record of the cluster (`civreg-hub duplicates cluster {id}` lists them)");
            } else {
                let mut g = std::collections::BTreeMap::new();
                for item in &group {
                    let (m, n) = item.rsplit_once('=').with_context(|| {
                        format!("--group {item:?}: expected REGNO/ROLE=N, e.g. PRISHTINE-2026-B-000042/child=2")
                    })?;
                    g.insert(m.trim().to_string(), n.trim().to_string());
                }
                Some(g)
            };
            let d: ClusterDecision = ask(
                data_dir,
                control::Request::DuplicatesDecideCluster {
                    id,
                    version,
                    groups,
                    operator,
                    reason,
                },
            )?;
            return print_answer(ctx.json, &d, || {
                format!(
                    "cluster {}: {} person(s); {} case(s) closed as linked, {} dismissed ({} op(s) in the hub's log; the records' offices receive them with their next pull)",
                    d.cluster,
                    d.groups.len(),
                    d.linked.len(),
                    d.dismissed.len(),
                    d.ops.len()
                )
            });
        }
    };
    print_answer(ctx.json, &c, || {
        let ops = c.decisions.last().map_or(0, |d| d.ops.len());
        format!(
            "case {}: {} ({} op(s) in the hub's log; the records' offices receive them with their next pull)",
            c.id,
            c.status.as_str(),
            ops
        )
    })
}

/// A cluster as text: its records side by side (the principal's fields, one column each), its
/// cases and its earlier decisions.
fn cluster_text(v: &ClusterView) -> String {
    let c = &v.cluster;
    let mut out = format!(
        "cluster {} (version {}): {} records, {} people, {} open cases, weight {:.1} to {:.1}\n",
        c.id,
        c.version,
        c.size,
        c.nodes.len(),
        c.cases.len(),
        c.weakest,
        c.strongest
    );
    let mut fields: std::collections::BTreeSet<String> = Default::default();
    let principal: Vec<std::collections::BTreeMap<String, String>> = v
        .records
        .iter()
        .map(|r| {
            let mut m = std::collections::BTreeMap::new();
            if let Some(serde_json::Value::Object(p)) = r.view.record.get(&r.role) {
                for (k, val) in p {
                    let text = match val {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    fields.insert(k.clone());
                    m.insert(k.clone(), text);
                }
            }
            m
        })
        .collect();
    for (i, r) in v.records.iter().enumerate() {
        out.push_str(&format!(
            "#{} {} person {}\n",
            i + 1,
            r.mention,
            r.view.persons.get(&r.role).map_or("?", String::as_str)
        ));
    }
    for f in &fields {
        let vals: Vec<&str> = principal
            .iter()
            .map(|m| m.get(f).map_or("-", String::as_str))
            .collect();
        out.push_str(&format!("  {f}: {}\n", vals.join(" | ")));
    }
    out.push_str("cases:\n");
    let n_of: std::collections::BTreeMap<&String, usize> =
        c.mentions().enumerate().map(|(i, m)| (m, i + 1)).collect();
    for k in &c.cases {
        out.push_str(&format!(
            "  {}  #{} #{}  weight {:.1}  ({})\n",
            k.id,
            n_of.get(&k.a).copied().unwrap_or(0),
            n_of.get(&k.b).copied().unwrap_or(0),
            k.weight,
            k.class
        ));
    }
    for d in &v.decisions {
        out.push_str(&format!(
            "decided {} by {}: {} ({} linked, {} dismissed)\n",
            d.choice,
            d.operator,
            d.reason,
            d.linked.len(),
            d.dismissed.len()
        ));
    }
    out.trim_end().to_string()
}

/// `civreg-hub synth`: a seeded synthetic register as the importer's CSV, and its truth.
pub(super) fn synth(ctx: &Ctx, records: u64, seed: u64, out: &Path) -> Result<()> {
    use civreg_shared::synth::population::{Population, PopulationConfig};
    use civreg_shared::synth::write::{CsvWriter, TruthWriter};
    std::fs::create_dir_all(out).with_context(|| format!("could not create {}", out.display()))?;
    let file = |name: &str| -> Result<std::io::BufWriter<std::fs::File>> {
        let p = out.join(name);
        Ok(std::io::BufWriter::new(
            std::fs::File::create(&p)
                .with_context(|| format!("could not write {}", p.display()))?,
        ))
    };
    let mut csv = CsvWriter::new(file("records.csv")?)?;
    let mut truth = TruthWriter::new(file("truth.jsonl")?);
    let (mut n, mut dups) = (0u64, 0u64);
    for r in Population::new(PopulationConfig::new(seed, records)) {
        csv.write_synth(&r)?;
        truth.write(&r.truth)?;
        n += 1;
        dups += u64::from(r.truth.duplicate_of.is_some());
    }
    csv.finish()?;
    truth.finish()?;
    print(
        ctx.json,
        json!({"ok": true, "records": n, "duplicates": dups, "dir": out}),
        || {
            format!(
            "{n} records ({dups} corrupted duplicates) in {}/records.csv, truth in {}/truth.jsonl",
            out.display(),
            out.display()
        )
        },
    );
    Ok(())
}
