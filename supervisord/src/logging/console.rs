//! The daemon's own stdout and stderr as outputs (`/dev/stdout` log targets, the main log's
//! echo in the foreground). Each is written by its own [`Writer`] thread, so a terminal that is
//! paused or a container log driver that stops reading stalls nobody: what it can't take in
//! time is dropped, counted and reported.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::{Arc, OnceLock};

use super::writer::{Target, Writer};

/// Bytes waiting for a slow console before more is dropped.
const CAPACITY: usize = 1 << 20;

/// The daemon's stdout or stderr, written with write(2) on its descriptor: std's buffer and
/// lock are left to the rest of the program.
pub enum Console {
    Stdout,
    Stderr,
}

impl Target for Console {
    fn write(&mut self, data: &[u8]) -> io::Result<()> {
        match self {
            Console::Stdout => write_all(std::io::stdout().as_fd(), data),
            Console::Stderr => write_all(std::io::stderr().as_fd(), data),
        }
    }
}

fn write_all(fd: BorrowedFd<'_>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        match nix::unistd::write(fd, data) {
            Ok(n) => data = &data[n..],
            Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

static STDOUT: OnceLock<Option<Writer<Console>>> = OnceLock::new();
static STDERR: OnceLock<Option<Writer<Console>>> = OnceLock::new();

/// The daemon's stdout, started on first use (`None` if no thread could be started: then
/// output to it is lost).
pub fn stdout() -> Option<&'static Writer<Console>> {
    STDOUT
        .get_or_init(|| {
            Writer::start("the daemon's standard output", Console::Stdout, CAPACITY).ok()
        })
        .as_ref()
}

pub fn stderr() -> Option<&'static Writer<Console>> {
    STDERR
        .get_or_init(|| {
            Writer::start("the daemon's standard error", Console::Stderr, CAPACITY).ok()
        })
        .as_ref()
}

/// Writes to the daemon's stdout (or stderr), never waiting for it.
pub fn write(to_stderr: bool, from: &Arc<str>, data: &[u8]) {
    let w = if to_stderr { stderr() } else { stdout() };
    if let Some(w) = w {
        w.write(from, data);
    }
}

/// At exit: gives each that was used a moment to take what is queued.
pub fn flush(limit: std::time::Duration) {
    for w in [STDOUT.get(), STDERR.get()].into_iter().flatten().flatten() {
        w.flush(limit);
    }
}
