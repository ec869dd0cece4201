//! Requests from clients: start, stop, restart, signal, stdin, logs, lookups.

use crate::supervisor::ConfigEntry;

use shared::config::ProcessConfig;
use shared::names::Selection;
use shared::signals::Signal;
use shared::{Fault, ProcessState, SupervisorState};
use tracing::info;

use super::Supervisor;
use crate::process::kill::KillError;
use crate::process::policy::StartGate;
use crate::process::spawn::SpawnError;
use crate::supervisor::env::{self, Prepared};
use crate::supervisor::handle::{Command, ProcessInfo, ProcessSinks, Reply};
use crate::supervisor::table::Process;

/// What a client asked of one process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Start,
    Stop,
    Restart,
}

impl Supervisor {
    pub(super) fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Status { reply } => {
                let _ = reply.send(self.procs.iter().map(Process::info).collect());
            }
            Command::Start { name, wait, reply } => self.request(&name, wait, reply, Op::Start),
            Command::Stop { name, wait, reply } => self.request(&name, wait, reply, Op::Stop),
            Command::Restart { name, wait, reply } => {
                self.request(&name, wait, reply, Op::Restart);
            }
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
            Command::Sinks { name, reply } => {
                let r = match self.lookup(&name) {
                    None => Err(Fault::BadName(name)),
                    Some(i) => {
                        let p = &self.procs[i];
                        Ok(ProcessSinks {
                            full_name: p.full_name.clone(),
                            stdout: p.stdout.clone(),
                            stderr: p.stderr.clone(),
                        })
                    }
                };
                let _ = reply.send(r);
            }
            Command::Follow {
                name,
                channel,
                reply,
            } => {
                let r = match self.lookup(&name) {
                    None => Err(Fault::BadName(name)),
                    Some(i) => {
                        let p = &self.procs[i];
                        let sink = match channel {
                            crate::logging::Channel::Stdout => &p.stdout,
                            crate::logging::Channel::Stderr => &p.stderr,
                        };
                        Ok((sink.file.clone(), sink.follow()))
                    }
                };
                let _ = reply.send(r);
            }
            Command::Configs { reply } => {
                // Active processes, then those of groups the last reread found but not added.
                let auto = |p: &ProcessConfig, stderr: bool| {
                    let cfg = if stderr { &p.stderr } else { &p.stdout };
                    if cfg.targets.first() != Some(&shared::config::LogTarget::Auto) {
                        return None;
                    }
                    let i = *self.by_name.get(&p.full_name())?;
                    let sink = if stderr {
                        &self.procs[i].stderr
                    } else {
                        &self.procs[i].stdout
                    };
                    sink.file.clone()
                };
                let mut v: Vec<ConfigEntry> = self
                    .groups
                    .iter()
                    .flat_map(|g| {
                        g.processes.iter().map(|p| ConfigEntry {
                            config: p.clone(),
                            group_prio: g.priority,
                            inuse: true,
                            auto_logs: [auto(p, false), auto(p, true)],
                        })
                    })
                    .collect();
                if let Some(pending) = &self.pending {
                    for g in &pending.groups {
                        if !self.groups.iter().any(|a| a.name == g.name) {
                            v.extend(g.processes.iter().map(|p| ConfigEntry {
                                config: p.clone(),
                                group_prio: g.priority,
                                inuse: false,
                                auto_logs: [None, None],
                            }));
                        }
                    }
                }
                let _ = reply.send(v);
            }
            Command::Reread { config, reply } => {
                let r = if self.running() {
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
                if self.state != SupervisorState::Shutdown {
                    self.begin_stop_all(SupervisorState::Shutdown);
                }
            }
            Command::Reload { config, reply } => {
                if self.state == SupervisorState::Shutdown {
                    let _ = reply.send(());
                    return;
                }
                self.reload = Some((config, reply));
                if self.state != SupervisorState::Restarting {
                    self.begin_stop_all(SupervisorState::Restarting);
                }
            }
            Command::ReopenLogs => self.reopen_logs(),
            Command::Changed { name, what, detail } => self.on_changed(&name, what, &detail),
            Command::Scheduled { name } => self.on_scheduled(&name),
        }
    }

    /// A client's start, stop or restart of one process; with `wait`, the reply waits for the
    /// effect (RUNNING, or stopped).
    fn request(&mut self, name: &str, wait: bool, reply: Reply<ProcessInfo>, op: Op) {
        if !self.running() {
            let _ = reply.send(Err(Fault::ShutdownState));
            return;
        }
        let Some(i) = self.lookup(name) else {
            let _ = reply.send(Err(Fault::BadName(name.to_owned())));
            return;
        };
        let result = match op {
            Op::Start => self.precheck(i, name).and_then(|prepared| {
                // A spawn error is this start's own: an earlier one says nothing about it.
                self.procs[i].spawnerr.clear();
                self.start(i, prepared)
            }),
            Op::Stop => self.stop_request(i),
            Op::Restart => self.restart(i, name),
        };
        match result {
            Err(f) => {
                let _ = reply.send(Err(f));
            }
            // supervisor answers a spawn that failed at once with SPAWN_ERROR, waiting or not.
            Ok(()) if op == Op::Start && !self.procs[i].spawnerr.is_empty() && !wait => {
                let _ = reply.send(Err(Fault::SpawnError(name.to_owned())));
            }
            Ok(()) if wait && op == Op::Stop => self.stop_waiters.push((self.procs[i].id, reply)),
            Ok(()) if wait => self.start_waiters.push((self.procs[i].id, reply)),
            Ok(()) => {
                let _ = reply.send(Ok(self.procs[i].info()));
            }
        }
        self.resolve_waiters(i);
    }

    /// startProcess's checks before anything changes, in supervisor's order: its command must
    /// exist and be runnable (NO_FILE, NOT_EXECUTABLE), and the process must not be running
    /// (ALREADY_STARTED) nor UNKNOWN. `name` is as the client gave it. What it prepared is for
    /// the spawn that follows.
    pub(super) fn precheck(&self, i: usize, name: &str) -> Result<Option<Prepared>, Fault> {
        let prepared = self.check_command(i)?;
        let p = &self.procs[i];
        if p.state.is_running() {
            return Err(Fault::AlreadyStarted(p.full_name.clone()));
        }
        if p.state == ProcessState::Unknown {
            return Err(Fault::Failed(format!(
                "{name} is in an unknown process state"
            )));
        }
        Ok(prepared)
    }

    /// NO_FILE or NOT_EXECUTABLE when the command can't be run; other failures to prepare (an
    /// env file, the user) are the spawn's to report.
    fn check_command(&self, i: usize) -> Result<Option<Prepared>, Fault> {
        match env::prepare(&self.config, &self.procs[i].cfg) {
            Ok(prepared) => Ok(Some(prepared)),
            Err(SpawnError::NotFound(m)) => Err(Fault::NoFile(m)),
            Err(SpawnError::NotExecutable(m)) => Err(Fault::NotExecutable(m)),
            Err(_) => Ok(None),
        }
    }

    /// Stops the process if it runs, and starts it once it has stopped.
    pub(super) fn restart(&mut self, i: usize, name: &str) -> Result<(), Fault> {
        match self.procs[i].state {
            ProcessState::Running | ProcessState::Starting | ProcessState::Backoff => {
                // Not stopped for a command that can't start again.
                self.check_command(i)?;
                self.procs[i].gate = StartGate::AfterStop;
                self.stop(i);
            }
            ProcessState::Stopping if self.procs[i].abandoned() => {
                return Err(Fault::Failed(format!(
                    "{} did not die after SIGKILL: it can't be started again",
                    self.procs[i].full_name
                )));
            }
            ProcessState::Stopping => self.procs[i].gate = StartGate::AfterStop,
            ProcessState::Stopped
            | ProcessState::Exited
            | ProcessState::Fatal
            | ProcessState::Unknown => {
                let prepared = self.precheck(i, name)?;
                self.start(i, prepared)?;
            }
        }
        Ok(())
    }

    fn signal_request(&mut self, name: &str, signal: &str) -> Result<(), Fault> {
        if !self.running() {
            return Err(Fault::ShutdownState);
        }
        let i = self
            .lookup(name)
            .ok_or_else(|| Fault::BadName(name.to_owned()))?;
        let sig = Signal::parse_request(signal).map_err(|_| Fault::BadSignal(signal.to_owned()))?;
        let p = &self.procs[i];
        if !p.state.is_signallable() || p.pid == 0 {
            return Err(Fault::NotRunning(p.full_name.clone()));
        }
        match self.spawner.signal(p.pid, sig, false) {
            Ok(()) | Err(KillError::Gone) => Ok(()),
            Err(KillError::Other(e)) => Err(Fault::Failed(format!("{}: {e}", p.full_name))),
        }
    }

    fn send_stdin(&mut self, name: &str, data: &[u8]) -> Result<(), Fault> {
        if !self.running() {
            return Err(Fault::ShutdownState);
        }
        let i = self
            .lookup(name)
            .ok_or_else(|| Fault::BadName(name.to_owned()))?;
        let p = &mut self.procs[i];
        if p.pid == 0 || p.stop.is_some() {
            return Err(Fault::NotRunning(p.full_name.clone()));
        }
        if matches!(p.cfg.kind, shared::config::ProcessKind::EventListener(_)) {
            // Its stdin is the event protocol: bytes from a client would break it.
            return Err(Fault::Failed(format!(
                "{} is an event listener: its stdin carries events from its pool",
                p.full_name
            )));
        }
        let Some(fd) = p.stdin.as_ref() else {
            return Err(Fault::NoFile(name.to_owned()));
        };
        let mut rest = data;
        while !rest.is_empty() {
            match nix::unistd::write(fd, rest) {
                Ok(n) => rest = &rest[n..],
                Err(nix::errno::Errno::EINTR) => {}
                Err(nix::errno::Errno::EPIPE) => {
                    p.stdin = None;
                    return Err(Fault::NoFile(name.to_owned()));
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

    /// `group:name`, or `name` for a process alone in its group of the same name.
    pub(super) fn lookup(&self, name: &str) -> Option<usize> {
        match Selection::namespec(name) {
            Selection::Process { group, name } => {
                self.by_name.get(&format!("{group}:{name}")).copied()
            }
            Selection::Group(_) | Selection::All => None,
        }
    }

    /// SIGUSR2: every log file is opened again, off the actor (files may be slow).
    fn reopen_logs(&mut self) {
        info!("supervisord logreopen");
        self.mainlog.reopen();
        let sinks: Vec<_> = self
            .procs
            .iter()
            .flat_map(|p| [p.stdout.sink.clone(), p.stderr.sink.clone()])
            .collect();
        tokio::task::spawn_blocking(move || {
            for sink in sinks {
                for r in sink.blocking_lock().reopen() {
                    r.log();
                }
            }
        });
    }
}
