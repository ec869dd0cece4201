//! Python supervisorctl's output formats and exit codes.

use shared::Fault;

/// LSB init-script exit codes (what every action but `status` uses).
pub(crate) const GENERIC: i32 = 1;
pub(crate) const INVALID_ARGS: i32 = 2;
pub(crate) const UNIMPLEMENTED: i32 = 3;
pub(crate) const INSUFFICIENT_PRIVILEGES: i32 = 4;
pub(crate) const NOT_RUNNING: i32 = 7;
/// LSB status exit codes (`status` only).
pub(crate) const STATUS_NOT_RUNNING: i32 = 3;
pub(crate) const STATUS_UNKNOWN: i32 = 4;

/// `name` when the process is alone in its group of the same name, else `group:name`.
pub(crate) fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_owned()
    } else {
        format!("{group}:{name}")
    }
}

/// `group:name` → (group, Some(name)); `group:` or `group:*` → (group, None); `name` → (name,
/// Some(name)).
pub(crate) fn split_namespec(s: &str) -> (String, Option<String>) {
    match s.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => (g.to_owned(), None),
        Some((g, p)) => (g.to_owned(), Some(p.to_owned())),
        None => (s.to_owned(), Some(s.to_owned())),
    }
}

/// The exit status a fault code implies (`set_exitstatus_from_xmlrpc_fault`).
pub(crate) fn exit_for(code: i32, ignored: Option<i32>) -> Option<i32> {
    if Some(code) == ignored || code == Fault::Success.code() {
        None
    } else if [50, 40, 70].contains(&code) {
        Some(NOT_RUNNING)
    } else {
        Some(GENERIC)
    }
}

/// `name: started` or `name: ERROR (…)` for a start result.
pub(crate) fn start_result(name: &str, code: i32, description: &str) -> String {
    let why = match code {
        10 => "no such process",
        20 => "no such file",
        21 => "file is not executable",
        60 => "already started",
        50 => "spawn error",
        40 => "abnormal termination",
        80 => return format!("{name}: started"),
        _ => return format!("{name}: ERROR ({description})"),
    };
    format!("{name}: ERROR ({why})")
}

/// `name: <success>` or `name: ERROR (…)` for stop and signal results.
pub(crate) fn signal_result(name: &str, code: i32, description: &str, success: &str) -> String {
    let why = match code {
        10 => "no such process",
        11 => "bad signal name",
        70 => "not running",
        80 => return format!("{name}: {success}"),
        30 => return description.to_owned(),
        _ => return format!("{name}: ERROR ({description})"),
    };
    format!("{name}: ERROR ({why})")
}

pub(crate) fn clear_result(name: &str, code: i32, description: &str) -> String {
    match code {
        10 => format!("{name}: ERROR (no such process)"),
        30 => format!("{name}: ERROR (failed)"),
        80 => format!("{name}: cleared"),
        _ => format!("{name}: ERROR ({description})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespecs() {
        assert_eq!(namespec("a", "a"), "a");
        assert_eq!(namespec("g", "a"), "g:a");
        assert_eq!(split_namespec("g:*"), ("g".into(), None));
        assert_eq!(split_namespec("g:"), ("g".into(), None));
        assert_eq!(split_namespec("g:a"), ("g".into(), Some("a".into())));
        assert_eq!(split_namespec("a"), ("a".into(), Some("a".into())));
    }

    #[test]
    fn exit_codes_from_faults() {
        assert_eq!(exit_for(80, None), None);
        assert_eq!(exit_for(60, Some(60)), None);
        assert_eq!(exit_for(50, None), Some(NOT_RUNNING));
        assert_eq!(exit_for(10, None), Some(GENERIC));
    }
}
