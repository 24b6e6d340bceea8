//! The local control socket (`.weftos/node.sock`): how the CLI hands a command to the
//! running daemon. The socket file is created mode 0600 inside `.weftos/`, so file
//! permissions are the authentication.
//!
//! Frames are `tag (1 byte) ‖ length (u32, big-endian) ‖ bytes`. The client sends one
//! `R` (a JSON [`Request`]), then its standard input as `I` frames closed by `E`; the
//! daemon answers with `O` (stdout) and `X` (stderr) frames and ends with `C` (the exit
//! code, one byte). Frames are bounded; a peer on the socket that breaks the framing is
//! disconnected.

use serde::{Deserialize, Serialize};
use std::io::{self, Read, Write};
use std::path::PathBuf;

/// Largest request frame.
pub const MAX_REQUEST: usize = 1 << 20;
/// Largest stdin, stdout or stderr chunk.
pub const MAX_CHUNK: usize = 64 * 1024;

/// Frame tags.
pub mod tag {
    /// Request (client → daemon).
    pub const REQUEST: u8 = b'R';
    /// Standard input chunk (client → daemon).
    pub const STDIN: u8 = b'I';
    /// End of standard input (client → daemon).
    pub const STDIN_END: u8 = b'E';
    /// Standard output chunk (daemon → client).
    pub const STDOUT: u8 = b'O';
    /// Standard error chunk (daemon → client).
    pub const STDERR: u8 = b'X';
    /// Exit code (daemon → client), the last frame.
    pub const EXIT: u8 = b'C';
}

/// A command for the daemon to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Request {
    /// The command line, without the program name.
    pub args: Vec<String>,
    /// The client's working directory (relative paths are resolved against it).
    pub cwd: PathBuf,
}

/// Writes one frame.
pub fn write_frame(out: &mut impl Write, tag: u8, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "frame too large"))?;
    let mut header = [0u8; 5];
    header[0] = tag;
    header[1..].copy_from_slice(&len.to_be_bytes());
    out.write_all(&header)?;
    out.write_all(bytes)?;
    out.flush()
}

/// Reads one frame of at most `limit` bytes; `None` at a clean end of stream.
pub fn read_frame(input: &mut impl Read, limit: usize) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut header = [0u8; 5];
    match input.read_exact(&mut header[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    input.read_exact(&mut header[1..])?;
    let len = u32::from_be_bytes([header[1], header[2], header[3], header[4]]) as usize;
    if len > limit {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("control frame of {len} bytes exceeds {limit}"),
        ));
    }
    let mut bytes = vec![0u8; len];
    input.read_exact(&mut bytes)?;
    Ok(Some((header[0], bytes)))
}

/// Writes a stream as frames of one tag (stdout or stderr towards the client).
pub struct FrameWriter<W: Write> {
    inner: W,
    tag: u8,
}

impl<W: Write> FrameWriter<W> {
    /// Frames everything written with `tag`.
    pub fn new(inner: W, tag: u8) -> FrameWriter<W> {
        FrameWriter { inner, tag }
    }
}

impl<W: Write> Write for FrameWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(MAX_CHUNK);
        write_frame(&mut self.inner, self.tag, &buf[..n])?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// Reads the client's `I` frames as one byte stream, ending at `E`.
pub struct StdinReader<R: Read> {
    inner: R,
    chunk: Vec<u8>,
    at: usize,
    done: bool,
}

impl<R: Read> StdinReader<R> {
    /// Reads stdin frames from `inner`.
    pub fn new(inner: R) -> StdinReader<R> {
        StdinReader {
            inner,
            chunk: Vec::new(),
            at: 0,
            done: false,
        }
    }
}

impl<R: Read> Read for StdinReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.at == self.chunk.len() {
            if self.done {
                return Ok(0);
            }
            match read_frame(&mut self.inner, MAX_CHUNK)? {
                Some((tag::STDIN, bytes)) => {
                    self.chunk = bytes;
                    self.at = 0;
                }
                Some((tag::STDIN_END, _)) | None => self.done = true,
                Some((other, _)) => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!(
                            "unexpected control frame {:?} in standard input",
                            other as char
                        ),
                    ))
                }
            }
        }
        let n = buf.len().min(self.chunk.len() - self.at);
        buf[..n].copy_from_slice(&self.chunk[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_oversize_is_refused() {
        let mut wire = Vec::new();
        write_frame(&mut wire, tag::STDOUT, b"hello").expect("write");
        write_frame(&mut wire, tag::EXIT, &[3]).expect("write");
        let mut input = wire.as_slice();
        assert_eq!(
            read_frame(&mut input, 16).expect("read"),
            Some((tag::STDOUT, b"hello".to_vec()))
        );
        assert_eq!(
            read_frame(&mut input, 16).expect("read"),
            Some((tag::EXIT, vec![3]))
        );
        assert_eq!(read_frame(&mut input, 16).expect("end"), None);
        let mut big = Vec::new();
        write_frame(&mut big, tag::STDIN, &[0; 17]).expect("write");
        assert!(read_frame(&mut big.as_slice(), 16).is_err());
        // A header cut short is an error, not a clean end.
        assert!(read_frame(&mut &wire[..3], 16).is_err());
    }

    #[test]
    fn stdin_frames_read_as_one_stream() {
        let mut wire = Vec::new();
        write_frame(&mut wire, tag::STDIN, b"line one\nli").expect("write");
        write_frame(&mut wire, tag::STDIN, b"ne two\n").expect("write");
        write_frame(&mut wire, tag::STDIN_END, b"").expect("write");
        let mut text = String::new();
        StdinReader::new(wire.as_slice())
            .read_to_string(&mut text)
            .expect("read");
        assert_eq!(text, "line one\nline two\n");
        let mut bad = Vec::new();
        write_frame(&mut bad, tag::EXIT, b"").expect("write");
        assert!(StdinReader::new(bad.as_slice())
            .read_to_string(&mut String::new())
            .is_err());
    }
}
