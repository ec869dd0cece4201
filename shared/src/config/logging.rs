//! A process's log options: where each stream goes (`*_logfile`, with our extra targets),
//! rotation, capture and events.

use crate::values;

use super::reader::Sect;
use super::{LogConfig, LogTarget, RemoteSyslog};

pub(super) fn log_config(s: &mut Sect<'_, '_>, stream: &str, listener: bool) -> LogConfig {
    let key = format!("{stream}_logfile");
    let raw = s
        .string(&key, Some("AUTO"))
        .unwrap_or_else(|| "AUTO".into());
    let mut syslog = s.value(&format!("{stream}_syslog"), "false", values::boolean);
    let mut targets = Vec::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match parse_target(part) {
            Ok(Some(LogTarget::Syslog(None)))
                if part.eq_ignore_ascii_case("syslog") && !raw.contains(',') =>
            {
                // Python's deprecated spelling: same as *_syslog=true with no file.
                syslog = true;
            }
            Ok(Some(t)) => targets.push(t),
            Ok(None) => {}
            Err(m) => s.error(&key, Some(part), m),
        }
    }
    let maxbytes = s.value(
        &format!("{stream}_logfile_maxbytes"),
        "50MB",
        values::byte_size,
    );
    if targets.contains(&LogTarget::Auto) && maxbytes == 0 && !listener {
        s.warn(
            Some(&key),
            format!("AUTO logging used for {key} without rollover, set maxbytes > 0 to avoid filling up filesystem unintentionally"),
        );
    }
    LogConfig {
        targets,
        maxbytes,
        backups: s.value(
            &format!("{stream}_logfile_backups"),
            "10",
            values::non_negative,
        ),
        capture_maxbytes: s.value(
            &format!("{stream}_capture_maxbytes"),
            "0",
            values::byte_size,
        ),
        events_enabled: s.value(
            &format!("{stream}_events_enabled"),
            "false",
            values::boolean,
        ),
        syslog,
    }
}

/// One log target: `NONE`/`OFF`, `AUTO`, `/dev/null`, `/dev/stdout`, `/dev/stderr`, `syslog`,
/// `syslog @[udp|tcp:]host[:port]` or a file path whose directory exists.
pub(crate) fn parse_target(t: &str) -> Result<Option<LogTarget>, String> {
    let lower = t.to_lowercase();
    match lower.as_str() {
        "none" | "off" | "/dev/null" => return Ok(None),
        "auto" => return Ok(Some(LogTarget::Auto)),
        "/dev/stdout" => return Ok(Some(LogTarget::Stdout)),
        "/dev/stderr" => return Ok(Some(LogTarget::Stderr)),
        "syslog" => return Ok(Some(LogTarget::Syslog(None))),
        _ => {}
    }
    if let Some(rest) = lower.strip_prefix("syslog") {
        let rest = rest.trim();
        let Some(addr) = rest.strip_prefix('@') else {
            return Err(format!(
                "expected syslog or syslog @[udp|tcp:]host[:port], got {t:?}"
            ));
        };
        let (tcp, hostport) = if let Some(h) = addr.strip_prefix("tcp:") {
            (true, h)
        } else if let Some(h) = addr.strip_prefix("udp:") {
            (false, h)
        } else {
            (false, addr)
        };
        let default_port = if tcp { 6514 } else { 514 };
        let (host, port) = match hostport.rsplit_once(':') {
            Some((h, p)) => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("bad syslog port in {t:?}"))?,
            ),
            None => (hostport, default_port),
        };
        if host.is_empty() {
            return Err(format!("syslog target {t:?} has no host"));
        }
        return Ok(Some(LogTarget::Syslog(Some(RemoteSyslog {
            tcp,
            host: host.to_owned(),
            port,
        }))));
    }
    values::existing_dirpath(t).map(|p| Some(LogTarget::File(p)))
}
