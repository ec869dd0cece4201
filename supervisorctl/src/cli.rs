//! The command line. Actions are parsed the way Python's supervisorctl parses them (words after
//! the options), so the shell and the command line behave the same.

use std::path::PathBuf;

use clap::{CommandFactory, Parser};

#[derive(Parser, Debug)]
#[command(
    name = "supervisorctl",
    version,
    about = "Control supervisord: start, stop, inspect and follow its programs",
    long_about = "Control supervisord: start, stop, inspect and follow its programs.\n\n\
supervisorctl runs one action and exits with its status, or, without one, an interactive \
shell. Its actions, their output and their exit codes are those of Python's supervisorctl; it \
talks to supervisord-rs (or to `supervisord ctl`'s daemon) over gRPC on the daemon's unix \
socket or TCP port.",
    after_help = ACTIONS_HELP,
)]
pub struct Cli {
    /// Configuration file to read [supervisorctl] from (serverurl, username, password).
    // The text is `--help`'s too, where the brackets name the section.
    #[allow(rustdoc::broken_intra_doc_links)]
    #[arg(short = 'c', long = "configuration", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// URL of the server: unix:///path/to/supervisor.sock, http://host:port or https://host:port.
    #[arg(short = 's', long = "serverurl", value_name = "URL")]
    pub serverurl: Option<String>,
    /// Username for the server's basic auth.
    #[arg(short = 'u', long = "username")]
    pub username: Option<String>,
    /// Password for the server's basic auth (`-P` is the Go supervisord's spelling).
    #[arg(short = 'p', long = "password", visible_short_alias = 'P')]
    pub password: Option<String>,
    /// PEM file of the CA certificates to trust for an https:// server (instead of the system's).
    #[arg(long = "cafile", value_name = "FILE")]
    pub cafile: Option<PathBuf>,
    /// Interactive: with no action, the shell (the default anyway); with an action, Python's
    /// supervisorctl runs the action only, and so does this one.
    #[arg(short = 'i', long = "interactive")]
    pub interactive: bool,
    /// Keep the shell's history in this file.
    #[arg(short = 'r', long = "history-file", value_name = "FILE")]
    pub history_file: Option<PathBuf>,
    /// JSON output for status, avail, pid and events.
    #[arg(long = "json")]
    pub json: bool,
    /// The action and its arguments; none starts the interactive shell.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "ACTION"
    )]
    pub action: Vec<String>,
}

const ACTIONS_HELP: &str = "\
Actions:
  status [<name>|<group>:*|all ...]      show process states
  start <name>|<group>:*|all ...          start processes
  stop <name>|<group>:*|all ...           stop processes
  restart <name>|<group>:*|all ...        stop, then start
  signal <sig> <name>|<group>:*|all ...   send a signal
  pid [<name>|all ...]                    the daemon's pid, or processes' pids
  tail [-f|-<bytes>] <name> [stdout|stderr]
  maintail [-f|-<bytes>]                  the daemon's own log
  fg <name>                               attach to a process (Ctrl-C detaches)
  clear <name>|all ...                    empty process logs
  avail                                   configured processes
  reread                                  read the config again, say what changed
  update [all|<group> ...]                apply config changes: add, remove, restart
  add <group> ...                         activate groups added to the config
  remove <group> ...                      stop and remove groups gone from the config
  events [--pools] [<type> ...]           follow events as they happen
  reload                                  restart supervisord with its config
  shutdown                                stop everything and supervisord
  version                                 supervisord's version
  help [<action>]                         help on an action
  open <url>                              (shell) talk to another supervisord
  completions bash|zsh|fish               print a shell completion script
  manpage                                 print the man page (roff)";

/// Prints a completion script; false for an unknown shell.
pub fn print_completions(shell: &str, prog: &str) -> bool {
    let Ok(shell) = shell.parse::<clap_complete::Shell>() else {
        return false;
    };
    let mut cmd = Cli::command();
    clap_complete::generate(shell, &mut cmd, prog, &mut std::io::stdout());
    true
}
