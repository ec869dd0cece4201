//! What `[eventlistener:x]` and `[fcgi-program:x]` add to a program: the listener pool's events,
//! buffer and result handler, and the fcgi socket, parsed into their types here so a bad value
//! is a config error with its file and line.

use std::path::{Component, Path, PathBuf};

use crate::events::EventType;
use crate::values;

use super::reader::Sect;
use super::{FcgiConfig, FcgiSocket, ListenerConfig, ProcessKind, ResultHandler};

/// Keys a section type accepts besides the program keys.
pub(super) fn extra_keys(section_type: &str) -> &'static [&'static str] {
    match section_type {
        "eventlistener" => &["events", "buffer_size", "result_handler"],
        "fcgi-program" => &["socket", "socket_backlog", "socket_owner", "socket_mode"],
        _ => &[],
    }
}

/// The kind a section of `section_type` defines, with its own options read.
pub(super) fn process_kind(s: &mut Sect<'_, '_>, section_type: &str, program: &str) -> ProcessKind {
    match section_type {
        "eventlistener" => ProcessKind::EventListener(listener(s)),
        "fcgi-program" => ProcessKind::Fcgi(fcgi(s, program)),
        _ => ProcessKind::Program,
    }
}

fn listener(s: &mut Sect<'_, '_>) -> ListenerConfig {
    let mut events = Vec::new();
    let names = s.string("events", None).unwrap_or_default();
    for name in names.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        match EventType::parse(&name.to_uppercase()) {
            Some(t) => events.push(t),
            None => s.error("events", Some(name), format!("unknown event type {name}")),
        }
    }
    if names.trim().is_empty() {
        s.error(
            "events",
            None,
            "an [eventlistener:x] section requires an events= line",
        );
    }
    let buffer_size = s.value("buffer_size", "10", values::non_negative);
    if buffer_size < 1 {
        s.error(
            "buffer_size",
            s.raw("buffer_size").as_deref(),
            "buffer_size must be at least 1",
        );
    }
    let spec = s
        .string("result_handler", Some(ResultHandler::DEFAULT_SPEC))
        .unwrap_or_default();
    let result_handler = ResultHandler::parse(&spec).unwrap_or_else(|| {
        // A Python import path: there is no Python here. The default handler is the one that
        // keeps such a listener working (it answers OK, as most do).
        s.warn(
            Some("result_handler"),
            format!(
                "result_handler {} is Python code this daemon cannot import: the default handler ({}) is used; {} is also built in",
                spec.trim(),
                ResultHandler::DEFAULT_SPEC,
                ResultHandler::SUPERVISOR_STDOUT_SPEC
            ),
        );
        ResultHandler::Default
    });
    ListenerConfig {
        events,
        buffer_size: usize::try_from(buffer_size).unwrap_or(usize::MAX),
        result_handler,
    }
}

fn fcgi(s: &mut Sect<'_, '_>, program: &str) -> FcgiConfig {
    let backlog = s.optional("socket_backlog", |v| {
        values::integer(v).and_then(|n| {
            u32::try_from(n)
                .ok()
                .filter(|n| (1..=65535).contains(n))
                .ok_or_else(|| "socket_backlog must be between 1 and 65535".to_string())
        })
    });
    let owner = s.non_empty("socket_owner");
    if let Some(o) = &owner
        && let Err(m) = values::user_spec(o)
    {
        s.error("socket_owner", Some(o), m);
    }
    let mode = s.optional("socket_mode", values::octal);
    // As in supervisor, the socket knows the program's name but not the per-process names.
    let mut only_program = s.r.base.clone();
    only_program.set_str("program_name", program);
    let every_name = std::mem::replace(&mut s.exp, only_program);
    let raw = s.string("socket", None);
    s.exp = every_name;
    let Some(raw) = raw.filter(|v| !v.trim().is_empty()) else {
        s.error(
            "socket",
            None,
            format!("[{}] section requires a socket= line", s.name()),
        );
        return FcgiConfig {
            socket: FcgiSocket::Tcp {
                host: String::new(),
                port: 0,
            },
            backlog,
        };
    };
    let socket = match parse_socket(raw.trim(), owner, mode) {
        Ok(socket) => socket,
        Err(m) => {
            s.error("socket", Some(&raw), m);
            FcgiSocket::Tcp {
                host: String::new(),
                port: 0,
            }
        }
    };
    FcgiConfig { socket, backlog }
}

/// `unix:///absolute/path` (owner and mode apply) or `tcp://host:port` (they may not be set).
fn parse_socket(
    text: &str,
    owner: Option<String>,
    mode: Option<u32>,
) -> Result<FcgiSocket, String> {
    if let Some(path) = text.strip_prefix("unix://") {
        let path = Path::new(path);
        if !path.is_absolute() {
            return Err(format!(
                "unix socket path {} is not an absolute path",
                path.display()
            ));
        }
        return Ok(FcgiSocket::Unix {
            path: normalize(path),
            owner,
            mode: mode.unwrap_or(0o700),
        });
    }
    if owner.is_some() || mode.is_some() {
        return Err(
            "socket_owner and socket_mode apply to unix sockets (unix:///path) only".into(),
        );
    }
    let bad = || format!("expected unix:///absolute/path or tcp://host:port, got {text:?}");
    let hostport = text.strip_prefix("tcp://").ok_or_else(bad)?;
    let (host, port) = hostport.rsplit_once(':').ok_or_else(bad)?;
    if host.is_empty() || host.contains(|c: char| c == ':' || c.is_whitespace()) {
        return Err(bad());
    }
    let port = port
        .parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("bad port in {text:?} (1 to 65535)"))?;
    Ok(FcgiSocket::Tcp {
        host: host.to_owned(),
        port,
    })
}

/// Python's `os.path.normpath` for an absolute path: no `.`, no `..`, no doubled slashes.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::from("/");
    for c in path.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockets() {
        assert_eq!(
            parse_socket("unix:///run/app/../app.sock", None, None),
            Ok(FcgiSocket::Unix {
                path: "/run/app.sock".into(),
                owner: None,
                mode: 0o700
            })
        );
        assert_eq!(
            parse_socket("unix:///tmp/x.sock", Some("www".into()), Some(0o660)),
            Ok(FcgiSocket::Unix {
                path: "/tmp/x.sock".into(),
                owner: Some("www".into()),
                mode: 0o660
            })
        );
        assert_eq!(
            parse_socket("tcp://127.0.0.1:9000", None, None),
            Ok(FcgiSocket::Tcp {
                host: "127.0.0.1".into(),
                port: 9000
            })
        );
        for bad in [
            "unix://relative.sock",
            "tcp://host",
            "tcp://:9000",
            "tcp://h:0",
            "tcp://h:99999",
            "tcp://::1:9000",
            "http://h:1",
            "/tmp/x.sock",
        ] {
            assert!(parse_socket(bad, None, None).is_err(), "{bad}");
        }
        assert!(parse_socket("tcp://h:1", None, Some(0o600)).is_err());
        assert!(parse_socket("tcp://h:1", Some("root".into()), None).is_err());
    }
}
