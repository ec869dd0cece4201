//! Cross-site request protection for state-changing requests: a POST that a browser sends from
//! another origin (an `Origin` not matching `Host`, or `Sec-Fetch-Site: cross-site`) is refused.
//! Clients that are not browsers send neither header and are not affected.

use axum::extract::Request;
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

fn cross_site(req: &Request) -> bool {
    let h = req.headers();
    if h.get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return true;
    }
    let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let host = h
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .split_once("://")
        .map_or(origin, |(_, rest)| rest)
        .trim_end_matches('/');
    origin == "null" || origin_host != host
}

pub(crate) async fn protect(req: Request, next: Next) -> Response {
    if req.method() == Method::POST && cross_site(&req) {
        return (StatusCode::FORBIDDEN, "cross-site request refused\n").into_response();
    }
    next.run(req).await
}
