//! The web GUI: the assets of `web/` embedded in the binary, and the two event streams the page
//! listens to (`/events`: process states; `/logstream/{name}/{channel}`: live log output).

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use proto::v1;
use proto::v1::supervisor_server::Supervisor as _;
use rust_embed::RustEmbed;
use shared::json;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Request;

use super::grpc::{Api, to_proto};
use super::logfile;
use super::rest::info_json;
use crate::events::Event;

#[derive(RustEmbed)]
#[folder = "../web/"]
#[exclude = "*.md"]
struct Assets;

pub(crate) fn routes(api: Api) -> axum::Router {
    axum::Router::new()
        .route("/", get(index))
        .route("/index.html", get(index))
        .route("/static/{file}", get(asset))
        .route("/events", get(events))
        .route("/logstream/{name}/{channel}", get(logstream))
        .with_state(api)
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

async fn snapshot(api: &Api) -> Option<String> {
    let all = api
        .get_all_process_info(Request::new(v1::GetAllProcessInfoRequest {}))
        .await
        .ok()?
        .into_inner()
        .processes;
    Some(json::object(&[
        ("identification", json::string(&api.reloader.identifier())),
        ("now", crate::supervisor::wall_now().to_string()),
        ("processes", json::array(all.iter().map(info_json))),
    ]))
}

type SseStream = ReceiverStream<Result<SseEvent, Infallible>>;

/// A snapshot of every process, then one event per state change (with the process's info).
async fn events(State(api): State<Api>) -> Response {
    let (tx, rx) = mpsc::channel(256);
    let mut sub = api.handle.subscribe();
    tokio::spawn(async move {
        let send_snapshot = |snap: Option<String>| {
            let tx = tx.clone();
            async move {
                match snap {
                    Some(s) => tx
                        .send(Ok(SseEvent::default().event("snapshot").data(s)))
                        .await
                        .is_ok(),
                    None => false,
                }
            }
        };
        if !send_snapshot(snapshot(&api).await).await {
            return;
        }
        loop {
            match sub.recv().await {
                Ok(Event::ProcessStateChanged { name, group, .. }) => {
                    let Ok(info) = api.handle.info(&format!("{group}:{name}")).await else {
                        continue;
                    };
                    let data = info_json(&to_proto(info));
                    if tx
                        .send(Ok(SseEvent::default().event("process").data(data)))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
                Ok(Event::SupervisorStateChanged { .. }) => {
                    // After a reload the whole table is new.
                    if !send_snapshot(snapshot(&api).await).await {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                    if !send_snapshot(snapshot(&api).await).await {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    Sse::new(SseStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(30)))
        .into_response()
}

/// The last 8 KiB of a process's log, then its output as it is written; each message is a JSON
/// string so any byte sequence arrives intact.
async fn logstream(
    State(api): State<Api>,
    Path((name, channel)): Path<(String, String)>,
) -> Response {
    let stderr = match channel.as_str() {
        "stdout" => false,
        "stderr" => true,
        _ => return (StatusCode::NOT_FOUND, "not found\n").into_response(),
    };
    let Ok((path, mut follow)) = api.handle.follow(&name, stderr).await else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    let (tx, rx) = mpsc::channel::<Result<SseEvent, Infallible>>(256);
    tokio::spawn(async move {
        let data = |b: &[u8]| SseEvent::default().data(json::string(&String::from_utf8_lossy(b)));
        if let Some(p) = path {
            let first = logfile::last_bytes(&p, 8192);
            if !first.is_empty() && tx.send(Ok(data(&first))).await.is_err() {
                return;
            }
        }
        loop {
            match follow.recv().await {
                Ok(chunk) => {
                    if tx.send(Ok(data(&chunk))).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    Sse::new(ReceiverStream::new(rx))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(30)))
        .into_response()
}
