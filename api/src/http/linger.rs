//! Lingering close: a connection the server closes first keeps reading,
//! and discarding, what the client still sends, for a while.
//!
//! When a route answers before it has read the request body (413 for a
//! declared length over the limit, 401, 429), hyper writes the answer with
//! `Connection: close` and closes the connection. The client may still be
//! writing that body. Closing a TCP socket with unread data in its receive
//! buffer makes the kernel send a reset instead of a normal close, and a
//! reset can reach the client before it has read the answer: the client
//! then sees "connection reset" or "broken pipe" instead of the 413 that
//! says what was wrong.
//!
//! [`Lingering`] wraps a connection's stream. hyper shuts the stream down
//! when it closes a connection; the shutdown here sends TLS `close_notify`
//! and the TCP FIN as before, then reads and discards the client's data
//! until the client closes its side, [`LINGER`] has passed, or
//! [`LINGER_BYTES`] have been read, whichever comes first. Only then does
//! the stream report the shutdown done and get dropped. This is what RFC
//! 9112 §9.6 asks of a server that closes while a request may still be
//! arriving, and what nginx calls `lingering_close`.
//!
//! Both bounds matter: a client that never closes costs at most
//! [`LINGER`] of an open connection (which still holds its slot of the
//! connection limit), and one that keeps sending costs at most
//! [`LINGER_BYTES`] of reading. A connection the client closed first sees
//! end of stream at once, so the usual close costs nothing.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;
use zeroize::Zeroizing;

/// Longest a closed connection keeps reading.
pub const LINGER: Duration = Duration::from_secs(2);

/// Most bytes a closed connection reads and discards: more than the
/// largest body limit of any route (6 MiB), so a refused body of any size
/// a route would accept can be sent to its end.
pub const LINGER_BYTES: usize = 8 * 1024 * 1024;

/// A stream whose shutdown lingers (see the module docs).
pub struct Lingering<IO> {
    inner: IO,
    state: State,
    time: Duration,
    bytes: usize,
}

enum State {
    Open,
    Draining {
        deadline: Pin<Box<Sleep>>,
        left: usize,
    },
    Closed,
}

impl<IO> Lingering<IO> {
    pub fn new(inner: IO) -> Self {
        Self::with_limits(inner, LINGER, LINGER_BYTES)
    }

    /// With other bounds than [`LINGER`] and [`LINGER_BYTES`].
    pub fn with_limits(inner: IO, time: Duration, bytes: usize) -> Self {
        Self {
            inner,
            state: State::Open,
            time,
            bytes,
        }
    }
}

impl<IO: AsyncRead + Unpin> Lingering<IO> {
    /// Reads and discards until the client closes or a bound is reached.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let State::Draining { deadline, left } = &mut self.state else {
            return Poll::Ready(());
        };
        // What is discarded may be a refused plaintext: wiped, not left on
        // the stack.
        let mut scratch = Zeroizing::new([0u8; 8 * 1024]);
        loop {
            if *left == 0 || deadline.as_mut().poll(cx).is_ready() {
                break;
            }
            let mut buf = ReadBuf::new(scratch.as_mut_slice());
            match Pin::new(&mut self.inner).poll_read(cx, &mut buf) {
                Poll::Pending => return Poll::Pending,
                // End of stream, or a stream that failed: nothing more to wait for.
                Poll::Ready(Ok(())) if buf.filled().is_empty() => break,
                Poll::Ready(Err(_)) => break,
                Poll::Ready(Ok(())) => *left = left.saturating_sub(buf.filled().len()),
            }
        }
        self.state = State::Closed;
        Poll::Ready(())
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Lingering<IO> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<IO: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<IO> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let State::Open = this.state {
            ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
            this.state = State::Draining {
                deadline: Box::pin(tokio::time::sleep(this.time)),
                left: this.bytes,
            };
        }
        ready!(this.poll_drain(cx));
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    use super::*;

    /// A shutdown that reads what the client still sends lets the client
    /// send it all and then read the answer.
    #[tokio::test]
    async fn the_client_finishes_its_body_and_reads_the_answer() {
        let (server, mut client) = duplex(64 * 1024);
        let mut server = Lingering::new(server);
        let closing = tokio::spawn(async move {
            server.write_all(b"HTTP/1.1 413 \r\n\r\n").await.unwrap();
            server.shutdown().await.unwrap();
            server
        });
        // Four times the pipe's capacity: without draining, the client
        // would wait here forever.
        let body = vec![0u8; 256 * 1024];
        tokio::time::timeout(Duration::from_secs(30), client.write_all(&body))
            .await
            .expect("the server reads the rest of the body")
            .unwrap();
        let mut answer = Vec::new();
        client.read_to_end(&mut answer).await.unwrap();
        assert_eq!(answer, b"HTTP/1.1 413 \r\n\r\n");
        drop(client);
        let server = tokio::time::timeout(Duration::from_secs(30), closing)
            .await
            .expect("the shutdown ends once the client closes")
            .unwrap();
        assert!(matches!(server.state, State::Closed));
    }

    /// Shuts `server` down, failing the test with `why` if that never ends.
    async fn shut_down<IO: AsyncRead + AsyncWrite + Unpin>(server: &mut Lingering<IO>, why: &str) {
        tokio::time::timeout(Duration::from_secs(30), server.shutdown())
            .await
            .expect(why)
            .unwrap();
        assert!(matches!(server.state, State::Closed));
    }

    #[tokio::test]
    async fn a_client_that_never_closes_is_let_go_at_the_deadline() {
        let (server, _client) = duplex(1024);
        let mut server = Lingering::with_limits(server, Duration::from_millis(50), LINGER_BYTES);
        shut_down(&mut server, "the shutdown ends at the deadline").await;
    }

    #[tokio::test]
    async fn a_client_that_keeps_sending_is_let_go_after_the_byte_bound() {
        let (server, mut client) = duplex(64 * 1024);
        let mut server = Lingering::with_limits(server, Duration::from_secs(3600), 100 * 1024);
        let sender = tokio::spawn(async move {
            // Sends until the server side is gone.
            let chunk = vec![0u8; 16 * 1024];
            while client.write_all(&chunk).await.is_ok() {}
        });
        shut_down(&mut server, "the shutdown ends after the byte bound").await;
        drop(server);
        sender.await.unwrap();
    }

    #[tokio::test]
    async fn reads_and_writes_pass_through_until_shutdown() {
        let (server, mut client) = duplex(1024);
        let mut server = Lingering::new(server);
        client.write_all(b"ping").await.unwrap();
        let mut got = [0u8; 4];
        server.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"ping");
        server.write_all(b"pong").await.unwrap();
        client.read_exact(&mut got).await.unwrap();
        assert_eq!(&got, b"pong");
        assert!(matches!(server.state, State::Open));
    }
}
