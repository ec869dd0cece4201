//! What clients are shown of processes, in domain types: a process with supervisor's
//! `description` text, a process's configuration as `getAllConfigInfo` has it, and the outcome
//! of one process in a group operation. Adapters only format these.

use std::sync::Arc;

use chrono::TimeZone;
use shared::config::{LogTarget, ProcessConfig};
use shared::values::AutoRestart;
use shared::{Fault, ProcessState};

use crate::process::health::Health;
use crate::supervisor::ProcessInfo;

/// A process as `getProcessInfo` shows it. `now` is one clock reading shared by every process
/// of one answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessView {
    pub info: ProcessInfo,
    pub now: i64,
    /// supervisor's `description` (`pid 42, uptime 0:00:05`, a spawn error, a stop time).
    pub description: String,
}

impl ProcessView {
    pub fn at(info: ProcessInfo, now: i64) -> ProcessView {
        let description = description(&info, now);
        ProcessView {
            info,
            now,
            description,
        }
    }
}

/// supervisor's `_interpretProcessInfo`.
/// A liveness check adds its verdict (ours: neither original has health).
fn description(p: &ProcessInfo, now: i64) -> String {
    let health = match &p.health {
        Health::NotChecked => String::new(),
        Health::Unknown => ", health unknown".into(),
        Health::Healthy => ", healthy".into(),
        Health::Unhealthy(why) => format!(", unhealthy: {why}"),
    };
    match p.state {
        ProcessState::Running => format!("pid {}, uptime {}{health}", p.pid, uptime(now - p.start)),
        ProcessState::Fatal | ProcessState::Backoff => {
            if p.spawnerr.is_empty() {
                format!("unknown error (try \"tail {}\")", p.name)
            } else {
                p.spawnerr.clone()
            }
        }
        ProcessState::Stopped | ProcessState::Exited => {
            if p.start == 0 {
                "Not started".into()
            } else {
                let at = chrono::Local
                    .timestamp_opt(p.stop, 0)
                    .single()
                    .map_or_else(String::new, |t| t.format("%b %d %I:%M %p").to_string());
                match &p.health {
                    Health::Unhealthy(why) => format!("{at} (unhealthy: {why})"),
                    _ => at,
                }
            }
        }
        _ => String::new(),
    }
}

/// Python's `str(timedelta)`: `0:00:05`, `1 day, 2:03:04`, `3 days, 0:00:00`.
fn uptime(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, rest) = (secs / 86400, secs % 86400);
    let hms = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        d => format!("{d} days, {hms}"),
    }
}

/// A process's configuration as `getAllConfigInfo` shows it.
#[derive(Debug, Clone)]
pub struct ConfigView {
    pub config: Arc<ProcessConfig>,
    pub group_prio: i64,
    /// The process is in the running configuration (not only in the last `reread`).
    pub inuse: bool,
    /// What `AUTO` became, for stdout and stderr.
    pub auto_logs: [Option<std::path::PathBuf>; 2],
}

impl From<crate::supervisor::ConfigEntry> for ConfigView {
    fn from(e: crate::supervisor::ConfigEntry) -> ConfigView {
        ConfigView {
            config: e.config,
            group_prio: e.group_prio,
            inuse: e.inuse,
            auto_logs: e.auto_logs,
        }
    }
}

impl ConfigView {
    pub fn log_config(&self, stderr: bool) -> &shared::config::LogConfig {
        if stderr {
            &self.config.stderr
        } else {
            &self.config.stdout
        }
    }

    /// The file's path (AUTO resolved once the process is in use, else `auto`), `none`,
    /// `/dev/stdout`, `syslog`: the first target, as supervisor names it.
    pub fn logfile(&self, stderr: bool) -> String {
        let cfg = self.log_config(stderr);
        match cfg.targets.first() {
            None => "none".into(),
            Some(LogTarget::Auto) => self.auto_logs[usize::from(stderr)]
                .as_ref()
                .map_or_else(|| "auto".into(), |p| p.display().to_string()),
            Some(LogTarget::File(f)) => f.display().to_string(),
            Some(LogTarget::Stdout) => "/dev/stdout".into(),
            Some(LogTarget::Stderr) => "/dev/stderr".into(),
            Some(LogTarget::Syslog(_)) => "syslog".into(),
        }
    }

    pub fn directory(&self) -> String {
        self.config
            .directory
            .as_ref()
            .map_or_else(|| "none".into(), |d| d.display().to_string())
    }

    pub fn stopsignal(&self) -> i32 {
        self.config.stopsignals.first().map_or(15, |s| s.number())
    }

    pub fn autorestart(&self) -> &'static str {
        match self.config.autorestart {
            AutoRestart::Always => "true",
            AutoRestart::Unexpected => "unexpected",
            AutoRestart::Never => "false",
        }
    }

    /// Python shows an unset (or `AUTO`) serverurl as `none`.
    pub fn serverurl(&self) -> String {
        self.config
            .serverurl
            .clone()
            .unwrap_or_else(|| "none".into())
    }

    /// The uid of `user=` (a name or a number), as supervisor resolves it.
    pub fn uid(&self) -> Option<u32> {
        let user = self.config.user.as_deref()?;
        match user.parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => nix::unistd::User::from_name(user)
                .ok()
                .flatten()
                .map(|u| u.uid.as_raw()),
        }
    }
}

/// How one process of a group or `all` operation fared.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessResult {
    pub group: String,
    pub name: String,
    pub outcome: Result<(), Fault>,
}

impl ProcessResult {
    pub(super) fn of(p: &ProcessInfo, outcome: Result<(), Fault>) -> ProcessResult {
        ProcessResult {
            group: p.group.clone(),
            name: p.name.clone(),
            outcome,
        }
    }

    /// supervisor's `status` field: 80 (SUCCESS) or the fault's code.
    pub fn status(&self) -> i32 {
        match &self.outcome {
            Ok(()) => Fault::Success.code(),
            Err(f) => f.code(),
        }
    }

    /// supervisor's `description` field: `OK` or the fault string.
    pub fn description(&self) -> String {
        match &self.outcome {
            Ok(()) => "OK".into(),
            Err(f) => f.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uptime_like_python_timedelta() {
        assert_eq!(uptime(5), "0:00:05");
        assert_eq!(uptime(3723), "1:02:03");
        assert_eq!(uptime(86400 + 3723), "1 day, 1:02:03");
        assert_eq!(uptime(3 * 86400), "3 days, 0:00:00");
        assert_eq!(uptime(-4), "0:00:00");
    }

    #[test]
    fn descriptions_by_state() {
        let mut info = ProcessInfo {
            name: "web".into(),
            group: "web".into(),
            state: ProcessState::Running,
            pid: 42,
            start: 100,
            stop: 0,
            spawnerr: String::new(),
            exitstatus: 0,
            stdout_logfile: String::new(),
            stderr_logfile: String::new(),
            starts: 1,
            health: Health::NotChecked,
        };
        assert_eq!(
            ProcessView::at(info.clone(), 105).description,
            "pid 42, uptime 0:00:05"
        );
        info.health = Health::Healthy;
        assert_eq!(
            ProcessView::at(info.clone(), 105).description,
            "pid 42, uptime 0:00:05, healthy"
        );
        info.health = Health::Unhealthy("HTTP status 503".into());
        assert_eq!(
            ProcessView::at(info.clone(), 105).description,
            "pid 42, uptime 0:00:05, unhealthy: HTTP status 503"
        );
        info.health = Health::NotChecked;
        info.state = ProcessState::Fatal;
        assert_eq!(
            ProcessView::at(info.clone(), 105).description,
            "unknown error (try \"tail web\")"
        );
        info.spawnerr = "Exited too quickly (process log may have details)".into();
        assert_eq!(
            ProcessView::at(info.clone(), 105).description,
            info.spawnerr
        );
        info.state = ProcessState::Stopped;
        info.start = 0;
        assert_eq!(ProcessView::at(info, 105).description, "Not started");
    }
}
