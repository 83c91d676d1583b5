//! HTML by hand: one escaping function that every value goes through, the page frame with its
//! inline style sheet, and small formatting helpers. No script anywhere (the pages refresh with
//! a meta refresh), so the content security policy forbids scripts outright.

use std::fmt::Write as _;

/// Escapes text for HTML element content and for quoted attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes a path segment for a URL inside an attribute (ids and codes are plain ASCII, but
/// nothing is assumed).
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

const STYLE: &str = r#"
body{font:14px/1.4 system-ui,sans-serif;margin:0;color:#1b1f24;background:#f6f7f9}
header{background:#1f3a5f;color:#fff;padding:.5em 1em;display:flex;gap:1.5em;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
header .who{margin-left:auto}
header form{display:inline}
main{padding:1em}
h1{font-size:1.3em;margin:.2em 0 .6em}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #d5d9de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#eef1f4}
tr.bad td{background:#fde2e1}
tr.warn td{background:#fff4d6}
tr.idle td{color:#6a737d}
tr.diff td{background:#fff4d6}
td.pid,b.pid{font-family:ui-monospace,monospace}
.status{display:inline-block;padding:0 .4em;border-radius:.3em;background:#e4e7eb}
.status.open{background:#fff4d6}
.status.linked{background:#d8f3dc}
.node{display:inline-block;padding:0 .4em;border-radius:.3em;margin:0 .2em .2em 0;white-space:nowrap}
.online{background:#d8f3dc}
.offline{background:#f8c7c4}
.never{background:#e4e7eb}
.revoked,.expired,.forked{background:#f8c7c4;font-weight:600}
#attention{padding-left:1.2em}
li.att{margin:.2em 0}
li.att.bad{color:#8a1c14}
li.att .small{margin-left:.5em}
ol.grid{list-style:none;padding:0;display:grid;grid-template-columns:repeat(auto-fill,minmax(9em,1fr));gap:.3em}
.tile a{display:block;padding:.3em .4em;border-radius:.3em;background:#d8f3dc;color:inherit;text-decoration:none}
.tile a .small{display:block}
.tile.warn a{background:#fff4d6}
.tile.bad a{background:#f8c7c4}
.tile.idle a{background:#e4e7eb;color:#57606a}
.small{font-size:.85em;color:#57606a}
.err{color:#a40e26}
.msg{padding:.5em 1em;border-radius:.3em;margin-bottom:1em}
.msg.bad{background:#fde2e1}
.msg.ok{background:#d8f3dc}
.msg.warn{background:#fff4d6}
pre{margin:0;white-space:pre-wrap;word-break:break-word}
form.inline{display:inline}
fieldset{border:1px solid #d5d9de;background:#fff;margin:1em 0}
label{margin-right:1em}
input[type=text],input[type=password],textarea{width:28em;max-width:100%}
"#;

/// A whole page. `refresh`: seconds until the page reloads itself. `nav`: the signed-in
/// operator and the CSRF token for the logout form (none on the login page).
pub fn page(title: &str, refresh: Option<u64>, nav: Option<(&str, &str)>, body: &str) -> String {
    let mut s = String::with_capacity(body.len() + 2048);
    let _ = write!(
        s,
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">"
    );
    if let Some(r) = refresh {
        let _ = write!(s, "<meta http-equiv=\"refresh\" content=\"{r}\">");
    }
    let _ = write!(
        s,
        "<title>{} · civreg hub</title><style>{STYLE}</style></head><body><header><a href=\"/\">civreg hub</a>",
        esc(title)
    );
    if let Some((operator, csrf)) = nav {
        let _ = write!(
            s,
            "<a href=\"/\">Overview</a><a href=\"/conflicts\">Conflicts</a><a href=\"/duplicates\">Duplicates</a><a href=\"/rollout\">Rollout</a><a href=\"/metrics\">Metrics</a>\
             <span class=\"who\">signed in as <b id=\"operator\">{}</b> \
             <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{}\"><button id=\"logout\">Sign out</button></form></span>",
            esc(operator),
            esc(csrf)
        );
    }
    let _ = write!(s, "</header><main>{body}</main></body></html>");
    s
}

/// A duration in seconds, short: `42 s`, `5 min`, `3 h`, `2 days`.
pub fn ago_s(s: u64) -> String {
    match s {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86_400),
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
    fn escapes_everything_that_could_break_out() {
        assert_eq!(
            esc(r#"<script>alert("x")</script>&'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"
        );
        assert_eq!(url_seg("a/b c\"<"), "a%2Fb%20c%22%3C");
        let p = page("t<", None, Some(("o\"p", "tok")), "<p>x</p>");
        assert!(p.contains("t&lt; · civreg hub"));
        assert!(p.contains("o&quot;p"));
    }

    #[test]
    fn formats() {
        assert_eq!(ago_s(5), "5 s");
        assert_eq!(ago_s(600), "10 min");
        assert_eq!(utc_ms(0), "1970-01-01T00:00:00Z");
        assert_eq!(bytes(3 * 1024 * 1024), "3 MiB");
    }
}
