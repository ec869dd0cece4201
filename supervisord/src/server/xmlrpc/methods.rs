//! supervisor's XML-RPC methods, dispatched with supervisor's rules and answered through the
//! same adapter as the gRPC API.

use proto::v1;
use proto::v1::supervisor_server::Supervisor as _;
use shared::{Fault, SupervisorState};
use tonic::Request;

use super::value::Value;
use crate::server::grpc::Api;

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

fn fault_of(st: tonic::Status) -> Fault {
    proto::fault_from_status(&st).unwrap_or_else(|| Fault::Failed(st.message().to_owned()))
}

fn clamp(t: i64) -> i64 {
    t.clamp(0, i64::from(i32::MAX))
}

fn info_value(p: v1::ProcessInfo) -> Value {
    Value::Struct(vec![
        ("name".into(), Value::Str(p.name)),
        ("group".into(), Value::Str(p.group)),
        ("start".into(), Value::Int(clamp(p.start))),
        ("stop".into(), Value::Int(clamp(p.stop))),
        ("now".into(), Value::Int(clamp(p.now))),
        ("state".into(), Value::Int(p.state.into())),
        ("statename".into(), Value::Str(p.statename)),
        ("spawnerr".into(), Value::Str(p.spawnerr)),
        ("exitstatus".into(), Value::Int(p.exitstatus.into())),
        ("logfile".into(), Value::Str(p.stdout_logfile.clone())),
        (
            "stdout_logfile".into(),
            Value::Str(p.stdout_logfile.clone()),
        ),
        ("stderr_logfile".into(), Value::Str(p.stderr_logfile)),
        ("pid".into(), Value::Int(p.pid.into())),
        ("description".into(), Value::Str(p.description)),
    ])
}

fn results_value(r: v1::ProcessResults) -> Value {
    Value::Array(
        r.results
            .into_iter()
            .map(|x| {
                Value::Struct(vec![
                    ("name".into(), Value::Str(x.name)),
                    ("group".into(), Value::Str(x.group)),
                    ("status".into(), Value::Int(x.status.into())),
                    ("description".into(), Value::Str(x.description)),
                ])
            })
            .collect(),
    )
}

fn config_value(c: v1::ConfigInfo) -> Value {
    let s = |v: &str| Value::Str(v.to_owned());
    Value::Struct(vec![
        ("autostart".into(), Value::Bool(c.autostart)),
        ("autorestart".into(), s(&c.autorestart)),
        ("command".into(), s(&c.command)),
        ("directory".into(), s(&c.directory)),
        (
            "exitcodes".into(),
            Value::Array(
                c.exitcodes
                    .iter()
                    .map(|e| Value::Int((*e).into()))
                    .collect(),
            ),
        ),
        ("group".into(), s(&c.group)),
        ("group_prio".into(), Value::Int(c.group_prio)),
        ("inuse".into(), Value::Bool(c.inuse)),
        ("killasgroup".into(), Value::Bool(c.killasgroup)),
        ("name".into(), s(&c.name)),
        ("process_prio".into(), Value::Int(c.process_prio)),
        ("redirect_stderr".into(), Value::Bool(c.redirect_stderr)),
        ("serverurl".into(), s(&c.serverurl)),
        ("startretries".into(), Value::Int(c.startretries)),
        ("startsecs".into(), Value::Int(c.startsecs)),
        ("stderr_logfile".into(), s(&c.stderr_logfile)),
        ("stdout_logfile".into(), s(&c.stdout_logfile)),
        ("stopsignal".into(), Value::Int(c.stopsignal.into())),
        ("stopwaitsecs".into(), Value::Int(c.stopwaitsecs)),
    ])
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

    fn int(&self, i: usize) -> Result<i64, Fault> {
        self.0
            .get(i)
            .and_then(Value::as_int)
            .ok_or(Fault::IncorrectParameters)
    }

    fn flag(&self, i: usize, default: bool) -> Result<bool, Fault> {
        match self.0.get(i) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or(Fault::IncorrectParameters),
        }
    }
}

fn group_of(name: &str) -> Option<&str> {
    match name.split_once(':') {
        Some((g, p)) if p.is_empty() || p == "*" => Some(g),
        _ => None,
    }
}

/// Calls one method. Faults are supervisor's.
pub(crate) async fn call(api: &Api, method: &str, params: Vec<Value>) -> Result<Value, Fault> {
    let parts: Vec<&str> = method.split('.').collect();
    if parts.len() != 2 || parts.iter().any(|p| p.starts_with('_') || p.is_empty()) {
        return Err(Fault::UnknownMethod);
    }
    if parts[0] == "system" {
        return system(api, parts[1], Params(params)).await;
    }
    if parts[0] != "supervisor" || !METHODS.iter().any(|(m, _, _)| *m == method) {
        return Err(Fault::UnknownMethod);
    }
    let p = Params(params);
    if parts[1] != "sendRemoteCommEvent" && api.handle.state().await? != SupervisorState::Running {
        return Err(Fault::ShutdownState);
    }
    supervisor(api, parts[1], p).await
}

async fn supervisor(api: &Api, m: &str, p: Params) -> Result<Value, Fault> {
    let ok = Value::Bool(true);
    let channel = |m: &str| i32::from(m.contains("Stderr"));
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
            Value::Str(api.reloader.identifier())
        }
        "getState" => {
            p.count(0, 0)?;
            let s = api.handle.state().await?;
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
            let r = api
                .read_main_log(Request::new(v1::ReadLogRequest {
                    offset: p.int(0)?,
                    length: p.int(1)?,
                }))
                .await
                .map_err(fault_of)?;
            Value::Str(String::from_utf8_lossy(&r.into_inner().data).into_owned())
        }
        "clearLog" => {
            p.count(0, 0)?;
            api.clear_main_log(Request::new(v1::ClearMainLogRequest {}))
                .await
                .map_err(fault_of)?;
            ok
        }
        "shutdown" => {
            p.count(0, 0)?;
            api.shutdown(Request::new(v1::ShutdownRequest {}))
                .await
                .map_err(fault_of)?;
            ok
        }
        "restart" => {
            p.count(0, 0)?;
            api.restart(Request::new(v1::RestartRequest {}))
                .await
                .map_err(fault_of)?;
            ok
        }
        "reloadConfig" => {
            p.count(0, 0)?;
            let r = api
                .reload_config(Request::new(v1::ReloadConfigRequest {}))
                .await
                .map_err(fault_of)?
                .into_inner();
            let names = |v: Vec<String>| Value::Array(v.into_iter().map(Value::Str).collect());
            Value::Array(vec![Value::Array(vec![
                names(r.added),
                names(r.changed),
                names(r.removed),
            ])])
        }
        "addProcessGroup" => {
            p.count(1, 1)?;
            api.add_process_group(Request::new(v1::AddProcessGroupRequest {
                name: p.string(0)?,
            }))
            .await
            .map_err(fault_of)?;
            ok
        }
        "removeProcessGroup" => {
            p.count(1, 1)?;
            api.remove_process_group(Request::new(v1::RemoveProcessGroupRequest {
                name: p.string(0)?,
            }))
            .await
            .map_err(fault_of)?;
            ok
        }
        "startProcess" | "stopProcess" => {
            p.count(1, 2)?;
            let name = p.string(0)?;
            let wait = p.flag(1, true)?;
            let start = m == "startProcess";
            if let Some(g) = group_of(&name) {
                let r = if start {
                    api.start_process_group(Request::new(v1::StartProcessGroupRequest {
                        name: g.into(),
                        wait,
                    }))
                    .await
                } else {
                    api.stop_process_group(Request::new(v1::StopProcessGroupRequest {
                        name: g.into(),
                        wait,
                    }))
                    .await
                };
                return Ok(results_value(r.map_err(fault_of)?.into_inner()));
            }
            if start {
                api.start_process(Request::new(v1::StartProcessRequest { name, wait }))
                    .await
                    .map_err(fault_of)?;
            } else {
                api.stop_process(Request::new(v1::StopProcessRequest { name, wait }))
                    .await
                    .map_err(fault_of)?;
            }
            ok
        }
        "startProcessGroup" | "stopProcessGroup" => {
            p.count(1, 2)?;
            let (name, wait) = (p.string(0)?, p.flag(1, true)?);
            let r = if m == "startProcessGroup" {
                api.start_process_group(Request::new(v1::StartProcessGroupRequest { name, wait }))
                    .await
            } else {
                api.stop_process_group(Request::new(v1::StopProcessGroupRequest { name, wait }))
                    .await
            };
            results_value(r.map_err(fault_of)?.into_inner())
        }
        "startAllProcesses" | "stopAllProcesses" => {
            p.count(0, 1)?;
            let wait = p.flag(0, true)?;
            let r = if m == "startAllProcesses" {
                api.start_all_processes(Request::new(v1::StartAllProcessesRequest { wait }))
                    .await
            } else {
                api.stop_all_processes(Request::new(v1::StopAllProcessesRequest { wait }))
                    .await
            };
            results_value(r.map_err(fault_of)?.into_inner())
        }
        "signalProcess" => {
            p.count(2, 2)?;
            let (name, signal) = (p.string(0)?, p.string(1)?);
            if let Some(g) = group_of(&name) {
                let r = api
                    .signal_process_group(Request::new(v1::SignalProcessGroupRequest {
                        name: g.into(),
                        signal,
                    }))
                    .await
                    .map_err(fault_of)?;
                return Ok(results_value(r.into_inner()));
            }
            api.signal_process(Request::new(v1::SignalProcessRequest { name, signal }))
                .await
                .map_err(fault_of)?;
            ok
        }
        "signalProcessGroup" => {
            p.count(2, 2)?;
            let r = api
                .signal_process_group(Request::new(v1::SignalProcessGroupRequest {
                    name: p.string(0)?,
                    signal: p.string(1)?,
                }))
                .await
                .map_err(fault_of)?;
            results_value(r.into_inner())
        }
        "signalAllProcesses" => {
            p.count(1, 1)?;
            let r = api
                .signal_all_processes(Request::new(v1::SignalAllProcessesRequest {
                    signal: p.string(0)?,
                }))
                .await
                .map_err(fault_of)?;
            results_value(r.into_inner())
        }
        "getAllConfigInfo" => {
            p.count(0, 0)?;
            let r = api
                .get_all_config_info(Request::new(v1::GetAllConfigInfoRequest {}))
                .await
                .map_err(fault_of)?;
            Value::Array(
                r.into_inner()
                    .configs
                    .into_iter()
                    .map(config_value)
                    .collect(),
            )
        }
        "getProcessInfo" => {
            p.count(1, 1)?;
            let r = api
                .get_process_info(Request::new(v1::GetProcessInfoRequest {
                    name: p.string(0)?,
                }))
                .await
                .map_err(fault_of)?;
            info_value(r.into_inner())
        }
        "getAllProcessInfo" => {
            p.count(0, 0)?;
            let r = api
                .get_all_process_info(Request::new(v1::GetAllProcessInfoRequest {}))
                .await
                .map_err(fault_of)?;
            Value::Array(
                r.into_inner()
                    .processes
                    .into_iter()
                    .map(info_value)
                    .collect(),
            )
        }
        "readProcessLog" | "readProcessStdoutLog" | "readProcessStderrLog" => {
            p.count(3, 3)?;
            let r = api
                .read_process_log(Request::new(v1::ReadProcessLogRequest {
                    name: p.string(0)?,
                    channel: channel(m),
                    offset: p.int(1)?,
                    length: p.int(2)?,
                }))
                .await
                .map_err(fault_of)?;
            Value::Str(String::from_utf8_lossy(&r.into_inner().data).into_owned())
        }
        "tailProcessLog" | "tailProcessStdoutLog" | "tailProcessStderrLog" => {
            p.count(3, 3)?;
            let r = api
                .tail_process_log(Request::new(v1::TailProcessLogRequest {
                    name: p.string(0)?,
                    channel: channel(m),
                    offset: p.int(1)?,
                    length: p.int(2)?,
                }))
                .await
                .map_err(fault_of)?
                .into_inner();
            Value::Array(vec![
                Value::Str(String::from_utf8_lossy(&r.data).into_owned()),
                Value::Int(r.offset),
                Value::Bool(r.overflow),
            ])
        }
        "clearProcessLogs" | "clearProcessLog" => {
            p.count(1, 1)?;
            api.clear_process_logs(Request::new(v1::ClearProcessLogsRequest {
                name: p.string(0)?,
            }))
            .await
            .map_err(fault_of)?;
            ok
        }
        "clearAllProcessLogs" => {
            p.count(0, 0)?;
            let r = api
                .clear_all_process_logs(Request::new(v1::ClearAllProcessLogsRequest {}))
                .await
                .map_err(fault_of)?;
            results_value(r.into_inner())
        }
        "sendProcessStdin" => {
            p.count(2, 2)?;
            let Some(Value::Str(chars)) = p.0.get(1) else {
                return Err(Fault::IncorrectParameters);
            };
            api.send_process_stdin(Request::new(v1::SendProcessStdinRequest {
                name: p.string(0)?,
                data: chars.clone().into_bytes(),
            }))
            .await
            .map_err(fault_of)?;
            ok
        }
        "sendRemoteCommEvent" => {
            p.count(2, 2)?;
            let (kind, data) = (p.string(0)?, p.string(1)?);
            tracing::debug!(
                "remote communication event type {kind}: {} bytes",
                data.len()
            );
            ok
        }
        _ => return Err(Fault::UnknownMethod),
    })
}

async fn system(api: &Api, m: &str, p: Params) -> Result<Value, Fault> {
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
            let name = p.string(0)?;
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
                        Box::pin(call(api, name, params)).await
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
