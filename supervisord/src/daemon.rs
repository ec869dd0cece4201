//! The daemon around the actor: pidfile, the signals supervisord answers to, config reload on
//! SIGHUP (a config that fails validation is refused and the running one kept), cleanup.

use std::path::PathBuf;
use std::sync::Arc;

use shared::config::{Config, LoadOptions};
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::mpsc;
use tracing::{error, info, warn};

use crate::crit;
use crate::logging::mainlog::MainLog;
use crate::reaper;
use crate::supervisor::Supervisor;

/// What [`run`] needs besides the config.
pub struct RunOptions {
    /// The config file, re-read on SIGHUP.
    pub config_path: PathBuf,
    pub load: LoadOptions,
    /// Echo the main log to stdout (foreground, not silent).
    pub foreground: bool,
    pub mainlog: MainLog,
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
                match shared::config::load(&opts.config_path, &opts.load) {
                    Ok(new) => {
                        for w in &new.warnings {
                            warn!("{w}");
                        }
                        let new = Arc::new(new);
                        if let Err(e) = opts.mainlog.configure(&new.supervisord, opts.foreground) {
                            error!("{e}");
                        }
                        let h = handle.clone();
                        tokio::spawn(async move { h.reload(new).await });
                    }
                    Err(errors) => {
                        error!(
                            "not reloading: {} has errors; the running configuration is kept:\n{errors}",
                            opts.config_path.display()
                        );
                    }
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
    if let Some(p) = &pidfile {
        let _ = std::fs::remove_file(p);
    }
    Ok(code)
}

fn request_exit(handle: &crate::supervisor::Handle, signame: &str) {
    warn!("received {signame} indicating exit request");
    let h = handle.clone();
    tokio::spawn(async move { h.shutdown().await });
}
