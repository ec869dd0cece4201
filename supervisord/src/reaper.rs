//! The one reaper. On SIGCHLD it collects every exited child with `waitpid(-1, WNOHANG)` and
//! hands each (pid, status) to the supervisor, which routes it by pid; pids it does not know are
//! orphans re-parented to us (when we are PID 1) and are only logged. Nothing else in the daemon
//! waits for children, so no exit status is ever lost to a race.

use nix::errno::Errno;
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;

/// A reaped child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exit {
    pub pid: i32,
    pub status: WaitStatus,
}

/// Installs the SIGCHLD handler now (so no exit is missed) and returns the task that reaps.
pub fn start(exits: mpsc::UnboundedSender<Exit>) -> std::io::Result<impl Future<Output = ()>> {
    let mut sigchld = signal(SignalKind::child())?;
    Ok(async move {
        loop {
            // Children may have exited before the handler existed, and one SIGCHLD can stand
            // for many exits: always drain completely.
            loop {
                match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
                    Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
                    Ok(status) => {
                        if let Some(pid) = status.pid()
                            && exits
                                .send(Exit {
                                    pid: pid.as_raw(),
                                    status,
                                })
                                .is_err()
                        {
                            return;
                        }
                    }
                    Err(Errno::EINTR) => {}
                    Err(e) => {
                        tracing::error!("waitpid failed: {e}");
                        break;
                    }
                }
            }
            if sigchld.recv().await.is_none() {
                return;
            }
            tracing::debug!("received SIGCHLD indicating a child quit");
        }
    })
}

/// supervisor's `decode_wait_status`: the exit status (−1 for a signal) and the text used in
/// `exited: x (…)` messages.
pub fn describe(status: WaitStatus) -> (i32, String) {
    match status {
        WaitStatus::Exited(_, code) => (code, format!("exit status {code}")),
        WaitStatus::Signaled(_, sig, core) => {
            let core = if core { " (core dumped)" } else { "" };
            (-1, format!("terminated by {}{core}", sig.as_str()))
        }
        other => (-1, format!("unknown termination cause {other:?}")),
    }
}
