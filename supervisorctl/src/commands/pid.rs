//! `pid [name|all …]`: the daemon's pid, or processes' pids.

use proto::v1;
use shared::json;

use super::{Ctl, Reported};
use crate::client::{self, CallError};
use crate::output;

pub(crate) async fn run(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    let mut out: Vec<(String, i32)> = Vec::new();
    if args.is_empty() {
        match api.get_pid(v1::GetPidRequest {}).await {
            Ok(r) => out.push(("supervisord".into(), r.into_inner().pid)),
            Err(st) => return Err(ctl.report(client::classify(st))),
        }
    } else if args.iter().any(|a| a == "all") {
        match api
            .get_all_process_info(v1::GetAllProcessInfoRequest {})
            .await
        {
            Ok(r) => {
                for i in r.into_inner().processes {
                    out.push((output::namespec(&i.group, &i.name), i.pid));
                }
            }
            Err(st) => return Err(ctl.report(client::classify(st))),
        }
    } else {
        for name in args {
            match api
                .get_process_info(v1::GetProcessInfoRequest { name: name.clone() })
                .await
            {
                Ok(r) => {
                    let pid = r.into_inner().pid;
                    out.push((name.clone(), pid));
                    if pid == 0 {
                        ctl.exitstatus = output::NOT_RUNNING;
                    }
                }
                Err(st) => match client::classify(st) {
                    CallError::Fault(shared::Fault::BadName(_)) => {
                        if !ctl.json {
                            ctl.output(&format!("No such process {name}"));
                        }
                        ctl.exitstatus = output::GENERIC;
                    }
                    e => return Err(ctl.report(e)),
                },
            }
        }
    }
    if ctl.json {
        let items = out
            .iter()
            .map(|(n, p)| json::object(&[("name", json::string(n)), ("pid", p.to_string())]));
        println!("{}", json::array(items));
    } else {
        for (_, pid) in &out {
            ctl.output(&pid.to_string());
        }
    }
    Ok(())
}
