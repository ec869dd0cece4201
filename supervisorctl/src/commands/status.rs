//! `status [name|group:*|all …]`.

use proto::v1;
use shared::json;

use super::{Ctl, Reported};
use crate::client;
use shared::names::Selection;

use crate::output::{self, namespec};

pub(crate) async fn run(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    let mut api = match ctl.upcheck().await {
        Ok(a) => a,
        Err(r) => {
            // Only "not there" becomes the status code UNKNOWN; other failures keep theirs.
            if [output::NOT_RUNNING, output::INSUFFICIENT_PRIVILEGES].contains(&ctl.exitstatus) {
                ctl.exitstatus = output::STATUS_UNKNOWN;
            }
            return Err(r);
        }
    };
    let all = match api
        .get_all_process_info(v1::GetAllProcessInfoRequest {})
        .await
    {
        Ok(r) => r.into_inner().processes,
        Err(st) => return Err(ctl.report(client::classify(st))),
    };
    let mut matching: Vec<&v1::ProcessInfo> = Vec::new();
    if args.is_empty() || args.iter().any(|a| a == "all") {
        matching = all.iter().collect();
    } else {
        for name in args {
            let sel = Selection::namespec(name);
            let before = matching.len();
            matching.extend(all.iter().filter(|i| sel.matches(&i.group, &i.name)));
            if matching.len() == before {
                match sel {
                    Selection::Group(group) => {
                        ctl.output(&format!("{group}: ERROR (no such group)"));
                    }
                    _ => ctl.output(&format!("{name}: ERROR (no such process)")),
                }
                ctl.exitstatus = output::STATUS_UNKNOWN;
            }
        }
    }
    if ctl.json {
        print_json(&matching);
    } else {
        show(ctl, &matching);
    }
    let stopped = [0, 100, 200, 1000];
    if matching.iter().any(|i| stopped.contains(&i.state)) {
        ctl.exitstatus = output::STATUS_NOT_RUNNING;
    }
    Ok(())
}

/// `'%-{W}s%-10s%s'` with W = max(30, longest name) + 3, as Python prints it.
pub(crate) fn show(ctl: &Ctl, infos: &[&v1::ProcessInfo]) {
    let names: Vec<String> = infos.iter().map(|i| namespec(&i.group, &i.name)).collect();
    let width = names.iter().map(|n| n.chars().count()).fold(30, usize::max) + 3;
    for (name, info) in names.iter().zip(infos) {
        let line = format!("{name:<width$}{:<10}{}", info.statename, info.description);
        ctl.output(&line);
    }
}

fn print_json(infos: &[&v1::ProcessInfo]) {
    let items = infos.iter().map(|i| {
        json::object(&[
            ("name", json::string(&i.name)),
            ("group", json::string(&i.group)),
            ("namespec", json::string(&namespec(&i.group, &i.name))),
            ("state", json::string(&i.statename)),
            ("statecode", i.state.to_string()),
            ("pid", i.pid.to_string()),
            ("start", i.start.to_string()),
            ("stop", i.stop.to_string()),
            (
                "uptime",
                (if i.state == 20 { i.now - i.start } else { 0 }).to_string(),
            ),
            ("exitstatus", i.exitstatus.to_string()),
            ("spawnerr", json::string(&i.spawnerr)),
            ("description", json::string(&i.description)),
            ("health", json::string(&i.health)),
            ("health_detail", json::string(&i.health_detail)),
            ("stdout_logfile", json::string(&i.stdout_logfile)),
            ("stderr_logfile", json::string(&i.stderr_logfile)),
        ])
    });
    println!("{}", json::array(items));
}
