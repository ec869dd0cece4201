//! `supervisord`: command line, config loading, privileges and limits, daemonizing, then the
//! runtime. Everything else is in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shared::config::{Config, LoadOptions, MainLog as MainLogCfg};
use supervisord::logging::mainlog::{MainLog, MainLogLayer};
use tracing_subscriber::layer::SubscriberExt;

const SAMPLE_CONFIG: &str = include_str!("../../packaging/supervisord.conf");

#[derive(Parser)]
#[command(
    name = "supervisord",
    version,
    about = "A process control system (compatible with Python's supervisord)",
    disable_version_flag = true
)]
struct Cli {
    /// Configuration file (searched in the usual places when absent).
    #[arg(short = 'c', long = "configuration", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run in the background (the default is the foreground, right for containers).
    #[arg(short = 'd', long = "daemon")]
    daemon: bool,
    /// Stay in the foreground (accepted for compatibility with Python's supervisord).
    #[arg(short = 'n', long = "nodaemon")]
    nodaemon: bool,
    /// Load variables from this dotenv file into supervisord's own environment first.
    #[arg(long = "env-file", value_name = "FILE")]
    env_file: Vec<PathBuf>,
    /// Validate the configuration, print the programs it defines, and exit (0: valid, 1: not).
    #[arg(long = "check", alias = "test", short = 't')]
    check: bool,
    /// With --check: print the result as JSON (for scripts).
    #[arg(long = "json", requires = "check")]
    json: bool,
    /// Print the version and exit.
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// Don't echo the main log to stdout in the foreground.
    #[arg(short = 's', long = "silent")]
    silent: bool,
    /// Log level (critical, error, warn, info, debug, trace, blather).
    #[arg(short = 'e', long = "loglevel", value_name = "LEVEL")]
    loglevel: Option<String>,
    /// Main log file (overrides [supervisord] logfile).
    #[arg(short = 'l', long = "logfile", value_name = "FILE")]
    logfile: Option<PathBuf>,
    /// Pid file (overrides [supervisord] pidfile).
    #[arg(short = 'j', long = "pidfile", value_name = "FILE")]
    pidfile: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Cmd>,
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the version and exit.
    Version,
    /// The client: `supervisord ctl [-c FILE] [-s URL] [-u USER] [-P PASS] ACTION…` (the same as
    /// `supervisorctl`).
    #[command(disable_help_flag = true)]
    Ctl {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// Write a commented sample configuration (to stdout, or to FILE).
    Init {
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.version || matches!(cli.command, Some(Cmd::Version)) {
        println!("{}", env!("CARGO_PKG_VERSION"));
        return ExitCode::SUCCESS;
    }
    if let Some(Cmd::Ctl { args }) = &cli.command {
        let mut argv: Vec<std::ffi::OsString> = vec!["supervisord ctl".into()];
        // `supervisord -c FILE ctl …`: the daemon's -c names the config the client reads too.
        if let Some(c) = &cli.config
            && !args.iter().any(|a| a == "-c" || a == "--configuration")
        {
            argv.push("-c".into());
            argv.push(c.clone().into_os_string());
        }
        argv.extend(args.iter().cloned());
        let code = supervisorctl::run(argv, "supervisord ctl");
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    if let Some(Cmd::Init { output }) = &cli.command {
        return match output {
            None => {
                print!("{SAMPLE_CONFIG}");
                ExitCode::SUCCESS
            }
            Some(p) => match std::fs::write(p, SAMPLE_CONFIG) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("Error: can't write {}: {e}", p.display());
                    ExitCode::from(2)
                }
            },
        };
    }
    for f in &cli.env_file {
        if let Err(e) = dotenvy::from_path(f) {
            eprintln!("Error: can't load env file {}: {e}", f.display());
            return ExitCode::from(2);
        }
    }
    let Some(path) = cli.config.clone().or_else(shared::config::find_config) else {
        let cwd = std::env::current_dir().unwrap_or_default();
        let exe = std::env::current_exe().ok();
        let tried: Vec<String> = shared::config::search_paths(&cwd, exe.as_deref())
            .iter()
            .map(|p| format!("  {}", p.display()))
            .collect();
        eprintln!(
            "Error: no configuration file found; looked in:\n{}\nUse -c FILE, or write a sample with `supervisord init -o supervisord.conf`.",
            tried.join("\n")
        );
        return ExitCode::from(2);
    };
    // Absolute, so SIGHUP re-reads the same file after a chdir.
    let path = std::path::absolute(&path).unwrap_or(path);
    let load = LoadOptions::from_process();
    let mut config = match shared::config::load(&path, &load) {
        Ok(c) => c,
        Err(errors) => {
            if cli.check && cli.json {
                let errs = shared::json::array(
                    errors
                        .0
                        .iter()
                        .map(|d| shared::json::string(&d.to_string())),
                );
                println!(
                    "{}",
                    shared::json::object(&[("valid", "false".into()), ("errors", errs)])
                );
                return ExitCode::from(1);
            }
            if cli.check {
                eprintln!("{errors}");
                eprintln!("{}: configuration is NOT valid", path.display());
                return ExitCode::from(1);
            }
            eprintln!("Error: {errors}");
            eprintln!("For help, use supervisord -h");
            return ExitCode::from(2);
        }
    };
    if let Err(e) = apply_overrides(&cli, &mut config) {
        eprintln!("Error: {e}");
        return ExitCode::from(2);
    }
    // The certificate pair is a file the config names: a check that passes must mean the
    // daemon will serve with it.
    if cli.check
        && let Some(files) = config
            .inet_http_server
            .as_ref()
            .and_then(|i| i.tls.as_ref())
        && let Err(e) = supervisord::server::tls::server_config(files)
    {
        if cli.json {
            println!(
                "{}",
                shared::json::object(&[
                    ("valid", "false".into()),
                    ("errors", shared::json::array([shared::json::string(&e)]))
                ])
            );
        } else {
            eprintln!("{e}");
            eprintln!("{}: configuration is NOT valid", path.display());
        }
        return ExitCode::from(1);
    }
    if cli.check && cli.json {
        print_check_json(&config);
        return ExitCode::SUCCESS;
    }
    if cli.check {
        for w in &config.warnings {
            eprintln!("warning: {w}");
        }
        print_check(&config);
        println!("{}: configuration is valid", path.display());
        return ExitCode::SUCCESS;
    }
    match start(cli, path, load, config) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn apply_overrides(cli: &Cli, config: &mut Config) -> Result<(), String> {
    let sup = &mut config.supervisord;
    if let Some(l) = &cli.loglevel {
        sup.loglevel = shared::config::LogLevel::parse(l)?;
    }
    if let Some(l) = &cli.logfile {
        sup.logfile = MainLogCfg::File(std::path::absolute(l).map_err(|e| e.to_string())?);
    }
    if let Some(p) = &cli.pidfile {
        sup.pidfile = Some(std::path::absolute(p).map_err(|e| e.to_string())?);
    }
    if cli.silent {
        sup.silent = true;
    }
    Ok(())
}

fn print_check(config: &Config) {
    println!("programs (in start order):");
    for g in &config.groups {
        for p in &g.processes {
            let mut extra = Vec::new();
            if !p.autostart {
                extra.push("autostart=false".to_string());
            }
            if !p.depends_on.is_empty() {
                extra.push(format!("depends_on={}", p.depends_on.join(",")));
            }
            if p.kind != shared::config::ProcessKind::Program {
                extra.push(p.kind.section_type().to_string());
            }
            println!(
                "  {:<30} priority={:<5} {}{}",
                p.full_name(),
                format!("{}/{}", g.priority, p.priority),
                p.command,
                if extra.is_empty() {
                    String::new()
                } else {
                    format!("  [{}]", extra.join(" "))
                }
            );
        }
    }
}

fn print_check_json(config: &Config) {
    use shared::json::{array, object, string};
    let programs = array(config.groups.iter().flat_map(|g| {
        g.processes.iter().map(move |p| {
            object(&[
                ("name", string(&p.full_name())),
                ("group", string(&g.name)),
                ("kind", string(p.kind.section_type())),
                ("command", string(&p.command)),
                ("priority", p.priority.to_string()),
                ("group_priority", g.priority.to_string()),
                ("autostart", p.autostart.to_string()),
                ("depends_on", array(p.depends_on.iter().map(|d| string(d)))),
            ])
        })
    }));
    let warnings = array(config.warnings.iter().map(|w| string(&w.to_string())));
    println!(
        "{}",
        object(&[
            ("valid", "true".into()),
            ("programs", programs),
            ("warnings", warnings)
        ])
    );
}

/// Privileges, limits, daemonizing, logging, then the async runtime.
fn start(cli: Cli, path: PathBuf, load: LoadOptions, config: Config) -> anyhow::Result<i32> {
    let mut infos = config.infos.clone();
    if let Some(user) = &config.supervisord.user {
        infos.push(supervisord::process::spawn::drop_privileges(user).map_err(anyhow::Error::msg)?);
    }
    infos.extend(set_limits(&config).map_err(anyhow::Error::msg)?);
    let sup = &config.supervisord;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(sup.umask));
    let foreground = !cli.daemon;
    if cli.daemon {
        nix::unistd::daemon(true, false).context("can't daemonize")?;
        if let Some(dir) = &sup.directory {
            std::env::set_current_dir(dir)
                .with_context(|| format!("can't chdir into {}", dir.display()))?;
        }
    }
    let mainlog = MainLog::new();
    mainlog
        .configure(sup, foreground)
        .map_err(anyhow::Error::msg)?;
    let subscriber = tracing_subscriber::registry().with(MainLogLayer::new(mainlog.clone()));
    tracing::subscriber::set_global_default(subscriber).context("tracing init")?;

    if nix::unistd::Uid::effective().is_root() && sup.user.is_none() {
        supervisord::crit!(
            "Supervisor is running as root.  Privileges were not dropped because no user is specified in the config file.  If you intend to run as root, you can set user=root in the config file to avoid this message."
        );
    }
    for w in &config.warnings {
        tracing::warn!("{w}");
    }
    for i in &infos {
        tracing::info!("{i}");
    }
    if cli.daemon {
        tracing::info!("daemonizing the supervisord process");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .max_blocking_threads(4)
        .enable_all()
        .build()
        .context("can't start the async runtime")?;
    let opts = supervisord::RunOptions {
        config_path: path,
        load,
        foreground,
        mainlog: mainlog.clone(),
    };
    let code = runtime.block_on(supervisord::run(Arc::new(config), opts));
    // Outputs that are slow or stalled get a moment, not forever; the main log goes last, as
    // the others report there what they had to drop.
    supervisord::logging::console::flush(std::time::Duration::from_secs(2));
    supervisord::logging::syslog_target::flush_all(std::time::Duration::from_secs(1));
    mainlog.flush(std::time::Duration::from_secs(5));
    code
}

/// minfds / minprocs: raise the soft (and if needed hard) limits, or refuse to start.
fn set_limits(config: &Config) -> Result<Vec<String>, String> {
    use nix::sys::resource::{Resource, getrlimit, setrlimit};
    let mut infos = Vec::new();
    let sup = &config.supervisord;
    for (res, min, name, what, setting) in [
        (
            Resource::RLIMIT_NOFILE,
            sup.minfds,
            "RLIMIT_NOFILE",
            "file descriptors",
            "minfds",
        ),
        (
            Resource::RLIMIT_NPROC,
            sup.minprocs,
            "RLIMIT_NPROC",
            "processes",
            "minprocs",
        ),
    ] {
        let (soft, hard) = getrlimit(res).map_err(|e| format!("getrlimit {name}: {e}"))?;
        if soft == nix::sys::resource::RLIM_INFINITY || soft >= min {
            continue;
        }
        let new_hard = if hard != nix::sys::resource::RLIM_INFINITY && hard < min {
            min
        } else {
            hard
        };
        match setrlimit(res, min, new_hard) {
            Ok(()) => infos.push(format!("Increased {name} limit to {min}")),
            Err(_) => {
                return Err(format!(
                    "The minimum number of {what} required to run this process is {min} as per the \"{setting}\" command-line argument or config file setting. The current environment will only allow you to open {hard} {what}.  Either raise the number of usable {what} in your environment or lower the {setting} setting in the config file to allow the process to start."
                ));
            }
        }
    }
    Ok(infos)
}
