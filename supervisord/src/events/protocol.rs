//! The event listener protocol as supervisor speaks it (`supervisor/dispatchers.py`,
//! `process.py`): the envelope of each event written to a listener's stdin, the payloads of the
//! process state events, and a parser for what a listener writes on its stdout (`READY\n`, then
//! `RESULT <len>\n<result>` for each event). Pure: whoever runs a pool feeds it bytes and acts
//! on what comes back.

use shared::ProcessState;

/// A listener's protocol state (supervisor's `EventListenerStates`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerState {
    /// Ready for an event.
    Ready,
    /// An event was sent; its result has not come back.
    Busy,
    /// The last event was answered (or none was sent yet): waiting for `READY\n`.
    Acknowledged,
    /// It broke the protocol: no more events for it.
    Unknown,
}

impl ListenerState {
    /// supervisor's code (10, 20, 30, 40).
    pub fn code(self) -> i32 {
        match self {
            ListenerState::Ready => 10,
            ListenerState::Busy => 20,
            ListenerState::Acknowledged => 30,
            ListenerState::Unknown => 40,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            ListenerState::Ready => "READY",
            ListenerState::Busy => "BUSY",
            ListenerState::Acknowledged => "ACKNOWLEDGED",
            ListenerState::Unknown => "UNKNOWN",
        }
    }
}

const READY: &[u8] = b"READY\n";
const RESULT: &[u8] = b"RESULT ";

/// A result line is `RESULT <number>`: one this long without its newline is not one. Bounds
/// what a misbehaving listener can make the daemon hold.
const MAX_RESULT_LINE: usize = 64;

/// The largest result a listener may announce (supervisor's handlers read a word like `OK`).
const MAX_RESULT: usize = 1 << 20;

/// What a listener's output meant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// ACKNOWLEDGED → READY: it may be sent an event.
    Ready,
    /// The result of the event in flight; it is ACKNOWLEDGED again (the result handler decides
    /// whether the event was processed or must be sent again).
    Result(Vec<u8>),
    /// It broke the protocol and is UNKNOWN from now on; the text, when there is one, is
    /// supervisor's warning (`bad result line: '…'`).
    Violation(Option<String>),
}

/// One listener's side of the protocol.
#[derive(Debug, Clone)]
pub struct Listener {
    state: ListenerState,
    /// Output not understood yet.
    buffer: Vec<u8>,
    /// The result being gathered, and how long it is.
    result: Vec<u8>,
    result_len: Option<usize>,
}

impl Default for Listener {
    fn default() -> Self {
        Listener {
            state: ListenerState::Acknowledged,
            buffer: Vec::new(),
            result: Vec::new(),
            result_len: None,
        }
    }
}

impl Listener {
    pub fn state(&self) -> ListenerState {
        self.state
    }

    /// An event was written to it: READY → BUSY.
    pub fn sent(&mut self) {
        if self.state == ListenerState::Ready {
            self.state = ListenerState::Busy;
        }
    }

    /// The result handler refused the result as an error (not a rejection): UNKNOWN.
    pub fn broken(&mut self) {
        self.state = ListenerState::Unknown;
    }

    /// What the listener wrote; returns what it meant, in order.
    pub fn feed(&mut self, data: &[u8]) -> Vec<Step> {
        self.buffer.extend_from_slice(data);
        let mut steps = Vec::new();
        while let Some(step) = self.step() {
            steps.push(step);
        }
        steps
    }

    /// One decision from the buffer, if there is enough of it (supervisor's
    /// `handle_listener_state_change`).
    fn step(&mut self) -> Option<Step> {
        if self.buffer.is_empty() {
            return None;
        }
        match self.state {
            ListenerState::Unknown => {
                self.buffer.clear();
                None
            }
            ListenerState::Acknowledged => {
                if self.buffer.len() < READY.len() {
                    return None;
                }
                if self.buffer.starts_with(READY) {
                    self.buffer.drain(..READY.len());
                    self.state = ListenerState::Ready;
                    Some(Step::Ready)
                } else {
                    Some(self.violation(None))
                }
            }
            // Anything written while it waits for an event is spurious.
            ListenerState::Ready => Some(self.violation(None)),
            ListenerState::Busy => self.busy(),
        }
    }

    fn busy(&mut self) -> Option<Step> {
        let Some(len) = self.result_len else {
            let Some(end) = self.buffer.iter().position(|&b| b == b'\n') else {
                if self.buffer.len() > MAX_RESULT_LINE {
                    let line = std::mem::take(&mut self.buffer);
                    return Some(self.bad_line(&line[..MAX_RESULT_LINE]));
                }
                return None;
            };
            let line: Vec<u8> = self.buffer.drain(..=end).take(end).collect();
            // As supervisor: the first 7 bytes are taken for `RESULT ` unread, the rest must be
            // a number.
            let text = line.get(RESULT.len()..).unwrap_or_default();
            match python_int(text) {
                Some(n) if n <= MAX_RESULT => self.result_len = Some(n),
                _ => return Some(self.bad_line(&line)),
            }
            return self.busy();
        };
        let needed = len - self.result.len();
        let take = needed.min(self.buffer.len());
        self.result.extend(self.buffer.drain(..take));
        if self.result.len() < len {
            return None;
        }
        self.result_len = None;
        self.state = ListenerState::Acknowledged;
        Some(Step::Result(std::mem::take(&mut self.result)))
    }

    /// supervisor's warning for a line that is no result line.
    fn bad_line(&mut self, line: &[u8]) -> Step {
        let shown = match std::str::from_utf8(line) {
            Ok(s) => s.to_owned(),
            Err(_) => format!("Undecodable: {}", python_bytes_repr(line)),
        };
        self.violation(Some(format!("bad result line: '{shown}'")))
    }

    fn violation(&mut self, why: Option<String>) -> Step {
        self.state = ListenerState::Unknown;
        self.buffer.clear();
        self.result.clear();
        self.result_len = None;
        Step::Violation(why)
    }
}

/// `int(b' 12 ')` as Python reads a result length: surrounding whitespace, an optional `+`,
/// digits (with single underscores between them). A negative length, which would leave
/// supervisor's listener stuck for good, counts as a bad line.
fn python_int(b: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(b)
        .ok()?
        .trim_matches(|c: char| c.is_ascii_whitespace());
    let digits = s.strip_prefix('+').unwrap_or(s);
    if digits.is_empty()
        || digits.starts_with('_')
        || digits.ends_with('_')
        || digits.contains("__")
        || !digits.chars().all(|c| c.is_ascii_digit() || c == '_')
    {
        return None;
    }
    digits.replace('_', "").parse().ok()
}

/// Python's `repr(bytes)` (`b'\xff'`), for undecodable output in messages.
pub(crate) fn python_bytes_repr(b: &[u8]) -> String {
    let quote = if b.contains(&b'\'') && !b.contains(&b'"') {
        '"'
    } else {
        '\''
    };
    let mut out = format!("b{quote}");
    for &c in b {
        match c {
            b'\\' => out.push_str("\\\\"),
            b'\t' => out.push_str("\\t"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            c if c == quote as u8 => {
                out.push('\\');
                out.push(c as char);
            }
            0x20..=0x7e => out.push(c as char),
            c => out.push_str(&format!("\\x{c:02x}")),
        }
    }
    out.push(quote);
    out
}

/// What one event is, for its envelope.
#[derive(Debug, Clone, Copy)]
pub struct Envelope<'a> {
    /// `[supervisord] identifier`.
    pub server: &'a str,
    /// The event's serial (global, survives reloads).
    pub serial: u64,
    pub pool: &'a str,
    /// The event's serial in this pool.
    pub pool_serial: u64,
    pub event_name: &'a str,
}

/// The header and payload written to a listener's stdin. `len` counts characters, as Python's
/// `len(str)` does (a listener in text mode reads that many).
pub fn envelope(e: &Envelope<'_>, payload: &str) -> String {
    format!(
        "ver:3.0 server:{} serial:{} pool:{} poolserial:{} eventname:{} len:{}\n{payload}",
        e.server,
        e.serial,
        e.pool,
        e.pool_serial,
        e.event_name,
        payload.chars().count()
    )
}

/// A `PROCESS_STATE_*` payload: `processname:X groupname:G from_state:S`, then what the new
/// state adds (`tries` for STARTING and BACKOFF, `expected` and `pid` for EXITED, `pid` for
/// RUNNING, STOPPING and STOPPED). No trailing newline.
pub fn state_payload(
    name: &str,
    group: &str,
    from: ProcessState,
    to: ProcessState,
    tries: u64,
    expected: bool,
    pid: i32,
) -> String {
    let head = format!(
        "processname:{name} groupname:{group} from_state:{}",
        from.name()
    );
    match to {
        ProcessState::Starting | ProcessState::Backoff => format!("{head} tries:{tries}"),
        ProcessState::Exited => format!("{head} expected:{} pid:{pid}", u8::from(expected)),
        ProcessState::Running | ProcessState::Stopping | ProcessState::Stopped => {
            format!("{head} pid:{pid}")
        }
        ProcessState::Fatal | ProcessState::Unknown => head,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A listener that was sent an event.
    fn busy() -> Listener {
        let mut l = Listener::default();
        l.feed(b"READY\n");
        l.sent();
        l
    }

    #[test]
    fn ready_then_results() {
        let mut l = Listener::default();
        assert_eq!(l.state(), ListenerState::Acknowledged);
        // Not enough to decide yet.
        assert_eq!(l.feed(b"REA"), vec![]);
        assert_eq!(l.feed(b"DY\n"), vec![Step::Ready]);
        assert_eq!(l.state(), ListenerState::Ready);
        l.sent();
        assert_eq!(l.state(), ListenerState::Busy);
        // The result line and its data may come in pieces, and the next READY with them.
        assert_eq!(l.feed(b"RESULT 2"), vec![]);
        assert_eq!(l.feed(b"\nO"), vec![]);
        assert_eq!(
            l.feed(b"KREADY\n"),
            vec![Step::Result(b"OK".to_vec()), Step::Ready]
        );
        l.sent();
        assert_eq!(
            l.feed(b"RESULT 4\nFAIL"),
            vec![Step::Result(b"FAIL".to_vec())]
        );
        assert_eq!(l.state(), ListenerState::Acknowledged);
    }

    #[test]
    fn protocol_violations_make_it_unknown() {
        let violation = |steps: Vec<Step>| matches!(steps.last(), Some(Step::Violation(_)));
        // Anything but READY first.
        let mut l = Listener::default();
        assert!(violation(l.feed(b"hello there\n")));
        assert_eq!(l.state(), ListenerState::Unknown);
        assert_eq!(l.feed(b"READY\n"), vec![], "ignored from now on");
        // Spurious output while READY.
        let mut l = Listener::default();
        l.feed(b"READY\n");
        assert!(violation(l.feed(b"x")));
        // A result line that is no result line, as supervisor words it.
        let mut l = busy();
        assert_eq!(
            l.feed(b"To: ops@example.com\n"),
            vec![Step::Violation(Some(
                "bad result line: 'To: ops@example.com'".into()
            ))]
        );
        let mut l = busy();
        assert_eq!(
            l.feed(b"RESULT \xff\n"),
            vec![Step::Violation(Some(
                "bad result line: 'Undecodable: b'RESULT \\xff''".into()
            ))]
        );
    }

    #[test]
    fn a_listener_cannot_make_the_daemon_hold_unbounded_output() {
        // Endless output without a newline while BUSY.
        let mut l = busy();
        let steps = l.feed(&[b'x'; 1000]);
        assert!(
            matches!(steps.as_slice(), [Step::Violation(Some(_))]),
            "{steps:?}"
        );
        assert_eq!(l.state(), ListenerState::Unknown);
        // A result longer than any handler reads.
        let mut l = busy();
        let steps = l.feed(format!("RESULT {}\n", MAX_RESULT + 1).as_bytes());
        assert!(
            matches!(steps.as_slice(), [Step::Violation(Some(_))]),
            "{steps:?}"
        );
        let mut l = busy();
        assert_eq!(l.feed(format!("RESULT {MAX_RESULT}\n").as_bytes()), vec![]);
    }

    #[test]
    fn result_lengths_as_python_reads_them() {
        for (text, n) in [
            ("2", Some(2)),
            (" 2 ", Some(2)),
            ("+2", Some(2)),
            ("1_0", Some(10)),
            ("", None),
            ("-1", None),
            ("2x", None),
            ("_1", None),
        ] {
            assert_eq!(python_int(text.as_bytes()), n, "{text:?}");
        }
        // supervisor does not check the word itself: the first 7 bytes are skipped.
        let mut l = busy();
        assert_eq!(l.feed(b"RESLUT 2\nOK"), vec![Step::Result(b"OK".to_vec())]);
    }

    #[test]
    fn envelopes_count_characters() {
        let e = Envelope {
            server: "supervisor",
            serial: 7,
            pool: "listener",
            pool_serial: 3,
            event_name: "PROCESS_COMMUNICATION_STDOUT",
        };
        assert_eq!(
            envelope(&e, "processname:p groupname:p pid:1\nhé"),
            "ver:3.0 server:supervisor serial:7 pool:listener poolserial:3 eventname:PROCESS_COMMUNICATION_STDOUT len:34\nprocessname:p groupname:p pid:1\nhé"
        );
    }

    #[test]
    fn state_payloads() {
        use ProcessState::*;
        let p = |from, to| state_payload("web", "g", from, to, 2, true, 42);
        assert_eq!(
            p(Stopped, Starting),
            "processname:web groupname:g from_state:STOPPED tries:2"
        );
        assert_eq!(
            p(Starting, Backoff),
            "processname:web groupname:g from_state:STARTING tries:2"
        );
        assert_eq!(
            p(Running, Exited),
            "processname:web groupname:g from_state:RUNNING expected:1 pid:42"
        );
        assert_eq!(
            p(Starting, Running),
            "processname:web groupname:g from_state:STARTING pid:42"
        );
        assert_eq!(
            p(Backoff, Fatal),
            "processname:web groupname:g from_state:BACKOFF"
        );
    }
}
