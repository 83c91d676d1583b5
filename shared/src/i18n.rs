//! The message catalogues every person-facing string comes from: Fluent (`.ftl`) files in
//! `shared/i18n/`, one per language, compiled into the binary, so the node's clerk app, its
//! command line and the hub read the same words.
//!
//! Languages: Albanian (`sq`, the default), Serbian in Latin (`sr-Latn`) and Cyrillic
//! (`sr-Cyrl`) script, and English (`en`). Every key exists in every language and every message
//! formats (the tests below); each validation code of [`crate::validate::ALL_CODES`] has a
//! message under [`validation_key`].
//!
//! Messages are formatted without Unicode isolation marks (they go into HTML and terminals,
//! where the marks show as boxes). A key missing at run time (which the tests rule out) falls
//! back to English, then to the key itself: never a panic.

use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};
use std::sync::OnceLock;

/// A language the catalogues are written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lang {
    /// Albanian, the default.
    #[default]
    Sq,
    /// Serbian, Latin script.
    SrLatn,
    /// Serbian, Cyrillic script.
    SrCyrl,
    En,
}

impl Lang {
    pub const ALL: [Lang; 4] = [Lang::Sq, Lang::SrLatn, Lang::SrCyrl, Lang::En];

    /// The BCP 47 tag: `sq`, `sr-Latn`, `sr-Cyrl`, `en`.
    pub fn tag(self) -> &'static str {
        match self {
            Lang::Sq => "sq",
            Lang::SrLatn => "sr-Latn",
            Lang::SrCyrl => "sr-Cyrl",
            Lang::En => "en",
        }
    }

    /// The language's name in itself, for the language picker.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::Sq => "Shqip",
            Lang::SrLatn => "Srpski",
            Lang::SrCyrl => "Српски",
            Lang::En => "English",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Sq => include_str!("../i18n/sq.ftl"),
            Lang::SrLatn => include_str!("../i18n/sr-Latn.ftl"),
            Lang::SrCyrl => include_str!("../i18n/sr-Cyrl.ftl"),
            Lang::En => include_str!("../i18n/en.ftl"),
        }
    }

    /// The language named exactly by its tag (`sq`, `sr-Latn`, `sr-Cyrl`, `en`; any case), as
    /// `civreg-node --lang` and the config files take it; `None` for anything else.
    pub fn from_tag(s: &str) -> Option<Lang> {
        Lang::ALL
            .into_iter()
            .find(|l| l.tag().eq_ignore_ascii_case(s.trim()))
    }

    /// The tags, for an error that lists the choices: `sq, sr-Latn, sr-Cyrl, en`.
    pub fn choices() -> String {
        Lang::ALL.map(Lang::tag).join(", ")
    }

    /// A tag (`sr-Cyrl`, `SR-latn`, `sq`) or a POSIX locale as in `LANG` (`sq_AL.UTF-8`,
    /// `sr_RS@latin`, `sr_RS.UTF-8`, which is Cyrillic, `en_GB`); `None` for anything else
    /// (`C`, `POSIX`, an unknown language).
    pub fn parse(s: &str) -> Option<Lang> {
        let s = s.trim();
        if s.len() > 64 {
            return None;
        }
        let lower = s.to_ascii_lowercase();
        let (base, modifier) = match lower.split_once('@') {
            Some((b, m)) => (b, Some(m)),
            None => (lower.as_str(), None),
        };
        // Drop the encoding (`.utf-8`), then split language, script and region.
        let base = base.split('.').next().unwrap_or_default();
        let mut parts = base.split(['-', '_']);
        let lang = parts.next().unwrap_or_default();
        let rest: Vec<&str> = parts.collect();
        match lang {
            "sq" | "al" => Some(Lang::Sq),
            "en" => Some(Lang::En),
            "sr" | "sh" => {
                let latin = rest.contains(&"latn") || modifier == Some("latin") || lang == "sh";
                Some(if latin { Lang::SrLatn } else { Lang::SrCyrl })
            }
            _ => None,
        }
    }

    /// The language of the first of these environment values that names one (`LC_ALL`,
    /// `LC_MESSAGES`, `LANG` in that order, as the C library reads them), else Albanian.
    pub fn from_env_values<'a>(values: impl IntoIterator<Item = Option<&'a str>>) -> Lang {
        values
            .into_iter()
            .flatten()
            .find(|v| !v.is_empty())
            .and_then(Lang::parse)
            .unwrap_or_default()
    }
}

impl std::fmt::Display for Lang {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.tag())
    }
}

/// An argument of a message.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Str(std::borrow::Cow<'a, str>),
    Num(f64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(s: &'a str) -> Self {
        Arg::Str(s.into())
    }
}
impl From<String> for Arg<'_> {
    fn from(s: String) -> Self {
        Arg::Str(s.into())
    }
}
impl<'a> From<&'a String> for Arg<'a> {
    fn from(s: &'a String) -> Self {
        Arg::Str(s.as_str().into())
    }
}
macro_rules! num_arg {
    ($($t:ty),*) => {$(
        impl From<$t> for Arg<'_> {
            fn from(n: $t) -> Self {
                Arg::Num(n as f64)
            }
        }
    )*};
}
num_arg!(u32, u64, i32, i64, usize);

/// Why the compiled-in catalogues could not be loaded (ruled out by the tests).
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the {lang} catalogue does not parse: {detail}")]
    Parse { lang: Lang, detail: String },
    #[error("the {lang} catalogue defines {key} twice")]
    Duplicate { lang: Lang, key: String },
}

/// The four catalogues, parsed.
pub struct Catalog {
    bundles: Vec<(Lang, FluentBundle<FluentResource>)>,
}

impl std::fmt::Debug for Catalog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Catalog").finish_non_exhaustive()
    }
}

/// The message key of a validation code: `jmbg.check_ten` → `v-jmbg-check-ten`.
pub fn validation_key(code: &str) -> String {
    format!("v-{}", code.replace(['.', '_'], "-"))
}

impl Catalog {
    /// Parses the compiled-in catalogues.
    pub fn load() -> Result<Catalog, CatalogError> {
        let mut bundles = Vec::new();
        for lang in Lang::ALL {
            let res = FluentResource::try_new(lang.source().to_string()).map_err(|(_, e)| {
                CatalogError::Parse {
                    lang,
                    detail: format!("{e:?}"),
                }
            })?;
            let id: unic_langid::LanguageIdentifier =
                lang.tag().parse().map_err(|e| CatalogError::Parse {
                    lang,
                    detail: format!("{e}"),
                })?;
            let mut bundle = FluentBundle::new_concurrent(vec![id]);
            bundle.set_use_isolating(false);
            bundle.add_resource(res).map_err(|errs| {
                let key = errs
                    .iter()
                    .map(|e| format!("{e:?}"))
                    .collect::<Vec<_>>()
                    .join(", ");
                CatalogError::Duplicate { lang, key }
            })?;
            bundles.push((lang, bundle));
        }
        Ok(Catalog { bundles })
    }

    /// The catalogues of this binary, parsed once.
    pub fn get() -> &'static Catalog {
        static CATALOG: OnceLock<Catalog> = OnceLock::new();
        CATALOG.get_or_init(|| {
            Catalog::load().expect("the compiled-in catalogues parse (shared::i18n tests)")
        })
    }

    fn bundle(&self, lang: Lang) -> &FluentBundle<FluentResource> {
        let i = Lang::ALL.iter().position(|l| *l == lang).unwrap_or(0);
        &self.bundles[i].1
    }

    /// Whether `lang` has a message `key`.
    pub fn has(&self, lang: Lang, key: &str) -> bool {
        self.bundle(lang)
            .get_message(key)
            .is_some_and(|m| m.value().is_some())
    }

    /// Formats `key` in `lang` with `args`; errors (a missing argument) are listed.
    pub fn try_format(
        &self,
        lang: Lang,
        key: &str,
        args: &[(&str, Arg)],
    ) -> Option<(String, Vec<String>)> {
        let bundle = self.bundle(lang);
        let pattern = bundle.get_message(key)?.value()?;
        let mut fa = FluentArgs::new();
        for (name, a) in args {
            let v = match a {
                Arg::Str(s) => FluentValue::from(s.to_string()),
                Arg::Num(n) => FluentValue::from(*n),
            };
            fa.set(name.to_string(), v);
        }
        let mut errors = Vec::new();
        let s = bundle.format_pattern(pattern, Some(&fa), &mut errors);
        Some((
            s.into_owned(),
            errors.iter().map(|e| format!("{e:?}")).collect(),
        ))
    }

    /// `key` in `lang`, else in English, else the key itself.
    pub fn format(&self, lang: Lang, key: &str, args: &[(&str, Arg)]) -> String {
        self.try_format(lang, key, args)
            .or_else(|| self.try_format(Lang::En, key, args))
            .map(|(s, _)| s)
            .unwrap_or_else(|| key.to_string())
    }

    /// A message without arguments.
    pub fn text(&self, lang: Lang, key: &str) -> String {
        self.format(lang, key, &[])
    }

    /// The clerk-facing sentence for a validation code.
    pub fn validation(&self, lang: Lang, code: &str) -> String {
        self.text(lang, &validation_key(code))
    }

    /// Every key of `lang`'s catalogue, in file order.
    pub fn keys(lang: Lang) -> Vec<String> {
        use fluent_syntax::ast::Entry;
        match FluentResource::try_new(lang.source().to_string()) {
            Ok(res) | Err((res, _)) => res
                .entries()
                .filter_map(|e| match e {
                    Entry::Message(m) => Some(m.id.name.to_string()),
                    _ => None,
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// The `$variables` each message of `lang` uses.
    fn variables(lang: Lang) -> Vec<(String, BTreeSet<String>)> {
        let src = lang.source();
        let mut out: Vec<(String, BTreeSet<String>)> = Vec::new();
        for line in src.lines() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            if let Some((key, _)) = line.split_once(" = ") {
                if !key.starts_with(' ') {
                    out.push((key.to_string(), BTreeSet::new()));
                }
            }
            let Some((_, vars)) = out.last_mut().map(|(k, v)| (k.clone(), v)) else {
                continue;
            };
            let mut rest = line;
            while let Some(i) = rest.find('$') {
                let name: String = rest[i + 1..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-')
                    .collect();
                vars.insert(name.clone());
                rest = &rest[i + 1 + name.len()..];
            }
        }
        out
    }

    #[test]
    fn every_catalogue_parses_and_has_every_key_of_every_other() {
        let catalog = Catalog::load().expect("catalogues load");
        let all: BTreeSet<String> = Lang::ALL.iter().flat_map(|l| Catalog::keys(*l)).collect();
        assert!(all.len() > 100, "{} keys", all.len());
        for lang in Lang::ALL {
            let keys: BTreeSet<String> = Catalog::keys(lang).into_iter().collect();
            let missing: Vec<&String> = all.difference(&keys).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            for k in &keys {
                assert!(catalog.has(lang, k), "{lang}: {k} has no value");
            }
        }
    }

    #[test]
    fn every_validation_code_has_a_message_in_every_language() {
        let catalog = Catalog::load().expect("catalogues load");
        for lang in Lang::ALL {
            for code in crate::validate::ALL_CODES {
                let key = validation_key(code);
                assert!(catalog.has(lang, &key), "{lang} has no {key} for {code}");
            }
        }
    }

    #[test]
    fn every_message_formats_with_the_same_arguments_in_every_language() {
        let catalog = Catalog::load().expect("catalogues load");
        let english: std::collections::BTreeMap<String, BTreeSet<String>> =
            variables(Lang::En).into_iter().collect();
        for lang in Lang::ALL {
            for (key, vars) in variables(lang) {
                assert_eq!(
                    Some(&vars),
                    english.get(&key),
                    "{lang}: {key} uses other arguments than in English"
                );
                for n in [1u64, 3, 7] {
                    let args: Vec<(&str, Arg)> =
                        vars.iter().map(|v| (v.as_str(), Arg::from(n))).collect();
                    let (text, errors) = catalog
                        .try_format(lang, &key, &args)
                        .unwrap_or_else(|| panic!("{lang}: {key} missing"));
                    assert!(errors.is_empty(), "{lang}: {key}: {errors:?}");
                    assert!(!text.trim().is_empty(), "{lang}: {key} is empty");
                    assert!(
                        !text.contains('\u{2068}'),
                        "{lang}: {key} has isolation marks"
                    );
                }
            }
        }
    }

    #[test]
    fn plurals_and_fallbacks() {
        let c = Catalog::load().unwrap();
        assert_eq!(
            c.format(Lang::En, "status-waiting", &[("count", 1u64.into())]),
            "1 waiting"
        );
        assert_eq!(
            c.format(Lang::En, "status-waiting", &[("count", 4u64.into())]),
            "4 waiting"
        );
        assert_eq!(
            c.format(Lang::SrCyrl, "status-waiting", &[("count", 3u64.into())]),
            "3 чекају"
        );
        assert_eq!(c.text(Lang::Sq, "no-such-key"), "no-such-key");
        assert_eq!(
            c.validation(Lang::En, "jmbg.length"),
            "A JMBG has 13 digits."
        );
    }

    #[test]
    fn languages_parse_from_tags_and_locales() {
        for (s, l) in [
            ("sq", Some(Lang::Sq)),
            ("sq_AL.UTF-8", Some(Lang::Sq)),
            ("sr-Latn", Some(Lang::SrLatn)),
            ("sr_RS@latin", Some(Lang::SrLatn)),
            ("sr_RS.UTF-8", Some(Lang::SrCyrl)),
            ("SR-CYRL", Some(Lang::SrCyrl)),
            ("en_GB.UTF-8", Some(Lang::En)),
            ("C", None),
            ("POSIX", None),
            ("de_DE", None),
            ("", None),
        ] {
            assert_eq!(Lang::parse(s), l, "{s}");
        }
        assert_eq!(
            Lang::from_env_values([None, Some(""), Some("sr_RS@latin")]),
            Lang::SrLatn
        );
        assert_eq!(Lang::from_env_values([Some("C")]), Lang::Sq);
        for l in Lang::ALL {
            assert_eq!(Lang::parse(l.tag()), Some(l));
            assert_eq!(Lang::from_tag(l.tag()), Some(l));
            assert_eq!(Lang::from_tag(&l.tag().to_uppercase()), Some(l));
        }
        for (s, l) in [
            ("sr_RS.UTF-8@latin", Some(Lang::SrLatn)),
            ("sq_XK", Some(Lang::Sq)),
            ("sq_XK.UTF-8", Some(Lang::Sq)),
            ("C.UTF-8", None),
        ] {
            assert_eq!(Lang::parse(s), l, "{s}");
        }
        // `--lang` takes tags only, not locales or other languages.
        for s in ["sr", "sr_RS", "xx", "", "sq_AL.UTF-8"] {
            assert_eq!(Lang::from_tag(s), None, "{s}");
        }
        assert_eq!(Lang::choices(), "sq, sr-Latn, sr-Cyrl, en");
        // LC_ALL wins over LANG, even when it names no language (C): then the default.
        assert_eq!(
            Lang::from_env_values([Some("C"), None, Some("sr_RS@latin")]),
            Lang::Sq
        );
    }
}
