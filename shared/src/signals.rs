//! Signal names and numbers (Linux), spelled as supervisor spells them: `TERM`, `SIGTERM`, `15`.

use std::fmt;

/// A valid signal number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Signal(i32);

const NAMES: &[(&str, i32)] = &[
    ("HUP", libc::SIGHUP),
    ("INT", libc::SIGINT),
    ("QUIT", libc::SIGQUIT),
    ("ILL", libc::SIGILL),
    ("TRAP", libc::SIGTRAP),
    ("ABRT", libc::SIGABRT),
    ("IOT", libc::SIGABRT),
    ("BUS", libc::SIGBUS),
    ("FPE", libc::SIGFPE),
    ("KILL", libc::SIGKILL),
    ("USR1", libc::SIGUSR1),
    ("SEGV", libc::SIGSEGV),
    ("USR2", libc::SIGUSR2),
    ("PIPE", libc::SIGPIPE),
    ("ALRM", libc::SIGALRM),
    ("TERM", libc::SIGTERM),
    ("STKFLT", libc::SIGSTKFLT),
    ("CHLD", libc::SIGCHLD),
    ("CLD", libc::SIGCHLD),
    ("CONT", libc::SIGCONT),
    ("STOP", libc::SIGSTOP),
    ("TSTP", libc::SIGTSTP),
    ("TTIN", libc::SIGTTIN),
    ("TTOU", libc::SIGTTOU),
    ("URG", libc::SIGURG),
    ("XCPU", libc::SIGXCPU),
    ("XFSZ", libc::SIGXFSZ),
    ("VTALRM", libc::SIGVTALRM),
    ("PROF", libc::SIGPROF),
    ("WINCH", libc::SIGWINCH),
    ("IO", libc::SIGIO),
    ("POLL", libc::SIGIO),
    ("PWR", libc::SIGPWR),
    ("SYS", libc::SIGSYS),
];

impl Signal {
    pub const TERM: Signal = Signal(libc::SIGTERM);
    pub const KILL: Signal = Signal(libc::SIGKILL);
    pub const HUP: Signal = Signal(libc::SIGHUP);
    pub const INT: Signal = Signal(libc::SIGINT);

    /// `TERM`, `sigterm`, `SIGTERM`, `15`, `RTMIN+3`.
    pub fn parse(s: &str) -> Result<Signal, String> {
        let t = s.trim();
        if let Ok(n) = t.parse::<i32>() {
            return Signal::from_number(n)
                .ok_or_else(|| format!("value {s:?} is not a valid signal number"));
        }
        let upper = t.to_uppercase();
        let name = upper.strip_prefix("SIG").unwrap_or(&upper);
        if let Some((_, n)) = NAMES.iter().find(|(k, _)| *k == name) {
            return Ok(Signal(*n));
        }
        let rt = |base: i32, rest: &str| -> Option<Signal> {
            let off: i32 = if rest.is_empty() {
                0
            } else {
                rest.parse().ok()?
            };
            Signal::from_number(base + off)
        };
        let (min, max) = (libc::SIGRTMIN(), libc::SIGRTMAX());
        if let Some(rest) = name.strip_prefix("RTMIN") {
            let rest = rest.strip_prefix('+').unwrap_or(rest);
            if let Some(sig) = rt(min, rest) {
                return Ok(sig);
            }
        }
        if let Some(rest) = name.strip_prefix("RTMAX")
            && let Some(sig) = rt(max, rest)
        {
            return Ok(sig);
        }
        Err(format!("value {s:?} is not a valid signal name"))
    }

    /// A signal a client asks to send (signalProcess): as [`Signal::parse`], but numbers as
    /// Python's `signal_number` takes them: 0 (a liveness check), the named signals, and the
    /// first and last real-time signals.
    pub fn parse_request(s: &str) -> Result<Signal, String> {
        let Ok(n) = s.trim().parse::<i32>() else {
            return Signal::parse(s);
        };
        let named = NAMES.iter().any(|(_, v)| *v == n);
        if n == 0 || named || n == libc::SIGRTMIN() || n == libc::SIGRTMAX() {
            Ok(Signal(n))
        } else {
            Err(format!("value {s:?} is not a valid signal number"))
        }
    }

    pub fn from_number(n: i32) -> Option<Signal> {
        (1..=libc::SIGRTMAX()).contains(&n).then_some(Signal(n))
    }

    pub fn number(self) -> i32 {
        self.0
    }

    /// `TERM` (no `SIG` prefix), as supervisor prints stopsignal; real-time signals as `RTMIN+n`.
    pub fn name(self) -> String {
        if let Some((n, _)) = NAMES.iter().find(|(_, v)| *v == self.0) {
            return (*n).to_owned();
        }
        if self.0 < libc::SIGRTMIN() {
            return self.0.to_string();
        }
        format!("RTMIN+{}", self.0 - libc::SIGRTMIN())
    }
}

impl fmt::Display for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SIG{}", self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_numbers() {
        assert_eq!(Signal::parse("term"), Ok(Signal::TERM));
        assert_eq!(Signal::parse("SIGKILL"), Ok(Signal::KILL));
        assert_eq!(Signal::parse("1"), Ok(Signal::HUP));
        assert!(Signal::parse("BOGUS").is_err());
        assert!(Signal::parse("0").is_err());
        assert_eq!(Signal::TERM.to_string(), "SIGTERM");
        assert_eq!(Signal::parse("USR1").map(|s| s.name()), Ok("USR1".into()));
    }
}
