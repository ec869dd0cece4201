//! The process state machine as a pure function: every state change of every process goes
//! through [`next`], which knows supervisor's allowed transitions (docs/states.md) and nothing
//! else. Timing, retries and logging live in the supervisor actor.

use shared::ProcessState;

/// What happened to a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// A start was requested (or autostart/autorestart/backoff retry fired).
    Start,
    /// The process has stayed up for startsecs.
    StartSecsElapsed,
    /// Spawning failed before a child existed, or the child exited within startsecs.
    FailedStart,
    /// Retries are exhausted (or the daemon is shutting down while in BACKOFF).
    GiveUp,
    /// The process exited on its own after reaching RUNNING.
    Exit,
    /// A stop signal was sent.
    Stop,
    /// A stop was requested while in BACKOFF (nothing to signal).
    Cancel,
    /// The process was reaped after a stop request.
    Reaped,
    /// Signalling the process failed in an unexpected way.
    Lost,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid transition from {from} on {input:?}")]
pub struct InvalidTransition {
    pub from: ProcessState,
    pub input: Input,
}

/// The state `from` moves to on `input`, or an error for a transition supervisor never makes.
pub fn next(from: ProcessState, input: Input) -> Result<ProcessState, InvalidTransition> {
    use Input::*;
    use ProcessState::*;
    match (from, input) {
        (Stopped | Exited | Fatal | Backoff | Unknown, Start) => Ok(Starting),
        (Starting, StartSecsElapsed) => Ok(Running),
        (Starting, FailedStart) => Ok(Backoff),
        (Backoff, GiveUp) => Ok(Fatal),
        (Backoff, Cancel) => Ok(Stopped),
        (Running | Starting, Exit) => Ok(Exited),
        (Running | Starting | Stopping, Stop) => Ok(Stopping),
        (Stopping, Reaped) => Ok(Stopped),
        (_, Lost) => Ok(Unknown),
        (from, input) => Err(InvalidTransition { from, input }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Input::*;
    use ProcessState::*;

    #[test]
    fn supervisor_transitions() {
        let ok = [
            (Stopped, Start, Starting),
            (Exited, Start, Starting),
            (Fatal, Start, Starting),
            (Backoff, Start, Starting),
            (Starting, StartSecsElapsed, Running),
            (Starting, FailedStart, Backoff),
            (Backoff, GiveUp, Fatal),
            (Backoff, Cancel, Stopped),
            (Running, Exit, Exited),
            (Starting, Exit, Exited),
            (Running, Stop, Stopping),
            (Starting, Stop, Stopping),
            (Stopping, Stop, Stopping),
            (Stopping, Reaped, Stopped),
            (Running, Lost, Unknown),
        ];
        for (from, input, to) in ok {
            assert_eq!(next(from, input), Ok(to), "{from} on {input:?}");
        }
    }

    #[test]
    fn everything_else_is_refused() {
        let allowed = |f, i| next(f, i).is_ok();
        let inputs = [
            Start,
            StartSecsElapsed,
            FailedStart,
            GiveUp,
            Exit,
            Stop,
            Cancel,
            Reaped,
            Lost,
        ];
        let mut count = 0;
        for f in ProcessState::ALL {
            for i in inputs {
                if allowed(f, i) {
                    count += 1;
                }
            }
        }
        // 5 starts + 1 + 1 + 1 + 1 + 2 exits + 3 stops + 1 reap + 8 lost
        assert_eq!(count, 23);
        assert!(next(Running, Start).is_err());
        assert!(next(Stopped, Stop).is_err());
        assert!(next(Running, Reaped).is_err());
    }
}
