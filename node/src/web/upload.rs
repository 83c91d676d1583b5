//! Importing a CSV of register pages from the browser, with its progress.
//!
//! The page sends the file as the request body of `POST /import` (with the session's CSRF token
//! in a header), showing the bytes sent. The node checks the file (size, empty, not text) and
//! starts an import job, answering at once with the job's id (`202`); the job imports with
//! `import::import_csv_coded`, the importer `civreg-node import` uses, while the page polls
//! `GET /import/{job}` for the rows read out of the rows in the file, then shows the report:
//! every rejected row with its line and reasons, in the clerk's language, also as a CSV
//! (`GET /import/{job}/report.csv`).
//!
//! **Bounds.** One import runs at a time at a node (a second is refused with who runs it); a
//! report lists at most [`LISTED`] rows of each outcome (the rest are counted); a finished
//! job's report is kept for [`KEPT`], and at most [`KEPT_JOBS`] of them. A job belongs to the
//! clerk who started it.

use super::auth::Signed;
use super::pages::page;
use super::{Context, WebError};
use crate::import::{self, CodedReport, ImportError, Progress};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use civreg_shared::csvrows::HeaderError;
use civreg_shared::i18n::{Arg, Catalog, Lang};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_stream::StreamExt as _;

/// The largest file the page takes (a register book of some thousands of rows is far less).
pub const MAX_UPLOAD_BYTES: usize = 16 << 20;
/// Rows of each outcome (rejected, skipped, imported) a report lists; the others are counted.
pub const LISTED: usize = 10_000;
/// How long a finished import's report is kept.
pub const KEPT: Duration = Duration::from_secs(3600);
/// Most finished imports whose reports are kept.
pub const KEPT_JOBS: usize = 8;

/// The import jobs of this node: the one running, and the finished ones kept.
#[derive(Default)]
pub struct Jobs {
    /// The running job's id.
    running: Option<String>,
    jobs: HashMap<String, Arc<Job>>,
}

impl Jobs {
    /// Forgets reports past [`KEPT`], and the oldest past [`KEPT_JOBS`].
    fn forget_old(&mut self, now: Instant) {
        self.jobs.retain(|_, j| {
            j.lock()
                .finished
                .is_none_or(|at| now.duration_since(at) < KEPT)
        });
        let mut finished: Vec<(Instant, String)> = self
            .jobs
            .iter()
            .filter_map(|(id, j)| j.lock().finished.map(|at| (at, id.clone())))
            .collect();
        finished.sort();
        while finished.len() > KEPT_JOBS {
            let (_, id) = finished.remove(0);
            self.jobs.remove(&id);
        }
    }
}

/// One import.
pub struct Job {
    clerk: String,
    state: Mutex<JobState>,
}

impl Job {
    fn lock(&self) -> std::sync::MutexGuard<'_, JobState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[derive(Default)]
struct JobState {
    /// Rows in the file, once counted.
    total: Option<u64>,
    progress: Progress,
    outcome: Option<Outcome>,
    finished: Option<Instant>,
}

enum Outcome {
    Report(CodedReport),
    /// The file's header is not one the importer reads.
    Header(HeaderError),
    /// The file could not be read (its English detail).
    Unreadable(String),
    /// The node refused or failed.
    Failed(WebError),
}

/// Clears the running job when the import thread ends, however it ends.
struct Running {
    ctx: Context,
    id: String,
    job: Arc<Job>,
}

impl Drop for Running {
    fn drop(&mut self) {
        {
            let mut st = self.job.lock();
            if st.outcome.is_none() {
                st.outcome = Some(Outcome::Failed(WebError::Internal(
                    "the import stopped unexpectedly".into(),
                )));
            }
            st.finished = Some(Instant::now());
        }
        let mut jobs = self.ctx.imports();
        if jobs.running.as_deref() == Some(self.id.as_str()) {
            jobs.running = None;
        }
    }
}

/// `GET /import`: the page.
pub async fn form(State(ctx): State<Context>, who: Signed) -> Response {
    page(ctx, who, "import.html", "import-title", move |_, _| {
        Ok(minijinja::context! {
            max_mib => MAX_UPLOAD_BYTES >> 20,
            max_bytes => MAX_UPLOAD_BYTES,
        })
    })
    .await
}

fn problem(status: StatusCode, lang: Lang, key: &str, args: &[(&str, Arg<'_>)]) -> Response {
    let text = Catalog::get().format(lang, key, args);
    (status, axum::Json(serde_json::json!({ "problem": text }))).into_response()
}

/// Whether the bytes are not text: a NUL byte (UTF-16, binaries), or the start of a known
/// binary format (a workbook, a PDF, an archive, a picture).
pub fn looks_binary(bytes: &[u8]) -> bool {
    const MAGIC: &[&[u8]] = &[
        b"PK\x03\x04",
        b"%PDF",
        b"\xD0\xCF\x11\xE0",
        b"\x89PNG",
        b"\xFF\xD8\xFF",
        b"GIF8",
        b"\x1F\x8B",
        b"7z\xBC\xAF",
        b"Rar!",
    ];
    MAGIC.iter().any(|m| bytes.starts_with(m)) || bytes.iter().take(64 * 1024).any(|b| *b == 0)
}

/// The number of rows of a CSV file (its records after the header), as the importer will
/// read them.
fn count_rows(bytes: &[u8]) -> Option<u64> {
    let mut rdr = civreg_shared::csvrows::reader(bytes).ok()?;
    rdr.byte_headers().ok()?;
    let mut rec = csv::ByteRecord::new();
    let mut n = 0u64;
    loop {
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => n += 1,
            Ok(false) => return Some(n),
            // The importer counts a row it can not read, and goes on.
            Err(e) if !matches!(e.kind(), csv::ErrorKind::Io(_)) => n += 1,
            Err(_) => return None,
        }
    }
}

/// How much more of a body that is too large is read (and thrown away) before the refusal is
/// sent, so a browser that is still sending gets the message rather than a broken connection.
/// Beyond it (or after [`DRAIN_FOR`]) the connection is closed on the sender.
const DRAIN_BYTES: usize = 2 * MAX_UPLOAD_BYTES;
const DRAIN_FOR: std::time::Duration = std::time::Duration::from_secs(20);

/// Reads and drops what is left of a body that is refused, bounded by [`DRAIN_BYTES`] and
/// [`DRAIN_FOR`].
async fn drain(body: Body) {
    drain_stream(body.into_data_stream()).await
}

async fn drain_stream(mut stream: axum::body::BodyDataStream) {
    let _ = tokio::time::timeout(DRAIN_FOR, async {
        let mut seen = 0usize;
        while let Some(Ok(chunk)) = stream.next().await {
            seen += chunk.len();
            if seen > DRAIN_BYTES {
                break;
            }
        }
    })
    .await;
}

/// `POST /import`: the file as the body; starts the import and answers with its job.
pub async fn upload(
    State(ctx): State<Context>,
    who: Signed,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let lang = who.lang;
    let token = headers
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if !civreg_shared::webguard::same(token, &who.csrf) {
        return problem(StatusCode::FORBIDDEN, lang, "err-csrf", &[]);
    }
    let too_large = || {
        problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            lang,
            "import-too-large",
            &[("mib", (MAX_UPLOAD_BYTES >> 20).into())],
        )
    };
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > MAX_UPLOAD_BYTES as u64) {
        drain(body).await;
        return too_large();
    }
    let mut stream = body.into_data_stream();
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        let Ok(chunk) = chunk else {
            return too_large();
        };
        if bytes.len() + chunk.len() > MAX_UPLOAD_BYTES {
            drain_stream(stream).await;
            return too_large();
        }
        bytes.extend_from_slice(&chunk);
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, lang, "import-empty", &[]);
    }
    if looks_binary(&bytes) {
        return problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            lang,
            "import-not-csv",
            &[],
        );
    }
    // The header is read at once: a file the importer can not read is answered now.
    let head = civreg_shared::csvrows::reader(bytes.as_slice())
        .map_err(|e| e.to_string())
        .and_then(|mut r| {
            r.headers()
                .map(|h| h.iter().map(str::to_string).collect::<Vec<_>>())
                .map_err(|_| String::new())
        });
    let header_problem = match head {
        Ok(cells) => civreg_shared::csvrows::header(cells.iter().map(String::as_str)).err(),
        Err(_) => Some(HeaderError::NoHeader),
    };
    if let Some(e) = header_problem {
        let text = header_text(lang, &e);
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            axum::Json(serde_json::json!({ "problem": text })),
        )
            .into_response();
    }
    let id = match civreg_shared::webguard::random_token() {
        Ok(t) => t,
        Err(e) => return failed(lang, WebError::Internal(e.to_string())),
    };
    let job = Arc::new(Job {
        clerk: who.clerk.clone(),
        state: Mutex::new(JobState::default()),
    });
    {
        let mut jobs = ctx.imports();
        jobs.forget_old(Instant::now());
        if let Some(running) = jobs.running.as_ref().and_then(|r| jobs.jobs.get(r)) {
            let p = running.lock().progress;
            return problem(
                StatusCode::CONFLICT,
                lang,
                "import-running",
                &[
                    ("clerk", running.clerk.as_str().into()),
                    ("read", p.read.into()),
                ],
            );
        }
        jobs.running = Some(id.clone());
        jobs.jobs.insert(id.clone(), job.clone());
    }
    tracing::info!(clerk = %who.clerk, bytes = bytes.len(), job = %id, "CSV import started from the clerk app");
    let running = Running {
        ctx: ctx.clone(),
        id: id.clone(),
        job,
    };
    let clerk = who.clerk();
    let clerk_name = who.clerk.clone();
    tokio::task::spawn_blocking(move || {
        let job = running.job.clone();
        job.lock().total = count_rows(&bytes);
        let res =
            import::import_csv_coded(running.ctx.node(), &clerk, bytes.as_slice(), LISTED, |p| {
                job.lock().progress = *p
            });
        let outcome = match res {
            Ok(report) => {
                tracing::info!(clerk = %clerk_name, rows = report.rows, accepted = report.counts.accepted, rejected = report.counts.rejected, "CSV imported from the clerk app");
                Outcome::Report(report)
            }
            Err(ImportError::Header(e)) => Outcome::Header(e),
            Err(ImportError::Csv(e)) => Outcome::Unreadable(e.to_string()),
            Err(ImportError::Node(e)) => {
                tracing::error!(clerk = %clerk_name, error = %e, "CSV import from the clerk app failed");
                Outcome::Failed(WebError::Node(e))
            }
        };
        let mut st = job.lock();
        if let Outcome::Report(r) = &outcome {
            st.total = Some(r.rows);
            st.progress = r.counts;
        }
        st.outcome = Some(outcome);
        drop(st);
        drop(running);
    });
    (
        StatusCode::ACCEPTED,
        axum::Json(serde_json::json!({ "job": id, "poll": format!("/import/{id}") })),
    )
        .into_response()
}

fn failed(lang: Lang, e: WebError) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        axum::Json(serde_json::json!({ "problem": e.message(lang) })),
    )
        .into_response()
}

/// The job `id` if it is known and is this clerk's.
fn job_of(ctx: &Context, who: &Signed, id: &str) -> Option<Arc<Job>> {
    let mut jobs = ctx.imports();
    jobs.forget_old(Instant::now());
    jobs.jobs.get(id).filter(|j| j.clerk == who.clerk).cloned()
}

fn gone(lang: Lang) -> Response {
    problem(StatusCode::NOT_FOUND, lang, "import-job-gone", &[])
}

/// A row of the report as the page and the CSV show it.
#[derive(Debug, Clone, Serialize)]
pub struct Line {
    pub line: u64,
    /// `rejected`, `skipped` or `check` (imported, to be checked).
    pub status: &'static str,
    pub status_text: String,
    pub reasons: Vec<String>,
}

/// The rows of a report to show, by line: the rejected, the imported ones to check, and (with
/// `skipped`) the ones imported before.
fn lines(report: &CodedReport, lang: Lang, skipped: bool) -> Vec<Line> {
    let c = Catalog::get();
    let mut out: Vec<Line> = report
        .rejected
        .iter()
        .map(|r| Line {
            line: r.line,
            status: "rejected",
            status_text: c.text(lang, "import-status-rejected"),
            reasons: r.reasons.iter().map(|x| x.text(lang)).collect(),
        })
        .collect();
    out.extend(
        report
            .accepted
            .iter()
            .filter(|a| !a.warnings.is_empty())
            .map(|a| Line {
                line: a.line,
                status: "check",
                status_text: c.format(lang, "import-status-check", &[("regno", (&a.regno).into())]),
                reasons: a.warnings.iter().map(|x| x.text(lang)).collect(),
            }),
    );
    if skipped {
        out.extend(report.skipped.iter().map(|s| Line {
            line: s.line,
            status: "skipped",
            status_text: c.text(lang, "import-status-skipped"),
            reasons: vec![s.why.text(lang, &s.regno)],
        }));
    }
    out.sort_by_key(|l| l.line);
    out
}

/// The sentence for a header the importer does not read.
pub fn header_text(lang: Lang, e: &HeaderError) -> String {
    let c = Catalog::get();
    match e {
        HeaderError::NoHeader => c.text(lang, "import-h-none"),
        HeaderError::NoKind { found } => {
            c.format(lang, "import-h-no-kind", &[("found", found.into())])
        }
        HeaderError::NoKnownColumn { found } => {
            c.format(lang, "import-h-unknown", &[("found", found.into())])
        }
        HeaderError::DuplicateColumn(col) => {
            c.format(lang, "import-h-twice", &[("column", col.into())])
        }
        HeaderError::BadColumn(col, _) => {
            c.format(lang, "import-h-bad-column", &[("column", col.into())])
        }
    }
}

fn unlisted(report: &CodedReport, lang: Lang) -> Option<String> {
    report
        .truncated()
        .then(|| Catalog::get().format(lang, "import-unlisted", &[("listed", LISTED.into())]))
}

/// `GET /import/{job}`: the job's progress, and once done its report in the clerk's language.
pub async fn job(State(ctx): State<Context>, who: Signed, Path(id): Path<String>) -> Response {
    let lang = who.lang;
    let Some(job) = job_of(&ctx, &who, &id) else {
        return gone(lang);
    };
    let c = Catalog::get();
    let st = job.lock();
    let p = st.progress;
    let total = st.total;
    let done = st.outcome.is_some();
    let percent = match (done, total) {
        (true, _) => 100,
        (false, Some(t)) if t > 0 => (p.read * 100 / t).min(99),
        _ => 0,
    };
    let progress_text = match total {
        Some(t) => c.format(
            lang,
            "import-reading",
            &[("read", p.read.min(t).into()), ("total", t.into())],
        ),
        None => c.text(lang, "import-counting"),
    };
    let mut answer = serde_json::json!({
        "done": done,
        "read": p.read,
        "total": total,
        "accepted": p.accepted,
        "skipped": p.skipped,
        "rejected": p.rejected,
        "percent": percent,
        "progress_text": progress_text,
    });
    match &st.outcome {
        None => {}
        Some(Outcome::Report(r)) => {
            answer["summary"] = c
                .format(
                    lang,
                    "import-summary",
                    &[
                        ("rows", r.rows.into()),
                        ("accepted", r.counts.accepted.into()),
                        ("skipped", r.counts.skipped.into()),
                        ("rejected", r.counts.rejected.into()),
                    ],
                )
                .into();
            answer["lines"] = serde_json::to_value(lines(r, lang, false)).unwrap_or_default();
            answer["unlisted"] = unlisted(r, lang).into();
            answer["download"] = format!("/import/{id}/report.csv").into();
        }
        Some(Outcome::Header(e)) => answer["problem"] = header_text(lang, e).into(),
        Some(Outcome::Unreadable(detail)) => {
            answer["problem"] = c
                .format(lang, "import-unreadable", &[("detail", detail.into())])
                .into()
        }
        Some(Outcome::Failed(e)) => answer["problem"] = e.message(lang).into(),
    }
    drop(st);
    axum::Json(answer).into_response()
}

/// `GET /import/{job}/report.csv`: the finished job's report as a CSV file (line, status,
/// reasons), in the clerk's language, with a byte-order mark so that spreadsheets read it as
/// UTF-8.
pub async fn report_csv(
    State(ctx): State<Context>,
    who: Signed,
    Path(id): Path<String>,
) -> Response {
    let lang = who.lang;
    let Some(job) = job_of(&ctx, &who, &id) else {
        return gone(lang);
    };
    let c = Catalog::get();
    let st = job.lock();
    let Some(Outcome::Report(report)) = &st.outcome else {
        return gone(lang);
    };
    let mut w = csv::Writer::from_writer("\u{feff}".as_bytes().to_vec());
    let mut rows = vec![[
        c.text(lang, "import-line"),
        c.text(lang, "import-status"),
        c.text(lang, "import-reasons"),
    ]];
    for l in lines(report, lang, true) {
        rows.push([l.line.to_string(), l.status_text, l.reasons.join("; ")]);
    }
    if let Some(more) = unlisted(report, lang) {
        rows.push([String::new(), String::new(), more]);
    }
    drop(st);
    for r in &rows {
        if let Err(e) = w.write_record(r) {
            return failed(lang, WebError::Internal(e.to_string()));
        }
    }
    let bytes = match w.into_inner() {
        Ok(b) => b,
        Err(e) => return failed(lang, WebError::Internal(e.to_string())),
    };
    let mut res = bytes.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"import-report.csv\""),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binaries_are_told_from_text() {
        assert!(looks_binary(b"PK\x03\x04rest of a workbook"));
        assert!(looks_binary(b"%PDF-1.7"));
        assert!(looks_binary(
            b"\xff\xfek\x00i\x00n\x00d\x00" // UTF-16, as Excel's "Unicode text"
        ));
        assert!(!looks_binary(
            "kind;child.given_name\nbirth;Đorđe\n".as_bytes()
        ));
        // Windows-1250 text is text: its rows say what to fix.
        assert!(!looks_binary(b"kind;child.given_name\nbirth;\x8aala\n"));
    }

    #[test]
    fn rows_are_counted_as_the_importer_reads_them() {
        assert_eq!(count_rows(b"kind\r\nbirth\r\nbirth\r\n"), Some(2));
        assert_eq!(
            count_rows(b"kind,a\nbirth,\"two\nlines\"\nbirth,x"),
            Some(2)
        );
        assert_eq!(count_rows(b"kind\n"), Some(0));
    }

    proptest::proptest! {
        /// Any bytes: no panic; and after a header the importer reads, the rows counted for
        /// the bar are the rows the importer reads, whatever quotes, separators, line ends or
        /// non-UTF-8 bytes the rows hold.
        #[test]
        fn the_count_is_the_importers_for_any_rows(
            junk in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            rows in proptest::collection::vec(
                proptest::collection::vec(
                    proptest::sample::select(vec![b'a', b';', b',', b'"', b'\n', b'\r', b' ', 0xC3, 0x8A, b'b']),
                    0..12,
                ),
                0..12,
            ),
        ) {
            let _ = looks_binary(&junk);
            let _ = count_rows(&junk);
            let mut file = b"kind;child.given_name\n".to_vec();
            for r in &rows {
                file.extend_from_slice(b"birth;");
                file.extend_from_slice(r);
                file.push(b'\n');
            }
            let node = crate::node::Node::in_memory("prishtine", "1").unwrap();
            let clerk = crate::node::Node::clerk_unchecked("drita");
            let report = import::import_csv_coded(&node, &clerk, file.as_slice(), 10, |_| {}).unwrap();
            proptest::prop_assert_eq!(count_rows(&file), Some(report.rows));
        }
    }
}
