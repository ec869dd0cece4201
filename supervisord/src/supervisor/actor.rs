//! The supervisor actor: owns every process, applies every state change through
//! [`crate::process::state::next`], asks [`crate::process::policy`] what each exit, timer and
//! request leads to, and publishes each change. It waits on commands, child exits and timers
//! only; an idle daemon never wakes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use shared::config::{Config, GroupConfig, ProcessConfig};
use shared::{Fault, ProcessState, SupervisorState};
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;
use tokio_util::time::DelayQueue;
use tracing::{error, warn};

use crate::crit;
use crate::events::bus::PoolSpec;
use crate::events::dispatcher::Dispatcher;
use crate::events::{Bus, Event};
use crate::logging::capture::Pumps;
use crate::logging::mainlog::MainLog;
use crate::logging::sink::LogSink;
use crate::process::policy::{self, StartGate, TimerKind, TimerStep};
use crate::process::state::{Input, next};
use crate::reaper::Exit;

mod groups;
mod health;
mod jobs;
mod requests;
mod starting;
mod stopping;
mod triggers;

use super::handle::{Active, Command, DaemonStatus, Handle, ProcessInfo, Reply};
use super::spawner::{OsSpawner, Spawner};
use super::table::Process;

/// A pending timer of one process.
#[derive(Debug, Clone, Copy)]
struct Timer {
    /// The process's id (stable when groups are added or removed).
    id: u64,
    /// The process's `timer_gen` when this was set: a different one means it is stale.
    generation: u64,
    kind: TimerKind,
}

/// How the actor ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub exit_code: i32,
}

pub struct Supervisor {
    config: Arc<Config>,
    /// The process table, in start order (group priority, then process priority).
    procs: Vec<Process>,
    /// `group:name` → index in `procs`.
    by_name: HashMap<String, usize>,
    /// A live child's pid → its process's id: exits arrive by pid.
    by_pid: HashMap<i32, u64>,
    /// Process id → index in `procs`.
    by_id: HashMap<u64, usize>,
    next_id: u64,
    /// The config read by the last `reread`, which `add` takes groups from.
    pending: Option<Arc<Config>>,
    /// The active groups, in start order (changed by `add` and `remove`).
    groups: Vec<GroupConfig>,
    commands: mpsc::Receiver<Command>,
    exits: mpsc::UnboundedReceiver<Exit>,
    timers: DelayQueue<Timer>,
    bus: Bus,
    /// The event listener pools' task, started with the actor.
    dispatcher: Option<Dispatcher>,
    /// The daemon's state and identifier for readers that must not wait for the actor.
    status: watch::Sender<DaemonStatus>,
    /// RUNNING, or RESTARTING / SHUTDOWN while everything is being stopped.
    state: SupervisorState,
    /// Groups still to stop (start order; stopped from the end), during shutdown or reload.
    stop_groups: Vec<Vec<usize>>,
    /// Who asked for the shutdown: answered when the actor ends.
    shutdown_waiters: Vec<oneshot::Sender<()>>,
    /// The config a reload switches to once everything has stopped, and who asked.
    reload: Option<(Arc<Config>, oneshot::Sender<()>)>,
    /// Starts and restarts that wait: answered on RUNNING or on failure.
    start_waiters: Vec<(u64, Reply<ProcessInfo>)>,
    /// Stops that wait: answered once stopped.
    stop_waiters: Vec<(u64, Reply<ProcessInfo>)>,
    exit_code: i32,
    mainlog: MainLog,
    /// When "waiting for … to die" was last logged (every 3 s at most, as supervisor).
    last_wait_report: Option<Instant>,
    /// Everything is stopped: the actor ends.
    finished: bool,
    spawner: Box<dyn Spawner>,
    /// The tasks reading children's output: the daemon waits for them at exit, so no byte a
    /// child wrote is lost.
    pumps: Pumps,
    /// The commands running for processes (hooks, checks), by pid, and their timeouts.
    jobs: jobs::Jobs,
    job_timers: DelayQueue<(i32, u64)>,
    /// Liveness checks due: (process id, check round).
    checks: DelayQueue<(u64, u64)>,
    /// Results of HTTP and TCP checks, which run as tasks of their own.
    probe_results: mpsc::UnboundedReceiver<jobs::ProbeResult>,
    probe_sender: mpsc::UnboundedSender<jobs::ProbeResult>,
    /// The last hook's token (each hook gets the next).
    next_token: u64,
    /// The processes in force, for the file watcher and the scheduler.
    active: watch::Sender<Arc<Active>>,
    /// The fcgi groups' sockets, while a process of the group holds them.
    sockets: super::fcgi::Sockets,
    /// Shares of fcgi sockets held by processes a reload left behind (abandoned after SIGKILL),
    /// by pid: released when the kernel finally gives them up.
    orphan_sockets: HashMap<i32, super::fcgi::Key>,
}

impl Supervisor {
    /// Builds the actor and its handle. `exits` must receive every reaped child.
    pub fn new(
        config: Arc<Config>,
        mainlog: MainLog,
        exits: mpsc::UnboundedReceiver<Exit>,
    ) -> (Supervisor, Handle) {
        Self::with_spawner(config, mainlog, exits, Box::new(OsSpawner))
    }

    /// The same, with children started and signalled by `spawner`.
    pub fn with_spawner(
        config: Arc<Config>,
        mainlog: MainLog,
        exits: mpsc::UnboundedReceiver<Exit>,
        spawner: Box<dyn Spawner>,
    ) -> (Supervisor, Handle) {
        let (tx, commands) = mpsc::channel(256);
        let (bus, dispatcher) = Bus::new();
        let (status, status_rx) = watch::channel(DaemonStatus {
            state: SupervisorState::Running,
            identifier: Arc::from(config.supervisord.identifier.as_str()),
        });
        let (active, active_rx) = watch::channel(Arc::new(Active {
            config: config.clone(),
            processes: Vec::new(),
        }));
        let (probe_sender, probe_results) = mpsc::unbounded_channel();
        let handle = Handle {
            commands: tx,
            bus: bus.clone(),
            status: status_rx,
            active: active_rx,
        };
        let mut s = Supervisor {
            config: config.clone(),
            procs: Vec::new(),
            by_name: HashMap::new(),
            by_pid: HashMap::new(),
            by_id: HashMap::new(),
            next_id: 0,
            pending: None,
            groups: Vec::new(),
            commands,
            exits,
            timers: DelayQueue::new(),
            bus,
            dispatcher: Some(dispatcher),
            status,
            state: SupervisorState::Running,
            stop_groups: Vec::new(),
            shutdown_waiters: Vec::new(),
            reload: None,
            start_waiters: Vec::new(),
            stop_waiters: Vec::new(),
            exit_code: 0,
            mainlog,
            last_wait_report: None,
            finished: false,
            spawner,
            pumps: Pumps::default(),
            jobs: Default::default(),
            job_timers: DelayQueue::new(),
            checks: DelayQueue::new(),
            probe_results,
            probe_sender,
            next_token: 0,
            active,
            sockets: Default::default(),
            orphan_sockets: HashMap::new(),
        };
        s.load_table(config);
        (s, handle)
    }

    /// The tasks that read children's output (wait for them after the actor has ended).
    pub fn pumps(&self) -> Pumps {
        self.pumps.clone()
    }

    fn load_table(&mut self, config: Arc<Config>) {
        let sup = &config.supervisord;
        if !sup.nocleanup {
            for w in crate::logging::clear_auto_logs(&sup.childlogdir, &sup.identifier) {
                warn!("{w}");
            }
        }
        self.procs.clear();
        self.config = config.clone();
        self.status.send_modify(|s| {
            s.identifier = Arc::from(config.supervisord.identifier.as_str());
        });
        self.pending = None;
        self.groups = config.groups.clone();
        self.procs = Vec::with_capacity(config.groups.iter().map(|g| g.processes.len()).sum());
        for g in &config.groups {
            for p in &g.processes {
                let proc_ = self.make_process(p);
                self.procs.push(proc_);
            }
        }
        self.reindex();
        // As supervisor adds groups: each pool subscribes when its group is made, so it sees
        // its own PROCESS_GROUP_ADDED and those of the groups after it.
        self.bus.reset(&config.supervisord.identifier);
        for g in &config.groups {
            if let Some(pool) = PoolSpec::of(g) {
                self.bus.add_pool(pool);
            }
            self.bus.emit(Event::ProcessGroup {
                group: g.name.clone(),
                change: shared::events::GroupChange::Added,
            });
        }
    }

    /// A table entry for `p`, with its log sinks (AUTO files are created now, as Python does).
    pub(super) fn make_process(&mut self, p: &Arc<ProcessConfig>) -> Process {
        let sup = &self.config.supervisord;
        let sink = |channel: &'static str, cfg: &shared::config::LogConfig| {
            let auto = if cfg.targets.contains(&shared::config::LogTarget::Auto) {
                match crate::logging::create_auto_log(
                    &sup.childlogdir,
                    &p.name,
                    channel,
                    &sup.identifier,
                ) {
                    Ok(path) => Some(path),
                    Err(e) => {
                        error!(
                            "can't create AUTO {channel} log for '{}' in {}: {e}",
                            p.name,
                            sup.childlogdir.display()
                        );
                        None
                    }
                }
            } else {
                None
            };
            LogSink::new(
                &p.name,
                channel,
                cfg,
                auto.as_deref(),
                p.strip_ansi,
                &p.syslog,
            )
        };
        let out = sink("stdout", &p.stdout);
        let err = sink("stderr", &p.stderr);
        self.next_id += 1;
        Process::new(self.next_id, p.clone(), out, err)
    }

    /// Rebuilds the lookups and the dependency graph after the table changed.
    pub(super) fn reindex(&mut self) {
        self.by_name.clear();
        self.by_id.clear();
        for (i, p) in self.procs.iter().enumerate() {
            self.by_name.insert(p.full_name.clone(), i);
            self.by_id.insert(p.id, i);
        }
        for p in &mut self.procs {
            p.deps.clear();
            p.dependents.clear();
        }
        let n = self.procs.len();
        for i in 0..n {
            let deps: Vec<usize> = self.procs[i]
                .cfg
                .depends_on
                .iter()
                .flat_map(|d| {
                    self.procs
                        .iter()
                        .enumerate()
                        .filter(|(_, q)| matches_name(&q.cfg, d))
                        .map(|(j, _)| j)
                        .collect::<Vec<_>>()
                })
                .filter(|&j| j != i)
                .collect();
            for &j in &deps {
                self.procs[j].dependents.push(i);
            }
            self.procs[i].deps = deps;
        }
        self.active.send_replace(Arc::new(Active {
            config: self.config.clone(),
            processes: self.procs.iter().map(|p| p.cfg.clone()).collect(),
        }));
    }

    /// Runs until shutdown completes.
    pub async fn run(mut self) -> Outcome {
        if let Some(d) = self.dispatcher.take() {
            d.start();
        }
        self.publish_supervisor(SupervisorState::Running);
        self.start_autostart();
        while !self.finished {
            tokio::select! {
                Some(cmd) = self.commands.recv() => self.handle(cmd),
                Some(exit) = self.exits.recv() => {
                    if !self.job_exit(exit) {
                        self.on_exit(exit);
                    }
                }
                Some(t) = self.timers.next(), if !self.timers.is_empty() => self.on_timer(t.into_inner()),
                Some(t) = self.job_timers.next(), if !self.job_timers.is_empty() => self.job_timeout(t.into_inner()),
                Some(t) = self.checks.next(), if !self.checks.is_empty() => {
                    let (id, round) = t.into_inner();
                    self.run_check(id, round);
                }
                Some(r) = self.probe_results.recv() => self.probe_result(r),
                else => break,
            }
        }
        for w in self.shutdown_waiters.drain(..) {
            let _ = w.send(());
        }
        Outcome {
            exit_code: self.exit_code,
        }
    }

    /// The daemon is RUNNING: not stopping everything for a shutdown or a reload.
    fn running(&self) -> bool {
        self.state == SupervisorState::Running
    }

    fn start_autostart(&mut self) {
        for i in 0..self.procs.len() {
            if self.procs[i].cfg.autostart && self.procs[i].state == ProcessState::Stopped {
                let _ = self.start(i, None);
            }
        }
    }

    fn publish_supervisor(&self, to: SupervisorState) {
        self.status.send_modify(|s| s.state = to);
        self.bus.emit(Event::SupervisorStateChanged { to });
    }

    /// Applies one transition, publishes it, and reacts (waiters, dependencies, exit policy).
    fn change_state(&mut self, i: usize, input: Input) -> bool {
        let from = self.procs[i].state;
        let to = match next(from, input) {
            Ok(to) => to,
            Err(e) => {
                error!("{}: {e}", self.procs[i].full_name);
                return false;
            }
        };
        let p = &mut self.procs[i];
        p.state = to;
        if to == ProcessState::Backoff {
            p.backoff += 1;
        }
        if to != ProcessState::Stopping {
            p.stop = None;
        }
        if to == ProcessState::Unknown {
            // Nothing is known any more, so no start can be due after its stop.
            p.gate = StartGate::Open;
        }
        let expected =
            (to == ProcessState::Exited).then(|| p.cfg.exitcodes.contains(&p.exitstatus));
        self.bus.emit(Event::ProcessStateChanged {
            name: p.cfg.name.clone(),
            group: p.cfg.group.clone(),
            from,
            to,
            // EXITED and STOPPED show the pid of the process that ended, as supervisor's do.
            pid: match to {
                ProcessState::Exited | ProcessState::Stopped if p.pid == 0 => p.ended_pid,
                _ => p.pid,
            },
            tries: p.backoff,
            expected,
            at: std::time::SystemTime::now(),
        });
        if to != ProcessState::Running {
            self.procs[i].end_checks();
        }
        match to {
            // Ready now, unless a liveness check must pass first.
            ProcessState::Running if !self.begin_checks(i) => self.dependency_ready(i),
            ProcessState::Fatal => {
                self.dependency_failed(i);
                if self.running() && self.config.supervisord.shutdown_on_fatal {
                    crit!(
                        "{} entered FATAL state: shutting down (shutdown_on_fatal)",
                        self.procs[i].cfg.name
                    );
                    self.request_shutdown(1);
                } else if self.running() && self.exits_daemon(i) {
                    crit!(
                        "{} entered FATAL state: shutting down (shutdown_on_exit)",
                        self.procs[i].cfg.name
                    );
                    self.request_shutdown(1);
                }
            }
            ProcessState::Stopped if self.procs[i].gate == StartGate::AfterStop => {
                // The second half of a restart. Whoever waited for the stop is answered first
                // (the restart's own start waiter waits on, as the gate is not open yet).
                self.resolve_waiters(i);
                self.procs[i].gate = StartGate::Open;
                if self.running() {
                    let _ = self.start(i, None);
                }
            }
            _ => {}
        }
        self.resolve_waiters(i);
        true
    }

    fn exits_daemon(&self, i: usize) -> bool {
        let cfg = &self.procs[i].cfg;
        self.config
            .supervisord
            .shutdown_on_exit
            .iter()
            .any(|n| matches_name(cfg, n))
    }

    /// Answers the starts and stops of process `i` that waited for what just happened.
    fn resolve_waiters(&mut self, i: usize) {
        let p = &self.procs[i];
        let state = p.state;
        let mut k = 0;
        while k < self.start_waiters.len() {
            if self.start_waiters[k].0 != p.id {
                k += 1;
                continue;
            }
            let result = if state == ProcessState::Running {
                Some(Ok(p.info()))
            } else if p.gate != StartGate::Open {
                None
            } else if !p.spawnerr.is_empty() {
                Some(Err(Fault::SpawnError(p.full_name.clone())))
            } else if !matches!(state, ProcessState::Starting | ProcessState::Running) {
                Some(Err(Fault::AbnormalTermination(p.full_name.clone())))
            } else {
                None
            };
            match result {
                Some(r) => {
                    let (_, reply) = self.start_waiters.swap_remove(k);
                    let _ = reply.send(r);
                }
                None => k += 1,
            }
        }
        if state.is_stopped() {
            let mut k = 0;
            while k < self.stop_waiters.len() {
                if self.stop_waiters[k].0 == p.id {
                    let (_, reply) = self.stop_waiters.swap_remove(k);
                    let _ = reply.send(Ok(p.info()));
                } else {
                    k += 1;
                }
            }
        }
    }

    /// Answers the waiters whose process left the table (a reload, a removed group): their
    /// start or stop will not happen.
    fn drop_orphan_waiters(&mut self) {
        let by_id = &self.by_id;
        for waiters in [&mut self.start_waiters, &mut self.stop_waiters] {
            for (_, reply) in waiters.extract_if(.., |(id, _)| !by_id.contains_key(id)) {
                let _ = reply.send(Err(Fault::Failed(
                    "the process left the configuration before it could be started or stopped"
                        .into(),
                )));
            }
        }
    }

    fn schedule(&mut self, i: usize, kind: TimerKind, after: Duration) {
        let p = &mut self.procs[i];
        p.timer_gen += 1;
        self.timers.insert(
            Timer {
                id: p.id,
                generation: p.timer_gen,
                kind,
            },
            timer_span(after),
        );
    }

    fn on_timer(&mut self, t: Timer) {
        let Some(&i) = self.by_id.get(&t.id) else {
            return;
        };
        let Some(p) = self.procs.get(i) else {
            return;
        };
        if p.timer_gen != t.generation {
            return;
        }
        match policy::on_timer(t.kind, p.state, p.gate, self.running()) {
            TimerStep::EnterRunning => self.enter_running(i),
            TimerStep::Spawn => self.spawn(i, None),
            TimerStep::Escalate => self.escalate(i),
            TimerStep::Ignore => {}
        }
    }
}

/// The longest a timer is set for: tokio's timer wheel takes about two years at most (it
/// panics beyond), and a config may say `startsecs=99999999999`; a year stands for "never".
const LONGEST_TIMER: Duration = Duration::from_secs(365 * 86400);

pub(super) fn timer_span(d: Duration) -> Duration {
    d.min(LONGEST_TIMER)
}

/// `depends_on`/`shutdown_on_exit` names: a program, a group, `group:name`, or a process name.
fn matches_name(p: &ProcessConfig, name: &str) -> bool {
    p.program == name || p.group == name || p.name == name || p.full_name() == name
}

#[cfg(test)]
mod tests;
