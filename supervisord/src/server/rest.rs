//! The Go supervisord's REST endpoints, with JSON bodies:
//! `GET /program/list`, `GET /program/info/{name}`, `POST /program/{start|stop|restart}/{name}`,
//! `GET /program/log/{name}/{stdout|stderr}`, `POST /program/startPrograms|stopPrograms`
//! (a JSON list of names), `POST /supervisor/shutdown`, `POST /supervisor/reload`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use proto::v1;
use proto::v1::supervisor_server::Supervisor as _;
use shared::json;
use tonic::Request;

use super::grpc::Api;

pub(crate) fn routes(api: Api) -> axum::Router {
    axum::Router::new()
        .route("/program/list", get(list))
        .route("/program/info/{name}", get(info))
        .route("/program/start/{name}", post(start))
        .route("/program/stop/{name}", post(stop))
        .route("/program/restart/{name}", post(restart))
        .route("/program/log/{name}/{channel}", get(log))
        .route("/program/startPrograms", post(start_many))
        .route("/program/stopPrograms", post(stop_many))
        .route("/supervisor/shutdown", post(shutdown))
        .route("/supervisor/reload", post(reload))
        .with_state(api)
}

fn json_response(status: StatusCode, body: String) -> Response {
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}

fn error(st: tonic::Status) -> Response {
    let code = match proto::fault_from_status(&st).map(|f| f.code()) {
        Some(10) => StatusCode::NOT_FOUND,
        Some(6) => StatusCode::SERVICE_UNAVAILABLE,
        Some(60 | 70 | 91) => StatusCode::CONFLICT,
        Some(_) => StatusCode::BAD_REQUEST,
        None => StatusCode::INTERNAL_SERVER_ERROR,
    };
    json_response(code, json::object(&[("error", json::string(st.message()))]))
}

/// A process as the Go supervisord's REST API shows it (its field names).
pub(crate) fn info_json(p: &v1::ProcessInfo) -> String {
    json::object(&[
        ("name", json::string(&p.name)),
        ("group", json::string(&p.group)),
        ("description", json::string(&p.description)),
        ("start", p.start.to_string()),
        ("stop", p.stop.to_string()),
        ("now", p.now.to_string()),
        ("state", p.state.to_string()),
        ("statename", json::string(&p.statename)),
        ("spawnerr", json::string(&p.spawnerr)),
        ("exitstatus", p.exitstatus.to_string()),
        ("logfile", json::string(&p.stdout_logfile)),
        ("stdout_logfile", json::string(&p.stdout_logfile)),
        ("stderr_logfile", json::string(&p.stderr_logfile)),
        ("pid", p.pid.to_string()),
    ])
}

async fn list(State(api): State<Api>) -> Response {
    match api
        .get_all_process_info(Request::new(v1::GetAllProcessInfoRequest {}))
        .await
    {
        Ok(r) => json_response(
            StatusCode::OK,
            json::array(r.into_inner().processes.iter().map(info_json)),
        ),
        Err(st) => error(st),
    }
}

async fn info(State(api): State<Api>, Path(name): Path<String>) -> Response {
    match api
        .get_process_info(Request::new(v1::GetProcessInfoRequest { name }))
        .await
    {
        Ok(r) => json_response(StatusCode::OK, info_json(r.get_ref())),
        Err(st) => error(st),
    }
}

fn success() -> Response {
    json_response(StatusCode::OK, json::object(&[("success", "true".into())]))
}

async fn start(State(api): State<Api>, Path(name): Path<String>) -> Response {
    match api
        .start_process(Request::new(v1::StartProcessRequest { name, wait: true }))
        .await
    {
        Ok(_) => success(),
        Err(st) => error(st),
    }
}

async fn stop(State(api): State<Api>, Path(name): Path<String>) -> Response {
    match api
        .stop_process(Request::new(v1::StopProcessRequest { name, wait: true }))
        .await
    {
        Ok(_) => success(),
        Err(st) => error(st),
    }
}

async fn restart(State(api): State<Api>, Path(name): Path<String>) -> Response {
    let stop = api
        .stop_process(Request::new(v1::StopProcessRequest {
            name: name.clone(),
            wait: true,
        }))
        .await;
    if let Err(st) = stop
        && proto::fault_from_status(&st).map(|f| f.code()) != Some(70)
    {
        return error(st);
    }
    start(State(api), Path(name)).await
}

async fn log(State(api): State<Api>, Path((name, channel)): Path<(String, String)>) -> Response {
    let channel = match channel.as_str() {
        "stdout" => 0,
        "stderr" => 1,
        _ => {
            return json_response(
                StatusCode::NOT_FOUND,
                json::object(&[("error", json::string("channel is stdout or stderr"))]),
            );
        }
    };
    let req = v1::ReadProcessLogRequest {
        name,
        channel,
        offset: -65536,
        length: 0,
    };
    match api.read_process_log(Request::new(req)).await {
        Ok(r) => {
            let mut resp = r.into_inner().data.into_response();
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain;charset=utf-8"),
            );
            resp
        }
        Err(st) => error(st),
    }
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

async fn many(api: Api, body: Bytes, starting: bool) -> Response {
    let Some(list) = names(&body) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            json::object(&[(
                "error",
                json::string("expected a JSON array of program names"),
            )]),
        );
    };
    let mut results = Vec::new();
    for name in list {
        let r = if starting {
            api.start_process(Request::new(v1::StartProcessRequest {
                name: name.clone(),
                wait: true,
            }))
            .await
            .map(drop)
        } else {
            api.stop_process(Request::new(v1::StopProcessRequest {
                name: name.clone(),
                wait: true,
            }))
            .await
            .map(drop)
        };
        results.push(json::object(&[
            ("name", json::string(&name)),
            ("success", r.is_ok().to_string()),
            (
                "error",
                json::string(&r.err().map(|e| e.message().to_owned()).unwrap_or_default()),
            ),
        ]));
    }
    json_response(StatusCode::OK, json::array(results))
}

async fn start_many(State(api): State<Api>, body: Bytes) -> Response {
    many(api, body, true).await
}

async fn stop_many(State(api): State<Api>, body: Bytes) -> Response {
    many(api, body, false).await
}

async fn shutdown(State(api): State<Api>) -> Response {
    match api.shutdown(Request::new(v1::ShutdownRequest {})).await {
        Ok(_) => success(),
        Err(st) => error(st),
    }
}

async fn reload(State(api): State<Api>) -> Response {
    match api.restart(Request::new(v1::RestartRequest {})).await {
        Ok(_) => success(),
        Err(st) => error(st),
    }
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
