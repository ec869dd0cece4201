//! `supervisord service install|uninstall|start|stop|status`: supervisord as the machine's
//! service, through the service-manager crate (systemd, else OpenRC). On systemd the unit is
//! ours (`packaging/supervisord.service`: `Type=notify`, reload by HUP) with this binary, the
//! absolute config path and any `--env-file` in its ExecStart.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use service_manager::{
    RestartPolicy, ServiceInstallCtx, ServiceLabel, ServiceManager, ServiceStartCtx, ServiceStatus,
    ServiceStatusCtx, ServiceStopCtx, ServiceUninstallCtx, TypedServiceManager,
};

/// The unit installed on systemd; its ExecStart is replaced by the one for this install.
const UNIT: &str = include_str!("../../packaging/supervisord.service");

/// The service's name: `supervisord.service` on systemd, `/etc/init.d/supervisord` on OpenRC.
const NAME: &str = "supervisord";

/// Where systemd looks for units of the system (an override for tests of the unit text only).
const SYSTEMD_UNIT_DIR: &str = "/etc/systemd/system";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Install {
        config: PathBuf,
        env_files: Vec<PathBuf>,
        force: bool,
    },
    Uninstall,
    Start,
    Stop,
    Status,
}

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    #[error("`supervisord service {0}` must run as root (it changes the system's services)")]
    NotRoot(&'static str),
    #[error(
        "no service manager found: neither systemd's systemctl nor OpenRC's rc-service is installed"
    )]
    NoManager,
    #[error(
        "systemd is not running on this machine (no /run/systemd/system): `supervisord service {0}` needs it; run `supervisord -c FILE` directly instead"
    )]
    NotBooted(&'static str),
    #[error("already installed: {} (use --force to replace it)", .0.display())]
    AlreadyInstalled(PathBuf),
    #[error("not installed: {} does not exist", .0.display())]
    NotInstalled(PathBuf),
    #[error("{0}")]
    Config(String),
    #[error("{what}: {source}")]
    System {
        what: String,
        source: std::io::Error,
    },
}

fn label() -> ServiceLabel {
    ServiceLabel {
        qualifier: None,
        organization: None,
        application: NAME.into(),
    }
}

fn sys(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> ServiceError {
    let what = what.into();
    move |source| ServiceError::System { what, source }
}

/// systemd is the running init (sd_booted's test).
fn systemd_booted() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// A running systemd reads the unit directory again (after a unit was written or removed); the
/// file is what counts, so a failure here is not the user's error.
fn reload_systemd() {
    if systemd_booted() {
        let _ = std::process::Command::new("systemctl")
            .arg("daemon-reload")
            .status();
    }
}

fn unit_path() -> PathBuf {
    Path::new(SYSTEMD_UNIT_DIR).join(format!("{NAME}.service"))
}

/// One ExecStart word, quoted as systemd reads it when it needs to be.
fn quote(word: &str) -> String {
    if !word.is_empty() && !word.contains(|c: char| c.is_whitespace() || "\"'\\;$%".contains(c)) {
        return word.to_owned();
    }
    let escaped = word
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "$$")
        .replace('%', "%%");
    format!("\"{escaped}\"")
}

/// The unit for `exe` with `args`: ours, with its ExecStart replaced.
pub fn unit_text(exe: &Path, args: &[OsString]) -> String {
    let mut exec = vec![quote(&exe.to_string_lossy())];
    exec.extend(args.iter().map(|a| quote(&a.to_string_lossy())));
    UNIT.lines()
        .map(|l| {
            if l.starts_with("ExecStart=") {
                format!("ExecStart={}", exec.join(" "))
            } else {
                l.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn is_root() -> bool {
    nix::unistd::Uid::effective().is_root()
}

/// Does `action`; returns what to tell the user.
pub fn run(action: Action) -> Result<String, ServiceError> {
    let manager = TypedServiceManager::native().map_err(|_| ServiceError::NoManager)?;
    if !manager.available().unwrap_or(false) {
        return Err(ServiceError::NoManager);
    }
    let systemd = manager.is_systemd();
    match action {
        Action::Install {
            config,
            env_files,
            force,
        } => install(&manager, systemd, &config, &env_files, force),
        Action::Uninstall => {
            if !is_root() {
                return Err(ServiceError::NotRoot("uninstall"));
            }
            if systemd {
                let unit = unit_path();
                if !unit.exists() {
                    return Err(ServiceError::NotInstalled(unit));
                }
                if systemd_booted() {
                    // A disabled unit would run on until the next boot.
                    let _ = manager.stop(ServiceStopCtx { label: label() });
                }
                manager
                    .uninstall(ServiceUninstallCtx { label: label() })
                    .map_err(sys(format!("can't remove {}", unit.display())))?;
                reload_systemd();
                return Ok(format!("removed {}", unit.display()));
            }
            manager
                .uninstall(ServiceUninstallCtx { label: label() })
                .map_err(sys("can't uninstall the service"))?;
            Ok(format!("removed the {NAME} service"))
        }
        Action::Start | Action::Stop | Action::Status => {
            let verb = match action {
                Action::Start => "start",
                Action::Stop => "stop",
                _ => "status",
            };
            if systemd && !systemd_booted() {
                return Err(ServiceError::NotBooted(verb));
            }
            match action {
                Action::Start => {
                    manager
                        .start(ServiceStartCtx { label: label() })
                        .map_err(sys("can't start the service"))?;
                    Ok(format!("{NAME} started"))
                }
                Action::Stop => {
                    manager
                        .stop(ServiceStopCtx { label: label() })
                        .map_err(sys("can't stop the service"))?;
                    Ok(format!("{NAME} stopped"))
                }
                _ => {
                    let st = manager
                        .status(ServiceStatusCtx { label: label() })
                        .map_err(sys("can't ask for the service's status"))?;
                    Ok(match st {
                        ServiceStatus::NotInstalled => format!("{NAME}: not installed"),
                        ServiceStatus::Running => format!("{NAME}: running"),
                        ServiceStatus::Stopped(None) => format!("{NAME}: stopped"),
                        ServiceStatus::Stopped(Some(why)) => format!("{NAME}: stopped ({why})"),
                    })
                }
            }
        }
    }
}

fn install(
    manager: &TypedServiceManager,
    systemd: bool,
    config: &Path,
    env_files: &[PathBuf],
    force: bool,
) -> Result<String, ServiceError> {
    if !is_root() {
        return Err(ServiceError::NotRoot("install"));
    }
    let config = std::path::absolute(config).map_err(sys(format!("{}", config.display())))?;
    // A service that could not start is no use: the config is checked now.
    let load = shared::config::LoadOptions::from_process();
    if let Err(e) = shared::config::load(&config, &load) {
        return Err(ServiceError::Config(format!(
            "not installing: {} has errors:\n{e}",
            config.display()
        )));
    }
    let exe = std::env::current_exe().map_err(sys("can't find this program's path"))?;
    let mut args: Vec<OsString> = vec!["-n".into(), "-c".into(), config.clone().into()];
    for f in env_files {
        let f = std::path::absolute(f).map_err(sys(format!("{}", f.display())))?;
        if !f.is_file() {
            return Err(ServiceError::Config(format!(
                "--env-file {}: no such file",
                f.display()
            )));
        }
        args.push("--env-file".into());
        args.push(f.into());
    }
    let unit = unit_path();
    if systemd && unit.exists() && !force {
        return Err(ServiceError::AlreadyInstalled(unit));
    }
    let contents = systemd.then(|| unit_text(&exe, &args));
    manager
        .install(ServiceInstallCtx {
            label: label(),
            program: exe,
            args,
            contents,
            username: None,
            working_directory: None,
            environment: None,
            autostart: true,
            restart_policy: RestartPolicy::OnFailure {
                delay_secs: Some(5),
            },
        })
        .map_err(sys("can't install the service"))?;
    if !systemd {
        return Ok(format!("installed the {NAME} service (OpenRC)"));
    }
    if systemd_booted() {
        reload_systemd();
        return Ok(format!(
            "installed and enabled {}: start it with `supervisord service start`",
            unit.display()
        ));
    }
    Ok(format!(
        "installed and enabled {} (systemd is not running here: it starts at the next boot)",
        unit.display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_runs_this_binary_on_the_given_config_in_the_foreground() {
        let text = unit_text(
            Path::new("/usr/local/bin/supervisord"),
            &["-n".into(), "-c".into(), "/srv/my app/sd.conf".into()],
        );
        assert!(
            text.contains("\nExecStart=/usr/local/bin/supervisord -n -c \"/srv/my app/sd.conf\"\n"),
            "{text}"
        );
        assert!(text.contains("\nType=notify\n"), "{text}");
        assert!(
            text.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"),
            "{text}"
        );
        assert_eq!(text.matches("ExecStart=").count(), 1);
        assert_eq!(quote("100%"), "\"100%%\"");
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
