//! The one facade every protocol calls: gRPC, XML-RPC, REST, the web GUI and /metrics are thin
//! adapters over [`Service`], which speaks domain types and [`Fault`]s and knows nothing of any
//! wire format. It talks to the supervisor actor through its [`Handle`], reads logs, and
//! re-reads the config.
//!
//! - [`view`]: what clients are shown of processes and their configs.
//! - [`logs`]: reading, tailing, clearing and following logs.
//! - [`reload`]: reading the config file again.

pub mod logfile;
pub mod logs;
pub mod reload;
pub mod view;

use std::sync::Arc;

use shared::names::Selection;
use shared::{Fault, SupervisorState};
use tokio::sync::broadcast;
use tokio::task::JoinSet;

use crate::events::Event;
use crate::logging::mainlog::MainLog;
use crate::supervisor::{Handle, ProcessInfo, wall_now};

pub use logs::{Chunk, ChunkStream, Follow, LogSource, Tail};
pub use reload::{ReloadError, Reloader};
pub use view::{ConfigView, ProcessResult, ProcessView};

/// The groups a `reread` found added, changed and removed (each sorted).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    pub added: Vec<String>,
    pub changed: Vec<String>,
    pub removed: Vec<String>,
}

/// What every protocol needs. Cheap to clone.
#[derive(Clone)]
pub struct Service {
    handle: Handle,
    mainlog: MainLog,
    reloader: Arc<Reloader>,
}

impl Service {
    pub fn new(handle: Handle, mainlog: MainLog, reloader: Arc<Reloader>) -> Service {
        Service {
            handle,
            mainlog,
            reloader,
        }
    }

    /// The daemon's state, without waiting for the actor.
    pub fn state(&self) -> SupervisorState {
        self.handle.state()
    }

    /// SHUTDOWN_STATE unless the daemon is RUNNING (supervisor refuses most calls otherwise).
    pub fn check_running(&self) -> Result<(), Fault> {
        match self.state() {
            SupervisorState::Running => Ok(()),
            _ => Err(Fault::ShutdownState),
        }
    }

    /// `[supervisord] identifier` of the running configuration.
    pub fn identification(&self) -> String {
        self.handle.status().identifier.to_string()
    }

    /// Stops every process, then the daemon; returns once the request is taken.
    pub async fn shutdown(&self) -> Result<(), Fault> {
        tracing::warn!("received shutdown request");
        self.handle.request_shutdown().await
    }

    /// Stops every process and starts again with the config file as it is now; a config with
    /// errors is refused (FAILED) and nothing is stopped.
    pub async fn reload(&self) -> Result<(), Fault> {
        self.check_running()?;
        tracing::warn!("received restart request");
        self.reloader
            .reload(&self.handle)
            .await
            .map_err(|e| match e {
                ReloadError::ShuttingDown => Fault::ShutdownState,
                e => Fault::Failed(e.to_string()),
            })
    }

    /// The config file compared with the running groups; applies nothing (`reread`).
    pub async fn reread(&self) -> Result<Changes, Fault> {
        self.check_running()?;
        let config = self
            .reloader
            .read()
            .await
            .map_err(|e| Fault::CantReread(e.to_string()))?;
        let (added, changed, removed) = self.handle.reread(Arc::new(config)).await?;
        Ok(Changes {
            added,
            changed,
            removed,
        })
    }

    /// Activates a group the last `reread` found.
    pub async fn add_group(&self, name: &str) -> Result<(), Fault> {
        self.handle.add_group(name).await
    }

    /// Removes a group whose processes are all stopped.
    pub async fn remove_group(&self, name: &str) -> Result<(), Fault> {
        self.handle.remove_group(name).await
    }

    /// Every fact the daemon publishes, from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        self.handle.subscribe()
    }

    /// The event listener pools now.
    pub async fn pools(&self) -> Vec<crate::events::pool::PoolView> {
        self.handle.pools().await
    }

    /// `sendRemoteCommEvent`: an event for listeners subscribed to REMOTE_COMMUNICATION.
    pub fn publish_remote(&self, kind: &str, data: &str) -> Result<(), Fault> {
        self.handle.publish(Event::RemoteCommunication {
            kind: kind.to_owned(),
            data: data.to_owned(),
        });
        Ok(())
    }

    /// One process.
    pub async fn process(&self, name: &str) -> Result<ProcessView, Fault> {
        let info = self.handle.info(name).await?;
        Ok(ProcessView::at(info, wall_now()))
    }

    /// Every process, sorted by group then name, all seen at the same moment.
    pub async fn processes(&self) -> Result<Vec<ProcessView>, Fault> {
        let mut all = self.handle.processes().await?;
        all.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
        let now = wall_now();
        Ok(all.into_iter().map(|p| ProcessView::at(p, now)).collect())
    }

    /// Every process's configuration, sorted by name: the running ones, then those of groups
    /// the last `reread` found but nobody added.
    pub async fn configs(&self) -> Result<Vec<ConfigView>, Fault> {
        let mut cfgs = self.handle.configs().await?;
        cfgs.sort_by(|a, b| a.config.name.cmp(&b.config.name));
        Ok(cfgs.into_iter().map(ConfigView::from).collect())
    }

    /// The processes `sel` names, in start order; BAD_NAME when there are none.
    pub async fn select(&self, sel: &Selection) -> Result<Vec<ProcessInfo>, Fault> {
        let mut all = self.handle.processes().await?;
        all.retain(|p| sel.matches(&p.group, &p.name));
        if all.is_empty() && *sel != Selection::All {
            return Err(Fault::BadName(match sel {
                Selection::Group(g) => g.clone(),
                other => other.to_string(),
            }));
        }
        Ok(all)
    }

    /// Starts one process; with `wait`, answers once it is RUNNING (or has failed).
    pub async fn start(&self, name: &str, wait: bool) -> Result<ProcessView, Fault> {
        let info = self.handle.start(name, wait).await?;
        Ok(ProcessView::at(info, wall_now()))
    }

    /// Stops one process; with `wait`, answers once it has stopped.
    pub async fn stop(&self, name: &str, wait: bool) -> Result<ProcessView, Fault> {
        let info = self.handle.stop(name, wait).await?;
        Ok(ProcessView::at(info, wall_now()))
    }

    /// Stops a process if it runs, then starts it and waits until it is RUNNING.
    pub async fn restart(&self, name: &str) -> Result<ProcessView, Fault> {
        let info = self.handle.restart(name, true).await?;
        Ok(ProcessView::at(info, wall_now()))
    }

    /// Starts every selected process that is not running, all at once; results in the order
    /// they complete.
    pub async fn start_many(
        &self,
        sel: &Selection,
        wait: bool,
    ) -> Result<Vec<ProcessResult>, Fault> {
        let members = self.select(sel).await?;
        let todo = members.into_iter().filter(|p| !p.state.is_running());
        Ok(self
            .fan_out(todo, move |h, name| async move {
                h.start(&name, wait).await.map(drop)
            })
            .await)
    }

    /// Stops every selected process that runs, all at once, the last started first.
    pub async fn stop_many(
        &self,
        sel: &Selection,
        wait: bool,
    ) -> Result<Vec<ProcessResult>, Fault> {
        let mut members = self.select(sel).await?;
        members.reverse();
        // supervisor's isRunning: one already STOPPING is left out.
        let todo = members.into_iter().filter(|p| p.state.is_running());
        Ok(self
            .fan_out(todo, move |h, name| async move {
                h.stop(&name, wait).await.map(drop)
            })
            .await)
    }

    /// Runs `op` for every process at once; results in the order they complete.
    async fn fan_out<F, Fut>(
        &self,
        processes: impl Iterator<Item = ProcessInfo>,
        op: F,
    ) -> Vec<ProcessResult>
    where
        F: Fn(Handle, String) -> Fut,
        Fut: Future<Output = Result<(), Fault>> + Send + 'static,
    {
        let mut set = JoinSet::new();
        for p in processes {
            let fut = op(self.handle.clone(), namespec(&p));
            set.spawn(async move { ProcessResult::of(&p, fut.await) });
        }
        let mut results = Vec::new();
        while let Some(r) = set.join_next().await {
            if let Ok(r) = r {
                results.push(r);
            }
        }
        results
    }

    /// Sends a signal (`HUP`, `SIGHUP` or a number) to one process.
    pub async fn signal(&self, name: &str, signal: &str) -> Result<(), Fault> {
        self.handle.signal(name, signal).await
    }

    /// Signals every selected process that can take a signal (RUNNING, STARTING, STOPPING),
    /// one after the other, in start order.
    pub async fn signal_many(
        &self,
        sel: &Selection,
        signal: &str,
    ) -> Result<Vec<ProcessResult>, Fault> {
        let mut results = Vec::new();
        for p in self.select(sel).await? {
            if !p.state.is_signallable() {
                continue;
            }
            let r = self.handle.signal(&namespec(&p), signal).await;
            results.push(ProcessResult::of(&p, r));
        }
        Ok(results)
    }

    /// Clears the logs of every process, one after the other, in start order.
    pub async fn clear_all_logs(&self) -> Result<Vec<ProcessResult>, Fault> {
        let mut results = Vec::new();
        for p in self.select(&Selection::All).await? {
            let r = self.handle.clear_logs(&namespec(&p)).await;
            results.push(ProcessResult::of(&p, r));
        }
        Ok(results)
    }

    /// Writes `data` to a process's stdin.
    pub async fn send_stdin(&self, name: &str, data: Vec<u8>) -> Result<(), Fault> {
        self.handle.send_stdin(name, data).await
    }
}

/// supervisor's `make_namespec`: `name` when the group has the process's name, else
/// `group:name` (faults in results name the process this way).
fn namespec(p: &ProcessInfo) -> String {
    if p.group == p.name {
        p.name.clone()
    } else {
        format!("{}:{}", p.group, p.name)
    }
}
