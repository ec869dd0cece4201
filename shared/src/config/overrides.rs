//! supervisord's command-line options that set `[supervisord]` values. As in Python, the
//! command line wins over the file, at start and at every reload.

use std::path::PathBuf;

use super::{LogLevel, MainLog, SupervisordConfig};

/// The values given on the command line (already parsed and checked).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Overrides {
    pub user: Option<String>,
    pub umask: Option<u32>,
    pub directory: Option<PathBuf>,
    pub logfile: Option<MainLog>,
    pub logfile_maxbytes: Option<u64>,
    pub logfile_backups: Option<u64>,
    pub loglevel: Option<LogLevel>,
    pub pidfile: Option<PathBuf>,
    pub identifier: Option<String>,
    pub childlogdir: Option<PathBuf>,
    pub minfds: Option<u64>,
    pub minprocs: Option<u64>,
    /// `-n`: stay in the foreground.
    pub nodaemon: bool,
    /// `-s`, `-k`, `-t`: switches, which can only turn their option on.
    pub silent: bool,
    pub nocleanup: bool,
    pub strip_ansi: bool,
}

impl Overrides {
    pub fn apply(&self, s: &mut SupervisordConfig) {
        fn set<T: Clone>(to: &mut T, from: &Option<T>) {
            if let Some(v) = from {
                *to = v.clone();
            }
        }
        if self.user.is_some() {
            s.user.clone_from(&self.user);
        }
        if self.directory.is_some() {
            s.directory.clone_from(&self.directory);
        }
        if self.pidfile.is_some() {
            s.pidfile.clone_from(&self.pidfile);
        }
        set(&mut s.umask, &self.umask);
        set(&mut s.logfile, &self.logfile);
        set(&mut s.logfile_maxbytes, &self.logfile_maxbytes);
        set(&mut s.logfile_backups, &self.logfile_backups);
        set(&mut s.loglevel, &self.loglevel);
        set(&mut s.identifier, &self.identifier);
        set(&mut s.childlogdir, &self.childlogdir);
        set(&mut s.minfds, &self.minfds);
        set(&mut s.minprocs, &self.minprocs);
        if self.nodaemon {
            s.nodaemon = Some(true);
        }
        s.silent |= self.silent;
        s.nocleanup |= self.nocleanup;
        s.strip_ansi |= self.strip_ansi;
    }
}
