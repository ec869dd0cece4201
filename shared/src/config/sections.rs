//! The daemon-wide sections: `[supervisord]`, the two servers, `[supervisorctl]`, and the check
//! that every section name is one supervisor knows.

use std::path::PathBuf;

use crate::values;

use super::reader::Reader;
use super::{
    CtlConfig, InetHttpServer, LogLevel, MainLog, SupervisordConfig, TlsFiles, UnixHttpServer,
};

pub(super) const UNIX_HTTP_SERVER_KEYS: &[&str] =
    &["file", "chmod", "chown", "username", "password"];
pub(super) const INET_HTTP_SERVER_KEYS: &[&str] =
    &["port", "username", "password", "certfile", "keyfile"];
pub(super) const SUPERVISORCTL_KEYS: &[&str] = &[
    "serverurl",
    "username",
    "password",
    "prompt",
    "history_file",
    "cafile",
];
pub(super) const SUPERVISORD_KEYS: &[&str] = &[
    "logfile",
    "logfile_maxbytes",
    "logfile_backups",
    "loglevel",
    "pidfile",
    "umask",
    "nodaemon",
    "silent",
    "minfds",
    "minprocs",
    "nocleanup",
    "childlogdir",
    "user",
    "directory",
    "strip_ansi",
    "environment",
    "identifier",
    "shutdown_on_fatal",
    "shutdown_on_exit",
    "stop_children_on_daemon_death",
];

pub(super) fn supervisord(r: &mut Reader<'_>) -> SupervisordConfig {
    let cwd = r.cwd.clone();
    let tmp = std::env::var_os("TMPDIR")
        .map(PathBuf::from)
        .filter(|p| p.is_dir())
        .unwrap_or_else(|| PathBuf::from("/tmp"));
    let abs = |p: PathBuf| if p.is_absolute() { p } else { cwd.join(p) };
    let mut exp = r.base.clone();
    exp.set_str("host_node_name", &r.host_node_name);
    let Some(mut s) = r.section("supervisord", None, exp) else {
        return SupervisordConfig {
            logfile: MainLog::File(cwd.join("supervisord.log")),
            logfile_maxbytes: 50 << 20,
            logfile_backups: 10,
            loglevel: LogLevel::Info,
            pidfile: Some(cwd.join("supervisord.pid")),
            umask: 0o22,
            nodaemon: None,
            silent: false,
            minfds: 1024,
            minprocs: 200,
            nocleanup: false,
            childlogdir: tmp,
            user: None,
            directory: None,
            strip_ansi: false,
            environment: Vec::new(),
            identifier: "supervisor".into(),
            shutdown_on_fatal: false,
            shutdown_on_exit: Vec::new(),
            stop_children_on_daemon_death: true,
        };
    };
    let logfile = match s.string("logfile", Some("supervisord.log")) {
        Some(v) => match main_log(&v, &cwd) {
            Ok(l) => l,
            Err(m) => {
                s.error("logfile", Some(&v), m);
                MainLog::Off
            }
        },
        None => MainLog::Off,
    };
    let pidfile = s
        .value("pidfile", "supervisord.pid", |v| {
            if v.trim().is_empty() {
                Ok(None)
            } else {
                values::existing_dirpath(v).map(Some)
            }
        })
        .map(abs);
    let childlogdir = s.optional("childlogdir", values::existing_directory);
    let environment = s.value("environment", "", values::key_value_pairs);
    let shutdown_on_exit = s.value("shutdown_on_exit", "", |v| {
        Ok(v.split([',', ' '])
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect())
    });
    let cfg = SupervisordConfig {
        logfile,
        logfile_maxbytes: s.value("logfile_maxbytes", "50MB", values::byte_size),
        logfile_backups: s.value("logfile_backups", "10", values::non_negative),
        loglevel: s.value("loglevel", "info", LogLevel::parse),
        pidfile,
        umask: s.value("umask", "022", values::octal),
        nodaemon: s.optional("nodaemon", values::boolean),
        silent: s.value("silent", "false", values::boolean),
        minfds: s.value("minfds", "1024", values::non_negative),
        minprocs: s.value("minprocs", "200", values::non_negative),
        nocleanup: s.value("nocleanup", "false", values::boolean),
        childlogdir: childlogdir.unwrap_or(tmp),
        user: s
            .optional("user", |u| {
                let u = u.trim();
                if u.is_empty() {
                    return Ok(None);
                }
                values::user_spec(u).map(|()| Some(u.to_owned()))
            })
            .flatten(),
        directory: s.optional("directory", values::existing_directory),
        strip_ansi: s.value("strip_ansi", "false", values::boolean),
        environment,
        identifier: s
            .non_empty("identifier")
            .unwrap_or_else(|| "supervisor".into()),
        shutdown_on_fatal: s.value("shutdown_on_fatal", "false", values::boolean),
        shutdown_on_exit,
        stop_children_on_daemon_death: s.value(
            "stop_children_on_daemon_death",
            "true",
            values::boolean,
        ),
    };
    s.warn_unknown_keys(SUPERVISORD_KEYS);
    cfg
}

/// `logfile=` of `[supervisord]` (and `-l`): a file (relative to `cwd`), `syslog`, or off.
pub fn main_log(v: &str, cwd: &std::path::Path) -> Result<MainLog, String> {
    Ok(match v.trim().to_lowercase().as_str() {
        "syslog" => MainLog::Syslog,
        "none" | "off" | "/dev/null" => MainLog::Off,
        _ => {
            let p = values::existing_dirpath(v)?;
            MainLog::File(if p.is_absolute() { p } else { cwd.join(p) })
        }
    })
}

pub(super) fn unix_http_server(r: &mut Reader<'_>) -> Option<UnixHttpServer> {
    let cwd = r.cwd.clone();
    let exp = r.base.clone();
    let mut s = r.section("unix_http_server", None, exp)?;
    let file = match s.string("file", None) {
        Some(f) if !f.trim().is_empty() => match values::existing_dirpath(&f) {
            Ok(p) => Some(if p.is_absolute() { p } else { cwd.join(p) }),
            Err(m) => {
                s.error("file", Some(&f), m);
                None
            }
        },
        _ => {
            s.error(
                "file",
                None,
                "section [unix_http_server] has no file= value",
            );
            None
        }
    };
    let cfg = UnixHttpServer {
        file: file.unwrap_or_default(),
        chmod: s.value("chmod", "0700", values::octal),
        chown: s.non_empty("chown"),
        username: s.non_empty("username"),
        password: s.non_empty("password"),
    };
    s.warn_unknown_keys(UNIX_HTTP_SERVER_KEYS);
    Some(cfg)
}

pub(super) fn inet_http_server(r: &mut Reader<'_>) -> Option<InetHttpServer> {
    // `%(here)s` is not available here in Python; ENV_ is.
    let exp = r.base.clone();
    let cwd = r.cwd.clone();
    let mut s = r.section("inet_http_server", None, exp)?;
    let port = s.string("port", None).unwrap_or_default();
    let parsed = parse_inet_port(&port);
    let (host, port_number) = match parsed {
        Ok(v) => v,
        Err(m) => {
            s.error("port", Some(&port), m);
            (String::new(), 0)
        }
    };
    let username = s.non_empty("username");
    let password = s.non_empty("password");
    if username.is_some() != password.is_some() {
        s.error(
            if username.is_some() {
                "password"
            } else {
                "username"
            },
            None,
            "username and password must be set together (or neither)",
        );
    }
    let absolute = |p: String| {
        let p = PathBuf::from(p);
        if p.is_absolute() { p } else { cwd.join(p) }
    };
    let certfile = s.non_empty("certfile").map(absolute);
    let keyfile = s.non_empty("keyfile").map(absolute);
    let tls = match (certfile, keyfile) {
        (Some(certfile), Some(keyfile)) => Some(TlsFiles { certfile, keyfile }),
        (None, None) => None,
        (cert, _) => {
            s.error(
                if cert.is_some() {
                    "keyfile"
                } else {
                    "certfile"
                },
                None,
                "certfile and keyfile must be set together (or neither)",
            );
            None
        }
    };
    s.warn_unknown_keys(INET_HTTP_SERVER_KEYS);
    Some(InetHttpServer {
        port,
        host,
        port_number,
        username,
        password,
        tls,
    })
}

/// `host:port`, `*:port`, `:port` or `port`.
fn parse_inet_port(s: &str) -> Result<(String, u16), String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("section [inet_http_server] has no port= value".into());
    }
    let (host, port) = match t.rsplit_once(':') {
        Some((h, p)) => (h.trim_start_matches('[').trim_end_matches(']'), p),
        None => ("", t),
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("expected host:port, *:port, :port or port, got {s:?}"))?;
    Ok((host.to_owned(), port))
}

pub(super) fn supervisorctl(r: &mut Reader<'_>) -> CtlConfig {
    let exp = r.base.clone();
    let Some(mut s) = r.section("supervisorctl", None, exp) else {
        return CtlConfig {
            prompt: "supervisor".into(),
            ..CtlConfig::default()
        };
    };
    let cfg = CtlConfig {
        serverurl: s.non_empty("serverurl"),
        username: s.non_empty("username"),
        password: s.non_empty("password"),
        prompt: s
            .string("prompt", Some("supervisor"))
            .unwrap_or_else(|| "supervisor".into()),
        history_file: s.non_empty("history_file").map(|h| values::expand_user(&h)),
        cafile: s.non_empty("cafile").map(|h| values::expand_user(&h)),
    };
    s.warn_unknown_keys(SUPERVISORCTL_KEYS);
    cfg
}

/// Warns about sections supervisor does not know and about `[ctlplugin:x]`; returns the
/// `[rpcinterface:x]` names.
pub(super) fn check_other_sections(r: &mut Reader<'_>) -> Vec<String> {
    let mut rpc = Vec::new();
    let mut warns = Vec::new();
    for sec in r.ini.sections() {
        let name = sec.name.as_str();
        let prefix = name.split_once(':').map_or(name, |(p, _)| p);
        match (prefix, name.contains(':')) {
            ("supervisord" | "unix_http_server" | "inet_http_server" | "supervisorctl", false)
            | ("include" | "program-default", false)
            | ("program" | "group" | "eventlistener" | "fcgi-program", true) => {}
            ("rpcinterface", true) => {
                let factory = sec
                    .get("supervisor.rpcinterface_factory")
                    .map(|e| e.value.clone());
                match factory.as_deref() {
                    None => {
                        r.error_at(sec, "section has no supervisor.rpcinterface_factory= value")
                    }
                    Some(f) if f.trim() != "supervisor.rpcinterface:make_main_rpcinterface" => {
                        warns.push((sec, format!("third-party RPC interface {f:?} is not loaded (only supervisor's own API is served)")));
                    }
                    Some(_) => {}
                }
                rpc.push(name["rpcinterface:".len()..].to_owned());
            }
            ("ctlplugin", true) => warns.push((
                sec,
                "supervisorctl plugins are Python code and are not loaded".into(),
            )),
            _ => warns.push((sec, "unknown section, ignored".into())),
        }
    }
    for (sec, message) in warns {
        r.warnings.push(super::Diagnostic {
            line: Some(sec.line),
            section: Some(sec.name.clone()),
            ..super::Diagnostic::file(&sec.file, message)
        });
    }
    // Python merges a repeated section silently (later values win): said here, both places.
    for sec in r.ini.sections() {
        for (file, line) in sec.repeats() {
            r.warnings.push(super::Diagnostic {
                line: Some(*line),
                section: Some(sec.name.clone()),
                ..super::Diagnostic::file(
                    file,
                    format!(
                        "the section appears again here (first at {}:{}); the two are merged, the later values winning",
                        sec.file.display(),
                        sec.line
                    ),
                )
            });
        }
    }
    rpc
}

#[cfg(test)]
mod tests {
    use super::parse_inet_port;

    #[test]
    fn inet_ports() {
        assert_eq!(
            parse_inet_port("127.0.0.1:9001"),
            Ok(("127.0.0.1".into(), 9001))
        );
        assert_eq!(parse_inet_port("*:9001"), Ok(("*".into(), 9001)));
        assert_eq!(parse_inet_port(":9001"), Ok(("".into(), 9001)));
        assert_eq!(parse_inet_port("9001"), Ok(("".into(), 9001)));
        assert_eq!(parse_inet_port("[::1]:9001"), Ok(("::1".into(), 9001)));
        assert!(parse_inet_port("x:y").is_err());
    }
}
