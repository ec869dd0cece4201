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
        ("spawns", i.starts.to_string()),
        ("health", json::string(i.health.word().unwrap_or_default())),
        ("health_detail", json::string(health_detail(&i.health))),
    ])
}

/// Why a process is unhealthy (empty otherwise).
pub(crate) fn health_detail(h: &crate::process::health::Health) -> &str {
    match h {
        crate::process::health::Health::Unhealthy(why) => why,
        _ => "",
    }
}

/// An event listener pool, as the web GUI shows it.
pub(crate) fn pool_json(p: &crate::events::pool::PoolView) -> String {
    let listeners = p.listeners.iter().map(|l| {
        json::object(&[
            ("name", json::string(&l.name)),
            ("state", json::string(l.state.name())),
            ("event", l.event.map_or("null".into(), |s| s.to_string())),
        ])
    });
    let c = &p.counters;
    json::object(&[
        ("name", json::string(&p.name)),
        (
            "events",
            json::array(p.events.iter().map(|e| json::string(e))),
        ),
        ("buffered", p.buffered.to_string()),
        ("buffer_size", p.buffer_size.to_string()),
        ("emitted", c.emitted.to_string()),
        ("delivered", c.delivered.to_string()),
        ("processed", c.processed.to_string()),
        ("rejected", c.rejected.to_string()),
        ("dropped", c.dropped.to_string()),
        ("listeners", json::array(listeners)),
    ])
}
