use anyhow::{Context, Result};
use civreg_hub::pki::Pki;
use civreg_hub::server;
use clap::{Parser, Subcommand};
use serde_json::json;
use std::path::PathBuf;

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
        /// The operator dashboard and /metrics, plain HTTP (also CIVREG_HUB_HTTP_LISTEN or
        /// `http_listen`; default 127.0.0.1:8080). Keep it on loopback.
        #[arg(long)]
        http_listen: Option<String>,
    },
    /// Operator accounts for the dashboard (work whether or not the hub runs).
    Operator {
        #[command(subcommand)]
        command: OperatorCommand,
    },
    /// Per node: last acknowledged sequence, last seen, ops waiting, clock offset. Works while
    /// `serve` runs.
    Status,
    /// Show a record as the hub holds it (stop `serve` first in this build).
    Show { regno: String },
}

#[derive(Subcommand)]
enum OperatorCommand {
    /// Add an operator; the password comes from CIVREG_OPERATOR_PASSWORD or a prompt.
    Add {
        name: String,
        /// Give an existing operator a new password.
        #[arg(long)]
        replace: bool,
    },
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
        Command::Operator { command } => match command {
            OperatorCommand::Add { name, replace } => {
                let password = operator_password(&name)?;
                std::fs::create_dir_all(&data_dir)
                    .with_context(|| format!("could not create {}", data_dir.display()))?;
                civreg_hub::operators::add(&data_dir, &name, &password, replace)?;
                print(cli.json, json!({"ok": true, "operator": name}), || {
                    format!(
                        "operator {name} can sign in to the dashboard (accounts in {})",
                        civreg_hub::operators::path(&data_dir).display()
                    )
                });
            }
        },
        Command::Serve { .. } => {
            let grpc_listen = cfg.grpc_listen;
            let http_listen = cfg.http_listen;
            let rt = tokio::runtime::Runtime::new()?;
            rt.block_on(async {
                let listener = tokio::net::TcpListener::bind(grpc_listen)
                    .await
                    .with_context(|| format!("could not listen on {grpc_listen}"))?;
                let addr = listener.local_addr()?;
                // Tests and scripts read this line to find the port when listening on :0.
                println!("listening on {addr}");
                // The dashboard is secondary to sync: a taken port is logged, not fatal.
                let http = match tokio::net::TcpListener::bind(http_listen).await {
                    Ok(l) => {
                        if let Ok(a) = l.local_addr() {
                            println!("dashboard on http://{a}");
                        }
                        Some(l)
                    }
                    Err(e) => {
                        tracing::error!(addr = %http_listen, error = %e, "the dashboard is not served: could not listen there; set --http-listen");
                        None
                    }
                };
                let shutdown = async {
                    let _ = tokio::signal::ctrl_c().await;
                };
                let opts = server::RunOptions {
                    http,
                    ..Default::default()
                };
                server::run_with(&data_dir, listener, opts, shutdown).await?;
                anyhow::Ok(())
            })?;
        }
        Command::Status => {
            let (st, live) = match civreg_hub::store::HubStore::open(&server::db_dir(&data_dir)) {
                Ok(store) => (server::hub_status(&store, &Default::default()), false),
                Err(civreg_hub::store::StoreError::Locked(_)) => {
                    let text = std::fs::read(server::status_path(&data_dir))
                        .context("the hub is running but has not written its status yet; try again in a few seconds")?;
                    (
                        serde_json::from_slice(&text)
                            .context("the hub's status file is damaged")?,
                        true,
                    )
                }
                Err(e) => return Err(e.into()),
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
            let store = civreg_hub::store::HubStore::open(&server::db_dir(&data_dir))?;
            let regno = civreg_shared::ids::RegNo::parse(&regno)?.to_string();
            let rec = store
                .record(&regno)?
                .with_context(|| format!("the hub holds no record {regno}"))?;
            let v = json!({"regno": rec.regno, "kind": rec.kind, "voided": rec.voided,
                "record": civreg_shared::fields::unflatten(&rec.fields), "ops": rec.ops});
            print(cli.json, v.clone(), || {
                serde_json::to_string_pretty(&v).unwrap_or_default()
            });
        }
    }
    Ok(())
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
    let (grpc_listen, http_listen) = match &cli.command {
        Some(Command::Serve {
            grpc_listen,
            http_listen,
        }) => (grpc_listen.clone(), http_listen.clone()),
        _ => (None, None),
    };
    let cfg = match civreg_hub::config::load(
        std::env::vars(),
        civreg_hub::config::Overrides {
            config: cli.config.clone(),
            data_dir: cli.data_dir.clone(),
            grpc_listen,
            log_json: cli.log_json,
            http_listen,
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
