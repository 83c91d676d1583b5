//! Child processes in tests: killing (SIGKILL, or a signal and a grace period), reaping with a
//! deadline, a guard that kills on drop, log files and their tails for assertion messages.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

/// A command's arguments, exit status and output, for assertion messages.
pub fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        tail(&String::from_utf8_lossy(&out.stdout), 3000),
        tail(&String::from_utf8_lossy(&out.stderr), 3000)
    )
}

fn tail(s: &str, n: usize) -> &str {
    if s.len() <= n {
        return s;
    }
    let mut i = s.len() - n;
    while !s.is_char_boundary(i) {
        i += 1;
    }
    &s[i..]
}

/// The last part of a log file, for assertion messages.
pub fn log_tail(path: &Path) -> String {
    let s = std::fs::read_to_string(path).unwrap_or_default();
    format!("--- {} ---\n{}", path.display(), tail(&s, 4000))
}

/// Waits up to `limit` for a child to exit; SIGKILLs it (and panics) if it does not.
pub fn wait_exit(child: &mut Child, what: &str, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(st) = child.try_wait().expect("try_wait") {
            return st;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{what} did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A child process that is SIGKILLed if the test fails (or forgets it) before it exits.
pub struct KillOnDrop(pub Child);

impl std::ops::Deref for KillOnDrop {
    type Target = Child;
    fn deref(&self) -> &Child {
        &self.0
    }
}

impl std::ops::DerefMut for KillOnDrop {
    fn deref_mut(&mut self) -> &mut Child {
        &mut self.0
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            sigkill(&mut self.0);
        }
    }
}

/// SIGKILLs a child this test started and reaps it.
pub fn sigkill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Sends `signal` (e.g. "TERM", "INT") to a child this test started, by its pid.
pub fn signal(child: &Child, signal: &str) -> bool {
    Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(child.id().to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Asks a child to stop with `sig`, waits up to `limit`, then SIGKILLs it. Returns the exit
/// status if it stopped by itself.
pub fn stop_gracefully(child: &mut Child, sig: &str, limit: Duration) -> Option<ExitStatus> {
    if let Some(st) = child.try_wait().expect("try_wait") {
        return Some(st);
    }
    if signal(child, sig) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Some(st) = child.try_wait().expect("try_wait") {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    sigkill(child);
    None
}

/// A log file to append a child's output to.
pub fn log_file(path: &Path) -> std::fs::File {
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open log {}: {e}", path.display()))
}
