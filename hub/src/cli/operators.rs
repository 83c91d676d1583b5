//! `civreg-hub operator add|remove|log` (dashboard accounts and the operator actions log),
//! `civreg-hub access-log` (who searched for or opened which records) and the listing of an
//! audit trail `rollout log` shares. All work whether or not the hub runs.

use super::args::OperatorCommand;
use super::{ask, print, Ctx};
use crate::control;
use crate::control::answer::OperatorChanged;
use anyhow::{Context, Result};
use serde_json::json;

/// `civreg-hub operator COMMAND`.
pub(super) fn run(ctx: &Ctx, command: OperatorCommand) -> Result<()> {
    match command {
        OperatorCommand::Add { name, replace } => {
            let password = operator_password(&name)?;
            let phc = crate::operators::hash_password(&password)?;
            let changed: OperatorChanged = ask(
                &ctx.data_dir,
                control::Request::OperatorAdd {
                    name: name.clone(),
                    phc,
                    replace,
                },
            )?;
            print(ctx.json, json!(changed), || {
                format!("operator {name} can sign in to the dashboard at every hub")
            });
        }
        OperatorCommand::Remove { name } => {
            let changed: OperatorChanged = ask(
                &ctx.data_dir,
                control::Request::OperatorRemove { name: name.clone() },
            )?;
            print(ctx.json, json!(changed), || {
                format!("operator {name} was removed: signed out and refused at every hub")
            });
        }
        OperatorCommand::Log(page) => audit_log(ctx, crate::audit::Trail::Actions, page)?,
    }
    Ok(())
}

/// `--since` as milliseconds: a date (YYYY-MM-DD, midnight UTC) or an RFC 3339 time.
fn since_ms(since: Option<String>) -> Result<Option<u64>> {
    since
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(&s)
                .map(|t| t.timestamp_millis() as u64)
                .or_else(|_| {
                    chrono::NaiveDate::parse_from_str(&s, "%Y-%m-%d").map(|d| {
                        d.and_hms_opt(0, 0, 0)
                            .map(|t| t.and_utc().timestamp_millis() as u64)
                            .unwrap_or(0)
                    })
                })
                .map_err(|_| anyhow::anyhow!("--since {s:?}: use YYYY-MM-DD or an RFC 3339 time"))
        })
        .transpose()
}

/// `civreg-hub rollout log` and `civreg-hub operator log`: a page of an audit trail, as the
/// store shared by every hub holds it, oldest first.
pub(super) fn audit_log(
    ctx: &Ctx,
    trail: crate::audit::Trail,
    super::args::TrailPage {
        since,
        after,
        limit,
    }: super::args::TrailPage,
) -> Result<()> {
    let page: crate::audit::Page = ask(
        &ctx.data_dir,
        control::Request::AuditLog {
            trail,
            since_ms: since_ms(since)?,
            after,
            limit: limit.into(),
        },
    )?;
    print(ctx.json, serde_json::to_value(&page)?, || {
        let mut s = if page.entries.is_empty() {
            "no entries".to_string()
        } else {
            page.entries
                .iter()
                .map(|e| {
                    let at = e
                        .get("at_ms")
                        .and_then(serde_json::Value::as_i64)
                        .and_then(chrono::DateTime::from_timestamp_millis)
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default();
                    format!("{at}  {e}")
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        if let Some(next) = &page.next {
            s.push_str(&format!("\nmore entries follow: add --after {next}"));
        }
        s
    });
    Ok(())
}

/// The new operator's password: CIVREG_OPERATOR_PASSWORD, or asked twice on the terminal.
fn operator_password(name: &str) -> Result<String> {
    if let Ok(p) = std::env::var("CIVREG_OPERATOR_PASSWORD") {
        return Ok(p);
    }
    let a = rpassword::prompt_password(format!("password for operator {name}: "))
        .context("no terminal to ask for the password: set CIVREG_OPERATOR_PASSWORD")?;
    let b = rpassword::prompt_password("repeat it: ")?;
    anyhow::ensure!(a == b, "the two passwords differ: nothing was changed");
    Ok(a)
}

/// `civreg-hub access-log`: the entries the filters select, oldest first.
pub(super) fn access_log(
    ctx: &Ctx,
    record: Option<String>,
    by: Option<String>,
    since: Option<String>,
    person: Option<String>,
) -> Result<()> {
    let since_ms = since_ms(since)?;
    let record = record
        .map(|r| civreg_shared::ids::RegNo::parse(&r).map(|r| r.to_string()))
        .transpose()?;
    // A person's records, asked without writing a view: the question is about the log.
    let person_records: Option<Vec<String>> = match person {
        Some(p) => {
            let pid = civreg_shared::ids::PersonId::parse(&p)?;
            Some(ask::<Vec<String>>(
                &ctx.data_dir,
                control::Request::PersonRecords {
                    id: pid.to_string(),
                },
            )?)
        }
        None => None,
    };
    let mut entries = crate::access::read(
        &ctx.data_dir,
        &crate::access::Filter {
            record,
            by,
            since_ms,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    if let Some(recs) = &person_records {
        entries.retain(|e| e.records.iter().any(|r| recs.contains(r)));
    }
    print(ctx.json, serde_json::to_value(&entries)?, || {
        if entries.is_empty() {
            return "no entries".into();
        }
        entries
            .iter()
            .map(|e| {
                format!(
                    "{}  {:<30} {:<7} {}{}  -> {}",
                    chrono::DateTime::from_timestamp_millis(e.at_ms as i64)
                        .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                        .unwrap_or_default(),
                    e.by,
                    e.action,
                    if e.clerk.is_empty() {
                        String::new()
                    } else {
                        format!("clerk {} ", e.clerk)
                    },
                    e.query,
                    e.records.join(", ")
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    });
    Ok(())
}
