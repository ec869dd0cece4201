//! `start`, `stop`, `restart`, `signal`: one process, a group (`g:*`), or `all`.

use proto::v1;

use super::{Ctl, Reported, help};
use crate::client::{self, CallError};
use crate::output::{self, exit_for, namespec, signal_result, split_namespec, start_result};

fn results(
    ctl: &mut Ctl,
    rs: Vec<v1::ProcessResult>,
    ignored: Option<i32>,
    line: impl Fn(&str, i32, &str) -> String,
) {
    for r in rs {
        ctl.output(&line(
            &namespec(&r.group, &r.name),
            r.status,
            &r.description,
        ));
        if let Some(code) = exit_for(r.status, ignored) {
            ctl.exitstatus = code;
        }
    }
}

pub(crate) async fn start(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    if args.is_empty() {
        ctl.output("Error: start requires a process name");
        ctl.exitstatus = output::INVALID_ARGS;
        help::show(ctl, "start");
        return Ok(());
    }
    let already = Some(60);
    if args.iter().any(|a| a == "all") {
        match api
            .start_all_processes(v1::StartAllProcessesRequest { wait: true })
            .await
        {
            Ok(r) => results(ctl, r.into_inner().results, already, start_result),
            Err(st) => return Err(ctl.report(client::classify(st))),
        }
        return Ok(());
    }
    for name in args {
        let (group, process) = split_namespec(name);
        match process {
            None => {
                let req = v1::StartProcessGroupRequest {
                    name: group.clone(),
                    wait: true,
                };
                match api.start_process_group(req).await {
                    Ok(r) => results(ctl, r.into_inner().results, already, start_result),
                    Err(st) => match client::classify(st) {
                        CallError::Fault(f) if f.code() == 10 => {
                            ctl.output(&format!("{group}: ERROR (no such group)"));
                            ctl.exitstatus = output::INVALID_ARGS;
                        }
                        e => return Err(ctl.report(e)),
                    },
                }
            }
            Some(process) => {
                let req = v1::StartProcessRequest {
                    name: name.clone(),
                    wait: true,
                };
                match api.start_process(req).await {
                    Ok(_) => ctl.output(&format!("{}: started", namespec(&group, &process))),
                    Err(st) => match client::classify(st) {
                        CallError::Fault(f) => {
                            let spec = namespec(&group, &process);
                            ctl.output(&start_result(&spec, f.code(), &f.to_string()));
                            if let Some(c) = exit_for(f.code(), already) {
                                ctl.exitstatus = c;
                            }
                        }
                        e => return Err(ctl.report(e)),
                    },
                }
            }
        }
    }
    Ok(())
}

pub(crate) async fn stop(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    if args.is_empty() {
        ctl.output("Error: stop requires a process name");
        ctl.exitstatus = output::GENERIC;
        help::show(ctl, "stop");
        return Ok(());
    }
    let not_running = Some(70);
    let line = |n: &str, c: i32, d: &str| signal_result(n, c, d, "stopped");
    if args.iter().any(|a| a == "all") {
        match api
            .stop_all_processes(v1::StopAllProcessesRequest { wait: true })
            .await
        {
            Ok(r) => results(ctl, r.into_inner().results, not_running, line),
            Err(st) => return Err(ctl.report(client::classify(st))),
        }
        return Ok(());
    }
    for name in args {
        let (group, process) = split_namespec(name);
        match process {
            None => {
                let req = v1::StopProcessGroupRequest {
                    name: group.clone(),
                    wait: true,
                };
                match api.stop_process_group(req).await {
                    Ok(r) => results(ctl, r.into_inner().results, not_running, line),
                    Err(st) => match client::classify(st) {
                        CallError::Fault(f) if f.code() == 10 => {
                            ctl.output(&format!("{group}: ERROR (no such group)"));
                            ctl.exitstatus = output::GENERIC;
                        }
                        e => return Err(ctl.report(e)),
                    },
                }
            }
            Some(process) => {
                let req = v1::StopProcessRequest {
                    name: name.clone(),
                    wait: true,
                };
                match api.stop_process(req).await {
                    Ok(_) => ctl.output(&format!("{}: stopped", namespec(&group, &process))),
                    Err(st) => match client::classify(st) {
                        CallError::Fault(f) => {
                            let spec = namespec(&group, &process);
                            ctl.output(&line(&spec, f.code(), &f.to_string()));
                            if let Some(c) = exit_for(f.code(), not_running) {
                                ctl.exitstatus = c;
                            }
                        }
                        e => return Err(ctl.report(e)),
                    },
                }
            }
        }
    }
    Ok(())
}

pub(crate) async fn restart(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    ctl.upcheck().await?;
    if args.is_empty() {
        ctl.output("Error: restart requires a process name");
        ctl.exitstatus = output::GENERIC;
        help::show(ctl, "restart");
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
    let sig = args[0].clone();
    let names = &args[1..];
    let line = |n: &str, c: i32, d: &str| signal_result(n, c, d, "signalled");
    if names.iter().any(|a| a == "all") {
        match api
            .signal_all_processes(v1::SignalAllProcessesRequest { signal: sig })
            .await
        {
            Ok(r) => results(ctl, r.into_inner().results, None, line),
            Err(st) => return Err(ctl.report(client::classify(st))),
        }
        return Ok(());
    }
    for name in names {
        let (group, process) = split_namespec(name);
        match process {
            None => {
                let req = v1::SignalProcessGroupRequest {
                    name: group.clone(),
                    signal: sig.clone(),
                };
                match api.signal_process_group(req).await {
                    Ok(r) => results(ctl, r.into_inner().results, None, line),
                    Err(st) => match client::classify(st) {
                        CallError::Fault(f) if f.code() == 10 => {
                            ctl.output(&format!("{group}: ERROR (no such group)"));
                            ctl.exitstatus = output::GENERIC;
                        }
                        e => return Err(ctl.report(e)),
                    },
                }
            }
            Some(process) => {
                let req = v1::SignalProcessRequest {
                    name: name.clone(),
                    signal: sig.clone(),
                };
                match api.signal_process(req).await {
                    Ok(_) => ctl.output(&format!("{}: signalled", namespec(&group, &process))),
                    Err(st) => match client::classify(st) {
                        CallError::Fault(f) => {
                            let spec = namespec(&group, &process);
                            ctl.output(&line(&spec, f.code(), &f.to_string()));
                            if let Some(c) = exit_for(f.code(), None) {
                                ctl.exitstatus = c;
                            }
                        }
                        e => return Err(ctl.report(e)),
                    },
                }
            }
        }
    }
    Ok(())
}
