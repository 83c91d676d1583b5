use clap::{CommandFactory, FromArgMatches};

fn main() {
    // `--dump-config` needs no command; every other use does, as before.
    let mut cmd = civreg_node::cli::Cli::command().subcommand_required(false);
    let matches = cmd.clone().get_matches();
    let flags = civreg_node::config::Flags::from_matches(&matches);
    let cfg = match civreg_node::config::load(std::env::vars(), flags) {
        Ok(c) => c,
        Err(e) => {
            if matches.get_flag("json") {
                println!(
                    "{}",
                    serde_json::json!({"ok": false, "error": e.to_string()})
                );
            } else {
                eprintln!("error: {e}");
            }
            std::process::exit(1);
        }
    };
    if matches.get_flag("dump_config") {
        print!("{}", cfg.to_toml());
        return;
    }
    let mut cli = match civreg_node::cli::Cli::from_arg_matches(&matches) {
        Ok(c) => c,
        Err(e) => e.format(&mut cmd).exit(),
    };
    cfg.apply(&mut cli);
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let sub = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    if cli.log_json {
        sub.json().init();
    } else {
        sub.init();
    }
    std::process::exit(civreg_node::cli::run(cli));
}
