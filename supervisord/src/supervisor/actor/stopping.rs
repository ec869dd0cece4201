//! Stopping: stop signals and their escalation, and stopping everything for shutdown or reload.

use std::time::Duration;

use shared::signals::Signal;
use shared::{Fault, ProcessState, SupervisorState};
use tokio::time::Instant;
use tracing::{debug, error, info, warn};

use super::Supervisor;
use super::jobs::Purpose;
use crate::crit;
use crate::process::kill::KillError;
use crate::process::policy::{self, ShutdownStep, StartGate, StopRules, StopStep, TimerKind};
use crate::process::state::Input;

impl Supervisor {
    /// A stop request from a client.
    pub(super) fn stop_request(&mut self, i: usize) -> Result<(), Fault> {
        let p = &mut self.procs[i];
        match p.gate {
            StartGate::WaitingDeps | StartGate::RestartPause => {
                // Nothing runs yet: the stop cancels the start.
                p.gate = StartGate::Open;
                p.timer_gen += 1;
                return Ok(());
            }
            // The stop of a restart is under way: it now stays stopped.
            StartGate::AfterStop => {
                p.gate = StartGate::Open;
                if p.state == ProcessState::Stopping {
                    return Ok(());
                }
            }
            StartGate::Open => {}
        }
        // supervisor: only RUNNING, STARTING and BACKOFF can be stopped (STOPPING is not).
        if !p.state.is_running() {
            return Err(Fault::NotRunning(p.full_name.clone()));
        }
        self.stop(i);
        Ok(())
    }

    /// supervisor's `stop()`/`kill()`: BACKOFF → STOPPED at once; otherwise send the first stop
    /// signal and escalate after stopwaitsecs.
    pub(super) fn stop(&mut self, i: usize) {
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
        if let (0, Some(hook), ProcessState::Starting) = (p.pid, p.hook, p.state) {
            // Stopped while its pre_start_hook runs: nothing spawns. A command is killed and
            // its exit completes the stop; a request's answer no longer matters.
            info!(
                "stopping {} before it started: its pre_start_hook is abandoned",
                p.cfg.name
            );
            if !self.change_state(i, Input::Stop) {
                return;
            }
            self.procs[i].stop.get_or_insert_default();
            match hook.pid {
                Some(pid) => self.cancel_job(pid),
                None => {
                    self.procs[i].hook = None;
                    self.stopped_before_start(i);
                }
            }
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
        if let Some(hook) = p.cfg.hooks.pre_stop.clone() {
            if !self.change_state(i, Input::Stop) {
                return;
            }
            self.procs[i].stop.get_or_insert_default();
            match self.run_hook(i, Purpose::PreStop, &hook) {
                Ok(()) => return,
                Err(e) => warn!(
                    "pre_stop_hook of '{}' could not run: {e}",
                    self.procs[i].cfg.name
                ),
            }
        }
        self.next_stop_step(i);
    }

    /// The pre_stop_hook of process `i` ended (whatever its result): the stop signals follow.
    pub(super) fn pre_stop_done(&mut self, i: usize, token: u64) {
        let p = &mut self.procs[i];
        if p.hook.is_none_or(|h| h.token != token) {
            return;
        }
        p.hook = None;
        if p.state == ProcessState::Stopping && p.pid != 0 && p.stop.is_some_and(|s| s.sent == 0) {
            self.next_stop_step(i);
        }
    }

    /// stopwaitsecs (or killwaitsecs) passed and the process is still there.
    pub(super) fn escalate(&mut self, i: usize) {
        let p = &self.procs[i];
        if p.state != ProcessState::Stopping || p.pid == 0 {
            return;
        }
        self.next_stop_step(i);
    }

    /// The next stop signal in the list, then SIGKILL, then no longer waiting.
    fn next_stop_step(&mut self, i: usize) {
        let p = &self.procs[i];
        let cfg = &p.cfg;
        let sent = p.stop.map_or(0, |s| s.sent);
        let rules = StopRules {
            stopsignals: &cfg.stopsignals,
            stopwait: Duration::from_secs(cfg.stopwaitsecs),
            killwait: Duration::from_secs(cfg.killwaitsecs),
            stopasgroup: cfg.stopasgroup,
            killasgroup: cfg.killasgroup,
        };
        match policy::next_stop_step(sent, &rules) {
            StopStep::Send {
                signal,
                group,
                wait,
            } => {
                if sent >= cfg.stopsignals.len().max(1) {
                    warn!("killing '{}' ({}) with SIGKILL", cfg.name, p.pid);
                }
                self.signal_for_stop(i, signal, group, wait);
            }
            StopStep::Abandon => {
                error!(
                    "'{}' (pid {}) is still alive {}s after SIGKILL (stuck in the kernel?); no longer waiting for it",
                    cfg.name, p.pid, cfg.killwaitsecs
                );
                if let Some(s) = self.procs[i].stop.as_mut() {
                    s.abandoned = true;
                }
                if !self.running() {
                    self.progress_stop_all();
                }
            }
        }
    }

    fn signal_for_stop(&mut self, i: usize, sig: Signal, group: bool, wait: Duration) {
        let p = &self.procs[i];
        let as_group = if group { "process group " } else { "" };
        debug!(
            "killing {} (pid {}) {as_group}with signal {sig}",
            p.cfg.name, p.pid
        );
        let (pid, name) = (p.pid, p.cfg.name.clone());
        if p.state != ProcessState::Stopping && !self.change_state(i, Input::Stop) {
            return;
        }
        self.procs[i].stop.get_or_insert_default().sent += 1;
        match self.spawner.signal(pid, sig, group) {
            Ok(()) | Err(KillError::Gone) => self.schedule(i, TimerKind::StopEscalate, wait),
            Err(KillError::Other(e)) => {
                crit!("unknown problem killing {name} ({pid}): {e}");
                self.change_state(i, Input::Lost);
            }
        }
    }

    pub(super) fn request_shutdown(&mut self, code: i32) {
        if self.state == SupervisorState::Shutdown {
            return;
        }
        self.exit_code = code;
        self.begin_stop_all(SupervisorState::Shutdown);
    }

    /// Stops every process group by group in reverse start order (dependents before what they
    /// depend on), then shuts down (`to` = SHUTDOWN) or reloads (RESTARTING).
    pub(super) fn begin_stop_all(&mut self, to: SupervisorState) {
        let was_running = self.running();
        self.state = to;
        if was_running {
            self.publish_supervisor(to);
        } else {
            // A shutdown during a reload: supervisor announces STOPPING once.
            self.status.send_modify(|s| s.state = to);
        }
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
        for i in 0..self.procs.len() {
            let p = &mut self.procs[i];
            match p.gate {
                StartGate::WaitingDeps | StartGate::RestartPause => {
                    p.gate = StartGate::Open;
                    p.timer_gen += 1;
                    // Its start will not happen: whoever waits for it is answered now.
                    self.resolve_waiters(i);
                }
                // Its stop goes on (with its escalation timer); only the start is dropped.
                StartGate::AfterStop => p.gate = StartGate::Open,
                StartGate::Open => {}
            }
        }
        self.stop_groups = groups;
        self.progress_stop_all();
    }

    pub(super) fn progress_stop_all(&mut self) {
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
        let live_dependents: Vec<usize> = self.procs[i]
            .dependents
            .iter()
            .copied()
            .filter(|&d| self.procs[d].is_live())
            .collect();
        let p = &self.procs[i];
        match policy::shutdown_step(p.state, p.abandoned(), !live_dependents.is_empty()) {
            ShutdownStep::Done => {}
            ShutdownStep::DependentsFirst => {
                for d in live_dependents {
                    self.stop_for_shutdown(d, waiting);
                }
                waiting.push(i);
            }
            ShutdownStep::GiveUp => self.give_up(i, false),
            ShutdownStep::Stop => {
                self.stop(i);
                if self.procs[i].is_live() {
                    waiting.push(i);
                }
            }
            ShutdownStep::Wait => waiting.push(i),
        }
    }

    fn stop_all_done(&mut self) {
        match self.state {
            SupervisorState::Shutdown => self.finished = true,
            SupervisorState::Restarting => {
                let Some((config, reply)) = self.reload.take() else {
                    self.publish_supervisor(SupervisorState::Running);
                    self.state = SupervisorState::Running;
                    return;
                };
                self.timers.clear();
                self.by_pid.clear();
                for p in &mut self.procs {
                    if let (pid @ 1.., Some(key)) = (p.pid, p.fcgi.take()) {
                        self.orphan_sockets.insert(pid, key);
                    }
                }
                self.load_table(config);
                self.drop_orphan_waiters();
                self.state = SupervisorState::Running;
                self.publish_supervisor(SupervisorState::Running);
                self.start_autostart();
                let _ = reply.send(());
            }
            SupervisorState::Running | SupervisorState::Fatal => {}
        }
    }
}
