//! `civreg-hub search TEXT`: national search (names in any script, typos, years, dates,
//! places, personal numbers), written to the access log.

use super::{ask, operator_label, print_answer, Ctx};
use crate::control;
use crate::search::{Results, SearchQuery};
use anyhow::Result;

/// `civreg-hub search TEXT [--born ..] [--municipality ..] [--kind ..]`.
pub(super) fn run(ctx: &Ctx, query: SearchQuery, operator: &str) -> Result<()> {
    let v: Results = ask(
        &ctx.data_dir,
        control::Request::Search {
            query,
            by: operator_label(operator),
        },
    )?;
    print_answer(ctx.json, &v, || results_text(&v))
}

fn results_text(v: &Results) -> String {
    let mut s = format!("{} found (national register)\n", v.total);
    if v.partial {
        s.push_str("no record matches every part of the query: the closest records follow\n");
    }
    for h in &v.hits {
        let people: Vec<String> = h
            .summary
            .people
            .iter()
            .map(|(role, name)| format!("{name} ({role})"))
            .collect();
        s.push_str(&format!(
            "{}  {}  born {}  {}\n",
            h.regno,
            people.join(", "),
            h.summary.date_of_birth.as_deref().unwrap_or("?"),
            h.summary.place_of_birth.as_deref().unwrap_or("")
        ));
        for w in &h.why {
            s.push_str(&format!("    {w}\n"));
        }
    }
    s.trim_end().to_string()
}
