//! One event listener pool (supervisor's `EventListenerPool`): the events it subscribes to, its
//! buffer, and the protocol state of each of its processes. Pure: inputs are events, process
//! state changes and listener output; what must be written to a listener, printed or logged
//! comes back as [`Effect`]s, which the dispatcher applies.

use std::collections::VecDeque;
use std::sync::Arc;

use shared::ProcessState;
use shared::config::ResultHandler;
use shared::events::EventType;

use super::handler::{self, Outcome};
use super::protocol::{Envelope, Listener, ListenerState, Step, envelope};

/// An event as a pool holds it: rendered once, shared by every pool that takes it.
#[derive(Debug, Clone)]
pub struct Rendered {
    /// Global: one per event that any pool took.
    pub serial: u64,
    pub name: &'static str,
    pub payload: Arc<str>,
}

#[derive(Debug, Clone)]
struct Queued {
    event: Rendered,
    pool_serial: u64,
}

/// What the dispatcher must do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write `data` to the stdin of the listener process `process`.
    Send { process: Arc<str>, data: String },
    /// A result handler's output for the daemon's stdout.
    Print(Vec<u8>),
    /// A line for the main log.
    Log(Level, String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Debug,
    Warn,
    Error,
}

/// Counts since the pool was created (for /metrics).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// Events the pool took (its subscriptions matched).
    pub emitted: u64,
    /// Events written to a listener (a redelivery counts again).
    pub delivered: u64,
    /// Results that meant "processed".
    pub processed: u64,
    /// Events sent again: rejected, or their listener died or broke the protocol.
    pub rejected: u64,
    /// Events dropped from a full buffer.
    pub dropped: u64,
}

#[derive(Debug)]
struct Member {
    name: Arc<str>,
    /// The process is RUNNING (events go only to RUNNING, READY listeners).
    running: bool,
    /// The process's pid (0: none); output of any other pid is stale.
    pid: i32,
    /// That process exited; its output may still be coming.
    ended: bool,
    /// Its output ended.
    eof: bool,
    protocol: Listener,
    /// The event it was sent and has not answered.
    event: Option<Queued>,
}

/// A pool's listener, as shown to clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub name: String,
    pub state: ListenerState,
    /// The serial of the event it is processing.
    pub event: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolView {
    pub name: String,
    pub events: Vec<String>,
    pub buffered: usize,
    pub buffer_size: usize,
    pub listeners: Vec<MemberView>,
    pub counters: Counters,
}

#[derive(Debug)]
pub struct Pool {
    name: Arc<str>,
    subscriptions: Vec<EventType>,
    buffer_size: usize,
    handler: ResultHandler,
    buffer: VecDeque<Queued>,
    /// The last pool serial given (none yet: the first is 0, as supervisor's).
    serial: Option<u64>,
    members: Vec<Member>,
    counters: Counters,
}

impl Pool {
    /// A pool named `name` (its group) of the processes `members`, in their config order.
    pub fn new(
        name: &str,
        subscriptions: Vec<EventType>,
        buffer_size: usize,
        handler: ResultHandler,
        members: impl IntoIterator<Item = String>,
    ) -> Pool {
        Pool {
            name: Arc::from(name),
            subscriptions,
            buffer_size: buffer_size.max(1),
            handler,
            buffer: VecDeque::new(),
            serial: None,
            members: members
                .into_iter()
                .map(|n| Member {
                    name: Arc::from(n),
                    running: false,
                    pid: 0,
                    ended: false,
                    eof: false,
                    protocol: Listener::default(),
                    event: None,
                })
                .collect(),
            counters: Counters::default(),
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn wants(&self, t: EventType) -> bool {
        self.subscriptions.iter().any(|s| t.is_a(*s))
    }

    /// A new event this pool subscribes to, at the end of its buffer.
    pub fn accept(&mut self, event: Rendered) -> Vec<Effect> {
        let pool_serial = self.serial.map_or(0, |s| s.wrapping_add(1));
        self.serial = Some(pool_serial);
        self.counters.emitted += 1;
        let mut effects = Vec::new();
        self.buffer_event(Queued { event, pool_serial }, false, &mut effects);
        effects
    }

    /// supervisor's `_acceptEvent`: a full buffer loses its oldest event (even when the one
    /// coming in goes to the head).
    fn buffer_event(&mut self, q: Queued, head: bool, effects: &mut Vec<Effect>) {
        if head {
            effects.push(Effect::Log(
                Level::Debug,
                format!(
                    "rebuffering event {} for pool {} (buf size={}, max={})",
                    q.event.serial,
                    self.name,
                    self.buffer.len(),
                    self.buffer_size
                ),
            ));
        }
        if self.buffer.len() >= self.buffer_size
            && let Some(old) = self.buffer.pop_front()
        {
            self.counters.dropped += 1;
            effects.push(Effect::Log(
                Level::Error,
                format!(
                    "pool {} event buffer overflowed, discarding event {}",
                    self.name, old.event.serial
                ),
            ));
        }
        if head {
            self.buffer.push_front(q);
        } else {
            self.buffer.push_back(q);
        }
    }

    /// Sends buffered events, oldest first, to the RUNNING, READY listeners (first in config
    /// order), until none is ready (supervisor's `dispatch`).
    pub fn dispatch(&mut self, server: &str) -> Vec<Effect> {
        let mut effects = Vec::new();
        while !self.buffer.is_empty() {
            let Some(m) = self
                .members
                .iter()
                .position(|m| m.running && m.protocol.state() == ListenerState::Ready)
            else {
                break;
            };
            let Some(q) = self.buffer.pop_front() else {
                break;
            };
            let member = &mut self.members[m];
            let data = envelope(
                &Envelope {
                    server,
                    serial: q.event.serial,
                    pool: &self.name,
                    pool_serial: q.pool_serial,
                    event_name: q.event.name,
                },
                &q.event.payload,
            );
            member.protocol.sent();
            effects.push(Effect::Log(
                Level::Debug,
                format!("event {} sent to listener {}", q.event.serial, member.name),
            ));
            effects.push(Effect::Send {
                process: member.name.clone(),
                data,
            });
            member.event = Some(q);
            self.counters.delivered += 1;
        }
        effects
    }

    fn member(&mut self, name: &str) -> Option<usize> {
        self.members.iter().position(|m| &*m.name == name)
    }

    /// A new process of member `name` exists (its stdin and stdout are connected): its
    /// protocol starts over, ACKNOWLEDGED. What the previous one left is settled first.
    pub fn attached(&mut self, name: &str, pid: i32) -> Vec<Effect> {
        let mut effects = Vec::new();
        if let Some(m) = self.member(name) {
            if self.members[m].pid != 0 {
                self.gone(m, &mut effects);
            }
            let member = &mut self.members[m];
            member.pid = pid;
            member.ended = false;
            member.eof = false;
            member.protocol = Listener::default();
        }
        effects
    }

    /// Member `name` changed state. Leaving RUNNING stops deliveries to it. Once its process
    /// has exited and its output has ended (supervisor reads what a process wrote before it
    /// handles the exit), the event it had is sent again. Returns the pid whose output is still
    /// awaited, if any: the caller settles it with [`Pool::output_ended`] in time.
    pub fn state_changed(&mut self, name: &str, to: ProcessState) -> (Vec<Effect>, Option<i32>) {
        let mut effects = Vec::new();
        let Some(m) = self.member(name) else {
            return (effects, None);
        };
        self.members[m].running = to == ProcessState::Running;
        let exited = matches!(
            to,
            ProcessState::Exited | ProcessState::Stopped | ProcessState::Backoff
        );
        if !exited || self.members[m].pid == 0 {
            return (effects, None);
        }
        if self.members[m].eof {
            self.gone(m, &mut effects);
            return (effects, None);
        }
        self.members[m].ended = true;
        (effects, Some(self.members[m].pid))
    }

    /// The output of member `name`'s process `pid` ended (or will not be waited for longer).
    pub fn output_ended(&mut self, name: &str, pid: i32) -> Vec<Effect> {
        let mut effects = Vec::new();
        let Some(m) = self.member(name) else {
            return effects;
        };
        let member = &mut self.members[m];
        if member.pid != pid {
            return effects;
        }
        member.eof = true;
        if member.ended {
            self.gone(m, &mut effects);
        }
        effects
    }

    /// Member `m`'s process is gone for good: the event it had goes back to the buffer's head.
    fn gone(&mut self, m: usize, effects: &mut Vec<Effect>) {
        self.reject_in_flight(m, effects);
        let member = &mut self.members[m];
        member.pid = 0;
        member.ended = false;
        member.eof = false;
        member.protocol = Listener::default();
    }

    /// Member `name`'s process `pid` wrote `data` on its stdout.
    pub fn output(&mut self, name: &str, pid: i32, data: &[u8]) -> Vec<Effect> {
        let mut effects = Vec::new();
        let Some(m) = self.member(name) else {
            return effects;
        };
        if self.members[m].pid != pid {
            return effects;
        }
        let before = self.members[m].protocol.state();
        let steps = self.members[m].protocol.feed(data);
        let mut state = before;
        for step in steps {
            if state == ListenerState::Unknown {
                // Nothing it says means anything any more.
                break;
            }
            let name = self.members[m].name.clone();
            match step {
                Step::Ready => {
                    transition(&mut effects, &name, state, ListenerState::Ready);
                    state = ListenerState::Ready;
                }
                Step::Result(result) => match handler::handle(self.handler, &result) {
                    Outcome::Processed { print } => {
                        self.members[m].event = None;
                        self.counters.processed += 1;
                        if let Some(p) = print {
                            effects.push(Effect::Print(p));
                        }
                        effects.push(Effect::Log(
                            Level::Debug,
                            format!("{name}: event was processed"),
                        ));
                        transition(&mut effects, &name, state, ListenerState::Acknowledged);
                        state = ListenerState::Acknowledged;
                    }
                    Outcome::Rejected => {
                        effects.push(Effect::Log(
                            Level::Warn,
                            format!("{name}: event was rejected"),
                        ));
                        transition(&mut effects, &name, state, ListenerState::Acknowledged);
                        state = ListenerState::Acknowledged;
                        self.reject_in_flight(m, &mut effects);
                    }
                    Outcome::Error => {
                        effects.push(Effect::Log(
                            Level::Warn,
                            format!("{name}: event caused an error"),
                        ));
                        self.members[m].protocol.broken();
                        transition(&mut effects, &name, state, ListenerState::Unknown);
                        state = ListenerState::Unknown;
                        self.reject_in_flight(m, &mut effects);
                    }
                },
                Step::Violation(why) => {
                    if let Some(why) = why {
                        effects.push(Effect::Log(Level::Warn, format!("{name}: {why}")));
                    }
                    transition(&mut effects, &name, state, ListenerState::Unknown);
                    state = ListenerState::Unknown;
                    self.reject_in_flight(m, &mut effects);
                }
            }
        }
        effects
    }

    /// The member's event in flight, if any, goes back to the head of the buffer.
    fn reject_in_flight(&mut self, m: usize, effects: &mut Vec<Effect>) {
        if let Some(q) = self.members[m].event.take() {
            self.counters.rejected += 1;
            self.buffer_event(q, true, effects);
        }
    }

    pub fn view(&self) -> PoolView {
        PoolView {
            name: self.name.to_string(),
            events: self
                .subscriptions
                .iter()
                .map(|t| t.name().to_owned())
                .collect(),
            buffered: self.buffer.len(),
            buffer_size: self.buffer_size,
            listeners: self
                .members
                .iter()
                .map(|m| MemberView {
                    name: m.name.to_string(),
                    state: m.protocol.state(),
                    event: m.event.as_ref().map(|q| q.event.serial),
                })
                .collect(),
            counters: self.counters,
        }
    }
}

/// supervisor's `_change_listener_state` log lines.
fn transition(effects: &mut Vec<Effect>, name: &str, from: ListenerState, to: ListenerState) {
    effects.push(Effect::Log(
        Level::Debug,
        format!("{name}: {} -> {}", from.name(), to.name()),
    ));
    if to == ListenerState::Unknown {
        effects.push(Effect::Log(
            Level::Warn,
            format!(
                "{name}: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol"
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SERVER: &str = "supervisor";

    fn pool(buffer: usize, members: &[&str]) -> Pool {
        Pool::new(
            "listener",
            vec![EventType::ProcessState(None)],
            buffer,
            ResultHandler::Default,
            members.iter().map(|s| s.to_string()),
        )
    }

    fn event(serial: u64) -> Rendered {
        Rendered {
            serial,
            name: "PROCESS_STATE_RUNNING",
            payload: Arc::from(format!("processname:p{serial}")),
        }
    }

    /// The member runs and has said READY.
    fn ready(p: &mut Pool, name: &str, pid: i32) {
        p.attached(name, pid);
        p.state_changed(name, ProcessState::Running);
        p.output(name, pid, b"READY\n");
    }

    fn sends(effects: &[Effect]) -> Vec<(String, String)> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Send { process, data } => Some((process.to_string(), data.clone())),
                _ => None,
            })
            .collect()
    }

    fn logs(effects: &[Effect], level: Level) -> Vec<String> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Log(l, m) if *l == level => Some(m.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn events_go_to_running_ready_listeners_only() {
        let mut p = pool(10, &["l"]);
        p.accept(event(0));
        assert!(sends(&p.dispatch(SERVER)).is_empty(), "not attached");
        p.attached("l", 10);
        p.output("l", 10, b"READY\n");
        assert!(sends(&p.dispatch(SERVER)).is_empty(), "READY but STARTING");
        p.state_changed("l", ProcessState::Running);
        assert_eq!(
            sends(&p.dispatch(SERVER)),
            vec![(
                "l".into(),
                "ver:3.0 server:supervisor serial:0 pool:listener poolserial:0 eventname:PROCESS_STATE_RUNNING len:14\nprocessname:p0".into()
            )]
        );
        // BUSY: the next event waits.
        p.accept(event(1));
        assert!(sends(&p.dispatch(SERVER)).is_empty());
        p.output("l", 10, b"RESULT 2\nOKREADY\n");
        let s = sends(&p.dispatch(SERVER));
        assert_eq!(s.len(), 1);
        assert!(s[0].1.contains("serial:1 pool:listener poolserial:1 "));
        assert_eq!(p.view().counters.processed, 1);
    }

    #[test]
    fn a_rejected_event_is_sent_again_first() {
        let mut p = pool(10, &["l"]);
        ready(&mut p, "l", 10);
        p.accept(event(0));
        p.accept(event(1));
        p.dispatch(SERVER);
        let effects = p.output("l", 10, b"RESULT 4\nFAILREADY\n");
        assert_eq!(logs(&effects, Level::Warn), vec!["l: event was rejected"]);
        let s = sends(&p.dispatch(SERVER));
        assert!(s[0].1.contains("serial:0 "), "{s:?}");
        assert_eq!(p.view().counters.rejected, 1);
        assert_eq!(p.view().counters.delivered, 2);
    }

    #[test]
    fn a_listener_that_dies_or_breaks_the_protocol_loses_its_event_to_another() {
        let mut p = pool(10, &["a", "b"]);
        ready(&mut p, "a", 10);
        ready(&mut p, "b", 11);
        p.accept(event(0));
        p.accept(event(1));
        // A two-process pool serves two events at once.
        let s = sends(&p.dispatch(SERVER));
        assert_eq!(
            s.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        // `a` dies while BUSY: once its output has ended, its event goes to `b` as soon as
        // `b` is ready again.
        assert_eq!(p.state_changed("a", ProcessState::Exited).1, Some(10));
        assert_eq!(p.view().buffered, 0, "a's output may still answer");
        p.output_ended("a", 10);
        assert_eq!(p.view().buffered, 1);
        p.output("b", 11, b"RESULT 2\nOKREADY\n");
        let s = sends(&p.dispatch(SERVER));
        assert_eq!(s.len(), 1);
        assert!(s[0].0 == "b" && s[0].1.contains("serial:0 "), "{s:?}");
        // `b` breaks the protocol while BUSY: UNKNOWN with supervisor's words, event kept.
        let effects = p.output("b", 11, b"To: ops@example.com\n");
        assert_eq!(
            logs(&effects, Level::Warn),
            vec![
                "b: bad result line: 'To: ops@example.com'".to_string(),
                "b: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol".to_string(),
            ]
        );
        assert_eq!(p.view().listeners[1].state, ListenerState::Unknown);
        assert!(sends(&p.dispatch(SERVER)).is_empty());
        assert_eq!(p.view().buffered, 1);
        // Its restart starts the protocol over.
        ready(&mut p, "b", 12);
        assert_eq!(sends(&p.dispatch(SERVER)).len(), 1);
        // Output of a process that is gone is ignored.
        assert!(p.output("a", 10, b"READY\n").is_empty());
    }

    #[test]
    fn an_answer_read_after_the_exit_still_counts() {
        let mut p = pool(10, &["l"]);
        ready(&mut p, "l", 10);
        p.accept(event(0));
        p.dispatch(SERVER);
        // The listener answered and exited; the exit is known before its last output.
        assert_eq!(p.state_changed("l", ProcessState::Exited).1, Some(10));
        p.output("l", 10, b"RESULT 2\nOK");
        p.output_ended("l", 10);
        assert_eq!(p.view().buffered, 0);
        assert_eq!(p.view().counters.processed, 1);
        assert_eq!(p.view().counters.rejected, 0);
        // Its output had ended first: the exit settles it at once.
        ready(&mut p, "l", 11);
        p.accept(event(1));
        p.dispatch(SERVER);
        p.output_ended("l", 11);
        assert_eq!(p.state_changed("l", ProcessState::Exited).1, None);
        assert_eq!(p.view().buffered, 1);
    }

    #[test]
    fn a_full_buffer_drops_its_oldest_event() {
        let mut p = pool(2, &["l"]);
        p.accept(event(0));
        p.accept(event(1));
        let effects = p.accept(event(2));
        assert_eq!(
            logs(&effects, Level::Error),
            vec!["pool listener event buffer overflowed, discarding event 0"]
        );
        ready(&mut p, "l", 10);
        let s = sends(&p.dispatch(SERVER));
        assert!(s[0].1.contains("serial:1 pool:listener poolserial:1 "));
        assert_eq!(p.view().counters.dropped, 1);
        assert_eq!(p.view().counters.emitted, 3);
    }

    #[test]
    fn subscriptions_cover_their_family() {
        let p = pool(1, &[]);
        assert!(p.wants(EventType::ProcessState(Some(ProcessState::Fatal))));
        assert!(!p.wants(EventType::RemoteCommunication));
    }
}
