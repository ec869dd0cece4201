//! Lifecycle policy as pure functions: given the facts about one process, what happens next.
//! The actor gathers the facts, asks here, and applies the answer (its effects: state inputs,
//! timers, signals, spawns). Which state follows which is [`super::state::next`]; this module
//! decides *when* and *what else*, in supervisor's terms (`startsecs`, `startretries`,
//! `autorestart`, `exitcodes`, the stop signal list and `stopwaitsecs`, `restartpause`).

use std::time::Duration;

use shared::ProcessState;
use shared::signals::Signal;
use shared::values::AutoRestart;

/// What is known about a child that was just reaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitFacts {
    pub state: ProcessState,
    /// A stop signal was sent to it (supervisor's `killing`).
    pub stop_requested: bool,
    /// Time since it was spawned.
    pub uptime: Duration,
    /// Its exit code, or -1 when a signal ended it.
    pub exitstatus: i32,
    /// The signal that ended it.
    pub signal: Option<i32>,
}

/// The options an exit is judged by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExitRules<'a> {
    pub startsecs: Duration,
    pub exitcodes: &'a [i32],
    pub autorestart: AutoRestart,
    /// The daemon is RUNNING (not stopping everything for a shutdown or reload).
    pub daemon_running: bool,
    /// `[supervisord] shutdown_on_exit` names this process.
    pub exits_daemon: bool,
}

/// What an exit leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitVerdict {
    /// The stop that was asked for is done (STOPPING → STOPPED).
    Stopped { expected: bool },
    /// It died before `startsecs`: a failed start (STARTING → BACKOFF, then [`after_failed_start`]).
    FailedStart,
    /// It exited on its own (→ EXITED); `then` says what follows.
    Exited { expected: bool, then: AfterExit },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterExit {
    Stay,
    /// `autorestart` says to start it again.
    Restart,
    /// `shutdown_on_exit`: the daemon shuts down with this exit status (128+N after signal N).
    Shutdown(i32),
}

/// supervisor's `finish()`: a stop's end, a failed start, or an exit, and what follows.
pub fn on_exit(f: &ExitFacts, r: &ExitRules<'_>) -> ExitVerdict {
    let expected = r.exitcodes.contains(&f.exitstatus);
    if f.stop_requested {
        return ExitVerdict::Stopped { expected };
    }
    if f.state == ProcessState::Starting && f.uptime < r.startsecs {
        return ExitVerdict::FailedStart;
    }
    let then = if !r.daemon_running {
        AfterExit::Stay
    } else if r.exits_daemon {
        AfterExit::Shutdown(f.signal.map_or(f.exitstatus, |s| 128 + s))
    } else {
        let restart = match r.autorestart {
            AutoRestart::Always => true,
            AutoRestart::Unexpected => !expected,
            AutoRestart::Never => false,
        };
        if restart {
            AfterExit::Restart
        } else {
            AfterExit::Stay
        }
    };
    ExitVerdict::Exited { expected, then }
}

/// After a failed start (already counted in `backoff`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Spawn again after this delay (supervisor waits one more second per failure).
    After(Duration),
    /// BACKOFF → FATAL; `exhausted` when it is because of `startretries` (logged as such).
    GiveUp { exhausted: bool },
}

pub fn after_failed_start(backoff: u64, startretries: u64, daemon_running: bool) -> Retry {
    if !daemon_running {
        Retry::GiveUp { exhausted: false }
    } else if backoff > startretries {
        Retry::GiveUp { exhausted: true }
    } else {
        Retry::After(Duration::from_secs(backoff))
    }
}

/// Why a requested start has not spawned yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StartGate {
    /// Nothing pending.
    #[default]
    Open,
    /// A `depends_on` process is not RUNNING yet.
    WaitingDeps,
    /// `restartpause` has not passed since the last stop.
    RestartPause,
    /// A restart: the start comes once the process has stopped.
    AfterStop,
}

/// What a start request does now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartStep {
    /// ALREADY_STARTED.
    AlreadyStarted,
    /// A start is already on its way: nothing more to do.
    Pending,
    /// Start the dependencies first; spawn once they are RUNNING.
    WaitForDependencies,
    /// Spawn after this pause (`restartpause`).
    Pause(Duration),
    Spawn,
}

/// `since_stop`: time since the process last stopped, if it ever ran.
pub fn start_step(
    state: ProcessState,
    gate: StartGate,
    dependencies_running: bool,
    since_stop: Option<Duration>,
    restartpause: Duration,
) -> StartStep {
    if state.is_running() || state == ProcessState::Stopping {
        return StartStep::AlreadyStarted;
    }
    if gate != StartGate::Open {
        return StartStep::Pending;
    }
    if !dependencies_running {
        return StartStep::WaitForDependencies;
    }
    match since_stop {
        Some(since) if since < restartpause => StartStep::Pause(restartpause - since),
        _ => StartStep::Spawn,
    }
}

/// How a process is being stopped: present only while it is STOPPING.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StopProgress {
    /// Signals sent so far in this stop.
    pub sent: usize,
    /// SIGKILL was sent and `killwaitsecs` passed without an exit: nobody waits for it now.
    pub abandoned: bool,
}

/// The stop options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StopRules<'a> {
    /// `stopsignal`: one signal, or the Go supervisord's list, tried in turn.
    pub stopsignals: &'a [Signal],
    pub stopwait: Duration,
    pub killwait: Duration,
    pub stopasgroup: bool,
    pub killasgroup: bool,
}

/// The next step of a stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopStep {
    /// Send `signal` (to the process group when `group`), then wait `wait` for the exit.
    Send {
        signal: Signal,
        group: bool,
        wait: Duration,
    },
    /// Still alive after SIGKILL and `killwaitsecs`: stop waiting.
    Abandon,
}

/// The stop signals in turn, then SIGKILL, then giving up on it.
pub fn next_stop_step(sent: usize, r: &StopRules<'_>) -> StopStep {
    let signals = if r.stopsignals.is_empty() {
        &[Signal::TERM][..]
    } else {
        r.stopsignals
    };
    let (signal, group) = match signals.get(sent) {
        Some(s) => (*s, r.stopasgroup),
        None if sent == signals.len() => (Signal::KILL, r.killasgroup),
        None => return StopStep::Abandon,
    };
    let wait = if signal == Signal::KILL {
        r.killwait
    } else {
        r.stopwait
    };
    StopStep::Send {
        signal,
        group,
        wait,
    }
}

/// One process's part in stopping everything (shutdown or reload).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShutdownStep {
    /// Nothing left to stop or wait for.
    Done,
    /// Processes that depend on it still run: they go first.
    DependentsFirst,
    /// BACKOFF: nothing runs, it becomes FATAL.
    GiveUp,
    /// Send the stop signal.
    Stop,
    /// Already stopping: wait for the exit.
    Wait,
}

pub fn shutdown_step(state: ProcessState, abandoned: bool, live_dependents: bool) -> ShutdownStep {
    if !is_live(state, abandoned) {
        return ShutdownStep::Done;
    }
    if live_dependents {
        return ShutdownStep::DependentsFirst;
    }
    match state {
        ProcessState::Backoff => ShutdownStep::GiveUp,
        ProcessState::Running | ProcessState::Starting => ShutdownStep::Stop,
        _ => ShutdownStep::Wait,
    }
}

/// Something may still have to be stopped or waited for (a stop abandoned after SIGKILL is not).
pub fn is_live(state: ProcessState, abandoned: bool) -> bool {
    match state {
        ProcessState::Starting | ProcessState::Running | ProcessState::Backoff => true,
        ProcessState::Stopping => !abandoned,
        _ => false,
    }
}

/// The timers a process can have pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerKind {
    StartSecs,
    Backoff,
    StopEscalate,
    RestartPause,
}

/// What a timer that fired does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimerStep {
    /// STARTING for `startsecs`: RUNNING.
    EnterRunning,
    /// BACKOFF is over, or `restartpause` has passed: spawn.
    Spawn,
    /// `stopwaitsecs` (or `killwaitsecs`) passed without an exit: the next stop step.
    Escalate,
    /// The timer no longer applies.
    Ignore,
}

pub fn on_timer(
    kind: TimerKind,
    state: ProcessState,
    gate: StartGate,
    daemon_running: bool,
) -> TimerStep {
    match kind {
        TimerKind::StartSecs if state == ProcessState::Starting => TimerStep::EnterRunning,
        TimerKind::Backoff if state == ProcessState::Backoff && daemon_running => TimerStep::Spawn,
        TimerKind::RestartPause
            if gate == StartGate::RestartPause && state.is_stopped() && daemon_running =>
        {
            TimerStep::Spawn
        }
        TimerKind::StopEscalate if state == ProcessState::Stopping => TimerStep::Escalate,
        _ => TimerStep::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ProcessState::*;

    const S: fn(u64) -> Duration = Duration::from_secs;

    fn facts(state: ProcessState, stop_requested: bool, uptime: u64, code: i32) -> ExitFacts {
        ExitFacts {
            state,
            stop_requested,
            uptime: S(uptime),
            exitstatus: code,
            signal: None,
        }
    }

    fn rules(autorestart: AutoRestart) -> ExitRules<'static> {
        ExitRules {
            startsecs: S(1),
            exitcodes: &[0, 2],
            autorestart,
            daemon_running: true,
            exits_daemon: false,
        }
    }

    #[test]
    fn exits() {
        use AutoRestart::*;
        use ExitVerdict::*;
        let exited = |expected, then| Exited { expected, then };
        let table = [
            // A stop's end, whatever the code says.
            (
                facts(Stopping, true, 5, 0),
                rules(Always),
                Stopped { expected: true },
            ),
            (
                facts(Stopping, true, 5, -1),
                rules(Always),
                Stopped { expected: false },
            ),
            // Within startsecs: a failed start, even with an expected code.
            (facts(Starting, false, 0, 0), rules(Always), FailedStart),
            // startsecs reached but the timer not run yet: an exit.
            (
                facts(Starting, false, 1, 0),
                rules(Never),
                exited(true, AfterExit::Stay),
            ),
            // autorestart.
            (
                facts(Running, false, 9, 0),
                rules(Always),
                exited(true, AfterExit::Restart),
            ),
            (
                facts(Running, false, 9, 0),
                rules(Unexpected),
                exited(true, AfterExit::Stay),
            ),
            (
                facts(Running, false, 9, 2),
                rules(Unexpected),
                exited(true, AfterExit::Stay),
            ),
            (
                facts(Running, false, 9, 3),
                rules(Unexpected),
                exited(false, AfterExit::Restart),
            ),
            (
                facts(Running, false, 9, 3),
                rules(Never),
                exited(false, AfterExit::Stay),
            ),
        ];
        for (f, r, want) in table {
            assert_eq!(on_exit(&f, &r), want, "{f:?} {:?}", r.autorestart);
        }
        // Nothing restarts while the daemon stops everything.
        let stopping_daemon = ExitRules {
            daemon_running: false,
            ..rules(Always)
        };
        assert_eq!(
            on_exit(&facts(Running, false, 9, 3), &stopping_daemon),
            exited(false, AfterExit::Stay)
        );
        // shutdown_on_exit: the process's status, 128+N after signal N.
        let exits_daemon = ExitRules {
            exits_daemon: true,
            ..rules(Always)
        };
        assert_eq!(
            on_exit(&facts(Running, false, 9, 3), &exits_daemon),
            exited(false, AfterExit::Shutdown(3))
        );
        let killed = ExitFacts {
            signal: Some(9),
            ..facts(Running, false, 9, -1)
        };
        assert_eq!(
            on_exit(&killed, &exits_daemon),
            exited(false, AfterExit::Shutdown(137))
        );
    }

    #[test]
    fn retries_wait_one_second_more_each_time_then_give_up() {
        let table = [
            (1, 3, true, Retry::After(S(1))),
            (2, 3, true, Retry::After(S(2))),
            (3, 3, true, Retry::After(S(3))),
            (4, 3, true, Retry::GiveUp { exhausted: true }),
            (1, 0, true, Retry::GiveUp { exhausted: true }),
            (1, 3, false, Retry::GiveUp { exhausted: false }),
        ];
        for (backoff, retries, running, want) in table {
            assert_eq!(after_failed_start(backoff, retries, running), want);
        }
    }

    #[test]
    fn start_requests() {
        use StartGate::*;
        use StartStep::*;
        let table = [
            (Running, Open, true, None, 0, AlreadyStarted),
            (Starting, Open, true, None, 0, AlreadyStarted),
            (Backoff, Open, true, None, 0, AlreadyStarted),
            (Stopping, Open, true, None, 0, AlreadyStarted),
            (Stopped, WaitingDeps, false, None, 0, Pending),
            (Stopped, RestartPause, true, Some(0), 5, Pending),
            (Exited, AfterStop, true, None, 0, Pending),
            (Stopped, Open, false, None, 0, WaitForDependencies),
            (Exited, Open, true, Some(2), 5, Pause(S(3))),
            (Exited, Open, true, Some(5), 5, Spawn),
            (Fatal, Open, true, Some(0), 0, Spawn),
            (Stopped, Open, true, None, 5, Spawn),
            (Unknown, Open, true, None, 0, Spawn),
        ];
        for (state, gate, deps, since, pause, want) in table {
            assert_eq!(
                start_step(state, gate, deps, since.map(S), S(pause)),
                want,
                "{state} {gate:?}"
            );
        }
    }

    #[test]
    fn stops_escalate_through_the_list_then_kill_then_give_up() {
        let r = StopRules {
            stopsignals: &[Signal::INT, Signal::TERM],
            stopwait: S(10),
            killwait: S(2),
            stopasgroup: true,
            killasgroup: true,
        };
        let send = |signal, group, wait| StopStep::Send {
            signal,
            group,
            wait: S(wait),
        };
        assert_eq!(next_stop_step(0, &r), send(Signal::INT, true, 10));
        assert_eq!(next_stop_step(1, &r), send(Signal::TERM, true, 10));
        assert_eq!(next_stop_step(2, &r), send(Signal::KILL, true, 2));
        assert_eq!(next_stop_step(3, &r), StopStep::Abandon);
        let plain = StopRules {
            stopsignals: &[],
            stopasgroup: false,
            killasgroup: true,
            ..r
        };
        assert_eq!(next_stop_step(0, &plain), send(Signal::TERM, false, 10));
        assert_eq!(next_stop_step(1, &plain), send(Signal::KILL, true, 2));
        // stopsignal=KILL waits killwaitsecs.
        let kill = StopRules {
            stopsignals: &[Signal::KILL],
            ..r
        };
        assert_eq!(next_stop_step(0, &kill), send(Signal::KILL, true, 2));
    }

    #[test]
    fn shutdown_steps() {
        use ShutdownStep::*;
        let table = [
            (Stopped, false, false, Done),
            (Exited, false, true, Done),
            (Fatal, false, false, Done),
            (Stopping, true, false, Done),
            (Running, false, true, DependentsFirst),
            (Backoff, false, false, GiveUp),
            (Running, false, false, Stop),
            (Starting, false, false, Stop),
            (Stopping, false, false, Wait),
        ];
        for (state, abandoned, deps, want) in table {
            assert_eq!(shutdown_step(state, abandoned, deps), want, "{state}");
        }
    }

    #[test]
    fn timers() {
        use StartGate::Open;
        use TimerKind as T;
        use TimerStep::*;
        let pause = StartGate::RestartPause;
        let table = [
            (T::StartSecs, Starting, Open, true, EnterRunning),
            (T::StartSecs, Stopping, Open, true, Ignore),
            (T::Backoff, Backoff, Open, true, Spawn),
            (T::Backoff, Backoff, Open, false, Ignore),
            (T::Backoff, Stopped, Open, true, Ignore),
            (T::RestartPause, Exited, pause, true, Spawn),
            (T::RestartPause, Exited, Open, true, Ignore),
            (T::RestartPause, Exited, pause, false, Ignore),
            (T::StopEscalate, Stopping, Open, true, Escalate),
            (T::StopEscalate, Stopping, Open, false, Escalate),
            (T::StopEscalate, Stopped, Open, true, Ignore),
        ];
        for (kind, state, gate, running, want) in table {
            assert_eq!(
                on_timer(kind, state, gate, running),
                want,
                "{kind:?} {state}"
            );
        }
    }
}
