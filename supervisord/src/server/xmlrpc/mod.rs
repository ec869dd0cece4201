//! The HTTP side shared with supervisor's clients: XML-RPC at `/RPC2` and the streamed log tails
//! (`/logtail/<name>[/<channel>]`, `/mainlogtail`) that `supervisorctl tail -f` and `fg` read.

mod methods;
pub mod value;

use std::convert::Infallible;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

use super::grpc::Api;
use super::logfile;
use crate::supervisor::FollowRx;

pub(crate) fn routes(api: Api) -> axum::Router {
    axum::Router::new()
        .route("/RPC2", any(rpc))
        .route("/RPC2/{*rest}", any(rpc))
        .route("/logtail/{*path}", get(logtail))
        .route("/mainlogtail", get(mainlogtail))
        .with_state(api)
}

fn xml(body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r
}

async fn rpc(State(api): State<Api>, method: Method, body: Bytes) -> Response {
    if method != Method::POST {
        return (StatusCode::BAD_REQUEST, "XML-RPC takes POST only\n").into_response();
    }
    let Ok(text) = std::str::from_utf8(&body) else {
        return (StatusCode::BAD_REQUEST, "the body is not UTF-8\n").into_response();
    };
    let (name, params) = match value::parse_call(text) {
        Ok(c) => c,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                format!("bad XML-RPC request: {e}\n"),
            )
                .into_response();
        }
    };
    match methods::call(&api, &name, params).await {
        Ok(v) => xml(value::response(&v)),
        Err(f) => xml(value::fault(f.code(), &f.to_string())),
    }
}

/// A chunked body: the last 1024 bytes of `path`, then everything written after.
fn tail_body(path: Option<std::path::PathBuf>, mut rx: FollowRx) -> Response {
    let (tx, out) = mpsc::channel::<Result<Bytes, Infallible>>(64);
    tokio::spawn(async move {
        if let Some(p) = path {
            let first = logfile::last_bytes(&p, 1024);
            if !first.is_empty() && tx.send(Ok(Bytes::from(first))).await.is_err() {
                return;
            }
        }
        loop {
            match rx.recv().await {
                Ok(d) => {
                    if tx.send(Ok(Bytes::copy_from_slice(&d))).await.is_err() {
                        return;
                    }
                }
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {}
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            }
        }
    });
    let mut r = Response::new(Body::from_stream(ReceiverStream::new(out)));
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain;charset=utf-8"),
    );
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    r
}

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

async fn logtail(State(api): State<Api>, Path(path): Path<String>) -> Response {
    let (name, channel) = match path.rsplit_once('/') {
        Some((n, c)) if c == "stdout" || c == "stderr" => (n.to_owned(), c),
        _ => (path.clone(), "stdout"),
    };
    if name.contains("..") {
        return not_found();
    }
    let Ok((file, rx)) = api.handle.follow(&name, channel == "stderr").await else {
        return not_found();
    };
    match file {
        Some(f) if f.exists() => tail_body(Some(f), rx),
        _ => not_found(),
    }
}

async fn mainlogtail(State(api): State<Api>) -> Response {
    match api.mainlog.path() {
        Some(p) if p.exists() => tail_body(Some(p), api.mainlog.follow()),
        _ => not_found(),
    }
}
