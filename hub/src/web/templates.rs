//! The dashboard's templates (minijinja, compiled into the binary), the engine the clerk app
//! uses: every value is escaped by default in `.html` templates, so the pages moved here build
//! no HTML by hand. The overview's first screen ([`now`]) is the first; the rest of the
//! dashboard still goes through `html.rs` and moves page by page.

use minijinja::value::Value;
use minijinja::Environment;
use std::sync::OnceLock;

const TEMPLATES: &[(&str, &str)] = &[("now.html", include_str!("templates/now.html"))];

fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in TEMPLATES {
            env.add_template(name, src)
                .expect("the compiled-in templates parse (tested by web::templates tests)");
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_parses_and_escapes() {
        for (name, _) in TEMPLATES {
            env().get_template(name).expect(name);
        }
        let out = render(
            "now.html",
            minijinja::context! {
                items => vec![minijinja::context! {
                    severity => "bad", kind => "refused", node => "<x>",
                    what => "<script>alert(1)</script>", href => "", detail => "",
                }],
                tiles => Vec::<Value>::new(),
                rule => "", refresh => 10, updated => "now",
            },
        )
        .expect("renders");
        assert!(!out.contains("<script>"), "{out}");
        assert!(out.contains("&lt;script&gt;"), "{out}");
    }
}
