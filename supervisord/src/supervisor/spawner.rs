//! The seam between the actor and the operating system: starting a child and signalling it.
//! The daemon uses [`OsSpawner`]; the actor's tests use a fake that hands out pids, records
//! what it was asked, and lets them decide when each child "exits".

use shared::signals::Signal;

use crate::process::kill::{self, KillError};
use crate::process::spawn::{self, SpawnError, SpawnSpec, Spawned};

pub trait Spawner: Send {
    /// Starts a child as `spec` says.
    fn spawn(&mut self, spec: SpawnSpec) -> Result<Spawned, SpawnError>;
    /// Sends `signal` to `pid`, or to its process group when `group` is set.
    fn signal(&mut self, pid: i32, signal: Signal, group: bool) -> Result<(), KillError>;
}

/// The real thing: fork and exec, kill(2).
pub struct OsSpawner;

impl Spawner for OsSpawner {
    fn spawn(&mut self, spec: SpawnSpec) -> Result<Spawned, SpawnError> {
        spawn::spawn(spec)
    }

    fn signal(&mut self, pid: i32, signal: Signal, group: bool) -> Result<(), KillError> {
        kill::send(pid, signal, group)
    }
}
