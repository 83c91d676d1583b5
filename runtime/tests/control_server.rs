//! The control-socket server with a service of the test's own, over a real Unix socket: the
//! `Started` frame, refusals before anything runs, questions and standard input, and requests
//! in flight finishing when the server stops.

use civreg_runtime::control::{Config, Conversation, Ending, Server, Service};
use civreg_shared::control::{read_frame, write_frame, Frame, PROTOCOL};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::io::{BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum Req {
    Echo(String),
    /// Waits until the test opens the gate, then answers.
    Gated,
    /// Asks the client a question, reads its standard input, prints both.
    Talk,
    Fail,
    Exit(i32),
}

#[derive(Debug, Serialize)]
struct Ans {
    said: String,
}

#[derive(Default)]
struct Svc {
    runs: AtomicUsize,
    gate: Mutex<Option<std::sync::mpsc::Receiver<()>>>,
}

impl Service for Svc {
    type Request = Req;
    type Answer = Ans;

    fn run(&self, request: Req, conv: &Conversation) -> Ending<Ans> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        match request {
            Req::Echo(s) => {
                let _ = conv
                    .stderr()
                    .write_all(format!("working on {s}\n").as_bytes());
                Ending::Reply(Ans { said: s })
            }
            Req::Gated => {
                let gate = self.gate.lock().unwrap().take().expect("one gated request");
                let _ = gate.recv();
                Ending::Reply(Ans {
                    said: "finished".into(),
                })
            }
            Req::Talk => {
                let name: String = match conv.asker().ask(&"name?") {
                    Ok(n) => n,
                    Err(e) => return Ending::Failed(e.to_string()),
                };
                let mut input = String::new();
                if let Err(e) = conv.stdin().read_to_string(&mut input) {
                    return Ending::Failed(e.to_string());
                }
                let _ = write!(conv.stdout(), "{name}:{input}");
                Ending::Exit(0)
            }
            Req::Fail => Ending::Failed("x".repeat(1 << 20)),
            Req::Exit(code) => Ending::Exit(code),
        }
    }
}

fn config(dir: &Path, grace: Duration) -> Config {
    Config {
        socket: dir.join("t.sock"),
        program: "civreg-test",
        grace,
    }
}

fn send(dir: &Path, v: u32, body: serde_json::Value) -> (UnixStream, BufReader<UnixStream>) {
    let s = UnixStream::connect(dir.join("t.sock")).expect("connect");
    let mut w = s.try_clone().unwrap();
    write_frame(&mut w, &Frame::Request { v, body }, &[]).unwrap();
    (w, BufReader::new(s))
}

fn next(r: &mut BufReader<UnixStream>) -> (Frame, Vec<u8>) {
    read_frame(r).expect("a frame").expect("not the end")
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_request_is_started_then_answered_and_refusals_run_nothing() {
    let d = tempfile::tempdir().unwrap();
    let rt = runtime();
    let svc = Arc::new(Svc::default());
    let server = rt
        .block_on(async { Server::start(config(d.path(), Duration::from_secs(5)), svc.clone()) })
        .unwrap();
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(d.path().join("t.sock"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    let (_w, mut r) = send(d.path(), PROTOCOL, json!({"echo": "hi"}));
    assert_eq!(next(&mut r).0, Frame::Started);
    assert_eq!(
        next(&mut r),
        (Frame::Stderr { len: 14 }, b"working on hi\n".to_vec())
    );
    assert_eq!(
        next(&mut r).0,
        Frame::Reply {
            body: json!({"said": "hi"})
        }
    );
    assert!(
        read_frame(&mut r).unwrap().is_none(),
        "the conversation ends"
    );

    // Another protocol, or a request the server cannot read: refused, nothing runs.
    let (_w, mut r) = send(d.path(), PROTOCOL + 1, json!({"echo": "hi"}));
    match next(&mut r).0 {
        Frame::Error { message } => assert!(
            message.contains("civreg-test serve speaks control protocol"),
            "{message}"
        ),
        f => panic!("{f:?}"),
    }
    let (_w, mut r) = send(d.path(), PROTOCOL, json!({"delete_everything": true}));
    match next(&mut r).0 {
        Frame::Error { message } => assert!(
            message.contains("does not understand this command"),
            "{message}"
        ),
        f => panic!("{f:?}"),
    }
    assert_eq!(svc.runs.load(Ordering::SeqCst), 1);

    // An error too long for a frame is cut, and an exit code is the last frame.
    let (_w, mut r) = send(d.path(), PROTOCOL, json!("fail"));
    assert_eq!(next(&mut r).0, Frame::Started);
    match next(&mut r).0 {
        Frame::Error { message } => assert!(message.ends_with(" …") && message.len() < 600_000),
        f => panic!("{f:?}"),
    }
    let (_w, mut r) = send(d.path(), PROTOCOL, json!({"exit": 3}));
    assert_eq!(next(&mut r).0, Frame::Started);
    assert_eq!(next(&mut r).0, Frame::Exit { code: 3 });
    rt.block_on(server.stop());
    assert!(!d.path().join("t.sock").exists(), "stop removes the socket");
}

#[test]
fn a_request_asks_the_client_and_reads_its_input() {
    let d = tempfile::tempdir().unwrap();
    let rt = runtime();
    let svc = Arc::new(Svc::default());
    let server = rt
        .block_on(async { Server::start(config(d.path(), Duration::from_secs(5)), svc.clone()) })
        .unwrap();
    let (mut w, mut r) = send(d.path(), PROTOCOL, json!("talk"));
    assert_eq!(next(&mut r).0, Frame::Started);
    assert_eq!(
        next(&mut r).0,
        Frame::Ask {
            body: json!("name?")
        }
    );
    write_frame(&mut w, &Frame::Answer { body: json!("ana") }, &[]).unwrap();
    for chunk in [&b"one "[..], b"two", b""] {
        assert!(matches!(next(&mut r).0, Frame::Read { .. }));
        write_frame(&mut w, &Frame::Stdin { len: chunk.len() }, chunk).unwrap();
    }
    let mut out = Vec::new();
    loop {
        match next(&mut r) {
            (Frame::Stdout { .. }, data) => out.extend(data),
            (Frame::Exit { code }, _) => {
                assert_eq!(code, 0);
                break;
            }
            (f, _) => panic!("{f:?}"),
        }
    }
    assert_eq!(out, b"ana:one two");
    rt.block_on(server.stop());
}

#[test]
fn stopping_lets_a_request_in_flight_finish_and_takes_no_new_one() {
    let d = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (open, gate) = std::sync::mpsc::channel();
    let svc = Arc::new(Svc {
        gate: Mutex::new(Some(gate)),
        ..Svc::default()
    });
    let server = rt
        .block_on(async { Server::start(config(d.path(), Duration::from_secs(60)), svc.clone()) })
        .unwrap();
    let (_w, mut r) = send(d.path(), PROTOCOL, json!("gated"));
    assert_eq!(next(&mut r).0, Frame::Started);
    let stopping = rt.spawn(server.stop());
    // The socket goes at once: new commands find no server.
    let deadline = Instant::now() + Duration::from_secs(10);
    while d.path().join("t.sock").exists() {
        assert!(Instant::now() < deadline, "the socket was not removed");
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(UnixStream::connect(d.path().join("t.sock")).is_err());
    assert!(
        !stopping.is_finished(),
        "stop waits for the request in flight"
    );
    open.send(()).unwrap();
    assert_eq!(
        next(&mut r).0,
        Frame::Reply {
            body: json!({"said": "finished"})
        }
    );
    rt.block_on(stopping).unwrap();
    assert_eq!(svc.runs.load(Ordering::SeqCst), 1);
}

#[test]
fn a_request_that_outlives_the_grace_period_does_not_hold_the_stop() {
    let d = tempfile::tempdir().unwrap();
    let rt = runtime();
    let (open, gate) = std::sync::mpsc::channel();
    let svc = Arc::new(Svc {
        gate: Mutex::new(Some(gate)),
        ..Svc::default()
    });
    let server = rt
        .block_on(async {
            Server::start(config(d.path(), Duration::from_millis(200)), svc.clone())
        })
        .unwrap();
    let (_w, mut r) = send(d.path(), PROTOCOL, json!("gated"));
    assert_eq!(next(&mut r).0, Frame::Started);
    rt.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), server.stop())
            .await
            .expect("stop returns after its grace period")
    });
    open.send(()).unwrap();
}

#[test]
fn a_second_server_is_detected_and_a_stale_socket_removed() {
    let d = tempfile::tempdir().unwrap();
    let rt = runtime();
    let sock = d.path().join("t.sock");
    assert!(!civreg_runtime::control::already_serving(&sock).unwrap());
    let server = rt
        .block_on(async {
            Server::start(
                config(d.path(), Duration::from_secs(1)),
                Arc::new(Svc::default()),
            )
        })
        .unwrap();
    assert!(civreg_runtime::control::already_serving(&sock).unwrap());
    rt.block_on(server.stop());
    // A socket file nobody listens on, as a killed server leaves it.
    drop(std::os::unix::net::UnixListener::bind(&sock).unwrap());
    assert!(sock.exists());
    assert!(!civreg_runtime::control::already_serving(&sock).unwrap());
    assert!(!sock.exists());
}
