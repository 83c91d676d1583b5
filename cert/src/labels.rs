//! The words printed on a certificate, from the Fluent catalogues `cert/i18n/*.ftl` (Albanian,
//! Serbian Latin, Serbian Cyrillic, English), compiled into the binary.
//!
//! They are the crate's own catalogues, not the clerk app's (`shared/i18n`): a certificate's
//! words are a legal text the agency approves apart from the screens. Every key exists in all
//! four (the tests below) and every key the PDF uses is in [`KEYS`]. A key missing at run time,
//! which the tests rule out, prints as the key itself: never a panic.
//!
//! The PDF prints Serbian in Latin script today ([`crate::pdf::Lang`]); the Cyrillic catalogue
//! is kept complete for a Cyrillic print.

use std::sync::LazyLock;

use civreg_shared::i18n::Lang;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::FluentResource;

/// Every key the PDF prints (without the `pdf-` prefix every key has in the catalogues).
pub const KEYS: &[&str] = &[
    "country",
    "agency",
    "title-birth",
    "title-marriage",
    "title-death",
    "extract-birth",
    "extract-marriage",
    "extract-death",
    "legal-basis",
    "regno",
    "register",
    "given",
    "surname",
    "maiden",
    "surname-before",
    "surname-after",
    "father-name",
    "dob",
    "sex",
    "sex-female",
    "sex-male",
    "person-id",
    "birth-place",
    "marriage-date",
    "marriage-place",
    "death-date",
    "death-place",
    "role-child",
    "role-mother",
    "role-father",
    "role-spouse1",
    "role-spouse2",
    "role-deceased",
    "marriage",
    "issued-by",
    "office",
    "central",
    "date-issue",
    "serial",
    "verify",
];

fn source(lang: Lang) -> &'static str {
    match lang {
        Lang::Sq => include_str!("../i18n/sq.ftl"),
        Lang::SrLatn => include_str!("../i18n/sr-Latn.ftl"),
        Lang::SrCyrl => include_str!("../i18n/sr-Cyrl.ftl"),
        Lang::En => include_str!("../i18n/en.ftl"),
    }
}

type Bundle = FluentBundle<FluentResource>;

fn load(lang: Lang) -> Result<Bundle, String> {
    let res = FluentResource::try_new(source(lang).to_owned())
        .map_err(|(_, e)| format!("{}: {e:?}", lang.tag()))?;
    let id: unic_langid::LanguageIdentifier = lang
        .tag()
        .parse()
        .map_err(|e| format!("{}: {e}", lang.tag()))?;
    let mut bundle = FluentBundle::new_concurrent(vec![id]);
    // No Unicode isolation marks: the font has no glyph for them.
    bundle.set_use_isolating(false);
    bundle
        .add_resource(res)
        .map_err(|e| format!("{}: {e:?}", lang.tag()))?;
    Ok(bundle)
}

static BUNDLES: LazyLock<Vec<Option<Bundle>>> =
    LazyLock::new(|| Lang::ALL.iter().map(|l| load(*l).ok()).collect());

/// The text of `key` (without `pdf-`) in `lang`, or `None` when the catalogue lacks it.
pub fn try_text(lang: Lang, key: &str) -> Option<String> {
    let i = Lang::ALL.iter().position(|l| *l == lang)?;
    let bundle = BUNDLES.get(i)?.as_ref()?;
    let pattern = bundle.get_message(&format!("pdf-{key}"))?.value()?;
    let mut errors = Vec::new();
    let s = bundle.format_pattern(pattern, None, &mut errors);
    errors.is_empty().then(|| s.into_owned())
}

/// The text of `key` in `lang`; the key itself if missing (the tests rule that out).
pub fn text(lang: Lang, key: &str) -> String {
    try_text(lang, key).unwrap_or_else(|| format!("pdf-{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(lang: Lang) -> BTreeSet<String> {
        source(lang)
            .lines()
            .filter_map(|l| l.split_once(" = ").map(|(k, _)| k))
            .filter(|k| !k.starts_with([' ', '#']))
            .map(|k| k.trim_start_matches("pdf-").to_owned())
            .collect()
    }

    #[test]
    fn every_catalogue_parses_and_has_every_key_the_pdf_prints_and_no_other() {
        let used: BTreeSet<String> = KEYS.iter().map(|k| k.to_string()).collect();
        for lang in Lang::ALL {
            load(lang).expect("the catalogue parses");
            assert_eq!(keys(lang), used, "{}", lang.tag());
            for k in KEYS {
                let t = try_text(lang, k).unwrap_or_else(|| panic!("{} lacks {k}", lang.tag()));
                assert!(!t.trim().is_empty(), "{}: {k} is empty", lang.tag());
            }
        }
    }

    #[test]
    fn the_serbian_catalogues_are_the_same_words_in_two_scripts() {
        for k in KEYS {
            let latin = text(Lang::SrLatn, k);
            let cyrillic = text(Lang::SrCyrl, k);
            assert!(
                !cyrillic.chars().any(|c| c.is_ascii_lowercase()),
                "{k}: {cyrillic}"
            );
            assert_eq!(
                civreg_shared::normalize::cyrillic_to_latin(&cyrillic),
                latin,
                "{k}"
            );
        }
    }

    #[test]
    fn the_legal_basis_names_the_law_on_civil_status() {
        for lang in Lang::ALL {
            let t = text(lang, "legal-basis");
            assert!(t.contains("04/L-003"), "{}: {t}", lang.tag());
        }
    }
}
