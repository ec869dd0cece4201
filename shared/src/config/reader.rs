//! The reading toolkit every section parser uses: a [`Reader`] over the parsed files that
//! collects located diagnostics, and [`Sect`], which reads one section's keys with supervisor's
//! fallbacks (`[program-default]`, `[DEFAULT]`), `%(…)s` expansions and value parsers.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::expand::{Expansions, expand};
use crate::ini::{Entry, Ini, Section};
use crate::values::ValueResult;

use super::Diagnostic;

/// supervisor replaces `%(here)s` textually with the directory of the file the value came from.
pub(super) fn expand_here(value: &str, entry: &Entry) -> String {
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
    /// A section's diagnostics already reported (an error of `user=` repeats for every process
    /// of `numprocs`): (is an error, index, how many times).
    pub(super) repeats: HashMap<Diagnostic, (bool, usize, usize)>,
}

impl<'a> Reader<'a> {
    /// Reports `d` once: the same diagnostic again only counts.
    fn report(&mut self, d: Diagnostic, error: bool) {
        if let Some(seen) = self.repeats.get_mut(&d) {
            seen.2 += 1;
            return;
        }
        let list = if error {
            &mut self.errors
        } else {
            &mut self.warnings
        };
        self.repeats.insert(d.clone(), (error, list.len(), 1));
        list.push(d);
    }

    /// Says how often each repeated diagnostic came (once per process of a section).
    pub(super) fn count_repeats(&mut self) {
        for (_, (error, i, n)) in self.repeats.drain() {
            let list = if error {
                &mut self.errors
            } else {
                &mut self.warnings
            };
            if n > 1
                && let Some(d) = list.get_mut(i)
            {
                d.message
                    .push_str(&format!(" ({n} times: once per process of the section)"));
            }
        }
    }

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
        self.r.report(d, true);
    }

    pub(super) fn warn(&mut self, key: Option<&str>, message: impl Into<String>) {
        let mut d = self.diagnostic(key.unwrap_or(""), None, message.into());
        if key.is_none() {
            d.key = None;
        }
        self.r.report(d, false);
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

/// Expansions for program-type sections before per-process names are added.
pub(super) fn program_base(r: &Reader<'_>) -> Expansions {
    let mut exp = r.base.clone();
    exp.set_str("host_node_name", &r.host_node_name);
    exp
}
