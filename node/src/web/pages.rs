//! The start page, the language picker and search.

use super::auth::{see_other, Signed};
use super::{blocking, lang_of, set_cookie, status, templates, Context, Failure, WebError};
use crate::index::{DateFilter, Query};
use axum::extract::{Query as UrlQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use civreg_shared::gazetteer;
use civreg_shared::i18n::{Catalog, Lang};
use civreg_shared::model::RecordKind;
use minijinja::value::Value;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a search waits for the hub before answering from this office's records.
pub const HUB_SEARCH_WAIT: Duration = Duration::from_millis(1500);

/// The frame every signed-in page shares (layout, language picker, status bar), merged with
/// the page's own values.
pub fn frame(ctx: &Context, who: &Signed, title: &str, page: Value) -> Result<Value, WebError> {
    let status = status::compute(ctx, who.lang)?;
    Ok(minijinja::context! {
        lang => who.lang.tag(),
        languages => templates::languages(who.lang),
        path => who.path.clone(),
        clerk => who.clerk.clone(),
        csrf => who.csrf.clone(),
        status => Value::from_serialize(&status),
        office => ctx.node().identity().municipality.clone(),
        title => title,
        ..page
    })
}

/// Renders a signed-in page off the async runtime.
pub async fn page(
    ctx: Context,
    who: Signed,
    template: &'static str,
    title_key: &'static str,
    build: impl FnOnce(&Context, &Signed) -> Result<Value, WebError> + Send + 'static,
) -> Response {
    let lang = who.lang;
    let res = blocking(move || {
        let title = Catalog::get().text(who.lang, title_key);
        let own = build(&ctx, &who)?;
        let full = frame(&ctx, &who, &title, own)?;
        templates::render(template, full)
    })
    .await;
    match res {
        Ok(html) => Html(html).into_response(),
        Err(e) => e.in_lang(lang).into_response(),
    }
}

/// The place names offered by the pickers: every municipality in its three forms.
pub fn places() -> Vec<String> {
    let mut v = Vec::new();
    for m in gazetteer::all() {
        for n in [m.name_sq, m.name_sr_latn, m.name_sr_cyrl] {
            if !v.iter().any(|x: &String| x == n) {
                v.push(n.to_string());
            }
        }
    }
    v
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct HomeQuery {
    saved: String,
}

/// `GET /`.
pub async fn home(
    State(ctx): State<Context>,
    who: Signed,
    UrlQuery(q): UrlQuery<HomeQuery>,
) -> Response {
    page(ctx, who, "home.html", "home-title", move |ctx, who| {
        let records = ctx.node().live_record_count()?;
        let notice = (!q.saved.is_empty()).then(|| {
            Catalog::get().format(who.lang, "saved", &[("regno", q.saved.as_str().into())])
        });
        let today = todays_work(ctx, who.lang)?;
        let (mine, others): (Vec<WorkRow>, Vec<WorkRow>) =
            today.rows.into_iter().partition(|r| r.clerk == who.clerk);
        Ok(minijinja::context! {
            records => records,
            notice => notice,
            today_summary => Catalog::get().format(
                who.lang,
                "today-summary",
                &[("count", (mine.len() + others.len()).into()), ("waiting", today.waiting.into())],
            ),
            mine => Value::from_serialize(&mine),
            // Not `office`: the frame names the office's municipality so.
            others => Value::from_serialize(&others),
        })
    })
    .await
}

/// At most this many of today's entries are listed (an office registers far fewer in a day).
const MAX_TODAY: usize = 500;

/// One entry of today's work, as the start page lists it.
#[derive(Debug, Clone, Serialize)]
pub struct WorkRow {
    pub time: String,
    pub regno: String,
    pub kind_text: String,
    pub change_text: String,
    pub clerk: String,
    /// Not yet at the hub.
    pub waiting: bool,
}

/// Today's work at this office, newest first, and how many entries of the log wait for the hub.
pub struct Today {
    pub rows: Vec<WorkRow>,
    pub waiting: u64,
}

/// Walks the office's own log back from its head while the entries are of today (the office's
/// local day), at most [`MAX_TODAY`] of them.
pub fn todays_work(ctx: &Context, lang: Lang) -> Result<Today, WebError> {
    let node = ctx.node();
    let c = Catalog::get();
    let acked = node.hub_acked()?;
    let head = node.log_len();
    let start = chrono::Local::now()
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .and_then(|d| d.and_local_timezone(chrono::Local).earliest())
        .map_or(0, |t| t.timestamp_millis().max(0) as u64);
    let mut rows = Vec::new();
    let mut seq = head;
    while seq > 0 && rows.len() < MAX_TODAY {
        let Some(op) = node.op(seq)? else { break };
        if op.hlc.wall_ms < start {
            break;
        }
        let change = serde_json::to_value(op.change)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        rows.push(WorkRow {
            time: status::when(op.hlc.wall_ms),
            kind_text: kind_text(lang, op.record_kind.as_str()),
            change_text: c.text(lang, &format!("record-change-{change}")),
            regno: op.record_id,
            clerk: op.clerk,
            waiting: seq > acked,
        });
        seq -= 1;
    }
    Ok(Today {
        rows,
        waiting: head.saturating_sub(acked),
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LangQuery {
    to: String,
    back: String,
}

/// `GET /lang?to=TAG&back=PATH`: remembers the language (a year) and goes back. Only a path of
/// this app is followed back (never another site).
pub async fn set_lang(
    State(ctx): State<Context>,
    headers: HeaderMap,
    UrlQuery(q): UrlQuery<LangQuery>,
) -> Response {
    let lang = Lang::parse(&q.to).unwrap_or_else(|| lang_of(&headers));
    let back = if q.back.starts_with('/') && !q.back.starts_with("//") && !q.back.contains('\\') {
        q.back.as_str()
    } else {
        "/"
    };
    super::with_cookie(
        see_other(back),
        set_cookie(&ctx, super::LANG_COOKIE, lang.tag(), Some(365 * 86_400)),
    )
}

/// `404` for anything else.
pub async fn not_found(headers: HeaderMap, uri: axum::http::Uri) -> Response {
    WebError::NotFound(uri.path().chars().take(200).collect())
        .in_lang(lang_of(&headers))
        .into_response()
}

// ---- search ------------------------------------------------------------------------------

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct SearchForm {
    pub q: String,
    pub born: String,
    pub municipality: String,
    pub kind: String,
}

/// One hit as the page shows it.
#[derive(Debug, Clone, Serialize)]
pub struct HitView {
    pub regno: String,
    pub kind_text: String,
    pub summary: String,
    /// Held at this office (its page can be opened).
    pub here: bool,
    /// For a birth record held elsewhere: the label of the link that notes an event on it.
    pub annotate_text: Option<String>,
    /// A national hit's summary as the hub sent it (names, date and place of birth), for the
    /// duplicate check; `None` for a hit of this office's own search.
    #[serde(skip)]
    pub summary_json: Option<String>,
    /// The registering municipality's code (a national hit's; empty for this office's own).
    #[serde(skip)]
    pub municipality: String,
}

/// What a search answered, and from where.
#[derive(Debug, Clone, Serialize)]
pub struct Answer {
    /// `national` or `local`.
    pub scope: &'static str,
    pub scope_text: String,
    pub count_text: String,
    pub hits: Vec<HitView>,
}

fn kind_text(lang: Lang, kind: &str) -> String {
    match RecordKind::parse(kind) {
        Some(k) => Catalog::get().text(lang, &format!("kind-{}", k.as_str())),
        None => kind.to_string(),
    }
}

/// Runs a search like `civreg-node search`: the hub's national register when it answers within
/// [`HUB_SEARCH_WAIT`] (and the worker last found it online), else this office's own records;
/// logged to the node's access log either way.
pub(super) fn run_search(ctx: &Context, who: &Signed, f: &SearchForm) -> Result<Answer, String> {
    let c = Catalog::get();
    let lang = who.lang;
    // An unknown kind (only a hand-made address has one) searches every kind.
    let kind = RecordKind::parse(&f.kind);
    let born = match f.born.trim() {
        "" => None,
        b => Some(DateFilter::parse(b).map_err(|_| c.text(lang, "search-bad-born"))?),
    };
    let municipality = match f.municipality.trim() {
        "" => None,
        m => Some(
            gazetteer::resolve(m)
                .map(|m| m.code.to_string())
                .ok_or_else(|| c.validation(lang, "municipality.unknown"))?,
        ),
    };
    let text = f.q.trim().to_string();
    civreg_shared::limits::check_search(&text, 0, 50)
        .map_err(|_| c.text(lang, "search-too-long"))?;
    let q = Query {
        text: text.clone(),
        born,
        municipality: municipality.clone(),
        limit: 50,
    };
    let node = ctx.node();
    let served = ctx.served();
    let live = served.live.status();
    if live.online {
        if let Ok(l) = crate::hublist::in_use(&served.paths.data_dir) {
            let hubs = crate::sync::in_use_first(l.urls, Some(&live.hub_url));
            let req = civreg_proto::v1::SearchRequest {
                text: text.clone(),
                born: f.born.trim().to_string(),
                municipality: municipality.clone().unwrap_or_default(),
                kind: kind.map(|k| k.as_str().to_string()).unwrap_or_default(),
                offset: 0,
                limit: 50,
                clerk: who.clerk.clone(),
            };
            let asked = served.runtime.block_on(crate::sync::search_hub(
                &served.paths.data_dir,
                &hubs,
                req,
                HUB_SEARCH_WAIT,
            ));
            if let Ok(reply) = asked {
                let regnos: Vec<String> = reply.hits.iter().map(|h| h.regno.clone()).collect();
                node.log_access(&who.clerk, "search (national)", &text, &regnos)
                    .map_err(|_| c.text(lang, "err-internal"))?;
                let hits = reply
                    .hits
                    .iter()
                    .map(|h| HitView {
                        regno: h.regno.clone(),
                        kind_text: kind_text(lang, &h.kind),
                        summary: national_summary(&h.summary_json),
                        here: node.get(&h.regno).is_ok(),
                        annotate_text: None,
                        summary_json: Some(h.summary_json.clone()),
                        municipality: h.municipality.clone(),
                    })
                    .collect::<Vec<_>>();
                let hits = hits
                    .into_iter()
                    .map(|mut h| {
                        if !h.here && h.regno.contains("-B-") {
                            h.annotate_text = Some(c.text(lang, "annotate-link"));
                        }
                        h
                    })
                    .collect::<Vec<_>>();
                return Ok(Answer {
                    scope: "national",
                    scope_text: c.text(lang, "search-national"),
                    count_text: count_text(lang, reply.total as usize),
                    hits,
                });
            }
        }
    }
    let hits: Vec<_> = node
        .search(&q)
        .map_err(|_| c.text(lang, "err-internal"))?
        .into_iter()
        .filter(|h| kind.is_none_or(|k| h.kind == k))
        .collect();
    let regnos: Vec<String> = hits.iter().map(|h| h.regno.clone()).collect();
    node.log_access(&who.clerk, "search (local)", &text, &regnos)
        .map_err(|_| c.text(lang, "err-internal"))?;
    Ok(Answer {
        scope: "local",
        scope_text: c.text(lang, "search-local"),
        count_text: count_text(lang, hits.len()),
        hits: hits
            .into_iter()
            .map(|h| HitView {
                kind_text: kind_text(lang, h.kind.as_str()),
                summary: h.summary,
                regno: h.regno,
                here: true,
                annotate_text: None,
                summary_json: None,
                municipality: String::new(),
            })
            .collect(),
    })
}

fn count_text(lang: Lang, n: usize) -> String {
    if n == 0 {
        Catalog::get().text(lang, "search-none")
    } else {
        Catalog::get().format(lang, "search-count", &[("count", n.into())])
    }
}

/// The people of a national hit's summary: `Arben Gashi (child), ...`.
fn national_summary(json: &str) -> String {
    #[derive(Deserialize)]
    struct Summary {
        #[serde(default)]
        people: Vec<(String, String)>,
    }
    serde_json::from_str::<Summary>(json)
        .map(|s| {
            s.people
                .iter()
                .map(|(role, name)| format!("{name} ({role})"))
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default()
}

fn has_query(f: &SearchForm) -> bool {
    !(f.q.trim().is_empty() && f.born.trim().is_empty() && f.municipality.trim().is_empty())
}

/// `GET /search`: the form, and the answer when something was asked.
pub async fn search(
    State(ctx): State<Context>,
    who: Signed,
    UrlQuery(f): UrlQuery<SearchForm>,
) -> Response {
    page(ctx, who, "search.html", "search-title", move |ctx, who| {
        let (answer, problem) = if has_query(&f) {
            match run_search(ctx, who, &f) {
                Ok(a) => (Some(a), None),
                Err(p) => (None, Some(p)),
            }
        } else {
            (None, None)
        };
        Ok(minijinja::context! {
            q => f.q, born => f.born, municipality => f.municipality, kind => f.kind,
            answer => answer.map(|a| Value::from_serialize(&a)),
            problem => problem,
            places => places(),
        })
    })
    .await
}

/// `GET /search.json`: the same answer for the page's script (search as the clerk types).
pub async fn search_json(
    State(ctx): State<Context>,
    who: Signed,
    UrlQuery(f): UrlQuery<SearchForm>,
) -> Response {
    let lang = who.lang;
    let res = blocking(move || Ok(run_search(&ctx, &who, &f))).await;
    match res {
        Ok(Ok(a)) => axum::Json(a).into_response(),
        Ok(Err(problem)) => (
            StatusCode::BAD_REQUEST,
            axum::Json(serde_json::json!({ "problem": problem })),
        )
            .into_response(),
        Err(e) => Failure { lang, error: e }.into_response(),
    }
}
