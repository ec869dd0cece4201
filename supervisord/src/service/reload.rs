//! Reading the config file again: for `reread` (compare only) and for a reload (SIGHUP,
//! `supervisorctl reload`), which a config with errors never starts: the running one is kept.
//! Parsing reads files, globs includes and looks users up, so it runs on the blocking pool.

use std::path::PathBuf;
use std::sync::Arc;

use shared::config::{Config, ConfigErrors, LoadOptions};
use tracing::{error, warn};

use crate::logging::mainlog::MainLog;
use crate::supervisor::Handle;

/// Why a config could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ReloadError {
    #[error(
        "not reloading: {} has errors; the running configuration is kept:\n{errors}",
        path.display()
    )]
    Invalid { path: PathBuf, errors: ConfigErrors },
    /// `reread`'s CANT_REREAD text is the errors alone.
    #[error("{errors}")]
    Unreadable { path: PathBuf, errors: ConfigErrors },
    #[error("the daemon is shutting down")]
    ShuttingDown,
    #[error("internal error reading the config: {0}")]
    Internal(String),
}

/// Where the config comes from, and what a reload reconfigures besides the actor.
pub struct Reloader {
    /// The config of each reload handed to the actor, for what else it reconfigures (the
    /// servers).
    applied: tokio::sync::watch::Sender<Option<Arc<Config>>>,
    config_path: PathBuf,
    load: LoadOptions,
    mainlog: MainLog,
    /// Echo the main log to stdout (foreground, not silent).
    foreground: bool,
}

impl Reloader {
    pub fn new(
        config_path: PathBuf,
        load: LoadOptions,
        mainlog: MainLog,
        foreground: bool,
    ) -> Self {
        Reloader {
            applied: tokio::sync::watch::Sender::new(None),
            config_path,
            load,
            mainlog,
            foreground,
        }
    }

    /// Reads and validates the config file without applying it (`reread`).
    pub async fn read(self: &Arc<Self>) -> Result<Config, ReloadError> {
        let me = self.clone();
        tokio::task::spawn_blocking(move || shared::config::load(&me.config_path, &me.load))
            .await
            .map_err(|e| ReloadError::Internal(e.to_string()))?
            .map_err(|errors| ReloadError::Unreadable {
                path: self.config_path.clone(),
                errors,
            })
    }

    /// Validates the config now; when it is valid, the actor stops everything and starts again
    /// with it (the reply comes once the actor has the request, not once it is done).
    pub async fn reload(self: &Arc<Self>, handle: &Handle) -> Result<(), ReloadError> {
        let me = self.clone();
        let new = tokio::task::spawn_blocking(move || {
            let new = shared::config::load(&me.config_path, &me.load)?;
            for w in &new.warnings {
                warn!("{w}");
            }
            // The main log file may be elsewhere now: opened here, off the async workers.
            if let Err(e) = me.mainlog.configure(&new.supervisord, me.foreground) {
                error!("{e}");
            }
            Ok(new)
        })
        .await
        .map_err(|e| ReloadError::Internal(e.to_string()))?
        .map_err(|errors| ReloadError::Invalid {
            path: self.config_path.clone(),
            errors,
        })?;
        let new = Arc::new(new);
        handle
            .request_reload(new.clone())
            .await
            .map_err(|_| ReloadError::ShuttingDown)?;
        self.applied.send_replace(Some(new));
        Ok(())
    }

    /// Each config a reload applies, from now on.
    pub fn applied(&self) -> tokio::sync::watch::Receiver<Option<Arc<Config>>> {
        self.applied.subscribe()
    }
}
