//! `avail`: every configured process, whether it is in use, and its priorities.

use proto::v1;
use shared::json;

use super::{Ctl, Reported};
use crate::client;
use crate::output::namespec;

pub(crate) async fn run(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    if !args.is_empty() {
        ctl.output("Error: avail accepts no arguments");
        ctl.exitstatus = crate::output::GENERIC;
        super::help::show(ctl, "avail");
        return Ok(());
    }
    let mut api = ctl.api()?;
    let configs = match api
        .get_all_config_info(v1::GetAllConfigInfoRequest {})
        .await
    {
        Ok(r) => r.into_inner().configs,
        Err(st) => return Err(ctl.report(client::classify(st))),
    };
    if ctl.json {
        let items = configs.iter().map(|c| {
            json::object(&[
                ("name", json::string(&c.name)),
                ("group", json::string(&c.group)),
                ("namespec", json::string(&namespec(&c.group, &c.name))),
                ("inuse", c.inuse.to_string()),
                ("autostart", c.autostart.to_string()),
                ("group_prio", c.group_prio.to_string()),
                ("process_prio", c.process_prio.to_string()),
                ("command", json::string(&c.command)),
            ])
        });
        println!("{}", json::array(items));
        return Ok(());
    }
    for c in configs {
        let name = namespec(&c.group, &c.name);
        let avail = if c.inuse { "in use" } else { "avail" };
        let start = if c.autostart { "auto" } else { "manual" };
        let prio = format!("{}:{}", c.group_prio, c.process_prio);
        ctl.output(&format!("{name:<32} {avail:<9} {start:<9} {prio}"));
    }
    Ok(())
}
