use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "civreg-hub",
    version,
    about = "civreg central hub (skeleton: see README, \"Not finished\")"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve sync to nodes (not implemented yet: exits with an error).
    Serve,
    /// Say what this build of the hub can do.
    Status,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        None | Some(Command::Status) => {
            println!("{}", civreg_hub::STATUS);
            println!(
                "wire format ready: {}",
                civreg_hub::planned_services().join(", ")
            );
        }
        Some(Command::Serve) => {
            eprintln!("error: {}", civreg_hub::STATUS);
            std::process::exit(2);
        }
    }
}
