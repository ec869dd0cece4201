//! Loading a config: reading the files (with `[include]`) into an [`Ini`], then every section
//! parser in turn, then the checks across sections.

use std::path::{Path, PathBuf};

use crate::expand::{Expansions, expand};
use crate::ini::Ini;

use super::reader::{Reader, expand_here};
use super::{Config, ConfigErrors, Diagnostic, program, sections, validate};

/// What the loader needs from the outside world (so tests can pin it).
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// The daemon's environment: `%(ENV_X)s` names.
    pub environ: Vec<(String, String)>,
    /// `%(host_node_name)s`.
    pub host_node_name: String,
    /// The directory relative paths are resolved against (the daemon's cwd).
    pub cwd: PathBuf,
    /// supervisord's command-line values, applied over `[supervisord]` at every load.
    pub overrides: super::Overrides,
}

impl LoadOptions {
    /// The current process's view: its environment, hostname and cwd.
    pub fn from_process() -> Self {
        LoadOptions {
            environ: std::env::vars().collect(),
            host_node_name: nix::unistd::gethostname()
                .ok()
                .and_then(|h| h.into_string().ok())
                .unwrap_or_default(),
            cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from("/")),
            overrides: super::Overrides::default(),
        }
    }
}

/// Loads `path` and everything it includes, then validates the whole.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Config, ConfigErrors> {
    let path = absolute(path, &opts.cwd);
    let text = read_text(&path)?;
    load_str(&text, &path, opts)
}

/// Loads config text as if it were the file `path` (includes are still read from disk).
pub fn load_str(text: &str, path: &Path, opts: &LoadOptions) -> Result<Config, ConfigErrors> {
    let path = absolute(path, &opts.cwd);
    let main_dir = path
        .parent()
        .map_or_else(|| PathBuf::from("/"), Path::to_owned);
    let mut ini = Ini::new();
    let syntax = |e: crate::ini::IniError| {
        ConfigErrors(vec![Diagnostic {
            line: Some(e.line()),
            ..Diagnostic::file(
                match &e {
                    crate::ini::IniError::MissingSectionHeader { file, .. }
                    | crate::ini::IniError::Parsing { file, .. } => file.clone(),
                },
                e.to_string()
                    .split_once(": ")
                    .map_or(e.to_string(), |(_, m)| m.to_owned()),
            )
        }])
    };
    ini.read_str(text, &path).map_err(syntax)?;
    let mut files = vec![path.clone()];
    let mut infos = Vec::new();
    let mut warnings = Vec::new();

    let mut base = Expansions::new();
    base.add_env(opts.environ.iter().map(|(k, v)| (k.as_str(), v.as_str())));

    if let Some(inc) = ini.section("include").cloned() {
        let Some(entry) = inc.get("files") else {
            return Err(ConfigErrors(vec![Diagnostic {
                line: Some(inc.line),
                section: Some("include".into()),
                ..Diagnostic::file(
                    &inc.file,
                    "[include] section has no files= setting (space-separated globs)",
                )
            }]));
        };
        let mut exp = base.clone();
        exp.set_str("host_node_name", &opts.host_node_name);
        let value = expand_here(&entry.value, entry);
        let patterns = expand(&value, &exp.with_here(&main_dir)).map_err(|m| {
            ConfigErrors(vec![Diagnostic {
                line: Some(entry.line),
                section: Some("include".into()),
                key: Some("files".into()),
                value: Some(entry.value.clone()),
                ..Diagnostic::file(&entry.file, m)
            }])
        })?;
        for pattern in patterns.split_whitespace() {
            let full = main_dir.join(pattern);
            let full_s = full.to_string_lossy();
            let glob_opts = glob::MatchOptions {
                require_literal_leading_dot: true,
                ..glob::MatchOptions::new()
            };
            let mut matched: Vec<PathBuf> = match glob::glob_with(&full_s, glob_opts) {
                Ok(paths) => paths.filter_map(Result::ok).collect(),
                Err(e) => {
                    return Err(ConfigErrors(vec![Diagnostic {
                        line: Some(entry.line),
                        section: Some("include".into()),
                        key: Some("files".into()),
                        value: Some(pattern.to_owned()),
                        ..Diagnostic::file(&entry.file, format!("bad glob pattern: {e}"))
                    }]));
                }
            };
            matched.retain(|p| p.is_file());
            matched.sort();
            if matched.is_empty() {
                warnings.push(Diagnostic {
                    line: Some(entry.line),
                    section: Some("include".into()),
                    key: Some("files".into()),
                    ..Diagnostic::file(
                        &entry.file,
                        format!("no file matches via include \"{full_s}\""),
                    )
                });
                continue;
            }
            for file in matched {
                infos.push(format!(
                    "Included extra file \"{}\" during parsing",
                    file.display()
                ));
                let text = read_text(&file)?;
                ini.read_str(&text, &file).map_err(syntax)?;
                files.push(file);
            }
        }
    }

    let mut r = Reader {
        ini: &ini,
        main_dir,
        cwd: opts.cwd.clone(),
        host_node_name: opts.host_node_name.clone(),
        base,
        errors: Vec::new(),
        warnings,
        repeats: Default::default(),
    };
    let mut supervisord = sections::supervisord(&mut r);
    opts.overrides.apply(&mut supervisord);
    let unix_http_server = sections::unix_http_server(&mut r);
    let inet_http_server = sections::inet_http_server(&mut r);
    let supervisorctl = sections::supervisorctl(&mut r);
    let rpcinterfaces = sections::check_other_sections(&mut r);
    let groups = program::groups(&mut r, &supervisord);
    let mut config = Config {
        file: path,
        files,
        supervisord,
        unix_http_server,
        inet_http_server,
        supervisorctl,
        groups,
        rpcinterfaces,
        warnings: Vec::new(),
        infos,
    };
    validate::validate(&mut r, &mut config);
    r.count_repeats();
    if !r.errors.is_empty() {
        return Err(ConfigErrors(r.errors));
    }
    config.warnings = r.warnings;
    Ok(config)
}

/// Only the `[supervisorctl]` section of a config file, as the client needs it: the rest of the
/// file (programs, paths of the daemon's machine) is not validated.
pub fn load_ctl(path: &Path, opts: &LoadOptions) -> Result<super::CtlConfig, ConfigErrors> {
    let path = absolute(path, &opts.cwd);
    let text = read_text(&path)?;
    let mut ini = Ini::new();
    ini.read_str(&text, &path).map_err(|e| {
        ConfigErrors(vec![Diagnostic {
            line: Some(e.line()),
            ..Diagnostic::file(&path, e.to_string())
        }])
    })?;
    let mut base = Expansions::new();
    base.add_env(opts.environ.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let mut r = Reader {
        ini: &ini,
        main_dir: path
            .parent()
            .map_or_else(|| PathBuf::from("/"), Path::to_owned),
        cwd: opts.cwd.clone(),
        host_node_name: opts.host_node_name.clone(),
        base,
        errors: Vec::new(),
        warnings: Vec::new(),
        repeats: Default::default(),
    };
    let ctl = sections::supervisorctl(&mut r);
    r.count_repeats();
    if r.errors.is_empty() {
        Ok(ctl)
    } else {
        Err(ConfigErrors(r.errors))
    }
}

/// Reads a config file, which must be UTF-8 (as Python reads it in a UTF-8 locale).
fn read_text(path: &Path) -> Result<String, ConfigErrors> {
    let bytes = std::fs::read(path)
        .map_err(|e| ConfigErrors(vec![Diagnostic::file(path, format!("cannot read: {e}"))]))?;
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
        ConfigErrors(vec![Diagnostic {
            line: Some(line),
            ..Diagnostic::file(path, "the file is not valid UTF-8")
        }])
    })
}

fn absolute(p: &Path, cwd: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        cwd.join(p)
    }
}
