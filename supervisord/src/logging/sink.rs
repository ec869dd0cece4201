//! Where one output stream of one process goes: any number of files (rotated), the daemon's
//! stdout/stderr, syslog. A failing target is reported once in the main log and retried; the
//! child is never blocked by it.

use std::io::Write;
use std::path::{Path, PathBuf};

use shared::config::{LogConfig, LogTarget, SyslogConfig};

use super::rotate::RotatingFile;
use super::syslog_target::SyslogTarget;

enum Target {
    File {
        path: PathBuf,
        file: Option<RotatingFile>,
    },
    Stdout,
    Stderr,
    Syslog {
        remote: Option<shared::config::RemoteSyslog>,
        conn: Option<SyslogTarget>,
    },
}

pub struct LogSink {
    process: String,
    /// Live followers (`tail -f`, `fg`).
    followers: super::FollowHub,
    channel: &'static str,
    maxbytes: u64,
    backups: u64,
    strip_ansi: bool,
    syslog_cfg: SyslogConfig,
    targets: Vec<Target>,
    /// A target is failing: further errors are not logged until it works again.
    failing: Vec<bool>,
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
                LogTarget::Stdout => Target::Stdout,
                LogTarget::Stderr => Target::Stderr,
                LogTarget::Syslog(r) => Target::Syslog {
                    remote: r.clone(),
                    conn: None,
                },
            });
        }
        if cfg.syslog {
            targets.push(Target::Syslog {
                remote: None,
                conn: None,
            });
        }
        let failing = vec![false; targets.len()];
        LogSink {
            process: process.to_owned(),
            followers: super::FollowHub::default(),
            channel,
            maxbytes: cfg.maxbytes,
            backups: cfg.backups,
            strip_ansi,
            syslog_cfg: syslog_cfg.clone(),
            targets,
            failing,
        }
    }

    /// Nothing captures this stream: not a target, not a follower.
    pub fn is_empty(&self) -> bool {
        self.targets.is_empty()
    }

    /// New output from now on, as it arrives.
    pub fn follow(&mut self) -> super::FollowRx {
        self.followers.follow()
    }

    /// The first file target (what `tail` reads).
    pub fn file_path(&self) -> Option<&Path> {
        self.targets.iter().find_map(|t| match t {
            Target::File { path, .. } => Some(path.as_path()),
            _ => None,
        })
    }

    /// Opens file targets now (supervisor creates them when the process spawns).
    pub fn open(&mut self) -> Vec<String> {
        self.write(b"")
    }

    /// Writes one chunk of output everywhere. Returns messages for the main log (first failure
    /// of a target, and its recovery).
    pub fn write(&mut self, data: &[u8]) -> Vec<String> {
        let stripped;
        let data = if self.strip_ansi && data.contains(&0x1b) {
            stripped = strip_escapes(data);
            &stripped[..]
        } else {
            data
        };
        self.followers.publish(data);
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
                Target::Stdout => write_std(&mut std::io::stdout().lock(), data),
                Target::Stderr => write_std(&mut std::io::stderr().lock(), data),
                Target::Syslog { remote, conn } => {
                    if conn.is_none() {
                        match SyslogTarget::connect(
                            remote.as_ref(),
                            &self.syslog_cfg,
                            &self.process,
                            self.channel == "stderr",
                        ) {
                            Ok(c) => *conn = Some(c),
                            Err(e) => {
                                report(
                                    &mut reports,
                                    &mut self.failing[i],
                                    &self.process,
                                    self.channel,
                                    &e,
                                );
                                continue;
                            }
                        }
                    }
                    match conn.as_mut() {
                        Some(c) if !data.is_empty() => c.send(data).inspect_err(|_| *conn = None),
                        _ => Ok(()),
                    }
                }
            };
            match result {
                Ok(()) => {
                    if std::mem::take(&mut self.failing[i]) {
                        reports.push(format!(
                            "logging of '{}' {} works again",
                            self.process, self.channel
                        ));
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
    pub fn reopen(&mut self) -> Vec<String> {
        for t in &mut self.targets {
            if let Target::File { file, .. } = t {
                *file = None;
            }
        }
        self.open()
    }
}

fn report(reports: &mut Vec<String>, failing: &mut bool, process: &str, channel: &str, e: &str) {
    if !*failing {
        *failing = true;
        reports.push(format!(
            "{e} (output of '{process}' {channel} is lost until this works again; the process keeps running)"
        ));
    }
}

fn write_std(w: &mut impl Write, data: &[u8]) -> Result<(), String> {
    if data.is_empty() {
        return Ok(());
    }
    w.write_all(data)
        .and_then(|()| w.flush())
        .map_err(|e| format!("can't write to the daemon's standard output: {e}"))
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
    fn strips_color_codes() {
        assert_eq!(strip_escapes(b"\x1b[1;31mred\x1b[0m plain"), b"red plain");
        assert_eq!(strip_escapes(b"no escapes"), b"no escapes");
    }
}
