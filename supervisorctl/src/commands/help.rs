//! `help [action]`: the same texts as Python's supervisorctl.

use super::Ctl;

/// Every action, for `help` and the shell's completion.
pub(crate) const COMMANDS: &[&str] = &[
    "add", "avail", "clear", "exit", "fg", "help", "maintail", "open", "pid", "quit", "reload",
    "remove", "reread", "restart", "shutdown", "signal", "start", "status", "stop", "tail",
    "update", "version",
];

/// Ours, shown as Python's supervisorctl shows a plugin's: a section of their own after the
/// default commands.
pub(crate) const EXTRA_COMMANDS: &[&str] = &["events"];

/// Actions that need no server and are not the shell's: on the command line only.
pub(crate) const COMMAND_LINE_ONLY: &[&str] = &["completions", "manpage"];

fn text(cmd: &str) -> Option<&'static str> {
    Some(match cmd {
        "help" => {
            "help\t\tPrint a list of available actions\nhelp <action>\tPrint help for <action>"
        }
        "exit" => "exit\tExit the supervisor shell.",
        "EOF" | "quit" => "quit\tExit the supervisor shell.",
        "open" => {
            "open <url>\tConnect to a remote supervisord process.\n\t\t(for UNIX domain socket, use unix:///socket/path)"
        }
        "version" => "version\t\t\tShow the version of the remote supervisord process",
        "status" => {
            "status <name>\t\tGet status for a single process\nstatus <gname>:*\tGet status for all processes in a group\nstatus <name> <name>\tGet status for multiple named processes\nstatus\t\t\tGet all process status info"
        }
        "events" => {
            "events\t\t\tPrint every event as it happens (until Ctrl-C)\nevents <type> ...\tPrint the events of these types (PROCESS_STATE, TICK_5, ...)\nevents --pools\t\tShow the event listener pools and their listeners' states"
        }
        "pid" => {
            "pid\t\t\tGet the PID of supervisord.\npid <name>\t\tGet the PID of a single child process by name.\npid all\t\t\tGet the PID of every child process, one per line."
        }
        "start" => {
            "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\nstart <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all processes"
        }
        "stop" => {
            "stop <name>\t\tStop a process\nstop <gname>:*\t\tStop all processes in a group\nstop <name> <name>\tStop multiple processes or groups\nstop all\t\tStop all processes"
        }
        "signal" => {
            "signal <signal name> <name>\t\tSignal a process\nsignal <signal name> <gname>:*\t\tSignal all processes in a group\nsignal <signal name> <name> <name>\tSignal multiple processes or groups\nsignal <signal name> all\t\tSignal all processes"
        }
        "restart" => {
            "restart <name>\t\tRestart a process\nrestart <gname>:*\tRestart all processes in a group\nrestart <name> <name>\tRestart multiple processes or groups\nrestart all\t\tRestart all processes\nNote: restart does not reread config files. For that, see reread and update."
        }
        "shutdown" => "shutdown \tShut the remote supervisord down.",
        "reload" => "reload \t\tRestart the remote supervisord.",
        "tail" => {
            "tail [-f] <name> [stdout|stderr] (default stdout)\nEx:\ntail -f <name>\t\tContinuous tail of named process stdout\n\t\t\tCtrl-C to exit.\ntail -100 <name>\tlast 100 *bytes* of process stdout\ntail <name> stderr\tlast 1600 *bytes* of process stderr"
        }
        "maintail" => {
            "maintail -f \tContinuous tail of supervisor main log file (Ctrl-C to exit)\nmaintail -100\tlast 100 *bytes* of supervisord main log file\nmaintail\tlast 1600 *bytes* of supervisor main log file\n"
        }
        "clear" => {
            "clear <name>\t\tClear a process' log files.\nclear <name> <name>\tClear multiple process' log files\nclear all\t\tClear all process' log files"
        }
        "completions" => {
            "completions bash|zsh|fish\tPrint a completion script for the shell (process and\n\t\t\tgroup names are asked of the running supervisord; command line only)"
        }
        "manpage" => "manpage\t\t\tPrint the manual page, roff (command line only)",
        "fg" => "fg <process>\tConnect to a process in foreground mode\n\t\tCtrl-C to exit",
        "avail" => "avail\t\t\tDisplay all configured processes",
        "reread" => "reread \t\t\tReload the daemon's configuration files without add/remove",
        "add" => "add <name> [...]\tActivates any updates in config for process/group",
        "remove" => "remove <name> [...]\tRemoves process/group from active config",
        "update" => {
            "update\t\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate all\t\tReload config and add/remove as necessary, and will restart affected programs\nupdate <gname> [...]\tUpdate specific groups"
        }
        _ => return None,
    })
}

/// Every action with its help text (Python's, and ours after them), for the man page.
pub(crate) fn texts() -> Vec<(&'static str, &'static str)> {
    COMMANDS
        .iter()
        .chain(EXTRA_COMMANDS)
        .chain(COMMAND_LINE_ONLY)
        .filter_map(|&c| Some((c, text(c)?)))
        .collect()
}

/// Prints the help of one action (after a usage error, as Python does).
/// `args` is empty: prints Python's `Error: <cmd> requires a process name`, sets `status`
/// (Python's exit codes differ by command) and the command's help. True when it did.
pub(crate) fn missing_name(ctl: &mut Ctl, cmd: &str, args: &[String], status: i32) -> bool {
    if !args.is_empty() {
        return false;
    }
    ctl.output(&format!("Error: {cmd} requires a process name"));
    ctl.exitstatus = status;
    show(ctl, cmd);
    true
}

pub(crate) fn show(ctl: &Ctl, cmd: &str) {
    if let Some(t) = text(cmd) {
        ctl.output(t);
    }
}

pub(crate) fn run(ctl: &mut Ctl, args: &[String]) {
    match args.first() {
        Some(cmd) => match text(cmd) {
            Some(t) => ctl.output(t),
            None => ctl.output(&format!("*** No help on {cmd}")),
        },
        None => {
            ctl.output("");
            ctl.output("default commands (type help <topic>):");
            ctl.output("=====================================");
            let topics: Vec<&str> = COMMANDS.iter().copied().filter(|c| *c != "help").collect();
            for line in columnize(&topics, 79) {
                ctl.output(&line);
            }
            ctl.output("");
            ctl.output("");
            ctl.output("supervisord-rs commands (type help <topic>):");
            ctl.output("============================================");
            for line in columnize(EXTRA_COMMANDS, 79) {
                ctl.output(&line);
            }
            ctl.output("");
        }
    }
}

/// Python's `cmd.Cmd.columnize`: the fewest rows that fit `width`, filled column by column.
fn columnize(items: &[&str], width: usize) -> Vec<String> {
    let size = items.len();
    let mut layout = (size, vec![items.iter().map(|s| s.len()).max().unwrap_or(0)]);
    for nrows in 1..size {
        let ncols = size.div_ceil(nrows);
        let widths: Vec<usize> = (0..ncols)
            .map(|c| {
                (0..nrows)
                    .filter_map(|r| items.get(r + nrows * c))
                    .map(|s| s.len())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let total: usize = widths.iter().map(|w| w + 2).sum::<usize>() - 2;
        if total <= width {
            layout = (nrows, widths);
            break;
        }
    }
    let (nrows, widths) = layout;
    (0..nrows)
        .map(|r| {
            let mut cells: Vec<&str> = (0..widths.len())
                .map(|c| items.get(r + nrows * c).copied().unwrap_or(""))
                .collect();
            while cells.last().is_some_and(|c| c.is_empty()) {
                cells.pop();
            }
            cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| format!("{c:<w$}"))
                .collect::<Vec<_>>()
                .join("  ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn help_listing_matches_python() {
        let topics: Vec<&str> = COMMANDS.iter().copied().filter(|c| *c != "help").collect();
        assert_eq!(
            columnize(&topics, 79),
            vec![
                "add    exit      open  reload  restart   start   tail   ",
                "avail  fg        pid   remove  shutdown  status  update ",
                "clear  maintail  quit  reread  signal    stop    version",
            ]
        );
    }
}
