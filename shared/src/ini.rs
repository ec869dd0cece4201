//! The ini dialect supervisor reads: Python's `RawConfigParser` with `inline_comment_prefixes=(';','#')`
//! and `strict=False`. Only the syntax lives here (sections, keys, values, line numbers); what the
//! keys mean is `config::`'s business.
//!
//! The rules, mirrored from CPython's `configparser._read`:
//! - a line whose stripped text starts with `;` or `#` is a comment;
//! - an inline comment starts at a `;` or `#` that is at column 0 or preceded by whitespace;
//! - a line indented deeper than the line that opened the current key continues its value (lines
//!   joined with `\n`; blank lines inside are kept, trailing ones dropped, comment lines skipped);
//! - `key = value` or `key : value`, split at the first `=` or `:`; keys are lowercased and
//!   right-stripped; the last duplicate wins; a section that appears twice is merged;
//! - `[DEFAULT]` holds keys every section falls back to.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One `key = value` as read, with where it came from (for error messages).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub key: String,
    pub value: String,
    pub file: PathBuf,
    pub line: usize,
}

/// A section: its name as written (case kept, as Python keeps it) and its entries in first-seen order.
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub name: String,
    pub file: PathBuf,
    pub line: usize,
    entries: Vec<Entry>,
    index: HashMap<String, usize>,
    /// Where the same header appeared again (merged into this one).
    repeats: Vec<(PathBuf, usize)>,
}

impl Section {
    fn new(name: &str, file: &Path, line: usize) -> Self {
        Section {
            name: name.to_owned(),
            file: file.to_owned(),
            line,
            entries: Vec::new(),
            index: HashMap::new(),
            repeats: Vec::new(),
        }
    }

    /// Each place the header appeared again, in any file read into this parser.
    pub fn repeats(&self) -> &[(PathBuf, usize)] {
        &self.repeats
    }

    /// The entry for `key` in this section alone (no `[DEFAULT]` fallback).
    pub fn get(&self, key: &str) -> Option<&Entry> {
        self.index.get(key).map(|&i| &self.entries[i])
    }

    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    fn set(&mut self, entry: Entry) {
        // Python's dict keeps the first insertion position and the last value.
        match self.index.get(&entry.key) {
            Some(&i) => self.entries[i] = entry,
            None => {
                self.index.insert(entry.key.clone(), self.entries.len());
                self.entries.push(entry);
            }
        }
    }
}

/// A parsed file (or several merged files, as supervisor reads includes into the same parser).
#[derive(Debug, Clone, Default)]
pub struct Ini {
    sections: Vec<Section>,
    index: HashMap<String, usize>,
    pub defaults: Section,
}

/// A syntax error, with the file and line Python would report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IniError {
    #[error("{file}:{line}: file contains no section headers (line {text:?})", file = .file.display())]
    MissingSectionHeader {
        file: PathBuf,
        line: usize,
        text: String,
    },
    #[error("{file}:{line}: parsing error: not a section header, key = value, or comment: {text:?}{more}", file = .file.display(), more = if .lines.len() > 1 { format!(" (and lines {:?})", &.lines[1..]) } else { String::new() })]
    Parsing {
        file: PathBuf,
        line: usize,
        text: String,
        /// Every bad line (Python reports them all at once).
        lines: Vec<usize>,
    },
}

impl IniError {
    pub fn line(&self) -> usize {
        match self {
            IniError::MissingSectionHeader { line, .. } | IniError::Parsing { line, .. } => *line,
        }
    }
}

/// The key being read, so continuation lines know where to go.
struct Open {
    section: Option<usize>, // None: [DEFAULT]
    key: String,
    lines: Vec<String>,
    line: usize,
}

impl Ini {
    pub fn new() -> Self {
        Ini::default()
    }

    /// Sections in the order they first appeared.
    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn section(&self, name: &str) -> Option<&Section> {
        self.index.get(name).map(|&i| &self.sections[i])
    }

    /// `key` in `section`, falling back to `[DEFAULT]` as `RawConfigParser.get` does.
    pub fn get(&self, section: &str, key: &str) -> Option<&Entry> {
        self.section(section)?
            .get(key)
            .or_else(|| self.defaults.get(key))
    }

    /// `RawConfigParser.items(section)`: `[DEFAULT]` keys first, overridden in place by the
    /// section's own, then the section's other keys.
    pub fn items(&self, section: &str) -> Vec<(&str, &str)> {
        let Some(sec) = self.section(section) else {
            return Vec::new();
        };
        let mut out: Vec<(&str, &str)> = self
            .defaults
            .entries()
            .iter()
            .map(|e| {
                let v = sec.get(&e.key).unwrap_or(e);
                (e.key.as_str(), v.value.as_str())
            })
            .collect();
        for e in sec.entries() {
            if self.defaults.get(&e.key).is_none() {
                out.push((e.key.as_str(), e.value.as_str()));
            }
        }
        out
    }

    /// Reads one file's text into this parser (merging with what is already there).
    pub fn read_str(&mut self, text: &str, file: &Path) -> Result<(), IniError> {
        // Python's text-mode read turns \r\n and lone \r into \n; supervisor reads without a BOM
        // codec, so a BOM stays part of the first line (and then fails to be a section header).
        let text = text.replace("\r\n", "\n").replace('\r', "\n");
        if text.starts_with('\u{feff}') {
            // Python keeps the BOM as part of line 1, which then is no section header.
            return Err(IniError::MissingSectionHeader {
                file: file.to_owned(),
                line: 1,
                text: "the file starts with a UTF-8 byte-order mark (BOM); save it without one"
                    .into(),
            });
        }
        let mut cursect: Option<Option<usize>> = None; // Some(None): [DEFAULT]
        let mut open: Option<Open> = None;
        let mut indent_level = 0usize;
        let mut first_error: Option<IniError> = None;

        for (n, raw) in text.split_inclusive('\n').enumerate() {
            let lineno = n + 1;
            let line = raw.strip_suffix('\n').unwrap_or(raw);
            let comment_start = comment_start(line);
            let value = py_strip(&line[..comment_start.unwrap_or(line.len())]);
            if value.is_empty() {
                // empty_lines_in_values=True: a blank (not comment) line joins the open value.
                if comment_start.is_none()
                    && let Some(o) = open.as_mut()
                {
                    o.lines.push(String::new());
                }
                continue;
            }
            let cur_indent = line
                .char_indices()
                .find(|(_, c)| !py_isspace(*c))
                .map_or(0, |(i, _)| line[..i].chars().count());
            if cursect.is_some() && open.is_some() && cur_indent > indent_level {
                if let Some(o) = open.as_mut() {
                    o.lines.push(value.to_owned());
                }
                continue;
            }
            indent_level = cur_indent;
            if let Some(header) = section_header(value) {
                self.close(open.take(), file);
                if header == "DEFAULT" {
                    cursect = Some(None);
                } else {
                    let idx = match self.index.get(header) {
                        Some(&i) => {
                            self.sections[i].repeats.push((file.to_owned(), lineno));
                            i
                        }
                        None => {
                            self.index.insert(header.to_owned(), self.sections.len());
                            self.sections.push(Section::new(header, file, lineno));
                            self.sections.len() - 1
                        }
                    };
                    cursect = Some(Some(idx));
                }
                continue;
            }
            let Some(sect) = cursect else {
                return Err(IniError::MissingSectionHeader {
                    file: file.to_owned(),
                    line: lineno,
                    text: raw.trim_end().to_owned(),
                });
            };
            match split_option(value) {
                Some((key, val)) => {
                    self.close(open.take(), file);
                    open = Some(Open {
                        section: sect,
                        key: py_rstrip(key).to_lowercase(),
                        lines: vec![py_strip(val).to_owned()],
                        line: lineno,
                    });
                }
                None => {
                    // Python keeps reading and raises every bad line at the end.
                    match first_error.as_mut() {
                        Some(IniError::Parsing { lines, .. }) => lines.push(lineno),
                        _ => {
                            first_error = Some(IniError::Parsing {
                                file: file.to_owned(),
                                line: lineno,
                                text: raw.trim_end().to_owned(),
                                lines: vec![lineno],
                            });
                        }
                    }
                    // The failed line does not end the open value in Python either: optname stays.
                }
            }
        }
        self.close(open.take(), file);
        match first_error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    fn close(&mut self, open: Option<Open>, file: &Path) {
        let Some(o) = open else { return };
        let value = py_rstrip(&o.lines.join("\n")).to_owned();
        let entry = Entry {
            key: o.key,
            value,
            file: file.to_owned(),
            line: o.line,
        };
        match o.section {
            Some(i) => self.sections[i].set(entry),
            None => self.defaults.set(entry),
        }
    }
}

/// Where an inline or whole-line comment starts, computed exactly as CPython does: each round
/// finds the next `;` and the next `#`, and stops at the first round where one of them is at
/// column 0 or after whitespace (so `a;b ;c #d` keeps `a;b ;c`, as Python does).
fn comment_start(line: &str) -> Option<usize> {
    if let Some(c) = py_strip(line).chars().next()
        && (c == ';' || c == '#')
    {
        return Some(0);
    }
    let qualifies = |i: usize| i == 0 || line[..i].chars().next_back().is_some_and(py_isspace);
    let mut next: Vec<(char, Option<usize>)> = vec![(';', None), ('#', None)];
    loop {
        let mut found: Option<usize> = None;
        let mut still = Vec::new();
        for (prefix, from) in &next {
            let start = from.map_or(0, |i| i + prefix.len_utf8());
            let Some(rel) = line.get(start..).and_then(|s| s.find(*prefix)) else {
                continue;
            };
            let i = start + rel;
            still.push((*prefix, Some(i)));
            if qualifies(i) {
                found = Some(found.map_or(i, |f: usize| f.min(i)));
            }
        }
        if found.is_some() || still.is_empty() {
            return found;
        }
        next = still;
    }
}

/// `\[(?P<header>.+)\]` matched at the start of the stripped line (greedy, so `[a]]` is `a]`).
fn section_header(value: &str) -> Option<&str> {
    let rest = value.strip_prefix('[')?;
    let end = rest.rfind(']')?;
    let header = &rest[..end];
    // `.+` does not match newlines and needs at least one character.
    if header.is_empty() {
        return None;
    }
    Some(header)
}

/// `(?P<option>.*?)\s*(?P<vi>[=:])\s*(?P<value>.*)$`: split at the first `=` or `:`; the key
/// must not be empty.
fn split_option(value: &str) -> Option<(&str, &str)> {
    let pos = value.find(['=', ':'])?;
    let key = py_rstrip(&value[..pos]);
    if key.is_empty() {
        return None;
    }
    Some((key, &value[pos + 1..]))
}

/// Python's `str.isspace()`: Unicode whitespace plus the ASCII separators `\x1c`–`\x1f`.
fn py_isspace(c: char) -> bool {
    c.is_whitespace() || ('\x1c'..='\x1f').contains(&c)
}

/// Python's `str.strip()`.
pub fn py_strip(s: &str) -> &str {
    s.trim_matches(py_isspace)
}

fn py_rstrip(s: &str) -> &str {
    s.trim_end_matches(py_isspace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Ini {
        let mut ini = Ini::new();
        ini.read_str(text, Path::new("t.conf")).expect("parses");
        ini
    }

    fn val(ini: &Ini, s: &str, k: &str) -> String {
        ini.get(s, k).map(|e| e.value.clone()).unwrap_or_default()
    }

    #[test]
    fn inline_comments_need_whitespace_before() {
        let ini = parse("[a]\nx=sh -c 'a;b' ; note\ny = 1 #c\nz=a#b\n");
        assert_eq!(val(&ini, "a", "x"), "sh -c 'a;b'");
        assert_eq!(val(&ini, "a", "y"), "1");
        assert_eq!(val(&ini, "a", "z"), "a#b");
    }

    #[test]
    fn comment_search_stops_at_first_qualifying_round() {
        let ini = parse("[a]\nx=a;b ;c #d\n");
        assert_eq!(val(&ini, "a", "x"), "a;b ;c");
    }

    #[test]
    fn continuation_lines_and_blank_lines() {
        let ini = parse("[a]\nx = one\n  two\n\n ; comment\n  three\n\ny=2\n");
        assert_eq!(val(&ini, "a", "x"), "one\ntwo\n\nthree");
        assert_eq!(val(&ini, "a", "y"), "2");
    }

    #[test]
    fn keys_lowercased_last_wins_sections_merge() {
        let ini = parse("[a]\nKey : 1\nkey=2\n[b]\nq=1\n[a]\nz=3\n");
        assert_eq!(val(&ini, "a", "key"), "2");
        assert_eq!(val(&ini, "a", "z"), "3");
        assert_eq!(ini.sections().len(), 2);
        assert_eq!(ini.get("a", "key").map(|e| e.line), Some(3));
    }

    #[test]
    fn defaults_fall_back() {
        let ini = parse("[DEFAULT]\nd=1\n[a]\n");
        assert_eq!(val(&ini, "a", "d"), "1");
        assert!(ini.section("DEFAULT").is_none());
    }

    #[test]
    fn errors_name_the_line() {
        let mut ini = Ini::new();
        let e = ini
            .read_str("x=1\n", Path::new("f"))
            .expect_err("no header");
        assert_eq!(e.line(), 1);
        let e = ini
            .read_str("[a]\nok=1\nbogus line\n", Path::new("f"))
            .expect_err("bad line");
        assert_eq!(e.line(), 3);
    }

    #[test]
    fn separator_is_first_of_equals_or_colon() {
        let ini = parse("[a]\nurl = http://x:1\nk:v=w\n");
        assert_eq!(val(&ini, "a", "url"), "http://x:1");
        assert_eq!(val(&ini, "a", "k"), "v=w");
    }
}
