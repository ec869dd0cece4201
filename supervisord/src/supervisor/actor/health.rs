//! Liveness checks: scheduled while a process is RUNNING, run as tasks (HTTP, TCP) or as jobs
//! (commands), counted by [`crate::process::health`], and acted on here. The first pass makes
//! the process ready for what `depends_on` it.

use shared::ProcessState;
use shared::config::{FailureAction, Probe};
use tracing::{debug, info, warn};

use super::Supervisor;
use super::jobs::{self, ProbeResult, Purpose};
use crate::process::health::{Tracker, Verdict};

impl Supervisor {
    /// Process `i` is RUNNING: its checks begin (after the initial delay). False when it has
    /// none, so it is ready now.
    pub(super) fn begin_checks(&mut self, i: usize) -> bool {
        let p = &mut self.procs[i];
        let Some(check) = &p.cfg.liveness else {
            return false;
        };
        p.check = Tracker::started();
        p.check_round += 1;
        let key = (p.id, p.check_round);
        let delay = check.initial_delay;
        self.checks.insert(key, super::timer_span(delay));
        true
    }

    pub(super) fn run_check(&mut self, id: u64, round: u64) {
        let Some(&i) = self.by_id.get(&id) else {
            return;
        };
        let p = &self.procs[i];
        if p.check_round != round || p.state != ProcessState::Running {
            return;
        }
        let Some(check) = p.cfg.liveness.clone() else {
            return;
        };
        match &check.probe {
            Probe::Command(cmd) => {
                let label = jobs::label(&p.cfg.name, Purpose::Check { round });
                if let Err(e) =
                    self.run_job(i, cmd, Purpose::Check { round }, label, check.timeout, 0)
                {
                    self.check_done(i, round, Err(format!("can't run the check: {e}")));
                }
            }
            probe => {
                let tx = self.probe_sender.clone();
                let probe = probe.clone();
                tokio::spawn(async move {
                    let result = crate::triggers::probe::run(&probe, check.timeout).await;
                    let _ = tx.send(ProbeResult::check(id, round, result));
                });
            }
        }
    }

    /// One check of process `i` ended: count it, act on what it changes, schedule the next.
    pub(super) fn check_done(&mut self, i: usize, round: u64, result: Result<(), String>) {
        let p = &mut self.procs[i];
        let Some(check) = p.cfg.liveness.clone() else {
            return;
        };
        if p.check_round != round || p.state != ProcessState::Running {
            return;
        }
        if let Err(e) = &result {
            info!("liveness check of '{}' failed: {e}", p.cfg.name);
        }
        let verdict = p
            .check
            .record(result, check.success_threshold, check.failure_threshold);
        let name = p.cfg.name.clone();
        let full_name = p.full_name.clone();
        self.checks
            .insert((p.id, round), super::timer_span(check.period));
        match verdict {
            Verdict::Same => debug!("liveness check of '{name}' done"),
            Verdict::Healthy { first } => {
                info!("'{name}' is healthy (liveness check passed)");
                if first {
                    self.dependency_ready(i);
                }
            }
            Verdict::Unhealthy => {
                let reason = match &self.procs[i].check.health {
                    crate::process::health::Health::Unhealthy(r) => r.clone(),
                    _ => String::new(),
                };
                let n = check.failure_threshold;
                let doing = match &check.failure_action {
                    FailureAction::Restart => "restarting it",
                    FailureAction::Stop => "stopping it",
                    FailureAction::Command(_) => "running its failure action",
                };
                warn!(
                    "'{name}' is unhealthy ({n} failed liveness checks in a row, the last: {reason}): {doing}"
                );
                match &check.failure_action {
                    FailureAction::Restart => {
                        if let Err(f) = self.restart(i, &full_name) {
                            warn!("can't restart '{name}': {f}");
                        }
                    }
                    FailureAction::Stop => {
                        let _ = self.stop_request(i);
                    }
                    FailureAction::Command(cmd) => {
                        let label = format!("'{name}' liveness_check_failure_action");
                        if let Err(e) = self.run_job(
                            i,
                            cmd,
                            Purpose::Log,
                            label,
                            self.procs[i].cfg.hooks.timeout,
                            0,
                        ) {
                            warn!("can't run the failure action of '{name}': {e}");
                        }
                    }
                }
            }
        }
    }
}
