//! Sending signals to a child or its whole process group.

use nix::errno::Errno;
use nix::sys::signal::{Signal as NixSignal, kill};
use nix::unistd::Pid;
use shared::signals::Signal;

#[derive(Debug, PartialEq, Eq)]
pub enum KillError {
    /// The process is already gone (it will be reaped as usual).
    Gone,
    Other(Errno),
}

/// Sends `sig` to `pid`, or to its process group when `group` is set.
pub fn send(pid: i32, sig: Signal, group: bool) -> Result<(), KillError> {
    let target = if group { -pid } else { pid };
    let sig = NixSignal::try_from(sig.number());
    let res = match sig {
        Ok(s) => kill(Pid::from_raw(target), s),
        // Real-time signals have no nix variant; they are refused rather than mis-sent.
        Err(e) => Err(e),
    };
    match res {
        Ok(()) => Ok(()),
        Err(Errno::ESRCH) => Err(KillError::Gone),
        Err(e) => Err(KillError::Other(e)),
    }
}
