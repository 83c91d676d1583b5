//! `civreg-hub certificate REGNO` (issuing at the hub) and `civreg-hub certificate signer`
//! (the hub's document signer): the command layer over `civreg_hub::certificates::issue`.
//! Both go through the running hub's control socket, or open the store when it is stopped.

use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result};
use civreg_hub::certificates::issue::{HubIssued, IssueRequest, SecretPem, SignerInfo};
use civreg_hub::control;
use civreg_hub::pki::Pki;
use serde_json::json;

/// Issue a certificate from the record as the hub holds it, signed with the hub's signer.
#[derive(clap::Args, Debug)]
pub struct IssueArgs {
    /// The record's registration number.
    pub regno: Option<String>,
    /// The language the PDF reads first: sq, sr or en (Albanian and Serbian are always there).
    #[arg(long, value_parser = ["sq", "sr", "en"], default_value = "sq")]
    pub lang: String,
    /// Where to write the PDF (refuses an existing file).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The name the collector gave.
    #[arg(long)]
    pub collector: Option<String>,
    /// The kind of identity document the collector showed (its number is never kept):
    /// id-card, passport, driving-licence, residence-permit or other.
    #[arg(long)]
    pub id_document: Option<String>,
    /// Who issues (also CIVREG_OPERATOR): recorded as the issuer in the certificate register.
    #[arg(long, env = "CIVREG_OPERATOR")]
    pub operator: Option<String>,
}

/// `civreg-hub certificate REGNO ...`.
pub fn issue(data_dir: &Path, json_mode: bool, args: IssueArgs) -> Result<()> {
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
    let v = crate::ask(data_dir, control::Request::CertificateIssue { request })?;
    let issued: HubIssued = serde_json::from_value(v).context(
        "the hub's answer is not a certificate: run the same civreg-hub version as the hub",
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
    crate::print(
        json_mode,
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
pub fn signer(
    data_dir: &Path,
    pki_dir: &Path,
    json_mode: bool,
    from: Option<PathBuf>,
    days: u32,
    operator: &str,
) -> Result<()> {
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
            let issued = Pki::open(pki_dir)?.issue_signer(None, days)?;
            (issued.cert_pem, issued.key_pem)
        }
    };
    let v = crate::ask(
        data_dir,
        control::Request::CertificateSigner {
            cert_pem,
            key_pem: SecretPem(key_pem),
            operator: operator.trim().to_owned(),
        },
    )?;
    let info: SignerInfo = serde_json::from_value(v)
        .context("the hub's answer is not a signer: run the same civreg-hub version as the hub")?;
    crate::print(json_mode, json!({"ok": true, "signer": info}), || {
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
