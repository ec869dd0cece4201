//! `start`, `stop`, `restart`, `signal`: one process, a group (`g:*`), or `all`. The three
//! actions differ only in their RPCs, the fault they ignore and their wording.

use proto::v1;

use super::{Ctl, Reported, help};
use crate::client::{self, Api, CallError};
use crate::output::{self, exit_for, namespec, signal_result, split_namespec, start_result};

/// What is done to the processes named.
enum Op {
    Start,
    Stop,
    Signal(String),
}

impl Op {
    /// The fault that still exits 0 (start: ALREADY_STARTED, stop: NOT_RUNNING).
    fn ignored(&self) -> Option<i32> {
        match self {
            Op::Start => Some(60),
            Op::Stop => Some(70),
            Op::Signal(_) => None,
        }
    }

    fn line(&self, name: &str, code: i32, description: &str) -> String {
        match self {
            Op::Start => start_result(name, code, description),
            Op::Stop => signal_result(name, code, description, "stopped"),
            Op::Signal(_) => signal_result(name, code, description, "signalled"),
        }
    }

    /// Python exits 2 for `start unknown:*`, 1 for stop and signal.
    fn unknown_group_exit(&self) -> i32 {
        match self {
            Op::Start => output::INVALID_ARGS,
            _ => output::GENERIC,
        }
    }

    async fn all(&self, api: &mut Api) -> Result<Vec<v1::ProcessResult>, tonic::Status> {
        let r = match self {
            Op::Start => {
                api.start_all_processes(v1::StartAllProcessesRequest { wait: true })
                    .await
            }
            Op::Stop => {
                api.stop_all_processes(v1::StopAllProcessesRequest { wait: true })
                    .await
            }
            Op::Signal(signal) => {
                let req = v1::SignalAllProcessesRequest {
                    signal: signal.clone(),
                };
                api.signal_all_processes(req).await
            }
        };
        r.map(|r| r.into_inner().results)
    }

    async fn group(
        &self,
        api: &mut Api,
        name: &str,
    ) -> Result<Vec<v1::ProcessResult>, tonic::Status> {
        let name = name.to_owned();
        let r = match self {
            Op::Start => {
                api.start_process_group(v1::StartProcessGroupRequest { name, wait: true })
                    .await
            }
            Op::Stop => {
                api.stop_process_group(v1::StopProcessGroupRequest { name, wait: true })
                    .await
            }
            Op::Signal(signal) => {
                let req = v1::SignalProcessGroupRequest {
                    name,
                    signal: signal.clone(),
                };
                api.signal_process_group(req).await
            }
        };
        r.map(|r| r.into_inner().results)
    }

    async fn one(&self, api: &mut Api, name: &str) -> Result<(), tonic::Status> {
        let name = name.to_owned();
        match self {
            Op::Start => api
                .start_process(v1::StartProcessRequest { name, wait: true })
                .await
                .map(drop),
            Op::Stop => api
                .stop_process(v1::StopProcessRequest { name, wait: true })
                .await
                .map(drop),
            Op::Signal(signal) => api
                .signal_process(v1::SignalProcessRequest {
                    name,
                    signal: signal.clone(),
                })
                .await
                .map(drop),
        }
    }
}

fn show(ctl: &mut Ctl, op: &Op, name: &str, code: i32, description: &str) {
    ctl.output(&op.line(name, code, description));
    if let Some(c) = exit_for(code, op.ignored()) {
        ctl.exitstatus = c;
    }
}

/// Applies `op` to `names` as Python's supervisorctl does: `all` anywhere means everything,
/// `g:*` a group, anything else one process.
async fn apply(ctl: &mut Ctl, api: &mut Api, op: &Op, names: &[String]) -> Result<(), Reported> {
    if names.iter().any(|a| a == "all") {
        let rs = op
            .all(api)
            .await
            .map_err(|st| ctl.report(client::classify(st)))?;
        for r in rs {
            show(
                ctl,
                op,
                &namespec(&r.group, &r.name),
                r.status,
                &r.description,
            );
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match process {
            None => match op.group(api, &group).await {
                Ok(rs) => {
                    for r in rs {
                        show(
                            ctl,
                            op,
                            &namespec(&r.group, &r.name),
                            r.status,
                            &r.description,
                        );
                    }
                }
                Err(st) => match client::classify(st) {
                    CallError::Fault(f) if f.code() == 10 => {
                        ctl.output(&format!("{group}: ERROR (no such group)"));
                        ctl.exitstatus = op.unknown_group_exit();
                    }
                    e => return Err(ctl.report(e)),
                },
            },
            Some(process) => {
                let spec = namespec(&group, &process);
                match op.one(api, name).await {
                    Ok(()) => show(ctl, op, &spec, 80, "OK"),
                    Err(st) => match client::classify(st) {
                        CallError::Fault(f) => show(ctl, op, &spec, f.code(), &f.to_string()),
                        e => return Err(ctl.report(e)),
                    },
                }
            }
        }
    }
    Ok(())
}

pub(crate) async fn start(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    if help::missing_name(ctl, "start", args, output::INVALID_ARGS) {
        return Ok(());
    }
    apply(ctl, &mut api, &Op::Start, args).await
}

pub(crate) async fn stop(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    if help::missing_name(ctl, "stop", args, output::GENERIC) {
        return Ok(());
    }
    apply(ctl, &mut api, &Op::Stop, args).await
}

pub(crate) async fn restart(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    ctl.upcheck().await?;
    if help::missing_name(ctl, "restart", args, output::GENERIC) {
        return Ok(());
    }
    stop(ctl, args).await?;
    start(ctl, args).await
}

pub(crate) async fn signal(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    if args.len() < 2 {
        ctl.output("Error: signal requires a signal name and a process name");
        help::show(ctl, "signal");
        ctl.exitstatus = output::GENERIC;
        return Ok(());
    }
    apply(ctl, &mut api, &Op::Signal(args[0].clone()), &args[1..]).await
}
