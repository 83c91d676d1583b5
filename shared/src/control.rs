//! The framing of the local control sockets through which commands reach a running
//! `civreg-node serve` (`DATA_DIR/node.sock`) or `civreg-hub serve` (`DATA_DIR/hub.sock`).
//!
//! A frame is one line of JSON (its header, at most [`MAX_HEADER`] bytes, tagged by `"t"`),
//! followed, for the data frames ([`Frame::Stdin`], [`Frame::Stdout`], [`Frame::Stderr`]), by
//! exactly `len` raw bytes (at most [`MAX_PAYLOAD`]). Headers stay readable (`socat` shows them)
//! while data passes byte for byte, whatever it holds.
//!
//! The conversation (protocol [`PROTOCOL`]):
//! - the client sends [`Frame::Request`] with the protocol version and the request;
//! - the server answers [`Frame::Error`] if it refuses it (and closes), or
//!   - node: [`Frame::Started`] (from then on the command may have taken effect), then any number
//!     of [`Frame::Stdout`] / [`Frame::Stderr`] chunks, [`Frame::Ask`] (the client answers with
//!     [`Frame::Answer`]) and [`Frame::Read`] (the client answers with one [`Frame::Stdin`]
//!     chunk, empty at end of input), and last [`Frame::Exit`] with the exit code;
//!   - hub: one [`Frame::Reply`] or [`Frame::Error`]; a reply too large for one header (an
//!     import's per-row report) comes as [`Frame::ReplyPart`] chunks of its JSON, then
//!     [`Frame::ReplyEnd`] (see [`write_reply`] and [`ReplyReader`]), up to [`MAX_REPLY`] bytes.
//!
//! The client only ever answers, so neither side can flood the other.
//!
//! Plain std: this module reads and writes any `Read`/`Write`; the sockets and their server live
//! in `civreg-runtime` (`civreg_runtime::control`).

use serde::{Deserialize, Serialize};
use std::io::{BufRead, Read, Write};

/// The control protocol this build speaks.
pub const PROTOCOL: u32 = 1;
/// Largest frame header, and so largest request, in bytes (the newline included).
pub const MAX_HEADER: usize = 1 << 20;
/// Largest payload of one data frame, in bytes.
pub const MAX_PAYLOAD: usize = 1 << 20;
/// The size data is cut into when it is sent.
pub const CHUNK: usize = 64 * 1024;
/// Largest hub reply, in bytes, sent in parts (an import of a few hundred thousand rows).
pub const MAX_REPLY: usize = 512 << 20;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t", rename_all = "snake_case")]
pub enum Frame {
    /// The client's first frame: protocol version and the request.
    Request { v: u32, body: serde_json::Value },
    /// The server refuses the request, or (hub) the request failed: the message says why.
    Error { message: String },
    /// The node has taken the request and runs it.
    Started,
    /// `len` bytes of the command's standard output follow.
    Stdout { len: usize },
    /// `len` bytes of the command's standard error follow.
    Stderr { len: usize },
    /// The command needs something only the client has (a clerk's credentials).
    Ask { body: serde_json::Value },
    /// The client's answer to the last [`Frame::Ask`].
    Answer { body: serde_json::Value },
    /// The command reads its standard input: the client sends one chunk of at most `max` bytes.
    Read { max: usize },
    /// `len` bytes of the client's standard input follow; `len` 0 is the end of the input.
    Stdin { len: usize },
    /// The command has finished with this exit code. The last frame.
    Exit { code: i32 },
    /// The hub's answer to a request.
    Reply { body: serde_json::Value },
    /// `len` bytes of a large reply's JSON follow; more parts or [`Frame::ReplyEnd`] come next.
    ReplyPart { len: usize },
    /// The parts sent so far are the whole reply.
    ReplyEnd,
}

impl Frame {
    /// The frame's tag, for messages (never its content: an answer may hold a password).
    pub fn name(&self) -> &'static str {
        match self {
            Frame::Request { .. } => "request",
            Frame::Error { .. } => "error",
            Frame::Started => "started",
            Frame::Stdout { .. } => "stdout",
            Frame::Stderr { .. } => "stderr",
            Frame::Ask { .. } => "ask",
            Frame::Answer { .. } => "answer",
            Frame::Read { .. } => "read",
            Frame::Stdin { .. } => "stdin",
            Frame::Exit { .. } => "exit",
            Frame::Reply { .. } => "reply",
            Frame::ReplyPart { .. } => "reply part",
            Frame::ReplyEnd => "reply end",
        }
    }

    /// How many payload bytes follow this header.
    pub fn payload_len(&self) -> usize {
        match self {
            Frame::Stdout { len }
            | Frame::Stderr { len }
            | Frame::Stdin { len }
            | Frame::ReplyPart { len } => *len,
            _ => 0,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    #[error("{what} is larger than the control socket accepts ({limit} bytes)")]
    TooLarge { what: &'static str, limit: usize },
    #[error("the other side sent a malformed control message: {0}")]
    Malformed(String),
    #[error("the connection ended in the middle of a control message")]
    Truncated,
    #[error("the frame announces {announced} payload bytes but {given} were given")]
    PayloadMismatch { announced: usize, given: usize },
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Writes one frame and its payload (`payload.len()` must equal [`Frame::payload_len`]).
/// Nothing is flushed: the caller decides when.
pub fn write_frame(w: &mut impl Write, frame: &Frame, payload: &[u8]) -> Result<(), FrameError> {
    if payload.len() != frame.payload_len() {
        return Err(FrameError::PayloadMismatch {
            announced: frame.payload_len(),
            given: payload.len(),
        });
    }
    if payload.len() > MAX_PAYLOAD {
        return Err(FrameError::TooLarge {
            what: "a data chunk",
            limit: MAX_PAYLOAD,
        });
    }
    let mut buf = serde_json::to_vec(frame).map_err(|e| FrameError::Malformed(e.to_string()))?;
    if buf.len() + 1 > MAX_HEADER {
        return Err(FrameError::TooLarge {
            what: match frame {
                Frame::Request { .. } => "the request",
                _ => "a control message",
            },
            limit: MAX_HEADER,
        });
    }
    buf.push(b'\n');
    buf.extend_from_slice(payload);
    w.write_all(&buf)?;
    Ok(())
}

/// Reads one frame and its payload; `None` at a clean end of the stream (between frames).
pub fn read_frame(r: &mut impl BufRead) -> Result<Option<(Frame, Vec<u8>)>, FrameError> {
    let mut line = Vec::new();
    let n = r
        .by_ref()
        .take(MAX_HEADER as u64)
        .read_until(b'\n', &mut line)?;
    if n == 0 {
        return Ok(None);
    }
    if line.last() != Some(&b'\n') {
        return Err(if line.len() >= MAX_HEADER {
            FrameError::TooLarge {
                what: "a control message",
                limit: MAX_HEADER,
            }
        } else {
            FrameError::Truncated
        });
    }
    line.pop();
    let frame: Frame =
        serde_json::from_slice(&line).map_err(|e| FrameError::Malformed(e.to_string()))?;
    let len = frame.payload_len();
    if len > MAX_PAYLOAD {
        return Err(FrameError::TooLarge {
            what: "a data chunk",
            limit: MAX_PAYLOAD,
        });
    }
    let mut payload = vec![0; len];
    r.read_exact(&mut payload).map_err(|e| {
        if e.kind() == std::io::ErrorKind::UnexpectedEof {
            FrameError::Truncated
        } else {
            FrameError::Io(e)
        }
    })?;
    Ok(Some((frame, payload)))
}

/// Writes `data` as [`Frame::Stdout`] or [`Frame::Stderr`] chunks of at most [`CHUNK`] bytes.
pub fn write_data(w: &mut impl Write, stderr: bool, data: &[u8]) -> Result<(), FrameError> {
    for chunk in data.chunks(CHUNK) {
        let len = chunk.len();
        let frame = if stderr {
            Frame::Stderr { len }
        } else {
            Frame::Stdout { len }
        };
        write_frame(w, &frame, chunk)?;
    }
    Ok(())
}

/// Writes a hub reply: one [`Frame::Reply`] when it fits in a header, else its JSON in
/// [`Frame::ReplyPart`] chunks and [`Frame::ReplyEnd`], so that a reply of any size (up to
/// [`MAX_REPLY`]) arrives whole.
pub fn write_reply(w: &mut impl Write, body: &serde_json::Value) -> Result<(), FrameError> {
    let json = serde_json::to_vec(body).map_err(|e| FrameError::Malformed(e.to_string()))?;
    // `{"t":"reply","body":` and the closing brace and newline.
    if json.len() + 32 <= MAX_HEADER {
        return write_frame(w, &Frame::Reply { body: body.clone() }, &[]);
    }
    if json.len() > MAX_REPLY {
        return Err(FrameError::TooLarge {
            what: "the reply",
            limit: MAX_REPLY,
        });
    }
    for chunk in json.chunks(CHUNK) {
        write_frame(w, &Frame::ReplyPart { len: chunk.len() }, chunk)?;
    }
    write_frame(w, &Frame::ReplyEnd, &[])
}

/// Gathers a reply sent in parts ([`write_reply`]), refusing one above [`MAX_REPLY`].
#[derive(Default)]
pub struct ReplyReader {
    json: Vec<u8>,
}

impl ReplyReader {
    /// Takes one part's payload.
    pub fn part(&mut self, payload: &[u8]) -> Result<(), FrameError> {
        if self.json.len() + payload.len() > MAX_REPLY {
            return Err(FrameError::TooLarge {
                what: "the reply",
                limit: MAX_REPLY,
            });
        }
        self.json.extend_from_slice(payload);
        Ok(())
    }

    /// The whole reply, at [`Frame::ReplyEnd`].
    pub fn finish(self) -> Result<serde_json::Value, FrameError> {
        serde_json::from_slice(&self.json).map_err(|e| FrameError::Malformed(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;

    fn roundtrip(frames: &[(Frame, Vec<u8>)]) -> Vec<(Frame, Vec<u8>)> {
        let mut buf = Vec::new();
        for (f, p) in frames {
            write_frame(&mut buf, f, p).expect("write");
        }
        let mut r = std::io::Cursor::new(buf);
        let mut got = Vec::new();
        while let Some(f) = read_frame(&mut r).expect("read") {
            got.push(f);
        }
        got
    }

    #[test]
    fn frames_and_binary_payloads_survive_the_round_trip() {
        let frames = vec![
            (
                Frame::Request {
                    v: PROTOCOL,
                    body: json!({"command": {"show": {"regno": "X"}}}),
                },
                vec![],
            ),
            (Frame::Started, vec![]),
            (Frame::Stdout { len: 5 }, b"a\nb\n\n".to_vec()),
            // Not UTF-8, and holding what looks like a header: data passes untouched.
            (Frame::Stderr { len: 4 }, vec![0xff, b'\n', b'{', 0]),
            (Frame::Stdin { len: 0 }, vec![]),
            (Frame::Exit { code: 3 }, vec![]),
        ];
        assert_eq!(roundtrip(&frames), frames);
    }

    #[test]
    fn large_data_is_cut_into_chunks() {
        let data: Vec<u8> = (0..(CHUNK * 2 + 7)).map(|i| (i % 251) as u8).collect();
        let mut buf = Vec::new();
        write_data(&mut buf, false, &data).expect("write");
        let mut r = std::io::Cursor::new(buf);
        let mut joined = Vec::new();
        let mut frames = 0;
        while let Some((f, p)) = read_frame(&mut r).expect("read") {
            assert!(matches!(f, Frame::Stdout { .. }));
            joined.extend(p);
            frames += 1;
        }
        assert_eq!(frames, 3);
        assert_eq!(joined, data);
    }

    #[test]
    fn an_oversized_request_is_refused_on_both_sides() {
        let big = Frame::Request {
            v: PROTOCOL,
            body: json!("x".repeat(MAX_HEADER)),
        };
        let e = write_frame(&mut Vec::new(), &big, &[]).unwrap_err();
        assert!(e.to_string().contains("the request is larger"), "{e}");
        let mut line = vec![b'x'; MAX_HEADER + 10];
        line.push(b'\n');
        let e = read_frame(&mut std::io::Cursor::new(line)).unwrap_err();
        assert!(matches!(e, FrameError::TooLarge { .. }), "{e}");
    }

    #[test]
    fn a_cut_connection_and_a_lying_length_are_errors() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &Frame::Stdout { len: 4 }, b"abcd").expect("write");
        buf.truncate(buf.len() - 1);
        let e = read_frame(&mut std::io::Cursor::new(buf)).unwrap_err();
        assert!(matches!(e, FrameError::Truncated), "{e}");
        let e = read_frame(&mut std::io::Cursor::new(b"{\"t\":\"exit\"".to_vec())).unwrap_err();
        assert!(matches!(e, FrameError::Truncated), "{e}");
        let e = write_frame(&mut Vec::new(), &Frame::Stdout { len: 2 }, b"abc").unwrap_err();
        assert!(matches!(e, FrameError::PayloadMismatch { .. }), "{e}");
        let huge = format!("{{\"t\":\"stdout\",\"len\":{}}}\n", MAX_PAYLOAD + 1);
        let e = read_frame(&mut std::io::Cursor::new(huge.into_bytes())).unwrap_err();
        assert!(matches!(e, FrameError::TooLarge { .. }), "{e}");
    }

    fn read_reply(buf: Vec<u8>) -> (usize, serde_json::Value) {
        let mut r = std::io::Cursor::new(buf);
        let mut frames = 0;
        let mut parts = ReplyReader::default();
        loop {
            let (f, p) = read_frame(&mut r).expect("read").expect("a frame");
            frames += 1;
            match f {
                Frame::Reply { body } => return (frames, body),
                Frame::ReplyPart { .. } => parts.part(&p).expect("within bounds"),
                Frame::ReplyEnd => return (frames, parts.finish().expect("JSON")),
                other => panic!("unexpected {}", other.name()),
            }
        }
    }

    #[test]
    fn a_reply_of_any_size_arrives_whole() {
        let small = json!({"rows": 3});
        let mut buf = Vec::new();
        write_reply(&mut buf, &small).expect("write");
        assert_eq!(read_reply(buf), (1, small));
        // Three times what one header holds: sent in parts, received whole.
        let rows: Vec<_> = (0..60_000)
            .map(|i| json!({"line": i, "regno": format!("ISTOG-B-HUB-{i:08}"), "reasons": ["ok", "ok"]}))
            .collect();
        let big = json!({ "imported": rows });
        assert!(serde_json::to_vec(&big).unwrap().len() > 3 * MAX_HEADER);
        let mut buf = Vec::new();
        write_reply(&mut buf, &big).expect("write");
        let (frames, got) = read_reply(buf);
        assert!(frames > 2, "{frames}");
        assert_eq!(got, big);
        // A reply above the bound is refused on the reading side too.
        let mut r = ReplyReader::default();
        assert!(r.part(&vec![b' '; MAX_REPLY]).is_ok());
        assert!(matches!(r.part(b" "), Err(FrameError::TooLarge { .. })));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic_the_reader(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
            let mut r = std::io::Cursor::new(bytes);
            for _ in 0..64 {
                match read_frame(&mut r) {
                    Ok(Some(_)) => {}
                    Ok(None) | Err(_) => break,
                }
            }
        }

        #[test]
        fn any_data_round_trips(data in proptest::collection::vec(any::<u8>(), 0..4096), stderr in any::<bool>()) {
            let mut buf = Vec::new();
            write_data(&mut buf, stderr, &data).expect("write");
            let mut r = std::io::Cursor::new(buf);
            let mut joined = Vec::new();
            while let Some((_, p)) = read_frame(&mut r).expect("read") {
                joined.extend(p);
            }
            prop_assert_eq!(joined, data);
        }
    }
}
