//! The server on a byte stream (standard input and output), kept alive by whatever a client
//! sends.
//!
//! tower-lsp-server's `Server` ends its input loop on the first message it cannot decode (its
//! decoder fails and `tokio_util`'s `FramedRead` then ends the stream), so one malformed
//! message would stop the language server. It therefore reads from a pipe, not from the
//! client: a reader task frames the client's input itself ([`crate::framing`]), checks each
//! body ([`crate::message`]), and passes on only well-formed messages. What it rejects is
//! answered by the writer, which also copies the server's own output, frame by frame, so that
//! the two never interleave inside a message.

use futures::StreamExt;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, DuplexStream};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};
use tokio_util::codec::FramedRead;
use tower_lsp_server::jsonrpc::{ErrorCode, Id, Response};

use crate::framing::{frame, Frame, FrameCodec};
use crate::message::{self, Checked};

/// The buffer of each pipe between this layer and tower-lsp-server.
const PIPE_BYTES: usize = 1 << 20;

/// Serves the language server on `input`/`output` until the client says `exit` or closes
/// `input`.
pub async fn serve<I, O>(input: I, output: O)
where
    I: AsyncRead + Unpin + Send + 'static,
    O: AsyncWrite + Unpin,
{
    let (service, socket) = crate::build_service();
    let (server_input, to_server) = tokio::io::duplex(PIPE_BYTES);
    let (from_server, server_output) = tokio::io::duplex(PIPE_BYTES);
    let (reject_tx, reject_rx) = unbounded_channel();
    // On its own task: after `exit` it may still wait for input that never comes.
    let reader = tokio::spawn(read_input(input, to_server, reject_tx));
    let server = tower_lsp_server::Server::new(server_input, server_output, socket).serve(service);
    let writer = write_output(from_server, reject_rx, output);
    // The server returns after `exit` or the end of its input; the writer once the server's
    // output ends (or the client's does).
    let ((), _) = tokio::join!(server, writer);
    reader.abort();
}

async fn read_input<I: AsyncRead + Unpin>(
    input: I,
    mut to_server: DuplexStream,
    rejects: UnboundedSender<Response>,
) {
    let mut frames = FramedRead::new(input, FrameCodec::new());
    // An I/O error on the input ends it, as its end would.
    while let Some(Ok(next)) = frames.next().await {
        let reject = match next {
            Frame::Body(body) => match message::check(&body) {
                Checked::Forward(json) => {
                    if to_server.write_all(&frame(&json)).await.is_err() {
                        break; // the server has stopped (`exit`)
                    }
                    continue;
                }
                Checked::Reject(response) => response,
            },
            Frame::Malformed(e) => message::error(Id::Null, ErrorCode::ParseError, e.to_string()),
        };
        if rejects.send(reject).is_err() {
            break;
        }
    }
    // Dropping the pipe ends the server's input, as the end of the client's does.
}

async fn write_output<O: AsyncWrite + Unpin>(
    from_server: DuplexStream,
    mut rejects: UnboundedReceiver<Response>,
    mut output: O,
) -> std::io::Result<()> {
    // The server writes well-formed frames of any size.
    let mut frames = FramedRead::new(from_server, FrameCodec::with_max_body(usize::MAX));
    loop {
        let body = tokio::select! {
            next = frames.next() => match next {
                Some(Ok(Frame::Body(body))) => body.to_vec(),
                Some(Ok(Frame::Malformed(_))) => continue,
                Some(Err(e)) => return Err(e),
                None => break,
            },
            Some(response) = rejects.recv() => match serde_json::to_vec(&response) {
                Ok(body) => body,
                Err(_) => continue,
            },
        };
        output.write_all(&frame(&body)).await?;
        output.flush().await?;
    }
    output.flush().await
}
