//! The supervisor actor: owns every process, applies every state change through
//! [`crate::process::state::next`], and publishes each change. It waits on commands, child exits
//! and timers only; an idle daemon never wakes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use shared::config::{Config, ProcessConfig};
use shared::signals::Signal;
use shared::values::AutoRestart;
use shared::{Fault, ProcessState, SupervisorState};
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::time::DelayQueue;
use tracing::{debug, error, info, warn};

use crate::crit;
use crate::events::Event;
use crate::logging::capture;
use crate::logging::mainlog::MainLog;
use crate::logging::sink::LogSink;
use crate::process::kill::{self, KillError};
use crate::process::spawn::{self, SpawnSpec};
use crate::process::state::{Input, next};
use crate::reaper::{self, Exit};

use super::env;

mod groups;
use super::handle::{Command, Handle, ProcessInfo, Reply};
use super::table::{Process, wall_now};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mood {
    Running,
    Restarting,
    Shutdown,
}

#[derive(Debug, Clone, Copy)]
enum TimerKind {
    StartSecs,
    Backoff,
    StopEscalate,
    RestartPause,
}

#[derive(Debug, Clone, Copy)]
struct Timer {
    /// The process's id (stable when groups are added or removed).
    id: u64,
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
    procs: Vec<Process>,
    by_name: HashMap<String, usize>,
    by_pid: HashMap<i32, u64>,
    /// Process id → index in `procs`.
    by_id: HashMap<u64, usize>,
    next_id: u64,
    /// The config read by the last `reread`, which `add` takes groups from.
    pending: Option<Arc<Config>>,
    /// The active groups, in start order (changed by `add` and `remove`).
    groups: Vec<shared::config::GroupConfig>,
    commands: mpsc::Receiver<Command>,
    exits: mpsc::UnboundedReceiver<Exit>,
    timers: DelayQueue<Timer>,
    events: broadcast::Sender<Event>,
    mood: Mood,
    /// Groups still to stop (start order; stopped from the end), during shutdown or reload.
    stop_groups: Vec<Vec<usize>>,
    shutdown_waiters: Vec<oneshot::Sender<()>>,
    reload: Option<(Arc<Config>, oneshot::Sender<()>)>,
    start_waiters: Vec<(u64, Reply<ProcessInfo>)>,
    stop_waiters: Vec<(u64, Reply<ProcessInfo>)>,
    exit_code: i32,
    mainlog: MainLog,
    last_wait_report: Option<Instant>,
    finished: bool,
}

impl Supervisor {
    /// Builds the actor and its handle. `exits` must receive every reaped child.
    pub fn new(
        config: Arc<Config>,
        mainlog: MainLog,
        exits: mpsc::UnboundedReceiver<Exit>,
    ) -> (Supervisor, Handle) {
        let (tx, commands) = mpsc::channel(256);
        let events = crate::events::channel();
        let handle = Handle {
            commands: tx,
            events: events.clone(),
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
            events,
            mood: Mood::Running,
            stop_groups: Vec::new(),
            shutdown_waiters: Vec::new(),
            reload: None,
            start_waiters: Vec::new(),
            stop_waiters: Vec::new(),
            exit_code: 0,
            mainlog,
            last_wait_report: None,
            finished: false,
        };
        s.load_table(config);
        (s, handle)
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
        self.pending = None;
        self.groups = config.groups.clone();
        for p in config.processes() {
            let proc_ = self.make_process(p);
            self.procs.push(proc_);
        }
        self.reindex();
    }

    /// A table entry for `p`, with its log sinks (AUTO files are created now, as Python does).
    pub(super) fn make_process(&mut self, p: &ProcessConfig) -> Process {
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
    }

    /// Runs until shutdown completes.
    pub async fn run(mut self) -> Outcome {
        self.publish_supervisor(SupervisorState::Running);
        self.start_autostart();
        while !self.finished {
            tokio::select! {
                Some(cmd) = self.commands.recv() => self.handle(cmd),
                Some(exit) = self.exits.recv() => self.on_exit(exit),
                Some(t) = self.timers.next(), if !self.timers.is_empty() => self.on_timer(t.into_inner()),
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

    fn start_autostart(&mut self) {
        for i in 0..self.procs.len() {
            if self.procs[i].cfg.autostart && self.procs[i].state == ProcessState::Stopped {
                let _ = self.start(i);
            }
        }
    }

    fn publish_supervisor(&self, to: SupervisorState) {
        let _ = self.events.send(Event::SupervisorStateChanged { to });
    }

    // ----- commands -------------------------------------------------------------------------

    fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Status { reply } => {
                let _ = reply.send(self.procs.iter().map(Process::info).collect());
            }
            Command::State { reply } => {
                let _ = reply.send(match self.mood {
                    Mood::Running => SupervisorState::Running,
                    Mood::Restarting => SupervisorState::Restarting,
                    Mood::Shutdown => SupervisorState::Shutdown,
                });
            }
            Command::Start { name, wait, reply } => self.start_or_stop(&name, wait, reply, true),
            Command::Stop { name, wait, reply } => self.start_or_stop(&name, wait, reply, false),
            Command::Info { name, reply } => {
                let r = self.lookup(&name).map(|i| self.procs[i].info());
                let _ = reply.send(r.ok_or(Fault::BadName(name)));
            }
            Command::Signal {
                name,
                signal,
                reply,
            } => {
                let _ = reply.send(self.signal_request(&name, &signal));
            }
            Command::SendStdin { name, data, reply } => {
                let _ = reply.send(self.send_stdin(&name, &data));
            }
            Command::ClearLogs { name, reply } => {
                let r = match self.lookup(&name) {
                    None => Err(Fault::BadName(name)),
                    Some(i) => self.clear_logs(i),
                };
                let _ = reply.send(r);
            }
            Command::Follow {
                name,
                stderr,
                reply,
            } => {
                let r = match self.lookup(&name) {
                    None => Err(Fault::BadName(name)),
                    Some(i) => {
                        let p = &self.procs[i];
                        let sink = if stderr { &p.stderr } else { &p.stdout };
                        let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                        Ok((s.file_path().map(ToOwned::to_owned), s.follow()))
                    }
                };
                let _ = reply.send(r);
            }
            Command::Configs { reply } => {
                // Active processes, then those of groups the last reread found but not added.
                let mut v: Vec<(ProcessConfig, i64, bool)> = self
                    .groups
                    .iter()
                    .flat_map(|g| g.processes.iter().map(|p| (p.clone(), g.priority, true)))
                    .collect();
                if let Some(pending) = &self.pending {
                    for g in &pending.groups {
                        if !self.groups.iter().any(|a| a.name == g.name) {
                            v.extend(g.processes.iter().map(|p| (p.clone(), g.priority, false)));
                        }
                    }
                }
                let _ = reply.send(v);
            }
            Command::Reread { config, reply } => {
                let r = if self.mood == Mood::Running {
                    Ok(self.reread(config))
                } else {
                    Err(Fault::ShutdownState)
                };
                let _ = reply.send(r);
            }
            Command::AddGroup { name, reply } => {
                let _ = reply.send(self.add_group(&name));
            }
            Command::RemoveGroup { name, reply } => {
                let _ = reply.send(self.remove_group(&name));
            }
            Command::Shutdown { reply } => {
                self.shutdown_waiters.push(reply);
                if self.mood != Mood::Shutdown {
                    self.begin_stop_all(Mood::Shutdown);
                }
            }
            Command::Reload { config, reply } => {
                if self.mood == Mood::Shutdown {
                    let _ = reply.send(());
                    return;
                }
                self.reload = Some((config, reply));
                if self.mood != Mood::Restarting {
                    self.begin_stop_all(Mood::Restarting);
                }
            }
            Command::ReopenLogs => self.reopen_logs(),
        }
    }

    /// A client's start or stop of one process; with `wait`, the reply waits for the effect.
    fn start_or_stop(&mut self, name: &str, wait: bool, reply: Reply<ProcessInfo>, start: bool) {
        if self.mood != Mood::Running {
            let _ = reply.send(Err(Fault::ShutdownState));
            return;
        }
        let Some(i) = self.lookup(name) else {
            let _ = reply.send(Err(Fault::BadName(name.to_owned())));
            return;
        };
        let result = if start {
            self.precheck(i).and_then(|()| self.start(i))
        } else {
            self.stop_request(i)
        };
        match result {
            Err(f) => {
                let _ = reply.send(Err(f));
            }
            Ok(()) if wait && start => self.start_waiters.push((self.procs[i].id, reply)),
            Ok(()) if wait => self.stop_waiters.push((self.procs[i].id, reply)),
            Ok(()) => {
                let _ = reply.send(Ok(self.procs[i].info()));
            }
        }
        self.resolve_waiters(i);
    }

    /// startProcess's checks before anything changes: the command must exist and be runnable
    /// (NO_FILE, NOT_EXECUTABLE), and the process must not be running (ALREADY_STARTED).
    fn precheck(&self, i: usize) -> Result<(), Fault> {
        let p = &self.procs[i];
        if p.state.is_running() {
            return Err(Fault::AlreadyStarted(p.full_name.clone()));
        }
        if p.state == ProcessState::Unknown {
            return Err(Fault::Failed(format!(
                "{} is in an unknown state",
                p.full_name
            )));
        }
        let Some(program) = p.cfg.argv.first() else {
            return Err(Fault::NoFile("command is empty".into()));
        };
        let path = p
            .cfg
            .environment
            .iter()
            .rev()
            .chain(self.config.supervisord.environment.iter().rev())
            .find(|(k, _)| k == "PATH")
            .map(|(_, v)| std::ffi::OsString::from(v))
            .or_else(|| std::env::var_os("PATH"));
        match spawn::resolve_command(program, path.as_deref()) {
            Ok(_) => Ok(()),
            Err(spawn::ResolveError::NotFound(m)) => Err(Fault::NoFile(m)),
            Err(spawn::ResolveError::NotExecutable(m)) => Err(Fault::NotExecutable(m)),
        }
    }

    fn signal_request(&mut self, name: &str, signal: &str) -> Result<(), Fault> {
        if self.mood != Mood::Running {
            return Err(Fault::ShutdownState);
        }
        let i = self
            .lookup(name)
            .ok_or_else(|| Fault::BadName(name.to_owned()))?;
        let sig = Signal::parse(signal).map_err(|_| Fault::BadSignal(signal.to_owned()))?;
        let p = &self.procs[i];
        if !p.state.is_signallable() || p.pid == 0 {
            return Err(Fault::NotRunning(p.full_name.clone()));
        }
        match kill::send(p.pid, sig, false) {
            Ok(()) | Err(KillError::Gone) => Ok(()),
            Err(KillError::Other(e)) => Err(Fault::Failed(format!("{}: {e}", p.full_name))),
        }
    }

    fn send_stdin(&mut self, name: &str, data: &[u8]) -> Result<(), Fault> {
        if self.mood != Mood::Running {
            return Err(Fault::ShutdownState);
        }
        let i = self
            .lookup(name)
            .ok_or_else(|| Fault::BadName(name.to_owned()))?;
        let p = &mut self.procs[i];
        if p.pid == 0 || p.killing {
            return Err(Fault::NotRunning(p.full_name.clone()));
        }
        let Some(fd) = p.stdin.as_ref() else {
            return Err(Fault::NoFile(p.full_name.clone()));
        };
        let mut rest = data;
        while !rest.is_empty() {
            match nix::unistd::write(fd, rest) {
                Ok(n) => rest = &rest[n..],
                Err(nix::errno::Errno::EINTR) => {}
                Err(nix::errno::Errno::EPIPE) => {
                    p.stdin = None;
                    return Err(Fault::NoFile(p.full_name.clone()));
                }
                Err(nix::errno::Errno::EAGAIN) => {
                    return Err(Fault::Failed(format!(
                        "{}: stdin is full (the process is not reading it)",
                        p.full_name
                    )));
                }
                Err(e) => return Err(Fault::Failed(format!("{}: {e}", p.full_name))),
            }
        }
        Ok(())
    }

    fn clear_logs(&mut self, i: usize) -> Result<(), Fault> {
        let p = &self.procs[i];
        for sink in [&p.stdout, &p.stderr] {
            sink.lock()
                .unwrap_or_else(|e| e.into_inner())
                .clear()
                .map_err(|e| Fault::Failed(format!("{}: {e}", p.full_name)))?;
        }
        Ok(())
    }

    /// `group:name`, or `name` for a process alone in its group of the same name.
    fn lookup(&self, name: &str) -> Option<usize> {
        match name.split_once(':') {
            Some(_) => self.by_name.get(name).copied(),
            None => self.by_name.get(&format!("{name}:{name}")).copied(),
        }
    }

    fn reopen_logs(&mut self) {
        info!("supervisord logreopen");
        if let Err(e) = self.mainlog.reopen() {
            error!("{e}");
        }
        for p in &self.procs {
            for sink in [&p.stdout, &p.stderr] {
                for r in sink.lock().unwrap_or_else(|e| e.into_inner()).reopen() {
                    error!("{r}");
                }
            }
        }
    }

    // ----- state changes ----------------------------------------------------------------------

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
        let expected =
            (to == ProcessState::Exited).then(|| p.cfg.exitcodes.contains(&p.exitstatus));
        let _ = self.events.send(Event::ProcessStateChanged {
            name: p.cfg.name.clone(),
            group: p.cfg.group.clone(),
            from,
            to,
            pid: p.pid,
            tries: p.backoff,
            expected,
            at: std::time::SystemTime::now(),
        });
        match to {
            ProcessState::Running => self.dependency_ready(i),
            ProcessState::Fatal => {
                self.dependency_failed(i);
                if self.mood == Mood::Running && self.config.supervisord.shutdown_on_fatal {
                    crit!(
                        "{} entered FATAL state: shutting down (shutdown_on_fatal)",
                        self.procs[i].cfg.name
                    );
                    self.request_shutdown(1);
                } else if self.mood == Mood::Running && self.exits_daemon(i) {
                    crit!(
                        "{} entered FATAL state: shutting down (shutdown_on_exit)",
                        self.procs[i].cfg.name
                    );
                    self.request_shutdown(1);
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
            } else if !p.spawnerr.is_empty() {
                Some(Err(Fault::SpawnError(p.full_name.clone())))
            } else if !matches!(state, ProcessState::Starting | ProcessState::Running)
                && !p.waiting_deps
                && !p.pending_start
            {
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

    fn schedule(&mut self, i: usize, kind: TimerKind, after: Duration) {
        let p = &mut self.procs[i];
        p.timer_gen += 1;
        self.timers.insert(
            Timer {
                id: p.id,
                generation: p.timer_gen,
                kind,
            },
            after,
        );
    }

    // ----- starting ---------------------------------------------------------------------------

    /// A start request (or autostart): waits for dependencies and restartpause, then spawns.
    fn start(&mut self, i: usize) -> Result<(), Fault> {
        let p = &self.procs[i];
        if p.state.is_running() || p.state == ProcessState::Stopping {
            return Err(Fault::AlreadyStarted(p.full_name.clone()));
        }
        if p.waiting_deps || p.pending_start {
            return Ok(());
        }
        let unmet: Vec<usize> = p
            .deps
            .iter()
            .copied()
            .filter(|&d| self.procs[d].state != ProcessState::Running)
            .collect();
        if !unmet.is_empty() {
            self.procs[i].waiting_deps = true;
            self.procs[i].spawnerr.clear();
            let names: Vec<String> = unmet
                .iter()
                .map(|&d| self.procs[d].full_name.clone())
                .collect();
            info!(
                "{} waits for {} to be RUNNING (depends_on)",
                self.procs[i].cfg.name,
                names.join(", ")
            );
            for d in unmet {
                if self.procs[d].state.is_stopped() {
                    let _ = self.start(d);
                }
            }
            return Ok(());
        }
        let p = &self.procs[i];
        if let Some(stop) = p.laststop {
            let pause = Duration::from_secs(p.cfg.restartpause);
            let since = stop.elapsed();
            if since < pause {
                self.procs[i].pending_start = true;
                self.schedule(i, TimerKind::RestartPause, pause - since);
                return Ok(());
            }
        }
        self.spawn(i);
        Ok(())
    }

    fn dependency_ready(&mut self, i: usize) {
        if self.mood != Mood::Running {
            return;
        }
        for d in self.procs[i].dependents.clone() {
            let q = &self.procs[d];
            if q.waiting_deps
                && q.deps
                    .iter()
                    .all(|&x| self.procs[x].state == ProcessState::Running)
            {
                self.procs[d].waiting_deps = false;
                let _ = self.start(d);
            }
        }
    }

    fn dependency_failed(&mut self, i: usize) {
        let name = self.procs[i].full_name.clone();
        for d in self.procs[i].dependents.clone() {
            if self.procs[d].waiting_deps {
                let q = &mut self.procs[d];
                q.waiting_deps = false;
                q.spawnerr = format!("dependency '{name}' entered FATAL state; not started");
                warn!("not starting {}: {}", q.cfg.name, q.spawnerr);
                self.resolve_waiters(d);
                self.dependency_failed(d);
            }
        }
    }

    fn spawn(&mut self, i: usize) {
        let p = &mut self.procs[i];
        if p.pid != 0 {
            warn!("process '{}' already running", p.cfg.name);
            return;
        }
        p.killing = false;
        p.spawnerr.clear();
        p.exitstatus = 0;
        p.stop_step = 0;
        p.abandoned = false;
        p.waiting_deps = false;
        p.pending_start = false;
        p.laststart = Some(Instant::now());
        p.laststart_wall = wall_now();
        if !self.change_state(i, Input::Start) {
            return;
        }
        match self.fork_exec(i) {
            Ok(pid) => {
                let p = &mut self.procs[i];
                p.pid = pid;
                p.starts += 1;
                self.by_pid.insert(pid, p.id);
                info!("spawned: '{}' with pid {pid}", p.cfg.name);
                let startsecs = p.cfg.startsecs;
                if startsecs == 0 {
                    self.enter_running(i);
                } else {
                    self.schedule(i, TimerKind::StartSecs, Duration::from_secs(startsecs));
                }
            }
            Err(msg) => {
                info!("spawnerr: {msg}");
                self.procs[i].spawnerr = msg;
                self.failed_start(i);
            }
        }
    }

    /// Everything from the config to a running child; errors are supervisor's spawnerr texts.
    fn fork_exec(&mut self, i: usize) -> Result<i32, String> {
        let p = &self.procs[i];
        let cfg = &p.cfg;
        let Some(program) = cfg.argv.first() else {
            return Err("command is empty".into());
        };
        let user = match &cfg.user {
            Some(u) => Some(spawn::lookup_user(u)?),
            None => None,
        };
        let env = env::child_env(&self.config, cfg, user.as_ref())?;
        let filename = spawn::resolve_command(program, env::path_for(&env).as_deref())
            .map_err(|e| e.message().to_owned())?;
        let capture =
            |sink: &capture::SharedSink| !sink.lock().unwrap_or_else(|e| e.into_inner()).is_empty();
        let spec = SpawnSpec {
            argv: cfg.argv.clone(),
            env,
            directory: cfg.directory.clone(),
            umask: cfg.umask,
            user,
            capture_stdout: capture(&p.stdout),
            capture_stderr: capture(&p.stderr),
            redirect_stderr: cfg.redirect_stderr,
        };
        for sink in [&p.stdout, &p.stderr] {
            for r in sink.lock().unwrap_or_else(|e| e.into_inner()).open() {
                error!("{r}");
            }
        }
        let child =
            spawn::spawn(&filename, &spec).map_err(|e| format!("{e} for '{}'", cfg.name))?;
        let p = &mut self.procs[i];
        for (fd, sink) in [(child.stdout, &p.stdout), (child.stderr, &p.stderr)] {
            if let Some(fd) = fd
                && let Err(e) = capture::pump(fd, sink.clone())
            {
                error!("can't read output of '{}': {e}", p.cfg.name);
            }
        }
        if let Some(fd) = &child.stdin {
            // Writes from clients must never block the actor.
            let flags = nix::fcntl::fcntl(fd, nix::fcntl::FcntlArg::F_GETFL)
                .map(nix::fcntl::OFlag::from_bits_truncate)
                .unwrap_or(nix::fcntl::OFlag::empty());
            let _ = nix::fcntl::fcntl(
                fd,
                nix::fcntl::FcntlArg::F_SETFL(flags | nix::fcntl::OFlag::O_NONBLOCK),
            );
        }
        p.stdin = child.stdin;
        Ok(child.pid)
    }

    fn enter_running(&mut self, i: usize) {
        let p = &mut self.procs[i];
        p.backoff = 0;
        info!(
            "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
            p.cfg.name, p.cfg.startsecs
        );
        self.change_state(i, Input::StartSecsElapsed);
    }

    /// STARTING → BACKOFF, then a retry after `backoff` seconds, or FATAL.
    fn failed_start(&mut self, i: usize) {
        if !self.change_state(i, Input::FailedStart) {
            return;
        }
        let p = &self.procs[i];
        if self.mood != Mood::Running {
            self.give_up(i, false);
        } else if p.backoff > p.cfg.startretries {
            self.give_up(i, true);
        } else {
            let delay = Duration::from_secs(p.backoff);
            self.schedule(i, TimerKind::Backoff, delay);
        }
    }

    fn give_up(&mut self, i: usize, log: bool) {
        let p = &mut self.procs[i];
        p.backoff = 0;
        p.timer_gen += 1;
        if log {
            info!(
                "gave up: {} entered FATAL state, too many start retries too quickly",
                p.cfg.name
            );
        }
        self.change_state(i, Input::GiveUp);
    }

    // ----- exits ------------------------------------------------------------------------------

    fn on_exit(&mut self, exit: Exit) {
        let Some(i) = self
            .by_pid
            .remove(&exit.pid)
            .and_then(|id| self.by_id.get(&id).copied())
        else {
            let (_, msg) = reaper::describe(exit.status);
            debug!("reaped unknown pid {} ({msg})", exit.pid);
            return;
        };
        let (es, msg) = reaper::describe(exit.status);
        let p = &mut self.procs[i];
        p.pid = 0;
        p.stdin = None;
        p.timer_gen += 1;
        p.laststop = Some(Instant::now());
        p.laststop_wall = wall_now();
        let name = p.cfg.name.clone();
        let expected = p.cfg.exitcodes.contains(&es);
        let too_quickly = p.state == ProcessState::Starting
            && p.laststart
                .is_some_and(|t| t.elapsed() < Duration::from_secs(p.cfg.startsecs));
        if p.killing {
            p.killing = false;
            p.exitstatus = es;
            if expected {
                info!("stopped: {name} ({msg})");
            } else {
                warn!("stopped: {name} ({msg})");
            }
            if p.state == ProcessState::Stopping {
                self.change_state(i, Input::Reaped);
            }
        } else if too_quickly {
            p.exitstatus = 0;
            p.spawnerr = "Exited too quickly (process log may have details)".into();
            warn!("exited: {name} ({msg}; not expected)");
            self.failed_start(i);
        } else {
            p.backoff = 0;
            p.exitstatus = es;
            if p.state == ProcessState::Starting {
                // Reached startsecs but the timer had not fired yet.
                self.change_state(i, Input::StartSecsElapsed);
            }
            let p = &mut self.procs[i];
            if expected {
                info!("exited: {name} ({msg}; expected)");
            } else {
                p.spawnerr = format!("Bad exit code {es}");
                warn!("exited: {name} ({msg}; not expected)");
            }
            self.change_state(i, Input::Exit);
            if self.mood == Mood::Running && self.exits_daemon(i) {
                let code = match exit.status {
                    nix::sys::wait::WaitStatus::Signaled(_, sig, _) => 128 + sig as i32,
                    _ => es,
                };
                crit!("{name} exited: shutting down (shutdown_on_exit), exit status {code}");
                self.request_shutdown(code);
            } else if self.mood == Mood::Running {
                let p = &self.procs[i];
                let restart = match p.cfg.autorestart {
                    AutoRestart::Always => true,
                    AutoRestart::Unexpected => !expected,
                    AutoRestart::Never => false,
                };
                if restart {
                    let _ = self.start(i);
                }
            }
        }
        if self.mood != Mood::Running {
            self.progress_stop_all();
        }
    }

    // ----- stopping ---------------------------------------------------------------------------

    /// A stop request from a client.
    fn stop_request(&mut self, i: usize) -> Result<(), Fault> {
        let p = &mut self.procs[i];
        if p.waiting_deps || p.pending_start {
            p.waiting_deps = false;
            p.pending_start = false;
            p.timer_gen += 1;
            return Ok(());
        }
        if !p.state.is_running() && p.state != ProcessState::Stopping {
            return Err(Fault::NotRunning(p.full_name.clone()));
        }
        self.stop(i);
        Ok(())
    }

    /// supervisor's `stop()`/`kill()`: BACKOFF → STOPPED at once; otherwise send the first stop
    /// signal and escalate after stopwaitsecs.
    fn stop(&mut self, i: usize) {
        let p = &mut self.procs[i];
        if p.state == ProcessState::Backoff {
            debug!(
                "Attempted to kill {}, which is in BACKOFF state.",
                p.cfg.name
            );
            p.timer_gen += 1;
            self.change_state(i, Input::Cancel);
            return;
        }
        if p.pid == 0 {
            debug!(
                "attempted to kill {} with sig {} but it wasn't running",
                p.cfg.name,
                p.cfg.stopsignals.first().copied().unwrap_or(Signal::TERM)
            );
            return;
        }
        if p.state == ProcessState::Stopping {
            return;
        }
        let sig = p.cfg.stopsignals.first().copied().unwrap_or(Signal::TERM);
        p.stop_step = 1;
        self.signal_for_stop(i, sig, self.procs[i].cfg.stopasgroup);
    }

    fn signal_for_stop(&mut self, i: usize, sig: Signal, group: bool) {
        let p = &mut self.procs[i];
        let as_group = if group { "process group " } else { "" };
        debug!(
            "killing {} (pid {}) {as_group}with signal {sig}",
            p.cfg.name, p.pid
        );
        p.killing = true;
        let wait = if sig == Signal::KILL {
            p.cfg.killwaitsecs
        } else {
            p.cfg.stopwaitsecs
        };
        let pid = p.pid;
        let name = p.cfg.name.clone();
        if self.procs[i].state != ProcessState::Stopping && !self.change_state(i, Input::Stop) {
            return;
        }
        match kill::send(pid, sig, group) {
            Ok(()) | Err(KillError::Gone) => {
                self.schedule(i, TimerKind::StopEscalate, Duration::from_secs(wait));
            }
            Err(KillError::Other(e)) => {
                crit!("unknown problem killing {name} ({pid}): {e}");
                let p = &mut self.procs[i];
                p.killing = false;
                self.change_state(i, Input::Lost);
            }
        }
    }

    fn escalate(&mut self, i: usize) {
        let p = &self.procs[i];
        if p.state != ProcessState::Stopping || p.pid == 0 {
            return;
        }
        let n = p.cfg.stopsignals.len();
        if p.stop_step < n {
            let sig = p.cfg.stopsignals[p.stop_step];
            self.procs[i].stop_step += 1;
            self.signal_for_stop(i, sig, self.procs[i].cfg.stopasgroup);
        } else if p.stop_step == n {
            warn!("killing '{}' ({}) with SIGKILL", p.cfg.name, p.pid);
            self.procs[i].stop_step += 1;
            self.signal_for_stop(i, Signal::KILL, self.procs[i].cfg.killasgroup);
        } else {
            error!(
                "'{}' (pid {}) is still alive {}s after SIGKILL (stuck in the kernel?); no longer waiting for it",
                p.cfg.name, p.pid, p.cfg.killwaitsecs
            );
            self.procs[i].abandoned = true;
            if self.mood != Mood::Running {
                self.progress_stop_all();
            }
        }
    }

    fn request_shutdown(&mut self, code: i32) {
        if self.mood == Mood::Shutdown {
            return;
        }
        self.exit_code = code;
        self.begin_stop_all(Mood::Shutdown);
    }

    /// Stops every process group by group in reverse start order (dependents before what they
    /// depend on), then shuts down or reloads.
    fn begin_stop_all(&mut self, mood: Mood) {
        self.mood = mood;
        self.publish_supervisor(match mood {
            Mood::Shutdown => SupervisorState::Shutdown,
            _ => SupervisorState::Restarting,
        });
        let mut groups: Vec<Vec<usize>> = Vec::new();
        let mut last_group: Option<&str> = None;
        for (i, p) in self.procs.iter().enumerate() {
            if last_group != Some(p.cfg.group.as_str()) {
                groups.push(Vec::new());
                last_group = Some(&p.cfg.group);
            }
            if let Some(g) = groups.last_mut() {
                g.push(i);
            }
        }
        for p in &mut self.procs {
            if p.waiting_deps || p.pending_start {
                p.waiting_deps = false;
                p.pending_start = false;
                p.timer_gen += 1;
            }
        }
        self.stop_groups = groups;
        self.progress_stop_all();
    }

    fn progress_stop_all(&mut self) {
        if self.finished {
            return;
        }
        while let Some(group) = self.stop_groups.last().cloned() {
            let mut waiting = Vec::new();
            for &i in group.iter().rev() {
                self.stop_for_shutdown(i, &mut waiting);
            }
            if !waiting.is_empty() {
                let due = self
                    .last_wait_report
                    .is_none_or(|t| t.elapsed() >= Duration::from_secs(3));
                if due {
                    self.last_wait_report = Some(Instant::now());
                    waiting.dedup();
                    let names: Vec<&str> = waiting
                        .iter()
                        .map(|&k| self.procs[k].cfg.name.as_str())
                        .collect();
                    info!("waiting for {} to die", names.join(", "));
                }
                return;
            }
            self.stop_groups.pop();
        }
        self.stop_all_done();
    }

    fn stop_for_shutdown(&mut self, i: usize, waiting: &mut Vec<usize>) {
        if !self.procs[i].is_live() {
            return;
        }
        let live_dependents: Vec<usize> = self.procs[i]
            .dependents
            .iter()
            .copied()
            .filter(|&d| self.procs[d].is_live())
            .collect();
        if !live_dependents.is_empty() {
            for d in live_dependents {
                self.stop_for_shutdown(d, waiting);
            }
            waiting.push(i);
            return;
        }
        match self.procs[i].state {
            ProcessState::Backoff => self.give_up(i, false),
            ProcessState::Running | ProcessState::Starting => {
                self.stop(i);
                if self.procs[i].is_live() {
                    waiting.push(i);
                }
            }
            ProcessState::Stopping => waiting.push(i),
            _ => {}
        }
    }

    fn stop_all_done(&mut self) {
        match self.mood {
            Mood::Shutdown => self.finished = true,
            Mood::Restarting => {
                let Some((config, reply)) = self.reload.take() else {
                    self.mood = Mood::Running;
                    return;
                };
                self.timers.clear();
                self.by_pid.retain(|_, _| false);
                self.load_table(config);
                self.mood = Mood::Running;
                self.publish_supervisor(SupervisorState::Running);
                self.start_autostart();
                let _ = reply.send(());
            }
            Mood::Running => {}
        }
    }

    // ----- timers -----------------------------------------------------------------------------

    fn on_timer(&mut self, t: Timer) {
        let Some(&idx) = self.by_id.get(&t.id) else {
            return;
        };
        let Some(p) = self.procs.get(idx) else {
            return;
        };
        if p.timer_gen != t.generation {
            return;
        }
        match t.kind {
            TimerKind::StartSecs => {
                if p.state == ProcessState::Starting {
                    self.enter_running(idx);
                }
            }
            TimerKind::Backoff => {
                if p.state == ProcessState::Backoff && self.mood == Mood::Running {
                    self.spawn(idx);
                }
            }
            TimerKind::RestartPause => {
                if p.pending_start && p.state.is_stopped() && self.mood == Mood::Running {
                    self.procs[idx].pending_start = false;
                    self.spawn(idx);
                }
            }
            TimerKind::StopEscalate => self.escalate(idx),
        }
    }
}

/// `depends_on`/`shutdown_on_exit` names: a program, a group, `group:name`, or a process name.
fn matches_name(p: &ProcessConfig, name: &str) -> bool {
    p.program == name || p.group == name || p.name == name || p.full_name() == name
}
