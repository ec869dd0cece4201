//! One entry of the process table: a process's config and everything the actor tracks about it.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use shared::ProcessState;
use shared::config::ProcessConfig;
use tokio::time::Instant;

use crate::logging::sink::{LogSink, SinkHandle};
use crate::process::health;
use crate::process::policy::{self, StartGate, StopProgress};

use super::handle::ProcessInfo;

pub(super) struct Process {
    /// Unique for the daemon's lifetime: timers and waiters refer to processes by it.
    pub(super) id: u64,
    pub(super) cfg: Arc<ProcessConfig>,
    pub(super) full_name: String,
    pub(super) state: ProcessState,
    /// 0 when no child exists.
    pub(super) pid: i32,
    /// While its exit is being handled: the pid of the child that ended.
    pub(super) ended_pid: i32,
    pub(super) laststart: Option<Instant>,
    pub(super) laststart_wall: i64,
    pub(super) laststop: Option<Instant>,
    pub(super) laststop_wall: i64,
    /// Failed starts in a row (supervisor's `backoff`).
    pub(super) backoff: u64,
    /// Why a requested start has not spawned yet.
    pub(super) gate: StartGate,
    /// The stop in progress: `Some` exactly while STOPPING (supervisor's `killing`).
    pub(super) stop: Option<StopProgress>,
    pub(super) spawnerr: String,
    pub(super) exitstatus: i32,
    /// Bumped whenever pending timers for this process become stale.
    pub(super) timer_gen: u64,
    /// Spawns since the table was loaded (metrics).
    pub(super) starts: u64,
    pub(super) stdout: SinkHandle,
    pub(super) stderr: SinkHandle,
    /// The write end of the child's stdin, kept open like supervisor does.
    pub(super) stdin: Option<OwnedFd>,
    /// Indices of the processes this one depends on, and of those depending on it.
    pub(super) deps: Vec<usize>,
    pub(super) dependents: Vec<usize>,
    /// Its share of its fcgi group's socket, from its spawn until it is reaped.
    pub(super) fcgi: Option<super::fcgi::Key>,
    /// Its pre_start_hook or pre_stop_hook while one runs.
    pub(super) hook: Option<HookRun>,
    /// Its liveness check's state in this run.
    pub(super) check: health::Tracker,
    /// Bumped at every start and end of a run: check results of another run are stale.
    pub(super) check_round: u64,
}

/// A hook under way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct HookRun {
    /// Tells its end from that of an earlier hook of the same process.
    pub(super) token: u64,
    /// A command's pid (an HTTP or TCP hook is a task of the daemon's).
    pub(super) pid: Option<i32>,
}

pub(crate) fn wall_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

impl Process {
    pub(super) fn new(
        id: u64,
        cfg: Arc<ProcessConfig>,
        stdout: LogSink,
        stderr: LogSink,
    ) -> Process {
        Process {
            id,
            full_name: cfg.full_name(),
            cfg,
            state: ProcessState::Stopped,
            pid: 0,
            ended_pid: 0,
            laststart: None,
            laststart_wall: 0,
            laststop: None,
            laststop_wall: 0,
            backoff: 0,
            gate: StartGate::Open,
            stop: None,
            spawnerr: String::new(),
            exitstatus: 0,
            timer_gen: 0,
            starts: 0,
            stdout: SinkHandle::new(stdout),
            stderr: SinkHandle::new(stderr),
            stdin: None,
            deps: Vec::new(),
            dependents: Vec::new(),
            fcgi: None,
            hook: None,
            check: health::Tracker::default(),
            check_round: 0,
        }
    }

    /// Alive in the sense of shutdown: something may still have to be stopped or waited for.
    pub(super) fn is_live(&self) -> bool {
        policy::is_live(self.state, self.abandoned())
    }

    /// Ready for its dependents: RUNNING, and its liveness check (if any) has passed.
    pub(super) fn is_ready(&self) -> bool {
        self.state == ProcessState::Running && (self.cfg.liveness.is_none() || self.check.ready)
    }

    /// Its run is over: a check of it that is pending or under way no longer counts.
    pub(super) fn end_checks(&mut self) {
        self.check.end_run();
        self.check_round += 1;
    }

    /// SIGKILL was sent and nobody waits for this process any more.
    pub(super) fn abandoned(&self) -> bool {
        self.stop.is_some_and(|s| s.abandoned)
    }

    pub(super) fn info(&self) -> ProcessInfo {
        ProcessInfo {
            name: self.cfg.name.clone(),
            group: self.cfg.group.clone(),
            state: self.state,
            pid: self.pid,
            start: self.laststart_wall,
            stop: self.laststop_wall,
            spawnerr: self.spawnerr.clone(),
            exitstatus: self.exitstatus,
            stdout_logfile: self.stdout.file_name.clone(),
            stderr_logfile: self.stderr.file_name.clone(),
            starts: self.starts,
            health: self.check.health.clone(),
        }
    }
}
