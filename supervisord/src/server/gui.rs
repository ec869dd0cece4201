//! The web GUI: the assets of `web/` embedded in the binary, and the two event streams the page
//! listens to (`/events`: process states; `/logstream/{name}/{channel}`: live log output).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use rust_embed::RustEmbed;
use shared::json;
use tokio::sync::broadcast::error::RecvError;

use super::json_view::{pool_json, process_json};
use crate::events::Event;
use crate::logging::Channel;
use crate::service::{Chunk, LogSource, Service};

#[derive(RustEmbed)]
#[folder = "../web/"]
#[exclude = "*.md"]
struct Assets;

pub(crate) fn routes(svc: Service) -> axum::Router {
    axum::Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/static/{file}", get(asset))
        .route("/events", get(events))
        .route("/logstream/{name}/{channel}", get(logstream))
        .with_state(svc)
}

fn serve(path: &str) -> Response {
    let Some(file) = Assets::get(path) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let mime = match path.rsplit_once('.').map(|(_, e)| e) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    };
    let mut r = file.data.into_owned().into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    // Everything is ours: no inline scripts, no third-party origins.
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'self'; style-src 'self'; script-src 'self'; object-src 'none'; frame-ancestors 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

async fn index() -> Response {
    serve("index.html")
}

async fn asset(Path(file): Path<String>) -> Response {
    if file.contains("..") || file.contains('/') {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    }
    serve(&file)
}

async fn snapshot(svc: &Service) -> Option<String> {
    let all = svc.processes().await.ok()?;
    Some(json::object(&[
        ("identification", json::string(&svc.identification())),
        ("version", json::string(env!("CARGO_PKG_VERSION"))),
        ("now", crate::supervisor::wall_now().to_string()),
        ("processes", json::array(all.iter().map(process_json))),
        ("pools", pools(svc).await),
    ]))
}

async fn pools(svc: &Service) -> String {
    json::array(svc.pools().await.iter().map(pool_json))
}

/// How often the page's view of the listener pools is refreshed (listener states change with
/// every event; one update a second is what a person can read).
const POOLS_EVERY: Duration = Duration::from_secs(1);

/// How often the page gets each process's memory and CPU (its charts' resolution).
const STATS_EVERY: Duration = Duration::from_secs(2);

/// Every running process's resident memory (bytes) and CPU time (seconds), from /proc: the
/// page turns CPU time into a percentage between two samples.
async fn stats(svc: &Service) -> Option<String> {
    let all = svc.processes().await.ok()?;
    let now = crate::supervisor::wall_now();
    tokio::task::spawn_blocking(move || {
        let rows = all.iter().filter(|p| p.info.pid > 0).filter_map(|p| {
            let (rss, cpu) = super::metrics::proc_usage(p.info.pid)?;
            Some(json::object(&[
                (
                    "name",
                    json::string(&format!("{}:{}", p.info.group, p.info.name)),
                ),
                ("rss", format!("{rss:.0}")),
                ("cpu", format!("{cpu:.2}")),
                // A check's verdict changes no state, so it travels with the samples.
                (
                    "health",
                    json::string(p.info.health.word().unwrap_or_default()),
                ),
                (
                    "health_detail",
                    json::string(super::json_view::health_detail(&p.info.health)),
                ),
            ]))
        });
        json::object(&[("now", now.to_string()), ("processes", json::array(rows))])
    })
    .await
    .ok()
}

fn sse(event: &'static str, data: String) -> Result<SseEvent, Infallible> {
    Ok(SseEvent::default().event(event).data(data))
}

/// What the page is sent when the daemon publishes `ev` (nothing for events it does not show).
async fn page_update(svc: &Service, ev: Result<Event, RecvError>) -> Option<Option<SseEvent>> {
    Some(match ev {
        Ok(Event::ProcessStateChanged { name, group, .. }) => {
            match svc.process(&format!("{group}:{name}")).await {
                Ok(p) => Some(SseEvent::default().event("process").data(process_json(&p))),
                Err(_) => None,
            }
        }
        // After a reload the whole table is new; after a lag the page missed changes.
        Ok(Event::SupervisorStateChanged { .. }) | Err(RecvError::Lagged(_)) => Some(
            SseEvent::default()
                .event("snapshot")
                .data(snapshot(svc).await?),
        ),
        Ok(_) => None,
        Err(RecvError::Closed) => return None,
    })
}

/// A snapshot of every process, then one event per state change (with the process's info),
/// and the listener pools when they change.
async fn events(State(svc): State<Service>) -> Response {
    let sub = svc.subscribe();
    let Some(first) = snapshot(&svc).await else {
        return (StatusCode::SERVICE_UNAVAILABLE, "shutting down\n").into_response();
    };
    let mut every = tokio::time::interval(POOLS_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut sample = tokio::time::interval(STATS_EVERY);
    sample.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let last = pools(&svc).await;
    let updates = futures_util::stream::unfold(
        (svc, sub, every, sample, last),
        |(svc, mut sub, mut every, mut sample, mut last)| async move {
            loop {
                let ev = tokio::select! {
                    ev = sub.recv() => ev,
                    _ = every.tick() => {
                        let now = pools(&svc).await;
                        if now == last {
                            continue;
                        }
                        last.clone_from(&now);
                        let e = SseEvent::default().event("pools").data(now);
                        return Some((Ok::<_, Infallible>(e), (svc, sub, every, sample, last)));
                    }
                    _ = sample.tick() => {
                        let Some(s) = stats(&svc).await else { continue };
                        let e = SseEvent::default().event("stats").data(s);
                        return Some((Ok::<_, Infallible>(e), (svc, sub, every, sample, last)));
                    }
                };
                match page_update(&svc, ev).await {
                    None => return None,
                    Some(None) => continue,
                    Some(Some(e)) => {
                        return Some((Ok::<_, Infallible>(e), (svc, sub, every, sample, last)));
                    }
                }
            }
        },
    );
    let stream = futures_util::stream::once(async move { sse("snapshot", first) }).chain(updates);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(30)))
        .into_response()
}

/// The last 8 KiB of a process's log, then its output as it is written; each message is a JSON
/// string so any byte sequence arrives intact.
async fn logstream(
    State(svc): State<Service>,
    Path((name, channel)): Path<(String, String)>,
) -> Response {
    let channel = match channel.as_str() {
        "stdout" => Channel::Stdout,
        "stderr" => Channel::Stderr,
        _ => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };
    let Ok(follow) = svc
        .follow(&LogSource::Process { name, channel }, 8192)
        .await
    else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let stream = follow.chunks.map(|c| {
        let text = match c {
            Chunk::Data(d) => String::from_utf8_lossy(&d).into_owned(),
            Chunk::Skipped(n) => Chunk::skipped_marker(n),
        };
        Ok::<_, Infallible>(SseEvent::default().data(json::string(&text)))
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(30)))
        .into_response()
}
