//! The Go supervisord's program options that go beyond Python's: restart on change, hooks,
//! `cron` and liveness checks, with the options of ours that complete them (`restart_debounce`,
//! `hook_timeout`). Each is parsed into its type here, so a bad value is a located error, not a
//! silent default as in the Go code.

use std::path::Path;
use std::time::Duration;

use super::reader::Sect;
use super::{
    DirWatch, FailureAction, HealthCheck, Hooks, HttpBody, HttpRequest, OnChange, Probe,
    WatchConfig,
};
use crate::cron::Schedule;
use crate::values;

pub(super) const KEYS: &[&str] = &[
    "restart_when_binary_changed",
    "restart_cmd_when_binary_changed",
    "restart_signal_when_binary_changed",
    "restart_directory_monitor",
    "restart_file_pattern",
    "restart_cmd_when_file_changed",
    "restart_signal_when_file_changed",
    "restart_debounce",
    "pre_start_hook",
    "pre_stop_hook",
    "hook_timeout",
    "cron",
    "liveness_check_script",
];

/// Warns about options that only mean something with another one that is not set.
fn orphans(s: &mut Sect<'_, '_>, keys: &[&str], needs: &str) {
    for key in keys {
        if s.has(key) {
            s.warn(Some(key), format!("{key} has no effect without {needs}"));
        }
    }
}

fn on_change(s: &mut Sect<'_, '_>, cmd: &str, signal: &str) -> OnChange {
    OnChange {
        cmd: s.non_empty(cmd),
        signals: s.optional(signal, values::signal_list).unwrap_or_default(),
    }
}

pub(super) fn watch(s: &mut Sect<'_, '_>, here_dir: &Path) -> WatchConfig {
    let binary = if s.value("restart_when_binary_changed", "false", values::boolean) {
        Some(on_change(
            s,
            "restart_cmd_when_binary_changed",
            "restart_signal_when_binary_changed",
        ))
    } else {
        orphans(
            s,
            &[
                "restart_cmd_when_binary_changed",
                "restart_signal_when_binary_changed",
            ],
            "restart_when_binary_changed=true",
        );
        None
    };
    let directory = match s.non_empty("restart_directory_monitor") {
        Some(d) => {
            let pattern = s.value("restart_file_pattern", "*", |p| {
                glob::Pattern::new(p.trim())
                    .map(|_| p.trim().to_owned())
                    .map_err(|e| format!("not a valid glob pattern: {e}"))
            });
            Some(DirWatch {
                dir: values::relative_to(here_dir, &values::expand_user(d.trim())),
                pattern,
                on_change: on_change(
                    s,
                    "restart_cmd_when_file_changed",
                    "restart_signal_when_file_changed",
                ),
            })
        }
        None => {
            orphans(
                s,
                &[
                    "restart_file_pattern",
                    "restart_cmd_when_file_changed",
                    "restart_signal_when_file_changed",
                ],
                "restart_directory_monitor",
            );
            None
        }
    };
    let debounce = s.value("restart_debounce", "0.5", |v| match values::duration(v)? {
        d if d > Duration::from_secs(3600) => Err(format!("at most an hour (3600), got {v:?}")),
        d => Ok(d),
    });
    if binary.is_none() && directory.is_none() {
        orphans(
            s,
            &["restart_debounce"],
            "restart_when_binary_changed or restart_directory_monitor",
        );
    }
    WatchConfig {
        binary,
        directory,
        debounce,
    }
}

pub(super) fn hooks(s: &mut Sect<'_, '_>) -> Hooks {
    let pre_start = s.optional("pre_start_hook", probe).flatten();
    let pre_stop = s.optional("pre_stop_hook", probe).flatten();
    let timeout = s.value("hook_timeout", "30", positive_duration);
    if pre_start.is_none() && pre_stop.is_none() {
        orphans(s, &["hook_timeout"], "pre_start_hook or pre_stop_hook");
    }
    Hooks {
        pre_start,
        pre_stop,
        timeout,
    }
}

pub(super) fn cron(s: &mut Sect<'_, '_>) -> Option<Schedule> {
    s.optional("cron", Schedule::parse)
}

/// The options of a liveness check besides its script (the rest of the section's keys).
pub(super) const CHECK_OPTIONS: &[&str] = &[
    "liveness_check_initial_delay",
    "liveness_check_period",
    "liveness_check_timeout",
    "liveness_check_success_threshold",
    "liveness_check_failure_threshold",
    "liveness_check_failure_action",
];

pub(super) fn liveness(s: &mut Sect<'_, '_>) -> Option<HealthCheck> {
    let Some(probe) = s.optional("liveness_check_script", probe).flatten() else {
        orphans(s, CHECK_OPTIONS, "liveness_check_script");
        return None;
    };
    Some(HealthCheck {
        probe,
        initial_delay: s.value("liveness_check_initial_delay", "0", values::duration),
        period: s.value("liveness_check_period", "10", positive_duration),
        timeout: s.value("liveness_check_timeout", "1", positive_duration),
        success_threshold: s.value("liveness_check_success_threshold", "1", threshold),
        failure_threshold: s.value("liveness_check_failure_threshold", "3", threshold),
        failure_action: s.value("liveness_check_failure_action", "restart", failure_action),
    })
}

fn positive_duration(v: &str) -> values::ValueResult<Duration> {
    match values::duration(v)? {
        d if d.is_zero() => Err(format!("expected a time span > 0, got {v:?}")),
        d => Ok(d),
    }
}

fn threshold(v: &str) -> values::ValueResult<u32> {
    values::non_negative(v)
        .ok()
        .and_then(|n| u32::try_from(n).ok())
        .filter(|&n| (1..=1000).contains(&n))
        .ok_or_else(|| format!("expected a count from 1 to 1000, got {v:?}"))
}

fn failure_action(v: &str) -> values::ValueResult<FailureAction> {
    let t = v.trim();
    Ok(match t.to_ascii_lowercase().as_str() {
        "restart" | "" => FailureAction::Restart,
        "stop" => FailureAction::Stop,
        _ => FailureAction::Command(t.strip_prefix("script://").unwrap_or(t).to_owned()),
    })
}

/// `URL [-H 'Name: value']... [-d DATA | -d @FILE]`, the Go supervisord's hook syntax.
fn http(t: &str) -> values::ValueResult<HttpRequest> {
    let words = values::shell_split(t)?;
    let mut words = words.into_iter();
    let url = words.next().unwrap_or_default();
    let rest = &url[url.find("://").map_or(0, |i| i + 3)..];
    if rest.is_empty() || rest.starts_with('/') {
        return Err(format!("{url:?} has no host"));
    }
    let mut req = HttpRequest {
        url,
        headers: Vec::new(),
        body: None,
    };
    while let Some(opt) = words.next() {
        let mut value = || words.next().ok_or_else(|| format!("{opt} needs a value"));
        match opt.as_str() {
            "-H" | "--header" => {
                let h = value()?;
                let (name, v) = h
                    .split_once(':')
                    .ok_or_else(|| format!("header {h:?}: expected 'Name: value'"))?;
                req.headers
                    .push((name.trim().to_owned(), v.trim().to_owned()));
            }
            "-d" | "--data" => {
                let d = value()?;
                req.body = Some(match d.strip_prefix('@') {
                    Some(f) => HttpBody::File(f.into()),
                    None => HttpBody::Text(d),
                });
            }
            "-key" | "-cert" | "-ca" => {
                return Err(format!(
                    "{opt}: client certificates are not taken by our HTTP probes (an https:// certificate is not verified); use a command (curl) for mutual TLS"
                ));
            }
            other => {
                return Err(format!(
                    "unknown option {other:?} after the URL (expected -H 'Name: value' or -d DATA)"
                ));
            }
        }
    }
    Ok(req)
}

/// `http(s)://…`, `tcp://host:port`, `script://command` or a command; empty is no check.
fn probe(v: &str) -> values::ValueResult<Option<Probe>> {
    let t = v.trim();
    if t.is_empty() {
        return Ok(None);
    }
    let lower = t.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return http(t).map(|r| Some(Probe::Http(r)));
    }
    if let Some(addr) = t.strip_prefix("tcp://") {
        let addr = addr.trim_end_matches('/');
        let (host, port) = addr
            .rsplit_once(':')
            .ok_or_else(|| format!("{t:?}: expected tcp://host:port"))?;
        let port: u16 = port
            .parse()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("{t:?}: {port:?} is not a port"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{t:?}: expected tcp://host:port"));
        }
        return Ok(Some(Probe::Tcp {
            host: host.to_owned(),
            port,
        }));
    }
    Ok(Some(Probe::Command(
        t.strip_prefix("script://").unwrap_or(t).to_owned(),
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(url: &str) -> HttpRequest {
        HttpRequest {
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }

    #[test]
    fn probes() {
        let ok = [
            (
                "http://127.0.0.1:8080/health",
                Probe::Http(get("http://127.0.0.1:8080/health")),
            ),
            ("https://localhost", Probe::Http(get("https://localhost"))),
            (
                "http://h/hook -H 'X-Token: s3cr3t' -d '{\"a\": 1}'",
                Probe::Http(HttpRequest {
                    url: "http://h/hook".into(),
                    headers: vec![("X-Token".into(), "s3cr3t".into())],
                    body: Some(HttpBody::Text("{\"a\": 1}".into())),
                }),
            ),
            (
                "http://h/hook --data @/etc/app/payload.json",
                Probe::Http(HttpRequest {
                    url: "http://h/hook".into(),
                    headers: vec![],
                    body: Some(HttpBody::File("/etc/app/payload.json".into())),
                }),
            ),
            (
                "tcp://127.0.0.1:5432",
                Probe::Tcp {
                    host: "127.0.0.1".into(),
                    port: 5432,
                },
            ),
            (
                "tcp://[::1]:80",
                Probe::Tcp {
                    host: "::1".into(),
                    port: 80,
                },
            ),
            ("pg_isready -q", Probe::Command("pg_isready -q".into())),
            (
                "script:///bin/check x",
                Probe::Command("/bin/check x".into()),
            ),
        ];
        for (v, want) in ok {
            assert_eq!(probe(v), Ok(Some(want)), "{v}");
        }
        assert_eq!(probe("  "), Ok(None));
        for bad in [
            "http://",
            "https:///x",
            "http://h -d",
            "http://h -H nocolon",
            "http://h -X POST",
            "https://h -cert c.pem",
            "tcp://host",
            "tcp://host:0",
            "tcp://:80",
            "tcp://h:http",
        ] {
            assert!(probe(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn failure_actions_and_thresholds() {
        assert_eq!(failure_action("Restart"), Ok(FailureAction::Restart));
        assert_eq!(failure_action("stop"), Ok(FailureAction::Stop));
        assert_eq!(
            failure_action("script://notify.sh x"),
            Ok(FailureAction::Command("notify.sh x".into()))
        );
        assert_eq!(threshold("3"), Ok(3));
        assert!(threshold("0").is_err());
        assert!(threshold("-1").is_err());
        assert!(positive_duration("0").is_err());
        assert_eq!(positive_duration("250ms"), Ok(Duration::from_millis(250)));
    }
}
