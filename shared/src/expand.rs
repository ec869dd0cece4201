//! supervisor's `%(name)s` expansions: Python's `str % dict`, limited to what config values use
//! (`%%`, `%(name)s`, `%(name)d`, `%(name)02d`, …). An unknown name is an error that lists the
//! names available in that place.

use std::collections::BTreeMap;

/// A value available for expansion: strings (`here`, `ENV_X`) or integers (`process_num`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpValue {
    Str(String),
    Int(i64),
}

/// The names usable at one place of the config.
#[derive(Debug, Clone, Default)]
pub struct Expansions(BTreeMap<String, ExpValue>);

impl Expansions {
    pub fn new() -> Self {
        Expansions::default()
    }

    pub fn set_str(&mut self, k: &str, v: impl Into<String>) {
        self.0.insert(k.to_owned(), ExpValue::Str(v.into()));
    }

    pub fn set_int(&mut self, k: &str, v: i64) {
        self.0.insert(k.to_owned(), ExpValue::Int(v));
    }

    /// Adds `ENV_<NAME>` for each variable.
    pub fn add_env<'a>(&mut self, vars: impl IntoIterator<Item = (&'a str, &'a str)>) {
        for (k, v) in vars {
            self.set_str(&format!("ENV_{k}"), v);
        }
    }

    /// The names for an error message: every non-environment name, and `ENV_*` summarised
    /// (the environment can hold hundreds of variables).
    fn names(&self) -> String {
        let mut v: Vec<&str> = self
            .0
            .keys()
            .filter(|k| !k.starts_with("ENV_"))
            .map(String::as_str)
            .collect();
        v.push("ENV_<name of any environment variable>");
        v.join(", ")
    }
}

/// Expands `s`. The error says which name is unknown and lists the available ones.
pub fn expand(s: &str, exp: &Expansions) -> Result<String, String> {
    if !s.contains('%') {
        return Ok(s.to_owned());
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(r) = rest.strip_prefix('%') {
            out.push('%');
            rest = r;
            continue;
        }
        let Some(r) = rest.strip_prefix('(') else {
            return Err(format!(
                "badly formatted: a '%' must be written '%%' or start '%(name)s' (in {s:?})"
            ));
        };
        let Some(close) = r.find(')') else {
            return Err(format!("badly formatted: incomplete format key (in {s:?})"));
        };
        let name = &r[..close];
        rest = &r[close + 1..];
        // [flags][width][.precision]conversion
        let spec_len = rest
            .find(|c: char| !(c.is_ascii_digit() || "-+ #.".contains(c)))
            .ok_or_else(|| format!("badly formatted: incomplete format (in {s:?})"))?;
        let spec = &rest[..spec_len];
        let conv = rest[spec_len..]
            .chars()
            .next()
            .ok_or_else(|| format!("badly formatted: incomplete format (in {s:?})"))?;
        rest = &rest[spec_len + conv.len_utf8()..];
        let value = exp.0.get(name).ok_or_else(|| match name.strip_prefix("ENV_") {
            Some(var) => format!(
                "contains name {name:?} which cannot be expanded: environment variable {var} is not set (in supervisord's environment, [supervisord] environment= or the program's environment=)"
            ),
            None => format!(
                "contains name {name:?} which cannot be expanded; available names: {}",
                exp.names()
            ),
        })?;
        out.push_str(&format_one(value, spec, conv).map_err(|e| format!("{e} (in {s:?})"))?);
    }
    out.push_str(rest);
    Ok(out)
}

/// The widest `%(x)NNd` expansion taken (names are rarely wider than a few characters).
const MAX_WIDTH: usize = 4096;

fn format_one(value: &ExpValue, spec: &str, conv: char) -> Result<String, String> {
    let left = spec.contains('-');
    let zero = spec.starts_with('0') || spec.contains("+0") || spec.contains(" 0");
    let plus = spec.contains('+');
    let digits = spec
        .trim_start_matches(['-', '+', ' ', '#', '0'])
        .split('.')
        .next()
        .unwrap_or("");
    // Python would try to build the string (and fail with MemoryError past what fits): a
    // width no name needs is refused before anything is allocated.
    let width: usize = match digits.parse() {
        Ok(w) if w <= MAX_WIDTH => w,
        Err(_) if digits.is_empty() => 0,
        _ => {
            return Err(format!(
                "format width {digits} is too large (at most {MAX_WIDTH})"
            ));
        }
    };
    let body = match (conv, value) {
        ('s', ExpValue::Str(v)) => v.clone(),
        ('s', ExpValue::Int(v)) => v.to_string(),
        ('r', ExpValue::Str(v)) => format!("'{v}'"),
        ('r', ExpValue::Int(v)) => v.to_string(),
        ('d' | 'i' | 'u', ExpValue::Int(v)) => {
            let digits = v.unsigned_abs().to_string();
            let sign = if *v < 0 {
                "-"
            } else if plus {
                "+"
            } else {
                ""
            };
            if zero && !left && width > sign.len() + digits.len() {
                let pad = "0".repeat(width - sign.len() - digits.len());
                return Ok(format!("{sign}{pad}{digits}"));
            }
            format!("{sign}{digits}")
        }
        ('x', ExpValue::Int(v)) => format!("{v:x}"),
        ('X', ExpValue::Int(v)) => format!("{v:X}"),
        ('o', ExpValue::Int(v)) => format!("{v:o}"),
        ('d' | 'i' | 'u' | 'x' | 'X' | 'o', ExpValue::Str(_)) => {
            return Err(format!(
                "badly formatted: %{conv} format: a real number is required, not str"
            ));
        }
        (c, _) => {
            return Err(format!(
                "badly formatted: unsupported format character {c:?}"
            ));
        }
    };
    let len = body.chars().count();
    if len >= width {
        Ok(body)
    } else if left {
        Ok(format!("{body}{}", " ".repeat(width - len)))
    } else {
        Ok(format!("{}{body}", " ".repeat(width - len)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp() -> Expansions {
        let mut e = Expansions::new();
        e.set_str("program_name", "web");
        e.set_int("process_num", 3);
        e.set_str("here", "/etc");
        e
    }

    #[test]
    fn python_formatting() {
        let e = exp();
        assert_eq!(
            expand("%(program_name)s_%(process_num)02d", &e),
            Ok("web_03".into())
        );
        assert_eq!(expand("%(process_num)d%%", &e), Ok("3%".into()));
        assert_eq!(expand("%(process_num)3d|", &e), Ok("  3|".into()));
        assert_eq!(expand("%(here)s/x", &e), Ok("/etc/x".into()));
    }

    #[test]
    fn unknown_names_list_available() {
        let err = expand("%(nope)s", &exp()).expect_err("unknown");
        assert!(err.contains("\"nope\""), "{err}");
        assert!(
            err.contains("here, process_num, program_name, ENV_"),
            "{err}"
        );
        let err = expand("%(ENV_NOPE_X)s", &exp()).expect_err("unset variable");
        assert!(
            err.contains("environment variable NOPE_X is not set"),
            "{err}"
        );
        assert!(expand("50%", &exp()).is_err());
        assert!(expand("%(program_name)d", &exp()).is_err());
    }

    #[test]
    fn a_huge_width_is_refused_not_allocated() {
        // Found by the config fuzzer (an allocation of 3.8 EB).
        let err = expand("%(process_num)000003853698980976496147d", &exp()).expect_err("width");
        assert!(
            err.contains("format width 3853698980976496147 is too large"),
            "{err}"
        );
        let err = expand("%(here)99999999999999999999999s", &exp()).expect_err("width");
        assert!(err.contains("is too large (at most 4096)"), "{err}");
        assert_eq!(
            expand("%(process_num)04096d", &exp()).map(|s| s.len()),
            Ok(4096)
        );
    }
}
