//! The dashboard's templates (minijinja, compiled into the binary), the engine the clerk app
//! uses: one base layout (`base.html`: the header, the language picker, the style sheet) that
//! every page extends, every value escaped by default, so no handler builds HTML by hand.
//!
//! Words come from the Fluent catalogues (`shared/i18n/*.ftl`, keys `dash-…`) through
//! `t("key", name=value)`, in the page's `lang` (see [`super::lang`]): the function the clerk
//! app uses too (`civreg_shared::i18n_jinja`). Filters: `seg` (a URL
//! path segment), `ago` (seconds as a short duration in the page's language), `utc` (a Unix
//! time in milliseconds), `day` (its date), `bytes`, `value` (a JSON value as text).
//!
//! Escaping: `& < > " '` as HTML requires, and nothing more (minijinja's default also escapes
//! `/`, which would turn every node name `prishtine/1` into `prishtine&#x2f;1`).

use super::auth::Operator;
use super::fmt;
use super::WebError;
use axum::response::Html;
use civreg_shared::i18n::Lang;
use civreg_shared::i18n_jinja::{languages, page_lang};
use minijinja::value::Value;
use minijinja::{AutoEscape, Environment, Error, Output, State};
use std::sync::OnceLock;

pub(super) const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("message.html", include_str!("templates/message.html")),
    ("overview.html", include_str!("templates/overview.html")),
    ("now.html", include_str!("templates/now.html")),
    ("node.html", include_str!("templates/node.html")),
    ("chart.html", include_str!("templates/chart.html")),
    ("conflicts.html", include_str!("templates/conflicts.html")),
    ("conflict.html", include_str!("templates/conflict.html")),
    ("duplicates.html", include_str!("templates/duplicates.html")),
    ("duplicate.html", include_str!("templates/duplicate.html")),
    ("clusters.html", include_str!("templates/clusters.html")),
    ("cluster.html", include_str!("templates/cluster.html")),
    ("rollout.html", include_str!("templates/rollout.html")),
    ("unvoid.html", include_str!("templates/unvoid.html")),
    ("verify.html", include_str!("templates/verify.html")),
];

fn seg(s: &str) -> String {
    fmt::url_seg(s)
}

fn ago(state: &State, s: u64) -> String {
    fmt::ago(page_lang(state), s)
}

fn utc(ms: u64) -> String {
    fmt::utc_ms(ms)
}

fn day(ms: u64) -> String {
    fmt::utc_ms(ms).chars().take(10).collect()
}

fn bytes(n: u64) -> String {
    fmt::bytes(n)
}

fn value(v: Value) -> String {
    match v.as_str() {
        Some(s) => s.to_string(),
        None => serde_json::to_value(&v)
            .map(|j| fmt::value(&j))
            .unwrap_or_else(|_| v.to_string()),
    }
}

/// Text for HTML element content and quoted attribute values.
fn escape(s: &str, out: &mut Output) -> std::fmt::Result {
    let mut last = 0;
    for (i, c) in s.char_indices() {
        let rep = match c {
            '&' => "&amp;",
            '<' => "&lt;",
            '>' => "&gt;",
            '"' => "&quot;",
            '\'' => "&#39;",
            _ => continue,
        };
        out.write_str(&s[last..i])?;
        out.write_str(rep)?;
        last = i + 1;
    }
    out.write_str(&s[last..])
}

fn formatter(out: &mut Output, state: &State, value: &Value) -> Result<(), Error> {
    match (state.auto_escape(), value.as_str()) {
        (AutoEscape::Html, Some(s)) if !value.is_safe() => escape(s, out).map_err(Error::from),
        _ => minijinja::escape_formatter(out, state, value),
    }
}

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .expect("the compiled-in templates parse (tested by web::templates tests)");
        }
        env.set_formatter(formatter);
        env.add_function("t", civreg_shared::i18n_jinja::translate);
        env.add_filter("seg", seg);
        env.add_filter("ago", ago);
        env.add_filter("utc", utc);
        env.add_filter("day", day);
        env.add_filter("bytes", bytes);
        env.add_filter("value", value);
        env
    })
}

/// Renders template `name` with `ctx`; a template error is logged and shown as an internal
/// error, never a panic.
pub fn render(name: &str, ctx: Value) -> Result<String, WebError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| {
            tracing::error!(template = name, error = %e, "template failed");
            WebError::Internal(format!("template {name}: {e}"))
        })
}

/// What every page's frame shows besides the page itself.
pub struct Frame<'a> {
    pub lang: Lang,
    /// Where the language picker comes back to.
    pub back: String,
    /// The signed-in operator (the navigation and the sign-out form), if any.
    pub operator: Option<&'a Operator>,
    /// Seconds until the page reloads itself (unless `paused`).
    pub refresh: Option<u64>,
    /// The operator paused automatic reloads (the page offers to resume them).
    pub paused: bool,
}

impl<'a> Frame<'a> {
    /// The frame of the current request (see [`super::lang`]).
    pub fn of(operator: Option<&'a Operator>) -> Frame<'a> {
        Frame {
            lang: super::lang::current(),
            back: super::lang::back(),
            operator,
            refresh: None,
            paused: super::lang::paused(),
        }
    }

    pub fn refresh(mut self, secs: u64) -> Self {
        self.refresh = Some(secs);
        self
    }
}

/// Template `name`, a page extending `base.html`, with `ctx` and the frame's values.
pub fn page_in(frame: &Frame, name: &str, ctx: Value) -> Result<String, WebError> {
    let full = minijinja::context! {
        lang => frame.lang.tag(),
        languages => languages(frame.lang),
        back => frame.back,
        operator => frame.operator.map(|o| o.name.clone()),
        csrf => frame.operator.map(|o| o.csrf.clone()),
        refresh => frame.refresh,
        paused => frame.paused,
        ..ctx
    };
    render(name, full)
}

/// [`page_in`] in the current request's frame.
pub fn page(operator: Option<&Operator>, name: &str, ctx: Value) -> Result<Html<String>, WebError> {
    page_in(&Frame::of(operator), name, ctx).map(Html)
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use minijinja::context;

    /// Renders `name` in `lang` for an operator named `<script>` (every page's frame).
    pub fn render_as_hostile(lang: Lang, name: &str, ctx: Value) -> String {
        let op = Operator::for_tests("<script>x</script>", "tok\"en");
        let frame = Frame {
            lang,
            back: "/\"><script>".into(),
            operator: Some(&op),
            refresh: Some(5),
            paused: false,
        };
        page_in(&frame, name, ctx).unwrap_or_else(|e| panic!("{name} in {lang}: {e}"))
    }

    /// What a page must never show: raw markup from data, a raw key, a missing argument.
    pub fn assert_clean(page: &str, what: &str) {
        assert!(!page.contains("<script>"), "{what}: unescaped:\n{page}");
        assert!(!page.contains("dash-"), "{what}: a raw key:\n{page}");
        assert!(!page.contains("{$"), "{what}: a missing argument:\n{page}");
        assert!(!page.contains("{ $"), "{what}: a missing argument:\n{page}");
    }

    #[test]
    fn every_template_parses() {
        for (name, _) in TEMPLATES {
            env().get_template(name).expect(name);
        }
    }

    #[test]
    fn escapes_what_html_needs_and_keeps_slashes() {
        let html = render(
            "message.html",
            context! {
                lang => "en", languages => languages(Lang::En), back => "/",
                title => "<b a=\"1\" c='2'>&", message => "prishtine/1 <script>",
                links => Vec::<Value>::new(),
            },
        )
        .unwrap();
        assert!(
            html.contains("&lt;b a=&quot;1&quot; c=&#39;2&#39;&gt;&amp;"),
            "{html}"
        );
        assert!(html.contains("prishtine/1 &lt;script&gt;"), "{html}");
        assert!(!html.contains("<script>"), "{html}");
    }

    #[test]
    fn the_frame_escapes_the_operator_and_speaks_every_language() {
        for lang in Lang::ALL {
            let page = render_as_hostile(
                lang,
                "message.html",
                context! { title => "x", message => "y", links => Vec::<Value>::new() },
            );
            assert_clean(&page, "message");
            assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"), "{page}");
            assert!(page.contains(&format!("<html lang=\"{}\">", lang.tag())));
            assert!(page.contains("value=\"tok&quot;en\""), "{page}");
        }
        let sq = render_as_hostile(
            Lang::Sq,
            "message.html",
            context! { title => "x", message => "y", links => Vec::<Value>::new() },
        );
        let en = render_as_hostile(
            Lang::En,
            "message.html",
            context! { title => "x", message => "y", links => Vec::<Value>::new() },
        );
        assert!(en.contains(">Sign out<"), "{en}");
        assert!(!sq.contains(">Sign out<"), "Albanian is not English: {sq}");
    }
}
