//! Starting: dependencies, restartpause, spawning, startsecs, backoff; and exits.

use super::*;

impl Supervisor {
    // ----- starting ---------------------------------------------------------------------------

    /// A start request (or autostart): waits for dependencies and restartpause, then spawns.
    pub(super) fn start(&mut self, i: usize) -> Result<(), Fault> {
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

    pub(super) fn dependency_ready(&mut self, i: usize) {
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

    pub(super) fn dependency_failed(&mut self, i: usize) {
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

    pub(super) fn spawn(&mut self, i: usize) {
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
    pub(super) fn fork_exec(&mut self, i: usize) -> Result<i32, String> {
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
        if self.mood != Mood::Running {
            self.give_up(i, false);
        } else if p.backoff > p.cfg.startretries {
            self.give_up(i, true);
        } else {
            let delay = Duration::from_secs(p.backoff);
            self.schedule(i, TimerKind::Backoff, delay);
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

    // ----- exits ------------------------------------------------------------------------------

    pub(super) fn on_exit(&mut self, exit: Exit) {
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
}
