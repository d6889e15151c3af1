//! The base protocol's framing (`Content-Length: n`, a blank line, `n` bytes of body) as a
//! `tokio_util` decoder that never fails on what a client sends.
//!
//! tower-lsp-server's own decoder returns an error for a malformed header, a body that is not
//! JSON or one that is not UTF-8, and `tokio_util`'s `FramedRead` ends the stream after any
//! decoder error: its server then stops reading and the process exits. Here a malformed frame
//! is an item ([`Frame::Malformed`]) to answer, and the decoder finds the next message by its
//! `Content-Length` header. Only I/O errors end the stream.

use std::fmt;
use std::io;

use bytes::{Buf, Bytes, BytesMut};
use memchr::memmem;
use tokio_util::codec::Decoder;

/// A header block longer than this is not a header.
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// The largest body read from a client; a larger one is skipped as it arrives and answered
/// with an error. Far above any real document.
pub const MAX_BODY_BYTES: usize = 256 << 20;

const CONTENT_LENGTH: &[u8] = b"content-length";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Body(Bytes),
    Malformed(FrameError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FrameError {
    MissingContentLength,
    InvalidContentLength,
    /// A header line that is not `Name: value`, or a header that is not UTF-8.
    InvalidHeader,
    HeaderTooLong,
    TooLarge(usize),
    /// The input ended inside a message.
    Truncated,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::MissingContentLength => {
                f.write_str("the message has no `Content-Length` header")
            }
            FrameError::InvalidContentLength => f.write_str(
                "the `Content-Length` header is not a byte count (or is given twice, differently)",
            ),
            FrameError::InvalidHeader => {
                f.write_str("the message header is not a list of `Name: value` lines")
            }
            FrameError::HeaderTooLong => write!(
                f,
                "no end of the message header (a blank line) within {MAX_HEADER_BYTES} bytes"
            ),
            FrameError::TooLarge(n) => write!(
                f,
                "the message has {n} bytes, more than the {MAX_BODY_BYTES} this server reads; it was skipped"
            ),
            FrameError::Truncated => f.write_str("the input ended inside a message"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    Header,
    Body(usize),
    /// Discarding the rest of a body that is too large.
    Skip(usize),
    /// After a malformed header: discarding up to the next `Content-Length`.
    Resync,
}

#[derive(Debug)]
pub struct FrameCodec {
    state: State,
    max_body: usize,
}

impl FrameCodec {
    /// A decoder for input from a client, with bodies up to [`MAX_BODY_BYTES`].
    pub fn new() -> Self {
        Self::with_max_body(MAX_BODY_BYTES)
    }

    pub fn with_max_body(max_body: usize) -> Self {
        FrameCodec {
            state: State::Header,
            max_body,
        }
    }

    fn malformed(&mut self, next: State, e: FrameError) -> io::Result<Option<Frame>> {
        self.state = next;
        Ok(Some(Frame::Malformed(e)))
    }
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new()
    }
}

/// The end of the header block starting at `src[0]`, and the length of its terminator. A bare
/// `\n\n` is accepted too: it costs nothing and some hand-written clients send it.
fn header_end(src: &[u8]) -> Option<(usize, usize)> {
    let crlf = memmem::find(src, b"\r\n\r\n").map(|i| (i, 4));
    let lf = memmem::find(src, b"\n\n").map(|i| (i, 2));
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(if b.0 < a.0 { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_'))
}

/// The `Content-Length` of a header block (without its terminator). Other headers, such as
/// `Content-Type`, are ignored: the body is read as UTF-8 whatever they say.
fn content_length(header: &[u8]) -> Result<usize, FrameError> {
    let header = std::str::from_utf8(header).map_err(|_| FrameError::InvalidHeader)?;
    let mut length = None;
    for line in header.split('\n') {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            continue;
        }
        let (name, value) = line.split_once(':').ok_or(FrameError::InvalidHeader)?;
        let name = name.trim();
        if !is_token(name) {
            return Err(FrameError::InvalidHeader);
        }
        if name.eq_ignore_ascii_case("content-length") {
            let n: usize = value
                .trim()
                .parse()
                .map_err(|_| FrameError::InvalidContentLength)?;
            if length.is_some_and(|m| m != n) {
                return Err(FrameError::InvalidContentLength);
            }
            length = Some(n);
        }
    }
    length.ok_or(FrameError::MissingContentLength)
}

/// The first `Content-Length` (in any case) in `src`.
fn find_content_length(src: &[u8]) -> Option<usize> {
    src.windows(CONTENT_LENGTH.len())
        .position(|w| w.eq_ignore_ascii_case(CONTENT_LENGTH))
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Frame>> {
        loop {
            match self.state {
                State::Header => {
                    // Blank lines between messages are harmless.
                    let blank = src
                        .iter()
                        .take_while(|b| matches!(b, b'\r' | b'\n'))
                        .count();
                    src.advance(blank);
                    if src.is_empty() {
                        return Ok(None);
                    }
                    let Some((end, terminator)) = header_end(src) else {
                        if src.len() > MAX_HEADER_BYTES {
                            src.advance(1);
                            return self.malformed(State::Resync, FrameError::HeaderTooLong);
                        }
                        return Ok(None);
                    };
                    if end > MAX_HEADER_BYTES {
                        src.advance(1);
                        return self.malformed(State::Resync, FrameError::HeaderTooLong);
                    }
                    match content_length(&src[..end]) {
                        Ok(n) => {
                            src.advance(end + terminator);
                            if n > self.max_body {
                                return self.malformed(State::Skip(n), FrameError::TooLarge(n));
                            }
                            self.state = State::Body(n);
                        }
                        Err(FrameError::InvalidHeader) => {
                            // Garbage before a header: look for a `Content-Length` inside it.
                            src.advance(1);
                            return self.malformed(State::Resync, FrameError::InvalidHeader);
                        }
                        Err(e) => {
                            src.advance(end + terminator);
                            return self.malformed(State::Resync, e);
                        }
                    }
                }
                State::Body(n) => {
                    if src.len() < n {
                        src.reserve(n - src.len());
                        return Ok(None);
                    }
                    self.state = State::Header;
                    return Ok(Some(Frame::Body(src.split_to(n).freeze())));
                }
                State::Skip(n) => {
                    let k = n.min(src.len());
                    src.advance(k);
                    if k < n {
                        self.state = State::Skip(n - k);
                        return Ok(None);
                    }
                    self.state = State::Header;
                }
                State::Resync => match find_content_length(src) {
                    Some(i) => {
                        src.advance(i);
                        self.state = State::Header;
                    }
                    None => {
                        // Keep what could be the start of a `Content-Length` cut in two.
                        let keep = (CONTENT_LENGTH.len() - 1).min(src.len());
                        src.advance(src.len() - keep);
                        return Ok(None);
                    }
                },
            }
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<Frame>> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        let inside = match self.state {
            State::Body(_) | State::Skip(_) => true,
            State::Header => !src.is_empty(),
            State::Resync => false,
        };
        src.clear();
        self.state = State::Header;
        Ok(inside.then_some(Frame::Malformed(FrameError::Truncated)))
    }
}

/// `body` with its `Content-Length` header, as the base protocol frames it.
pub fn frame(body: &[u8]) -> Vec<u8> {
    let mut out = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(input: &[u8]) -> Vec<Frame> {
        let mut codec = FrameCodec::new();
        let mut buf = BytesMut::from(input);
        let mut out = Vec::new();
        while let Some(f) = codec.decode(&mut buf).unwrap() {
            out.push(f);
        }
        while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
            out.push(f);
        }
        out
    }

    fn body(s: &str) -> Frame {
        Frame::Body(Bytes::copy_from_slice(s.as_bytes()))
    }

    #[test]
    fn splits_messages_and_ignores_other_headers() {
        let mut input = frame(b"{\"a\":1}");
        input.extend(b"Content-Type: application/vscode-jsonrpc; charset=utf-8\r\ncontent-length: 2\r\n\r\n{}");
        input.extend(b"\r\n");
        input.extend(frame("é".as_bytes()));
        assert_eq!(
            decode_all(&input),
            vec![body("{\"a\":1}"), body("{}"), body("é")]
        );
    }

    #[test]
    fn byte_at_a_time_gives_the_same_frames() {
        let mut input = frame(b"{\"a\":1}");
        input.extend(b"Content-Type: x\r\n\r\n{}");
        input.extend(frame(b"[]"));
        let mut codec = FrameCodec::new();
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for b in &input {
            buf.extend_from_slice(&[*b]);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                out.push(f);
            }
        }
        assert_eq!(out, decode_all(&input));
        assert_eq!(
            out,
            vec![
                body("{\"a\":1}"),
                Frame::Malformed(FrameError::MissingContentLength),
                body("[]")
            ]
        );
    }

    #[test]
    fn malformed_headers_are_reported_once_and_skipped() {
        let cases: &[(&[u8], FrameError)] = &[
            (
                b"Content-Type: x\r\n\r\n{\"x\":1}",
                FrameError::MissingContentLength,
            ),
            (
                b"Content-Length: abc\r\n\r\n{}",
                FrameError::InvalidContentLength,
            ),
            (
                b"Content-Length: -1\r\n\r\n{}",
                FrameError::InvalidContentLength,
            ),
            (
                b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
                FrameError::InvalidContentLength,
            ),
            (b"garbage\r\n\r\n{}", FrameError::InvalidHeader),
            (b"{\"jsonrpc\":\"2.0\"}", FrameError::InvalidHeader),
            (b"\xff\xfe: 1\r\n\r\n", FrameError::InvalidHeader),
        ];
        for (bad, error) in cases {
            let mut input = bad.to_vec();
            input.extend(frame(b"{}"));
            assert_eq!(
                decode_all(&input),
                vec![Frame::Malformed(error.clone()), body("{}")],
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn a_header_that_never_ends_is_bounded() {
        let mut input = vec![b'x'; MAX_HEADER_BYTES + 10];
        input.extend(frame(b"{}"));
        assert_eq!(
            decode_all(&input),
            vec![Frame::Malformed(FrameError::HeaderTooLong), body("{}")]
        );
    }

    #[test]
    fn too_large_bodies_are_skipped_without_buffering() {
        let mut codec = FrameCodec::with_max_body(4);
        let mut buf = BytesMut::from(&b"Content-Length: 10\r\n\r\n0123"[..]);
        assert_eq!(
            codec.decode(&mut buf).unwrap(),
            Some(Frame::Malformed(FrameError::TooLarge(10)))
        );
        assert_eq!(codec.decode(&mut buf).unwrap(), None);
        assert!(buf.is_empty());
        buf.extend_from_slice(b"456789");
        buf.extend_from_slice(&frame(b"{}"));
        assert_eq!(codec.decode(&mut buf).unwrap(), Some(body("{}")));
    }

    #[test]
    fn input_ending_inside_a_message_is_reported() {
        assert_eq!(
            decode_all(b"Content-Length: 10\r\n\r\n{"),
            vec![Frame::Malformed(FrameError::Truncated)]
        );
        assert_eq!(
            decode_all(b"Content-Len"),
            vec![Frame::Malformed(FrameError::Truncated)]
        );
        assert_eq!(decode_all(b"\r\n"), vec![]);
        assert_eq!(decode_all(b""), vec![]);
    }
}
