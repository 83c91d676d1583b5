//! The catalogues ([`crate::i18n`]) in minijinja templates, for both web apps (the node's
//! clerk app and the hub's operator dashboard): `t("key", name=value, ...)` formats a message
//! in the page's language (the template variable `lang`, a tag), and [`languages`] lists the
//! languages for a picker. Pure template helpers: no I/O.

use crate::i18n::{Arg, Catalog, Lang};
use minijinja::value::{Kwargs, Value, ValueKind};
use minijinja::{Error, State};

/// The page's language: its `lang` variable, else Albanian.
pub fn page_lang(state: &State) -> Lang {
    state
        .lookup("lang")
        .and_then(|v| v.as_str().and_then(Lang::parse))
        .unwrap_or_default()
}

/// `t("key", name=value, ...)`: the message in the page's language. Numbers stay numbers (for
/// plural forms), everything else is text. A key missing in the language falls back as
/// [`Catalog::format`] does.
pub fn translate(state: &State, key: &str, kwargs: Kwargs) -> Result<String, Error> {
    let mut args: Vec<(String, Arg)> = Vec::new();
    for name in kwargs.args() {
        let v: Value = kwargs.get(name)?;
        let a = match (v.kind(), v.as_i64()) {
            (ValueKind::Number, Some(i)) => Arg::Num(i as f64),
            (ValueKind::Number, None) => Arg::Num(f64::try_from(v.clone()).unwrap_or(0.0)),
            _ => Arg::Str(v.to_string().into()),
        };
        args.push((name.to_string(), a));
    }
    let refs: Vec<(&str, Arg)> = args.iter().map(|(n, a)| (n.as_str(), a.clone())).collect();
    Ok(Catalog::get().format(page_lang(state), key, &refs))
}

/// The languages for a picker: `tag`, `name` (in itself), `selected`.
pub fn languages(current: Lang) -> Value {
    Value::from_serialize(
        Lang::ALL
            .iter()
            .map(|l| {
                serde_json::json!({
                    "tag": l.tag(),
                    "name": l.native_name(),
                    "selected": *l == current,
                })
            })
            .collect::<Vec<_>>(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_formats_in_the_page_language_with_plurals() {
        let mut env = minijinja::Environment::new();
        env.add_function("t", translate);
        let render = |lang: &str, n: i64| {
            env.render_str(
                "{{ t('status-waiting', count=n) }}",
                minijinja::context! { lang => lang, n => n },
            )
            .unwrap()
        };
        assert_eq!(render("en", 1), "1 waiting");
        assert_eq!(render("en", 4), "4 waiting");
        assert_eq!(render("sr-Cyrl", 3), "3 чекају");
        let none = env
            .render_str("{{ t('status-waiting', count=2) }}", minijinja::context! {})
            .unwrap();
        assert_eq!(
            none,
            Catalog::get().format(Lang::Sq, "status-waiting", &[("count", 2u64.into())])
        );
        let list = languages(Lang::SrLatn);
        assert_eq!(list.len(), Some(4));
    }
}
