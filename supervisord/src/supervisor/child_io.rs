//! What a child's standard descriptors are connected to, decided in one place by the process's
//! kind, and what the daemon does with its ends once the child exists.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use shared::config::{ProcessConfig, ProcessKind};
use shared::events::Channel;

use crate::events::Bus;
use crate::events::bus::ListenerId;
use crate::events::output::Route;
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

/// Something wants this stream: a log target, its events, or capture mode.
fn wanted(cfg: &shared::config::LogConfig, sink: &SinkHandle) -> bool {
    sink.captured || cfg.events_enabled || cfg.capture_maxbytes > 0
}

/// `socket`: an fcgi program's share of its group's socket.
pub(super) fn plan(
    cfg: &ProcessConfig,
    stdout: &SinkHandle,
    stderr: &SinkHandle,
    socket: Option<OwnedFd>,
) -> Plan {
    let listener = matches!(cfg.kind, ProcessKind::EventListener(_));
    // A listener's stdout is its side of the protocol: always read.
    let stdout = if listener || wanted(&cfg.stdout, stdout) {
        Output::Pipe
    } else {
        Output::Null
    };
    // The config refuses redirect_stderr for a listener: stderr in its stdout would break the
    // protocol.
    let stderr = if cfg.redirect_stderr {
        ErrOutput::Stdout
    } else if wanted(&cfg.stderr, stderr) {
        ErrOutput::Pipe
    } else {
        ErrOutput::Null
    };
    let stdin = match (&cfg.kind, socket) {
        // The group's listening socket, which the program accepts connections on.
        (ProcessKind::Fcgi(_), Some(socket)) => Stdin::Fd(socket),
        (ProcessKind::Fcgi(_), None) => Stdin::Null,
        (ProcessKind::Program | ProcessKind::EventListener(_), _) => Stdin::Pipe,
    };
    Plan {
        stdin,
        stdout,
        stderr,
    }
}

/// Starts reading a new child's output into its sinks and events (tracked in `pumps`) and
/// returns the daemon's end of its stdin, made non-blocking: a client's write must never block
/// the actor. A listener's stdin goes to its pool instead.
pub(super) fn wire(
    cfg: &ProcessConfig,
    spawned: Spawned,
    stdout: &SinkHandle,
    stderr: &SinkHandle,
    pumps: &Pumps,
    bus: &Bus,
) -> Option<OwnedFd> {
    let listener = match cfg.kind {
        ProcessKind::EventListener(_) => Some(ListenerId {
            pool: Arc::from(cfg.group.as_str()),
            name: Arc::from(cfg.name.as_str()),
            pid: spawned.pid,
        }),
        _ => None,
    };
    // The pool learns of the process before its first output can arrive.
    let stdin = match (&listener, spawned.stdin) {
        (Some(id), Some(fd)) => {
            bus.attach(id.clone(), fd);
            None
        }
        (_, stdin) => stdin,
    };
    let events = |channel: Channel, log: &shared::config::LogConfig| {
        Route::events(
            bus,
            &cfg.name,
            &cfg.group,
            channel,
            log.events_enabled,
            log.capture_maxbytes,
            cfg.strip_ansi,
        )
    };
    let stdout_route = match listener {
        Some(id) => Route::Listener {
            bus: bus.clone(),
            id,
        },
        None => events(Channel::Stdout, &cfg.stdout),
    };
    let streams = [
        (spawned.stdout, stdout, stdout_route),
        (spawned.stderr, stderr, events(Channel::Stderr, &cfg.stderr)),
    ];
    for (fd, sink, route) in streams {
        if let Some(fd) = fd {
            capture::pump(fd, sink.sink.clone(), spawned.pid, pumps, route);
        }
    }
    let stdin = stdin?;
    let flags = nix::fcntl::fcntl(&stdin, nix::fcntl::FcntlArg::F_GETFL)
        .map(nix::fcntl::OFlag::from_bits_truncate)
        .unwrap_or(nix::fcntl::OFlag::empty());
    let _ = nix::fcntl::fcntl(
        &stdin,
        nix::fcntl::FcntlArg::F_SETFL(flags | nix::fcntl::OFlag::O_NONBLOCK),
    );
    Some(stdin)
}
