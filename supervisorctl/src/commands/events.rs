//! `events [TYPE …]`: prints the daemon's events as they happen (no original client has this);
//! `events --pools`: the event listener pools.

use proto::v1;
use shared::events::EventType;
use shared::json;
use tokio_stream::StreamExt;

use super::{Ctl, Reported, help};
use crate::client;
use crate::output;

pub(crate) async fn run(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    if args.iter().any(|a| a == "--pools") {
        if args.len() > 1 {
            ctl.output("Error: --pools takes no other argument");
            ctl.exitstatus = output::GENERIC;
            help::show(ctl, "events");
            return Ok(());
        }
        return pools(ctl).await;
    }
    for a in args {
        if EventType::parse(&a.to_uppercase()).is_none() {
            ctl.output(&format!(
                "Error: unknown event type {a} (one of: {})",
                EventType::all()
                    .map(EventType::name)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            ctl.exitstatus = output::GENERIC;
            return Ok(());
        }
    }
    let mut api = ctl.upcheck().await?;
    let req = v1::SubscribeRequest {
        events: args.iter().map(|a| a.to_uppercase()).collect(),
    };
    let mut stream = match api.subscribe(req).await {
        Ok(s) => s.into_inner(),
        Err(st) => return Err(ctl.report(client::classify(st))),
    };
    if !ctl.json {
        ctl.output("==> Press Ctrl-C to exit <==");
    }
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {
                if !ctl.json {
                    ctl.output("");
                }
                return Ok(());
            }
            ev = stream.next() => match ev {
                Some(Ok(e)) => {
                    let line = if ctl.json { json_line(&e) } else { human_line(&e) };
                    ctl.output(&line);
                }
                Some(Err(st)) => return Err(ctl.report(client::classify(st))),
                None => return Ok(()),
            }
        }
    }
}

/// `12:00:01.234 PROCESS_STATE_RUNNING processname:web groupname:web from_state:STARTING pid:42`,
/// and any further payload lines indented below.
fn human_line(e: &v1::Event) -> String {
    let now = chrono::Local::now().format("%Y-%m-%d %H:%M:%S%.3f");
    let mut lines = e.payload.split('\n');
    let mut out = format!("{now} {}", e.type_name);
    if let Some(first) = lines.next().filter(|l| !l.is_empty()) {
        out.push(' ');
        out.push_str(first);
    }
    let rest: Vec<&str> = lines.collect();
    // A payload ending with a newline: no empty line for it.
    let rest = match rest.split_last() {
        Some((&"", init)) => init,
        _ => &rest[..],
    };
    for l in rest {
        out.push_str("\n    ");
        out.push_str(l);
    }
    out
}

fn state_name(code: i32) -> String {
    v1::ProcessState::try_from(code)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("PROCESS_STATE_")
                .to_owned()
        })
        .unwrap_or_else(|_| code.to_string())
}

/// One JSON object per event: its type, supervisor's payload, the time it was received, and
/// its fields.
fn json_line(e: &v1::Event) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    let mut fields = vec![
        ("type", json::string(&e.type_name)),
        ("received", format!("{now:.3}")),
        ("payload", json::string(&e.payload)),
    ];
    use v1::event::Kind;
    let output = |o: &v1::ProcessOutput| {
        vec![
            ("name", json::string(&o.name)),
            ("group", json::string(&o.group)),
            ("pid", o.pid.to_string()),
            (
                "channel",
                json::string(if o.channel == v1::LogChannel::Stderr as i32 {
                    "stderr"
                } else {
                    "stdout"
                }),
            ),
            ("data", json::string(&String::from_utf8_lossy(&o.data))),
        ]
    };
    match &e.kind {
        Some(Kind::ProcessStateChanged(s)) => fields.extend([
            ("name", json::string(&s.name)),
            ("group", json::string(&s.group)),
            ("from_state", json::string(&state_name(s.from_state))),
            ("to_state", json::string(&state_name(s.to_state))),
            ("pid", s.pid.to_string()),
            ("tries", s.tries.to_string()),
            ("expected", s.expected.to_string()),
            ("at", format!("{:.3}", s.at)),
        ]),
        Some(Kind::SupervisorStateChanged(s)) => {
            fields.push(("state", json::string(&s.statename)));
        }
        Some(Kind::RemoteCommunication(r)) => fields.extend([
            ("remote_type", json::string(&r.r#type)),
            ("data", json::string(&r.data)),
        ]),
        Some(Kind::ProcessLog(o)) | Some(Kind::ProcessCommunication(o)) => {
            fields.extend(output(o));
        }
        Some(Kind::ProcessGroup(g)) => fields.extend([
            ("group", json::string(&g.group)),
            ("added", g.added.to_string()),
        ]),
        Some(Kind::Tick(t)) => fields.extend([
            ("period", t.period.to_string()),
            ("when", t.when.to_string()),
        ]),
        None => {}
    }
    json::object(&fields)
}

async fn pools(ctl: &mut Ctl) -> Result<(), Reported> {
    let mut api = ctl.upcheck().await?;
    let pools = match api.get_event_pools(v1::GetEventPoolsRequest {}).await {
        Ok(r) => r.into_inner().pools,
        Err(st) => return Err(ctl.report(client::classify(st))),
    };
    if ctl.json {
        let items = pools.iter().map(|p| {
            let listeners = p.listeners.iter().map(|l| {
                json::object(&[
                    ("name", json::string(&l.name)),
                    ("state", json::string(&l.state)),
                    (
                        "event",
                        l.event_serial.map_or("null".into(), |s| s.to_string()),
                    ),
                ])
            });
            json::object(&[
                ("name", json::string(&p.name)),
                (
                    "events",
                    json::array(p.events.iter().map(|e| json::string(e))),
                ),
                ("buffered", p.buffered.to_string()),
                ("buffer_size", p.buffer_size.to_string()),
                ("emitted", p.emitted.to_string()),
                ("delivered", p.delivered.to_string()),
                ("processed", p.processed.to_string()),
                ("rejected", p.rejected.to_string()),
                ("dropped", p.dropped.to_string()),
                ("listeners", json::array(listeners)),
            ])
        });
        println!("{}", json::array(items));
        return Ok(());
    }
    if pools.is_empty() {
        ctl.output("No event listener pools (no [eventlistener:x] section)");
        return Ok(());
    }
    for p in &pools {
        ctl.output(&format!(
            "{}: {} (buffer {}/{}; emitted {}, delivered {}, processed {}, rejected {}, dropped {})",
            p.name,
            p.events.join(","),
            p.buffered,
            p.buffer_size,
            p.emitted,
            p.delivered,
            p.processed,
            p.rejected,
            p.dropped
        ));
        for l in &p.listeners {
            let event = l
                .event_serial
                .map(|s| format!(" (event {s})"))
                .unwrap_or_default();
            ctl.output(&format!("  {:<32} {}{event}", l.name, l.state));
        }
    }
    Ok(())
}
