//! supervisor's event types (`supervisor.events.EventTypes`), with their hierarchy: a listener
//! subscribed to an abstract type (`PROCESS_STATE`) gets every event of its family
//! (`PROCESS_STATE_RUNNING`), and `EVENT` gets everything.

use std::fmt;

use crate::state::{ProcessState, SupervisorState};

/// A process's output stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Channel {
    Stdout,
    Stderr,
}

impl Channel {
    pub fn name(self) -> &'static str {
        match self {
            Channel::Stdout => "stdout",
            Channel::Stderr => "stderr",
        }
    }
}

/// `TICK_5`, `TICK_60`, `TICK_3600`: the period in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TickPeriod {
    Five,
    Sixty,
    Hour,
}

impl TickPeriod {
    pub const ALL: [TickPeriod; 3] = [TickPeriod::Five, TickPeriod::Sixty, TickPeriod::Hour];

    pub fn seconds(self) -> u64 {
        match self {
            TickPeriod::Five => 5,
            TickPeriod::Sixty => 60,
            TickPeriod::Hour => 3600,
        }
    }
}

/// `PROCESS_GROUP_ADDED` / `PROCESS_GROUP_REMOVED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupChange {
    Added,
    Removed,
}

/// An event type. `None` inside a family is the family's abstract type (`PROCESS_STATE`), which
/// only subscriptions name; events themselves are always concrete.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventType {
    /// `EVENT`: every event.
    Event,
    ProcessState(Option<ProcessState>),
    ProcessLog(Option<Channel>),
    ProcessCommunication(Option<Channel>),
    RemoteCommunication,
    /// `SUPERVISOR_STATE_CHANGE_RUNNING` / `_STOPPING` (the daemon's RUNNING and SHUTDOWN).
    SupervisorStateChange(Option<SupervisorState>),
    Tick(Option<TickPeriod>),
    ProcessGroup(Option<GroupChange>),
}

/// Every type supervisor knows, with its name, in `EventTypes`' order.
const NAMES: &[(&str, EventType)] = {
    use crate::state::ProcessState as P;
    use EventType::*;
    &[
        ("EVENT", Event),
        ("PROCESS_STATE", ProcessState(None)),
        ("PROCESS_STATE_STOPPED", ProcessState(Some(P::Stopped))),
        ("PROCESS_STATE_EXITED", ProcessState(Some(P::Exited))),
        ("PROCESS_STATE_STARTING", ProcessState(Some(P::Starting))),
        ("PROCESS_STATE_STOPPING", ProcessState(Some(P::Stopping))),
        ("PROCESS_STATE_BACKOFF", ProcessState(Some(P::Backoff))),
        ("PROCESS_STATE_FATAL", ProcessState(Some(P::Fatal))),
        ("PROCESS_STATE_RUNNING", ProcessState(Some(P::Running))),
        ("PROCESS_STATE_UNKNOWN", ProcessState(Some(P::Unknown))),
        ("PROCESS_COMMUNICATION", ProcessCommunication(None)),
        (
            "PROCESS_COMMUNICATION_STDOUT",
            ProcessCommunication(Some(Channel::Stdout)),
        ),
        (
            "PROCESS_COMMUNICATION_STDERR",
            ProcessCommunication(Some(Channel::Stderr)),
        ),
        ("PROCESS_LOG", ProcessLog(None)),
        ("PROCESS_LOG_STDOUT", ProcessLog(Some(Channel::Stdout))),
        ("PROCESS_LOG_STDERR", ProcessLog(Some(Channel::Stderr))),
        ("REMOTE_COMMUNICATION", RemoteCommunication),
        ("SUPERVISOR_STATE_CHANGE", SupervisorStateChange(None)),
        (
            "SUPERVISOR_STATE_CHANGE_RUNNING",
            SupervisorStateChange(Some(SupervisorState::Running)),
        ),
        (
            "SUPERVISOR_STATE_CHANGE_STOPPING",
            SupervisorStateChange(Some(SupervisorState::Shutdown)),
        ),
        ("TICK", Tick(None)),
        ("TICK_5", Tick(Some(TickPeriod::Five))),
        ("TICK_60", Tick(Some(TickPeriod::Sixty))),
        ("TICK_3600", Tick(Some(TickPeriod::Hour))),
        ("PROCESS_GROUP", ProcessGroup(None)),
        (
            "PROCESS_GROUP_ADDED",
            ProcessGroup(Some(GroupChange::Added)),
        ),
        (
            "PROCESS_GROUP_REMOVED",
            ProcessGroup(Some(GroupChange::Removed)),
        ),
    ]
};

impl EventType {
    /// Every type supervisor knows, in `EventTypes`' order.
    pub fn all() -> impl Iterator<Item = EventType> {
        NAMES.iter().map(|(_, t)| *t)
    }

    /// The type a name in `events=` stands for.
    pub fn parse(name: &str) -> Option<EventType> {
        NAMES.iter().find(|(n, _)| *n == name).map(|(_, t)| *t)
    }

    /// The name supervisor gives the type (`eventname:` in event headers).
    pub fn name(self) -> &'static str {
        NAMES
            .iter()
            .find(|(_, t)| *t == self)
            .map_or("EVENT", |(n, _)| n)
    }

    /// Whether an event of this type reaches a subscriber of `parent` (Python's isinstance).
    pub fn is_a(self, parent: EventType) -> bool {
        use EventType::*;
        match (self, parent) {
            (_, Event) => true,
            (ProcessState(_), ProcessState(None))
            | (ProcessLog(_), ProcessLog(None))
            | (ProcessCommunication(_), ProcessCommunication(None))
            | (SupervisorStateChange(_), SupervisorStateChange(None))
            | (Tick(_), Tick(None))
            | (ProcessGroup(_), ProcessGroup(None)) => true,
            (a, b) => a == b,
        }
    }

    /// An abstract type: a family or `EVENT`; no event is of such a type itself.
    pub fn is_abstract(self) -> bool {
        use EventType::*;
        matches!(
            self,
            Event
                | ProcessState(None)
                | ProcessLog(None)
                | ProcessCommunication(None)
                | SupervisorStateChange(None)
                | Tick(None)
                | ProcessGroup(None)
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        assert_eq!(NAMES.len(), 27);
        for (name, t) in NAMES {
            assert_eq!(EventType::parse(name), Some(*t), "{name}");
            assert_eq!(t.name(), *name);
        }
        assert_eq!(EventType::parse("PROCESS_STATE_NONSENSE"), None);
        assert_eq!(EventType::parse("process_state"), None);
    }

    #[test]
    fn families_match_like_isinstance() {
        let running = EventType::ProcessState(Some(ProcessState::Running));
        assert!(running.is_a(EventType::ProcessState(None)));
        assert!(running.is_a(EventType::Event));
        assert!(running.is_a(running));
        assert!(!running.is_a(EventType::ProcessState(Some(ProcessState::Fatal))));
        assert!(!running.is_a(EventType::Tick(None)));
        let tick = EventType::Tick(Some(TickPeriod::Sixty));
        assert!(tick.is_a(EventType::Tick(None)));
        assert!(!tick.is_a(EventType::Tick(Some(TickPeriod::Five))));
        assert!(EventType::RemoteCommunication.is_a(EventType::RemoteCommunication));
        // Every concrete type is in exactly one family besides EVENT (REMOTE_COMMUNICATION is
        // its own).
        for t in EventType::all().filter(|t| !t.is_abstract()) {
            let parents = EventType::all()
                .filter(|p| p.is_abstract() && *p != EventType::Event && t.is_a(*p))
                .count();
            let expected = usize::from(t != EventType::RemoteCommunication);
            assert_eq!(parents, expected, "{t}");
        }
        assert_eq!(EventType::all().filter(|t| t.is_abstract()).count(), 7);
    }
}
