//! `start`, `stop`, `restart`, `signal`: one process, a group (`g:*`), or `all`. The three
//! actions differ only in their RPCs, the fault they ignore and their wording.

use proto::v1;
use shared::Fault;
use shared::names::Selection;

use super::{Ctl, Reported, help};
use crate::client::{self, Api, CallError};
use crate::output::{self, Outcome, exit_for, namespec, outcome, signal_result, start_result};

/// What is done to the processes named.
enum Op {
    Start,
    Stop,
    Signal(String),
}

impl Op {
    /// The fault that still exits 0 (start: ALREADY_STARTED, stop: NOT_RUNNING).
    fn ignored(&self) -> Option<fn(&Fault) -> bool> {
        match self {
            Op::Start => Some(|f| matches!(f, Fault::AlreadyStarted(_))),
            Op::Stop => Some(|f| matches!(f, Fault::NotRunning(_))),
            Op::Signal(_) => None,
        }
    }

    fn line(&self, name: &str, outcome: &Outcome) -> String {
        match self {
            Op::Start => start_result(name, outcome),
            Op::Stop => signal_result(name, outcome, "stopped"),
            Op::Signal(_) => signal_result(name, outcome, "signalled"),
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

fn show(ctl: &mut Ctl, op: &Op, name: &str, outcome: &Outcome) {
    ctl.output(&op.line(name, outcome));
    if let Some(c) = exit_for(outcome, op.ignored()) {
        ctl.exitstatus = c;
    }
}

fn show_results(ctl: &mut Ctl, op: &Op, results: Vec<v1::ProcessResult>) {
    for r in results {
        let o = outcome(r.status, &r.description);
        show(ctl, op, &namespec(&r.group, &r.name), &o);
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
        show_results(ctl, op, rs);
        return Ok(());
    }
    for name in names {
        match Selection::argument(name) {
            Selection::Group(group) => match op.group(api, &group).await {
                Ok(rs) => show_results(ctl, op, rs),
                Err(st) => match client::classify(st) {
                    CallError::Fault(Fault::BadName(_)) => {
                        ctl.output(&format!("{group}: ERROR (no such group)"));
                        ctl.exitstatus = op.unknown_group_exit();
                    }
                    e => return Err(ctl.report(e)),
                },
            },
            Selection::Process {
                group,
                name: process,
            } => {
                let spec = namespec(&group, &process);
                match op.one(api, name).await {
                    Ok(()) => show(ctl, op, &spec, &Ok(())),
                    Err(st) => match client::classify(st) {
                        CallError::Fault(f) => show(ctl, op, &spec, &Err(f)),
                        e => return Err(ctl.report(e)),
                    },
                }
            }
            // `all` was handled above.
            Selection::All => {}
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
