//! supervisorctl: talks to supervisord over its gRPC API. Every command of Python's
//! supervisorctl with the same output and exit codes, an interactive shell, and `--json` where
//! scripts want it. `supervisord ctl …` runs the same code.
//!
//! # Layout
//! - [`cli`]: the command line (clap), shared by the shell.
//! - `options`: serverurl and credentials discovery.
//! - `client`: the connection, auth, and how failures are reported.
//! - `commands`: one module per verb. `output`: formats and exit codes.
//! - `shell`: the interactive mode. `completions`: bash, zsh and fish scripts.

pub mod cli;
mod client;
mod commands;
mod completions;
pub mod manual;
mod options;
mod output;
mod shell;

use std::ffi::OsString;

use clap::Parser;

/// Runs supervisorctl with `args` (including the program name); returns the exit status.
pub fn run(args: Vec<OsString>, prog: &str) -> i32 {
    let cli = match cli::Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    // Actions that need no server.
    match cli.action.first().map(String::as_str) {
        Some("completions") => {
            let shell = cli.action.get(1).map_or("", String::as_str);
            if let Some(s) = completions::script(shell) {
                print!("{s}");
                return 0;
            }
            if cli::print_completions(shell, prog) {
                return 0;
            }
            eprintln!("Error: completions requires a shell: bash, zsh, fish, elvish or powershell");
            return 2;
        }
        Some("_actions") => {
            for a in commands::actions() {
                println!("{a}");
            }
            return 0;
        }
        Some("manpage") => {
            print!("{}", manual::supervisorctl_page(prog));
            return 0;
        }
        _ => {}
    }
    let opts = match options::Options::resolve(&cli) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("Error: {e}");
            return 2;
        }
    };
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: can't start the async runtime: {e}");
            return 1;
        }
    };
    let code = runtime.block_on(async move {
        let mut ctl = commands::Ctl::new(opts, cli.json);
        // As in Python's supervisorctl, -i with an action runs the action only.
        if cli.action.is_empty() {
            shell::run(&mut ctl).await;
            0
        } else if cli.action.first().is_some_and(|a| a == "_names") {
            // For completion scripts: quiet, and quick, when the daemon can't be reached (a Tab
            // must not hang the shell).
            let names = tokio::time::timeout(
                std::time::Duration::from_secs(3),
                shell::process_names(&mut ctl),
            )
            .await
            .unwrap_or_default();
            for n in names {
                println!("{n}");
            }
            0
        } else {
            ctl.onecmd(&cli.action).await;
            ctl.exitstatus
        }
    });
    // A blocking read of stdin (fg) must not keep the process alive.
    runtime.shutdown_background();
    code
}
