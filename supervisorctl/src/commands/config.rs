//! `reread`, `update`, `add`, `remove`: applying config changes group by group.

use std::collections::BTreeMap;

use proto::v1;
use shared::Fault;

use super::{Ctl, Reported, help};
use crate::client::{self, CallError};
use crate::output;

async fn reload_config(
    ctl: &mut Ctl,
    shutdown_msg: &str,
) -> Result<v1::ReloadConfigResponse, Reported> {
    let mut api = ctl.api()?;
    match api.reload_config(v1::ReloadConfigRequest {}).await {
        Ok(r) => Ok(r.into_inner()),
        Err(st) => match client::classify(st) {
            CallError::Fault(Fault::ShutdownState) => {
                ctl.output(shutdown_msg);
                ctl.exitstatus = output::GENERIC;
                Err(Reported)
            }
            CallError::Fault(f @ Fault::CantReread(_)) => {
                ctl.output(&format!("ERROR: {f}"));
                ctl.exitstatus = output::GENERIC;
                Err(Reported)
            }
            e => Err(ctl.report(e)),
        },
    }
}

pub(crate) async fn reread(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    if !args.is_empty() {
        ctl.output("Error: reread accepts no arguments");
        ctl.exitstatus = output::GENERIC;
        help::show(ctl, "reread");
        return Ok(());
    }
    let r = reload_config(ctl, "ERROR: supervisor shutting down").await?;
    let mut changes: BTreeMap<String, &str> = BTreeMap::new();
    for (names, what) in [
        (&r.added, "available"),
        (&r.changed, "changed"),
        (&r.removed, "disappeared"),
    ] {
        for n in names {
            changes.insert(n.clone(), what);
        }
    }
    if changes.is_empty() {
        ctl.output("No config updates to processes");
    }
    for (name, what) in changes {
        ctl.output(&format!("{name}: {what}"));
    }
    Ok(())
}

pub(crate) async fn update(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let r = reload_config(ctl, "ERROR: already shutting down").await?;
    let mut api = ctl.api()?;
    let mut wanted: Vec<String> = args.to_vec();
    if wanted.iter().any(|a| a == "all") {
        wanted.clear();
    }
    if !wanted.is_empty() {
        let mut groups: Vec<String> = match api
            .get_all_process_info(v1::GetAllProcessInfoRequest {})
            .await
        {
            Ok(i) => i
                .into_inner()
                .processes
                .into_iter()
                .map(|p| p.group)
                .collect(),
            Err(st) => return Err(ctl.report(client::classify(st))),
        };
        groups.extend(r.added.iter().cloned());
        for g in &wanted {
            if !groups.contains(g) {
                ctl.output(&format!("ERROR: no such group: {g}"));
                ctl.exitstatus = output::GENERIC;
            }
        }
    }
    let selected = |g: &String| wanted.is_empty() || wanted.contains(g);
    for g in r.removed.iter().filter(|g| selected(g)) {
        let res = api
            .stop_process_group(v1::StopProcessGroupRequest {
                name: g.clone(),
                wait: true,
            })
            .await;
        ctl.output(&format!("{g}: stopped"));
        let failed = match res {
            Ok(r) => r.into_inner().results.iter().any(|x| x.status == 30),
            Err(st) => return Err(ctl.report(client::classify(st))),
        };
        if failed {
            ctl.output(&format!("{g}: has problems; not removing"));
            ctl.exitstatus = output::GENERIC;
            continue;
        }
        if let Err(st) = api
            .remove_process_group(v1::RemoveProcessGroupRequest { name: g.clone() })
            .await
        {
            return Err(ctl.report(client::classify(st)));
        }
        ctl.output(&format!("{g}: removed process group"));
    }
    for g in r.changed.iter().filter(|g| selected(g)) {
        let _ = api
            .stop_process_group(v1::StopProcessGroupRequest {
                name: g.clone(),
                wait: true,
            })
            .await;
        ctl.output(&format!("{g}: stopped"));
        if let Err(st) = api
            .remove_process_group(v1::RemoveProcessGroupRequest { name: g.clone() })
            .await
        {
            return Err(ctl.report(client::classify(st)));
        }
        if let Err(st) = api
            .add_process_group(v1::AddProcessGroupRequest { name: g.clone() })
            .await
        {
            return Err(ctl.report(client::classify(st)));
        }
        ctl.output(&format!("{g}: updated process group"));
    }
    for g in r.added.iter().filter(|g| selected(g)) {
        if let Err(st) = api
            .add_process_group(v1::AddProcessGroupRequest { name: g.clone() })
            .await
        {
            return Err(ctl.report(client::classify(st)));
        }
        ctl.output(&format!("{g}: added process group"));
    }
    Ok(())
}

pub(crate) async fn add(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.api()?;
    for name in args {
        match api
            .add_process_group(v1::AddProcessGroupRequest { name: name.clone() })
            .await
        {
            Ok(_) => ctl.output(&format!("{name}: added process group")),
            Err(st) => match client::classify(st) {
                CallError::Fault(Fault::ShutdownState) => {
                    ctl.output("ERROR: shutting down");
                    ctl.exitstatus = output::GENERIC;
                }
                CallError::Fault(Fault::AlreadyAdded(_)) => {
                    ctl.output("ERROR: process group already active");
                }
                CallError::Fault(Fault::BadName(_)) => {
                    ctl.output(&format!("ERROR: no such process/group: {name}"));
                    ctl.exitstatus = output::GENERIC;
                }
                e => return Err(ctl.report(e)),
            },
        }
    }
    Ok(())
}

pub(crate) async fn remove(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = ctl.api()?;
    for name in args {
        match api
            .remove_process_group(v1::RemoveProcessGroupRequest { name: name.clone() })
            .await
        {
            Ok(_) => ctl.output(&format!("{name}: removed process group")),
            Err(st) => match client::classify(st) {
                CallError::Fault(Fault::StillRunning(_)) => {
                    ctl.output(&format!("ERROR: process/group still running: {name}"));
                    ctl.exitstatus = output::GENERIC;
                }
                CallError::Fault(Fault::BadName(_)) => {
                    ctl.output(&format!("ERROR: no such process/group: {name}"));
                    ctl.exitstatus = output::GENERIC;
                }
                e => return Err(ctl.report(e)),
            },
        }
    }
    Ok(())
}
