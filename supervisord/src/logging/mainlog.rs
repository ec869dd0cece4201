//! The daemon's own log in Python supervisor's format
//! (`2026-11-23 23:58:15,480 INFO spawned: 'web' with pid 4242`), written by a `tracing` layer
//! to a size-rotated file and, in the foreground, echoed to stdout.
//!
//! Levels: tracing's ERROR/WARN/INFO/DEBUG/TRACE print as ERRO/WARN/INFO/DEBG/TRAC; events with
//! target `crit` print as CRIT and those with target `blather` as BLAT (supervisor's extra levels).

use std::path::PathBuf;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use shared::config::{LogLevel, MainLog as MainLogCfg, SupervisordConfig};
use tracing::field::{Field, Visit};
use tracing::subscriber::Interest;
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer};

use super::rotate::RotatingFile;
use super::syslog_target::SyslogOutput;
use super::writer::{Target, Writer};
use super::{FollowHub, FollowRx, console};

/// Logs at supervisor's CRIT level.
#[macro_export]
macro_rules! crit {
    ($($arg:tt)*) => { ::tracing::error!(target: "crit", $($arg)*) };
}

/// Lines waiting for a slow disk before more are dropped.
const CAPACITY: usize = 4 << 20;

/// The main log file, written by its own thread: whoever logs (the actor included) never
/// waits for the disk.
struct MainFile(Option<RotatingFile>);

impl Target for MainFile {
    fn write(&mut self, data: &[u8]) -> std::io::Result<()> {
        match self.0.as_mut() {
            Some(f) => f.write_record(data),
            None => Ok(()),
        }
    }
}

struct State {
    followers: FollowHub,
    /// Started with the first log file.
    file: Option<Writer<MainFile>>,
    syslog: Option<SyslogOutput>,
    path: Option<PathBuf>,
    echo: bool,
    level: LogLevel,
    /// Who writes, in drop reports.
    from: Arc<str>,
}

/// Shared handle: the layer writes through it, the daemon reconfigures and reopens through it.
#[derive(Clone)]
pub struct MainLog {
    state: Arc<Mutex<State>>,
    /// The configured level's severity, read for every log call without the lock: a call
    /// below it is not even formatted.
    threshold: Arc<AtomicU8>,
}

impl Default for MainLog {
    fn default() -> Self {
        Self::new()
    }
}

impl MainLog {
    /// Before the config is read: INFO, echoed to stdout only.
    pub fn new() -> MainLog {
        MainLog {
            state: Arc::new(Mutex::new(State {
                followers: FollowHub::default(),
                file: None,
                syslog: None,
                path: None,
                echo: true,
                level: LogLevel::Info,
                from: Arc::from("the main log"),
            })),
            threshold: Arc::new(AtomicU8::new(LogLevel::Info.severity())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `[supervisord]` logfile, rotation, level; `echo` when in the foreground.
    pub fn configure(&self, cfg: &SupervisordConfig, echo: bool) -> Result<(), String> {
        let file = match &cfg.logfile {
            MainLogCfg::File(p) => Some(
                RotatingFile::open(p, cfg.logfile_maxbytes, cfg.logfile_backups)
                    .map_err(|e| format!("can't open main log file {}: {e}", p.display()))?,
            ),
            MainLogCfg::Syslog | MainLogCfg::Off => None,
        };
        let mut st = self.lock();
        st.level = cfg.loglevel;
        self.threshold
            .store(cfg.loglevel.severity(), Ordering::Relaxed);
        st.echo = echo && !cfg.silent;
        st.path = match &cfg.logfile {
            MainLogCfg::File(p) => Some(p.clone()),
            _ => None,
        };
        match (&st.file, file) {
            (Some(w), f) => w.run(move |t| t.0 = f),
            (None, Some(f)) => {
                st.file = Some(
                    Writer::start("the main log file", MainFile(Some(f)), CAPACITY)
                        .map_err(|e| format!("can't start the main log's writer: {e}"))?,
                );
            }
            (None, None) => {}
        }
        st.syslog = None;
        if cfg.logfile == MainLogCfg::Syslog {
            st.syslog = SyslogOutput::main_log();
            if st.syslog.is_none() {
                let msg = "supervisord: logfile=syslog but no thread could be started to write to it; the main log goes to stdout only\n";
                console::write(true, &st.from, msg.as_bytes());
            }
        }
        Ok(())
    }

    pub fn path(&self) -> Option<PathBuf> {
        self.lock().path.clone()
    }

    /// New main log lines from now on.
    pub fn follow(&self) -> FollowRx {
        self.lock().followers.follow()
    }

    /// Empties the main log (`clearLog`).
    pub async fn clear(&self) -> Result<(), String> {
        let Some(w) = self.lock().file.clone() else {
            return Err("no main log file".into());
        };
        w.call(|t| match t.0.as_mut() {
            Some(f) => f.clear().map_err(|e| e.to_string()),
            None => Err("no main log file".into()),
        })
        .await
        .map_err(|_| "the main log's writer is gone".to_string())?
    }

    pub fn level(&self) -> LogLevel {
        self.lock().level
    }

    /// Reopens the file (SIGUSR2); a failure is logged.
    pub fn reopen(&self) {
        if let Some(w) = &self.lock().file {
            w.run(|t| {
                if let Some(f) = t.0.as_mut()
                    && let Err(e) = f.reopen()
                {
                    tracing::error!("can't reopen main log {}: {e}", f.path().display());
                }
            });
        }
    }

    /// At exit: waits (at most `limit`) for the file to take what is queued.
    pub fn flush(&self, limit: Duration) {
        let file = self.lock().file.clone();
        if let Some(w) = file {
            w.flush(limit);
        }
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
            console::write(false, &st.from, line.as_bytes());
        }
        if let Some(sys) = st.syslog.as_mut() {
            sys.send_level(level, message);
        }
        if let Some(w) = &st.file {
            w.write(&st.from, line.as_bytes());
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

/// The main log's level of a log call.
fn level_of(meta: &tracing::Metadata<'_>) -> LogLevel {
    match (meta.target(), *meta.level()) {
        ("crit", _) => LogLevel::Critical,
        ("blather", _) => LogLevel::Blather,
        (_, Level::ERROR) => LogLevel::Error,
        (_, Level::WARN) => LogLevel::Warn,
        (_, Level::INFO) => LogLevel::Info,
        (_, Level::DEBUG) => LogLevel::Debug,
        (_, Level::TRACE) => LogLevel::Trace,
    }
}

impl<S: Subscriber> Layer<S> for MainLogLayer {
    /// Asked at every call: the level changes with a reload.
    fn register_callsite(&self, _meta: &'static tracing::Metadata<'static>) -> Interest {
        Interest::sometimes()
    }

    fn enabled(&self, meta: &tracing::Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        let threshold = self.log.threshold.load(Ordering::Relaxed);
        if level_of(meta).severity() < threshold {
            return false;
        }
        // Dependencies (hyper, h2, tonic) speak only at loglevel trace and below.
        is_ours(meta.target())
            || threshold <= LogLevel::Trace.severity()
            || *meta.level() <= Level::WARN
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let meta = event.metadata();
        let level = level_of(meta);
        let mut msg = Message(String::new());
        event.record(&mut msg);
        self.log.write_line(level, &msg.0);
    }
}
