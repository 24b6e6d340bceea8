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
    let mut reader = stream;
    let code = loop {
        match read_frame(&mut reader, MAX_CHUNK)? {
            // A reader that went away (`| head`) is not an error, as for a local run.
            Some((tag::STDOUT, bytes)) => {
                let mut out = io::stdout().lock();
                let _ = out.write_all(&bytes).and_then(|_| out.flush());
            }
            Some((tag::STDERR, bytes)) => {
                let _ = io::stderr().write_all(&bytes);
            }
            Some((tag::EXIT, code)) if code.len() == 1 => break code[0],
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
    };
    // A feeder still blocked on a terminal's stdin is left behind: the process exits.
    if feeder.is_finished() {
        let _ = feeder.join();
    }
    Ok(code)
}
