//! The child's environment, in Python supervisor's order: the daemon's own, the `SUPERVISOR_*`
//! variables, `[supervisord] environment`, `envFiles`, the program's `environment`. A key set
//! again keeps its first position (as a Python dict update does).

use std::ffi::OsString;

use std::path::PathBuf;

use shared::config::{Config, ProcessConfig};

use crate::process::spawn::{self, SpawnError, UserSpec};

/// Everything about a spawn that comes from the system rather than the config: the user, the
/// environment (env files are read now, so edits apply at the next start) and the executable
/// found on that environment's PATH. Computed once per start.
#[derive(Debug, Clone)]
pub(super) struct Prepared {
    pub(super) filename: PathBuf,
    pub(super) env: Vec<(OsString, OsString)>,
    pub(super) user: Option<UserSpec>,
}

/// Prepares a spawn of `p`. The errors are supervisor's spawnerr texts; NO_FILE and
/// NOT_EXECUTABLE are also what `startProcess` answers before anything changes.
pub(super) fn prepare(config: &Config, p: &ProcessConfig) -> Result<Prepared, SpawnError> {
    let Some(program) = p.argv.first() else {
        return Err(SpawnError::NotFound("command is empty".into()));
    };
    prepare_to_run(config, p, program)
}

/// Prepares a command of the daemon's for `p` (a hook, a check): `sh` with `p`'s user and
/// environment.
pub(super) fn prepare_shell(config: &Config, p: &ProcessConfig) -> Result<Prepared, SpawnError> {
    prepare_to_run(config, p, "sh")
}

fn prepare_to_run(
    config: &Config,
    p: &ProcessConfig,
    program: &str,
) -> Result<Prepared, SpawnError> {
    let user = match &p.user {
        Some(u) => Some(spawn::lookup_user(u).map_err(SpawnError::User)?),
        None => None,
    };
    let env = child_env(config, p, user.as_ref()).map_err(SpawnError::Environment)?;
    let filename = spawn::resolve_command(program, path_for(&env).as_deref())?;
    Ok(Prepared {
        filename,
        env,
        user,
    })
}

/// The executable `p` runs, as its next spawn would find it (for watching it).
pub(crate) fn executable(config: &Config, p: &ProcessConfig) -> Result<PathBuf, SpawnError> {
    prepare(config, p).map(|prepared| prepared.filename)
}

struct Env(Vec<(OsString, OsString)>);

impl Env {
    fn set(&mut self, k: impl Into<OsString>, v: impl Into<OsString>) {
        let (k, v) = (k.into(), v.into());
        match self.0.iter_mut().find(|(key, _)| *key == k) {
            Some(slot) => slot.1 = v,
            None => self.0.push((k, v)),
        }
    }
}

/// `SUPERVISOR_SERVER_URL`: the program's serverurl, else the first unix server, else the inet
/// server (`localhost` for an empty or `*` host); none when no server is configured.
fn server_url(config: &Config, p: &ProcessConfig) -> Option<String> {
    if let Some(u) = &p.serverurl {
        return Some(u.clone());
    }
    if let Some(u) = &config.unix_http_server {
        return Some(format!("unix://{}", u.file.display()));
    }
    config.inet_http_server.as_ref().map(|i| {
        let host = if i.host.is_empty() || i.host == "*" {
            "localhost"
        } else {
            &i.host
        };
        format!("http://{host}:{}", i.port_number)
    })
}

/// Builds the environment for `p`.
fn child_env(
    config: &Config,
    p: &ProcessConfig,
    user: Option<&UserSpec>,
) -> Result<Vec<(OsString, OsString)>, String> {
    // systemd's notify socket is the daemon's: a program that spoke on it would confuse
    // systemd about the service.
    let mut env = Env(std::env::vars_os()
        .filter(|(k, _)| k != crate::systemd::NOTIFY_SOCKET)
        .collect());
    env.set("SUPERVISOR_ENABLED", "1");
    if let Some(url) = server_url(config, p) {
        env.set("SUPERVISOR_SERVER_URL", url);
    }
    env.set("SUPERVISOR_PROCESS_NAME", &p.name);
    env.set("SUPERVISOR_GROUP_NAME", &p.group);

    let mut files: Vec<(String, String)> = Vec::new();
    for f in &p.env_files {
        let iter = dotenvy::from_path_iter(f)
            .map_err(|e| format!("couldn't read env file {}: {e}", f.display()))?;
        for item in iter {
            let (k, v) = item.map_err(|e| format!("bad line in env file {}: {e}", f.display()))?;
            files.push((k, v));
        }
    }
    let layers = [&config.supervisord.environment, &files, &p.environment];
    if let Some(u) = user {
        // Our choice over Python's: a program run as another user gets that user's identity,
        // unless its environment says otherwise.
        let set_by_config = |k: &str| layers.iter().any(|l| l.iter().any(|(key, _)| key == k));
        for (k, v) in [
            ("HOME", u.home.as_os_str().to_owned()),
            ("USER", OsString::from(&u.name)),
            ("LOGNAME", OsString::from(&u.name)),
        ] {
            if !set_by_config(k) {
                env.set(k, v);
            }
        }
    }
    for layer in layers {
        for (k, v) in layer.iter() {
            env.set(k, v);
        }
    }
    Ok(env.0)
}

/// The PATH used to find the command: the program's configured PATH, else the daemon's.
fn path_for(env: &[(OsString, OsString)]) -> Option<OsString> {
    env.iter()
        .find(|(k, _)| k == "PATH")
        .map(|(_, v)| v.clone())
}
