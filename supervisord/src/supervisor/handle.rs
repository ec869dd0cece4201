//! The cloneable handle every other task uses to talk to the supervisor actor.

use std::sync::Arc;

use shared::config::Config;
use shared::{Fault, ProcessState, SupervisorState};
use tokio::sync::{broadcast, mpsc, oneshot};

use crate::events::Event;

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
    /// Stop everything in order and end the actor.
    Shutdown { reply: oneshot::Sender<()> },
    /// Stop everything, switch to `config`, start again (SIGHUP).
    Reload {
        config: Arc<Config>,
        reply: oneshot::Sender<()>,
    },
    /// Reopen every log file (SIGUSR2).
    ReopenLogs,
    State {
        reply: oneshot::Sender<SupervisorState>,
    },
}

#[derive(Clone)]
pub struct Handle {
    pub(crate) commands: mpsc::Sender<Command>,
    pub(crate) events: broadcast::Sender<Event>,
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

    pub async fn status(&self) -> Result<Vec<ProcessInfo>, Fault> {
        self.ask(|reply| Command::Status { reply }).await
    }

    pub async fn start(&self, name: &str, wait: bool) -> Result<ProcessInfo, Fault> {
        let name = name.to_owned();
        self.ask(|reply| Command::Start { name, wait, reply })
            .await?
    }

    pub async fn stop(&self, name: &str, wait: bool) -> Result<ProcessInfo, Fault> {
        let name = name.to_owned();
        self.ask(|reply| Command::Stop { name, wait, reply })
            .await?
    }

    /// Returns once every process is stopped.
    pub async fn shutdown(&self) -> Result<(), Fault> {
        self.ask(|reply| Command::Shutdown { reply }).await
    }

    /// Returns once the new config's processes have been started.
    pub async fn reload(&self, config: Arc<Config>) -> Result<(), Fault> {
        self.ask(|reply| Command::Reload { config, reply }).await
    }

    pub async fn reopen_logs(&self) -> Result<(), Fault> {
        self.commands
            .send(Command::ReopenLogs)
            .await
            .map_err(|_| Fault::ShutdownState)
    }

    pub async fn state(&self) -> Result<SupervisorState, Fault> {
        self.ask(|reply| Command::State { reply }).await
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.events.subscribe()
    }
}
