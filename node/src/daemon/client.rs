//! The CLI's side of the control socket: hand a command line to the running daemon,
//! stream standard input to it, print what it writes, return its exit code.

use super::control::{read_frame, tag, write_frame, Request, MAX_CHUNK};
use super::socket_path;
use crate::layout::Layout;
use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;

/// Connects to the daemon of the node containing `dir`; `None` when no daemon runs
/// there (no socket, or nobody listening on it).
pub fn connect(dir: &Path) -> Option<UnixStream> {
    let layout = Layout::discover(dir)?;
    UnixStream::connect(socket_path(&layout)).ok()
}

/// Runs `request` on the daemon behind `stream`. Standard input is forwarded only when
/// `forward_stdin` (the command reads it); otherwise the daemon sees it empty.
pub fn forward(stream: UnixStream, request: &Request, forward_stdin: bool) -> io::Result<u8> {
    let mut writer = stream.try_clone()?;
    let body = serde_json::to_vec(request).map_err(io::Error::other)?;
    write_frame(&mut writer, tag::REQUEST, &body)?;
    let feeder = std::thread::spawn(move || -> io::Result<()> {
        if forward_stdin {
            let mut stdin = io::stdin().lock();
            let mut buf = vec![0u8; MAX_CHUNK];
            loop {
                let n = stdin.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                write_frame(&mut writer, tag::STDIN, &buf[..n])?;
            }
        }
        write_frame(&mut writer, tag::STDIN_END, &[])
    });
    let code = receive(stream, &mut |stdout, bytes| {
        // A reader that went away (`| head`) is not an error, as for a local run.
        if stdout {
            let mut out = io::stdout().lock();
            let _ = out.write_all(bytes).and_then(|_| out.flush());
        } else {
            let _ = io::stderr().write_all(bytes);
        }
        Ok(())
    })?;
    // A feeder still blocked on a terminal's stdin is left behind: the process exits.
    if feeder.is_finished() {
        let _ = feeder.join();
    }
    Ok(code)
}

/// Reads the daemon's output frames until its exit code, handing each chunk of standard
/// output (`true`) or error (`false`) to `sink`.
fn receive(
    mut reader: UnixStream,
    sink: &mut dyn FnMut(bool, &[u8]) -> io::Result<()>,
) -> io::Result<u8> {
    loop {
        match read_frame(&mut reader, MAX_CHUNK)? {
            Some((tag::STDOUT, bytes)) => sink(true, &bytes)?,
            Some((tag::STDERR, bytes)) => sink(false, &bytes)?,
            Some((tag::EXIT, code)) if code.len() == 1 => return Ok(code[0]),
            Some((other, _)) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("unexpected frame {:?} from the daemon", other as char),
                ))
            }
            None => return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the daemon closed the connection before the command finished (see .weftos/logs/)",
            )),
        }
    }
}

/// What a command run for a program printed, and its exit code.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Captured {
    /// Exit code.
    pub code: u8,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

/// Runs `request` on the daemon behind `stream` with empty standard input, keeping what
/// it prints; more than `max` bytes of output is an error (the daemon's answer is not
/// trusted to be small).
pub fn run_captured(stream: UnixStream, request: &Request, max: usize) -> io::Result<Captured> {
    let mut writer = stream.try_clone()?;
    let body = serde_json::to_vec(request).map_err(io::Error::other)?;
    write_frame(&mut writer, tag::REQUEST, &body)?;
    write_frame(&mut writer, tag::STDIN_END, &[])?;
    let mut captured = Captured::default();
    captured.code = receive(stream, &mut |stdout, bytes| {
        let into = if stdout {
            &mut captured.stdout
        } else {
            &mut captured.stderr
        };
        if into.len() + bytes.len() > max {
            return Err(io::Error::other(format!(
                "the daemon's answer is larger than {max} bytes"
            )));
        }
        into.extend_from_slice(bytes);
        Ok(())
    })?;
    Ok(captured)
}
