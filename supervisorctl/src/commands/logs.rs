//! `tail`, `maintail`, `fg`, `clear`: process and daemon logs.

use std::io::Write;

use proto::v1;
use tokio::io::AsyncBufReadExt;
use tokio_stream::StreamExt;

use super::{Ctl, Reported, help};
use crate::client::{self, Api, CallError};
use shared::Fault;
use shared::names::Selection;

use crate::output::{self, clear_result, exit_for, namespec, outcome};

fn write_raw(data: &[u8]) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(data).and_then(|()| out.flush());
}

/// Follows a log until Ctrl-C (or the daemon goes away).
async fn follow(ctl: &mut Ctl, api: &mut Api, name: &str, stderr: bool) -> Result<(), Reported> {
    ctl.output("==> Press Ctrl-C to exit <==");
    let req = v1::TailLogRequest {
        name: name.to_owned(),
        channel: if stderr { 1 } else { 0 },
        initial_bytes: 1024,
    };
    let mut stream = match api.tail_log(req).await {
        Ok(s) => s.into_inner(),
        Err(st) => return Err(tail_error(ctl, name, client::classify(st))),
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                ctl.output("");
                return Ok(());
            }
            chunk = stream.next() => match chunk {
                Some(Ok(c)) => write_raw(&c.data),
                Some(Err(st)) => return Err(ctl.report(client::classify(st))),
                None => return Ok(()),
            }
        }
    }
}

fn tail_error(ctl: &mut Ctl, name: &str, e: CallError) -> Reported {
    match e {
        CallError::Fault(f @ (Fault::BadName(_) | Fault::NoFile(_) | Fault::Failed(_))) => {
            let why = match f {
                Fault::NoFile(_) => "no log file",
                Fault::Failed(_) => "unknown error reading log",
                _ => "no such process name",
            };
            ctl.output(&format!("{name}: ERROR ({why})"));
            ctl.exitstatus = output::GENERIC;
            Reported
        }
        e => ctl.report(e),
    }
}

pub(crate) async fn tail(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    let mut args: Vec<String> = args.to_vec();
    if args.is_empty() {
        ctl.output("Error: too few arguments");
        ctl.exitstatus = output::GENERIC;
        help::show(ctl, "tail");
        return Ok(());
    }
    if args.len() > 3 {
        ctl.output("Error: too many arguments");
        ctl.exitstatus = output::GENERIC;
        help::show(ctl, "tail");
        return Ok(());
    }
    let modifier = if args[0].starts_with('-') {
        Some(args.remove(0))
    } else {
        None
    };
    let (name, channel) = match args.as_slice() {
        [] => {
            ctl.output("Error: tail requires process name");
            ctl.exitstatus = output::GENERIC;
            return Ok(());
        }
        [name] => (name.clone(), "stdout".to_owned()),
        [name, .., channel] => (name.clone(), channel.to_lowercase()),
    };
    if channel != "stdout" && channel != "stderr" {
        ctl.output(&format!("Error: bad channel '{channel}'"));
        ctl.exitstatus = output::GENERIC;
        return Ok(());
    }
    let mut bytes: i64 = 1600;
    if let Some(m) = &modifier {
        let what = &m[1..];
        if what == "f" {
            return follow(ctl, &mut api, &name, channel == "stderr").await;
        }
        match what.parse::<i64>() {
            Ok(n) => bytes = n,
            Err(_) => {
                ctl.output(&format!("Error: bad argument {m}"));
                ctl.exitstatus = output::GENERIC;
                return Ok(());
            }
        }
    }
    let req = v1::ReadProcessLogRequest {
        name: name.clone(),
        channel: if channel == "stderr" { 1 } else { 0 },
        offset: -bytes,
        length: 0,
    };
    match api.read_process_log(req).await {
        Ok(r) => {
            write_raw(&r.into_inner().data);
            ctl.output("");
            Ok(())
        }
        Err(st) => match client::classify(st) {
            // A configured log that was not written yet is just empty (as in Python).
            CallError::Fault(Fault::NoFile(file)) if file != "None" => {
                ctl.output("");
                Ok(())
            }
            e => Err(tail_error(ctl, &name, e)),
        },
    }
}

pub(crate) async fn maintail(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    let mut bytes: i64 = 1600;
    match args {
        [] => {}
        [a] if a == "-f" => return follow(ctl, &mut api, "", false).await,
        [a] => match a.strip_prefix('-').and_then(|n| n.parse::<i64>().ok()) {
            Some(n) => bytes = n,
            None => {
                ctl.output(&format!("Error: bad argument {a}"));
                ctl.exitstatus = output::GENERIC;
                return Ok(());
            }
        },
        _ => {
            ctl.output("Error: too many arguments");
            ctl.exitstatus = output::GENERIC;
            help::show(ctl, "maintail");
            return Ok(());
        }
    }
    match api
        .read_main_log(v1::ReadLogRequest {
            offset: -bytes,
            length: 0,
        })
        .await
    {
        Ok(r) => {
            write_raw(&r.into_inner().data);
            ctl.output("");
            Ok(())
        }
        Err(st) => {
            let e = client::classify(st);
            match e {
                CallError::Fault(f @ (Fault::NoFile(_) | Fault::Failed(_))) => {
                    let why = if matches!(f, Fault::NoFile(_)) {
                        "no log file"
                    } else {
                        "unknown error reading log"
                    };
                    ctl.output(&format!("supervisord: ERROR ({why})"));
                    ctl.exitstatus = output::GENERIC;
                    Ok(())
                }
                e => Err(ctl.report(e)),
            }
        }
    }
}

pub(crate) async fn clear(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    if help::missing_name(ctl, "clear", args, output::GENERIC) {
        return Ok(());
    }
    if args.iter().any(|a| a == "all") {
        match api
            .clear_all_process_logs(v1::ClearAllProcessLogsRequest {})
            .await
        {
            Ok(r) => {
                for r in r.into_inner().results {
                    let o = outcome(r.status, &r.description);
                    ctl.output(&clear_result(&namespec(&r.group, &r.name), &o));
                    if let Some(c) = exit_for(&o, None) {
                        ctl.exitstatus = c;
                    }
                }
            }
            Err(st) => return Err(ctl.report(client::classify(st))),
        }
        return Ok(());
    }
    for name in args {
        let spec = match Selection::namespec(name) {
            Selection::Process { group, name } => namespec(&group, &name),
            Selection::Group(group) => namespec(&group, ""),
            Selection::All => name.clone(),
        };
        match api
            .clear_process_logs(v1::ClearProcessLogsRequest { name: name.clone() })
            .await
        {
            Ok(_) => ctl.output(&format!("{spec}: cleared")),
            Err(st) => match client::classify(st) {
                CallError::Fault(f) => {
                    let o = Err(f);
                    ctl.output(&clear_result(&spec, &o));
                    if let Some(c) = exit_for(&o, None) {
                        ctl.exitstatus = c;
                    }
                }
                e => return Err(ctl.report(e)),
            },
        }
    }
    Ok(())
}

/// `fg name`: the process's output here, our typed lines to its stdin; Ctrl-C detaches.
pub(crate) async fn fg(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    let name = match args {
        [] => {
            ctl.output("ERROR: no process name supplied");
            ctl.exitstatus = output::GENERIC;
            help::show(ctl, "fg");
            return Ok(());
        }
        [n] => n.clone(),
        _ => {
            ctl.output("ERROR: too many process names supplied");
            ctl.exitstatus = output::GENERIC;
            return Ok(());
        }
    };
    let running = |i: &v1::ProcessInfo| i.state == 20;
    match api
        .get_process_info(v1::GetProcessInfoRequest { name: name.clone() })
        .await
    {
        Ok(r) if running(r.get_ref()) => {}
        Ok(_) => {
            ctl.output("ERROR: process not running");
            ctl.exitstatus = output::GENERIC;
            return Ok(());
        }
        Err(st) => match client::classify(st) {
            CallError::Fault(Fault::BadName(_)) => {
                ctl.output("ERROR: bad process name supplied");
                ctl.exitstatus = output::GENERIC;
                return Ok(());
            }
            e => return Err(ctl.report(e)),
        },
    }
    ctl.output("==> Press Ctrl-C to exit <==");
    let mut streams = Vec::new();
    for channel in [0, 1] {
        let req = v1::TailLogRequest {
            name: name.clone(),
            channel,
            initial_bytes: 1024,
        };
        match api.tail_log(req).await {
            Ok(s) => streams.push(s.into_inner()),
            Err(st) => return Err(ctl.report(client::classify(st))),
        }
    }
    let mut merged = tokio_stream::StreamExt::merge(streams.remove(0), streams.remove(0));
    let mut lines = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                ctl.output("Exiting foreground");
                return Ok(());
            }
            chunk = merged.next() => match chunk {
                Some(Ok(c)) => write_raw(&c.data),
                Some(Err(_)) | None => {
                    ctl.output("Process got killed");
                    ctl.output("Exiting foreground");
                    return Ok(());
                }
            },
            line = lines.next_line() => {
                let Ok(Some(line)) = line else {
                    ctl.output("Exiting foreground");
                    return Ok(());
                };
                let mut data = line.into_bytes();
                data.push(b'\n');
                let sent = api
                    .send_process_stdin(v1::SendProcessStdinRequest { name: name.clone(), data })
                    .await;
                if let Err(st) = sent {
                    match client::classify(st) {
                        CallError::Fault(Fault::NotRunning(_)) => {
                            ctl.output("Process got killed");
                        }
                        CallError::Fault(f) => ctl.output(&format!("ERROR: {f}")),
                        e => return Err(ctl.report(e)),
                    }
                    ctl.output("Exiting foreground");
                    return Ok(());
                }
                let info = api
                    .get_process_info(v1::GetProcessInfoRequest { name: name.clone() })
                    .await;
                if !info.is_ok_and(|r| running(r.get_ref())) {
                    ctl.output("Process got killed");
                    ctl.output("Exiting foreground");
                    return Ok(());
                }
            }
        }
    }
}
