//! `civreg-hub search TEXT`: national search (names in any script, typos, years, dates,
//! places, personal numbers), written to the access log. The answer is said in the language of
//! the operator's locale (`LC_ALL`, `LC_MESSAGES`, `LANG`; Albanian when none names one of the
//! four), through the Fluent catalogues, the "why" lines too (`civreg_shared::query::Why`).

use super::{ask, operator_label, print_answer, Ctx};
use crate::control;
use crate::search::{Results, SearchQuery};
use anyhow::Result;
use civreg_shared::i18n::{Catalog, Lang};
use civreg_shared::query::why::role_text;

/// `civreg-hub search TEXT [--born ..] [--municipality ..] [--kind ..]`.
pub(super) fn run(ctx: &Ctx, query: SearchQuery, operator: &str) -> Result<()> {
    let v: Results = ask(
        &ctx.data_dir,
        control::Request::Search {
            query,
            by: operator_label(operator),
        },
    )?;
    print_answer(ctx.json, &v, || results_text(&v, super::operator_lang()))
}

fn results_text(v: &Results, lang: Lang) -> String {
    let c = Catalog::get();
    let mut s = c.format(lang, "cli-search-national", &[("count", v.total.into())]);
    s.push('\n');
    if v.partial {
        s.push_str(&c.text(lang, "cli-search-partial"));
        s.push('\n');
    }
    for h in &v.hits {
        let people: Vec<String> = h
            .summary
            .people
            .iter()
            .map(|(role, name)| format!("{name} ({})", role_text(lang, role)))
            .collect();
        s.push_str(&format!(
            "{}  {}  {}  {}\n",
            h.regno,
            people.join(", "),
            c.format(
                lang,
                "cli-search-born",
                &[(
                    "date",
                    h.summary.date_of_birth.as_deref().unwrap_or("?").into()
                )]
            ),
            h.summary.place_of_birth.as_deref().unwrap_or("")
        ));
        // In the reader's language; an answer without the explanation as data (kept from an
        // older version) gives its English lines.
        if h.explain.is_empty() {
            for w in &h.why {
                s.push_str(&format!("    {w}\n"));
            }
        }
        for w in &h.explain {
            s.push_str(&format!("    {}\n", w.text(lang)));
        }
    }
    s.trim_end().to_string()
}
