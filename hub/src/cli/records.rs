//! One record or one person as the hub holds them: `civreg-hub show REGNO`, `person ID` (both
//! written to the access log), and `digest` (a municipality's records, to compare with its
//! offices').

use super::{ask, operator_label, print_answer, Ctx};
use crate::control;
use crate::control::answer::{PersonView, RecordView};
use anyhow::{Context, Result};
use civreg_shared::merge::DigestValue;

/// `civreg-hub show REGNO`: the record view as JSON, indented (or on one line with --json).
pub(super) fn show(ctx: &Ctx, regno: String, operator: &str) -> Result<()> {
    let view: RecordView = ask(
        &ctx.data_dir,
        control::Request::Show {
            regno,
            by: operator_label(operator),
        },
    )?;
    // As a `Value`, so that the keys are in order, as they always were.
    let v = serde_json::to_value(&view).context("the record could not be written as JSON")?;
    print_answer(ctx.json, &v, || {
        serde_json::to_string_pretty(&v).unwrap_or_default()
    })
}

/// `civreg-hub person ID`.
pub(super) fn person(ctx: &Ctx, id: String, operator: &str) -> Result<()> {
    let v: PersonView = ask(
        &ctx.data_dir,
        control::Request::Person {
            id,
            by: operator_label(operator),
        },
    )?;
    print_answer(ctx.json, &v, || {
        format!(
            "person {}\n{}",
            v.person,
            v.mentions
                .iter()
                .map(|m| format!("  {m}"))
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

/// `civreg-hub digest --municipality M`.
pub(super) fn digest(ctx: &Ctx, municipality: &str) -> Result<()> {
    let code = civreg_shared::gazetteer::resolve(municipality)
        .map(|g| g.code.to_string())
        .with_context(|| format!("unknown municipality {municipality:?}"))?;
    let v: DigestValue = ask(
        &ctx.data_dir,
        control::Request::Digest {
            municipality: code.clone(),
        },
    )?;
    print_answer(ctx.json, &v, || {
        format!("{code}: {} records, digest {}", v.records, v.sha256)
    })
}
