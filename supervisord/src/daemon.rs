//! The daemon around the actor: listeners, pidfile, the signals supervisord answers to, config
//! reload (a config that fails validation is refused and the running one kept), cleanup.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use shared::config::{Config, LoadOptions};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{error, info, warn};

use crate::crit;
use crate::logging::mainlog::MainLog;
use crate::reaper;
use crate::server::Servers;
use crate::service::{Reloader, Service};
use crate::supervisor::{Handle, Supervisor};

/// What [`run`] needs besides the config.
pub struct RunOptions {
    /// The config file, re-read on SIGHUP.
    pub config_path: PathBuf,
    pub load: LoadOptions,
    /// Echo the main log to stdout (foreground, not silent).
    pub foreground: bool,
    pub mainlog: MainLog,
    /// Told once the servers listen and the pidfile is written.
    pub readiness: crate::readiness::Readiness,
}

/// Runs the daemon until it is told to stop. Returns the exit status.
pub async fn run(config: Arc<Config>, opts: RunOptions) -> anyhow::Result<i32> {
    let (exit_tx, exit_rx) = mpsc::unbounded_channel();
    let reaper = reaper::start(exit_tx)?;
    tokio::spawn(reaper);

    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let mut quit = signal(SignalKind::quit())?;
    let mut hup = signal(SignalKind::hangup())?;
    let mut usr2 = signal(SignalKind::user_defined2())?;

    let pidfile = config.supervisord.pidfile.clone();
    let (supervisor, handle) = Supervisor::new(config.clone(), opts.mainlog.clone(), exit_rx);
    let reloader = Arc::new(Reloader::new(
        opts.config_path.clone(),
        opts.load.clone(),
        opts.mainlog.clone(),
        opts.foreground,
    ));
    let servers = CancellationToken::new();
    let tasks = TaskTracker::new();
    let svc = Service::new(handle.clone(), opts.mainlog.clone(), reloader.clone());
    let mut listeners = Servers::start(&config, svc, servers.clone(), tasks.clone())
        .await
        .map_err(anyhow::Error::msg)?;
    if listeners.is_empty() {
        warn!(
            "neither [unix_http_server] nor [inet_http_server] is configured: supervisorctl and other clients cannot reach this daemon"
        );
    }
    let mut applied = reloader.applied();
    if let Some(p) = &pidfile
        && let Err(e) = std::fs::write(p, format!("{}\n", std::process::id()))
    {
        crit!("could not write pidfile {}: {e}", p.display());
    }
    info!("supervisord started with pid {}", std::process::id());
    opts.readiness.ready();
    let pumps = supervisor.pumps();
    let mut actor = tokio::spawn(supervisor.run());
    let triggers = crate::triggers::Triggers::start(&handle);
    let systemd = crate::systemd::Notifier::from_env()
        .map(|n| tokio::spawn(crate::systemd::run(n, handle.clone())));

    let outcome = loop {
        tokio::select! {
            res = &mut actor => break res,
            _ = term.recv() => request_exit(&handle, "SIGTERM").await,
            _ = int.recv() => request_exit(&handle, "SIGINT").await,
            _ = quit.recv() => request_exit(&handle, "SIGQUIT").await,
            _ = hup.recv() => {
                if handle.state() == shared::SupervisorState::Shutdown {
                    warn!("ignored SIGHUP indicating restart request (shutdown in progress)");
                    continue;
                }
                warn!("received SIGHUP indicating restart request");
                if let Err(e) = reloader.reload(&handle).await {
                    error!("{e}");
                }
            }
            Ok(()) = applied.changed() => {
                let new = applied.borrow_and_update().clone();
                if let Some(new) = new {
                    listeners.apply(&new).await;
                }
            }
            _ = usr2.recv() => {
                info!("received SIGUSR2 indicating log reopen request");
                let _ = handle.reopen_logs().await;
            }
        }
    };
    drop(triggers);
    if let Some(t) = systemd {
        // It has said STOPPING=1 (or the actor ended without a shutdown: nothing more to say).
        let _ = tokio::time::timeout(Duration::from_secs(1), t).await;
    }
    let code = match outcome {
        Ok(o) => o.exit_code,
        Err(e) => {
            crit!("the supervisor task failed: {e}");
            1
        }
    };
    // Every child is gone: what they wrote is in their pipes. A grandchild may hold a pipe
    // open forever, so each pump takes what is there now and ends.
    pumps.finish();
    if tokio::time::timeout(Duration::from_secs(10), pumps.wait())
        .await
        .is_err()
    {
        warn!("some child output could not be written to its logs in time");
    }
    // Followers of logs may keep connections open forever: give the servers a moment only.
    servers.cancel();
    tasks.close();
    let _ = tokio::time::timeout(Duration::from_secs(2), tasks.wait()).await;
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    if let Some(s) = listeners.socket_path() {
        let _ = std::fs::remove_file(s);
    }
    Ok(code)
}

async fn request_exit(handle: &Handle, signame: &str) {
    warn!("received {signame} indicating exit request");
    let _ = handle.request_shutdown().await;
}
