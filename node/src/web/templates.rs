//! The pages' templates (minijinja, compiled into the binary) and the embedded assets.
//!
//! Why minijinja: it escapes every value by default in `.html` templates (so no handler builds
//! HTML by hand), its templates are plain files a translator or designer can read, it needs no
//! procedural macro (askama, maud), and a Fluent lookup is one function, `t(key, arg=value)`,
//! which reads the page's `lang` (`civreg_shared::i18n_jinja`, shared with the hub's dashboard).

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use civreg_shared::i18n::{Catalog, Lang};
use minijinja::value::Value;
use minijinja::Environment;
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("templates/base.html")),
    ("login.html", include_str!("templates/login.html")),
    ("home.html", include_str!("templates/home.html")),
    ("form.html", include_str!("templates/form.html")),
    ("search.html", include_str!("templates/search.html")),
    ("record.html", include_str!("templates/record.html")),
    ("annotate.html", include_str!("templates/annotate.html")),
    ("import.html", include_str!("templates/import.html")),
    ("error.html", include_str!("templates/error.html")),
];

const CSS: &str = include_str!("assets/app.css");
const JS: &str = include_str!("assets/app.js");

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .expect("the compiled-in templates parse (tested by web::templates tests)");
        }
        env.add_function("t", civreg_shared::i18n_jinja::translate);
        env
    })
}

/// Renders template `name` with `ctx`; a template error is logged and shown as an internal
/// error, never a panic.
pub fn render(name: &str, ctx: Value) -> Result<String, super::WebError> {
    env()
        .get_template(name)
        .and_then(|t| t.render(ctx))
        .map_err(|e| {
            tracing::error!(template = name, error = %e, "template failed");
            super::WebError::Internal(format!("template {name}: {e}"))
        })
}

/// The languages for the picker.
pub use civreg_shared::i18n_jinja::languages;

/// An error page without the session's frame (used where no session may exist).
pub fn error_page(lang: Lang, message: &str) -> String {
    let ctx = minijinja::context! {
        lang => lang.tag(),
        languages => languages(lang),
        path => "/",
        clerk => Value::UNDEFINED,
        csrf => "",
        status => Value::UNDEFINED,
        office => "",
        title => Catalog::get().text(lang, "err-title"),
        message => message,
    };
    render("error.html", ctx).unwrap_or_else(|_| {
        // The error page itself failed: plain text, escaped by replacing the few characters
        // that matter (the message comes from the catalogues, not from a browser).
        message.replace(['<', '>', '&'], " ")
    })
}

/// `GET /assets/{name}`: the embedded CSS and JS.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "app.css" => (CSS, "text/css; charset=utf-8"),
        "app.js" => (JS, "text/javascript; charset=utf-8"),
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "max-age=300"),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_parse_and_escape() {
        let env = env();
        for (name, _) in TEMPLATES {
            assert!(env.get_template(name).is_ok(), "{name}");
        }
        let page = error_page(Lang::En, "<script>alert(1)</script>");
        assert!(!page.contains("<script>alert"), "{page}");
        assert!(page.contains("&lt;script&gt;"), "{page}");
        assert!(page.contains("Something went wrong"), "{page}");
    }
}
