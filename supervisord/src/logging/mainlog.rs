//! The daemon's own log in Python supervisor's format
//! (`2026-11-23 23:58:15,480 INFO spawned: 'web' with pid 4242`), written by a `tracing` layer
//! to a size-rotated file and, in the foreground, echoed to stdout.
//!
//! Levels: tracing's ERROR/WARN/INFO/DEBUG/TRACE print as ERRO/WARN/INFO/DEBG/TRAC; events with
//! target `crit` print as CRIT and those with target `blather` as BLAT (supervisor's extra levels).

use std::io::Write;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use shared::config::{LogLevel, MainLog as MainLogCfg, SupervisordConfig};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::rotate::RotatingFile;
use super::syslog_target::SyslogTarget;

/// Logs at supervisor's CRIT level.
#[macro_export]
macro_rules! crit {
    ($($arg:tt)*) => { ::tracing::error!(target: "crit", $($arg)*) };
}

struct State {
    followers: super::FollowHub,
    file: Option<RotatingFile>,
    syslog: Option<SyslogTarget>,
    path: Option<PathBuf>,
    echo: bool,
    level: LogLevel,
    /// Lines logged before the file could be opened, replayed once it is (startup order).
    failed: bool,
}

/// Shared handle: the layer writes through it, the daemon reconfigures and reopens through it.
#[derive(Clone)]
pub struct MainLog {
    state: Arc<Mutex<State>>,
}

impl Default for MainLog {
    fn default() -> Self {
        Self::new()
    }
}

impl MainLog {
    /// Before the config is read: INFO to stderr-free stdout echo only.
    pub fn new() -> MainLog {
        MainLog {
            state: Arc::new(Mutex::new(State {
                followers: super::FollowHub::default(),
                file: None,
                syslog: None,
                path: None,
                echo: true,
                level: LogLevel::Info,
                failed: false,
            })),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `[supervisord]` logfile, rotation, level; `echo` when in the foreground.
    pub fn configure(&self, cfg: &SupervisordConfig, echo: bool) -> Result<(), String> {
        let mut st = self.lock();
        st.level = cfg.loglevel;
        st.echo = echo && !cfg.silent;
        st.failed = false;
        match &cfg.logfile {
            MainLogCfg::File(p) => {
                let f = RotatingFile::open(p, cfg.logfile_maxbytes, cfg.logfile_backups)
                    .map_err(|e| format!("can't open main log file {}: {e}", p.display()))?;
                st.file = Some(f);
                st.path = Some(p.clone());
            }
            MainLogCfg::Syslog => {
                st.file = None;
                st.path = None;
                // No syslog daemon (common in containers) must not keep the daemon from running.
                st.syslog = match SyslogTarget::main_log() {
                    Ok(t) => Some(t),
                    Err(e) => {
                        let _ = writeln!(
                            std::io::stderr(),
                            "supervisord: logfile=syslog but {e}; the main log goes to stdout only"
                        );
                        None
                    }
                };
                return Ok(());
            }
            MainLogCfg::Off => {
                st.file = None;
                st.path = None;
            }
        }
        st.syslog = None;
        Ok(())
    }

    pub fn path(&self) -> Option<PathBuf> {
        self.lock().path.clone()
    }

    /// New main log lines from now on.
    pub fn follow(&self) -> super::FollowRx {
        self.lock().followers.follow()
    }

    /// Empties the main log (`clearLog`).
    pub fn clear(&self) -> Result<(), String> {
        let mut st = self.lock();
        match st.file.as_mut() {
            Some(f) => f.clear().map_err(|e| e.to_string()),
            None => Err("no main log file".into()),
        }
    }

    pub fn level(&self) -> LogLevel {
        self.lock().level
    }

    /// Reopens the file (SIGUSR2).
    pub fn reopen(&self) -> Result<(), String> {
        let mut st = self.lock();
        if let Some(f) = st.file.as_mut() {
            f.reopen()
                .map_err(|e| format!("can't reopen main log {}: {e}", f.path().display()))?;
        }
        Ok(())
    }

    fn write_line(&self, level: LogLevel, message: &str) {
        let mut st = self.lock();
        if level.severity() < st.level.severity() {
            return;
        }
        let now = chrono::Local::now();
        let line = format!(
            "{} {} {}\n",
            now.format("%Y-%m-%d %H:%M:%S,%3f"),
            level.tag(),
            message
        );
        st.followers.publish(line.as_bytes());
        if st.echo {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
        }
        if let Some(sys) = st.syslog.as_mut()
            && let Err(e) = sys.send_level(level, message)
        {
            let _ = writeln!(std::io::stderr(), "supervisord: {e}");
        }
        let result = st.file.as_mut().map(|f| {
            f.write_record(line.as_bytes())
                .map_err(|e| format!("can't write main log {}: {e}", f.path().display()))
        });
        match result {
            Some(Err(e)) if !st.failed => {
                st.failed = true;
                let _ = writeln!(std::io::stderr(), "supervisord: {e}");
            }
            Some(Ok(())) => st.failed = false,
            _ => {}
        }
    }
}

/// The tracing layer that feeds [`MainLog`].
pub struct MainLogLayer {
    log: MainLog,
}

impl MainLogLayer {
    pub fn new(log: MainLog) -> Self {
        MainLogLayer { log }
    }
}

struct Message(String);

impl Visit for Message {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "message" {
            self.0.push_str(value);
        } else {
            self.0.push_str(&format!(" {}={value}", field.name()));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        } else {
            self.0.push_str(&format!(" {}={value:?}", field.name()));
        }
    }
}

/// Our own events (and supervisor's extra levels), as opposed to our dependencies'.
fn is_ours(target: &str) -> bool {
    target == "crit" || target == "blather" || target.starts_with("supervisord")
}

impl<S: Subscriber> Layer<S> for MainLogLayer {
    fn enabled(&self, meta: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        // Dependencies (hyper, h2, tonic) speak only at loglevel trace and below.
        is_ours(meta.target())
            || self.log.level().severity() <= LogLevel::Trace.severity()
            || *meta.level() <= Level::WARN
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = match (meta.target(), *meta.level()) {
            ("crit", _) => LogLevel::Critical,
            ("blather", _) => LogLevel::Blather,
            (_, Level::ERROR) => LogLevel::Error,
            (_, Level::WARN) => LogLevel::Warn,
            (_, Level::INFO) => LogLevel::Info,
            (_, Level::DEBUG) => LogLevel::Debug,
            (_, Level::TRACE) => LogLevel::Trace,
        };
        let mut msg = Message(String::new());
        event.record(&mut msg);
        self.log.write_line(level, &msg.0);
    }
}
