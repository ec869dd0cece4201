//! Domain types to and from `supervisor.v1`: the only place the daemon builds proto messages.

use proto::v1;
use shared::Fault;

use crate::events::Event;
use crate::logging::Channel;
use crate::service::{Chunk, ConfigView, ProcessResult, ProcessView};

pub(super) fn process_info(p: ProcessView) -> v1::ProcessInfo {
    let i = p.info;
    v1::ProcessInfo {
        name: i.name,
        group: i.group,
        start: i.start,
        stop: i.stop,
        now: p.now,
        state: v1::ProcessState::from(i.state) as i32,
        statename: i.state.name().to_owned(),
        spawnerr: i.spawnerr,
        exitstatus: i.exitstatus,
        stdout_logfile: i.stdout_logfile,
        stderr_logfile: i.stderr_logfile,
        pid: i.pid,
        description: p.description,
        health: i.health.word().unwrap_or_default().to_owned(),
        health_detail: match i.health {
            crate::process::health::Health::Unhealthy(why) => why,
            _ => String::new(),
        },
    }
}

pub(super) fn config_info(c: &ConfigView) -> v1::ConfigInfo {
    let p = &c.config;
    let int = |n: u64| i64::try_from(n).unwrap_or(i64::MAX);
    let (out, err) = (&p.stdout, &p.stderr);
    v1::ConfigInfo {
        name: p.name.clone(),
        group: p.group.clone(),
        inuse: c.inuse,
        autostart: p.autostart,
        group_prio: c.group_prio,
        process_prio: p.priority,
        command: p.command.clone(),
        directory: c.directory(),
        exitcodes: p.exitcodes.clone(),
        startsecs: int(p.startsecs),
        startretries: int(p.startretries),
        stopsignal: c.stopsignal(),
        stopwaitsecs: int(p.stopwaitsecs),
        killasgroup: p.killasgroup,
        redirect_stderr: p.redirect_stderr,
        stdout_logfile: c.logfile(false),
        stderr_logfile: c.logfile(true),
        autorestart: c.autorestart().into(),
        serverurl: c.serverurl(),
        stdout_logfile_maxbytes: int(out.maxbytes),
        stdout_logfile_backups: int(out.backups),
        stdout_capture_maxbytes: int(out.capture_maxbytes),
        stdout_events_enabled: out.events_enabled,
        stdout_syslog: out.syslog,
        stderr_logfile_maxbytes: int(err.maxbytes),
        stderr_logfile_backups: int(err.backups),
        stderr_capture_maxbytes: int(err.capture_maxbytes),
        stderr_events_enabled: err.events_enabled,
        stderr_syslog: err.syslog,
        uid: c.uid().map(i64::from),
    }
}

pub(super) fn results(rs: Vec<ProcessResult>) -> v1::ProcessResults {
    v1::ProcessResults {
        results: rs
            .into_iter()
            .map(|r| v1::ProcessResult {
                status: r.status(),
                description: r.description(),
                name: r.name,
                group: r.group,
            })
            .collect(),
    }
}

pub(super) fn channel(c: i32) -> Channel {
    if c == v1::LogChannel::Stderr as i32 {
        Channel::Stderr
    } else {
        Channel::Stdout
    }
}

pub(super) fn log_chunk(c: Chunk) -> v1::LogChunk {
    match c {
        Chunk::Data(data) => v1::LogChunk {
            data: data.to_vec(),
            truncated: false,
            skipped: 0,
        },
        Chunk::Skipped(n) => v1::LogChunk {
            data: Chunk::skipped_marker(n).into_bytes(),
            truncated: false,
            skipped: n,
        },
    }
}

pub(super) fn event(ev: Event) -> v1::Event {
    let type_name = ev.event_type().name().to_owned();
    let payload = ev.payload();
    let output = |name: &str, group: &str, pid: i32, channel, data: &[u8]| v1::ProcessOutput {
        name: name.to_owned(),
        group: group.to_owned(),
        pid,
        channel: match channel {
            shared::events::Channel::Stdout => v1::LogChannel::Stdout as i32,
            shared::events::Channel::Stderr => v1::LogChannel::Stderr as i32,
        },
        data: data.to_vec(),
    };
    let kind = match ev {
        Event::ProcessStateChanged {
            name,
            group,
            from,
            to,
            pid,
            tries,
            expected,
            at,
        } => v1::event::Kind::ProcessStateChanged(v1::ProcessStateChanged {
            name,
            group,
            from_state: v1::ProcessState::from(from) as i32,
            to_state: v1::ProcessState::from(to) as i32,
            pid,
            tries,
            expected: expected.unwrap_or(false),
            at: at
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0.0, |d| d.as_secs_f64()),
        }),
        Event::SupervisorStateChanged { to } => {
            v1::event::Kind::SupervisorStateChanged(v1::SupervisorStateChanged {
                statecode: to.code(),
                statename: to.name().to_owned(),
            })
        }
        Event::RemoteCommunication { kind, data } => {
            v1::event::Kind::RemoteCommunication(v1::RemoteCommunication { r#type: kind, data })
        }
        Event::ProcessLog {
            name,
            group,
            pid,
            channel,
            data,
        } => v1::event::Kind::ProcessLog(output(&name, &group, pid, channel, &data)),
        Event::ProcessCommunication {
            name,
            group,
            pid,
            channel,
            data,
        } => v1::event::Kind::ProcessCommunication(output(&name, &group, pid, channel, &data)),
        Event::ProcessGroup { group, change } => {
            v1::event::Kind::ProcessGroup(v1::ProcessGroupChanged {
                group,
                added: change == shared::events::GroupChange::Added,
            })
        }
        Event::Tick { period, when } => v1::event::Kind::Tick(v1::Tick {
            period: u32::try_from(period.seconds()).unwrap_or(u32::MAX),
            when,
        }),
    };
    v1::Event {
        kind: Some(kind),
        type_name,
        payload,
    }
}

pub(super) fn pool(p: crate::events::pool::PoolView) -> v1::EventPool {
    v1::EventPool {
        name: p.name,
        events: p.events,
        buffered: p.buffered as u64,
        buffer_size: p.buffer_size as u64,
        listeners: p
            .listeners
            .into_iter()
            .map(|l| v1::EventListener {
                name: l.name,
                state: l.state.name().to_owned(),
                event_serial: l.event,
            })
            .collect(),
        emitted: p.counters.emitted,
        delivered: p.counters.delivered,
        processed: p.counters.processed,
        rejected: p.counters.rejected,
        dropped: p.counters.dropped,
    }
}

pub(super) fn status(f: Fault) -> tonic::Status {
    proto::status_from_fault(&f)
}
