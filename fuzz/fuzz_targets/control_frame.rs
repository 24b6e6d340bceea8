//! Fuzzes the control socket's framing as the daemon reads a connection: `read_frame`
//! with the request limit, the JSON `Request` in an `R` frame, then the client's
//! standard input through `StdinReader`; and as the client reads the daemon's frames
//! (`read_frame` with the chunk limit, frame after frame).
//!
//! Asserts: a frame read is within its limit and is exactly what `write_frame` writes
//! for its tag and bytes; a request decoded from JSON round-trips through the JSON the
//! client writes; the standard input read is no longer than the bytes it came from and,
//! framed again, reads back the same; a clean end of stream is an empty one; the client
//! reads no frame over `MAX_CHUNK` and never more bytes than there are.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::io::Read;
use weft_node::daemon::control::{read_frame, tag, write_frame, Request, StdinReader};
use weft_node::daemon::control::{MAX_CHUNK, MAX_REQUEST};

fn framed(tag: u8, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    write_frame(&mut out, tag, bytes).expect("framing into memory cannot fail");
    out
}

fn daemon_side(data: &[u8]) {
    let mut input = data;
    let (tag, bytes) = match read_frame(&mut input, MAX_REQUEST) {
        Ok(Some(frame)) => frame,
        Ok(None) => return assert!(data.is_empty(), "a clean end of a stream that is not empty"),
        Err(_) => return,
    };
    assert!(bytes.len() <= MAX_REQUEST);
    assert_eq!(framed(tag, &bytes), data[..data.len() - input.len()]);
    if tag == tag::REQUEST {
        if let Ok(request) = serde_json::from_slice::<Request>(&bytes) {
            let json = serde_json::to_vec(&request).expect("a request writes as JSON");
            let again: Request = serde_json::from_slice(&json).expect("written JSON reads");
            assert_eq!(again, request, "request JSON round trip");
        }
    }
    let rest = input.len();
    let mut stdin = Vec::new();
    if StdinReader::new(input).read_to_end(&mut stdin).is_err() {
        return;
    }
    assert!(stdin.len() <= rest);
    let mut wire = Vec::new();
    for chunk in stdin.chunks(MAX_CHUNK) {
        wire.extend(framed(tag::STDIN, chunk));
    }
    wire.extend(framed(tag::STDIN_END, b""));
    let mut again = Vec::new();
    StdinReader::new(wire.as_slice())
        .read_to_end(&mut again)
        .expect("framed standard input reads");
    assert_eq!(again, stdin, "standard input round trip");
}

fn client_side(data: &[u8]) {
    let mut input = data;
    let mut read = 0usize;
    while let Ok(Some((_, bytes))) = read_frame(&mut input, MAX_CHUNK) {
        assert!(bytes.len() <= MAX_CHUNK);
        read += 5 + bytes.len();
    }
    assert!(read <= data.len());
}

fuzz_target!(|data: &[u8]| {
    daemon_side(data);
    client_side(data);
});
