//! The Go supervisord's REST endpoints, with JSON bodies:
//! `GET /program/list`, `GET /program/info/{name}`, `POST /program/{start|stop|restart}/{name}`,
//! `GET /program/log/{name}/{stdout|stderr}`, `POST /program/startPrograms|stopPrograms`
//! (a JSON list of names), `POST /supervisor/shutdown`, `POST /supervisor/reload`. Wherever a
//! program is named, `group:*` names every process of a group, as in the other protocols.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use shared::names::Selection;
use shared::{Fault, json};

use super::json_view::process_json;
use crate::logging::Channel;
use crate::service::{LogSource, Service};

pub(crate) fn routes(svc: Service) -> axum::Router {
    axum::Router::new()
        .route("/program/list", get(list))
        .route("/program/info/{name}", get(info))
        .route("/program/start/{name}", post(start))
        .route("/program/stop/{name}", post(stop))
        .route("/program/restart/{name}", post(restart))
        .route("/program/log/{name}/{channel}", get(log))
        .route("/program/clearlog/{name}", post(clear_log))
        .route("/program/startPrograms", post(start_many))
        .route("/program/stopPrograms", post(stop_many))
        .route("/supervisor/shutdown", post(shutdown))
        .route("/supervisor/reload", post(reload))
        .with_state(svc)
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

/// A fault as REST answers it: an HTTP status for its kind, and `{"error": "<fault string>"}`.
struct FaultReply(Fault);

impl IntoResponse for FaultReply {
    fn into_response(self) -> Response {
        let code = match &self.0 {
            Fault::BadName(_) => StatusCode::NOT_FOUND,
            Fault::ShutdownState => StatusCode::SERVICE_UNAVAILABLE,
            Fault::AlreadyStarted(_) | Fault::NotRunning(_) | Fault::StillRunning(_) => {
                StatusCode::CONFLICT
            }
            _ => StatusCode::BAD_REQUEST,
        };
        json_response(
            code,
            json::object(&[("error", json::string(&self.0.to_string()))]),
        )
    }
}

type Reply = Result<Response, FaultReply>;

async fn list(State(svc): State<Service>) -> Reply {
    let all = svc.processes().await.map_err(FaultReply)?;
    Ok(json_response(
        StatusCode::OK,
        json::array(all.iter().map(process_json)),
    ))
}

async fn info(State(svc): State<Service>, Path(name): Path<String>) -> Reply {
    let p = svc.process(&name).await.map_err(FaultReply)?;
    Ok(json_response(StatusCode::OK, process_json(&p)))
}

fn success() -> Response {
    json_response(StatusCode::OK, json::object(&[("success", "true".into())]))
}

#[derive(Clone, Copy)]
enum Op {
    Start,
    Stop,
    Restart,
}

/// `op` on one process, or on every process of a group (`group:*`), waiting for the effect.
async fn apply(svc: &Service, name: &str, op: Op) -> Result<(), Fault> {
    match (Selection::namespec(name), op) {
        (sel @ Selection::Group(_), Op::Start) => first_failure(svc.start_many(&sel, true).await?),
        (sel @ Selection::Group(_), Op::Stop) => first_failure(svc.stop_many(&sel, true).await?),
        (sel @ Selection::Group(_), Op::Restart) => {
            first_failure(svc.stop_many(&sel, true).await?)?;
            first_failure(svc.start_many(&sel, true).await?)
        }
        (_, Op::Start) => svc.start(name, true).await.map(drop),
        (_, Op::Stop) => svc.stop(name, true).await.map(drop),
        (_, Op::Restart) => svc.restart(name).await.map(drop),
    }
}

async fn start(State(svc): State<Service>, Path(name): Path<String>) -> Reply {
    apply(&svc, &name, Op::Start).await.map_err(FaultReply)?;
    Ok(success())
}

async fn stop(State(svc): State<Service>, Path(name): Path<String>) -> Reply {
    apply(&svc, &name, Op::Stop).await.map_err(FaultReply)?;
    Ok(success())
}

async fn restart(State(svc): State<Service>, Path(name): Path<String>) -> Reply {
    apply(&svc, &name, Op::Restart).await.map_err(FaultReply)?;
    Ok(success())
}

/// Ours (the web GUI's Clear): empties a process's logs, as `clearProcessLogs`.
async fn clear_log(State(svc): State<Service>, Path(name): Path<String>) -> Reply {
    svc.clear_logs(&name).await.map_err(FaultReply)?;
    Ok(success())
}

async fn log(State(svc): State<Service>, Path((name, channel)): Path<(String, String)>) -> Reply {
    let channel = match channel.as_str() {
        "stdout" => Channel::Stdout,
        "stderr" => Channel::Stderr,
        _ => {
            return Ok(json_response(
                StatusCode::NOT_FOUND,
                json::object(&[("error", json::string("channel is stdout or stderr"))]),
            ));
        }
    };
    let source = LogSource::Process { name, channel };
    let data = svc.read_log(&source, -65536, 0).await.map_err(FaultReply)?;
    let mut resp = data.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    Ok(resp)
}

/// Names from a JSON array of strings (`["a", "g:b"]`).
fn names(body: &[u8]) -> Option<Vec<String>> {
    let s = std::str::from_utf8(body).ok()?.trim();
    let inner = s.strip_prefix('[')?.strip_suffix(']')?;
    let mut out = Vec::new();
    for part in inner.split(',') {
        let p = part.trim();
        if p.is_empty() {
            continue;
        }
        let name = p.strip_prefix('"')?.strip_suffix('"')?;
        if name.contains(['"', '\\']) {
            return None;
        }
        out.push(name.to_owned());
    }
    Some(out)
}

/// Starts or stops each named process (a name may be `group:*`), all at once; one result per
/// name, in the order given.
async fn many(svc: Service, body: Bytes, starting: bool) -> Response {
    let Some(list) = names(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            json::object(&[(
                "error",
                json::string("expected a JSON array of program names"),
            )]),
        );
    };
    let mut set = tokio::task::JoinSet::new();
    for (i, name) in list.into_iter().enumerate() {
        let svc = svc.clone();
        let op = if starting { Op::Start } else { Op::Stop };
        set.spawn(async move {
            let r = apply(&svc, &name, op).await;
            (i, name, r)
        });
    }
    let mut done = Vec::new();
    while let Some(r) = set.join_next().await {
        if let Ok(r) = r {
            done.push(r);
        }
    }
    done.sort_by_key(|(i, _, _)| *i);
    let results = done.into_iter().map(|(_, name, r)| {
        json::object(&[
            ("name", json::string(&name)),
            ("success", r.is_ok().to_string()),
            (
                "error",
                json::string(&r.err().map(|e| e.to_string()).unwrap_or_default()),
            ),
        ])
    });
    json_response(StatusCode::OK, json::array(results))
}

/// A group's results as one: the first process that failed, if any.
fn first_failure(rs: Vec<crate::service::ProcessResult>) -> Result<(), Fault> {
    rs.into_iter()
        .find_map(|r| r.outcome.err())
        .map_or(Ok(()), Err)
}

async fn start_many(State(svc): State<Service>, body: Bytes) -> Response {
    many(svc, body, true).await
}

async fn stop_many(State(svc): State<Service>, body: Bytes) -> Response {
    many(svc, body, false).await
}

async fn shutdown(State(svc): State<Service>) -> Reply {
    svc.shutdown().await.map_err(FaultReply)?;
    Ok(success())
}

async fn reload(State(svc): State<Service>) -> Reply {
    svc.reload().await.map_err(FaultReply)?;
    Ok(success())
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn name_lists() {
        assert_eq!(
            names(br#"["a", "g:b"]"#),
            Some(vec!["a".into(), "g:b".into()])
        );
        assert_eq!(names(b"[]"), Some(vec![]));
        assert_eq!(names(b"a,b"), None);
        assert_eq!(names(br#"["a\"b"]"#), None);
    }
}
