//! Stopping: stop signals and their escalation, and stopping everything for shutdown or reload.

use super::*;

impl Supervisor {
    // ----- stopping ---------------------------------------------------------------------------

    /// A stop request from a client.
    pub(super) fn stop_request(&mut self, i: usize) -> Result<(), Fault> {
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

    pub(super) fn signal_for_stop(&mut self, i: usize, sig: Signal, group: bool) {
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

    pub(super) fn escalate(&mut self, i: usize) {
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

    pub(super) fn request_shutdown(&mut self, code: i32) {
        if self.mood == Mood::Shutdown {
            return;
        }
        self.exit_code = code;
        self.begin_stop_all(Mood::Shutdown);
    }

    /// Stops every process group by group in reverse start order (dependents before what they
    /// depend on), then shuts down or reloads.
    pub(super) fn begin_stop_all(&mut self, mood: Mood) {
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

    pub(super) fn stop_for_shutdown(&mut self, i: usize, waiting: &mut Vec<usize>) {
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

    pub(super) fn stop_all_done(&mut self) {
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
}
