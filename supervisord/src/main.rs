//! `supervisord`: command line, config loading, privileges and limits, daemonizing, then the
//! runtime. Everything else is in the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use shared::config::{Config, LoadOptions, Overrides};
use supervisord::logging::mainlog::{MainLog, MainLogLayer};
use tracing_subscriber::layer::SubscriberExt;

const SAMPLE_CONFIG: &str = include_str!("../../packaging/supervisord.conf");

#[derive(Parser)]
#[command(
    name = "supervisord",
    version,
    about = "A process control system (compatible with Python's supervisord)",
    long_about = "A process control system (compatible with Python's supervisord).\n\n\
It stays in the foreground unless told otherwise (right for containers and systemd): \
-d, or nodaemon=false written in [supervisord], puts it in the background as Python's does. \
Options that name a [supervisord] setting override the config file, at start and at every \
reload. One difference from Python's supervisord: -d means daemonize (the Go supervisord's \
meaning); Python's -d DIR is --directory DIR here.",
    disable_version_flag = true,
    disable_help_flag = true
)]
struct Cli {
    /// Configuration file (searched in the usual places when absent).
    #[arg(short = 'c', long = "configuration", value_name = "FILE")]
    config: Option<PathBuf>,
    /// Run in the background (as nodaemon=false does).
    #[arg(short = 'd', long = "daemon")]
    daemon: bool,
    /// Stay in the foreground, whatever the config says.
    #[arg(short = 'n', long = "nodaemon")]
    nodaemon: bool,
    /// Load variables from this dotenv file into supervisord's own environment first.
    #[arg(long = "env-file", value_name = "FILE")]
    env_file: Vec<PathBuf>,
    /// Validate the configuration, print the programs it defines, and exit (0: valid, 1: not).
    #[arg(long = "check")]
    check: bool,
    /// With --check: print the result as JSON (for scripts).
    #[arg(long = "json", requires = "check")]
    json: bool,
    /// Print the version and exit.
    #[arg(short = 'v', long = "version")]
    version: bool,
    /// Print help and exit.
    #[arg(short = 'h', long = "help", visible_short_alias = '?', action = clap::ArgAction::Help)]
    help: Option<bool>,
    /// Don't echo the main log to stdout in the foreground.
    #[arg(short = 's', long = "silent")]
    silent: bool,
    /// Run as this user (name or uid) once started ([supervisord] user).
    #[arg(short = 'u', long = "user", value_name = "USER")]
    user: Option<String>,
    /// umask, octal ([supervisord] umask).
    #[arg(short = 'm', long = "umask", value_name = "UMASK")]
    umask: Option<String>,
    /// Directory to change into when daemonizing ([supervisord] directory; Python's -d).
    #[arg(long = "directory", value_name = "DIR")]
    directory: Option<String>,
    /// Main log file, or syslog, or NONE ([supervisord] logfile).
    #[arg(short = 'l', long = "logfile", value_name = "FILE")]
    logfile: Option<String>,
    /// Main log size before rotation, e.g. 50MB ([supervisord] logfile_maxbytes).
    #[arg(short = 'y', long = "logfile_maxbytes", value_name = "BYTES")]
    logfile_maxbytes: Option<String>,
    /// Main log backups kept ([supervisord] logfile_backups).
    #[arg(short = 'z', long = "logfile_backups", value_name = "NUM")]
    logfile_backups: Option<String>,
    /// Log level: critical, error, warn, info, debug, trace, blather ([supervisord] loglevel).
    #[arg(short = 'e', long = "loglevel", value_name = "LEVEL")]
    loglevel: Option<String>,
    /// Pid file ([supervisord] pidfile).
    #[arg(short = 'j', long = "pidfile", value_name = "FILE")]
    pidfile: Option<String>,
    /// Identifier for the RPC interface ([supervisord] identifier).
    #[arg(short = 'i', long = "identifier", value_name = "STR")]
    identifier: Option<String>,
    /// Directory of AUTO child logs ([supervisord] childlogdir).
    #[arg(short = 'q', long = "childlogdir", value_name = "DIR")]
    childlogdir: Option<String>,
    /// Keep old AUTO child logs at start ([supervisord] nocleanup).
    #[arg(short = 'k', long = "nocleanup")]
    nocleanup: bool,
    /// Minimum free file descriptors to start ([supervisord] minfds).
    #[arg(short = 'a', long = "minfds", value_name = "NUM")]
    minfds: Option<String>,
    /// Minimum free processes to start ([supervisord] minprocs).
    #[arg(long = "minprocs", value_name = "NUM")]
    minprocs: Option<String>,
    /// Strip ANSI escape sequences from child logs ([supervisord] strip_ansi).
    #[arg(short = 't', long = "strip_ansi")]
    strip_ansi: bool,
    #[command(subcommand)]
    command: Option<Cmd>,
}

impl Cli {
    /// The command-line values that override `[supervisord]`, checked as the config's are; an
    /// error names the option.
    fn overrides(&self, cwd: &std::path::Path) -> Result<Overrides, String> {
        use shared::values;
        fn parse<T>(
            opt: &str,
            v: &Option<String>,
            f: impl Fn(&str) -> Result<T, String>,
        ) -> Result<Option<T>, String> {
            v.as_deref()
                .map(|v| f(v).map_err(|e| format!("{opt} {v}: {e}")))
                .transpose()
        }
        let abs = |p: PathBuf| if p.is_absolute() { p } else { cwd.join(p) };
        Ok(Overrides {
            user: parse("--user", &self.user, |u| {
                values::user_spec(u).map(|()| u.to_owned())
            })?,
            umask: parse("--umask", &self.umask, values::octal)?,
            directory: parse("--directory", &self.directory, values::existing_directory)?.map(abs),
            logfile: parse("--logfile", &self.logfile, |v| {
                shared::config::main_log(v, cwd)
            })?,
            logfile_maxbytes: parse(
                "--logfile_maxbytes",
                &self.logfile_maxbytes,
                values::byte_size,
            )?,
            logfile_backups: parse(
                "--logfile_backups",
                &self.logfile_backups,
                values::non_negative,
            )?,
            loglevel: parse(
                "--loglevel",
                &self.loglevel,
                shared::config::LogLevel::parse,
            )?,
            pidfile: parse("--pidfile", &self.pidfile, values::existing_dirpath)?.map(abs),
            identifier: self.identifier.clone(),
            childlogdir: parse(
                "--childlogdir",
                &self.childlogdir,
                values::existing_directory,
            )?
            .map(abs),
            minfds: parse("--minfds", &self.minfds, values::non_negative)?,
            minprocs: parse("--minprocs", &self.minprocs, values::non_negative)?,
            nodaemon: self.nodaemon,
            silent: self.silent,
            nocleanup: self.nocleanup,
            strip_ansi: self.strip_ansi,
        })
    }
}

#[derive(Subcommand)]
enum Cmd {
    /// Print the version and exit.
    Version,
    /// The client: `supervisord ctl [-c FILE] [-s URL] [-u USER] [-P PASS] ACTION...` (the same as
    /// `supervisorctl`).
    #[command(disable_help_flag = true)]
    Ctl {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<std::ffi::OsString>,
    },
    /// supervisord as the machine's service (systemd, else OpenRC).
    Service {
        #[command(subcommand)]
        action: ServiceCmd,
    },
    /// Print a manual page, in roff (`man -l <(supervisord manpage)`).
    Manpage {
        /// supervisord (section 8), supervisord.conf (5) or supervisorctl (1).
        #[arg(default_value = "supervisord", value_parser = ["supervisord", "supervisord.conf", "supervisorctl"])]
        page: String,
    },
    /// Write a commented sample configuration (to stdout, or to FILE).
    Init {
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<PathBuf>,
        /// Replace FILE if it exists.
        #[arg(long = "force")]
        force: bool,
    },
}

#[derive(Subcommand)]
enum ServiceCmd {
    /// Install and enable the service, running this binary on FILE (checked first).
    Install {
        /// The config the service runs (else the global -c, else the one found as at start).
        #[arg(short = 'c', long = "configuration", value_name = "FILE")]
        config: Option<PathBuf>,
        /// A dotenv file the service loads at each start (repeatable).
        #[arg(long = "env-file", value_name = "FILE")]
        env_file: Vec<PathBuf>,
        /// Replace an installed service.
        #[arg(long)]
        force: bool,
    },
    /// Stop, disable and remove the service.
    Uninstall,
    /// Start the installed service.
    Start,
    /// Stop the installed service.
    Stop,
    /// Whether the service is installed and running.
    Status,
}

fn service(cli: &Cli, cmd: &ServiceCmd) -> ExitCode {
    use supervisord::system_service::{Action, run};
    let action = match cmd {
        ServiceCmd::Install {
            config,
            env_file,
            force,
        } => {
            let Some(config) = config
                .clone()
                .or_else(|| cli.config.clone())
                .or_else(shared::config::find_config)
            else {
                eprintln!("Error: no configuration file: give one with -c FILE");
                return ExitCode::from(2);
            };
            Action::Install {
                config,
                env_files: [cli.env_file.as_slice(), env_file.as_slice()].concat(),
                force: *force,
            }
        }
        ServiceCmd::Uninstall => Action::Uninstall,
        ServiceCmd::Start => Action::Start,
        ServiceCmd::Stop => Action::Stop,
        ServiceCmd::Status => Action::Status,
    };
    match run(action) {
        Ok(message) => {
            println!("{message}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("Error: {e}");
            ExitCode::from(2)
        }
    }
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
    if let Some(Cmd::Service { action }) = &cli.command {
        return service(&cli, action);
    }
    if let Some(Cmd::Manpage { page }) = &cli.command {
        print!("{}", manpage(page));
        return ExitCode::SUCCESS;
    }
    if let Some(Cmd::Init { output, force }) = &cli.command {
        return match output {
            None => {
                print!("{SAMPLE_CONFIG}");
                ExitCode::SUCCESS
            }
            Some(p) => init(p, *force),
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
    let mut load = LoadOptions::from_process();
    load.overrides = match cli.overrides(&load.cwd) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("Error: {e}");
            eprintln!("For help, use supervisord -h");
            return ExitCode::from(2);
        }
    };
    let config = match shared::config::load(&path, &load) {
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
    let mut readiness = None;
    match start(cli, path, load, config, &mut readiness) {
        Ok(code) => ExitCode::from(u8::try_from(code).unwrap_or(1)),
        Err(e) => {
            if let Some(r) = readiness {
                // Daemonized: stderr is /dev/null; the shell that started us is told.
                r.failed(&format!("{e:#}"));
            }
            eprintln!("Error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// supervisord(8), supervisord.conf(5) or supervisorctl(1).
fn manpage(page: &str) -> String {
    use clap::CommandFactory;
    use supervisorctl::manual::{self, Title};
    match page {
        "supervisorctl" => manual::supervisorctl_page("supervisorctl"),
        "supervisord.conf" => manual::prose_page(
            &Title {
                name: "supervisord.conf",
                section: "5",
                manual: "File Formats",
            },
            "the configuration file of supervisord",
            include_str!("../../docs/supervisord.conf.5.md"),
        ),
        _ => {
            let cmd = Cli::command();
            let commands = manual::subcommands(cmd.clone(), "COMMANDS");
            let title = Title {
                name: "supervisord",
                section: "8",
                manual: "System Administration",
            };
            manual::command_page(
                cmd,
                &title,
                commands,
                include_str!("../../docs/supervisord.8.md"),
            )
        }
    }
}

/// `init -o FILE`: writes the sample, never over a file unless told, and says what next.
fn init(path: &std::path::Path, force: bool) -> ExitCode {
    let mut open = std::fs::OpenOptions::new();
    open.write(true);
    if force {
        open.create(true).truncate(true);
    } else {
        open.create_new(true);
    }
    let written = open.open(path).and_then(|mut f| {
        use std::io::Write;
        f.write_all(SAMPLE_CONFIG.as_bytes())
    });
    match written {
        Ok(()) => {
            let shown = path.display();
            println!("wrote a sample configuration to {shown}");
            println!("run it:      supervisord -c {shown}");
            println!("web GUI:     http://127.0.0.1:9001");
            println!("control it:  supervisorctl -c {shown} status");
            ExitCode::SUCCESS
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!(
                "Error: {} exists; not replaced (use --force to replace it)",
                path.display()
            );
            ExitCode::from(2)
        }
        Err(e) => {
            eprintln!("Error: can't write {}: {e}", path.display());
            ExitCode::from(2)
        }
    }
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

/// Forks: the parent waits until the child says it is up (then exits 0) or why it is not (then
/// prints that and exits 2); the child becomes a session leader in `directory` with its
/// standard streams on /dev/null, and returns what to tell the parent.
fn daemonize_now(
    directory: Option<&std::path::Path>,
) -> anyhow::Result<supervisord::readiness::Readiness> {
    use nix::unistd::{ForkResult, fork, setsid};
    let (r, w) = nix::unistd::pipe().context("can't daemonize: pipe")?;
    // Nothing but this thread runs yet: the runtime and the log writer start after.
    #[allow(unsafe_code)]
    match unsafe { fork() }.context("can't daemonize: fork")? {
        ForkResult::Parent { .. } => {
            drop(w);
            let code = match supervisord::readiness::wait(r) {
                Ok(()) => 0,
                Err(why) => {
                    eprintln!("Error: {why}");
                    2
                }
            };
            std::process::exit(code);
        }
        ForkResult::Child => {
            drop(r);
            let ready = supervisord::readiness::Readiness::pipe(w);
            let detached = (|| -> anyhow::Result<()> {
                setsid().context("can't daemonize: setsid")?;
                if let Some(dir) = directory {
                    std::env::set_current_dir(dir)
                        .with_context(|| format!("can't chdir into {}", dir.display()))?;
                }
                let null = std::fs::OpenOptions::new()
                    .read(true)
                    .write(true)
                    .open("/dev/null")
                    .context("can't daemonize: /dev/null")?;
                nix::unistd::dup2_stdin(&null)
                    .and_then(|()| nix::unistd::dup2_stdout(&null))
                    .and_then(|()| nix::unistd::dup2_stderr(&null))
                    .context("can't daemonize: dup2")?;
                Ok(())
            })();
            if let Err(e) = detached {
                // The parent prints it (once) and exits 2.
                ready.failed(&format!("{e:#}"));
                std::process::exit(2);
            }
            Ok(ready)
        }
    }
}

/// Privileges, limits, daemonizing, logging, then the async runtime. Once daemonized, an error
/// goes to the shell that started the daemon through `readiness_guard`.
fn start(
    cli: Cli,
    path: PathBuf,
    load: LoadOptions,
    config: Config,
    readiness_guard: &mut Option<supervisord::readiness::Readiness>,
) -> anyhow::Result<i32> {
    let mut infos = config.infos.clone();
    if let Some(user) = &config.supervisord.user {
        infos.push(supervisord::process::spawn::drop_privileges(user).map_err(anyhow::Error::msg)?);
    }
    infos.extend(set_limits(&config).map_err(anyhow::Error::msg)?);
    let sup = &config.supervisord;
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(sup.umask));
    // -n (nodaemon=true) wins; else -d or an explicit nodaemon=false daemonize. Nothing set:
    // the foreground (containers, systemd).
    let daemonize = !cli.nodaemon && (cli.daemon || sup.nodaemon == Some(false));
    let foreground = !daemonize;
    let readiness = if daemonize {
        let r = daemonize_now(sup.directory.as_deref())?;
        readiness_guard.replace(r.clone());
        r
    } else {
        supervisord::readiness::Readiness::none()
    };
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
    if daemonize {
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
        readiness,
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
