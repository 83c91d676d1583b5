//! `civreg-hub certificate ...`: citizens' certificates at the hub. Issuing one
//! (`certificate REGNO`) and installing the hub's document signer go through the running hub's
//! control socket, or open the store when it is stopped; so do cancelling and listing the
//! cancellations (kept in the store, shared by every hub). Verification is the dashboard's public `/verify` page.

use super::args::{CertificateCommand, IssueArgs};
use super::{ask, operator_label, print, print_answer, Ctx};
use crate::certificates::issue::{HubIssued, IssueRequest, SecretPem, SignerInfo};
use crate::certificates::IssueRecord;
use crate::control;
use crate::pki::Pki;
use anyhow::{Context as _, Result};
use serde_json::json;
use std::path::PathBuf;

/// `civreg-hub certificate COMMAND`.
pub(super) fn run(ctx: &Ctx, command: CertificateCommand) -> Result<()> {
    match command {
        CertificateCommand::Signer {
            from,
            days,
            operator,
        } => signer(ctx, from, days, &operator)?,
        CertificateCommand::Cancel {
            serial,
            reason,
            operator,
        } => {
            if operator.trim().is_empty() {
                anyhow::bail!("say who cancels: --operator NAME or CIVREG_OPERATOR");
            }
            let c: crate::certificates::Cancelled = ask(
                &ctx.data_dir,
                control::Request::CertificateCancel {
                    serial,
                    reason,
                    operator,
                },
            )?;
            print(ctx.json, json!({"ok": true, "cancelled": c}), || {
                format!(
                    "certificate {} cancelled: the verification page refuses it from now on",
                    c.serial
                )
            });
        }
        CertificateCommand::Issued { regno, operator } => {
            let all: Vec<IssueRecord> = ask(
                &ctx.data_dir,
                control::Request::CertificatesIssued {
                    regno,
                    by: operator_label(&operator),
                },
            )?;
            print_answer(ctx.json, &all, || {
                if all.is_empty() {
                    return "no certificate reported by the offices yet".to_string();
                }
                all.iter()
                    .map(|c| {
                        format!(
                            "{}  {} v{}  {} by {}  for {} ({})",
                            c.serial,
                            c.regno,
                            c.record_version,
                            c.office,
                            c.clerk,
                            c.collector,
                            c.id_document
                        )
                    })
                    .collect::<Vec<_>>()
                    .join("\n")
            })?;
        }
        CertificateCommand::Cancelled => {
            let all: Vec<crate::certificates::Cancelled> =
                ask(&ctx.data_dir, control::Request::CertificatesCancelled)?;
            print(ctx.json, json!(all), || {
                all.iter()
                    .map(|c| format!("{}  by {}: {}", c.serial, c.operator, c.reason))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
    }
    Ok(())
}

/// `civreg-hub certificate REGNO ...`.
pub(super) fn issue(ctx: &Ctx, args: IssueArgs) -> Result<()> {
    let need = |v: Option<String>, what: &str| {
        v.filter(|s| !s.trim().is_empty())
            .with_context(|| format!("{what} is required: civreg-hub certificate REGNO --out FILE.pdf --collector NAME --id-document KIND --operator NAME"))
    };
    let regno = need(args.regno, "the record's registration number")?;
    let out = args
        .out
        .context("--out FILE.pdf is required: where to write the certificate")?;
    let request = IssueRequest {
        regno,
        lang: args.lang,
        collector: need(args.collector, "--collector (the name the collector gave)")?,
        id_document: need(
            args.id_document,
            "--id-document (the kind of document shown)",
        )?,
        operator: need(args.operator, "--operator NAME (or CIVREG_OPERATOR)")?,
    };
    if out.exists() {
        anyhow::bail!("{} already exists: choose another --out", out.display());
    }
    let issued: HubIssued = ask(
        &ctx.data_dir,
        control::Request::CertificateIssue { request },
    )?;
    let pdf = hex::decode(&issued.pdf_hex)
        .context("the hub's answer holds no PDF: run the same civreg-hub version as the hub")?;
    std::fs::write(&out, &pdf).with_context(|| {
        format!(
            "certificate {} was issued and recorded, but {} could not be written: cancel it (`civreg-hub certificate cancel {} --reason \"not printed\"`) and issue another with another --out",
            issued.issue.serial,
            out.display(),
            issued.issue.serial
        )
    })?;
    print(
        ctx.json,
        json!({"ok": true, "serial": issued.issue.serial, "regno": issued.issue.regno, "out": out,
               "qr_text": issued.qr_text, "qr_chars": issued.qr_text.len(), "issue": issued.issue}),
        || {
            format!(
                "certificate {} of {} written to {} ({} bytes); recorded in the certificate register",
                issued.issue.serial,
                issued.issue.regno,
                out.display(),
                pdf.len()
            )
        },
    );
    Ok(())
}

/// `civreg-hub certificate signer`: issues the hub's document signer with the agency CA (or
/// takes one made by `pki issue-signer hub --out DIR`) and installs it sealed in the store.
fn signer(ctx: &Ctx, from: Option<PathBuf>, days: u32, operator: &str) -> Result<()> {
    if operator.trim().is_empty() {
        anyhow::bail!("say who installs the signer: --operator NAME or CIVREG_OPERATOR");
    }
    let (cert_pem, key_pem) = match &from {
        Some(dir) => {
            let read = |name: &str| {
                let p = dir.join(name);
                std::fs::read_to_string(&p).with_context(|| {
                    format!("could not read {}: give the directory `civreg-hub pki issue-signer hub --out DIR` wrote", p.display())
                })
            };
            (read("signer.pem")?, read("signer.key")?)
        }
        None => {
            let issued = Pki::open(&ctx.pki_dir)?.issue_signer(None, days)?;
            (issued.cert_pem, issued.key_pem)
        }
    };
    let info: SignerInfo = ask(
        &ctx.data_dir,
        control::Request::CertificateSigner {
            cert_pem,
            key_pem: SecretPem(key_pem),
            operator: operator.trim().to_owned(),
        },
    )?;
    print(ctx.json, json!({"ok": true, "signer": info}), || {
        format!(
            "{} installed (key id {}, valid until {}), sealed in the hub's database{}\npublish a new trust list now, so that verifiers know it: civreg-hub pki trust-list --out FILE",
            info.identity,
            info.kid,
            civreg_cert::format_time(info.not_after),
            if from.is_some() {
                "\ndelete signer.key from the directory it came from: the hub keeps its own sealed copy"
            } else {
                ""
            }
        )
    });
    Ok(())
}
