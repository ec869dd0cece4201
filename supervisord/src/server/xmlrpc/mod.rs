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
use futures_util::StreamExt;

use crate::logging::Channel;
use crate::service::{Chunk, ChunkStream, Follow, LogSource, Service};

pub(crate) fn routes(svc: Service) -> axum::Router {
    axum::Router::new()
        .route("/RPC2", any(rpc))
        .route("/RPC2/{*rest}", any(rpc))
        .route("/logtail/{*path}", get(logtail))
        .route("/mainlogtail", get(mainlogtail))
        .with_state(svc)
}

fn xml(body: String) -> Response {
    let mut r = Response::new(Body::from(body));
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/xml"));
    r
}

async fn rpc(State(svc): State<Service>, method: Method, body: Bytes) -> Response {
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
    match methods::call(&svc, &name, params).await {
        Ok(v) => xml(value::response(&v)),
        Err(f) => xml(value::fault(f.code(), &f.to_string())),
    }
}

/// A chunked body: the last 1024 bytes of the log, then everything written after.
fn tail_body(chunks: ChunkStream) -> Response {
    let body = chunks.map(|c| {
        Ok::<_, Infallible>(match c {
            Chunk::Data(d) => Bytes::copy_from_slice(&d),
            Chunk::Skipped(n) => Bytes::from(Chunk::skipped_marker(n)),
        })
    });
    let mut r = Response::new(Body::from_stream(body));
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

/// Follows `source` when it has a log file (supervisor answers 404 otherwise).
async fn follow(svc: &Service, source: LogSource) -> Response {
    match svc.follow(&source, 1024).await {
        Ok(Follow {
            file: Some(f),
            chunks,
        }) if f.exists() => tail_body(chunks),
        _ => not_found(),
    }
}

async fn logtail(State(svc): State<Service>, Path(path): Path<String>) -> Response {
    let (name, channel) = match path.rsplit_once('/') {
        Some((n, "stderr")) => (n.to_owned(), Channel::Stderr),
        Some((n, "stdout")) => (n.to_owned(), Channel::Stdout),
        _ => (path.clone(), Channel::Stdout),
    };
    if name.contains("..") {
        return not_found();
    }
    follow(&svc, LogSource::Process { name, channel }).await
}

async fn mainlogtail(State(svc): State<Service>) -> Response {
    follow(&svc, LogSource::Main).await
}
