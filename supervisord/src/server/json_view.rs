//! Processes as JSON, with the field names of the Go supervisord's REST API (which the web GUI
//! reads too).

use shared::json;

use crate::service::ProcessView;

pub(crate) fn process_json(p: &ProcessView) -> String {
    let i = &p.info;
    json::object(&[
        ("name", json::string(&i.name)),
        ("group", json::string(&i.group)),
        ("description", json::string(&p.description)),
        ("start", i.start.to_string()),
        ("stop", i.stop.to_string()),
        ("now", p.now.to_string()),
        ("state", i.state.code().to_string()),
        ("statename", json::string(i.state.name())),
        ("spawnerr", json::string(&i.spawnerr)),
        ("exitstatus", i.exitstatus.to_string()),
        ("logfile", json::string(&i.stdout_logfile)),
        ("stdout_logfile", json::string(&i.stdout_logfile)),
        ("stderr_logfile", json::string(&i.stderr_logfile)),
        ("pid", i.pid.to_string()),
    ])
}
