//! Facts the supervisor publishes: every process state change, and the daemon's own state.
//! Subscribers (servers, event listeners, tests) get them through a broadcast channel; one that
//! lags re-syncs with a status request.

use std::time::SystemTime;

use shared::{ProcessState, SupervisorState};
use tokio::sync::broadcast;

pub mod protocol;

#[derive(Debug, Clone)]
pub enum Event {
    /// A process changed state (`PROCESS_STATE_*` in supervisor's terms).
    ProcessStateChanged {
        name: String,
        group: String,
        from: ProcessState,
        to: ProcessState,
        pid: i32,
        /// The retry count supervisor reports in STARTING/BACKOFF events.
        tries: u64,
        /// For EXITED: whether the exit status was expected.
        expected: Option<bool>,
        at: SystemTime,
    },
    /// The daemon changed state (`SUPERVISOR_STATE_CHANGE_*`).
    SupervisorStateChanged { to: SupervisorState },
    /// A client sent an event for listeners (`sendRemoteCommEvent`, `REMOTE_COMMUNICATION`).
    RemoteCommunication { kind: String, data: String },
}

/// Events a subscriber may fall behind before it lags. Every slot is allocated up front (about
/// 100 bytes each), so this is a memory cost of the idle daemon; a burst larger than this
/// (hundreds of programs changing state at once) only affects a subscriber that is not reading.
const CAPACITY: usize = 1024;

pub fn channel() -> broadcast::Sender<Event> {
    broadcast::channel(CAPACITY).0
}
