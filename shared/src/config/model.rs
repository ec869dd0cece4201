//! The resolved configuration: every section parsed, defaulted, expanded and validated. Nothing
//! here touches the system beyond reading files; the daemon turns it into running processes.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::events::EventType;
use crate::signals::Signal;
use crate::values::AutoRestart;

use super::Diagnostic;

/// A whole configuration as the daemon and the client need it.
#[derive(Debug, Clone)]
pub struct Config {
    /// The main config file (absolute).
    pub file: PathBuf,
    /// Files read, main first, then includes in the order read.
    pub files: Vec<PathBuf>,
    pub supervisord: SupervisordConfig,
    pub unix_http_server: Option<UnixHttpServer>,
    pub inet_http_server: Option<InetHttpServer>,
    pub supervisorctl: CtlConfig,
    /// Process groups in start order (ascending priority, stable).
    pub groups: Vec<GroupConfig>,
    /// `[rpcinterface:x]` sections: accepted, our API is built in.
    pub rpcinterfaces: Vec<String>,
    pub warnings: Vec<Diagnostic>,
    /// Informational notes (`Included extra file …`), logged at startup as Python does.
    pub infos: Vec<String>,
}

impl Config {
    pub fn processes(&self) -> impl Iterator<Item = &ProcessConfig> {
        self.groups
            .iter()
            .flat_map(|g| g.processes.iter().map(|p| &**p))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogLevel {
    Critical,
    Error,
    Warn,
    #[default]
    Info,
    Debug,
    Trace,
    Blather,
}

impl LogLevel {
    /// Python's names plus the Go names (`warning`, `fatal`, `panic`).
    pub fn parse(s: &str) -> Result<LogLevel, String> {
        Ok(match s.trim().to_lowercase().as_str() {
            "critical" | "crit" | "fatal" | "panic" => LogLevel::Critical,
            "error" | "erro" => LogLevel::Error,
            "warn" | "warning" => LogLevel::Warn,
            "info" => LogLevel::Info,
            "debug" | "debg" => LogLevel::Debug,
            "trace" | "trac" => LogLevel::Trace,
            "blather" | "blat" => LogLevel::Blather,
            _ => {
                return Err(format!(
                    "bad logging level name {s:?} (expected critical, error, warn, info, debug, trace or blather)"
                ));
            }
        })
    }

    /// The four-letter tag Python writes in its log lines.
    pub fn tag(self) -> &'static str {
        match self {
            LogLevel::Critical => "CRIT",
            LogLevel::Error => "ERRO",
            LogLevel::Warn => "WARN",
            LogLevel::Info => "INFO",
            LogLevel::Debug => "DEBG",
            LogLevel::Trace => "TRAC",
            LogLevel::Blather => "BLAT",
        }
    }

    /// Python's numeric level: higher is more severe.
    pub fn severity(self) -> u8 {
        match self {
            LogLevel::Critical => 50,
            LogLevel::Error => 40,
            LogLevel::Warn => 30,
            LogLevel::Info => 20,
            LogLevel::Debug => 10,
            LogLevel::Trace => 5,
            LogLevel::Blather => 3,
        }
    }
}

#[derive(Debug, Clone)]
pub struct SupervisordConfig {
    pub logfile: MainLog,
    pub logfile_maxbytes: u64,
    pub logfile_backups: u64,
    pub loglevel: LogLevel,
    pub pidfile: Option<PathBuf>,
    pub umask: u32,
    /// `None`: not set (we stay in the foreground); `Some(false)` daemonizes as Python does.
    pub nodaemon: Option<bool>,
    pub silent: bool,
    pub minfds: u64,
    pub minprocs: u64,
    pub nocleanup: bool,
    pub childlogdir: PathBuf,
    pub user: Option<String>,
    pub directory: Option<PathBuf>,
    pub strip_ansi: bool,
    pub environment: Vec<(String, String)>,
    pub identifier: String,
    /// Our extension for containers: shut the daemon down (exit status 1) when any process
    /// enters FATAL.
    pub shutdown_on_fatal: bool,
    /// Our extension: shut the daemon down when one of these programs (or `group:name`) exits or
    /// goes FATAL; the daemon's exit status is that process's (128+N after a signal, 1 for FATAL).
    pub shutdown_on_exit: Vec<String>,
    /// Our extension, on by default: if the daemon itself dies (`kill -9`, a crash), the kernel
    /// sends each program it started that program's stop signal (Linux's parent-death signal),
    /// so none runs on unsupervised. `false` is Python's behaviour.
    pub stop_children_on_daemon_death: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MainLog {
    File(PathBuf),
    Syslog,
    Off,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnixHttpServer {
    pub file: PathBuf,
    pub chmod: u32,
    pub chown: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InetHttpServer {
    /// As written (`127.0.0.1:9001`, `*:9001`, `:9001`, `9001`).
    pub port: String,
    /// Host part; empty means all interfaces.
    pub host: String,
    pub port_number: u16,
    pub username: Option<String>,
    pub password: Option<String>,
    /// Our extension: serve HTTPS instead of HTTP.
    pub tls: Option<TlsFiles>,
}

/// `certfile=` and `keyfile=` of `[inet_http_server]`, absolute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// PEM: the server's certificate, then any intermediates.
    pub certfile: PathBuf,
    /// PEM: its private key (PKCS#8, PKCS#1 or SEC1).
    pub keyfile: PathBuf,
}

impl InetHttpServer {
    /// Addresses to bind: an empty host or `*` means every interface.
    pub fn bind_addrs(&self) -> Vec<SocketAddr> {
        use std::net::ToSocketAddrs;
        let host = if self.host.is_empty() || self.host == "*" {
            "0.0.0.0"
        } else {
            self.host.as_str()
        };
        (host, self.port_number)
            .to_socket_addrs()
            .map(|a| a.collect())
            .unwrap_or_default()
    }
}

#[derive(Debug, Clone, Default)]
pub struct CtlConfig {
    pub serverurl: Option<String>,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
    /// Our extension: PEM certificates to trust for an `https://` serverurl.
    pub cafile: Option<PathBuf>,
}

/// What a process is, and what its kind adds to a program.
#[derive(Debug, Clone, PartialEq)]
pub enum ProcessKind {
    /// `[program:x]`.
    Program,
    /// `[eventlistener:x]`: a member of the listener pool named after its group.
    EventListener(ListenerConfig),
    /// `[fcgi-program:x]`: every process of the section shares one listening socket.
    Fcgi(FcgiConfig),
}

impl ProcessKind {
    /// The section type that defines this kind (`program`, `eventlistener`, `fcgi-program`).
    pub fn section_type(&self) -> &'static str {
        match self {
            ProcessKind::Program => "program",
            ProcessKind::EventListener(_) => "eventlistener",
            ProcessKind::Fcgi(_) => "fcgi-program",
        }
    }
}

/// An event listener pool's settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerConfig {
    /// The types the pool subscribes to (abstract ones stand for their family).
    pub events: Vec<EventType>,
    /// Events the pool holds while no listener is ready; the oldest is dropped beyond that.
    pub buffer_size: usize,
    /// What interprets a listener's result.
    pub result_handler: ResultHandler,
}

/// `result_handler=`: the Python functions supervisord could import, implemented natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultHandler {
    /// `supervisor.dispatchers:default_handler`: `OK` means processed, anything else rejected.
    #[default]
    Default,
    /// `supervisor_stdout:event_handler`: prints each result (a `PROCESS_LOG` payload) to the
    /// daemon's stdout as `<processname> <channel> | <line>`.
    SupervisorStdout,
}

impl ResultHandler {
    pub const DEFAULT_SPEC: &str = "supervisor.dispatchers:default_handler";
    pub const SUPERVISOR_STDOUT_SPEC: &str = "supervisor_stdout:event_handler";

    /// The handler a `module:function` names, if it is one of ours.
    pub fn parse(spec: &str) -> Option<ResultHandler> {
        match spec.trim() {
            Self::DEFAULT_SPEC => Some(ResultHandler::Default),
            Self::SUPERVISOR_STDOUT_SPEC => Some(ResultHandler::SupervisorStdout),
            _ => None,
        }
    }

    pub fn spec(self) -> &'static str {
        match self {
            ResultHandler::Default => Self::DEFAULT_SPEC,
            ResultHandler::SupervisorStdout => Self::SUPERVISOR_STDOUT_SPEC,
        }
    }
}

/// An fcgi-program's socket, created by the daemon and passed to each process as its stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FcgiConfig {
    pub socket: FcgiSocket,
    /// `socket_backlog`: the listen() backlog (the system's default when absent).
    pub backlog: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FcgiSocket {
    /// `unix:///absolute/path`, with `socket_owner` (`user[:group]`) and `socket_mode`.
    Unix {
        path: PathBuf,
        owner: Option<String>,
        mode: u32,
    },
    /// `tcp://host:port`.
    Tcp { host: String, port: u16 },
}

impl std::fmt::Display for FcgiSocket {
    /// The URL as the config gives it (what supervisor's log lines show).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FcgiSocket::Unix { path, .. } => write!(f, "unix://{}", path.display()),
            FcgiSocket::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct GroupConfig {
    pub name: String,
    pub priority: i64,
    /// Shared with the daemon's process table, so each config exists once in memory.
    pub processes: Vec<Arc<ProcessConfig>>,
    /// `[group:x]` (true) or the implicit group of one program section.
    pub explicit: bool,
}

/// One place a log stream goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogTarget {
    File(PathBuf),
    /// `AUTO`: a file in childlogdir, named when the daemon first needs it.
    Auto,
    /// `/dev/stdout` and `/dev/stderr` (the daemon's own; right for containers).
    Stdout,
    Stderr,
    /// `syslog` (local) or `syslog @[udp|tcp:]host[:port]`.
    Syslog(Option<RemoteSyslog>),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteSyslog {
    pub tcp: bool,
    pub host: String,
    pub port: u16,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// Empty: the stream is discarded (`NONE`, `/dev/null`, or redirected).
    pub targets: Vec<LogTarget>,
    pub maxbytes: u64,
    pub backups: u64,
    pub capture_maxbytes: u64,
    pub events_enabled: bool,
    /// `stdout_syslog=true`: also send to syslog.
    pub syslog: bool,
}

/// What is done when a watched binary or file changes (Go extension): the command, else the
/// signals, else a restart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OnChange {
    /// `restart_cmd_when_*`: run through `sh -c`, its output in the main log.
    pub cmd: Option<String>,
    /// `restart_signal_when_*`: sent in order to the process.
    pub signals: Vec<Signal>,
}

/// `restart_directory_monitor` and the options that go with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirWatch {
    /// Watched recursively, subdirectories created later included.
    pub dir: PathBuf,
    /// `restart_file_pattern`: a glob on the changed file's name (`*` by default).
    pub pattern: String,
    pub on_change: OnChange,
}

/// Restart (or signal, or run a command) when something on disk changes (Go extension).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WatchConfig {
    /// `restart_when_binary_changed=true`: the program's resolved executable is watched.
    pub binary: Option<OnChange>,
    pub directory: Option<DirWatch>,
    /// `restart_debounce` (ours): how long after the last change of a burst the action waits.
    pub debounce: Duration,
}

/// `pre_start_hook`, `pre_stop_hook` (Go extension) and `hook_timeout` (ours). A hook is a
/// command, or (as the Go code takes them) an HTTP request or a TCP connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hooks {
    /// Done before each spawn; a failure is a failed start.
    pub pre_start: Option<Probe>,
    /// Done before the first stop signal; a failure is logged and the stop goes on.
    pub pre_stop: Option<Probe>,
    /// A hook still running after this is killed (and has failed).
    pub timeout: Duration,
}

/// What a health check probes, or a hook does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Probe {
    /// `http://…` or `https://…`: a request answered with a status from 200 to 399.
    Http(HttpRequest),
    /// `tcp://host:port`: a connection accepted.
    Tcp { host: String, port: u16 },
    /// Anything else: a command run through `sh -c` that exits 0.
    Command(String),
}

/// An HTTP probe: `URL [-H 'Name: value']... [-d DATA | -d @FILE]` (the Go supervisord's
/// options): a GET, or a POST of DATA (a file's contents, read each time, with `@`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<HttpBody>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpBody {
    Text(String),
    File(PathBuf),
}

/// `liveness_check_failure_action`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FailureAction {
    #[default]
    Restart,
    Stop,
    /// A command run through `sh -c` (the process is left as it is).
    Command(String),
}

/// `liveness_check_*` (Go extension), with Kubernetes probes' meanings and defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HealthCheck {
    pub probe: Probe,
    /// After the process is RUNNING, before the first check.
    pub initial_delay: Duration,
    pub period: Duration,
    /// A check not done by then has failed.
    pub timeout: Duration,
    /// Passes in a row that make an unhealthy process healthy again.
    pub success_threshold: u32,
    /// Failures in a row that make a process unhealthy (and acted on).
    pub failure_threshold: u32,
    pub failure_action: FailureAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SyslogConfig {
    pub facility: Option<String>,
    pub tag: Option<String>,
    pub stdout_priority: Option<String>,
    pub stderr_priority: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProcessConfig {
    /// `process_name` after expansion.
    pub name: String,
    pub group: String,
    /// The section's program name (`[program:x]` → `x`).
    pub program: String,
    pub kind: ProcessKind,
    pub command: String,
    pub argv: Vec<String>,
    pub process_num: i64,
    pub priority: i64,
    pub autostart: bool,
    pub startsecs: u64,
    pub startretries: u64,
    pub autorestart: AutoRestart,
    pub exitcodes: Vec<i32>,
    pub stopsignals: Vec<Signal>,
    pub stopwaitsecs: u64,
    pub killwaitsecs: u64,
    pub stopasgroup: bool,
    pub killasgroup: bool,
    pub user: Option<String>,
    pub redirect_stderr: bool,
    pub stdout: LogConfig,
    pub stderr: LogConfig,
    pub environment: Vec<(String, String)>,
    pub env_files: Vec<PathBuf>,
    pub directory: Option<PathBuf>,
    pub umask: Option<u32>,
    pub serverurl: Option<String>,
    pub depends_on: Vec<String>,
    pub restartpause: u64,
    pub strip_ansi: bool,
    pub watch: WatchConfig,
    pub hooks: Hooks,
    /// `cron`: started at each tick unless it is running.
    pub cron: Option<crate::cron::Schedule>,
    pub liveness: Option<HealthCheck>,
    pub syslog: SyslogConfig,
    /// Where the section was defined (for messages).
    pub file: PathBuf,
    pub line: usize,
}

impl ProcessConfig {
    /// `group:name`, the name every API uses.
    pub fn full_name(&self) -> String {
        format!("{}:{}", self.group, self.name)
    }

    /// The section that defined the process (`program:web`), for messages.
    pub fn section(&self) -> String {
        format!("{}:{}", self.kind.section_type(), self.program)
    }
}
