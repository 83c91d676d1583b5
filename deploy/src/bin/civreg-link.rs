//! `civreg-link`: a TCP relay standing in for an office's network link in the local pilot.
//!
//! It forwards `--listen` to `--to`. `SIGUSR1` cuts the link: every open connection is dropped
//! and new ones are refused (closed at once), as when a municipality's line goes down.
//! `SIGUSR2` restores it. Ctrl-C / SIGTERM stops the relay.
//!
//! ```text
//! civreg-link --listen 127.0.0.1:7444 --to 127.0.0.1:7443 &
//! kill -USR1 $!   # cut
//! kill -USR2 $!   # restore
//! ```

use clap::Parser;
use tokio::net::{TcpListener, TcpStream};
use tokio::signal::unix::{signal, SignalKind};
use tokio::sync::watch;

#[derive(Parser)]
#[command(
    name = "civreg-link",
    about = "a TCP link the pilot can cut (SIGUSR1) and restore (SIGUSR2)"
)]
struct Args {
    #[arg(long)]
    listen: String,
    #[arg(long)]
    to: String,
}

async fn relay(mut client: TcpStream, to: String, mut up: watch::Receiver<bool>) {
    let Ok(mut server) = TcpStream::connect(&to).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
        // Cut: both sides are dropped mid-stream, as when a line goes dead.
        _ = up.wait_for(|up| !up) => {}
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let listener = TcpListener::bind(&args.listen).await?;
    println!("link {} -> {} up", listener.local_addr()?, args.to);
    let (tx, rx) = watch::channel(true);
    let mut cut = signal(SignalKind::user_defined1())?;
    let mut restore = signal(SignalKind::user_defined2())?;
    let mut term = signal(SignalKind::terminate())?;
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (client, _) = accepted?;
                if *rx.borrow() {
                    tokio::spawn(relay(client, args.to.clone(), rx.clone()));
                }
                // While cut, the connection is closed at once: the node sees the hub unreachable.
            }
            _ = cut.recv() => {
                let _ = tx.send(false);
                println!("link cut");
            }
            _ = restore.recv() => {
                let _ = tx.send(true);
                println!("link restored");
            }
            _ = term.recv() => return Ok(()),
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}
