//! Short-lived commands the daemon runs for a process: its hooks, the commands of restart on
//! change and of a failed health check, and command checks. They are spawned and reaped like
//! programs (the one reaper routes their exits here by pid), never waited for by anything else,
//! and killed with their process group when they outlive their timeout.

use std::os::fd::OwnedFd;
use std::time::Duration;

use shared::signals::Signal;
use tokio::io::AsyncReadExt;
use tokio_util::time::delay_queue;
use tracing::{debug, info, warn};

use super::Supervisor;
use crate::process::spawn::{ErrOutput, Output, SpawnSpec, Stdin};
use crate::reaper::{self, Exit};
use crate::supervisor::env;

/// What a job is for, and so what its end leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Purpose {
    /// `pre_start_hook`: the spawn waits for it.
    PreStart,
    /// `pre_stop_hook`: the first stop signal waits for it.
    PreStop,
    /// A command liveness check of the given round.
    Check { round: u64 },
    /// Only logged (a restart or failure-action command).
    Log,
}

#[derive(Debug)]
pub(super) struct Job {
    /// The process it runs for.
    pub(super) proc_id: u64,
    pub(super) purpose: Purpose,
    /// How it is named in the main log (`'web' pre_start_hook`).
    pub(super) label: String,
    pub(super) timeout: Duration,
    pub(super) timed_out: bool,
    /// Its entry in the timeout queue, removed when it ends first (a later job may get the
    /// same pid).
    timer: delay_queue::Key,
}

/// Longest line of a job's output put in the main log; the rest of the line is dropped.
const MAX_LINE: usize = 4096;

impl Supervisor {
    /// Starts `command` through `sh -c` with process `i`'s user, environment and directory.
    /// Returns the job's pid, or why it could not start.
    pub(super) fn run_job(
        &mut self,
        i: usize,
        command: &str,
        purpose: Purpose,
        label: String,
        timeout: Duration,
    ) -> Result<i32, String> {
        let cfg = &self.procs[i].cfg;
        let prepared = env::prepare_shell(&self.config, cfg).map_err(|e| e.to_string())?;
        let spec = SpawnSpec {
            name: label.clone(),
            filename: prepared.filename,
            argv: vec!["sh".into(), "-c".into(), command.to_owned()],
            env: prepared.env,
            directory: cfg.directory.clone(),
            umask: cfg.umask,
            user: prepared.user,
            stdin: Stdin::Null,
            stdout: Output::Pipe,
            stderr: ErrOutput::Stdout,
            death_signal: Some(libc::SIGKILL),
        };
        let spawned = self.spawner.spawn(spec).map_err(|e| e.to_string())?;
        let pid = spawned.pid;
        if let Some(out) = spawned.stdout {
            tokio::spawn(log_output(out, label.clone(), purpose));
        }
        match purpose {
            Purpose::Check { .. } => debug!("{label} started (pid {pid}): {command}"),
            _ => info!("{label} started (pid {pid}): {command}"),
        }
        let timer = self.job_timers.insert(pid, timeout);
        self.jobs.insert(
            pid,
            Job {
                proc_id: self.procs[i].id,
                purpose,
                label,
                timeout,
                timed_out: false,
                timer,
            },
        );
        Ok(pid)
    }

    /// A job outlived its timeout: its whole process group is killed (its exit ends it).
    pub(super) fn job_timeout(&mut self, pid: i32) {
        let Some(job) = self.jobs.get_mut(&pid) else {
            return;
        };
        if job.timed_out {
            return;
        }
        job.timed_out = true;
        warn!(
            "{} (pid {pid}) still running after {:?}: killing it",
            job.label, job.timeout
        );
        let _ = self.spawner.signal(pid, Signal::KILL, true);
    }

    /// Stops a job early (its process is being stopped); its exit still arrives.
    pub(super) fn cancel_job(&mut self, pid: i32) {
        if self.jobs.contains_key(&pid) {
            let _ = self.spawner.signal(pid, Signal::KILL, true);
        }
    }

    /// Routes a reaped job to what waits for it. False when `exit` is not a job's.
    pub(super) fn job_exit(&mut self, exit: Exit) -> bool {
        let Some(job) = self.jobs.remove(&exit.pid) else {
            return false;
        };
        if !job.timed_out {
            self.job_timers.remove(&job.timer);
        }
        let (_, msg) = reaper::describe(exit.status);
        let result = if job.timed_out {
            Err(format!("timed out after {:?}", job.timeout))
        } else if matches!(exit.status, nix::sys::wait::WaitStatus::Exited(_, 0)) {
            Ok(())
        } else {
            Err(msg)
        };
        match (&result, job.purpose) {
            (_, Purpose::Check { .. }) => debug!("{} ended: {result:?}", job.label),
            // Its spawn error says it.
            (Err(_), Purpose::PreStart) => {}
            (Ok(()), _) => info!("{} succeeded", job.label),
            (Err(e), _) => warn!("{} failed: {e}", job.label),
        }
        let Some(&i) = self.by_id.get(&job.proc_id) else {
            return true;
        };
        match job.purpose {
            Purpose::PreStart => self.pre_start_done(i, exit.pid, result),
            Purpose::PreStop => self.pre_stop_done(i, exit.pid),
            Purpose::Check { round } => self.check_done(i, round, result),
            Purpose::Log => {}
        }
        if !self.running() {
            self.progress_stop_all();
        }
        true
    }
}

/// Puts a job's output in the main log, line by line (at debug for checks, which run often).
async fn log_output(fd: OwnedFd, label: String, purpose: Purpose) {
    let Ok(mut rx) = tokio::net::unix::pipe::Receiver::from_owned_fd(fd) else {
        return;
    };
    let mut line: Vec<u8> = Vec::new();
    let mut buf = [0u8; 4096];
    let emit = |line: &mut Vec<u8>| {
        let text = String::from_utf8_lossy(line);
        let text = text.trim_end_matches('\r');
        match purpose {
            Purpose::Check { .. } => debug!("{label} output: {text}"),
            _ => info!("{label} output: {text}"),
        }
        line.clear();
    };
    loop {
        let n = match rx.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        for &b in &buf[..n] {
            if b == b'\n' {
                emit(&mut line);
            } else if line.len() < MAX_LINE {
                line.push(b);
            }
        }
    }
    if !line.is_empty() {
        emit(&mut line);
    }
}
