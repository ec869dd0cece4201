//! Sending signals to a child or its whole process group.

use nix::errno::Errno;
use nix::sys::signal::{Signal as NixSignal, kill};
use nix::unistd::Pid;
use shared::signals::Signal;

/// kill(2) with any signal number the kernel takes.
fn raw_kill(target: i32, sig: i32) -> Result<(), Errno> {
    // SAFETY: kill(2) takes plain integers and touches no memory of ours.
    #[allow(unsafe_code)]
    let r = unsafe { libc::kill(target, sig) };
    Errno::result(r).map(drop)
}

#[derive(Debug, PartialEq, Eq)]
pub enum KillError {
    /// The process is already gone (it will be reaped as usual).
    Gone,
    Other(Errno),
}

/// Sends `sig` to `pid`, or to its process group when `group` is set.
pub fn send(pid: i32, sig: Signal, group: bool) -> Result<(), KillError> {
    // kill(0) and kill(-1) would reach the daemon's own group, or every process it may signal.
    if pid <= 1 {
        return Err(KillError::Gone);
    }
    let target = if group { -pid } else { pid };
    let res = match NixSignal::try_from(sig.number()) {
        Ok(s) => kill(Pid::from_raw(target), s),
        // Real-time signals and 0 (a liveness check) have no nix variant.
        Err(_) => raw_kill(target, sig.number()),
    };
    match res {
        Ok(()) => Ok(()),
        Err(Errno::ESRCH) => Err(KillError::Gone),
        Err(e) => Err(KillError::Other(e)),
    }
}
