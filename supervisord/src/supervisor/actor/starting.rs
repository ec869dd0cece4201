//! Starting: dependencies, restartpause, spawning, startsecs, backoff; and exits.

use std::time::Duration;

use shared::{Fault, ProcessState};
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::Supervisor;
use super::jobs::Purpose;
use crate::crit;
use crate::process::policy::{
    self, AfterExit, ExitFacts, ExitRules, ExitVerdict, Retry, StartGate, StartStep, TimerKind,
};
use crate::process::spawn::{SpawnError, SpawnSpec};
use crate::process::state::Input;
use crate::reaper::{self, Exit};
use crate::supervisor::child_io;
use crate::supervisor::env::{self, Prepared};
use crate::supervisor::table::wall_now;

impl Supervisor {
    /// A start request (or autostart, autorestart): waits for dependencies and restartpause,
    /// then spawns. `prepared`: the spawn's system facts, when the caller has them already.
    pub(super) fn start(&mut self, i: usize, prepared: Option<Prepared>) -> Result<(), Fault> {
        let p = &self.procs[i];
        let dependencies_running = p.deps.iter().all(|&d| self.procs[d].is_ready());
        let step = policy::start_step(
            p.state,
            p.gate,
            dependencies_running,
            p.laststop.map(|t| t.elapsed()),
            Duration::from_secs(p.cfg.restartpause),
        );
        match step {
            StartStep::AlreadyStarted => return Err(Fault::AlreadyStarted(p.full_name.clone())),
            StartStep::Pending => {}
            StartStep::WaitForDependencies => self.wait_for_dependencies(i),
            StartStep::Pause(pause) => {
                self.procs[i].gate = StartGate::RestartPause;
                self.schedule(i, TimerKind::RestartPause, pause);
            }
            StartStep::Spawn => self.spawn(i, prepared),
        }
        Ok(())
    }

    fn wait_for_dependencies(&mut self, i: usize) {
        let unmet: Vec<usize> = self.procs[i]
            .deps
            .iter()
            .copied()
            .filter(|&d| !self.procs[d].is_ready())
            .collect();
        let p = &mut self.procs[i];
        p.gate = StartGate::WaitingDeps;
        p.spawnerr.clear();
        let names: Vec<&str> = unmet
            .iter()
            .map(|&d| self.procs[d].full_name.as_str())
            .collect();
        info!(
            "{} waits for {} to be ready (depends_on)",
            self.procs[i].cfg.name,
            names.join(", ")
        );
        for d in unmet {
            if self.procs[d].state.is_stopped() {
                let _ = self.start(d, None);
            }
        }
    }

    pub(super) fn dependency_ready(&mut self, i: usize) {
        if !self.running() {
            return;
        }
        for d in self.procs[i].dependents.clone() {
            let q = &self.procs[d];
            if q.gate == StartGate::WaitingDeps && q.deps.iter().all(|&x| self.procs[x].is_ready())
            {
                self.procs[d].gate = StartGate::Open;
                let _ = self.start(d, None);
            }
        }
    }

    pub(super) fn dependency_failed(&mut self, i: usize) {
        let name = self.procs[i].full_name.clone();
        for d in self.procs[i].dependents.clone() {
            if self.procs[d].gate == StartGate::WaitingDeps {
                let q = &mut self.procs[d];
                q.gate = StartGate::Open;
                q.spawnerr = format!("dependency '{name}' entered FATAL state; not started");
                warn!("not starting {}: {}", q.cfg.name, q.spawnerr);
                self.resolve_waiters(d);
                self.dependency_failed(d);
            }
        }
    }

    pub(super) fn spawn(&mut self, i: usize, prepared: Option<Prepared>) {
        let p = &mut self.procs[i];
        if p.pid != 0 {
            warn!("process '{}' already running", p.cfg.name);
            return;
        }
        p.stop = None;
        p.spawnerr.clear();
        p.exitstatus = 0;
        p.gate = StartGate::Open;
        // The attempt's start, as supervisor records it (`start` in getProcessInfo); set again
        // at the fork, which is where the uptime that judges startsecs begins.
        p.laststart = Some(Instant::now());
        p.laststart_wall = wall_now();
        if !self.change_state(i, Input::Start) {
            return;
        }
        if let Some(hook) = self.procs[i].cfg.hooks.pre_start.clone() {
            if let Err(e) = self.run_hook(i, Purpose::PreStart, &hook) {
                self.procs[i].spawnerr = format!("pre_start_hook could not run: {e}");
                info!("spawnerr: {}", self.procs[i].spawnerr);
                self.failed_start(i);
            }
            return;
        }
        self.exec_child(i, prepared);
    }

    /// The pre_start_hook of process `i` ended: the spawn goes on, or this start failed (or
    /// was stopped while the hook ran).
    pub(super) fn pre_start_done(&mut self, i: usize, token: u64, result: Result<(), String>) {
        if self.procs[i].hook.is_none_or(|h| h.token != token) {
            return;
        }
        self.procs[i].hook = None;
        if self.procs[i].state == ProcessState::Starting && !self.running() {
            // The daemon began to stop (or reload) while the hook ran: nothing is started now.
            if self.change_state(i, Input::Stop) {
                self.procs[i].stop.get_or_insert_default();
                self.stopped_before_start(i);
            }
            return;
        }
        match (self.procs[i].state, result) {
            (ProcessState::Starting, Ok(())) => self.exec_child(i, None),
            (ProcessState::Starting, Err(e)) => {
                self.procs[i].spawnerr = format!("pre_start_hook failed: {e}");
                info!("spawnerr: {}", self.procs[i].spawnerr);
                self.failed_start(i);
            }
            (ProcessState::Stopping, _) => self.stopped_before_start(i),
            _ => {}
        }
    }

    /// A stop during the pre_start_hook is complete: STOPPED, and nothing was spawned.
    pub(super) fn stopped_before_start(&mut self, i: usize) {
        self.procs[i].laststop = Some(Instant::now());
        self.procs[i].laststop_wall = wall_now();
        info!("stopped: {} (before it started)", self.procs[i].cfg.name);
        self.change_state(i, Input::Reaped);
    }

    /// The spawn itself, once nothing holds it back.
    fn exec_child(&mut self, i: usize, prepared: Option<Prepared>) {
        let p = &mut self.procs[i];
        // A pre_start_hook's time is not uptime.
        p.laststart = Some(Instant::now());
        p.laststart_wall = wall_now();
        match self.fork_exec(i, prepared) {
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
            Err(e) => {
                let msg = e.to_string();
                info!("spawnerr: {msg}");
                self.procs[i].spawnerr = msg;
                self.failed_start(i);
            }
        }
    }

    /// From the config to a running child: prepare (unless done), plan its descriptors, spawn,
    /// and wire its output to its logs.
    fn fork_exec(&mut self, i: usize, prepared: Option<Prepared>) -> Result<i32, SpawnError> {
        let p = &self.procs[i];
        let cfg = &p.cfg;
        let prepared = match prepared {
            Some(prepared) => prepared,
            None => env::prepare(&self.config, cfg)?,
        };
        // As supervisor makes its dispatchers: every log file opens before the fork, or the
        // spawn fails (a file that fails later only loses output, said in the main log).
        for path in p.stdout.files.iter().chain(p.stderr.files.iter()) {
            if let Err(e) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(path)
            {
                return Err(SpawnError::LogFile {
                    name: cfg.name.clone(),
                    errno: nix::errno::Errno::from_raw(e.raw_os_error().unwrap_or(libc::EIO)),
                });
            }
        }
        let socket = match &cfg.kind {
            shared::config::ProcessKind::Fcgi(f) => {
                let (key, fd) = self
                    .sockets
                    .acquire(&cfg.group, f)
                    .map_err(SpawnError::Socket)?;
                self.procs[i].fcgi = Some(key);
                Some(fd)
            }
            _ => None,
        };
        let p = &self.procs[i];
        let cfg = &p.cfg;
        let plan = child_io::plan(cfg, &p.stdout, &p.stderr, socket);
        let spec = SpawnSpec {
            name: cfg.name.clone(),
            filename: prepared.filename,
            argv: cfg.argv.clone(),
            env: prepared.env,
            directory: cfg.directory.clone(),
            umask: cfg.umask,
            user: prepared.user,
            stdin: plan.stdin,
            stdout: plan.stdout,
            stderr: plan.stderr,
            death_signal: self
                .config
                .supervisord
                .stop_children_on_daemon_death
                .then(|| {
                    cfg.stopsignals
                        .first()
                        .map_or(libc::SIGTERM, |s| s.number())
                }),
        };
        let spawned = match self.spawner.spawn(spec) {
            Ok(s) => s,
            Err(e) => {
                if let Some(key) = self.procs[i].fcgi.take() {
                    self.sockets.release(&key);
                }
                return Err(e);
            }
        };
        let pid = spawned.pid;
        let p = &mut self.procs[i];
        p.stdin = child_io::wire(
            &p.cfg,
            spawned,
            &p.stdout,
            &p.stderr,
            &self.pumps,
            &self.bus,
        );
        Ok(pid)
    }

    pub(super) fn enter_running(&mut self, i: usize) {
        let p = &mut self.procs[i];
        p.backoff = 0;
        info!(
            "success: {} entered RUNNING state, process has stayed up for > than {} seconds (startsecs)",
            p.cfg.name, p.cfg.startsecs
        );
        self.change_state(i, Input::StartSecsElapsed);
    }

    /// STARTING → BACKOFF, then a retry after `backoff` seconds, or FATAL.
    pub(super) fn failed_start(&mut self, i: usize) {
        if !self.change_state(i, Input::FailedStart) {
            return;
        }
        let p = &self.procs[i];
        match policy::after_failed_start(p.backoff, p.cfg.startretries, self.running()) {
            Retry::After(delay) => self.schedule(i, TimerKind::Backoff, delay),
            Retry::GiveUp { exhausted } => self.give_up(i, exhausted),
        }
    }

    pub(super) fn give_up(&mut self, i: usize, log: bool) {
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

    pub(super) fn on_exit(&mut self, exit: Exit) {
        let (es, msg) = reaper::describe(exit.status);
        let Some((id, i)) = self
            .by_pid
            .remove(&exit.pid)
            .and_then(|id| Some((id, *self.by_id.get(&id)?)))
        else {
            debug!("reaped unknown pid {} ({msg})", exit.pid);
            if let Some(key) = self.orphan_sockets.remove(&exit.pid) {
                self.sockets.release(&key);
            }
            return;
        };
        let signal = match exit.status {
            nix::sys::wait::WaitStatus::Signaled(_, sig, _) => Some(sig as i32),
            _ => None,
        };
        let exits_daemon = self.exits_daemon(i);
        let running = self.running();
        let p = &mut self.procs[i];
        let facts = ExitFacts {
            state: p.state,
            stop_requested: p.stop.is_some(),
            uptime: p.laststart.map_or(Duration::MAX, |t| t.elapsed()),
            exitstatus: es,
            signal,
        };
        let verdict = policy::on_exit(
            &facts,
            &ExitRules {
                startsecs: Duration::from_secs(p.cfg.startsecs),
                exitcodes: &p.cfg.exitcodes,
                autorestart: p.cfg.autorestart,
                daemon_running: running,
                exits_daemon,
            },
        );
        p.pid = 0;
        p.ended_pid = exit.pid;
        p.stdin = None;
        // Released after the exit is handled, as Python does (and so a process restarted at
        // once takes its share before this one lets go: the socket stays open across it).
        let socket = p.fcgi.take();
        p.timer_gen += 1;
        p.laststop = Some(Instant::now());
        p.laststop_wall = wall_now();
        let name = p.cfg.name.clone();
        match verdict {
            ExitVerdict::Stopped { expected } => {
                p.exitstatus = es;
                if expected {
                    info!("stopped: {name} ({msg})");
                } else {
                    warn!("stopped: {name} ({msg})");
                }
                if p.state == ProcessState::Stopping {
                    self.change_state(i, Input::Reaped);
                }
            }
            ExitVerdict::FailedStart => {
                p.exitstatus = 0;
                p.spawnerr = "Exited too quickly (process log may have details)".into();
                warn!("exited: {name} ({msg}; not expected)");
                self.failed_start(i);
            }
            ExitVerdict::Exited { expected, then } => {
                p.backoff = 0;
                p.exitstatus = es;
                if p.state == ProcessState::Starting {
                    // Reached startsecs but the timer had not fired yet.
                    self.change_state(i, Input::StartSecsElapsed);
                }
                if expected {
                    info!("exited: {name} ({msg}; expected)");
                } else {
                    self.procs[i].spawnerr = format!("Bad exit code {es}");
                    warn!("exited: {name} ({msg}; not expected)");
                }
                self.change_state(i, Input::Exit);
                match then {
                    AfterExit::Stay => {}
                    AfterExit::Restart => {
                        let _ = self.start(i, None);
                    }
                    AfterExit::Shutdown(code) => {
                        crit!(
                            "{name} exited: shutting down (shutdown_on_exit), exit status {code}"
                        );
                        self.request_shutdown(code);
                    }
                }
            }
        }
        if let Some(p) = self.by_id.get(&id).and_then(|&i| self.procs.get_mut(i)) {
            p.ended_pid = 0;
        }
        if let Some(key) = socket {
            self.sockets.release(&key);
        }
        if !self.running() {
            self.progress_stop_all();
        }
    }
}
