//! Reading config files into an [`Ini`] and walking its sections with location-aware readers.

use std::path::{Path, PathBuf};

use crate::expand::{Expansions, expand};
use crate::ini::{Entry, Ini, Section};
use crate::values::ValueResult;

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
    };
    let supervisord = sections::supervisord(&mut r);
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
    };
    let ctl = sections::supervisorctl(&mut r);
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

/// supervisor replaces `%(here)s` textually with the directory of the file the value came from.
fn expand_here(value: &str, entry: &Entry) -> String {
    if !value.contains("%(here)s") {
        return value.to_owned();
    }
    let dir = entry
        .file
        .parent()
        .map_or_else(String::new, |d| d.to_string_lossy().into_owned());
    value.replace("%(here)s", &dir)
}

impl Expansions {
    pub(super) fn with_here(&self, dir: &Path) -> Expansions {
        let mut e = self.clone();
        e.set_str("here", dir.to_string_lossy());
        e
    }
}

/// Shared state of one load: the parsed files and the diagnostics found so far.
pub(super) struct Reader<'a> {
    pub(super) ini: &'a Ini,
    pub(super) main_dir: PathBuf,
    pub(super) cwd: PathBuf,
    pub(super) host_node_name: String,
    /// `ENV_*` from the daemon's environment.
    pub(super) base: Expansions,
    pub(super) errors: Vec<Diagnostic>,
    pub(super) warnings: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    /// A reader over `name`; `fallback` is consulted for keys the section lacks
    /// (`[program-default]`).
    pub(super) fn section(
        &mut self,
        name: &str,
        fallback: Option<&'a Section>,
        exp: Expansions,
    ) -> Option<Sect<'_, 'a>> {
        let section = self.ini.section(name)?;
        let exp = exp.with_here(&self.main_dir);
        Some(Sect {
            r: self,
            section,
            fallback,
            exp,
        })
    }

    pub(super) fn error_at(&mut self, section: &Section, message: impl Into<String>) {
        self.errors.push(Diagnostic {
            line: Some(section.line),
            section: Some(section.name.clone()),
            ..Diagnostic::file(&section.file, message)
        });
    }
}

/// Reads keys of one section: falls back to `[program-default]` and `[DEFAULT]`, expands
/// `%(…)s`, parses, and records errors with their location.
pub(super) struct Sect<'r, 'a> {
    pub(super) r: &'r mut Reader<'a>,
    pub(super) section: &'a Section,
    fallback: Option<&'a Section>,
    pub(super) exp: Expansions,
}

impl<'a> Sect<'_, 'a> {
    pub(super) fn name(&self) -> &str {
        &self.section.name
    }

    pub(super) fn entry(&self, key: &str) -> Option<&'a Entry> {
        self.section
            .get(key)
            .or_else(|| self.fallback.and_then(|f| f.get(key)))
            .or_else(|| self.r.ini.defaults.get(key))
    }

    pub(super) fn has(&self, key: &str) -> bool {
        self.entry(key).is_some()
    }

    /// The raw text of `key`, unexpanded.
    pub(super) fn raw(&self, key: &str) -> Option<String> {
        self.entry(key).map(|e| e.value.clone())
    }

    fn expanded(&mut self, key: &str, entry: Option<&Entry>, value: &str) -> Option<String> {
        let here_done = match entry {
            Some(e) => expand_here(value, e),
            None => value.to_owned(),
        };
        match expand(&here_done, &self.exp) {
            Ok(v) => Some(v),
            Err(m) => {
                self.error(key, Some(value), m);
                None
            }
        }
    }

    /// `key` expanded, or `default` (also expanded, as Python does) when absent.
    pub(super) fn string(&mut self, key: &str, default: Option<&str>) -> Option<String> {
        match self.entry(key) {
            Some(e) => self.expanded(key, Some(e), &e.value),
            None => default.and_then(|d| self.expanded(key, None, d)),
        }
    }

    /// `key` parsed with `parse`; on error the error is recorded and `T::default()` returned.
    pub(super) fn value<T: Default>(
        &mut self,
        key: &str,
        default: &str,
        parse: impl Fn(&str) -> ValueResult<T>,
    ) -> T {
        let Some(s) = self.string(key, Some(default)) else {
            return T::default();
        };
        match parse(&s) {
            Ok(v) => v,
            Err(m) => {
                let raw = self.raw(key).unwrap_or(s);
                self.error(key, Some(&raw), m);
                T::default()
            }
        }
    }

    /// Like [`Sect::value`] for options without a default.
    pub(super) fn optional<T>(
        &mut self,
        key: &str,
        parse: impl Fn(&str) -> ValueResult<T>,
    ) -> Option<T> {
        let s = self.string(key, None)?;
        match parse(&s) {
            Ok(v) => Some(v),
            Err(m) => {
                let raw = self.raw(key).unwrap_or(s);
                self.error(key, Some(&raw), m);
                None
            }
        }
    }

    /// A string option that is absent when empty.
    pub(super) fn non_empty(&mut self, key: &str) -> Option<String> {
        self.string(key, None).filter(|s| !s.trim().is_empty())
    }

    pub(super) fn error(&mut self, key: &str, value: Option<&str>, message: impl Into<String>) {
        let d = self.diagnostic(key, value, message.into());
        self.r.errors.push(d);
    }

    pub(super) fn warn(&mut self, key: Option<&str>, message: impl Into<String>) {
        let mut d = self.diagnostic(key.unwrap_or(""), None, message.into());
        if key.is_none() {
            d.key = None;
        }
        self.r.warnings.push(d);
    }

    fn diagnostic(&self, key: &str, value: Option<&str>, message: String) -> Diagnostic {
        let (file, line) = match self.entry(key) {
            Some(e) => (e.file.clone(), e.line),
            None => (self.section.file.clone(), self.section.line),
        };
        Diagnostic {
            file,
            line: Some(line),
            section: Some(self.section.name.clone()),
            key: Some(key.to_owned()),
            value: value.map(str::to_owned),
            message,
        }
    }

    /// Warns about every key of this section that is not in `known` (typos must be visible).
    pub(super) fn warn_unknown_keys(&mut self, known: &[&str]) {
        let unknown: Vec<&Entry> = self
            .section
            .entries()
            .iter()
            .filter(|e| !known.contains(&e.key.as_str()))
            .collect();
        for e in unknown {
            let hint = known
                .iter()
                .find(|k| similar(k, &e.key))
                .map(|k| format!(" (did you mean {k}?)"))
                .unwrap_or_default();
            self.r.warnings.push(Diagnostic {
                file: e.file.clone(),
                line: Some(e.line),
                section: Some(self.section.name.clone()),
                key: Some(e.key.clone()),
                value: None,
                message: format!("unknown option, ignored{hint}"),
            });
        }
    }
}

/// A cheap typo detector: same length ±1 and at most two differing characters.
fn similar(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > 1 || a.len() < 4 {
        return false;
    }
    // Levenshtein distance ≤ 2, computed in full: the strings are short.
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()] <= 2
}
