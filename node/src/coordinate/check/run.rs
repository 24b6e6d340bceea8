//! One bounded child process: its output captured (bounded), killed with its whole
//! process group when the deadline passes or the check is interrupted.

use super::{interrupted, CheckError};
use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Most bytes of output kept per stream.
const MAX_OUTPUT: usize = 16 << 20;
/// Longest piece of one output line buffered at once.
const MAX_LINE: u64 = 1 << 20;
/// How often the child is polled.
const POLL: Duration = Duration::from_millis(25);
/// How long a child told to stop (SIGTERM) gets before SIGKILL.
const GRACE: Duration = Duration::from_secs(10);

/// How the child is stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stop {
    /// A toolchain: it runs in a process group of its own, killed (SIGKILL) as a whole,
    /// on timeout and after it exits (nothing it started outlives it).
    Group,
    /// Another weft process, in this one's group (a terminal's Ctrl-C reaches it too): it
    /// is sent SIGTERM, so it cleans up after itself, then SIGKILL after a grace period.
    Terminate,
}

/// How a child ended.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status (None when it was killed for the deadline).
    pub status: Option<ExitStatus>,
    /// Standard output, as lines (those `keep` accepted).
    pub stdout: Vec<String>,
    /// Standard error.
    pub stderr: String,
    /// Whether the deadline killed it.
    pub timed_out: bool,
}

impl Finished {
    /// Whether it exited with status 0.
    pub fn success(&self) -> bool {
        self.status.is_some_and(|s| s.success())
    }
}

type Lines = Arc<Mutex<(Vec<String>, usize)>>;

fn collect(stream: impl Read + Send + 'static, keep: fn(&str) -> bool) -> (Lines, JoinHandle<()>) {
    let lines: Lines = Arc::new(Mutex::new((Vec::new(), 0)));
    let out = lines.clone();
    let handle = std::thread::spawn(move || {
        let mut reader = BufReader::new(stream);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            // A line is read at most MAX_LINE at a time: a tool printing without end
            // never grows this buffer beyond that.
            match (&mut reader).take(MAX_LINE).read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
            let line = String::from_utf8_lossy(&buf);
            let line = line.trim_end_matches(['\n', '\r']);
            if !keep(line) {
                continue;
            }
            let mut guard = out.lock().expect("output lock");
            if guard.1 + line.len() > MAX_OUTPUT {
                continue;
            }
            guard.1 += line.len();
            guard.0.push(line.to_string());
        }
    });
    (lines, handle)
}

fn take(lines: &Lines) -> Vec<String> {
    std::mem::take(&mut lines.lock().expect("output lock").0)
}

/// Every line.
pub fn all(_: &str) -> bool {
    true
}

/// Runs `command` until it exits or `deadline` passes. Standard input is closed.
pub fn run(
    mut command: Command,
    deadline: Instant,
    stop: Stop,
    keep: fn(&str) -> bool,
) -> Result<Finished, CheckError> {
    use std::os::unix::process::CommandExt;
    let program = command.get_program().to_string_lossy().into_owned();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if stop == Stop::Group {
        command.process_group(0);
    }
    if super::interrupted() {
        return Err(CheckError::Interrupted);
    }
    let mut child = command
        .spawn()
        .map_err(|source| CheckError::Spawn { program, source })?;
    let (out, out_thread) = collect(child.stdout.take().expect("piped"), keep);
    let (err, err_thread) = collect(child.stderr.take().expect("piped"), all);
    let mut timed_out = false;
    let mut was_interrupted = false;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(_) => break None,
        }
        if interrupted() {
            was_interrupted = true;
            stop_child(&mut child, stop);
            break None;
        }
        if Instant::now() >= deadline {
            timed_out = true;
            stop_child(&mut child, stop);
            break None;
        }
        std::thread::sleep(POLL);
    };
    if stop == Stop::Group {
        // Whatever it started and left behind goes with it.
        kill_group(&child);
    }
    // The pipes close once every holder is gone; a grandchild that escaped the group
    // must not hold this up for long.
    let until = Instant::now() + Duration::from_secs(2);
    while !(out_thread.is_finished() && err_thread.is_finished()) && Instant::now() < until {
        std::thread::sleep(POLL);
    }
    if was_interrupted {
        return Err(CheckError::Interrupted);
    }
    Ok(Finished {
        status,
        stdout: take(&out),
        stderr: take(&err).join("\n"),
        timed_out,
    })
}

fn kill_group(child: &Child) {
    let pid = rustix::process::Pid::from_child(child);
    let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
}

fn stop_child(child: &mut Child, stop: Stop) {
    match stop {
        Stop::Group => {
            kill_group(child);
        }
        Stop::Terminate => {
            let pid = rustix::process::Pid::from_child(child);
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::TERM);
            let until = Instant::now() + GRACE;
            while Instant::now() < until {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(POLL);
            }
            let _ = child.kill();
        }
    }
    let _ = child.wait();
}

/// The first line a program prints for `args` (its version), within a few seconds.
pub fn version(program: &str, args: &[&str], dir: &std::path::Path) -> Option<String> {
    let mut cmd = Command::new(program);
    cmd.args(args).current_dir(dir);
    let done = run(
        cmd,
        Instant::now() + Duration::from_secs(30),
        Stop::Group,
        all,
    )
    .ok()?;
    let text = if done.stdout.iter().any(|l| !l.trim().is_empty()) {
        done.stdout.join("\n")
    } else {
        done.stderr
    };
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_without_end_is_held_a_piece_at_a_time() {
        let mut cmd = Command::new("sh");
        cmd.args(["-c", "head -c 3000000 /dev/zero | tr '\\0' x"]);
        let done = run(
            cmd,
            Instant::now() + Duration::from_secs(60),
            Stop::Group,
            all,
        )
        .expect("sh runs");
        let total: usize = done.stdout.iter().map(String::len).sum();
        assert_eq!(total, 3_000_000, "all of it kept, below the output bound");
        assert!(
            done.stdout.iter().all(|l| l.len() as u64 <= MAX_LINE),
            "a piece longer than {MAX_LINE} bytes was buffered"
        );
    }
}
