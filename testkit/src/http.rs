//! An HTTP/1.1 client for the tests of the web interfaces (the hub's dashboard, the node's clerk
//! app, chromedriver's status), on hyper: one fresh connection per request, the whole answer
//! read, with deadlines. [`http_raw`] sends bytes exactly as given: only for the tests that send
//! what a well-behaved client (hyper) would not.

pub use bytes::Bytes;
use http_body_util::BodyExt;
pub use http_body_util::Full;
pub use hyper::{header, Request};
use hyper_util::rt::TokioIo;
use std::time::Duration;

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl HttpResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The value of cookie `name` this answer sets (`Some("")` when it deletes it).
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.split(';').next()?.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else if b == b' ' {
            out.push('+');
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// One HTTP/1.1 request over a fresh connection (`Connection: close`), read to the end: a
/// form, if given, is sent url-encoded.
pub async fn http_request(
    addr: &str,
    method: &str,
    path: &str,
    cookie: Option<&str>,
    form: Option<&[(&str, &str)]>,
) -> HttpResponse {
    let mut req = Request::builder()
        .method(method)
        .uri(request_target(path))
        .header(header::HOST, addr)
        .header(header::CONNECTION, "close");
    if let Some(c) = cookie {
        req = req.header(header::COOKIE, c);
    }
    let body = match form {
        Some(f) => {
            req = req.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
            f.iter()
                .map(|(k, v)| format!("{}={}", form_encode(k), form_encode(v)))
                .collect::<Vec<_>>()
                .join("&")
        }
        None => String::new(),
    };
    let req = req
        .body(Full::new(Bytes::from(body)))
        .expect("a well-formed request");
    http_send(addr, req).await
}

/// `path` as a request target: bytes a URI may not hold (spaces, non-ASCII letters) are
/// percent-encoded, as a browser does.
fn request_target(path: &str) -> hyper::Uri {
    if let Ok(u) = hyper::Uri::try_from(path) {
        return u;
    }
    let mut out = String::new();
    for b in path.bytes() {
        if b.is_ascii_graphic() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    hyper::Uri::try_from(out.as_str())
        .unwrap_or_else(|e| panic!("bad request target {path:?}: {e}"))
}

/// Sends `req` over a fresh HTTP/1.1 connection to `addr` (hyper's client) and reads the whole
/// answer. Panics unless the server connects within 20 s and answers within 30 s.
pub async fn http_send<B>(addr: &str, req: Request<B>) -> HttpResponse
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    .expect("connect to the web server within 20 s")
    .expect("connect to the web server");
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .expect("an HTTP/1.1 connection");
    // The connection's own task: it ends when the server closes or the answer is read.
    let conn = tokio::spawn(conn);
    let exchange = async {
        let res = sender.send_request(req).await?;
        let (parts, body) = res.into_parts();
        let body = body.collect().await?.to_bytes();
        Ok::<_, hyper::Error>((parts, body))
    };
    let (parts, body) = tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .expect("the server answers within 30 s")
        .unwrap_or_else(|e| panic!("no HTTP answer from {addr}: {e:?}"));
    conn.abort();
    HttpResponse {
        status: parts.status.as_u16(),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// Sends `req` (a whole HTTP/1.1 request, as bytes, exactly as given) over a fresh connection
/// and reads the answer. Only for requests hyper would not send as they are: a test that means
/// to send something malformed or hostile at the byte level.
pub async fn http_raw(addr: &str, req: &[u8]) -> HttpResponse {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::time::timeout(
        Duration::from_secs(20),
        tokio::net::TcpStream::connect(addr),
    )
    .await
    .expect("connect to the web server within 20 s")
    .expect("connect to the web server");
    // A server may answer (and close) before it has read all of a large body: that is fine.
    let _ = s.write_all(req).await;
    // Read until the answer is complete: by its Content-Length, the end of its chunks, or the
    // end of the connection (a server may keep it open despite `Connection: close`).
    let mut raw = Vec::new();
    let read = async {
        let mut buf = [0u8; 8192];
        loop {
            let n = s.read(&mut buf).await.unwrap_or(0);
            raw.extend_from_slice(&buf[..n]);
            if n == 0 || answer_complete(&raw) {
                break;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(30), read)
        .await
        .expect("the server answers within 30 s");
    parse_http(&raw)
}

fn answer_complete(raw: &[u8]) -> bool {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return false;
    };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let body = &raw[split + 4..];
    if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok())
    {
        return body.len() >= len;
    }
    head.contains("transfer-encoding: chunked") && body.ends_with(b"0\r\n\r\n")
}

fn parse_http(raw: &[u8]) -> HttpResponse {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("an HTTP head");
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("a status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers.iter().any(|(k, v)| {
        k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
    });
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let eol = rest
                .windows(2)
                .position(|w| w == b"\r\n")
                .expect("chunk size line");
            let size = usize::from_str_radix(
                String::from_utf8_lossy(&rest[..eol])
                    .split(';')
                    .next()
                    .unwrap_or("0")
                    .trim(),
                16,
            )
            .expect("chunk size");
            rest = &rest[eol + 2..];
            if size == 0 {
                break;
            }
            out.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
        body = out;
    }
    HttpResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}
