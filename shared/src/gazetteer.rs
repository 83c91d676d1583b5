//! The 38 municipalities of Kosovo, with a stable ASCII code and the official names in
//! Albanian, Serbian Latin and Serbian Cyrillic, and a forgiving name resolver.
//!
//! The data is `data/municipalities.csv`, embedded at compile time and parsed once.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::normalize::{phonetic_key, variants};

/// The embedded reference data: `code,name_sq,name_sr_latn,name_sr_cyrl`, one header line.
const DATA: &str = include_str!("../data/municipalities.csv");

/// Additional names under which a municipality is known (historic, short or English names).
/// The pilot municipality `mitrovice-jugut` is what people mean by plain "Mitrovicë/Mitrovica".
/// "Kosovska Mitrovica" alone is deliberately absent: it is used for both halves.
const ALIASES: &[(&str, &[&str])] = &[
    (
        "mitrovice-jugut",
        &["Mitrovicë", "Mitrovica", "Митровица", "South Mitrovica"],
    ),
    (
        "mitrovice-veriut",
        &["Severna Mitrovica", "Северна Митровица", "North Mitrovica"],
    ),
    ("kamenice", &["Kamenica", "Каменица"]),
    ("drenas", &["Gllogoc", "Gllogovc"]),
    ("hani-i-elezit", &["Elez Han", "Елез Хан"]),
    ("novoberde", &["Novobërda", "Novo Berdo"]),
    // Short and colloquial forms people write and say.
    ("gjakove", &["Đakova", "Ђакова", "Jakova", "Yakova"]),
    ("shtime", &["Shtimja", "Štimlja"]),
    ("peje", &["Ipek"]),
    ("prishtine", &["Prishtina e Re"]),
];

/// Names that cover several municipalities: "Kosovska Mitrovica" (and its older name "Titova
/// Mitrovica") is what Serbian speakers call the city of both Mitrovica municipalities.
const GROUPS: &[(&[&str], &[&str])] = &[(
    &[
        "Kosovska Mitrovica",
        "Косовска Митровица",
        "Titova Mitrovica",
        "Титова Митровица",
        "Mitrovica e Kosovës",
    ],
    &["mitrovice-jugut", "mitrovice-veriut"],
)];

/// A municipality of Kosovo.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Municipality {
    /// Stable lowercase ASCII code (`prishtine`, `mitrovice-jugut`, …), used by certificates,
    /// registration numbers and configs.
    pub code: &'static str,
    /// Official Albanian name (`Prishtinë`).
    pub name_sq: &'static str,
    /// Official Serbian name in Latin script (`Priština`).
    pub name_sr_latn: &'static str,
    /// Official Serbian name in Cyrillic script (`Приштина`).
    pub name_sr_cyrl: &'static str,
}

impl Municipality {
    /// The bilingual display name, Albanian first: `"Prishtinë/Priština"`, or a single name
    /// when both are spelled the same (`"Prizren"`).
    pub fn display(&self) -> String {
        if self.name_sq == self.name_sr_latn {
            self.name_sq.to_owned()
        } else {
            format!("{}/{}", self.name_sq, self.name_sr_latn)
        }
    }

    /// All folded forms under which this municipality is indexed for search: the folded code,
    /// official names and aliases, their `đ→d` variants, the forms with each word's final vowel
    /// dropped (`prishtin`), and the same forms with spaces removed. Deduplicated.
    pub fn search_forms(&self) -> Vec<String> {
        let idx = index();
        if let Some(i) = idx.munis.iter().position(|m| m == self) {
            return idx.search_forms[i].clone();
        }
        // A value not from the table (built by hand): compute directly.
        let mut out: Vec<String> = Vec::new();
        for (form, _) in forms_of(self) {
            if !out.contains(&form) {
                out.push(form);
            }
        }
        out
    }
}

/// All 38 municipalities, in file order.
pub fn all() -> &'static [Municipality] {
    &index().munis
}

/// The municipality with exactly this code (`"prishtine"`), if any.
pub fn by_code(code: &str) -> Option<&'static Municipality> {
    all().iter().find(|m| m.code == code)
}

/// Resolves a free-text municipality name: the code or any official name (Albanian, Serbian
/// Latin, Serbian Cyrillic), with or without diacritics, in any case, with extra spaces or
/// hyphens, in the Albanian definite or indefinite form (`Prishtinë`, `Prishtina`,
/// `Prishtine`), with `đ` typed as `dj` or `d` (`Đakovica`, `Djakovica`, `Dakovica`), or a
/// known alias (`Mitrovica` → `mitrovice-jugut`, `Gllogoc` → `drenas`).
///
/// As a last resort, spellings with the same [`phonetic_key`] (of at least 4 letters) match,
/// which catches common typing variants such as `Vushtri` or `Stime`.
///
/// Returns `None` for unknown or ambiguous names.
pub fn resolve(name: &str) -> Option<&'static Municipality> {
    let idx = index();
    if let Some(m) = by_code(name.trim()) {
        return Some(m);
    }
    let vs = variants(name);
    if vs.first().is_none_or(|f| f.is_empty()) {
        return None;
    }
    let mut candidates: Vec<String> = Vec::with_capacity(vs.len() * 4);
    for v in &vs {
        push_with_nospace(&mut candidates, v.clone());
    }
    for v in &vs {
        push_with_nospace(&mut candidates, drop_final_vowels(v));
    }
    for c in &candidates {
        if let Some(slot) = idx.forms.get(c) {
            return slot.muni.map(|i| &idx.munis[i]);
        }
    }
    let key = phonetic_key(name);
    if key.bytes().filter(u8::is_ascii_uppercase).count() < 4 {
        return None;
    }
    let nospace: String = key.chars().filter(|&c| c != ' ').collect();
    for k in [&key, &nospace] {
        if let Some(slot) = idx.keys.get(k.as_str()) {
            return slot.map(|i| &idx.munis[i]);
        }
    }
    None
}

/// Resolves a place name that may cover several municipalities: a name of a group ("Kosovska
/// Mitrovica" → both Mitrovica municipalities), or what [`resolve`] finds (one municipality).
/// Empty for unknown or ambiguous names.
pub fn resolve_places(name: &str) -> Vec<&'static Municipality> {
    let vs = variants(name);
    if vs.first().is_none_or(|f| f.is_empty()) {
        return Vec::new();
    }
    let mut candidates: Vec<String> = Vec::with_capacity(vs.len() * 4);
    for v in &vs {
        push_with_nospace(&mut candidates, v.clone());
        push_with_nospace(&mut candidates, drop_final_vowels(v));
    }
    for (names, codes) in GROUPS {
        let hit = names.iter().any(|n| {
            let f = crate::normalize::fold(n);
            let mut forms = Vec::new();
            push_with_nospace(&mut forms, f.clone());
            push_with_nospace(&mut forms, drop_final_vowels(&f));
            forms.iter().any(|f| candidates.contains(f))
        });
        if hit {
            return codes.iter().filter_map(|c| by_code(c)).collect();
        }
    }
    resolve(name).into_iter().collect()
}

/// How a form was derived; a lower tier wins over a higher one, and two municipalities with
/// the same form at the same tier make the form ambiguous.
#[derive(Debug, Clone, Copy)]
struct Slot {
    tier: u8,
    muni: Option<usize>,
}

struct Index {
    munis: Vec<Municipality>,
    /// folded form → municipality (None = ambiguous)
    forms: HashMap<String, Slot>,
    /// phonetic key → municipality (None = ambiguous)
    keys: HashMap<String, Option<usize>>,
    /// per municipality, parallel to `munis`
    search_forms: Vec<Vec<String>>,
}

fn index() -> &'static Index {
    static INDEX: OnceLock<Index> = OnceLock::new();
    INDEX.get_or_init(build_index)
}

fn parse(data: &'static str) -> Vec<Municipality> {
    data.lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|line| {
            let mut f = line.split(',').map(str::trim);
            let mut next = || {
                f.next()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| panic!("municipalities.csv: malformed line {line:?}"))
            };
            Municipality {
                code: next(),
                name_sq: next(),
                name_sr_latn: next(),
                name_sr_cyrl: next(),
            }
        })
        .collect()
}

/// Drops the final vowel of every word longer than 3 letters (Albanian definite/indefinite
/// endings, Serbian -o/-e/-a): `fushe kosova → fush kosov`.
fn drop_final_vowels(folded: &str) -> String {
    let mut out = String::with_capacity(folded.len());
    for (i, w) in folded.split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let w = if w.chars().count() > 3 && w.ends_with(['a', 'e', 'i', 'o', 'u']) {
            &w[..w.len() - 1]
        } else {
            w
        };
        out.push_str(w);
    }
    out
}

fn push_with_nospace(out: &mut Vec<String>, form: String) {
    let nospace: String = form.chars().filter(|&c| c != ' ').collect();
    if !out.contains(&form) {
        out.push(form);
    }
    if !out.contains(&nospace) {
        out.push(nospace);
    }
}

/// The source spellings of a municipality: code, official names and aliases.
fn sources_of(m: &Municipality) -> Vec<&'static str> {
    let mut src = vec![m.code, m.name_sq, m.name_sr_latn, m.name_sr_cyrl];
    if let Some((_, extra)) = ALIASES.iter().find(|(code, _)| *code == m.code) {
        src.extend_from_slice(extra);
    }
    src
}

/// All indexed folded forms of a municipality with their tiers.
fn forms_of(m: &Municipality) -> Vec<(String, u8)> {
    let mut out = Vec::new();
    for s in sources_of(m) {
        for (i, v) in variants(s).into_iter().enumerate() {
            let tier = if i == 0 { 0 } else { 1 };
            let dropped = drop_final_vowels(&v);
            let mut forms = Vec::with_capacity(4);
            push_with_nospace(&mut forms, v);
            for f in forms {
                out.push((f, tier));
            }
            let mut forms = Vec::with_capacity(2);
            push_with_nospace(&mut forms, dropped);
            for f in forms {
                out.push((f, 2));
            }
        }
    }
    out.retain(|(f, _)| !f.is_empty());
    out
}

fn build_index() -> Index {
    let munis = parse(DATA);
    let mut forms: HashMap<String, Slot> = HashMap::new();
    let mut keys: HashMap<String, Option<usize>> = HashMap::new();
    let mut search_forms = Vec::with_capacity(munis.len());
    for (i, m) in munis.iter().enumerate() {
        let mut mine: Vec<String> = Vec::new();
        for (form, tier) in forms_of(m) {
            if !mine.contains(&form) {
                mine.push(form.clone());
            }
            match forms.get_mut(&form) {
                None => {
                    forms.insert(
                        form,
                        Slot {
                            tier,
                            muni: Some(i),
                        },
                    );
                }
                Some(slot) if tier < slot.tier => {
                    *slot = Slot {
                        tier,
                        muni: Some(i),
                    }
                }
                Some(slot) if tier == slot.tier && slot.muni != Some(i) => slot.muni = None,
                Some(_) => {}
            }
        }
        search_forms.push(mine);
        for s in sources_of(m) {
            let key = phonetic_key(s);
            let nospace: String = key.chars().filter(|&c| c != ' ').collect();
            for k in [key, nospace] {
                if k.is_empty() {
                    continue;
                }
                let e = keys.entry(k).or_insert(Some(i));
                if *e != Some(i) {
                    *e = None;
                }
            }
        }
    }
    Index {
        munis,
        forms,
        keys,
        search_forms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalize::fold;
    use std::collections::HashSet;

    fn code_of(name: &str) -> Option<&'static str> {
        resolve(name).map(|m| m.code)
    }

    #[test]
    fn all_38_codes_present_and_unique() {
        let all = all();
        assert_eq!(all.len(), 38);
        let codes: HashSet<&str> = all.iter().map(|m| m.code).collect();
        assert_eq!(codes.len(), 38);
        for m in all {
            assert!(
                m.code.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{}",
                m.code
            );
            assert_eq!(by_code(m.code), Some(m));
        }
        for code in [
            "istog",
            "mitrovice-jugut",
            "prishtine",
            "mitrovice-veriut",
            "zvecan",
        ] {
            assert!(by_code(code).is_some(), "{code}");
        }
        assert_eq!(all[0].code, "decan");
        assert_eq!(all[37].code, "zvecan");
    }

    #[test]
    fn every_official_name_resolves() {
        for m in all() {
            for name in [m.code, m.name_sq, m.name_sr_latn, m.name_sr_cyrl] {
                assert_eq!(code_of(name), Some(m.code), "{name:?}");
                assert_eq!(code_of(&fold(name)), Some(m.code), "fold of {name:?}");
                assert_eq!(
                    code_of(&name.to_uppercase()),
                    Some(m.code),
                    "upper {name:?}"
                );
                assert_eq!(
                    code_of(&name.to_lowercase()),
                    Some(m.code),
                    "lower {name:?}"
                );
                let spaced = format!("  {}  ", name.replace(' ', "   "));
                assert_eq!(code_of(&spaced), Some(m.code), "spaced {name:?}");
            }
        }
    }

    #[test]
    fn bilingual_examples_resolve() {
        let cases: &[(&str, &str)] = &[
            ("Prishtina", "prishtine"),
            ("Prishtinë", "prishtine"),
            ("Priština", "prishtine"),
            ("Приштина", "prishtine"),
            ("pristina", "prishtine"),
            ("PRISHTINE", "prishtine"),
            ("Mitrovicë", "mitrovice-jugut"),
            ("Mitrovica", "mitrovice-jugut"),
            ("Mitrovice", "mitrovice-jugut"),
            ("Митровица", "mitrovice-jugut"),
            ("Mitrovica e Jugut", "mitrovice-jugut"),
            ("Mitrovicë e Veriut", "mitrovice-veriut"),
            ("Mitrovica e Veriut", "mitrovice-veriut"),
            ("Severna Kosovska Mitrovica", "mitrovice-veriut"),
            ("Северна Косовска Митровица", "mitrovice-veriut"),
            ("Peć", "peje"),
            ("Pec", "peje"),
            ("Pejë", "peje"),
            ("Peja", "peje"),
            ("Пећ", "peje"),
            ("Đakovica", "gjakove"),
            ("Djakovica", "gjakove"),
            ("Dakovica", "gjakove"),
            ("Gjakova", "gjakove"),
            ("Gjakovë", "gjakove"),
            ("Uroševac", "ferizaj"),
            ("Urosevac", "ferizaj"),
            ("Ferizaj", "ferizaj"),
            ("Kosovo Polje", "fushe-kosove"),
            ("Fushe Kosove", "fushe-kosove"),
            ("Fushë Kosova", "fushe-kosove"),
            ("Fushë-Kosovë", "fushe-kosove"),
            ("Hani i Elezit", "hani-i-elezit"),
            ("Đeneral Janković", "hani-i-elezit"),
            ("Djeneral Jankovic", "hani-i-elezit"),
            ("Deneral Jankovic", "hani-i-elezit"),
            ("Gnjilane", "gjilan"),
            ("Gjilan", "gjilan"),
            ("Gjilani", "gjilan"),
            ("Istog", "istog"),
            ("Istok", "istog"),
            ("Deçani", "decan"),
            ("Dečani", "decan"),
            ("Podujeva", "podujeve"),
            ("Suhareka", "suhareke"),
            ("Novo Brdo", "novoberde"),
            ("Novobrdo", "novoberde"),
            ("Zubin-Potok", "zubin-potok"),
            ("Kosovska Kamenica", "kamenice"),
            ("Kamenica", "kamenice"),
            ("Gllogoc", "drenas"),
            ("Glogovac", "drenas"),
            ("Vushtrria", "vushtrri"),
            ("Vushtri", "vushtrri"),
            ("Vučitrn", "vushtrri"),
            ("Shtërpca", "shterpce"),
            ("Štrpce", "shterpce"),
            ("Prizren", "prizren"),
            ("Prizreni", "prizren"),
        ];
        for &(name, code) in cases {
            assert_eq!(code_of(name), Some(code), "{name:?}");
        }
    }

    #[test]
    fn unknown_or_ambiguous_names_give_none() {
        for name in [
            "",
            "   ",
            "-",
            "Beograd",
            "Tirana",
            "Skopje",
            "Kosovo",
            "Kosovska Mitrovica",
            "xyz",
            "123",
            "Prishtinë Prizren",
        ] {
            assert_eq!(code_of(name), None, "{name:?}");
        }
    }

    #[test]
    fn colloquial_and_multi_word_places_resolve() {
        let codes =
            |name: &str| -> Vec<&str> { resolve_places(name).iter().map(|m| m.code).collect() };
        for name in [
            "Kosovska Mitrovica",
            "Косовска Митровица",
            "kosovska mitrovica",
            "Titova Mitrovica",
        ] {
            assert_eq!(
                codes(name),
                ["mitrovice-jugut", "mitrovice-veriut"],
                "{name:?}"
            );
        }
        let cases: &[(&str, &str)] = &[
            ("Ђакова", "gjakove"),
            ("Đakova", "gjakove"),
            ("Djakova", "gjakove"),
            ("Gjakovë", "gjakove"),
            ("Gjakova", "gjakove"),
            ("Prishtinë", "prishtine"),
            ("Prishtina", "prishtine"),
            ("Fushë Kosovë", "fushe-kosove"),
            ("Kosovo Polje", "fushe-kosove"),
            ("Косово Поље", "fushe-kosove"),
            ("Suva Reka", "suhareke"),
            ("Сува Река", "suhareke"),
            ("Mitrovicë e Jugut", "mitrovice-jugut"),
            ("Južna Mitrovica", "mitrovice-jugut"),
            ("Јужна Митровица", "mitrovice-jugut"),
            ("Kosovska Kamenica", "kamenice"),
            ("Orahovac", "rahovec"),
            ("Ораховац", "rahovec"),
            ("Rahoveci", "rahovec"),
            ("Srbica", "skenderaj"),
            ("Србица", "skenderaj"),
            ("Skënderaji", "skenderaj"),
            ("Shtimja", "shtime"),
            ("Uroševac", "ferizaj"),
            ("Ferizaji", "ferizaj"),
            ("Glogovac", "drenas"),
        ];
        for &(name, code) in cases {
            assert_eq!(codes(name), [code], "{name:?}");
        }
        assert!(codes("Beograd").is_empty());
        assert!(codes("").is_empty());
    }

    #[test]
    fn display_names() {
        let d = |code: &str| by_code(code).map(Municipality::display);
        assert_eq!(d("prishtine").as_deref(), Some("Prishtinë/Priština"));
        assert_eq!(d("prizren").as_deref(), Some("Prizren"));
        assert_eq!(d("junik").as_deref(), Some("Junik"));
        assert_eq!(
            d("mitrovice-jugut").as_deref(),
            Some("Mitrovicë e Jugut/Južna Mitrovica")
        );
    }

    #[test]
    fn search_forms_cover_official_names() {
        for m in all() {
            let forms = m.search_forms();
            assert!(!forms.is_empty());
            let unique: HashSet<&String> = forms.iter().collect();
            assert_eq!(
                unique.len(),
                forms.len(),
                "{} forms not deduplicated",
                m.code
            );
            for name in [m.name_sq, m.name_sr_latn, m.name_sr_cyrl] {
                assert!(forms.contains(&fold(name)), "{}: {name:?}", m.code);
            }
            for f in &forms {
                assert_eq!(&fold(f), f, "{}: form {f:?} is not folded", m.code);
                assert_eq!(
                    code_of(f),
                    Some(m.code),
                    "{}: form {f:?} resolves elsewhere",
                    m.code
                );
            }
        }
        let gj = by_code("gjakove")
            .map(Municipality::search_forms)
            .unwrap_or_default();
        for f in ["gjakove", "gjakov", "djakovica", "dakovica", "djakovic"] {
            assert!(gj.iter().any(|g| g == f), "{f}");
        }
    }

    #[test]
    fn hand_built_municipality_search_forms() {
        let m = Municipality {
            code: "x-y",
            name_sq: "Qytet",
            name_sr_latn: "Grad",
            name_sr_cyrl: "Град",
        };
        let forms = m.search_forms();
        assert!(forms.contains(&"qytet".to_owned()));
        assert!(forms.contains(&"grad".to_owned()));
        assert_eq!(m.display(), "Qytet/Grad");
    }

    #[test]
    fn csv_embedded_verbatim() {
        assert_eq!(DATA.lines().count(), 39);
        assert!(DATA.starts_with("code,name_sq,name_sr_latn,name_sr_cyrl"));
    }

    proptest::proptest! {
        #[test]
        fn resolve_never_panics(s in proptest::prelude::any::<String>()) {
            let _ = resolve(&s);
            let _ = by_code(&s);
        }
    }
}
