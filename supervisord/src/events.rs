//! Facts the supervisor publishes: every process state change, and the daemon's own state.
//! Subscribers (servers, event listeners, tests) get them through a broadcast channel; one that
//! lags re-syncs with a status request.

use std::time::SystemTime;

use shared::{ProcessState, SupervisorState};
use tokio::sync::broadcast;

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
}

/// Big enough that a burst (1000 processes starting) does not make subscribers lag.
const CAPACITY: usize = 4096;

pub fn channel() -> broadcast::Sender<Event> {
    broadcast::channel(CAPACITY).0
}
