//! What clients are shown of a process: supervisor's `description` text and config structs.

use chrono::TimeZone;
use proto::v1;
use shared::ProcessState;
use shared::config::{LogTarget, ProcessConfig};
use shared::values::AutoRestart;

use crate::supervisor::ProcessInfo;

/// supervisor's `_interpretProcessInfo`.
pub(crate) fn description(p: &ProcessInfo, now: i64) -> String {
    match p.state {
        ProcessState::Running => format!("pid {}, uptime {}", p.pid, uptime(now - p.start)),
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
                chrono::Local
                    .timestamp_opt(p.stop, 0)
                    .single()
                    .map_or_else(String::new, |t| t.format("%b %d %I:%M %p").to_string())
            }
        }
        _ => String::new(),
    }
}

/// Python's `str(timedelta)`: `0:00:05`, `1 day, 2:03:04`, `3 days, 0:00:00`.
pub(crate) fn uptime(secs: i64) -> String {
    let secs = secs.max(0);
    let (days, rest) = (secs / 86400, secs % 86400);
    let hms = format!("{}:{:02}:{:02}", rest / 3600, rest % 3600 / 60, rest % 60);
    match days {
        0 => hms,
        1 => format!("1 day, {hms}"),
        d => format!("{d} days, {hms}"),
    }
}

fn logfile(p: &ProcessConfig, stderr: bool) -> String {
    let cfg = if stderr { &p.stderr } else { &p.stdout };
    match cfg.targets.first() {
        None => "none".into(),
        Some(LogTarget::Auto) => "auto".into(),
        Some(LogTarget::File(f)) => f.display().to_string(),
        Some(LogTarget::Stdout) => "/dev/stdout".into(),
        Some(LogTarget::Stderr) => "/dev/stderr".into(),
        Some(LogTarget::Syslog(_)) => "syslog".into(),
    }
}

pub(crate) fn config_info(p: &ProcessConfig, group_prio: i64, inuse: bool) -> v1::ConfigInfo {
    v1::ConfigInfo {
        name: p.name.clone(),
        group: p.group.clone(),
        inuse,
        autostart: p.autostart,
        group_prio,
        process_prio: p.priority,
        command: p.command.clone(),
        directory: p
            .directory
            .as_ref()
            .map_or_else(|| "none".into(), |d| d.display().to_string()),
        exitcodes: p.exitcodes.clone(),
        startsecs: p.startsecs as i64,
        startretries: p.startretries as i64,
        stopsignal: p.stopsignals.first().map_or(15, |s| s.number()),
        stopwaitsecs: p.stopwaitsecs as i64,
        killasgroup: p.killasgroup,
        redirect_stderr: p.redirect_stderr,
        stdout_logfile: logfile(p, false),
        stderr_logfile: logfile(p, true),
        autorestart: match p.autorestart {
            AutoRestart::Always => "true",
            AutoRestart::Unexpected => "unexpected",
            AutoRestart::Never => "false",
        }
        .into(),
        serverurl: p.serverurl.clone().unwrap_or_else(|| "auto".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::uptime;

    #[test]
    fn uptime_like_python_timedelta() {
        assert_eq!(uptime(5), "0:00:05");
        assert_eq!(uptime(3723), "1:02:03");
        assert_eq!(uptime(86400 + 3723), "1 day, 1:02:03");
        assert_eq!(uptime(3 * 86400), "3 days, 0:00:00");
        assert_eq!(uptime(-4), "0:00:00");
    }
}
