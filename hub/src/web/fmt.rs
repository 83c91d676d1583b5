//! Text for the pages: durations, times, sizes and values as a person reads them, and URL path
//! segments. Plain text only: the templates escape it (see `templates.rs`, which also offers
//! these as filters: `seg`, `ago`, `utc`, `bytes`, `value`).

use civreg_shared::i18n::{Catalog, Lang};
use std::fmt::Write as _;

/// Escapes a path segment for a URL (ids and codes are plain ASCII, but nothing is assumed).
pub fn url_seg(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// A duration in seconds, short, in `lang`: `42 s`, `5 min`, `3 h`, `2 days`.
pub fn ago(lang: Lang, s: u64) -> String {
    let (key, n) = match s {
        s if s < 120 => ("dash-dur-s", s),
        s if s < 7200 => ("dash-dur-min", s / 60),
        s if s < 172_800 => ("dash-dur-h", s / 3600),
        s => ("dash-dur-days", s / 86_400),
    };
    Catalog::get().format(lang, key, &[("n", n.into())])
}

/// [`ago`] in the current request's language.
pub fn ago_s(s: u64) -> String {
    ago(super::lang::current(), s)
}

/// A municipality's name as `lang` writes it (Serbian in its script; Albanian and English use
/// the Albanian name).
pub fn municipality_name(lang: Lang, m: &civreg_shared::gazetteer::Municipality) -> &'static str {
    match lang {
        Lang::SrLatn => m.name_sr_latn,
        Lang::SrCyrl => m.name_sr_cyrl,
        Lang::Sq | Lang::En => m.name_sq,
    }
}

/// A Unix time in milliseconds as UTC, to the second.
pub fn utc_ms(ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp((ms / 1000) as i64)
        .map(crate::pki::format_utc)
        .unwrap_or_else(|_| format!("{ms} ms"))
}

/// Bytes, short: `512 MiB`, `3.2 GiB`.
pub fn bytes(n: u64) -> String {
    const GIB: f64 = 1024.0 * 1024.0 * 1024.0;
    let f = n as f64;
    if f >= GIB {
        format!("{:.1} GiB", f / GIB)
    } else if n >= 1024 * 1024 {
        format!("{} MiB", n / (1024 * 1024))
    } else {
        format!("{} KiB", n / 1024)
    }
}

/// A JSON value for display: strings without quotes, everything else as JSON.
pub fn value(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => serde_json::to_string_pretty(other).unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(url_seg("a/b c\"<"), "a%2Fb%20c%22%3C");
        assert_eq!(ago(Lang::En, 5), "5 s");
        assert_eq!(ago(Lang::En, 600), "10 min");
        assert_eq!(ago(Lang::En, 3 * 86_400), "3 days");
        assert_eq!(ago(Lang::Sq, 3 * 86_400), "3 ditë");
        assert_eq!(utc_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(bytes(3 * 1024 * 1024), "3 MiB");
        assert_eq!(value(&serde_json::json!("a")), "a");
        assert_eq!(value(&serde_json::json!(3)), "3");
        let m = civreg_shared::gazetteer::by_code("prishtine").unwrap();
        assert_eq!(municipality_name(Lang::En, m), m.name_sq);
        assert_eq!(municipality_name(Lang::SrCyrl, m), m.name_sr_cyrl);
        assert_ne!(
            municipality_name(Lang::SrLatn, m),
            municipality_name(Lang::SrCyrl, m)
        );
    }
}
