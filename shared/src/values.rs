//! Value syntax of supervisor's options (Python's `supervisor/datatypes.py`), one parser per
//! datatype. Each returns a message without location; `config::` adds file, line and key.

use std::path::{Path, PathBuf};

use crate::signals::Signal;

pub type ValueResult<T> = Result<T, String>;

const TRUTHY: [&str; 4] = ["true", "yes", "on", "1"];
const FALSY: [&str; 4] = ["false", "no", "off", "0"];

pub fn boolean(s: &str) -> ValueResult<bool> {
    let l = s.trim().to_lowercase();
    if TRUTHY.contains(&l.as_str()) {
        Ok(true)
    } else if FALSY.contains(&l.as_str()) {
        Ok(false)
    } else {
        Err(format!(
            "not a valid boolean value: {s:?} (expected true/false, yes/no, on/off or 1/0)"
        ))
    }
}

/// Python's `int()`: surrounding whitespace, a sign and `_` separators are allowed.
pub fn integer(s: &str) -> ValueResult<i64> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    let ok = !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit() || c == '_')
        && !digits.starts_with('_')
        && !digits.ends_with('_')
        && !digits.contains("__");
    let parsed = t.replace('_', "").parse::<i64>();
    match (ok, parsed) {
        (true, Ok(v)) => Ok(v),
        _ => Err(format!("expected an integer, got {s:?}")),
    }
}

/// An integer that must be zero or more (seconds, counts).
pub fn non_negative(s: &str) -> ValueResult<u64> {
    let v = integer(s)?;
    u64::try_from(v).map_err(|_| format!("expected an integer ≥ 0, got {s:?}"))
}

/// `50MB`, `1kb`, `10` (Python's `byte_size`), and the single-letter forms `1M`/`1K`/`1G` that Go
/// users write (Python rejects those; we accept them rather than silently ignore them).
pub fn byte_size(s: &str) -> ValueResult<u64> {
    let l = s.trim().to_lowercase();
    let units: [(&str, u64); 7] = [
        ("kb", 1 << 10),
        ("mb", 1 << 20),
        ("gb", 1 << 30),
        ("k", 1 << 10),
        ("m", 1 << 20),
        ("g", 1 << 30),
        ("b", 1),
    ];
    let (num, mult) = units
        .iter()
        .find_map(|(suffix, m)| l.strip_suffix(suffix).map(|n| (n, *m)))
        .unwrap_or((l.as_str(), 1));
    let bad = || format!("expected a byte size such as 1024, 64KB, 50MB or 1GB, got {s:?}");
    let n = u64::try_from(integer(num).map_err(|_| bad())?).map_err(|_| bad())?;
    n.checked_mul(mult).ok_or_else(bad)
}

pub fn octal(s: &str) -> ValueResult<u32> {
    let t = s.trim();
    let t = t
        .strip_prefix("0o")
        .or_else(|| t.strip_prefix("0O"))
        .unwrap_or(t);
    u32::from_str_radix(t, 8)
        .ok()
        .filter(|v| *v <= 0o7777)
        .ok_or_else(|| format!("{s:?} can not be converted to an octal type"))
}

/// Comma-separated exit codes in 0..=255 (`0, 2` keeps both; Go dropped the 2).
pub fn exitcodes(s: &str) -> ValueResult<Vec<i32>> {
    if s.trim().is_empty() {
        return Ok(Vec::new());
    }
    s.split(',')
        .map(|part| {
            let v = integer(part).map_err(|_| format!("invalid exit code {:?}", part.trim()))?;
            if (0..=255).contains(&v) {
                Ok(v as i32)
            } else {
                Err(format!("invalid exit code \"{v}\" (must be 0-255)"))
            }
        })
        .collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AutoRestart {
    Never,
    #[default]
    Unexpected,
    Always,
}

pub fn autorestart(s: &str) -> ValueResult<AutoRestart> {
    let l = s.trim().to_lowercase();
    if l == "unexpected" {
        return Ok(AutoRestart::Unexpected);
    }
    match boolean(&l) {
        Ok(true) => Ok(AutoRestart::Always),
        Ok(false) => Ok(AutoRestart::Never),
        Err(_) => Err(format!(
            "invalid 'autorestart' value {s:?} (expected true, false or unexpected)"
        )),
    }
}

/// A time span: seconds (`10`, `2.5`) or Go's duration syntax (`500ms`, `1m30s`).
pub fn duration(s: &str) -> ValueResult<std::time::Duration> {
    let t = s.trim();
    if let Ok(secs) = t.parse::<f64>() {
        return if (0.0..=1e9).contains(&secs) {
            Ok(std::time::Duration::from_secs_f64(secs))
        } else {
            Err(format!("expected a number of seconds ≥ 0, got {s:?}"))
        };
    }
    crate::cron::go_duration(t)
}

/// One signal (`TERM`, `SIGTERM`, `term`, `15`).
pub fn signal(s: &str) -> ValueResult<Signal> {
    Signal::parse(s)
}

/// The Go extension: `stopsignal=TERM INT` (space or comma separated), tried one after another.
pub fn signal_list(s: &str) -> ValueResult<Vec<Signal>> {
    let list: Vec<Signal> = s
        .split([' ', ',', '\t', '\n'])
        .filter(|p| !p.is_empty())
        .map(Signal::parse)
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err("expected a signal name or number".into());
    }
    Ok(list)
}

/// Syslog facilities by name (`log_` prefix and case ignored), as syslog(3) names them.
const SYSLOG_FACILITIES: &[&str] = &[
    "kern",
    "user",
    "mail",
    "daemon",
    "auth",
    "syslog",
    "lpr",
    "news",
    "uucp",
    "cron",
    "authpriv",
    "ftp",
    "ntp",
    "audit",
    "alert",
    "clock_daemon",
    "local0",
    "local1",
    "local2",
    "local3",
    "local4",
    "local5",
    "local6",
    "local7",
];

/// `syslog_facility` (the Go extension): the facility's canonical name (`local0`, `daemon`).
pub fn syslog_facility(s: &str) -> ValueResult<String> {
    let name = s.trim().to_lowercase();
    let name = name.strip_prefix("log_").unwrap_or(&name);
    SYSLOG_FACILITIES
        .iter()
        .find(|f| **f == name)
        .map(|f| (*f).to_owned())
        .ok_or_else(|| {
            format!(
                "unknown syslog facility; expected one of {}",
                SYSLOG_FACILITIES.join(", ")
            )
        })
}

/// `syslog_stdout_priority`/`syslog_stderr_priority`: the severity's canonical name (`err`,
/// `warning`), from it or a common alias (`error`, `warn`, `critical`, `emergency`, `panic`).
pub fn syslog_priority(s: &str) -> ValueResult<String> {
    let name = s.trim().to_lowercase();
    let name = name.strip_prefix("log_").unwrap_or(&name);
    let canonical = match name {
        "emerg" | "emergency" | "panic" => "emerg",
        "alert" => "alert",
        "crit" | "critical" => "crit",
        "err" | "error" => "err",
        "warning" | "warn" => "warning",
        "notice" => "notice",
        "info" => "info",
        "debug" => "debug",
        _ => {
            return Err(
                "unknown syslog priority; expected emerg, alert, crit, err, warning, notice, \
                 info or debug"
                    .into(),
            );
        }
    };
    Ok(canonical.to_owned())
}

/// Program, group and process names may not contain space, `:` or `/`.
pub fn process_or_group_name(s: &str) -> ValueResult<String> {
    let t = s.trim();
    for bad in [' ', ':', '/'] {
        if t.contains(bad) {
            return Err(format!("invalid name {s:?} because of character {bad:?}"));
        }
    }
    if t.is_empty() {
        return Err("a name may not be empty".into());
    }
    Ok(t.to_owned())
}

/// `~` expansion as Python's `os.path.expanduser` does it (for the current user only).
pub fn expand_user(s: &str) -> PathBuf {
    if (s == "~" || s.starts_with("~/"))
        && let Some(home) = std::env::var_os("HOME")
    {
        let mut p = PathBuf::from(home);
        if s.len() > 2 {
            p.push(&s[2..]);
        }
        return p;
    }
    PathBuf::from(s)
}

pub fn existing_directory(s: &str) -> ValueResult<PathBuf> {
    let p = expand_user(s.trim());
    if p.is_dir() {
        Ok(p)
    } else {
        Err(format!("{s} is not an existing directory"))
    }
}

/// A file path whose directory must exist (Python's `existing_dirpath`); a bare name is relative
/// to the daemon's working directory.
pub fn existing_dirpath(s: &str) -> ValueResult<PathBuf> {
    let p = expand_user(s.trim());
    match p.parent() {
        None => Ok(p),
        Some(d) if d.as_os_str().is_empty() || d.is_dir() => Ok(p),
        Some(_) => Err(format!(
            "the directory named as part of the path {s} does not exist"
        )),
    }
}

/// Python's `shlex.split` (POSIX mode, no comments): quotes, backslash escapes.
pub fn shell_split(s: &str) -> ValueResult<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() && " \t\r\n".contains(c) => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            '\\' => {
                in_word = true;
                match chars.next() {
                    Some(n) => cur.push(n),
                    None => return Err("no escaped character".into()),
                }
            }
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(n) => cur.push(n),
                        None => return Err("no closing quotation".into()),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.peek() {
                            Some(&n) if n == '"' || n == '\\' => {
                                cur.push(n);
                                chars.next();
                            }
                            _ => cur.push('\\'),
                        },
                        Some(n) => cur.push(n),
                        None => return Err("no closing quotation".into()),
                    }
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    Ok(out)
}

/// `environment=` and friends: Python's `dict_of_key_value_pairs`, a non-POSIX `shlex` over
/// `K=v,K2="v 2"` with `/.+-():` as word characters; quotes around values are stripped.
pub fn key_value_pairs(s: &str) -> ValueResult<Vec<(String, String)>> {
    let tokens = shlex_non_posix(s)?;
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let kv = &tokens[i..tokens.len().min(i + 3)];
        if kv.len() != 3 || kv[1] != "=" {
            return Err(format!(
                "unexpected end of key/value pairs in value {s:?} (expected KEY=value,KEY2=\"value 2\"; quote values holding other characters than letters, digits and _/.+-():)"
            ));
        }
        let key = kv[0].clone();
        let value = kv[2].trim_matches(['\'', '"']).to_owned();
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
        i += 4;
    }
    Ok(out)
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_' || "/.+-():".contains(c)
}

/// CPython's `shlex.shlex(s)` token stream in non-POSIX mode (quotes kept in tokens, `#` comments).
fn shlex_non_posix(s: &str) -> ValueResult<Vec<String>> {
    #[derive(PartialEq)]
    enum St {
        Space,
        Word,
        Quote(char),
    }
    let chars: Vec<char> = s.chars().collect();
    let mut tokens = Vec::new();
    let mut token = String::new();
    let mut st = St::Space;
    let mut i = 0;
    let skip_line = |i: &mut usize| {
        while *i < chars.len() && chars[*i] != '\n' {
            *i += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match st {
            St::Space => {
                if " \t\r\n".contains(c) {
                    continue;
                } else if c == '#' {
                    skip_line(&mut i);
                } else if is_word_char(c) {
                    token.push(c);
                    st = St::Word;
                } else if c == '\'' || c == '"' {
                    token.push(c);
                    st = St::Quote(c);
                } else {
                    tokens.push(c.to_string());
                }
            }
            St::Quote(q) => {
                token.push(c);
                if c == q {
                    tokens.push(std::mem::take(&mut token));
                    st = St::Space;
                }
            }
            St::Word => {
                if " \t\r\n".contains(c) {
                    tokens.push(std::mem::take(&mut token));
                    st = St::Space;
                } else if c == '#' {
                    skip_line(&mut i);
                } else if is_word_char(c) || c == '\'' || c == '"' {
                    token.push(c);
                } else {
                    tokens.push(std::mem::take(&mut token));
                    st = St::Space;
                    i -= 1; // push the character back
                }
            }
        }
    }
    match st {
        St::Quote(_) => return Err(format!("no closing quotation in {s:?}")),
        St::Word => tokens.push(token),
        St::Space => {}
    }
    Ok(tokens)
}

/// Resolves a relative path against `base` (used for paths relative to a config file).
pub fn relative_to(base: &Path, p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_owned()
    } else {
        base.join(p)
    }
}

/// `user` / `user:group` as a user option takes it: a uid, or a name the user database knows
/// (looked up now, so a typo is a config error rather than a spawn error).
pub fn user_spec(u: &str) -> ValueResult<()> {
    let name = u.split_once(':').map_or(u, |(n, _)| n);
    if name.parse::<u32>().is_ok() {
        return Ok(());
    }
    match nix::unistd::User::from_name(name) {
        Ok(Some(_)) => Ok(()),
        Ok(None) => Err(format!(
            "invalid user name {name} (no such user in /etc/passwd)"
        )),
        Err(e) => Err(format!("cannot look up user {name}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn syslog_names() {
        let cases = [
            ("local0", Ok("local0")),
            ("LOG_DAEMON", Ok("daemon")),
            (" user ", Ok("user")),
            ("local8", Err(())),
            ("", Err(())),
        ];
        for (input, want) in cases {
            let got = super::syslog_facility(input).map_err(|_| ());
            assert_eq!(got.as_deref(), want.as_deref(), "{input:?}");
        }
        let cases = [
            ("ERROR", Ok("err")),
            ("warn", Ok("warning")),
            ("LOG_NOTICE", Ok("notice")),
            ("panic", Ok("emerg")),
            ("loud", Err(())),
        ];
        for (input, want) in cases {
            let got = super::syslog_priority(input).map_err(|_| ());
            assert_eq!(got.as_deref(), want.as_deref(), "{input:?}");
        }
    }

    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(byte_size("50MB"), Ok(52_428_800));
        assert_eq!(byte_size("1kb"), Ok(1024));
        assert_eq!(byte_size("1M"), Ok(1 << 20));
        assert_eq!(byte_size("0"), Ok(0));
        assert!(byte_size("1.5MB").is_err());
        assert!(byte_size("-1").is_err());
    }

    #[test]
    fn exit_codes_keep_every_value() {
        assert_eq!(exitcodes("0, 2"), Ok(vec![0, 2]));
        assert!(exitcodes("256").is_err());
        assert!(exitcodes("a").is_err());
    }

    #[test]
    fn environment_pairs() {
        let v = key_value_pairs(r#"A="x y",B=/usr/bin:/bin,C='q',D=1"#).expect("parses");
        assert_eq!(
            v,
            vec![
                ("A".into(), "x y".into()),
                ("B".into(), "/usr/bin:/bin".into()),
                ("C".into(), "q".into()),
                ("D".into(), "1".into())
            ]
        );
        assert!(key_value_pairs("A=b@c").is_err());
        assert!(key_value_pairs("A=\"unterminated").is_err());
        assert_eq!(key_value_pairs(""), Ok(vec![]));
    }

    #[test]
    fn command_split() {
        assert_eq!(
            shell_split(r#"sh -c 'echo "a b"; exit 3' x\ y "q\"z""#),
            Ok(vec![
                "sh".to_string(),
                "-c".into(),
                "echo \"a b\"; exit 3".into(),
                "x y".into(),
                "q\"z".into()
            ])
        );
        assert!(shell_split("a 'b").is_err());
    }

    #[test]
    fn integers_like_python() {
        assert_eq!(integer(" 12 "), Ok(12));
        assert_eq!(integer("1_000"), Ok(1000));
        assert!(integer("ten").is_err());
        assert!(integer("1.0").is_err());
    }

    #[test]
    fn booleans_and_autorestart() {
        assert_eq!(boolean("Yes"), Ok(true));
        assert!(boolean("maybe").is_err());
        assert_eq!(autorestart("unexpected"), Ok(AutoRestart::Unexpected));
        assert_eq!(autorestart("on"), Ok(AutoRestart::Always));
    }

    #[test]
    fn octals() {
        assert_eq!(octal("022"), Ok(0o22));
        assert_eq!(octal("0o700"), Ok(0o700));
        assert!(octal("9").is_err());
    }
}
