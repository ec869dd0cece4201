//! Child output sent to syslog: local (`/dev/log`) or remote over UDP/TCP (`syslog @tcp:host:514`).

use shared::config::{RemoteSyslog, SyslogConfig};
use syslog::{Facility, Formatter3164, Logger, LoggerBackend};

pub struct SyslogTarget {
    logger: Logger<LoggerBackend, Formatter3164>,
    priority: Priority,
}

#[derive(Clone, Copy)]
enum Priority {
    Emerg,
    Alert,
    Crit,
    Err,
    Warning,
    Notice,
    Info,
    Debug,
}

fn priority(name: Option<&str>, default: Priority) -> Priority {
    match name.map(|n| n.trim().to_lowercase()).as_deref() {
        Some("emerg" | "emergency" | "panic") => Priority::Emerg,
        Some("alert") => Priority::Alert,
        Some("crit" | "critical") => Priority::Crit,
        Some("err" | "error") => Priority::Err,
        Some("warning" | "warn") => Priority::Warning,
        Some("notice") => Priority::Notice,
        Some("info") => Priority::Info,
        Some("debug") => Priority::Debug,
        _ => default,
    }
}

impl SyslogTarget {
    /// Connects to the local syslog socket or the remote server.
    pub fn connect(
        remote: Option<&RemoteSyslog>,
        cfg: &SyslogConfig,
        process: &str,
        stderr: bool,
    ) -> Result<SyslogTarget, String> {
        let facility = cfg
            .facility
            .as_deref()
            .and_then(|f| f.parse::<Facility>().ok())
            .unwrap_or(Facility::LOG_USER);
        let formatter = Formatter3164 {
            facility,
            hostname: None,
            process: cfg.tag.clone().unwrap_or_else(|| process.to_owned()),
            pid: std::process::id(),
        };
        let logger = match remote {
            None => syslog::unix(formatter).map_err(|e| format!("local syslog: {e}"))?,
            Some(r) if r.tcp => syslog::tcp(formatter, (r.host.as_str(), r.port))
                .map_err(|e| format!("syslog tcp:{}:{}: {e}", r.host, r.port))?,
            Some(r) => syslog::udp(formatter, ("0.0.0.0", 0), (r.host.as_str(), r.port))
                .map_err(|e| format!("syslog udp:{}:{}: {e}", r.host, r.port))?,
        };
        let (name, default) = if stderr {
            (cfg.stderr_priority.as_deref(), Priority::Err)
        } else {
            (cfg.stdout_priority.as_deref(), Priority::Info)
        };
        Ok(SyslogTarget {
            logger,
            priority: priority(name, default),
        })
    }

    /// The daemon's own log to the local syslog (`[supervisord] logfile=syslog`).
    pub fn main_log() -> Result<SyslogTarget, String> {
        let cfg = SyslogConfig {
            facility: Some("daemon".into()),
            tag: Some("supervisord".into()),
            ..SyslogConfig::default()
        };
        SyslogTarget::connect(None, &cfg, "supervisord", false)
    }

    /// One main-log message at the priority matching supervisor's level.
    pub fn send_level(&mut self, level: shared::config::LogLevel, msg: &str) -> Result<(), String> {
        use shared::config::LogLevel::*;
        self.priority = match level {
            Critical => Priority::Crit,
            Error => Priority::Err,
            Warn => Priority::Warning,
            Info => Priority::Info,
            Debug | Trace | Blather => Priority::Debug,
        };
        self.send(msg.as_bytes())
    }

    /// Sends each non-empty line as one message.
    pub fn send(&mut self, data: &[u8]) -> Result<(), String> {
        for line in String::from_utf8_lossy(data).lines() {
            if line.is_empty() {
                continue;
            }
            let r = match self.priority {
                Priority::Emerg => self.logger.emerg(line),
                Priority::Alert => self.logger.alert(line),
                Priority::Crit => self.logger.crit(line),
                Priority::Err => self.logger.err(line),
                Priority::Warning => self.logger.warning(line),
                Priority::Notice => self.logger.notice(line),
                Priority::Info => self.logger.info(line),
                Priority::Debug => self.logger.debug(line),
            };
            r.map_err(|e| format!("syslog: {e}"))?;
        }
        Ok(())
    }
}
