//! The request-response codec of weft's `/weft/…` protocols: one CBOR item per stream
//! direction, read to the end of the stream, with a size limit per direction.
//!
//! On the wire this is exactly libp2p's CBOR codec (the same encoder, cbor4ii, so the
//! known-answer vectors pin both). It differs in how it holds bytes: a range response is
//! megabytes, and reading one with `read_to_end` into a fresh vector regrows and
//! zero-fills it and faults in fresh pages for every range. Here each direction reads and
//! writes through a buffer kept from the last message, so a replica pulling range after
//! range reuses memory that is already mapped. What is kept is bounded ([`KEEP_AT_MOST`])
//! and a message over its limit is refused as soon as the limit is crossed.

use futures::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use libp2p::StreamProtocol;
use serde::{de::DeserializeOwned, Serialize};
use std::io;
use std::marker::PhantomData;
use std::sync::{Arc, Mutex};

/// The largest buffer a codec keeps for the next message; a larger one (a big Raft
/// append) is freed after use, so an idle node holds at most this per kept buffer.
pub const KEEP_AT_MOST: usize = 16 * 1024 * 1024;

/// The first read buffer's size, doubled as a message needs more (up to its limit).
const FIRST_READ: usize = 64 * 1024;

/// One buffer kept between messages. Its length is how much of it is initialised, so
/// a reused read buffer is not zero-filled again.
#[derive(Default)]
struct Kept(Mutex<Option<Vec<u8>>>);

impl Kept {
    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take()
            .unwrap_or_default()
    }

    fn give_back(&self, buffer: Vec<u8>) {
        if buffer.capacity() <= KEEP_AT_MOST {
            *self
                .0
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(buffer);
        }
    }
}

/// The codec of one protocol, cloned into every stream; clones share the kept buffers.
pub struct Codec<Req, Resp> {
    request_limit: u64,
    response_limit: u64,
    read: Arc<Kept>,
    write: Arc<Kept>,
    // `fn() -> _` so that the codec is Send and Sync whatever the message types are.
    messages: PhantomData<fn() -> (Req, Resp)>,
}

impl<Req, Resp> Clone for Codec<Req, Resp> {
    fn clone(&self) -> Self {
        Codec {
            request_limit: self.request_limit,
            response_limit: self.response_limit,
            read: Arc::clone(&self.read),
            write: Arc::clone(&self.write),
            messages: PhantomData,
        }
    }
}

impl<Req, Resp> Codec<Req, Resp> {
    /// A codec refusing requests over `request_limit` and responses over
    /// `response_limit` bytes.
    pub fn new(request_limit: u64, response_limit: u64) -> Self {
        Codec {
            request_limit,
            response_limit,
            read: Arc::default(),
            write: Arc::default(),
            messages: PhantomData,
        }
    }

    async fn read_message<T, M>(
        &self,
        protocol: &StreamProtocol,
        io: &mut T,
        limit: u64,
        side: &str,
    ) -> io::Result<M>
    where
        T: AsyncRead + Unpin + Send,
        M: DeserializeOwned,
    {
        let mut buffer = self.read.take();
        let read = read_within(io, &mut buffer, limit).await;
        let message = read.and_then(|filled| {
            cbor4ii::serde::from_slice(&buffer[..filled]).map_err(|e| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("a {protocol} {side} that is not the protocol's CBOR: {e}"),
                )
            })
        });
        self.read.give_back(buffer);
        message.map_err(|e| match e.kind() {
            io::ErrorKind::FileTooLarge => io::Error::new(
                io::ErrorKind::InvalidData,
                format!("a {protocol} {side} of more than {limit} bytes"),
            ),
            _ => e,
        })
    }

    /// The CBOR of `message`, in the buffer kept from the last write.
    fn encode<M: Serialize>(&self, message: &M) -> io::Result<Vec<u8>> {
        let mut buffer = self.write.take();
        buffer.clear();
        cbor4ii::serde::to_vec(buffer, message).map_err(io::Error::other)
    }

    async fn send<T: AsyncWrite + Unpin + Send>(
        &self,
        io: &mut T,
        encoded: Vec<u8>,
    ) -> io::Result<()> {
        let written = io.write_all(&encoded).await;
        self.write.give_back(encoded);
        written
    }
}

/// Reads `io` to its end into `buffer` (whose length is how much is initialised),
/// returning how many bytes it holds, or `FileTooLarge` as soon as there are more than
/// `limit`.
async fn read_within<T: AsyncRead + Unpin>(
    io: &mut T,
    buffer: &mut Vec<u8>,
    limit: u64,
) -> io::Result<usize> {
    // One byte over the limit is enough to know the message is too large.
    let most = usize::try_from(limit)
        .unwrap_or(usize::MAX)
        .saturating_add(1);
    let mut filled = 0;
    loop {
        if filled == buffer.len() {
            if filled >= most {
                return Err(io::ErrorKind::FileTooLarge.into());
            }
            let grown = buffer.len().saturating_mul(2).max(FIRST_READ).min(most);
            buffer.resize(grown, 0);
        }
        let end = buffer.len().min(most);
        match io.read(&mut buffer[filled..end]).await? {
            0 => return Ok(filled),
            n => filled += n,
        }
        if filled >= most {
            return Err(io::ErrorKind::FileTooLarge.into());
        }
    }
}

impl<Req, Resp> libp2p::request_response::Codec for Codec<Req, Resp>
where
    Req: Send + Serialize + DeserializeOwned,
    Resp: Send + Serialize + DeserializeOwned,
{
    type Protocol = StreamProtocol;
    type Request = Req;
    type Response = Resp;

    async fn read_request<T>(&mut self, protocol: &StreamProtocol, io: &mut T) -> io::Result<Req>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read_message(protocol, io, self.request_limit, "request")
            .await
    }

    async fn read_response<T>(&mut self, protocol: &StreamProtocol, io: &mut T) -> io::Result<Resp>
    where
        T: AsyncRead + Unpin + Send,
    {
        self.read_message(protocol, io, self.response_limit, "response")
            .await
    }

    async fn write_request<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        request: Req,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let encoded = self.encode(&request)?;
        self.send(io, encoded).await
    }

    async fn write_response<T>(
        &mut self,
        _: &StreamProtocol,
        io: &mut T,
        response: Resp,
    ) -> io::Result<()>
    where
        T: AsyncWrite + Unpin + Send,
    {
        let encoded = self.encode(&response)?;
        self.send(io, encoded).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::executor::block_on;
    use futures::io::Cursor;
    use libp2p::request_response::Codec as _;

    const PROTOCOL: StreamProtocol = StreamProtocol::new("/weft/test/1");

    fn codec() -> Codec<Vec<u32>, serde_bytes::ByteBuf> {
        Codec::new(64, 300_000)
    }

    fn written(codec: &mut Codec<Vec<u32>, serde_bytes::ByteBuf>, bytes: &[u8]) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        let response = serde_bytes::ByteBuf::from(bytes.to_vec());
        block_on(codec.write_response(&PROTOCOL, &mut out, response)).expect("writes to memory");
        out.into_inner()
    }

    #[test]
    fn writes_what_libp2ps_cbor_codec_writes_and_reads_it_back() {
        let mut ours = codec();
        let mut theirs = libp2p::request_response::cbor::codec::Codec::<
            Vec<u32>,
            serde_bytes::ByteBuf,
        >::default();
        for size in [0, 1, 100, FIRST_READ - 3, FIRST_READ, 3 * FIRST_READ + 7] {
            let bytes: Vec<u8> = (0..size).map(|i| (i * 7) as u8).collect();
            let wire = written(&mut ours, &bytes);
            let mut out = Cursor::new(Vec::new());
            let response = serde_bytes::ByteBuf::from(bytes.clone());
            block_on(theirs.write_response(&PROTOCOL, &mut out, response)).expect("writes");
            assert_eq!(wire, out.into_inner(), "{size} bytes");
            let read = block_on(ours.read_response(&PROTOCOL, &mut Cursor::new(&wire)));
            assert_eq!(read.expect("reads back").into_vec(), bytes, "{size} bytes");
        }
    }

    #[test]
    fn a_reused_buffer_holding_a_longer_message_does_not_leak_into_a_shorter_one() {
        let mut ours = codec();
        let long = written(&mut ours, &[0xAA; 200_000]);
        let short = written(&mut ours, b"short");
        block_on(ours.read_response(&PROTOCOL, &mut Cursor::new(&long))).expect("reads");
        let read = block_on(ours.read_response(&PROTOCOL, &mut Cursor::new(&short)));
        assert_eq!(read.expect("reads").into_vec(), b"short");
    }

    #[test]
    fn a_message_over_its_limit_is_refused_and_one_at_it_is_read() {
        let mut ours = codec();
        let writer = codec();
        let request = |values: usize| {
            let mut out = Cursor::new(Vec::new());
            block_on(
                writer
                    .clone()
                    .write_request(&PROTOCOL, &mut out, vec![1u32; values]),
            )
            .expect("writes");
            out.into_inner()
        };
        // 2 bytes of array header (more than 23 items), 1 byte per small integer.
        let at_limit = request(62);
        assert_eq!(at_limit.len(), 64);
        let read = block_on(ours.read_request(&PROTOCOL, &mut Cursor::new(&at_limit)));
        assert_eq!(read.expect("at the limit").len(), 62);
        let over = request(63);
        let error = block_on(ours.read_request(&PROTOCOL, &mut Cursor::new(&over)))
            .expect_err("over the limit");
        assert_eq!(error.kind(), io::ErrorKind::InvalidData);
        assert!(
            error
                .to_string()
                .contains("/weft/test/1 request of more than 64 bytes"),
            "{error}"
        );
    }

    #[test]
    fn a_truncated_or_garbled_message_is_an_error_naming_the_protocol() {
        let mut ours = codec();
        let wire = written(&mut ours, &[7; 1000]);
        for bad in [&wire[..wire.len() - 1], &wire[1..], &[0xff, 0x00][..]] {
            let error = block_on(ours.read_response(&PROTOCOL, &mut Cursor::new(bad)))
                .expect_err("not a whole CBOR item");
            assert_eq!(error.kind(), io::ErrorKind::InvalidData);
            assert!(
                error.to_string().contains("/weft/test/1 response"),
                "{error}"
            );
        }
    }

    #[test]
    fn a_buffer_larger_than_the_keep_bound_is_not_kept() {
        let kept = Kept::default();
        kept.give_back(Vec::with_capacity(KEEP_AT_MOST + 1));
        assert_eq!(kept.take().capacity(), 0);
        kept.give_back(vec![1; 10]);
        assert_eq!(kept.take(), vec![1; 10]);
    }
}
