//! `/metrics` in Prometheus text format: the Go supervisord's series (kept for existing
//! dashboards) plus restarts, uptime, per-process memory and CPU from /proc, and the daemon's own.

use std::sync::OnceLock;

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use shared::ProcessState;
use shared::names::Selection;

use crate::events::pool::PoolView;
use crate::service::Service;
use crate::supervisor::ProcessInfo;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new().build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder).ok().map(|()| handle)
        })
        .as_ref()
}

/// (resident bytes, CPU seconds) of a live process, from /proc.
pub(super) fn proc_usage(pid: i32) -> Option<(f64, f64)> {
    use nix::unistd::{SysconfVar, sysconf};
    let page = sysconf(SysconfVar::PAGE_SIZE).ok().flatten()? as f64;
    let ticks = sysconf(SysconfVar::CLK_TCK).ok().flatten()? as f64;
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let resident: f64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // After the command: state is field 0, utime 11, stime 12.
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((resident * page, (utime + stime) / ticks))
}

pub(crate) async fn render(State(svc): State<Service>) -> Response {
    let Some(h) = handle() else {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "metrics recorder unavailable\n",
        )
            .into_response();
    };
    let Ok(all) = svc.select(&Selection::All).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    };
    let pools = svc.pools().await;
    // Two /proc reads per process: on the blocking pool, not on an async worker.
    let Ok(rendered) = tokio::task::spawn_blocking(move || record(&all, &pools, h)).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "metrics failed\n").into_response();
    };
    let mut r = rendered.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    r
}

/// Sets every gauge from `all`, the event pools and /proc, and renders the text format.
fn record(all: &[ProcessInfo], pools: &[PoolView], h: &PrometheusHandle) -> String {
    for p in pools {
        let labels = [("pool", p.name.clone())];
        let c = &p.counters;
        // Counters of the pool as it is now: a reload creates it again (a counter reset).
        metrics::counter!("supervisord_events_emitted_total", &labels).absolute(c.emitted);
        metrics::counter!("supervisord_events_delivered_total", &labels).absolute(c.delivered);
        metrics::counter!("supervisord_events_processed_total", &labels).absolute(c.processed);
        metrics::counter!("supervisord_events_rejected_total", &labels).absolute(c.rejected);
        metrics::counter!("supervisord_events_dropped_total", &labels).absolute(c.dropped);
        metrics::gauge!("supervisord_events_buffered", &labels).set(p.buffered as f64);
    }
    let now = crate::supervisor::wall_now();
    for p in all {
        let labels = [("name", p.name.clone()), ("group", p.group.clone())];
        let running = matches!(p.state, ProcessState::Running);
        metrics::gauge!("node_supervisord_up", &labels).set(if running { 1.0 } else { 0.0 });
        metrics::gauge!("node_supervisord_state", &labels).set(f64::from(p.state.code()));
        metrics::gauge!("node_supervisord_exit_status", &labels).set(f64::from(p.exitstatus));
        metrics::gauge!("node_supervisord_start_time_seconds", &labels).set(p.start as f64);
        metrics::gauge!("supervisord_process_spawns", &labels).set(p.starts as f64);
        // RUNNING and, if it has a liveness check, passing it: what depends_on waits for.
        let healthy = running
            && matches!(
                p.health,
                crate::process::health::Health::NotChecked
                    | crate::process::health::Health::Healthy
            );
        metrics::gauge!("supervisord_process_healthy", &labels).set(if healthy {
            1.0
        } else {
            0.0
        });
        let uptime = if running { (now - p.start).max(0) } else { 0 };
        metrics::gauge!("supervisord_process_uptime_seconds", &labels).set(uptime as f64);
        let (rss, cpu) = if p.pid > 0 {
            proc_usage(p.pid).unwrap_or((0.0, 0.0))
        } else {
            (0.0, 0.0)
        };
        metrics::gauge!("supervisord_process_resident_memory_bytes", &labels).set(rss);
        metrics::gauge!("supervisord_process_cpu_seconds_total", &labels).set(cpu);
    }
    if let Some((rss, cpu)) = proc_usage(std::process::id() as i32) {
        metrics::gauge!("supervisord_daemon_resident_memory_bytes").set(rss);
        metrics::gauge!("supervisord_daemon_cpu_seconds_total").set(cpu);
    }
    metrics::gauge!("supervisord_processes").set(all.len() as f64);
    h.render()
}
