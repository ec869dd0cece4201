//! What a child's standard descriptors are connected to, decided in one place by the process's
//! kind, and what the daemon does with its ends once the child exists.

use std::os::fd::OwnedFd;

use shared::config::{ProcessConfig, ProcessKind};
use tracing::error;

use crate::logging::capture::{self, Pumps};
use crate::logging::sink::SinkHandle;
use crate::process::spawn::{ErrOutput, Output, Spawned, Stdin};

/// How the three descriptors are connected.
#[derive(Debug)]
pub(super) struct Plan {
    pub(super) stdin: Stdin,
    pub(super) stdout: Output,
    pub(super) stderr: ErrOutput,
}

/// `capture_*`: something wants that stream (a log target).
pub(super) fn plan(cfg: &ProcessConfig, capture_stdout: bool, capture_stderr: bool) -> Plan {
    let stdout = if capture_stdout {
        Output::Pipe
    } else {
        Output::Null
    };
    let stderr = if cfg.redirect_stderr {
        ErrOutput::Stdout
    } else if capture_stderr {
        ErrOutput::Pipe
    } else {
        ErrOutput::Null
    };
    match &cfg.kind {
        // Event listeners and fcgi programs are connected as programs until the event system
        // (its protocol on their stdin and stdout) and fcgi sockets (as their stdin) exist.
        ProcessKind::Program | ProcessKind::EventListener(_) | ProcessKind::Fcgi(_) => Plan {
            stdin: Stdin::Pipe,
            stdout,
            stderr,
        },
    }
}

/// Starts reading a new child's output into its sinks (tracked in `pumps`) and returns the
/// daemon's end of its stdin, made non-blocking: a client's write must never block the actor.
pub(super) fn wire(
    name: &str,
    spawned: Spawned,
    stdout: &SinkHandle,
    stderr: &SinkHandle,
    pumps: &Pumps,
) -> Option<OwnedFd> {
    for (fd, sink) in [(spawned.stdout, stdout), (spawned.stderr, stderr)] {
        if let Some(fd) = fd
            && let Err(e) = capture::pump(fd, sink.sink.clone(), spawned.pid, pumps)
        {
            error!("can't read output of '{name}': {e}");
        }
    }
    let stdin = spawned.stdin?;
    let flags = nix::fcntl::fcntl(&stdin, nix::fcntl::FcntlArg::F_GETFL)
        .map(nix::fcntl::OFlag::from_bits_truncate)
        .unwrap_or(nix::fcntl::OFlag::empty());
    let _ = nix::fcntl::fcntl(
        &stdin,
        nix::fcntl::FcntlArg::F_SETFL(flags | nix::fcntl::OFlag::O_NONBLOCK),
    );
    Some(stdin)
}
