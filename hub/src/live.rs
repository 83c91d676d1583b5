//! Live connections of the gRPC listener: what holds after the TLS handshake.
//!
//! - **Revocation ends live connections.** Every request is re-checked against the current
//!   registry and CRL ([`admit`], a gRPC interceptor; push streams re-check each batch with
//!   [`Admitted::recheck`]), and a connection whose certificate stops being admitted is closed
//!   within [`REVOCATION_POLL`] of the change ([`Guarded`]).
//! - **A client that never speaks HTTP/2 is dropped.** A connection that has not sent the
//!   24-byte HTTP/2 preface within [`PREFACE_TIMEOUT`] of the handshake is closed.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tonic::{Request, Status};

use crate::pki::admission::{serial_of, Refusal};
use crate::pki::Admission;

/// How long a client may take, after the handshake, to send the HTTP/2 preface.
pub const PREFACE_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the hub looks at `crl.pem` and `issued.json` for changes, to close the live
/// connections of certificates revoked since (requests are checked at once, without waiting).
pub const REVOCATION_POLL: Duration = Duration::from_millis(500);
/// `PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n`
const PREFACE_LEN: usize = 24;

/// Reloads the admission whenever its files change, until the hub stops.
pub async fn watch_revocations(admission: Arc<Admission>) {
    loop {
        tokio::time::sleep(REVOCATION_POLL).await;
        let a = admission.clone();
        let _ = tokio::task::spawn_blocking(move || a.refresh()).await;
    }
}

fn status_of(r: &Refusal) -> Status {
    Status::unauthenticated(r.to_string())
}

/// The certificate of the request's connection, found admitted when the request arrived.
#[derive(Clone, Debug)]
pub struct Admitted {
    pub serial: String,
    admission: Arc<Admission>,
}

impl Admitted {
    /// Checks again, now (each batch of a long push stream).
    pub fn recheck(&self) -> Result<(), Status> {
        self.admission
            .check(&self.serial)
            .map_err(|r| status_of(&r))
    }

    /// The re-check for a request the interceptor saw; `Ok` when there is none (a service
    /// called without the listener, as in unit tests).
    pub fn recheck_request<T>(req: &Request<T>) -> Result<(), Status> {
        match req.extensions().get::<Admitted>() {
            Some(a) => a.recheck(),
            None => Ok(()),
        }
    }
}

/// The gRPC interceptor: refuses any request whose client certificate is not admitted now,
/// and leaves [`Admitted`] in its extensions.
pub fn admit(
    admission: Arc<Admission>,
) -> impl FnMut(Request<()>) -> Result<Request<()>, Status> + Clone {
    move |mut req: Request<()>| {
        let certs = req
            .peer_certs()
            .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
        let leaf = certs
            .first()
            .ok_or_else(|| Status::unauthenticated("no client certificate"))?;
        let serial = admission
            .check_der(leaf.as_ref())
            .map_err(|r| status_of(&r))?;
        req.extensions_mut().insert(Admitted {
            serial,
            admission: admission.clone(),
        });
        Ok(req)
    }
}

type Watch = Pin<Box<dyn Future<Output = Refusal> + Send>>;

/// A connection after its handshake: closed when the client has not sent the HTTP/2 preface
/// in time, or when its certificate stops being admitted.
pub struct Guarded<S> {
    inner: S,
    preface: Option<Pin<Box<tokio::time::Sleep>>>,
    read: usize,
    revoked: Watch,
    serial: String,
}

impl<S> Guarded<S> {
    /// Guards `inner`, whose verified client certificate is `leaf` (DER).
    pub fn new(inner: S, leaf: Option<&[u8]>, admission: Arc<Admission>) -> Guarded<S> {
        let serial = leaf.and_then(serial_of).unwrap_or_default();
        let mut rx = admission.subscribe();
        let s = serial.clone();
        let revoked: Watch = Box::pin(async move {
            loop {
                if let Err(r) = admission.admits(&s) {
                    return r;
                }
                if rx.changed().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        });
        Guarded {
            inner,
            preface: Some(Box::pin(tokio::time::sleep(PREFACE_TIMEOUT))),
            read: 0,
            revoked,
            serial,
        }
    }

    fn check(&mut self, cx: &mut Context<'_>) -> Result<(), io::Error> {
        if let Poll::Ready(r) = self.revoked.as_mut().poll(cx) {
            tracing::warn!(serial = %self.serial, reason = %r, "certificate no longer admitted: live connection closed");
            // Keep answering with the same error if polled again.
            let again = r.clone();
            self.revoked = Box::pin(async move { again });
            return Err(io::Error::new(io::ErrorKind::PermissionDenied, r));
        }
        if let Some(deadline) = self.preface.as_mut() {
            if deadline.as_mut().poll(cx).is_ready() {
                tracing::warn!(serial = %self.serial, "no HTTP/2 preface within {PREFACE_TIMEOUT:?} of the handshake: connection closed");
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "the client sent no HTTP/2 preface in time",
                ));
            }
        }
        Ok(())
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        this.check(cx)?;
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.preface.is_some() {
            this.read += buf.filled().len() - before;
            if this.read >= PREFACE_LEN {
                this.preface = None;
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        this.check(cx)?;
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

impl<S: tonic::transport::server::Connected> tonic::transport::server::Connected for Guarded<S> {
    type ConnectInfo = S::ConnectInfo;

    fn connect_info(&self) -> Self::ConnectInfo {
        self.inner.connect_info()
    }
}
