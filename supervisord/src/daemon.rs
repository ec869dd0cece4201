//! The daemon around the actor: listeners, pidfile, the signals supervisord answers to, config
//! reload (a config that fails validation is refused and the running one kept), cleanup.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
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
use crate::server;
use crate::supervisor::{Handle, Supervisor};

/// What [`run`] needs besides the config.
pub struct RunOptions {
    /// The config file, re-read on SIGHUP.
    pub config_path: PathBuf,
    pub load: LoadOptions,
    /// Echo the main log to stdout (foreground, not silent).
    pub foreground: bool,
    pub mainlog: MainLog,
}

/// Re-reads the config file and, when it is valid, restarts the supervisor with it. Shared by
/// SIGHUP and the `Restart` call.
pub struct Reloader {
    config_path: PathBuf,
    load: LoadOptions,
    mainlog: MainLog,
    foreground: bool,
    handle: Handle,
    identifier: Mutex<String>,
}

impl Reloader {
    /// Validates the config now; on success the restart proceeds in the background.
    pub fn reload(&self) -> Result<(), String> {
        let new = shared::config::load(&self.config_path, &self.load).map_err(|errors| {
            format!(
                "not reloading: {} has errors; the running configuration is kept:\n{errors}",
                self.config_path.display()
            )
        })?;
        for w in &new.warnings {
            warn!("{w}");
        }
        if let Err(e) = self.mainlog.configure(&new.supervisord, self.foreground) {
            error!("{e}");
        }
        if let Ok(mut id) = self.identifier.lock() {
            id.clone_from(&new.supervisord.identifier);
        }
        let h = self.handle.clone();
        tokio::spawn(async move { h.reload(Arc::new(new)).await });
        Ok(())
    }

    /// Reads and validates the config file without applying it (`reread`).
    pub fn read(&self) -> Result<Config, String> {
        shared::config::load(&self.config_path, &self.load).map_err(|e| e.to_string())
    }

    pub fn identifier(&self) -> String {
        self.identifier
            .lock()
            .map(|s| s.clone())
            .unwrap_or_default()
    }
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

    let listeners = server::bind(&config).await.map_err(anyhow::Error::msg)?;
    if listeners.is_empty() {
        warn!(
            "neither [unix_http_server] nor [inet_http_server] is configured: supervisorctl and other clients cannot reach this daemon"
        );
    }
    let socket = listeners.socket_path();
    let pidfile = config.supervisord.pidfile.clone();
    let (supervisor, handle) = Supervisor::new(config.clone(), opts.mainlog.clone(), exit_rx);
    let reloader = Arc::new(Reloader {
        config_path: opts.config_path.clone(),
        load: opts.load.clone(),
        mainlog: opts.mainlog.clone(),
        foreground: opts.foreground,
        handle: handle.clone(),
        identifier: Mutex::new(config.supervisord.identifier.clone()),
    });
    let servers = CancellationToken::new();
    let tasks = TaskTracker::new();
    for (section, creds) in [
        (
            "unix_http_server",
            config
                .unix_http_server
                .as_ref()
                .map(|u| u.username.is_some()),
        ),
        (
            "inet_http_server",
            config
                .inet_http_server
                .as_ref()
                .map(|i| i.username.is_some()),
        ),
    ] {
        if let Some(has_auth) = creds {
            info!("RPC interface 'supervisor' initialized");
            if !has_auth {
                crit!("Server '{section}' running without any HTTP authentication checking");
            }
        }
    }
    let api = server::grpc::Api {
        handle: handle.clone(),
        mainlog: opts.mainlog.clone(),
        reloader: reloader.clone(),
    };
    server::serve(listeners, api, servers.clone(), &tasks).map_err(anyhow::Error::msg)?;
    if let Some(p) = &pidfile
        && let Err(e) = std::fs::write(p, format!("{}\n", std::process::id()))
    {
        crit!("could not write pidfile {}: {e}", p.display());
    }
    info!("supervisord started with pid {}", std::process::id());
    let mut actor = tokio::spawn(supervisor.run());

    let outcome = loop {
        tokio::select! {
            res = &mut actor => break res,
            _ = term.recv() => request_exit(&handle, "SIGTERM"),
            _ = int.recv() => request_exit(&handle, "SIGINT"),
            _ = quit.recv() => request_exit(&handle, "SIGQUIT"),
            _ = hup.recv() => {
                match handle.state().await {
                    Ok(shared::SupervisorState::Shutdown) | Err(_) => {
                        warn!("ignored SIGHUP indicating restart request (shutdown in progress)");
                        continue;
                    }
                    _ => {}
                }
                warn!("received SIGHUP indicating restart request");
                if let Err(e) = reloader.reload() {
                    error!("{e}");
                }
            }
            _ = usr2.recv() => {
                info!("received SIGUSR2 indicating log reopen request");
                let _ = handle.reopen_logs().await;
            }
        }
    };
    let code = match outcome {
        Ok(o) => o.exit_code,
        Err(e) => {
            crit!("the supervisor task failed: {e}");
            1
        }
    };
    // Followers of logs may keep connections open forever: give the servers a moment only.
    servers.cancel();
    tasks.close();
    let _ = tokio::time::timeout(Duration::from_secs(2), tasks.wait()).await;
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    if let Some(s) = &socket {
        let _ = std::fs::remove_file(s);
    }
    Ok(code)
}

fn request_exit(handle: &Handle, signame: &str) {
    warn!("received {signame} indicating exit request");
    let h = handle.clone();
    tokio::spawn(async move { h.shutdown().await });
}
