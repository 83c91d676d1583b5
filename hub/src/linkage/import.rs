//! `civreg-hub import FILE.csv --municipality M`: historic register pages loaded centrally.
//!
//! The file has the columns of `civreg-node import` ([`civreg_shared::csvrows`]) and its rows are
//! validated the same way; a row that fails is reported with its line and every reason, and the
//! others are still imported. Each accepted row becomes a record owned by municipality M under a
//! number the hub mints (`M-YEAR-KIND-HUB-SEQ`), created by an op of the hub's own chain, so M's
//! offices receive it through pull like any other change.
//!
//! Each record's principal people (the child of a birth, the deceased, both spouses) are linked
//! to the register with the matcher of `match link`, trained on the register as it stands:
//! - **match**: the person is already in the register; a link op attaches them to that
//!   person's identifier;
//! - **possible**: a case in the duplicates queue for an operator;
//! - **new**: a person the register did not know; they get an identifier of their own.
//!
//! A register entry (book, year, page, entry) already imported into M, or named by an earlier
//! row of the file, is skipped, and so is a row already imported by an earlier run: a rerun
//! imports nothing twice. A row identical to an earlier row of the file, neither naming a
//! register entry, is imported and reported as a suspected double entry (`double_entries`):
//! it may be the same page typed twice, or two entries that read alike. A person whose given
//! name is empty (illegible in the page) but whose surname is given is imported with the given
//! name marked illegible and filed for review ([`crate::linkage::illegible`], in the group's
//! batch): never refused, never skipped in silence. Rows are committed in
//! groups, each group's ops and bookkeeping (import keys, numbers, links, cases) in one atomic
//! batch with one flush, so an interrupted import resumes cleanly when run again.

use crate::linkage::duplicates::{self, Found};
use crate::linkage::illegible;
use crate::linkage::matching::{self, MatchError};
use crate::linkage::persons::{self, Minting, PersonError};
use crate::search::Blinder;
use crate::store::{AuxReads, AuxWrite, HubStore, StoreError};
use civreg_shared::csvrows::{self, DoubleEntry, HeaderError, Rejected, Seen, SeenRows, Skipped};
use civreg_shared::fields::{self, FieldChange};
use civreg_shared::gazetteer;
use civreg_shared::ids::{PersonId, RegNo, HUB_NODE_ID};
use civreg_shared::linkage::{self, Class, PersonRecord};
use civreg_shared::model::{Record, RecordKind};
use civreg_shared::op::{ChangeKind, Hlc, Op, OP_FORMAT};
use civreg_shared::validate;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Rows per atomic group.
pub const GROUP: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("{0:?} is not a municipality: use a code from `civreg-hub rollout list`, e.g. istog")]
    Municipality(String),
    #[error("{path}: {why}")]
    File { path: String, why: String },
    #[error("{path}: {source}")]
    Header { path: String, source: HeaderError },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Match(#[from] MatchError),
    #[error(transparent)]
    Person(#[from] PersonError),
    #[error(transparent)]
    Duplicate(#[from] duplicates::DuplicateError),
    #[error("an operator name is required: imports are recorded under who ran them")]
    OperatorRequired,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Principal {
    pub role: String,
    /// `match`, `possible` or `new`.
    pub outcome: String,
    /// For a match, the person identifier the mention now is (the register person's). A new
    /// or possible person's own identifier is drawn the first time it is shown or linked
    /// (`civreg-hub show`, `person`, `duplicates`), not here: an import of millions of rows
    /// does not pay for identifiers nobody has asked for yet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub person: Option<String>,
    /// The register's best candidate (`REGNO/ROLE`), for a match or a possible match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub candidate: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    /// The duplicates case filed for a possible match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub case: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Imported {
    pub line: u64,
    pub regno: String,
    pub people: Vec<Principal>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct ImportReport {
    pub municipality: String,
    pub rows: u64,
    pub register_people: usize,
    pub matched: u64,
    pub possible: u64,
    pub new: u64,
    pub imported: Vec<Imported>,
    pub skipped: Vec<Skipped>,
    pub rejected: Vec<Rejected>,
    /// Rows identical to an earlier row of the file, neither naming a register entry:
    /// imported, and listed here for a person to check.
    pub double_entries: Vec<DoubleEntry>,
    /// Open cases of the queue the import's links made moot (closed as linked, `via` it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub moot_closed: u64,
    /// People imported without a given name (illegible in the page), filed for review.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub illegible: u64,
    /// Cases the import proposed for the parents named on the records of a child it linked.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub parents_proposed: u64,
    /// The saved matching model the rows were linked with (none for an empty register).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<crate::linkage::models::ModelUse>,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// A row ready to be written.
struct Ready {
    line: u64,
    key: Vec<u8>,
    /// The key is the row's content (it names no register entry).
    by_content: bool,
    record: Record,
    fields: fields::FieldMap,
    warnings: Vec<String>,
    /// People whose given name is illegible: role and surname.
    illegible: Vec<(String, String)>,
}

/// The people of a record document whose given name is empty but whose surname is given (a
/// spouse's surname before or after the marriage): their given name is marked illegible (a
/// central import of historic pages may leave it out, `validate::Origin::CentralImport`).
/// Returns their roles and surnames (a spouse's before the marriage, else after).
fn mark_illegible(doc: &mut serde_json::Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let people: [(&str, &[&str]); 6] = [
        ("child", &["surname"]),
        ("mother", &["surname"]),
        ("father", &["surname"]),
        ("deceased", &["surname"]),
        ("spouse1", &["surname_before", "surname_after"]),
        ("spouse2", &["surname_before", "surname_after"]),
    ];
    for (role, surnames) in people {
        let Some(p) = doc.get_mut(role).and_then(|p| p.as_object_mut()) else {
            continue;
        };
        // An empty cell is an absent field: absent names are empty ones, so that validation
        // names each missing name rather than the record's shape.
        for name in std::iter::once(&"given_name").chain(surnames) {
            p.entry(*name).or_insert_with(|| "".into());
        }
        let given = p.get("given_name").and_then(|v| v.as_str()).unwrap_or("");
        let surname = surnames
            .iter()
            .filter_map(|s| p.get(*s).and_then(|v| v.as_str()))
            .map(str::trim)
            .find(|s| !s.is_empty());
        if let (true, Some(surname)) = (given.trim().is_empty(), surname) {
            let surname = surname.to_string();
            p.insert("given_name".into(), "".into());
            p.insert("given_name_illegible".into(), true.into());
            out.push((role.to_string(), surname));
        }
    }
    out
}

/// The import key of a record: its register entry if it names one (in clear, in register
/// order, so a file typed page by page touches neighbouring keys; a register reference says
/// nothing about a person), else its whole content, blinded with the hub's key (the content
/// holds names and numbers).
pub(crate) fn import_key(blinder: &Blinder, municipality: &str, record: &Record) -> Vec<u8> {
    match record.register() {
        Some(r) => format!(
            "{}r/{municipality}/{}/{}/{:06}/{:08}/{:08}",
            crate::store::aux::IMPORT_KEY,
            record.kind().letter(),
            hex::encode(r.book.trim().to_lowercase().as_bytes()),
            r.year,
            r.page,
            r.entry
        )
        .into_bytes(),
        None => {
            // Hex keeps every part inside the blinder's alphabet, and `Z` separates them.
            let h = |s: &str| hex::encode(s.as_bytes());
            let text = format!(
                "IMPORTZ{}Z{}Z{}",
                h(municipality),
                h(record.kind().as_str()),
                h(&record.to_json().to_string())
            );
            format!(
                "{}c/{}",
                crate::store::aux::IMPORT_KEY,
                blinder.token(&text)
            )
            .into_bytes()
        }
    }
}

fn seq_key(municipality: &str, year: i32, kind: RecordKind) -> Vec<u8> {
    format!(
        "{}{municipality}/{year}/{}",
        crate::store::aux::IMPORT_SEQ,
        kind.letter()
    )
    .into_bytes()
}

/// Parses and validates one row; `Err` is the rejection.
fn check_row(
    header: &[String],
    rec: &csv::StringRecord,
    line: u64,
    municipality: &str,
    blinder: &Blinder,
) -> Result<Ready, Rejected> {
    let reject = |reasons: Vec<String>| Rejected { line, reasons };
    let (kind, mut doc) = csvrows::row_to_doc(header, rec).map_err(reject)?;
    if let Some(obj) = doc.as_object_mut() {
        if let Some(given) = obj.get("municipality").and_then(|v| v.as_str()) {
            if gazetteer::resolve(given).map(|m| m.code) != Some(municipality) {
                return Err(reject(vec![format!(
                    "municipality: the row says {given:?} but this import is for {municipality}"
                )]));
            }
        }
        obj.insert("municipality".into(), municipality.into());
    }
    let illegible = mark_illegible(&mut doc);
    let record = Record::from_json(kind, doc).map_err(|e| reject(vec![e.to_string()]))?;
    let report = validate::validate_as(&record, validate::today(), validate::Origin::CentralImport);
    if report.has_errors() {
        return Err(reject(csvrows::report_reasons(&report)));
    }
    let fields = fields::flatten(&record.to_json()).map_err(|e| reject(vec![e.to_string()]))?;
    Ok(Ready {
        line,
        key: import_key(blinder, municipality, &record),
        by_content: record.register().is_none(),
        record,
        fields,
        warnings: report
            .problems
            .iter()
            .map(|p| format!("{}: {}", p.field, p.message))
            .chain(illegible.iter().map(|(role, _)| {
                format!("{role}.given_name: empty (illegible in the register page): imported without it and filed for review")
            }))
            .collect(),
        illegible,
    })
}

/// What the matcher knows: the model and index of the register as it was when the import began.
struct Linker {
    model: linkage::Model,
    index: linkage::RegisterIndex,
}

/// Imports a CSV file. `progress` gets the rows read so far and the bytes of the file read.
pub fn import_file(
    store: &HubStore,
    blinder: &Blinder,
    path: &Path,
    municipality: &str,
    operator: &str,
    progress: &mut dyn FnMut(u64, u64, u64),
) -> Result<ImportReport, ImportError> {
    if operator.trim().is_empty() {
        return Err(ImportError::OperatorRequired);
    }
    let m = gazetteer::resolve(municipality)
        .ok_or_else(|| ImportError::Municipality(municipality.to_string()))?
        .code;
    let file_err = |why: String| ImportError::File {
        path: path.display().to_string(),
        why,
    };
    let file = std::fs::File::open(path).map_err(|e| file_err(e.to_string()))?;
    let total = file.metadata().map(|md| md.len()).unwrap_or(0);
    // Delimiter, byte-order mark, line ends and header case as people's files have them.
    let mut rdr = csvrows::reader(file).map_err(|e| file_err(e.to_string()))?;
    let header = csvrows::header(
        rdr.headers()
            .map_err(|_| ImportError::Header {
                path: path.display().to_string(),
                source: HeaderError::NoHeader,
            })?
            .iter(),
    )
    .map_err(|source| ImportError::Header {
        path: path.display().to_string(),
        source,
    })?;

    // The matcher, trained on the register as it stands.
    let people = matching::register_people(store, blinder, None)?;
    let mut model_used = None;
    let linker = if people.len() >= 2 {
        let (model, used) = crate::linkage::models::model_for(store, &people, false, "import")?;
        model_used = Some(used);
        let index = linkage::RegisterIndex::build(&model, &people);
        Some(Linker { model, index })
    } else {
        None
    };
    let mut report = ImportReport {
        municipality: m.to_string(),
        register_people: people.len(),
        model: model_used,
        ..Default::default()
    };
    drop(people);

    let file_name = path
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    let clerk = format!("operator:{}", operator.trim());
    let mut seen = SeenRows::default();
    let mut group: Vec<Ready> = Vec::with_capacity(GROUP);
    let mut rec = csv::StringRecord::new();
    loop {
        let line = rdr.position().line() + 1;
        let more = match rdr.read_record(&mut rec) {
            Ok(more) => more,
            Err(e) => {
                report.rows += 1;
                let line = e.position().map(|p| p.line()).unwrap_or(line);
                report.rejected.push(Rejected {
                    line,
                    reasons: vec![format!("the row could not be read: {e}")],
                });
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    return Err(file_err(e.to_string()));
                }
                continue;
            }
        };
        if more {
            report.rows += 1;
            let line = rec.position().map(|p| p.line()).unwrap_or(line);
            match check_row(&header, &rec, line, m, blinder) {
                Ok(r) => group.push(r),
                Err(r) => report.rejected.push(r),
            }
        }
        if group.len() >= GROUP || (!more && !group.is_empty()) {
            let g = std::mem::take(&mut group);
            commit_group(
                store,
                blinder,
                linker.as_ref(),
                m,
                &clerk,
                &file_name,
                g,
                &mut seen,
                &mut report,
            )?;
            progress(report.rows, rdr.position().byte(), total);
        }
        if !more {
            break;
        }
    }
    report.rejected.sort_by_key(|r| r.line);
    Ok(report)
}

/// What a group writes for one row.
enum Item {
    Create(usize),
    Link(usize, Vec<(String, PersonId)>),
}

#[allow(clippy::too_many_arguments)]
fn commit_group(
    store: &HubStore,
    blinder: &Blinder,
    linker: Option<&Linker>,
    m: &str,
    clerk: &str,
    file_name: &str,
    group: Vec<Ready>,
    seen: &mut SeenRows,
    report: &mut ImportReport,
) -> Result<(), ImportError> {
    // Skips: the same register entry as an earlier row of this file. A row identical to an
    // earlier one without a register reference is imported under the key of its occurrence,
    // and reported.
    let mut candidates = Vec::with_capacity(group.len());
    for mut r in group {
        let same_as = match seen.see(&r.key, r.by_content, r.line) {
            Seen::RepeatedEntry => {
                report.skipped.push(Skipped {
                    line: r.line,
                    regno: String::new(),
                    reason: "same register entry as an earlier row of this file".into(),
                });
                continue;
            }
            Seen::First(_) => None,
            Seen::Double { key, same_as_line } => {
                r.key = key;
                Some(same_as_line)
            }
        };
        candidates.push((r, same_as));
    }
    // What the store holds is decided on by compare-and-set (another hub may import into the
    // same municipality, or the same file, at once): when it changed before the group's write,
    // the group is decided again on fresh reads, and only the last decision is reported.
    for _ in 0..HubStore::DECIDE_ATTEMPTS {
        let mut part = ImportReport::default();
        if commit_candidates(
            store,
            linker,
            blinder,
            m,
            clerk,
            file_name,
            &candidates,
            &mut part,
        )? {
            report.matched += part.matched;
            report.possible += part.possible;
            report.new += part.new;
            report.moot_closed += part.moot_closed;
            report.parents_proposed += part.parents_proposed;
            report.skipped.append(&mut part.skipped);
            report.imported.append(&mut part.imported);
            report.double_entries.append(&mut part.double_entries);
            report.illegible += part.illegible;
            return Ok(());
        }
    }
    Err(HubStore::contended().into())
}

/// Writes a group's rows (each with the line of the identical row it repeats, if any) unless
/// imported already; `false`: another hub changed something the group was decided on (an
/// import key, a number series, a person identifier, a case), and nothing was written.
#[allow(clippy::too_many_arguments)]
fn commit_candidates(
    store: &HubStore,
    linker: Option<&Linker>,
    blinder: &Blinder,
    m: &str,
    clerk: &str,
    file_name: &str,
    candidates: &[(Ready, Option<u64>)],
    report: &mut ImportReport,
) -> Result<bool, ImportError> {
    // Skips: already imported (an earlier run, or another hub).
    let mut reads = AuxReads::default();
    let mut rows = Vec::with_capacity(candidates.len());
    let mut doubles: Vec<(usize, u64)> = Vec::new();
    for (r, same_as) in candidates {
        if let Some(regno) = store.aux_get_noting(&r.key, &mut reads)? {
            report.skipped.push(Skipped {
                line: r.line,
                regno: String::from_utf8_lossy(&regno).into_owned(),
                reason: "already imported".into(),
            });
            continue;
        }
        let mut warnings = r.warnings.clone();
        if let Some(first) = same_as {
            warnings.push(format!(
                "suspected double entry: identical to line {first} and no register reference; imported, check the register page"
            ));
            doubles.push((rows.len(), *first));
        }
        rows.push((r, warnings));
    }
    if rows.is_empty() {
        return Ok(true);
    }
    // Numbers: the series' last number as read, written only if no other hub minted from it.
    let year = chrono::Datelike::year(&validate::today());
    let mut seqs: BTreeMap<RecordKind, u64> = BTreeMap::new();
    let mut aux: Vec<AuxWrite> = Vec::new();
    let mut regnos = Vec::with_capacity(rows.len());
    for (r, _) in &rows {
        let kind = r.record.kind();
        let next = match seqs.get(&kind) {
            Some(n) => n + 1,
            None => {
                store
                    .aux_get_noting(&seq_key(m, year, kind), &mut reads)?
                    .and_then(|v| v.as_slice().try_into().ok().map(u64::from_be_bytes))
                    .unwrap_or(0)
                    + 1
            }
        };
        seqs.insert(kind, next);
        regnos.push(RegNo::mint(m, year, kind, HUB_NODE_ID, next).to_string());
    }
    for (kind, n) in &seqs {
        aux.push((seq_key(m, year, *kind), Some(n.to_be_bytes().to_vec())));
    }
    // Linking the principals.
    let mut principals: Vec<(usize, PersonRecord)> = Vec::new();
    for (i, (r, _)) in rows.iter().enumerate() {
        let roles: Vec<&str> = r
            .record
            .people()
            .iter()
            .filter(|p| p.principal)
            .map(|p| p.role)
            .collect();
        for p in PersonRecord::from_record(&regnos[i], &r.record, |_, n| blinder.token(n)) {
            if p.id
                .rsplit_once('/')
                .is_some_and(|(_, role)| roles.contains(&role))
            {
                principals.push((i, p));
            }
        }
    }
    let links = match linker {
        Some(l) => {
            let only: Vec<PersonRecord> = principals.iter().map(|(_, p)| p.clone()).collect();
            linkage::link_many(&l.model, &l.index, &only, 0)
                .into_iter()
                .map(Some)
                .collect()
        }
        None => vec![None; principals.len()],
    };
    // The queue's decisions of this process wait for the group (its links close moot cases);
    // other hubs' are kept apart by the conditions (the cases read).
    let _decisions_held = duplicates::decide_lock(store);
    let mut minting = Minting::default();
    let mut found: Vec<Vec<Principal>> = vec![Vec::new(); rows.len()];
    let mut row_links: Vec<Vec<(String, PersonId)>> = vec![Vec::new(); rows.len()];
    let mut cases = Vec::new();
    // Person → its mentions before the group, and the rows' mentions the group links to it.
    type Joined = (std::collections::BTreeSet<String>, Vec<(usize, String)>);
    let mut joined: BTreeMap<PersonId, Joined> = BTreeMap::new();
    for ((i, p), l) in principals.iter().zip(links) {
        let role = p.id.rsplit_once('/').map(|x| x.1).unwrap_or("").to_string();
        let class = l.as_ref().map_or(Class::New, |l| l.class);
        let best = l.as_ref().and_then(|l| l.best.clone());
        let mut pr = Principal {
            role: role.clone(),
            outcome: "new".into(),
            person: None,
            candidate: best.as_ref().map(|b| b.id.clone()),
            weight: best.as_ref().map(|b| b.score.weight),
            case: None,
        };
        match (class, &best) {
            (Class::Match, Some(b)) => {
                let (cr, crole) = b.id.rsplit_once('/').unwrap_or((&b.id, ""));
                // The candidate's person: its link, or its own identifier.
                let to = match persons::linked(store, cr, crole)? {
                    Some(p) => p,
                    None => minting.own(store, &b.id)?,
                };
                let j = match joined.entry(to) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        let mut before: std::collections::BTreeSet<String> =
                            persons::members(store, &to)?.into_iter().collect();
                        before.insert(b.id.clone());
                        e.insert((before, Vec::new()))
                    }
                };
                j.1.push((*i, p.id.clone()));
                pr.outcome = "match".into();
                pr.person = Some(to.to_string());
                row_links[*i].push((role.clone(), to));
                aux.push((persons::pl_key(&to.to_string(), &p.id), Some(Vec::new())));
                report.matched += 1;
            }
            (Class::Possible, Some(b)) => {
                pr.outcome = "possible".into();
                let f = Found {
                    a: b.id.clone(),
                    b: p.id.clone(),
                    weight: b.score.weight,
                    probability: b.score.probability,
                    class: "possible".into(),
                    source: "import".into(),
                };
                if let Some((c, w)) = duplicates::new_case_noting(store, f, &mut reads)? {
                    pr.case = Some(c.id.clone());
                    cases.push(w);
                }
                report.possible += 1;
            }
            _ => report.new += 1,
        }
        found[*i].push(pr);
    }
    aux.extend(minting.writes());
    reads.extend(minting.reads().clone());
    aux.extend(cases);
    // The queue's rules for these links, as for an operator's (one place,
    // [`duplicates::after_links`]): open cases made moot close, `via` this import, and the
    // parents named on a child's records are proposed.
    if !joined.is_empty() {
        let mut parents =
            crate::linkage::parents::Parents::with_model(store, linker.map(|l| &l.model));
        let mut merges = Vec::with_capacity(joined.len());
        for (before, new) in joined.into_values() {
            let mut parts = vec![before.into_iter().collect::<Vec<_>>()];
            for (i, m) in new {
                parents.pending(&regnos[i], rows[i].0.record.clone());
                parts.push(vec![m]);
            }
            merges.push(duplicates::Merge { parts });
        }
        let by = duplicates::LinkedBy {
            operator: clerk.strip_prefix("operator:").unwrap_or(clerk).to_string(),
            reason: format!("import {file_name}"),
            via: duplicates::Via::Import(file_name.to_string()),
        };
        let after = duplicates::after_links(
            store,
            &merges,
            &std::collections::BTreeSet::new(),
            &by,
            &mut parents,
        )?;
        if !after.note_reads(store, &mut reads)? {
            return Ok(false);
        }
        report.moot_closed += after.moot.len() as u64;
        report.parents_proposed += after.proposed.len() as u64;
        aux.extend(after.writes());
    }
    let at_ms = crate::access::now_ms();
    let operator = clerk.strip_prefix("operator:").unwrap_or(clerk);
    for (i, (r, _)) in rows.iter().enumerate() {
        aux.push((r.key.clone(), Some(regnos[i].clone().into_bytes())));
        // People whose given name is illegible: filed for review with their record.
        for (role, surname) in &r.illegible {
            aux.push(illegible::file(&illegible::Illegible {
                municipality: m.to_string(),
                regno: regnos[i].clone(),
                role: role.clone(),
                surname: surname.clone(),
                file: file_name.to_string(),
                line: r.line,
                operator: operator.to_string(),
                at_ms,
            }));
        }
    }
    // The ops: each row's create, then its links.
    let mut items = Vec::with_capacity(rows.len() * 2);
    for (i, l) in row_links.iter().enumerate() {
        items.push(Item::Create(i));
        if !l.is_empty() {
            items.push(Item::Link(i, l.clone()));
        }
    }
    let now = crate::access::now_ms();
    let hlc = Hlc::tick(Hlc::default(), now);
    let written = store.write_own_many_if(
        items,
        |item, id, prev_hash| {
            let (i, change, changes) = match item {
                Item::Create(i) => (
                    i,
                    ChangeKind::Create,
                    rows[i]
                        .0
                        .fields
                        .iter()
                        .map(|(path, value)| FieldChange {
                            path: path.clone(),
                            value: value.clone(),
                        })
                        .collect::<Vec<_>>(),
                ),
                Item::Link(i, links) => (i, ChangeKind::Link, persons::link_changes(&links)),
            };
            Op {
                format: OP_FORMAT,
                id,
                hlc,
                clerk: clerk.to_string(),
                record_id: regnos[i].clone(),
                record_kind: rows[i].0.record.kind(),
                change,
                changes,
                base: Vec::new(),
                reason: format!("import {file_name} line {}", rows[i].0.line),
                prev_hash,
                hash: Default::default(),
            }
        },
        &aux,
        &reads,
    )?;
    if written.is_none() {
        return Ok(false);
    }
    for (i, first) in doubles {
        report.double_entries.push(DoubleEntry {
            line: rows[i].0.line,
            regno: regnos[i].clone(),
            same_as_line: first,
        });
    }
    for (i, (r, warnings)) in rows.into_iter().enumerate() {
        report.illegible += r.illegible.len() as u64;
        report.imported.push(Imported {
            line: r.line,
            regno: regnos[i].clone(),
            people: std::mem::take(&mut found[i]),
            warnings,
        });
    }
    Ok(true)
}
