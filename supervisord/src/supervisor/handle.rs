//! The cloneable handle every other task uses to talk to the supervisor actor.

use std::sync::Arc;

use shared::config::{Config, ProcessConfig};
use shared::{Fault, ProcessState, SupervisorState};
use tokio::sync::{broadcast, mpsc, oneshot, watch};

use crate::events::Event;
use crate::logging::sink::SinkHandle;
use crate::logging::{Channel, FollowRx};

pub(crate) type Reply<T> = oneshot::Sender<Result<T, Fault>>;

/// A process as clients see it (supervisor's `getProcessInfo` fields).
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessInfo {
    pub name: String,
    pub group: String,
    pub state: ProcessState,
    pub pid: i32,
    /// Wall-clock seconds of the last start / stop (0: never).
    pub start: i64,
    pub stop: i64,
    pub spawnerr: String,
    pub exitstatus: i32,
    pub stdout_logfile: String,
    pub stderr_logfile: String,
    /// How many times the process was spawned since the daemon (re)loaded its config.
    pub starts: u64,
    /// What its liveness check says.
    pub health: crate::process::health::Health,
}

/// What changed on disk for a process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Changed {
    /// Its executable (`restart_when_binary_changed`).
    Binary,
    /// A file under `restart_directory_monitor`.
    Files,
}

/// The processes of the configuration in force, for the tasks that watch over them (file
/// watches, schedules): published whenever the table changes (reload, `update`).
#[derive(Debug, Clone)]
pub struct Active {
    pub config: Arc<Config>,
    pub processes: Vec<Arc<ProcessConfig>>,
}

/// One process's configuration as `getAllConfigInfo` needs it.
#[derive(Debug, Clone)]
pub struct ConfigEntry {
    pub config: Arc<ProcessConfig>,
    pub group_prio: i64,
    /// In the running configuration (not only in the last `reread`).
    pub inuse: bool,
    /// The files `AUTO` became for stdout and stderr (processes in use only).
    pub auto_logs: [Option<std::path::PathBuf>; 2],
}

/// Requests to the supervisor. Answered via `reply` once the effect is real.
#[derive(Debug)]
pub enum Command {
    Status {
        reply: oneshot::Sender<Vec<ProcessInfo>>,
    },
    Start {
        name: String,
        wait: bool,
        reply: Reply<ProcessInfo>,
    },
    Stop {
        name: String,
        wait: bool,
        reply: Reply<ProcessInfo>,
    },
    /// Stop if running, then start once stopped; with `wait`, answered on RUNNING.
    Restart {
        name: String,
        wait: bool,
        reply: Reply<ProcessInfo>,
    },
    Info {
        name: String,
        reply: Reply<ProcessInfo>,
    },
    Signal {
        name: String,
        signal: String,
        reply: Reply<()>,
    },
    SendStdin {
        name: String,
        data: Vec<u8>,
        reply: Reply<()>,
    },
    /// A process's log sinks (to clear them off the actor).
    Sinks {
        name: String,
        reply: Reply<ProcessSinks>,
    },
    /// A log file path and a receiver of new output, for following a process's log.
    Follow {
        name: String,
        channel: Channel,
        reply: Reply<(Option<std::path::PathBuf>, FollowRx)>,
    },
    /// Every process's configuration (with its group's priority and whether it is active).
    Configs {
        reply: oneshot::Sender<Vec<ConfigEntry>>,
    },
    /// Compares `config` with the active groups: (added, changed, removed).
    Reread {
        config: Arc<Config>,
        reply: Reply<(Vec<String>, Vec<String>, Vec<String>)>,
    },
    AddGroup {
        name: String,
        reply: Reply<()>,
    },
    RemoveGroup {
        name: String,
        reply: Reply<()>,
    },
    /// Stop everything in order and end the actor.
    Shutdown {
        reply: oneshot::Sender<()>,
    },
    /// Stop everything, switch to `config`, start again (SIGHUP).
    Reload {
        config: Arc<Config>,
        reply: oneshot::Sender<()>,
    },
    /// Reopen every log file (SIGUSR2).
    ReopenLogs,
    /// A watched file of process `name` changed: run its command, send its signals or restart
    /// it. `detail` says what changed, for the main log.
    Changed {
        name: String,
        what: Changed,
        detail: String,
    },
    /// Process `name`'s `cron` schedule fired: start it unless it runs.
    Scheduled {
        name: String,
    },
}

/// A process's log sinks.
#[derive(Clone)]
pub struct ProcessSinks {
    pub full_name: String,
    pub stdout: SinkHandle,
    pub stderr: SinkHandle,
}

impl std::fmt::Debug for ProcessSinks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessSinks")
            .field("full_name", &self.full_name)
            .finish_non_exhaustive()
    }
}

/// What the daemon as a whole is, as the actor last published it: read without a round trip.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonStatus {
    pub state: SupervisorState,
    /// `[supervisord] identifier` of the configuration in force (changes on reload).
    pub identifier: Arc<str>,
}

#[derive(Clone)]
pub struct Handle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) bus: crate::events::Bus,
    pub(crate) status: watch::Receiver<DaemonStatus>,
    pub(crate) active: watch::Receiver<Arc<Active>>,
}

impl Handle {
    async fn ask<T>(&self, make: impl FnOnce(oneshot::Sender<T>) -> Command) -> Result<T, Fault> {
        let (tx, rx) = oneshot::channel();
        self.commands
            .send(make(tx))
            .await
            .map_err(|_| Fault::ShutdownState)?;
        rx.await.map_err(|_| Fault::ShutdownState)
    }

    /// Every process, in start order.
    pub async fn processes(&self) -> Result<Vec<ProcessInfo>, Fault> {
        self.ask(|reply| Command::Status { reply }).await
    }

    pub async fn start(&self, name: &str, wait: bool) -> Result<ProcessInfo, Fault> {
        let n = name.to_owned();
        self.ask(|reply| Command::Start {
            name: n,
            wait,
            reply,
        })
        .await?
        .map_err(|f| f.named(name))
    }

    pub async fn stop(&self, name: &str, wait: bool) -> Result<ProcessInfo, Fault> {
        let n = name.to_owned();
        self.ask(|reply| Command::Stop {
            name: n,
            wait,
            reply,
        })
        .await?
        .map_err(|f| f.named(name))
    }

    pub async fn restart(&self, name: &str, wait: bool) -> Result<ProcessInfo, Fault> {
        let n = name.to_owned();
        self.ask(|reply| Command::Restart {
            name: n,
            wait,
            reply,
        })
        .await?
        .map_err(|f| f.named(name))
    }

    pub async fn info(&self, name: &str) -> Result<ProcessInfo, Fault> {
        let name = name.to_owned();
        self.ask(|reply| Command::Info { name, reply }).await?
    }

    pub async fn signal(&self, name: &str, signal: &str) -> Result<(), Fault> {
        let (n, signal) = (name.to_owned(), signal.to_owned());
        self.ask(|reply| Command::Signal {
            name: n,
            signal,
            reply,
        })
        .await?
        .map_err(|f| f.named(name))
    }

    pub async fn send_stdin(&self, name: &str, data: Vec<u8>) -> Result<(), Fault> {
        let n = name.to_owned();
        self.ask(|reply| Command::SendStdin {
            name: n,
            data,
            reply,
        })
        .await?
        .map_err(|f| f.named(name))
    }

    /// Empties a process's log files and their backups, on the blocking pool.
    pub async fn clear_logs(&self, name: &str) -> Result<(), Fault> {
        let asked = name.to_owned();
        let s = self
            .ask(|reply| Command::Sinks {
                name: asked.clone(),
                reply,
            })
            .await??;
        let full_name = s.full_name;
        // supervisor's fault names the process as asked; the reason goes to the main log.
        let failed = |e: String| {
            tracing::error!("can't clear the logs of {full_name}: {e}");
            Fault::Failed(asked.clone())
        };
        tokio::task::spawn_blocking(move || {
            for sink in [s.stdout.sink, s.stderr.sink] {
                sink.blocking_lock().clear()?;
            }
            Ok(())
        })
        .await
        .map_err(|e| failed(e.to_string()))?
        .map_err(|e: std::io::Error| failed(e.to_string()))
    }

    pub async fn follow(
        &self,
        name: &str,
        channel: Channel,
    ) -> Result<(Option<std::path::PathBuf>, FollowRx), Fault> {
        let name = name.to_owned();
        self.ask(|reply| Command::Follow {
            name,
            channel,
            reply,
        })
        .await?
    }

    /// (process config, its group's priority, active) for every process.
    pub async fn configs(&self) -> Result<Vec<ConfigEntry>, Fault> {
        self.ask(|reply| Command::Configs { reply }).await
    }

    pub async fn reread(
        &self,
        config: Arc<Config>,
    ) -> Result<(Vec<String>, Vec<String>, Vec<String>), Fault> {
        self.ask(|reply| Command::Reread { config, reply }).await?
    }

    pub async fn add_group(&self, name: &str) -> Result<(), Fault> {
        let name = name.to_owned();
        self.ask(|reply| Command::AddGroup { name, reply }).await?
    }

    pub async fn remove_group(&self, name: &str) -> Result<(), Fault> {
        let name = name.to_owned();
        self.ask(|reply| Command::RemoveGroup { name, reply })
            .await?
    }

    /// Returns once every process is stopped.
    pub async fn shutdown(&self) -> Result<(), Fault> {
        self.ask(|reply| Command::Shutdown { reply }).await
    }

    /// Asks for a shutdown and returns once the actor has the request.
    pub async fn request_shutdown(&self) -> Result<(), Fault> {
        let (reply, _) = oneshot::channel();
        self.commands
            .send(Command::Shutdown { reply })
            .await
            .map_err(|_| Fault::ShutdownState)
    }

    /// Returns once the new config's processes have been started.
    pub async fn reload(&self, config: Arc<Config>) -> Result<(), Fault> {
        self.ask(|reply| Command::Reload { config, reply }).await
    }

    /// Asks for a reload with `config` and returns once the actor has the request.
    pub async fn request_reload(&self, config: Arc<Config>) -> Result<(), Fault> {
        let (reply, _) = oneshot::channel();
        self.commands
            .send(Command::Reload { config, reply })
            .await
            .map_err(|_| Fault::ShutdownState)
    }

    pub async fn reopen_logs(&self) -> Result<(), Fault> {
        self.commands
            .send(Command::ReopenLogs)
            .await
            .map_err(|_| Fault::ShutdownState)
    }

    /// Something changed on disk for process `name` (a full name).
    pub async fn changed(&self, name: String, what: Changed, detail: String) {
        let _ = self
            .commands
            .send(Command::Changed { name, what, detail })
            .await;
    }

    /// Process `name`'s schedule fired.
    pub async fn scheduled(&self, name: String) {
        let _ = self.commands.send(Command::Scheduled { name }).await;
    }

    /// The processes in force, updated as the table changes.
    pub fn active(&self) -> watch::Receiver<Arc<Active>> {
        self.active.clone()
    }

    /// The daemon's state and identifier, as last published (no round trip).
    pub fn status(&self) -> DaemonStatus {
        self.status.borrow().clone()
    }

    /// The daemon's state, as last published (no round trip).
    pub fn state(&self) -> SupervisorState {
        self.status.borrow().state
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.bus.subscribe()
    }

    /// Publishes an event that does not come from the actor (a client's remote event).
    pub fn publish(&self, event: Event) {
        self.bus.emit(event);
    }

    /// The event listener pools now.
    pub async fn pools(&self) -> Vec<crate::events::pool::PoolView> {
        self.bus.pools().await
    }
}
