//! Short-lived commands the daemon runs for a process: its hooks, the commands of restart on
//! change and of a failed health check, and command checks. They are spawned and reaped like
//! programs (the one reaper routes their exits here by pid), never waited for by anything else,
//! and killed with their process group when they outlive their timeout.

use std::collections::{HashMap, VecDeque};
use std::os::fd::OwnedFd;
use std::time::Duration;

use shared::signals::Signal;
use tokio::io::AsyncReadExt;
use tokio::sync::oneshot;
use tokio_util::time::delay_queue;
use tracing::{debug, info, warn};

use shared::config::Probe;

use super::Supervisor;
use crate::process::spawn::{ErrOutput, Output, SpawnSpec, Stdin};
use crate::reaper::{self, Exit};
use crate::supervisor::env;
use crate::supervisor::table::HookRun;

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
    id: u64,
    /// The process it runs for.
    pub(super) proc_id: u64,
    pub(super) purpose: Purpose,
    /// How it is named in the main log (`'web' pre_start_hook`).
    pub(super) label: String,
    pub(super) timeout: Duration,
    pub(super) timed_out: bool,
    /// A hook's token (0 for other jobs).
    token: u64,
    /// Its entry in the timeout queue, removed when it ends first.
    timer: delay_queue::Key,
    /// Tells its output's reader that it has ended: the reader stops soon after, even if a
    /// process it left in the background holds the pipe.
    ended: Option<oneshot::Sender<()>>,
}

/// Jobs by pid. A pid is reused only once its exit was reaped, but that exit may still wait
/// in the actor's queue: so a pid may stand for a dead job and a new one, oldest first, and
/// only the last of them can be alive.
#[derive(Debug, Default)]
pub(super) struct Jobs {
    by_pid: HashMap<i32, VecDeque<Job>>,
}

impl Jobs {
    fn push(&mut self, pid: i32, job: Job) {
        self.by_pid.entry(pid).or_default().push_back(job);
    }

    /// The job an exit of `pid` is for: the oldest.
    fn pop(&mut self, pid: i32) -> Option<Job> {
        let q = self.by_pid.get_mut(&pid)?;
        let job = q.pop_front();
        if q.is_empty() {
            self.by_pid.remove(&pid);
        }
        job
    }

    /// The live job of `pid`, if it is job `id`.
    fn live(&mut self, pid: i32, id: u64) -> Option<&mut Job> {
        self.by_pid.get_mut(&pid)?.back_mut().filter(|j| j.id == id)
    }

    fn has(&self, pid: i32) -> bool {
        self.by_pid.contains_key(&pid)
    }
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
        token: u64,
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
        let (ended, ended_rx) = oneshot::channel();
        if let Some(out) = spawned.stdout {
            tokio::spawn(log_output(out, label.clone(), purpose, ended_rx));
        }
        match purpose {
            Purpose::Check { .. } => debug!("{label} started (pid {pid}): {command}"),
            _ => info!("{label} started (pid {pid}): {command}"),
        }
        self.next_token += 1;
        let id = self.next_token;
        let timer = self
            .job_timers
            .insert((pid, id), super::timer_span(timeout));
        self.jobs.push(
            pid,
            Job {
                id,
                proc_id: self.procs[i].id,
                purpose,
                label,
                timeout,
                timed_out: false,
                token,
                timer,
                ended: Some(ended),
            },
        );
        Ok(pid)
    }

    /// A job outlived its timeout: its whole process group is killed (its exit ends it).
    pub(super) fn job_timeout(&mut self, (pid, id): (i32, u64)) {
        let Some(job) = self.jobs.live(pid, id) else {
            // Ended already: its exit waits in the queue.
            return;
        };
        job.timed_out = true;
        warn!(
            "{} (pid {pid}) still running after {:?}: killing it",
            job.label, job.timeout
        );
        let _ = self.spawner.signal(pid, Signal::KILL, true);
    }

    /// Starts a hook of process `i` (`purpose`: PreStart or PreStop): a command as a job, an
    /// HTTP request or a TCP connection as a task whose result comes back as a
    /// [`ProbeResult`].
    pub(super) fn run_hook(
        &mut self,
        i: usize,
        purpose: Purpose,
        hook: &Probe,
    ) -> Result<(), String> {
        self.next_token += 1;
        let token = self.next_token;
        let p = &self.procs[i];
        let label = label(&p.cfg.name, purpose);
        let timeout = p.cfg.hooks.timeout;
        let pid = match hook {
            Probe::Command(cmd) => Some(self.run_job(i, cmd, purpose, label, timeout, token)?),
            probe => {
                info!("{label} started: {}", describe(probe));
                let (id, tx, probe) = (p.id, self.probe_sender.clone(), probe.clone());
                tokio::spawn(async move {
                    let result = crate::triggers::probe::run(&probe, timeout).await;
                    let _ = tx.send(ProbeResult {
                        id,
                        purpose,
                        token,
                        result,
                    });
                });
                None
            }
        };
        self.procs[i].hook = Some(HookRun { token, pid });
        Ok(())
    }

    /// An HTTP or TCP hook or check ended.
    pub(super) fn probe_result(&mut self, r: ProbeResult) {
        let name = match self.by_id.get(&r.id) {
            Some(&i) => self.procs[i].cfg.name.clone(),
            None => return,
        };
        self.job_ended(r.id, r.purpose, r.token, &label(&name, r.purpose), r.result);
    }

    /// What a job's or a task's end leads to.
    fn job_ended(
        &mut self,
        proc_id: u64,
        purpose: Purpose,
        token: u64,
        label: &str,
        result: Result<(), String>,
    ) {
        match (&result, purpose) {
            (_, Purpose::Check { .. }) => debug!("{label} ended: {result:?}"),
            // Its spawn error says it.
            (Err(_), Purpose::PreStart) => {}
            (Ok(()), _) => info!("{label} succeeded"),
            (Err(e), _) => warn!("{label} failed: {e}"),
        }
        let Some(&i) = self.by_id.get(&proc_id) else {
            return;
        };
        match purpose {
            Purpose::PreStart => self.pre_start_done(i, token, result),
            Purpose::PreStop => self.pre_stop_done(i, token),
            Purpose::Check { round } => self.check_done(i, round, result),
            Purpose::Log => {}
        }
        if !self.running() {
            self.progress_stop_all();
        }
    }

    /// Stops a job early (its process is being stopped); its exit still arrives.
    pub(super) fn cancel_job(&mut self, pid: i32) {
        if self.jobs.has(pid) {
            let _ = self.spawner.signal(pid, Signal::KILL, true);
        }
    }

    /// Routes a reaped job to what waits for it. False when `exit` is not a job's.
    pub(super) fn job_exit(&mut self, exit: Exit) -> bool {
        let Some(mut job) = self.jobs.pop(exit.pid) else {
            return false;
        };
        if !job.timed_out {
            self.job_timers.remove(&job.timer);
        }
        if let Some(ended) = job.ended.take() {
            let _ = ended.send(());
        }
        let (_, msg) = reaper::describe(exit.status);
        let result = if job.timed_out {
            Err(format!("timed out after {:?}", job.timeout))
        } else if matches!(exit.status, nix::sys::wait::WaitStatus::Exited(_, 0)) {
            Ok(())
        } else {
            Err(msg)
        };
        self.job_ended(job.proc_id, job.purpose, job.token, &job.label, result);
        true
    }
}

/// An HTTP or TCP hook's or check's outcome, sent back to the actor.
#[derive(Debug)]
pub(super) struct ProbeResult {
    id: u64,
    purpose: Purpose,
    /// A hook's token, or 0.
    token: u64,
    result: Result<(), String>,
}

impl ProbeResult {
    pub(super) fn check(id: u64, round: u64, result: Result<(), String>) -> ProbeResult {
        ProbeResult {
            id,
            purpose: Purpose::Check { round },
            token: 0,
            result,
        }
    }
}

/// How a process's hook or check is named in the main log.
pub(super) fn label(name: &str, purpose: Purpose) -> String {
    match purpose {
        Purpose::PreStart => format!("'{name}' pre_start_hook"),
        Purpose::PreStop => format!("'{name}' pre_stop_hook"),
        Purpose::Check { .. } => format!("'{name}' liveness check"),
        Purpose::Log => format!("'{name}' command"),
    }
}

/// A request or connection, for the main log.
fn describe(probe: &Probe) -> String {
    match probe {
        Probe::Http(r) if r.body.is_some() => format!("POST {}", r.url),
        Probe::Http(r) => format!("GET {}", r.url),
        Probe::Tcp { host, port } => format!("connect to tcp://{host}:{port}"),
        Probe::Command(c) => c.clone(),
    }
}

/// How long a job's output is still read after the job has ended (what it wrote last is in
/// the pipe; a process it left in the background may keep the pipe open forever).
const DRAIN: Duration = Duration::from_secs(1);

/// Puts a job's output in the main log, line by line (at debug for checks, which run often).
async fn log_output(fd: OwnedFd, label: String, purpose: Purpose, ended: oneshot::Receiver<()>) {
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
    let deadline = async {
        // A dropped sender (the actor ended) counts as ended too.
        let _ = ended.await;
        tokio::time::sleep(DRAIN).await;
    };
    tokio::pin!(deadline);
    loop {
        let n = tokio::select! {
            r = rx.read(&mut buf) => match r {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            },
            () = &mut deadline => break,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn job(id: u64, timers: &mut tokio_util::time::DelayQueue<(i32, u64)>) -> Job {
        Job {
            id,
            proc_id: 1,
            purpose: Purpose::Log,
            label: String::new(),
            timeout: Duration::from_secs(1),
            timed_out: false,
            token: 0,
            timer: timers.insert((7, id), Duration::from_secs(1)),
            ended: None,
        }
    }

    #[tokio::test]
    async fn a_reused_pid_stands_for_the_dead_job_first_and_only_the_last_is_live() {
        let mut timers = tokio_util::time::DelayQueue::new();
        let mut jobs = Jobs::default();
        jobs.push(7, job(1, &mut timers));
        jobs.push(7, job(2, &mut timers));
        // Job 1's timeout must not kill pid 7: that is job 2 now.
        assert!(jobs.live(7, 1).is_none());
        assert!(jobs.live(7, 2).is_some());
        assert_eq!(jobs.pop(7).map(|j| j.id), Some(1));
        assert!(jobs.has(7));
        assert_eq!(jobs.pop(7).map(|j| j.id), Some(2));
        assert!(!jobs.has(7));
        assert!(jobs.pop(7).is_none());
    }
}
