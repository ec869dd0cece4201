//! What the file watcher and the scheduler ask of a process: the Go supervisord's restart on
//! change (its command, else its signals, else a restart, and only while the process runs),
//! and `cron`'s start unless it runs.

use shared::ProcessState;
use tracing::{debug, info, warn};

use super::Supervisor;
use super::jobs::Purpose;
use crate::process::kill::KillError;
use crate::supervisor::handle::Changed;

impl Supervisor {
    pub(super) fn on_changed(&mut self, name: &str, what: Changed, detail: &str) {
        let Some(i) = self.lookup(name) else {
            return;
        };
        let p = &self.procs[i];
        let (on_change, option) = match what {
            Changed::Binary => (p.cfg.watch.binary.clone(), "binary"),
            Changed::Files => (
                p.cfg.watch.directory.as_ref().map(|d| d.on_change.clone()),
                "file",
            ),
        };
        let Some(on_change) = on_change else {
            return;
        };
        let pname = p.cfg.name.clone();
        if !self.running() || !matches!(p.state, ProcessState::Running | ProcessState::Starting) {
            info!(
                "{detail} changed; '{pname}' is {}: nothing done",
                p.state.name()
            );
            return;
        }
        if let Some(cmd) = &on_change.cmd {
            info!("{detail} changed: running restart_cmd_when_{option}_changed of '{pname}'");
            let label = format!("'{pname}' restart_cmd_when_{option}_changed");
            let timeout = p.cfg.hooks.timeout;
            if let Err(e) = self.run_job(i, cmd, Purpose::Log, label, timeout, 0) {
                warn!("can't run restart_cmd_when_{option}_changed of '{pname}': {e}");
            }
        } else if !on_change.signals.is_empty() {
            let pid = p.pid;
            if pid <= 0 {
                // STARTING, but its pre_start_hook runs: there is no process to signal yet.
                info!("{detail} changed; '{pname}' has not been spawned yet: nothing done");
                return;
            }
            for &sig in &on_change.signals {
                info!("{detail} changed: sending {sig} to '{pname}' (pid {pid})");
                match self.spawner.signal(pid, sig, false) {
                    Ok(()) | Err(KillError::Gone) => {}
                    Err(KillError::Other(e)) => warn!("can't signal '{pname}': {e}"),
                }
            }
        } else {
            info!("{detail} changed: restarting '{pname}'");
            if let Err(f) = self.restart(i, name) {
                warn!("can't restart '{pname}': {f}");
            }
        }
    }

    pub(super) fn on_scheduled(&mut self, name: &str) {
        let Some(i) = self.lookup(name) else {
            return;
        };
        if !self.running() {
            return;
        }
        let p = &self.procs[i];
        let pname = p.cfg.name.clone();
        if !p.state.is_stopped() || p.gate != crate::process::policy::StartGate::Open {
            debug!("cron: '{pname}' is {}: left alone", p.state.name());
            return;
        }
        info!("cron: starting '{pname}'");
        let started = self.precheck(i, name).and_then(|prepared| {
            self.procs[i].spawnerr.clear();
            self.start(i, prepared)
        });
        if let Err(f) = started {
            warn!("cron: can't start '{pname}': {f}");
        }
    }
}
