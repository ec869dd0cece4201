//! Output sent to syslog: local (`/dev/log`) or remote over UDP or TCP
//! (`stdout_logfile=syslog @tcp:host:514`). Each destination has one [`Writer`] thread and one
//! connection, shared by every program logging there: a server that is down or slow costs its
//! own output only. TCP connects time out and back off (1 s, doubling to a minute), and TCP
//! messages end with a newline, so rsyslog and syslog-ng read one message per line. The tag
//! carries the pid of the process that wrote the line.

use std::collections::HashMap;
use std::io::{self, Write};
use std::net::{TcpStream, ToSocketAddrs, UdpSocket};
use std::os::unix::net::{UnixDatagram, UnixStream};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use shared::config::{LogLevel, RemoteSyslog, SyslogConfig};
use syslog::{Facility, Formatter3164, LogFormat, Severity};

use super::writer::{Target, Writer};

/// Bytes waiting for a slow destination before more is dropped.
const CAPACITY: usize = 1 << 20;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A server that accepts the connection but stops reading: the write fails after this and the
/// connection is made again.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(60);

/// Where messages go.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Destination {
    /// The local syslog socket.
    Local,
    Remote(RemoteSyslog),
}

impl Destination {
    fn name(&self) -> String {
        match self {
            Destination::Local => "local syslog (/dev/log)".into(),
            Destination::Remote(r) => format!(
                "syslog {}:{}:{}",
                if r.tcp { "tcp" } else { "udp" },
                r.host,
                r.port
            ),
        }
    }
}

enum Socket {
    Datagram(UnixDatagram),
    Stream(UnixStream),
    Udp(UdpSocket),
    Tcp(TcpStream),
}

/// One destination's connection, made when needed and again after it breaks.
struct Connection {
    dest: Destination,
    socket: Option<Socket>,
    /// No new attempt before this (after a failed connect).
    retry_at: Option<Instant>,
    backoff: Duration,
}

const LOCAL_PATHS: [&str; 3] = ["/dev/log", "/var/run/syslog", "/var/run/log"];

impl Connection {
    fn connect(&self) -> io::Result<Socket> {
        match &self.dest {
            Destination::Local => {
                let mut last = io::Error::from(io::ErrorKind::NotFound);
                for path in LOCAL_PATHS {
                    let d = UnixDatagram::unbound()?;
                    match d.connect(path) {
                        Ok(()) => return Ok(Socket::Datagram(d)),
                        // A stream socket (some syslog daemons listen that way).
                        Err(e) if e.raw_os_error() == Some(libc::EPROTOTYPE) => {
                            let s = UnixStream::connect(path)?;
                            s.set_write_timeout(Some(WRITE_TIMEOUT))?;
                            return Ok(Socket::Stream(s));
                        }
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
            Destination::Remote(r) if r.tcp => {
                let mut last = io::Error::other("the host name resolves to no address");
                for addr in (r.host.as_str(), r.port).to_socket_addrs()? {
                    match TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT) {
                        Ok(s) => {
                            s.set_write_timeout(Some(WRITE_TIMEOUT))?;
                            return Ok(Socket::Tcp(s));
                        }
                        Err(e) => last = e,
                    }
                }
                Err(last)
            }
            Destination::Remote(r) => {
                let s = UdpSocket::bind(("0.0.0.0", 0))?;
                s.connect((r.host.as_str(), r.port))?;
                Ok(Socket::Udp(s))
            }
        }
    }
}

impl Target for Connection {
    /// `msg` is one message without framing.
    fn write(&mut self, msg: &[u8]) -> io::Result<()> {
        if self.socket.is_none() {
            if self.retry_at.is_some_and(|t| Instant::now() < t) {
                return Err(io::Error::other("not connected; trying again later"));
            }
            match self.connect() {
                Ok(s) => {
                    self.socket = Some(s);
                    self.retry_at = None;
                    self.backoff = FIRST_RETRY;
                }
                Err(e) => {
                    self.retry_at = Some(Instant::now() + self.backoff);
                    self.backoff = (self.backoff * 2).min(LAST_RETRY);
                    return Err(e);
                }
            }
        }
        let r = match self.socket.as_mut() {
            Some(Socket::Datagram(s)) => s.send(msg).map(drop),
            Some(Socket::Udp(s)) => s.send(msg).map(drop),
            // Streams carry one message per line.
            Some(Socket::Stream(s)) => s.write_all(msg).and_then(|()| s.write_all(b"\n")),
            Some(Socket::Tcp(s)) => s.write_all(msg).and_then(|()| s.write_all(b"\n")),
            None => Ok(()),
        };
        if r.is_err() {
            // Made again for the next message.
            self.socket = None;
        }
        r
    }
}

type Writers = Mutex<HashMap<Destination, Writer<Connection>>>;

fn writers() -> std::sync::MutexGuard<'static, HashMap<Destination, Writer<Connection>>> {
    static WRITERS: OnceLock<Writers> = OnceLock::new();
    WRITERS
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner())
}

/// The writer of `dest`, started on first use.
fn writer(dest: &Destination) -> Option<Writer<Connection>> {
    let mut all = writers();
    if let Some(w) = all.get(dest) {
        return Some(w.clone());
    }
    let conn = Connection {
        dest: dest.clone(),
        socket: None,
        retry_at: None,
        backoff: FIRST_RETRY,
    };
    let w = Writer::start(dest.name(), conn, CAPACITY).ok()?;
    all.insert(dest.clone(), w.clone());
    Some(w)
}

/// At exit: gives every destination a moment to take what is queued.
pub fn flush_all(limit: Duration) {
    let all: Vec<Writer<Connection>> = writers().values().cloned().collect();
    for w in all {
        w.flush(limit);
    }
}

/// One stream's way to syslog: its destination, facility, tag and priority.
pub struct SyslogOutput {
    writer: Writer<Connection>,
    formatter: Formatter3164,
    severity: Severity,
    /// Who the lines are from, for drop reports.
    from: Arc<str>,
}

/// `name` is a canonical name the config checked (`values::syslog_priority`).
fn severity(name: Option<&str>, default: Severity) -> Severity {
    match name {
        Some("emerg") => Severity::LOG_EMERG,
        Some("alert") => Severity::LOG_ALERT,
        Some("crit") => Severity::LOG_CRIT,
        Some("err") => Severity::LOG_ERR,
        Some("warning") => Severity::LOG_WARNING,
        Some("notice") => Severity::LOG_NOTICE,
        Some("info") => Severity::LOG_INFO,
        Some("debug") => Severity::LOG_DEBUG,
        _ => default,
    }
}

impl SyslogOutput {
    /// `remote`: `None` for the local syslog. `None` if no writer thread could be started.
    pub fn new(
        remote: Option<&RemoteSyslog>,
        cfg: &SyslogConfig,
        process: &str,
        stderr: bool,
        from: Arc<str>,
    ) -> Option<SyslogOutput> {
        let dest = match remote {
            Some(r) => Destination::Remote(r.clone()),
            None => Destination::Local,
        };
        // The config checked the name (`values::syslog_facility`); syslog's names are the same.
        let facility = cfg
            .facility
            .as_deref()
            .and_then(|f| f.parse::<Facility>().ok())
            .unwrap_or(Facility::LOG_USER);
        let (name, default) = if stderr {
            (cfg.stderr_priority.as_deref(), Severity::LOG_ERR)
        } else {
            (cfg.stdout_priority.as_deref(), Severity::LOG_INFO)
        };
        Some(SyslogOutput {
            writer: writer(&dest)?,
            formatter: Formatter3164 {
                facility,
                hostname: None,
                process: cfg.tag.clone().unwrap_or_else(|| process.to_owned()),
                pid: std::process::id(),
            },
            severity: severity(name, default),
            from,
        })
    }

    /// The daemon's own log to the local syslog (`[supervisord] logfile=syslog`).
    pub fn main_log() -> Option<SyslogOutput> {
        let cfg = SyslogConfig {
            facility: Some("daemon".into()),
            tag: Some("supervisord".into()),
            ..SyslogConfig::default()
        };
        SyslogOutput::new(None, &cfg, "supervisord", false, Arc::from("the main log"))
    }

    /// Sends each non-empty line of `data` as one message, tagged with `pid`.
    pub fn send(&mut self, data: &[u8], pid: u32) {
        self.formatter.pid = pid;
        for line in String::from_utf8_lossy(data).lines() {
            if line.is_empty() {
                continue;
            }
            let mut msg = Vec::with_capacity(line.len() + 48);
            if self.formatter.format(&mut msg, self.severity, line).is_ok() {
                self.writer.write(&self.from, &msg);
            }
        }
    }

    /// One main-log message at the priority matching supervisor's level.
    pub fn send_level(&mut self, level: LogLevel, msg: &str) {
        self.severity = match level {
            LogLevel::Critical => Severity::LOG_CRIT,
            LogLevel::Error => Severity::LOG_ERR,
            LogLevel::Warn => Severity::LOG_WARNING,
            LogLevel::Info => Severity::LOG_INFO,
            LogLevel::Debug | LogLevel::Trace | LogLevel::Blather => Severity::LOG_DEBUG,
        };
        self.send(msg.as_bytes(), std::process::id());
    }

    /// Waits (at most `limit`) for what was sent to be written.
    pub fn flush(&self, limit: Duration) {
        self.writer.flush(limit);
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::net::TcpListener;

    use super::*;

    #[test]
    fn tcp_messages_are_lines_tagged_with_the_writers_pid() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let remote = RemoteSyslog {
            tcp: true,
            host: "127.0.0.1".into(),
            port,
        };
        let cfg = SyslogConfig {
            tag: Some("web".into()),
            ..SyslogConfig::default()
        };
        let mut out =
            SyslogOutput::new(Some(&remote), &cfg, "web", false, Arc::from("'web' stdout"))
                .expect("writer");
        out.send(b"one\ntwo\n\nthree", 4242);
        let (conn, _) = listener.accept().expect("connection");
        let lines: Vec<String> = BufReader::new(conn)
            .lines()
            .take(3)
            .collect::<Result<_, _>>()
            .expect("three lines");
        for (line, text) in lines.iter().zip(["one", "two", "three"]) {
            assert!(line.starts_with("<14>"), "{line}");
            assert!(line.ends_with(&format!("web[4242]: {text}")), "{line}");
        }
    }

    #[test]
    fn a_closed_port_is_retried_later_not_on_every_message() {
        let port = {
            let l = TcpListener::bind("127.0.0.1:0").expect("bind");
            l.local_addr().expect("addr").port()
        };
        let mut c = Connection {
            dest: Destination::Remote(RemoteSyslog {
                tcp: true,
                host: "127.0.0.1".into(),
                port,
            }),
            socket: None,
            retry_at: None,
            backoff: FIRST_RETRY,
        };
        assert!(c.write(b"x").is_err());
        let first = c.retry_at.expect("a retry time");
        assert!(c.write(b"y").is_err());
        assert_eq!(
            c.retry_at,
            Some(first),
            "no new attempt before the retry time"
        );
        assert_eq!(c.backoff, FIRST_RETRY * 2);
    }
}
