//! supervisor's event system. Everything that happens (process state changes, the daemon's own
//! state, output when `*_events_enabled`, captured communication, remote events, group changes,
//! ticks) is an [`Event`] emitted on the [`Bus`]: subscribers (gRPC, the web GUI) get it through a
//! broadcast channel, and the [`dispatcher`] hands it to the event listener pools that subscribe
//! to its type, speaking supervisor's listener protocol ([`protocol`]) to their processes.

use std::sync::Arc;
use std::time::SystemTime;

use shared::events::{Channel, EventType, GroupChange, TickPeriod};
use shared::{ProcessState, SupervisorState};

pub mod bus;
pub mod capture;
pub mod dispatcher;
pub mod handler;
pub mod output;
pub mod pool;
pub mod protocol;
pub mod tick;

pub use bus::Bus;

#[derive(Debug, Clone)]
pub enum Event {
    /// A process changed state (`PROCESS_STATE_*` in supervisor's terms).
    ProcessStateChanged {
        name: String,
        group: String,
        from: ProcessState,
        to: ProcessState,
        /// The process's pid; for EXITED and STOPPED, the pid of the process that ended.
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
    /// A process wrote output, and its `*_events_enabled` is set (`PROCESS_LOG_*`).
    ProcessLog {
        name: Arc<str>,
        group: Arc<str>,
        pid: i32,
        channel: Channel,
        data: Arc<[u8]>,
    },
    /// A process wrote text between `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->`
    /// (`PROCESS_COMMUNICATION_*`).
    ProcessCommunication {
        name: Arc<str>,
        group: Arc<str>,
        pid: i32,
        channel: Channel,
        data: Arc<[u8]>,
    },
    /// A group was added or removed (`PROCESS_GROUP_ADDED`/`_REMOVED`).
    ProcessGroup { group: String, change: GroupChange },
    /// A wall-clock time slice began (`TICK_5`, `TICK_60`, `TICK_3600`); `when` is its start.
    Tick { period: TickPeriod, when: u64 },
}

impl Event {
    /// The concrete type listeners subscribe to.
    pub fn event_type(&self) -> EventType {
        match self {
            Event::ProcessStateChanged { to, .. } => EventType::ProcessState(Some(*to)),
            Event::SupervisorStateChanged { to } => {
                EventType::SupervisorStateChange(Some(match to {
                    SupervisorState::Running => SupervisorState::Running,
                    // supervisor sends STOPPING for a shutdown and for a restart alike.
                    _ => SupervisorState::Shutdown,
                }))
            }
            Event::RemoteCommunication { .. } => EventType::RemoteCommunication,
            Event::ProcessLog { channel, .. } => EventType::ProcessLog(Some(*channel)),
            Event::ProcessCommunication { channel, .. } => {
                EventType::ProcessCommunication(Some(*channel))
            }
            Event::ProcessGroup { change, .. } => EventType::ProcessGroup(Some(*change)),
            Event::Tick { period, .. } => EventType::Tick(Some(*period)),
        }
    }

    /// The payload supervisor writes after the envelope (`events.py`'s `payload()`).
    pub fn payload(&self) -> String {
        match self {
            Event::ProcessStateChanged {
                name,
                group,
                from,
                to,
                pid,
                tries,
                expected,
                ..
            } => protocol::state_payload(
                name,
                group,
                *from,
                *to,
                *tries,
                expected.unwrap_or(true),
                *pid,
            ),
            Event::SupervisorStateChanged { .. } => String::new(),
            Event::RemoteCommunication { kind, data } => format!("type:{kind}\n{data}"),
            Event::ProcessLog {
                name,
                group,
                pid,
                channel,
                data,
            } => format!(
                "processname:{name} groupname:{group} pid:{pid} channel:{}\n{}",
                channel.name(),
                python_text(data)
            ),
            Event::ProcessCommunication {
                name,
                group,
                pid,
                data,
                ..
            } => format!(
                "processname:{name} groupname:{group} pid:{pid}\n{}",
                python_text(data)
            ),
            Event::ProcessGroup { group, .. } => format!("groupname:{group}\n"),
            Event::Tick { when, .. } => format!("when:{when}"),
        }
    }
}

/// Output as supervisor puts it in a payload: the text, or `Undecodable: b'…'`.
pub fn python_text(data: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(data) {
        Ok(s) => s.into(),
        Err(_) => format!("Undecodable: {}", protocol::python_bytes_repr(data)).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_as_supervisor_writes_them() {
        let name: Arc<str> = Arc::from("web");
        let group: Arc<str> = Arc::from("g");
        let cases = [
            (
                Event::ProcessLog {
                    name: name.clone(),
                    group: group.clone(),
                    pid: 7,
                    channel: Channel::Stderr,
                    data: Arc::from(&b"oops\n"[..]),
                },
                "PROCESS_LOG_STDERR",
                "processname:web groupname:g pid:7 channel:stderr\noops\n",
            ),
            (
                Event::ProcessCommunication {
                    name,
                    group,
                    pid: 7,
                    channel: Channel::Stdout,
                    data: Arc::from(&b"\xff"[..]),
                },
                "PROCESS_COMMUNICATION_STDOUT",
                "processname:web groupname:g pid:7\nUndecodable: b'\\xff'",
            ),
            (
                Event::RemoteCommunication {
                    kind: "t".into(),
                    data: "d".into(),
                },
                "REMOTE_COMMUNICATION",
                "type:t\nd",
            ),
            (
                Event::SupervisorStateChanged {
                    to: SupervisorState::Restarting,
                },
                "SUPERVISOR_STATE_CHANGE_STOPPING",
                "",
            ),
            (
                Event::ProcessGroup {
                    group: "g".into(),
                    change: GroupChange::Removed,
                },
                "PROCESS_GROUP_REMOVED",
                "groupname:g\n",
            ),
            (
                Event::Tick {
                    period: TickPeriod::Sixty,
                    when: 1_700_000_040,
                },
                "TICK_60",
                "when:1700000040",
            ),
        ];
        for (event, name, payload) in cases {
            assert_eq!(event.event_type().name(), name);
            assert_eq!(event.payload(), payload);
        }
    }
}
