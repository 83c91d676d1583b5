use anyhow::{Context, Result};
use civreg_hub::control;
use civreg_hub::pki::Pki;
use civreg_hub::server;
use civreg_hub::store::HubStore;
use clap::{Parser, Subcommand};
use serde_json::json;
use std::path::{Path, PathBuf};

#[derive(Parser)]
#[command(
    name = "civreg-hub",
    version,
    about = "civreg central hub: PKI and the mutually authenticated sync server"
)]
struct Cli {
    /// The hub's data directory (PKI under pki/, database under db/); also CIVREG_HUB_DATA_DIR
    /// or `data_dir` in the config file; default ./civreg-hub-data.
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// A TOML config file (also CIVREG_HUB_CONFIG). Layers: defaults < file < CIVREG_HUB_* < flags.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Print the configuration in force, as TOML, and exit.
    #[arg(long, global = true)]
    dump_config: bool,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    json: bool,
    /// Log as JSON lines (levels from RUST_LOG, default info).
    #[arg(long, global = true)]
    log_json: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// The agency's certificates: CA, hub, nodes and operators.
    Pki {
        #[command(subcommand)]
        command: PkiCommand,
    },
    /// Serve sync to enrolled nodes over mutual TLS.
    Serve {
        /// Address to listen on (also CIVREG_HUB_GRPC_LISTEN or `grpc_listen`; default 127.0.0.1:7443).
        #[arg(long)]
        grpc_listen: Option<String>,
    },
    /// Per node: last acknowledged sequence, last seen, ops waiting, clock offset. While `serve`
    /// runs, asks it (live figures).
    Status,
    /// Show a record as the hub holds it (while `serve` runs, asks it).
    Show { regno: String },
}

#[derive(Subcommand)]
enum PkiCommand {
    /// Create the agency CA, the hub's server certificate and an empty revocation list.
    Init {
        /// DNS names or IP addresses nodes use to reach the hub (default: localhost, 127.0.0.1).
        #[arg(long = "hub-name")]
        hub_names: Vec<String>,
    },
    /// Issue a node certificate and write its enrollment bundle.
    Issue {
        #[arg(long)]
        municipality: String,
        #[arg(long)]
        node_id: String,
        /// Directory to write the bundle to (cert.pem, key.pem, ca.pem, bundle.json).
        #[arg(long)]
        out: PathBuf,
        /// The hub address written into the bundle.
        #[arg(long, default_value = "https://localhost:7443")]
        hub_url: String,
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Issue an operator certificate and write its bundle.
    IssueOperator {
        name: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "https://localhost:7443")]
        hub_url: String,
        #[arg(long, default_value_t = 365)]
        days: u32,
    },
    /// Revoke certificates by serial or identity (e.g. prishtine/2); the running hub refuses them at once.
    Revoke { selector: String },
    /// Every certificate issued, with identity, serial, expiry and status.
    List,
}

fn print(json_mode: bool, v: serde_json::Value, text: impl FnOnce() -> String) {
    if json_mode {
        println!("{v}");
    } else {
        println!("{}", text());
    }
}

fn run(cli: Cli, cfg: civreg_hub::config::Config) -> Result<()> {
    let data_dir = cfg.data_dir.clone();
    let pki_dir = server::pki_dir(&data_dir);
    let Some(command) = cli.command else {
        anyhow::bail!("no command given: try `civreg-hub --help`");
    };
    match command {
        Command::Pki { command } => match command {
            PkiCommand::Init { hub_names } => {
                std::fs::create_dir_all(&data_dir)
                    .with_context(|| format!("could not create {}", data_dir.display()))?;
                let pki = Pki::init(&pki_dir, &hub_names)?;
                print(cli.json, json!({"ok": true, "pki": pki.dir()}), || {
                    format!(
                        "agency CA and hub certificate created in {}\nnext: civreg-hub --data-dir {} pki issue --municipality CODE --node-id ID --out BUNDLE_DIR",
                        pki.dir().display(),
                        data_dir.display()
                    )
                });
            }
            PkiCommand::Issue {
                municipality,
                node_id,
                out,
                hub_url,
                days,
            } => {
                let pki = Pki::open(&pki_dir)?;
                let code = civreg_shared::gazetteer::resolve(&municipality)
                    .map(|m| m.code.to_string())
                    .unwrap_or(municipality);
                let issued = pki.issue_node(&code, &node_id, days)?;
                issued.write_bundle(&out, &pki.ca_pem(), &hub_url)?;
                print(
                    cli.json,
                    json!({"ok": true, "entry": issued.entry, "bundle": out}),
                    || {
                        format!(
                        "issued {} (serial {}, valid until {})\nbundle written to {}: enrol with `civreg-node --data-dir DIR init --bundle {}`",
                        issued.entry.identity,
                        issued.entry.serial,
                        civreg_hub::pki::format_utc(issued.entry.not_after),
                        out.display(),
                        out.display()
                    )
                    },
                );
            }
            PkiCommand::IssueOperator {
                name,
                out,
                hub_url,
                days,
            } => {
                let pki = Pki::open(&pki_dir)?;
                let issued = pki.issue_operator(&name, days)?;
                issued.write_bundle(&out, &pki.ca_pem(), &hub_url)?;
                print(
                    cli.json,
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
            PkiCommand::Revoke { selector } => {
                let pki = Pki::open(&pki_dir)?;
                let revoked = pki.revoke(&selector)?;
                print(cli.json, json!({"ok": true, "revoked": revoked}), || {
                    revoked
                        .iter()
                        .map(|e| format!("revoked {} (serial {})", e.identity, e.serial))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
            }
            PkiCommand::List => {
                let pki = Pki::open(&pki_dir)?;
                let all = pki.list()?;
                print(cli.json, json!(all), || {
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
                            civreg_hub::pki::format_utc(e.not_after),
                            e.serial
                        ));
                    }
                    s.trim_end().to_string()
                });
            }
        },
        Command::Serve { .. } => {
            let grpc_listen = cfg.grpc_listen;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(grpc_listen)
                    .await
                    .with_context(|| format!("could not listen on {grpc_listen}"))?;
                let addr = listener.local_addr()?;
                // Tests and scripts read this line to find the port when listening on :0.
                println!("listening on {addr}");
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                server::run(&data_dir, listener, shutdown).await?;
                anyhow::Ok(())
            })?;
        }
        Command::Status => {
            let (st, live): (server::HubStatus, bool) = match ask_hub(
                &data_dir,
                &control::Request::Status,
            ) {
                Ok(v) => {
                    let live = v["running"].as_bool().unwrap_or(false);
                    (
                        serde_json::from_value(v["status"].clone())
                            .context("the hub's status answer is not valid")?,
                        live,
                    )
                }
                // A hub holds the database but does not answer on its control socket (an
                // older build): what it last wrote to status.json.
                Err(HubAnswer::Locked) => {
                    let text = std::fs::read(server::status_path(&data_dir))
                            .context("the hub is running but has not written its status yet; try again in a few seconds")?;
                    (
                        serde_json::from_slice(&text)
                            .context("the hub's status file is damaged")?,
                        true,
                    )
                }
                Err(HubAnswer::Failed(e)) => return Err(e),
            };
            print(cli.json, json!({"running": live, "status": st}), || {
                let ago = |ms: Option<u64>| match ms {
                    Some(ms) => format!("{}s ago", st.written_ms.saturating_sub(ms) / 1000),
                    None => "-".into(),
                };
                let mut s = format!(
                    "hub {}\n{:<28} {:>10} {:>12} {:>9} {:>10}\n",
                    if live {
                        "running"
                    } else {
                        "stopped (figures from its database)"
                    },
                    "node",
                    "acked",
                    "last seen",
                    "waiting",
                    "clock off"
                );
                for c in &st.chains {
                    s.push_str(&format!(
                        "{:<28} {:>10} {:>12} {:>9} {:>10}\n",
                        c.node,
                        c.acked_seq,
                        ago(c.last_seen_ms),
                        c.unacked_ops
                            .map(|n| n.to_string())
                            .unwrap_or_else(|| "-".into()),
                        c.clock_offset_ms
                            .map(|n| format!("{n}ms"))
                            .unwrap_or_else(|| "-".into()),
                    ));
                }
                s.trim_end().to_string()
            });
        }
        Command::Show { regno } => {
            let v = match ask_hub(&data_dir, &control::Request::Show { regno }) {
                Ok(v) => v,
                Err(HubAnswer::Locked) => anyhow::bail!(
                    "the hub database is in use by a civreg-hub that does not answer on {}: stop it, or run the same civreg-hub version as it",
                    control::socket_path(&data_dir).display()
                ),
                Err(HubAnswer::Failed(e)) => return Err(e),
            };
            print(cli.json, v.clone(), || {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            });
        }
    }
    Ok(())
}

/// Why [`ask_hub`] has no answer.
enum HubAnswer {
    /// Another process holds the database and no hub answers on the control socket.
    Locked,
    Failed(anyhow::Error),
}

/// Answers `req`: from the running hub through its control socket, or, when none runs, from
/// the store opened here. Either way the same code ([`control::handle`]) answers. While another
/// process holds the store (a hub starting, whose socket answers a moment later, or another
/// command) it tries both for a few seconds.
fn ask_hub(data_dir: &Path, req: &control::Request) -> Result<serde_json::Value, HubAnswer> {
    let failed = |e: control::ControlError| HubAnswer::Failed(e.into());
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    loop {
        if let Some(v) = control::call(data_dir, req).map_err(failed)? {
            return Ok(v);
        }
        match HubStore::open(&server::db_dir(data_dir)) {
            Ok(store) => {
                return control::handle(req, &control::HubState::stopped(store)).map_err(failed)
            }
            Err(civreg_hub::store::StoreError::Locked(_))
                if std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            Err(civreg_hub::store::StoreError::Locked(_)) => return Err(HubAnswer::Locked),
            Err(e) => return Err(HubAnswer::Failed(e.into())),
        }
    }
}

fn main() {
    let cli = Cli::parse();
    let json_mode = cli.json;
    let fail = |e: anyhow::Error| -> ! {
        if json_mode {
            println!("{}", json!({"ok": false, "error": format!("{e:#}")}));
        } else {
            eprintln!("error: {e:#}");
        }
        std::process::exit(1);
    };
    let grpc_listen = match &cli.command {
        Some(Command::Serve { grpc_listen }) => grpc_listen.clone(),
        _ => None,
    };
    let cfg = match civreg_hub::config::load(
        std::env::vars(),
        civreg_hub::config::Overrides {
            config: cli.config.clone(),
            data_dir: cli.data_dir.clone(),
            grpc_listen,
            log_json: cli.log_json,
        },
    ) {
        Ok(c) => c,
        Err(e) => fail(e.into()),
    };
    if cli.dump_config {
        print!("{}", cfg.to_toml());
        return;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cfg.log_json {
        sub.json().init();
    } else {
        sub.init();
    }
    if let Err(e) = run(cli, cfg) {
        fail(e);
    }
}
