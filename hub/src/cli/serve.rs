//! `civreg-hub serve` (the hub itself, in this process) and `keygen` (the key file that seals
//! its database).

use super::{print, Ctx};
use anyhow::{Context, Result};
use serde_json::json;
use std::path::PathBuf;

/// `civreg-hub keygen`.
pub(super) fn keygen(ctx: &Ctx, out: Option<PathBuf>) -> Result<()> {
    let path = out.unwrap_or_else(|| ctx.cfg.key_file.clone());
    crate::atrest::create_key(&path)?;
    print(ctx.json, json!({"ok": true, "key_file": path}), || {
        format!(
            "key file written to {}: keep it off the data disk, with a copy in a safe place (the database can not be read without it), and pass it with --key-file",
            path.display()
        )
    });
    Ok(())
}

/// `civreg-hub serve`: binds the sync and dashboard ports and runs the hub until Ctrl-C.
pub(super) fn serve(ctx: &Ctx) -> Result<()> {
    let cfg = &ctx.cfg;
    let grpc_listen = cfg.grpc_listen;
    let http_listen = cfg.http_listen;
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(async {
        let listener = tokio::net::TcpListener::bind(grpc_listen)
            .await
            .with_context(|| format!("could not listen on {grpc_listen}"))?;
        let addr = listener.local_addr()?;
        // The dashboard is secondary to sync: a taken port is logged, not fatal.
        let http = match tokio::net::TcpListener::bind(http_listen).await {
            Ok(l) => Some(l),
            Err(e) => {
                tracing::error!(addr = %http_listen, error = %e, "the dashboard is not served: could not listen there; set --http-listen");
                None
            }
        };
        let dashboard = http.as_ref().and_then(|l| l.local_addr().ok());
        // Said once the store is open and the control socket answers (`serve::run_with`):
        // tests and scripts read these lines to find the ports when listening on :0, and a
        // command run after them reaches this hub, never a store it is still opening.
        let announce = Box::new(move || {
            println!("listening on {addr}");
            if let Some(a) = dashboard {
                println!("dashboard on http://{a}");
            }
        });
        let shutdown = async {
            let _ = tokio::signal::ctrl_c().await;
        };
        let opts = crate::serve::RunOptions {
            http,
            web: cfg.web_settings(),
            key_file: Some(cfg.key_file.clone()),
            store: cfg.store.clone(),
            sync: cfg.sync.clone(),
            search: cfg.search.clone(),
            announce: Some(announce),
        };
        crate::serve::run_with(&ctx.data_dir, listener, opts, shutdown).await?;
        anyhow::Ok(())
    })?;
    Ok(())
}
