//! Requests from clients: start, stop, signal, stdin, logs, lookups.

use super::*;

impl Supervisor {
    // ----- commands -------------------------------------------------------------------------

    pub(super) fn handle(&mut self, cmd: Command) {
        match cmd {
            Command::Status { reply } => {
                let _ = reply.send(self.procs.iter().map(Process::info).collect());
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
                        let mut s = sink.lock().unwrap_or_else(|e| e.into_inner());
                        Ok((s.file_path().map(ToOwned::to_owned), s.follow()))
                    }
                };
                let _ = reply.send(r);
            }
            Command::Configs { reply } => {
                // Active processes, then those of groups the last reread found but not added.
                let mut v: Vec<(Arc<ProcessConfig>, i64, bool)> = self
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
    pub(super) fn start_or_stop(
        &mut self,
        name: &str,
        wait: bool,
        reply: Reply<ProcessInfo>,
        start: bool,
    ) {
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
    pub(super) fn precheck(&self, i: usize) -> Result<(), Fault> {
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
        // The same PATH the spawn will use (environment layers and env files); an unreadable
        // env file is the spawn's error to report, so fall back to the daemon's PATH here.
        let path = env::child_env(&self.config, &p.cfg, None)
            .ok()
            .and_then(|e| env::path_for(&e))
            .or_else(|| std::env::var_os("PATH"));
        match spawn::resolve_command(program, path.as_deref()) {
            Ok(_) => Ok(()),
            Err(spawn::ResolveError::NotFound(m)) => Err(Fault::NoFile(m)),
            Err(spawn::ResolveError::NotExecutable(m)) => Err(Fault::NotExecutable(m)),
        }
    }

    pub(super) fn signal_request(&mut self, name: &str, signal: &str) -> Result<(), Fault> {
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

    pub(super) fn send_stdin(&mut self, name: &str, data: &[u8]) -> Result<(), Fault> {
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

    pub(super) fn clear_logs(&mut self, i: usize) -> Result<(), Fault> {
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
    pub(super) fn lookup(&self, name: &str) -> Option<usize> {
        match name.split_once(':') {
            Some(_) => self.by_name.get(name).copied(),
            None => self.by_name.get(&format!("{name}:{name}")).copied(),
        }
    }

    pub(super) fn reopen_logs(&mut self) {
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
}
