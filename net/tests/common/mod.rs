//! What the integration tests share: the bytes the mesh's own request-response codecs
//! (`mesh::sync_codec`, `mesh::query_codec`) put on a stream, and what they read back
//! from given bytes, so known answers and examples pin the encoder the wire really uses.

use futures::executor::block_on;
use futures::io::Cursor;
use libp2p::request_response::Codec;
use libp2p::StreamProtocol;
use std::fmt::Debug;

/// The protocol name does not change the encoding; any will do.
const PROTOCOL: StreamProtocol = StreamProtocol::new("/weft/test/1");

/// One message of an exchange: what the asker writes, or what the server answers.
#[derive(Debug, Clone, PartialEq)]
pub enum Side<Req, Resp> {
    /// The request.
    Request(Req),
    /// The response.
    Response(Resp),
}

type Message<C> = Side<<C as Codec>::Request, <C as Codec>::Response>;

/// The bytes `codec` writes for `message`.
fn write<C: Codec<Protocol = StreamProtocol>>(mut codec: C, message: Message<C>) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    let written = match message {
        Side::Request(r) => block_on(codec.write_request(&PROTOCOL, &mut out, r)),
        Side::Response(r) => block_on(codec.write_response(&PROTOCOL, &mut out, r)),
    };
    written.expect("a codec writes into memory");
    out.into_inner()
}

/// What `codec` reads from a stream holding `bytes`, as the same side as `like`.
pub fn read<C: Codec<Protocol = StreamProtocol>>(
    mut codec: C,
    bytes: &[u8],
    like: &Message<C>,
) -> std::io::Result<Message<C>> {
    let mut stream = Cursor::new(bytes);
    Ok(match like {
        Side::Request(_) => Side::Request(block_on(codec.read_request(&PROTOCOL, &mut stream))?),
        Side::Response(_) => Side::Response(block_on(codec.read_response(&PROTOCOL, &mut stream))?),
    })
}

/// The bytes the codec `make` builds writes for `message`, checked to read back as it.
pub fn wire_bytes<C>(make: fn() -> C, message: Message<C>) -> Vec<u8>
where
    C: Codec<Protocol = StreamProtocol>,
    C::Request: Clone + PartialEq + Debug,
    C::Response: Clone + PartialEq + Debug,
{
    let bytes = write(make(), message.clone());
    assert_eq!(read(make(), &bytes, &message).expect("reads back"), message);
    bytes
}
