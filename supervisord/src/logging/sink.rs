//! Where one output stream of one process goes: any number of files (rotated), the daemon's
//! stdout/stderr, syslog, and live followers. The stream's pump writes it. Files are written
//! there: a slow disk slows that child only (its pipe fills), and a file never loses output.
//! The console and syslog are handed to their writer threads: a reader that stalls loses that
//! output only, counted and reported. A failing file is reported once in the main log and
//! retried; the child is never blocked by it.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use shared::config::{LogConfig, LogTarget, SyslogConfig};

use super::rotate::RotatingFile;
use super::syslog_target::SyslogOutput;
use super::{FollowHub, FollowRx, console};

enum Target {
    File {
        path: PathBuf,
        file: Option<RotatingFile>,
    },
    /// The daemon's stdout, or stderr.
    Console { stderr: bool },
    Syslog {
        remote: Option<shared::config::RemoteSyslog>,
        /// Made on the first output.
        out: Option<SyslogOutput>,
    },
}

pub struct LogSink {
    process: String,
    channel: &'static str,
    /// Who writes, in drop reports: `'web' stdout`.
    from: Arc<str>,
    /// Shared with the actor, which subscribes followers without touching the sink.
    followers: Arc<Mutex<FollowHub>>,
    maxbytes: u64,
    backups: u64,
    strip_ansi: bool,
    syslog_cfg: SyslogConfig,
    targets: Vec<Target>,
    /// A target is failing: further errors are not logged until it works again.
    failing: Vec<bool>,
}

/// What the actor keeps of one stream: enough to answer clients without touching the sink,
/// which only the stream's pump and the blocking pool (clear, reopen) lock.
#[derive(Clone)]
pub struct SinkHandle {
    pub sink: Arc<tokio::sync::Mutex<LogSink>>,
    followers: Arc<Mutex<FollowHub>>,
    /// The first file target (what `tail` reads).
    pub file: Option<PathBuf>,
    /// Every file target: opened before each spawn, which fails if one can't be.
    pub files: Arc<[PathBuf]>,
    /// The same as clients are shown it (empty for none).
    pub file_name: String,
    /// Something takes this stream's output, so the child gets a pipe for it.
    pub captured: bool,
}

impl SinkHandle {
    pub fn new(sink: LogSink) -> SinkHandle {
        let file = sink.file_path().map(Path::to_owned);
        let files = sink
            .targets
            .iter()
            .filter_map(|t| match t {
                Target::File { path, .. } => Some(path.clone()),
                _ => None,
            })
            .collect();
        SinkHandle {
            files,
            file_name: file
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            file,
            captured: !sink.targets.is_empty(),
            followers: sink.followers.clone(),
            sink: Arc::new(tokio::sync::Mutex::new(sink)),
        }
    }

    /// New output from now on, as it arrives.
    pub fn follow(&self) -> FollowRx {
        self.followers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .follow()
    }
}

impl LogSink {
    /// `auto_path` is the resolved AUTO file for this stream, if the config asks for one.
    pub fn new(
        process: &str,
        channel: &'static str,
        cfg: &LogConfig,
        auto_path: Option<&Path>,
        strip_ansi: bool,
        syslog_cfg: &SyslogConfig,
    ) -> LogSink {
        let mut targets = Vec::new();
        for t in &cfg.targets {
            targets.push(match t {
                LogTarget::File(p) => Target::File {
                    path: p.clone(),
                    file: None,
                },
                LogTarget::Auto => match auto_path {
                    Some(p) => Target::File {
                        path: p.to_owned(),
                        file: None,
                    },
                    None => continue,
                },
                LogTarget::Stdout => Target::Console { stderr: false },
                LogTarget::Stderr => Target::Console { stderr: true },
                LogTarget::Syslog(r) => Target::Syslog {
                    remote: r.clone(),
                    out: None,
                },
            });
        }
        if cfg.syslog {
            targets.push(Target::Syslog {
                remote: None,
                out: None,
            });
        }
        let failing = vec![false; targets.len()];
        LogSink {
            process: process.to_owned(),
            channel,
            from: Arc::from(format!("'{process}' {channel}")),
            followers: Arc::default(),
            maxbytes: cfg.maxbytes,
            backups: cfg.backups,
            strip_ansi,
            syslog_cfg: syslog_cfg.clone(),
            targets,
            failing,
        }
    }

    /// The first file target (what `tail` reads).
    pub fn file_path(&self) -> Option<&Path> {
        self.targets.iter().find_map(|t| match t {
            Target::File { path, .. } => Some(path.as_path()),
            _ => None,
        })
    }

    /// `data` without ANSI escapes when `strip_ansi` is set.
    fn stripped<'a>(&self, data: &'a [u8]) -> std::borrow::Cow<'a, [u8]> {
        if self.strip_ansi && data.contains(&0x1b) {
            std::borrow::Cow::Owned(strip_escapes(data))
        } else {
            std::borrow::Cow::Borrowed(data)
        }
    }

    /// supervisor's main-log line for a chunk of output (at debug):
    /// `'web' stdout output:` and the text, ANSI stripped if asked, `Undecodable: b'…'` when
    /// it is not UTF-8.
    pub fn mainlog_text(&self, data: &[u8]) -> String {
        let data = self.stripped(data);
        let text = match std::str::from_utf8(&data) {
            Ok(t) => t.to_owned(),
            Err(_) => format!(
                "Undecodable: {}",
                crate::events::protocol::python_bytes_repr(&data)
            ),
        };
        format!(
            "{} {} output:\n{text}",
            python_str_repr(&self.process),
            self.channel
        )
    }

    /// Opens file targets now (supervisor creates them when the process spawns).
    pub fn open(&mut self) -> Vec<Report> {
        self.write(b"", 0)
    }

    /// Writes one chunk of output of process `pid` everywhere. Returns messages for the main
    /// log (a file target's first failure, and its recovery).
    pub fn write(&mut self, data: &[u8], pid: i32) -> Vec<Report> {
        let stripped = self.stripped(data);
        let data = &stripped[..];
        self.followers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .publish(data);
        let mut reports = Vec::new();
        for (i, t) in self.targets.iter_mut().enumerate() {
            let result: Result<(), String> = match t {
                Target::File { path, file } => {
                    if file.is_none() {
                        match RotatingFile::open(path, self.maxbytes, self.backups) {
                            Ok(f) => *file = Some(f),
                            Err(e) => {
                                report(
                                    &mut reports,
                                    &mut self.failing[i],
                                    &self.process,
                                    self.channel,
                                    &format!("can't open log file {}: {e}", path.display()),
                                );
                                continue;
                            }
                        }
                    }
                    match file.as_mut() {
                        Some(f) if !data.is_empty() => f
                            .write_record(data)
                            .map_err(|e| format!("can't write log file {}: {e}", path.display())),
                        _ => Ok(()),
                    }
                }
                Target::Console { stderr } => {
                    console::write(*stderr, &self.from, data);
                    Ok(())
                }
                Target::Syslog { remote, out } => {
                    if data.is_empty() {
                        continue;
                    }
                    if out.is_none() {
                        *out = SyslogOutput::new(
                            remote.as_ref(),
                            &self.syslog_cfg,
                            &self.process,
                            self.channel == "stderr",
                            self.from.clone(),
                        );
                    }
                    match out.as_mut() {
                        Some(o) => {
                            o.send(data, u32::try_from(pid).unwrap_or(0));
                            Ok(())
                        }
                        None => Err("can't start a thread to write to syslog".into()),
                    }
                }
            };
            match result {
                Ok(()) => {
                    if std::mem::take(&mut self.failing[i]) {
                        reports.push(Report::Recovered(format!(
                            "logging of '{}' {} works again",
                            self.process, self.channel
                        )));
                    }
                }
                Err(e) => report(
                    &mut reports,
                    &mut self.failing[i],
                    &self.process,
                    self.channel,
                    &e,
                ),
            }
        }
        reports
    }

    /// Empties every file target (and its backups), as `clearProcessLogs` does.
    pub fn clear(&mut self) -> std::io::Result<()> {
        for t in &mut self.targets {
            if let Target::File { path, file } = t {
                match file.as_mut() {
                    Some(f) => f.clear()?,
                    None => {
                        if path.exists() {
                            std::fs::File::create(&path)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Reopens every file (SIGUSR2); a file that was moved away is recreated.
    pub fn reopen(&mut self) -> Vec<Report> {
        for t in &mut self.targets {
            if let Target::File { file, .. } = t {
                *file = None;
            }
        }
        self.open()
    }
}

/// Python's `repr()` of a string (names are printable: only the quotes matter).
fn python_str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        if c == '\\' || c == quote {
            out.push('\\');
        }
        out.push(c);
    }
    out.push(quote);
    out
}

/// A line for the main log about a target: its first failure, or its recovery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Report {
    Failing(String),
    Recovered(String),
}

impl Report {
    pub fn log(&self) {
        match self {
            Report::Failing(m) => tracing::error!("{m}"),
            Report::Recovered(m) => tracing::info!("{m}"),
        }
    }
}

fn report(reports: &mut Vec<Report>, failing: &mut bool, process: &str, channel: &str, e: &str) {
    if !*failing {
        *failing = true;
        reports.push(Report::Failing(format!(
            "{e} (output of '{process}' {channel} is lost until this works again; the process keeps running)"
        )));
    }
}

/// supervisor's `stripEscapes`: drops `ESC [` … up to a terminator letter.
pub fn strip_escapes(s: &[u8]) -> Vec<u8> {
    const TERMINATORS: &[u8] = b"HfABCDRsuJKhlpm";
    let mut out = Vec::with_capacity(s.len());
    let mut i = 0;
    while i < s.len() {
        if s[i] == 0x1b && s.get(i + 1) == Some(&b'[') {
            let mut j = i + 2;
            while j < s.len() && !TERMINATORS.contains(&s[j]) {
                j += 1;
            }
            i = j + 1;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::strip_escapes;

    #[test]
    fn the_debug_line_is_pythons() {
        let cfg = shared::config::LogConfig {
            targets: Vec::new(),
            maxbytes: 0,
            backups: 0,
            capture_maxbytes: 0,
            events_enabled: false,
            syslog: false,
        };
        let sys = shared::config::SyslogConfig::default();
        let plain = super::LogSink::new("web", "stdout", &cfg, None, false, &sys);
        assert_eq!(
            plain.mainlog_text(b"hello\n"),
            "'web' stdout output:\nhello\n"
        );
        assert_eq!(
            plain.mainlog_text(b"\x88\n"),
            "'web' stdout output:\nUndecodable: b'\\x88\\n'"
        );
        let stripped = super::LogSink::new("it's", "stderr", &cfg, None, true, &sys);
        assert_eq!(
            stripped.mainlog_text(b"\x1b[31mred\x1b[0m"),
            "\"it's\" stderr output:\nred"
        );
    }

    #[test]
    fn strips_color_codes() {
        assert_eq!(strip_escapes(b"\x1b[1;31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_escapes(b"no escapes"), b"no escapes");
    }
}
