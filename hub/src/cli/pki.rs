//! `civreg-hub pki ...`: the agency's certificates (CA, hub, nodes, operators, document
//! signers), the offline root and the trust list. These touch only files under `pki/`, never
//! the store, so they do not go through the control socket.

use super::args::{PkiCommand, RootCommand};
use super::{print, Ctx};
use crate::pki::Pki;
use anyhow::{Context, Result};
use serde_json::json;

/// `civreg-hub pki COMMAND`.
pub(super) fn run(ctx: &Ctx, command: PkiCommand) -> Result<()> {
    if let Ok(pki) = Pki::open(&ctx.pki_dir) {
        if let Some(key) = pki.legacy_ca_key() {
            eprintln!("warning: the agency CA's private key {} is on the hub: take it offline with `civreg-hub pki root take-offline --dir OFFLINE_DIR` (operator manual, \"Key ceremony\")", key.display());
        }
    }
    match command {
        PkiCommand::Init {
            hub_names,
            root_dir,
        } => {
            crate::atrest::create_private_dir(&ctx.data_dir)
                .with_context(|| format!("could not create {}", ctx.data_dir.display()))?;
            let root_dir = root_dir.unwrap_or_else(|| {
                let name = ctx
                    .data_dir
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned());
                ctx.data_dir.with_file_name(format!(
                    "{}-root-ca",
                    name.as_deref().unwrap_or("civreg-hub")
                ))
            });
            let pki = Pki::init_with_root(&ctx.pki_dir, Some(&root_dir), &hub_names)?;
            // The pilot's key file, unless one is there already (a hub's PKI made again).
            let key_made = !ctx.cfg.key_file.exists();
            if key_made {
                crate::atrest::create_key(&ctx.cfg.key_file)?;
            }
            let key = json!({"key_file": ctx.cfg.key_file, "key_file_created": key_made});
            print(
                ctx.json,
                json!({"ok": true, "pki": pki.dir(), "root": root_dir, "key": key}),
                || {
                    format!(
                    "issuing CA and hub certificate created in {}\nthe root CA is in {}: move it to the offline machine and delete it here (operator manual, \"Key ceremony\")\n{} {}: it seals the hub database; keep it off the data disk and pass it with --key-file\nnext: civreg-hub --data-dir {} pki issue --municipality CODE --node-id ID --out BUNDLE_DIR",
                    pki.dir().display(),
                    root_dir.display(),
                    if key_made { "key file created:" } else { "key file kept:" },
                    ctx.cfg.key_file.display(),
                    ctx.data_dir.display()
                )
                },
            );
        }
        PkiCommand::Root { command } => {
            use crate::pki::root;
            let (v, text) = match command {
                RootCommand::Init { dir } => {
                    root::RootCa::init(&dir)?;
                    (
                        json!({"ok": true, "root": dir}),
                        format!(
                            "root CA created in {}: keep this directory offline",
                            dir.display()
                        ),
                    )
                }
                RootCommand::SignIssuer { dir, cert, out } => {
                    let current = std::fs::read_to_string(&cert)
                        .with_context(|| format!("could not read {}", cert.display()))?;
                    let pem = root::RootCa::open(&dir)?.renew_issuing(&current)?;
                    std::fs::write(&out, pem)
                        .with_context(|| format!("could not write {}", out.display()))?;
                    (json!({"ok": true, "out": out}), format!("renewed issuing CA certificate written to {}: on the hub, run `civreg-hub pki install-issuer {}`", out.display(), out.display()))
                }
                RootCommand::TakeOffline { dir } => {
                    let key = root::take_offline(&Pki::open(&ctx.pki_dir)?, &dir)?;
                    (
                        json!({"ok": true, "key": key}),
                        format!(
                            "the CA key is now in {} and no longer on the hub",
                            key.display()
                        ),
                    )
                }
            };
            print(ctx.json, v, || text);
        }
        PkiCommand::InstallIssuer { cert } => {
            let pem = std::fs::read_to_string(&cert)
                .with_context(|| format!("could not read {}", cert.display()))?;
            Pki::open(&ctx.pki_dir)?.install_issuing(&pem)?;
            print(ctx.json, json!({"ok": true}), || {
                "issuing CA certificate installed; restart the hub so that it presents it".into()
            });
        }
        PkiCommand::Issue {
            municipality,
            node_id,
            out,
            hub_urls,
            days,
            app_names,
        } => {
            let pki = Pki::open(&ctx.pki_dir)?;
            let hub_urls = hubs_named(ctx, &pki, &hub_urls)?;
            let code = civreg_shared::gazetteer::resolve(&municipality)
                .map(|m| m.code.to_string())
                .unwrap_or(municipality);
            let issued = pki.issue_node(&code, &node_id, days)?;
            issued.write_bundle_for(&out, &pki.trust_pem()?, &hub_urls)?;
            // The office's document signer travels in the same bundle (issue 15).
            pki.issue_signer(Some((code.as_str(), node_id.as_str())), days)?
                .write_signer(&out)?;
            // And, when asked, the clerk app's server certificate (issue 14).
            let app = if app_names.is_empty() {
                None
            } else {
                let app = pki.issue_app(
                    &code,
                    &node_id,
                    &app_names,
                    days.min(crate::pki::app::APP_VALIDITY_DAYS),
                )?;
                app.write_app(&out, &pki.ca_pem())?;
                Some(app.entry)
            };
            print(
                ctx.json,
                json!({"ok": true, "entry": issued.entry, "app": app, "bundle": out}),
                || {
                    let mut s = format!(
                    "issued {} (serial {}, valid until {})\nbundle written to {}: enrol with `civreg-node --data-dir DIR init --bundle {}`",
                    issued.entry.identity,
                    issued.entry.serial,
                    crate::pki::format_utc(issued.entry.not_after),
                    out.display(),
                    out.display()
                );
                    if let Some(a) = &app {
                        s.push_str(&format!(
                            "\nissued the clerk app certificate {} (serial {}, valid until {}): the bundle installs it",
                            a.identity,
                            a.serial,
                            crate::pki::format_utc(a.not_after)
                        ));
                    }
                    s
                },
            );
        }
        PkiCommand::IssueApp {
            municipality,
            node_id,
            names,
            out,
            days,
        } => {
            let pki = Pki::open(&ctx.pki_dir)?;
            let code = civreg_shared::gazetteer::resolve(&municipality)
                .map(|m| m.code.to_string())
                .unwrap_or(municipality);
            let issued = pki.issue_app(&code, &node_id, &names, days)?;
            issued.write_app(&out, &pki.ca_pem())?;
            print(
                ctx.json,
                json!({"ok": true, "entry": issued.entry, "out": out}),
                || {
                    format!(
                        "issued the clerk app certificate {} (serial {}, valid until {})\napp.pem, app.key and ca.pem written to {}: on the office's node run `civreg-node app-cert install {}`, then delete app.key here; the office's PCs trust ca.pem (operator manual, \"The clerk app over HTTPS\")",
                        issued.entry.identity,
                        issued.entry.serial,
                        crate::pki::format_utc(issued.entry.not_after),
                        out.display(),
                        out.display()
                    )
                },
            );
        }
        PkiCommand::IssueOperator {
            name,
            out,
            hub_urls,
            days,
        } => {
            let pki = Pki::open(&ctx.pki_dir)?;
            let hub_urls = hubs_named(ctx, &pki, &hub_urls)?;
            let issued = pki.issue_operator(&name, days)?;
            issued.write_bundle_for(&out, &pki.trust_pem()?, &hub_urls)?;
            print(
                ctx.json,
                json!({"ok": true, "entry": issued.entry, "bundle": out}),
                || {
                    format!(
                        "issued {} (serial {}), bundle in {}",
                        issued.entry.identity,
                        issued.entry.serial,
                        out.display()
                    )
                },
            );
        }
        PkiCommand::IssueSigner { node, out, days } => {
            let pki = Pki::open(&ctx.pki_dir)?;
            let office = match node.split_once('/') {
                _ if node == "hub" => None,
                Some((m, n)) => Some((
                    civreg_shared::gazetteer::resolve(m)
                        .map(|m| m.code.to_string())
                        .unwrap_or_else(|| m.to_string()),
                    n.to_string(),
                )),
                None => anyhow::bail!(
                    "{node:?} names no office: give MUNICIPALITY/NODE_ID (e.g. istog/1) or hub"
                ),
            };
            if let Some((m, n)) = &office {
                let node_uri = crate::pki::PeerIdentity::node(m, n)?.uri();
                let enrolled = pki
                    .list()?
                    .iter()
                    .any(|e| e.identity == node_uri && e.status == crate::pki::CertStatus::Active);
                if !enrolled {
                    anyhow::bail!("{m}/{n} has no active node certificate: enrol it first with `civreg-hub pki issue`");
                }
            }
            let issued =
                pki.issue_signer(office.as_ref().map(|(m, n)| (m.as_str(), n.as_str())), days)?;
            issued.write_signer(&out)?;
            print(
                ctx.json,
                json!({"ok": true, "entry": issued.entry, "out": out}),
                || {
                    format!(
                        "issued {} (serial {}, valid until {})\nsigner.pem and signer.key written to {}: install with `civreg-node signer install {}`, then publish a new trust list (`civreg-hub pki trust-list`)",
                        issued.entry.identity,
                        issued.entry.serial,
                        crate::pki::format_utc(issued.entry.not_after),
                        out.display(),
                        out.display()
                    )
                },
            );
        }
        PkiCommand::TrustList { out } => {
            let pki = Pki::open(&ctx.pki_dir)?;
            let bytes = pki.trust_list()?;
            std::fs::write(&out, &bytes)
                .with_context(|| format!("could not write {}", out.display()))?;
            let list = civreg_cert::TrustList::open(&bytes, None)?;
            print(
                ctx.json,
                json!({"ok": true, "out": out, "signers": list.signers().count(), "anchor_sha256": list.anchor_fingerprint}),
                || {
                    format!(
                        "trust list written to {} ({} bytes, {} signers, anchor SHA-256 {})",
                        out.display(),
                        bytes.len(),
                        list.signers().count(),
                        list.anchor_fingerprint
                    )
                },
            );
        }
        PkiCommand::Revoke { selector } => {
            let pki = Pki::open(&ctx.pki_dir)?;
            let revoked = pki.revoke(&selector)?;
            print(ctx.json, json!({"ok": true, "revoked": revoked}), || {
                revoked
                    .iter()
                    .map(|e| format!("revoked {} (serial {})", e.identity, e.serial))
                    .collect::<Vec<_>>()
                    .join("\n")
            });
        }
        PkiCommand::RequireRenewal(args) => {
            let (v, text) = args.run(&Pki::open(&ctx.pki_dir)?)?;
            print(ctx.json, v, || text);
        }
        PkiCommand::RenewHub(args) => {
            let (v, text) = args.run(&Pki::open(&ctx.pki_dir)?)?;
            print(ctx.json, v, || text);
        }
        PkiCommand::Rollover { command } => {
            let (v, text) = command.run(&Pki::open(&ctx.pki_dir)?)?;
            print(ctx.json, v, || text);
        }
        PkiCommand::List => {
            let pki = Pki::open(&ctx.pki_dir)?;
            let all = pki.list()?;
            print(ctx.json, json!(all), || {
                let mut s = format!(
                    "{:<40} {:<10} {:<8} {:<21} serial\n",
                    "identity", "kind", "status", "expires"
                );
                for e in &all {
                    s.push_str(&format!(
                        "{:<40} {:<10} {:<8} {:<21} {}\n",
                        e.identity,
                        format!("{:?}", e.kind).to_lowercase(),
                        format!("{:?}", e.status).to_lowercase(),
                        crate::pki::format_utc(e.not_after),
                        e.serial
                    ));
                }
                s.trim_end().to_string()
            });
        }
    }
    Ok(())
}

/// Before a bundle is issued: its hub addresses (`--hub-url`, else `hub_urls` of the config)
/// are valid, and the hub's certificate names the host of each, since a node verifies every
/// hub against the name it dials (issue 19 part 3). A hub added to the list needs
/// `pki renew-hub` with every name first.
fn hubs_named(ctx: &Ctx, pki: &Pki, given: &[String]) -> Result<Vec<String>> {
    let (urls, origin) = crate::hub_list::for_bundle(given, &ctx.cfg.hub_urls);
    civreg_shared::hubs::check_list(&urls).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
    crate::hub_list::check_named(pki, &urls, origin)?;
    Ok(urls)
}
