//! supervisor's XML-RPC methods, dispatched with supervisor's rules and answered by the
//! [`Service`].

use shared::Fault;
use shared::names::Selection;

use super::value::Value;
use crate::logging::Channel;
use crate::service::{ConfigView, LogSource, ProcessResult, ProcessView, Service};

/// Every method `system.listMethods` reports (sorted), with its signature (return type first).
const METHODS: &[(&str, &[&str], &str)] = &[
    (
        "supervisor.addProcessGroup",
        &["boolean", "string"],
        "Update the config for a running process from config file.",
    ),
    (
        "supervisor.clearAllProcessLogs",
        &["array"],
        "Clear all process log files",
    ),
    ("supervisor.clearLog", &["boolean"], "Clear the main log."),
    (
        "supervisor.clearProcessLog",
        &["boolean", "string"],
        "Clear the stdout and stderr logs for the named process and reopen them.",
    ),
    (
        "supervisor.clearProcessLogs",
        &["boolean", "string"],
        "Clear the stdout and stderr logs for the named process and reopen them.",
    ),
    (
        "supervisor.getAPIVersion",
        &["string"],
        "Return the version of the RPC API used by supervisord",
    ),
    (
        "supervisor.getAllConfigInfo",
        &["array"],
        "Get info about all available process configurations.",
    ),
    (
        "supervisor.getAllProcessInfo",
        &["array"],
        "Get info about all processes",
    ),
    (
        "supervisor.getIdentification",
        &["string"],
        "Return identifying string of supervisord",
    ),
    (
        "supervisor.getPID",
        &["int"],
        "Return the PID of supervisord",
    ),
    (
        "supervisor.getProcessInfo",
        &["struct", "string"],
        "Get info about a process named name",
    ),
    (
        "supervisor.getState",
        &["struct"],
        "Return current state of supervisord as a struct",
    ),
    (
        "supervisor.getSupervisorVersion",
        &["string"],
        "Return the version of the supervisor package in use by supervisord",
    ),
    (
        "supervisor.getVersion",
        &["string"],
        "Return the version of the RPC API used by supervisord",
    ),
    (
        "supervisor.readLog",
        &["string", "int", "int"],
        "Read length bytes from the main log starting at offset",
    ),
    (
        "supervisor.readMainLog",
        &["string", "int", "int"],
        "Read length bytes from the main log starting at offset",
    ),
    (
        "supervisor.readProcessLog",
        &["string", "string", "int", "int"],
        "Read length bytes from name's stdout log starting at offset",
    ),
    (
        "supervisor.readProcessStderrLog",
        &["string", "string", "int", "int"],
        "Read length bytes from name's stderr log starting at offset",
    ),
    (
        "supervisor.readProcessStdoutLog",
        &["string", "string", "int", "int"],
        "Read length bytes from name's stdout log starting at offset",
    ),
    (
        "supervisor.reloadConfig",
        &["array"],
        "Reload the configuration.",
    ),
    (
        "supervisor.removeProcessGroup",
        &["boolean", "string"],
        "Remove a stopped process from the active configuration.",
    ),
    (
        "supervisor.restart",
        &["boolean"],
        "Restart the supervisor process",
    ),
    (
        "supervisor.sendProcessStdin",
        &["boolean", "string", "string"],
        "Send a string of chars to the stdin of the process name.",
    ),
    (
        "supervisor.sendRemoteCommEvent",
        &["boolean", "string", "string"],
        "Send an event that will be received by event listener subprocesses subscribing to the RemoteCommunicationEvent.",
    ),
    (
        "supervisor.shutdown",
        &["boolean"],
        "Shut down the supervisor process",
    ),
    (
        "supervisor.signalAllProcesses",
        &["array", "string"],
        "Send a signal to all processes in the process list",
    ),
    (
        "supervisor.signalProcess",
        &["boolean", "string", "string"],
        "Send an arbitrary UNIX signal to the process named by name",
    ),
    (
        "supervisor.signalProcessGroup",
        &["array", "string", "string"],
        "Send a signal to all processes in the group named 'name'",
    ),
    (
        "supervisor.startAllProcesses",
        &["array", "boolean"],
        "Start all processes listed in the configuration file",
    ),
    (
        "supervisor.startProcess",
        &["boolean", "string", "boolean"],
        "Start a process",
    ),
    (
        "supervisor.startProcessGroup",
        &["array", "string", "boolean"],
        "Start all processes in the group named 'name'",
    ),
    (
        "supervisor.stopAllProcesses",
        &["array", "boolean"],
        "Stop all processes in the process list",
    ),
    (
        "supervisor.stopProcess",
        &["boolean", "string", "boolean"],
        "Stop a process named by name",
    ),
    (
        "supervisor.stopProcessGroup",
        &["array", "string", "boolean"],
        "Stop all processes in the process group named 'name'",
    ),
    (
        "supervisor.tailProcessLog",
        &["array", "string", "int", "int"],
        "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog.",
    ),
    (
        "supervisor.tailProcessStderrLog",
        &["array", "string", "int", "int"],
        "Provides a more efficient way to tail the (stderr) log than readProcessStderrLog.",
    ),
    (
        "supervisor.tailProcessStdoutLog",
        &["array", "string", "int", "int"],
        "Provides a more efficient way to tail the (stdout) log than readProcessStdoutLog.",
    ),
    (
        "system.listMethods",
        &["array"],
        "Return an array listing the available method names",
    ),
    (
        "system.methodHelp",
        &["string", "string"],
        "Return a string showing the method's documentation",
    ),
    (
        "system.methodSignature",
        &["array", "string"],
        "Return an array describing the method signature",
    ),
    (
        "system.multicall",
        &["array", "array"],
        "Process an array of calls, and return an array of results.",
    ),
];

fn clamp(t: i64) -> i64 {
    t.clamp(0, i64::from(i32::MAX))
}

fn info_value(p: ProcessView) -> Value {
    let i = p.info;
    Value::Struct(vec![
        ("name".into(), Value::Str(i.name)),
        ("group".into(), Value::Str(i.group)),
        ("start".into(), Value::Int(clamp(i.start))),
        ("stop".into(), Value::Int(clamp(i.stop))),
        ("now".into(), Value::Int(clamp(p.now))),
        ("state".into(), Value::Int(i.state.code().into())),
        ("statename".into(), Value::Str(i.state.name().into())),
        ("spawnerr".into(), Value::Str(i.spawnerr)),
        ("exitstatus".into(), Value::Int(i.exitstatus.into())),
        ("logfile".into(), Value::Str(i.stdout_logfile.clone())),
        ("stdout_logfile".into(), Value::Str(i.stdout_logfile)),
        ("stderr_logfile".into(), Value::Str(i.stderr_logfile)),
        ("pid".into(), Value::Int(i.pid.into())),
        ("description".into(), Value::Str(p.description)),
    ])
}

fn results_value(rs: Vec<ProcessResult>) -> Value {
    Value::Array(
        rs.into_iter()
            .map(|r| {
                Value::Struct(vec![
                    ("name".into(), Value::Str(r.name.clone())),
                    ("group".into(), Value::Str(r.group.clone())),
                    ("status".into(), Value::Int(r.status().into())),
                    ("description".into(), Value::Str(r.description())),
                ])
            })
            .collect(),
    )
}

/// supervisor 4.3.0's 29 keys, with its types (`uid` an int, or `none`); plus `autorestart`.
fn config_value(c: &ConfigView) -> Value {
    let p = &c.config;
    let s = |v: &str| Value::Str(v.to_owned());
    let int = |n: u64| Value::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let mut fields: Vec<(std::borrow::Cow<'static, str>, Value)> = vec![
        ("autostart".into(), Value::Bool(p.autostart)),
        ("autorestart".into(), s(c.autorestart())),
        ("command".into(), s(&p.command)),
        ("directory".into(), Value::Str(c.directory())),
        (
            "exitcodes".into(),
            Value::Array(
                p.exitcodes
                    .iter()
                    .map(|e| Value::Int((*e).into()))
                    .collect(),
            ),
        ),
        ("group".into(), s(&p.group)),
        ("group_prio".into(), Value::Int(c.group_prio)),
        ("inuse".into(), Value::Bool(c.inuse)),
        ("killasgroup".into(), Value::Bool(p.killasgroup)),
        ("name".into(), s(&p.name)),
        ("process_prio".into(), Value::Int(p.priority)),
        ("redirect_stderr".into(), Value::Bool(p.redirect_stderr)),
        ("serverurl".into(), Value::Str(c.serverurl())),
        ("startretries".into(), int(p.startretries)),
        ("startsecs".into(), int(p.startsecs)),
        ("stderr_logfile".into(), Value::Str(c.logfile(true))),
        ("stdout_logfile".into(), Value::Str(c.logfile(false))),
        ("stopsignal".into(), Value::Int(c.stopsignal().into())),
        ("stopwaitsecs".into(), int(p.stopwaitsecs)),
        (
            "uid".into(),
            c.uid().map_or_else(|| s("none"), |u| Value::Int(u.into())),
        ),
    ];
    for (stream, stderr) in [("stdout", false), ("stderr", true)] {
        let l = c.log_config(stderr);
        fields.extend([
            (
                format!("{stream}_capture_maxbytes").into(),
                int(l.capture_maxbytes),
            ),
            (
                format!("{stream}_events_enabled").into(),
                Value::Bool(l.events_enabled),
            ),
            (format!("{stream}_logfile_backups").into(), int(l.backups)),
            (format!("{stream}_logfile_maxbytes").into(), int(l.maxbytes)),
            (format!("{stream}_syslog").into(), Value::Bool(l.syslog)),
        ]);
    }
    // Python's dict is sorted by key when marshalled.
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    Value::Struct(fields)
}

/// Positional parameters with supervisor's defaults; a missing one or one too many is
/// INCORRECT_PARAMETERS (Python's TypeError).
struct Params(Vec<Value>);

impl Params {
    fn count(&self, min: usize, max: usize) -> Result<(), Fault> {
        if self.0.len() < min || self.0.len() > max {
            return Err(Fault::IncorrectParameters);
        }
        Ok(())
    }

    fn string(&self, i: usize) -> Result<String, Fault> {
        match self.0.get(i) {
            Some(Value::Str(s)) => Ok(s.clone()),
            Some(Value::Int(n)) => Ok(n.to_string()),
            _ => Err(Fault::IncorrectParameters),
        }
    }

    /// Python's `int(x)`: an int, a numeric string, a double (truncated).
    fn int(&self, i: usize) -> Result<i64, Fault> {
        match self.0.get(i) {
            Some(Value::Int(n)) => Ok(*n),
            Some(Value::Str(s)) => s.trim().parse().map_err(|_| Fault::IncorrectParameters),
            Some(Value::Double(d)) if d.is_finite() => Ok(d.trunc() as i64),
            _ => Err(Fault::IncorrectParameters),
        }
    }

    /// Python's truthiness of `wait`.
    fn flag(&self, i: usize, default: bool) -> Result<bool, Fault> {
        match self.0.get(i) {
            None => Ok(default),
            Some(Value::Str(s)) => Ok(!s.is_empty()),
            Some(Value::Double(d)) => Ok(*d != 0.0),
            Some(v) => v.as_bool().ok_or(Fault::IncorrectParameters),
        }
    }
}

/// How many parameters a `supervisor.*` method takes: its signature's, the last optional for
/// the methods with a `wait` flag.
fn arity(method: &str) -> (usize, usize) {
    let max = METHODS
        .iter()
        .find(|(m, _, _)| *m == method)
        .map_or(0, |(_, sig, _)| sig.len().saturating_sub(1));
    let optional_wait = matches!(
        method,
        "supervisor.startProcess"
            | "supervisor.stopProcess"
            | "supervisor.startProcessGroup"
            | "supervisor.stopProcessGroup"
            | "supervisor.startAllProcesses"
            | "supervisor.stopAllProcesses"
    );
    (if optional_wait { max - 1 } else { max }, max)
}

/// Calls one method. Faults are supervisor's.
pub(crate) async fn call(svc: &Service, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
    let parts: Vec<&str> = method.split('.').collect();
    if parts.len() != 2 || parts.iter().any(|p| p.starts_with('_') || p.is_empty()) {
        return Err(Fault::UnknownMethod);
    }
    if parts[0] == "system" {
        return system(svc, parts[1], Params(params)).await;
    }
    if parts[0] != "supervisor" || !METHODS.iter().any(|(m, _, _)| *m == method) {
        return Err(Fault::UnknownMethod);
    }
    let p = Params(params);
    // A wrong number of arguments fails before anything else (Python's TypeError), even
    // while shutting down.
    let (min, max) = arity(method);
    p.count(min, max)?;
    if parts[1] != "sendRemoteCommEvent" {
        svc.check_running()?;
    }
    supervisor(svc, parts[1], p).await
}

fn text(data: Vec<u8>) -> Value {
    Value::Str(match String::from_utf8(data) {
        Ok(s) => s,
        Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
    })
}

fn process_log(m: &str, name: String) -> LogSource {
    let channel = if m.contains("Stderr") {
        Channel::Stderr
    } else {
        Channel::Stdout
    };
    LogSource::Process { name, channel }
}

async fn supervisor(svc: &Service, m: &str, p: Params) -> Result<Value, Fault> {
    let ok = Value::Bool(true);
    Ok(match m {
        "getAPIVersion" | "getVersion" => {
            p.count(0, 0)?;
            Value::Str("3.0".into())
        }
        "getSupervisorVersion" => {
            p.count(0, 0)?;
            Value::Str(env!("CARGO_PKG_VERSION").into())
        }
        "getIdentification" => {
            p.count(0, 0)?;
            Value::Str(svc.identification())
        }
        "getState" => {
            p.count(0, 0)?;
            let s = svc.state();
            Value::Struct(vec![
                ("statecode".into(), Value::Int(s.code().into())),
                ("statename".into(), Value::Str(s.name().into())),
            ])
        }
        "getPID" => {
            p.count(0, 0)?;
            Value::Int(std::process::id().into())
        }
        "readLog" | "readMainLog" => {
            p.count(2, 2)?;
            text(svc.read_log(&LogSource::Main, p.int(0)?, p.int(1)?).await?)
        }
        "clearLog" => {
            p.count(0, 0)?;
            svc.clear_main_log().await?;
            ok
        }
        "shutdown" => {
            p.count(0, 0)?;
            svc.shutdown().await?;
            ok
        }
        "restart" => {
            p.count(0, 0)?;
            svc.reload().await?;
            ok
        }
        "reloadConfig" => {
            p.count(0, 0)?;
            let c = svc.reread().await?;
            let names = |v: Vec<String>| Value::Array(v.into_iter().map(Value::Str).collect());
            Value::Array(vec![Value::Array(vec![
                names(c.added),
                names(c.changed),
                names(c.removed),
            ])])
        }
        "addProcessGroup" => {
            p.count(1, 1)?;
            svc.add_group(&p.string(0)?).await?;
            ok
        }
        "removeProcessGroup" => {
            p.count(1, 1)?;
            svc.remove_group(&p.string(0)?).await?;
            ok
        }
        "startProcess" | "stopProcess" => {
            p.count(1, 2)?;
            let name = p.string(0)?;
            let wait = p.flag(1, true)?;
            let start = m == "startProcess";
            if let sel @ Selection::Group(_) = Selection::namespec(&name) {
                // An unknown group is named as the client wrote it (`nogroup:*`).
                let rs = if start {
                    svc.start_many(&sel, wait).await
                } else {
                    svc.stop_many(&sel, wait).await
                };
                return Ok(results_value(rs.map_err(|f| f.named(&name))?));
            }
            if start {
                svc.start(&name, wait).await?;
            } else {
                svc.stop(&name, wait).await?;
            }
            ok
        }
        "startProcessGroup" | "stopProcessGroup" => {
            p.count(1, 2)?;
            let (sel, wait) = (Selection::Group(p.string(0)?), p.flag(1, true)?);
            results_value(if m == "startProcessGroup" {
                svc.start_many(&sel, wait).await?
            } else {
                svc.stop_many(&sel, wait).await?
            })
        }
        "startAllProcesses" | "stopAllProcesses" => {
            p.count(0, 1)?;
            let wait = p.flag(0, true)?;
            results_value(if m == "startAllProcesses" {
                svc.start_many(&Selection::All, wait).await?
            } else {
                svc.stop_many(&Selection::All, wait).await?
            })
        }
        "signalProcess" => {
            p.count(2, 2)?;
            let (name, signal) = (p.string(0)?, p.string(1)?);
            if let sel @ Selection::Group(_) = Selection::namespec(&name) {
                let rs = svc.signal_many(&sel, &signal).await;
                return Ok(results_value(rs.map_err(|f| f.named(&name))?));
            }
            svc.signal(&name, &signal).await?;
            ok
        }
        "signalProcessGroup" => {
            p.count(2, 2)?;
            let sel = Selection::Group(p.string(0)?);
            results_value(svc.signal_many(&sel, &p.string(1)?).await?)
        }
        "signalAllProcesses" => {
            p.count(1, 1)?;
            results_value(svc.signal_many(&Selection::All, &p.string(0)?).await?)
        }
        "getAllConfigInfo" => {
            p.count(0, 0)?;
            Value::Array(svc.configs().await?.iter().map(config_value).collect())
        }
        "getProcessInfo" => {
            p.count(1, 1)?;
            info_value(svc.process(&p.string(0)?).await?)
        }
        "getAllProcessInfo" => {
            p.count(0, 0)?;
            Value::Array(svc.processes().await?.into_iter().map(info_value).collect())
        }
        "readProcessLog" | "readProcessStdoutLog" | "readProcessStderrLog" => {
            p.count(3, 3)?;
            let source = process_log(m, p.string(0)?);
            text(svc.read_log(&source, p.int(1)?, p.int(2)?).await?)
        }
        "tailProcessLog" | "tailProcessStdoutLog" | "tailProcessStderrLog" => {
            p.count(3, 3)?;
            let LogSource::Process { name, channel } = process_log(m, p.string(0)?) else {
                return Err(Fault::UnknownMethod);
            };
            let t = svc.tail_log(&name, channel, p.int(1)?, p.int(2)?).await?;
            Value::Array(vec![
                text(t.data),
                Value::Int(t.offset),
                Value::Bool(t.overflow),
            ])
        }
        "clearProcessLogs" | "clearProcessLog" => {
            p.count(1, 1)?;
            svc.clear_logs(&p.string(0)?).await?;
            ok
        }
        "clearAllProcessLogs" => {
            p.count(0, 0)?;
            results_value(svc.clear_all_logs().await?)
        }
        "sendProcessStdin" => {
            p.count(2, 2)?;
            let chars = match p.0.get(1) {
                Some(Value::Str(s)) => s.clone().into_bytes(),
                Some(Value::Base64(b)) => {
                    shared::base64::decode(b.trim()).ok_or(Fault::IncorrectParameters)?
                }
                _ => return Err(Fault::IncorrectParameters),
            };
            svc.send_stdin(&p.string(0)?, chars).await?;
            ok
        }
        "sendRemoteCommEvent" => {
            p.count(2, 2)?;
            svc.publish_remote(&p.string(0)?, &p.string(1)?)?;
            ok
        }
        _ => return Err(Fault::UnknownMethod),
    })
}

async fn system(svc: &Service, m: &str, p: Params) -> Result<Value, Fault> {
    match m {
        "listMethods" => {
            p.count(0, 0)?;
            Ok(Value::Array(
                METHODS
                    .iter()
                    .map(|(n, _, _)| Value::Str((*n).into()))
                    .collect(),
            ))
        }
        "methodHelp" | "methodSignature" => {
            p.count(1, 1)?;
            let Some(Value::Str(name)) = p.0.first() else {
                return Err(Fault::SignatureUnsupported);
            };
            let (_, sig, help) = METHODS
                .iter()
                .find(|(n, _, _)| *n == name)
                .ok_or(Fault::SignatureUnsupported)?;
            Ok(if m == "methodHelp" {
                Value::Str((*help).into())
            } else {
                Value::Array(sig.iter().map(|t| Value::Str((*t).into())).collect())
            })
        }
        "multicall" => {
            p.count(1, 1)?;
            let Some(Value::Array(calls)) = p.0.first() else {
                return Err(Fault::IncorrectParameters);
            };
            let mut out = Vec::new();
            for c in calls {
                let r = match (
                    c.field("methodName").and_then(Value::as_str),
                    c.field("params"),
                ) {
                    (None, _) => Err(Fault::IncorrectParameters),
                    (Some("system.multicall"), _) => Err(Fault::IncorrectParameters),
                    (Some(name), params) => {
                        let params = match params {
                            Some(Value::Array(v)) => v.clone(),
                            _ => Vec::new(),
                        };
                        Box::pin(call(svc, name, params)).await
                    }
                };
                out.push(match (r, c.field("methodName").and_then(Value::as_str)) {
                    (Ok(v), _) => v,
                    (Err(f), name) => {
                        let text = match (&f, name) {
                            (Fault::IncorrectParameters, None) => {
                                "INCORRECT_PARAMETERS: No methodName".to_owned()
                            }
                            (Fault::IncorrectParameters, Some("system.multicall")) => {
                                "INCORRECT_PARAMETERS: Recursive system.multicall forbidden"
                                    .to_owned()
                            }
                            _ => f.to_string(),
                        };
                        Value::Struct(vec![
                            ("faultCode".into(), Value::Int(f.code().into())),
                            ("faultString".into(), Value::Str(text)),
                        ])
                    }
                });
            }
            Ok(Value::Array(out))
        }
        _ => Err(Fault::UnknownMethod),
    }
}

#[cfg(test)]
mod tests {
    use super::METHODS;

    #[test]
    fn methods_are_sorted_and_complete() {
        let names: Vec<&str> = METHODS.iter().map(|(n, _, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted);
        assert_eq!(names.len(), 41);
    }
}
