//! The daemon's side of the control socket: who may connect, how many at once, and
//! where their commands may run.
//!
//! Three locks stand in front of a command, each enough alone for an honest kernel:
//! `.weftos/` is 0700, the socket is created 0600 (never wider, not even for the moment
//! between bind and chmod), and every connection's peer uid (SO_PEERCRED) must be this
//! process's own. A client's working directory must lie inside the repository, at most
//! [`MAX_CONNECTIONS`] connections are served at once, and a command that panics still
//! answers and gives its slot back.

use super::control::{self, read_frame, tag, write_frame, FrameWriter, Request, StdinReader};
use super::{CommandRunner, Daemon};
use crate::layout::Layout;
use crate::NodeError;
use std::io::{self, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Control connections served at once; more are answered with an error and closed.
pub const MAX_CONNECTIONS: usize = 32;

/// Exit code sent for a command that panicked (the CLI's "internal error").
const PANICKED: u8 = 101;

/// Binds `socket` inside `.weftos/`, which is made 0700 first; the socket is born 0600.
pub fn bind(layout: &Layout, socket: &Path) -> Result<UnixListener, NodeError> {
    layout.restrict_to_owner()?;
    // The store lock is ours, so any socket left here belongs to a dead daemon.
    let _ = std::fs::remove_file(socket);
    // umask is process-wide; other threads creating files meanwhile only get stricter
    // modes, never wider ones.
    let previous = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
    let bound = UnixListener::bind(socket);
    rustix::process::umask(previous);
    bound.map_err(|e| NodeError::io(socket, e))
}

/// A connection being served: counted while it lives, uncounted when dropped, even when
/// its command panics.
pub struct InFlight(Arc<AtomicUsize>);

impl InFlight {
    /// Takes a slot, unless `limit` are taken.
    pub fn enter(counter: &Arc<AtomicUsize>, limit: usize) -> Option<InFlight> {
        counter
            .fetch_update(SeqCst, SeqCst, |n| (n < limit).then_some(n + 1))
            .ok()
            .map(|_| InFlight(counter.clone()))
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

/// Accepts connections until the listener closes.
pub fn serve(listener: UnixListener, daemon: Arc<Daemon>, runner: Arc<dyn CommandRunner>) {
    let own_uid = rustix::process::geteuid();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        match rustix::net::sockopt::socket_peercred(&stream) {
            Ok(cred) if cred.uid == own_uid => {}
            Ok(cred) => {
                tracing::warn!(
                    uid = cred.uid.as_raw(),
                    pid = cred.pid.as_raw_nonzero().get(),
                    "refused a control connection from another user"
                );
                continue;
            }
            Err(e) => {
                tracing::warn!(error = %e, "control connection without peer credentials");
                continue;
            }
        }
        let Some(slot) = InFlight::enter(&daemon.active, MAX_CONNECTIONS) else {
            let _ = refuse(
                &mut stream,
                &format!("the daemon is serving {MAX_CONNECTIONS} commands already; try again when they finish"),
            );
            continue;
        };
        let served = daemon.clone();
        let runner = runner.clone();
        let spawned = std::thread::Builder::new()
            .name("weft-command".into())
            .spawn(move || {
                let _slot = slot;
                if let Err(e) = serve_connection(stream, &served, runner.as_ref()) {
                    tracing::debug!(error = %e, "control connection ended");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot serve a control connection");
        }
    }
}

/// Ends a connection with a message and exit code 2, before any request is read.
fn refuse(stream: &mut UnixStream, message: &str) -> io::Result<()> {
    write_frame(stream, tag::STDERR, format!("weft: {message}\n").as_bytes())?;
    write_frame(stream, tag::EXIT, &[2])
}

/// Writes to the connection from several streams, one frame at a time.
#[derive(Clone)]
struct SharedStream(Arc<Mutex<UnixStream>>);

impl Write for SharedStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.0
            .lock()
            .map_err(|_| io::Error::other("poisoned"))?
            .flush()
    }
}

/// Why a request's working directory is refused, if it is: it must be the repository
/// or lie inside it, as the CLI's own discovery would have found this node from there.
fn outside_repository(request: &Request, root: &Path) -> Option<String> {
    let inside = request
        .cwd
        .canonicalize()
        .ok()
        .zip(root.canonicalize().ok())
        .is_some_and(|(cwd, root)| cwd.starts_with(root));
    (!inside).then(|| {
        format!(
            "working directory {} is not inside the repository {}: the daemon runs commands only for its own repository",
            request.cwd.display(),
            root.display()
        )
    })
}

fn serve_connection(
    mut stream: UnixStream,
    daemon: &Arc<Daemon>,
    runner: &dyn CommandRunner,
) -> io::Result<()> {
    let mut reader = stream.try_clone()?;
    reader.set_read_timeout(Some(Duration::from_secs(10)))?;
    let request = match read_frame(&mut reader, control::MAX_REQUEST)? {
        Some((tag::REQUEST, bytes)) => serde_json::from_slice::<Request>(&bytes)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
        _ => {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "a control connection must start with a request",
            ))
        }
    };
    if let Some(message) = outside_repository(&request, &daemon.node.layout().root) {
        return refuse(&mut stream, &message);
    }
    // Standard input may legitimately pause (a pipe feeding `--stdin-lines`).
    reader.set_read_timeout(None)?;
    let out = SharedStream(Arc::new(Mutex::new(stream)));
    // Frames carry whole writes; the buffers keep one frame per line, not per byte.
    let stdout = std::io::LineWriter::new(FrameWriter::new(out.clone(), tag::STDOUT));
    let stderr = std::io::LineWriter::new(FrameWriter::new(out.clone(), tag::STDERR));
    let stdin = BufReader::new(StdinReader::new(reader));
    let code = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runner.run(
            daemon,
            request,
            Box::new(stdin),
            Box::new(stdout),
            Box::new(stderr),
        )
    }))
    .unwrap_or_else(|_| {
        // The panic hook has logged it to node.log already.
        let mut err = out.clone();
        let _ = write_frame(
            &mut err,
            tag::STDERR,
            b"weft: internal error: the command panicked in the daemon; the message is in .weftos/logs/node.log\n",
        );
        PANICKED
    });
    daemon.appended();
    let mut out = out;
    write_frame(&mut out, tag::EXIT, &[code])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panicking_command_gives_its_slot_back() {
        let counter = Arc::new(AtomicUsize::new(0));
        let held = counter.clone();
        let joined = std::thread::spawn(move || {
            let _slot = InFlight::enter(&held, 2).expect("a free slot");
            panic!("a command panics");
        })
        .join();
        assert!(joined.is_err(), "the thread panicked");
        assert_eq!(counter.load(SeqCst), 0, "the slot was returned");
    }

    #[test]
    fn no_more_slots_than_the_limit() {
        let counter = Arc::new(AtomicUsize::new(0));
        let a = InFlight::enter(&counter, 2).expect("first");
        let _b = InFlight::enter(&counter, 2).expect("second");
        assert!(InFlight::enter(&counter, 2).is_none());
        drop(a);
        assert!(InFlight::enter(&counter, 2).is_some());
    }

    #[test]
    fn a_working_directory_outside_the_repository_is_refused() {
        let repo = tempfile::tempdir().expect("repo");
        let inside = repo.path().join("src");
        std::fs::create_dir_all(&inside).expect("mkdir");
        let other = tempfile::tempdir().expect("other");
        let request = |cwd: &Path| Request {
            args: vec!["status".into()],
            cwd: cwd.to_path_buf(),
        };
        assert_eq!(outside_repository(&request(&inside), repo.path()), None);
        assert_eq!(outside_repository(&request(repo.path()), repo.path()), None);
        assert!(outside_repository(&request(other.path()), repo.path()).is_some());
        // `..` that leaves the repository is seen through.
        assert!(outside_repository(&request(&inside.join("../..")), repo.path()).is_some());
    }
}
