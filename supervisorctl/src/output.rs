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

pub(crate) use shared::names::namespec;

/// What one process's operation came to: `Ok`, or the fault.
pub(crate) type Outcome = Result<(), Fault>;

/// The outcome a group result reports (its status code and fault string).
pub(crate) fn outcome(status: i32, description: &str) -> Outcome {
    if status == Fault::Success.code() {
        return Ok(());
    }
    let detail = description
        .split_once(": ")
        .map_or(String::new(), |(_, d)| d.to_owned());
    Err(Fault::from_code(status, detail).unwrap_or_else(|| Fault::Failed(description.to_owned())))
}

/// The exit status an outcome implies (`set_exitstatus_from_xmlrpc_fault`); `ignored` is the
/// kind of fault that still exits 0.
pub(crate) fn exit_for(outcome: &Outcome, ignored: Option<fn(&Fault) -> bool>) -> Option<i32> {
    match outcome {
        Ok(()) => None,
        Err(f) if ignored.is_some_and(|ignore| ignore(f)) => None,
        Err(Fault::SpawnError(_) | Fault::AbnormalTermination(_) | Fault::NotRunning(_)) => {
            Some(NOT_RUNNING)
        }
        Err(_) => Some(GENERIC),
    }
}

/// `name: started` or `name: ERROR (…)` for a start result.
pub(crate) fn start_result(name: &str, outcome: &Outcome) -> String {
    let why = match outcome {
        Ok(()) => return format!("{name}: started"),
        Err(Fault::BadName(_)) => "no such process",
        Err(Fault::NoFile(_)) => "no such file",
        Err(Fault::NotExecutable(_)) => "file is not executable",
        Err(Fault::AlreadyStarted(_)) => "already started",
        Err(Fault::SpawnError(_)) => "spawn error",
        Err(Fault::AbnormalTermination(_)) => "abnormal termination",
        Err(f) => return format!("{name}: ERROR ({f})"),
    };
    format!("{name}: ERROR ({why})")
}

/// `name: <success>` or `name: ERROR (…)` for stop and signal results.
pub(crate) fn signal_result(name: &str, outcome: &Outcome, success: &str) -> String {
    let why = match outcome {
        Ok(()) => return format!("{name}: {success}"),
        Err(Fault::BadName(_)) => "no such process",
        Err(Fault::BadSignal(_)) => "bad signal name",
        Err(Fault::NotRunning(_)) => "not running",
        Err(f @ Fault::Failed(_)) => return f.to_string(),
        Err(f) => return format!("{name}: ERROR ({f})"),
    };
    format!("{name}: ERROR ({why})")
}

pub(crate) fn clear_result(name: &str, outcome: &Outcome) -> String {
    match outcome {
        Ok(()) => format!("{name}: cleared"),
        Err(Fault::BadName(_)) => format!("{name}: ERROR (no such process)"),
        Err(Fault::Failed(_)) => format!("{name}: ERROR (failed)"),
        Err(f) => format!("{name}: ERROR ({f})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_from_faults() {
        let started = |f: &Fault| matches!(f, Fault::AlreadyStarted(_));
        assert_eq!(exit_for(&outcome(80, "OK"), None), None);
        let already = outcome(60, "ALREADY_STARTED: web");
        assert_eq!(already, Err(Fault::AlreadyStarted("web".into())));
        assert_eq!(exit_for(&already, Some(started)), None);
        assert_eq!(
            exit_for(&outcome(50, "SPAWN_ERROR: web"), None),
            Some(NOT_RUNNING)
        );
        assert_eq!(exit_for(&outcome(10, "BAD_NAME: x"), None), Some(GENERIC));
        assert_eq!(outcome(999, "odd"), Err(Fault::Failed("odd".into())));
    }
}
