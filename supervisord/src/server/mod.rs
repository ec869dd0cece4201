//! The listeners (`[unix_http_server]`, `[inet_http_server]`) and what they serve: the gRPC API
//! today, and the HTTP layer on the same router. Each listener has its own credentials.

pub mod auth;
mod conn;
mod csrf;
pub mod grpc;
mod gui;
mod json_view;
mod metrics;
mod rest;
pub mod tls;
pub mod xmlrpc;

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Response};
use shared::config::Config;
use tokio::net::{TcpListener, UnixListener};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use auth::Credentials;

use crate::service::Service;

/// Bound sockets, ready to serve.
pub struct Listeners {
    unix: Option<(UnixListener, PathBuf, Option<Arc<Credentials>>)>,
    tcp: Vec<TcpPort>,
}

/// One bound address of `[inet_http_server]`.
struct TcpPort {
    listener: TcpListener,
    creds: Option<Arc<Credentials>>,
    tls: Option<Arc<tls::Tls>>,
}

impl Listeners {
    /// The unix socket's path (removed at exit).
    pub fn socket_path(&self) -> Option<PathBuf> {
        self.unix.as_ref().map(|(_, p, _)| p.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.unix.is_none() && self.tcp.is_empty()
    }
}

fn creds(user: &Option<String>, pass: &Option<String>) -> Option<Arc<Credentials>> {
    match (user, pass) {
        (Some(u), Some(p)) => Some(Arc::new(Credentials::new(u, p))),
        (Some(u), None) => Some(Arc::new(Credentials::new(u, ""))),
        _ => None,
    }
}

/// Binds every configured listener; an error names the section and what failed.
pub async fn bind(config: &Config) -> Result<Listeners, String> {
    let mut out = Listeners {
        unix: None,
        tcp: Vec::new(),
    };
    if let Some(u) = &config.unix_http_server {
        let path = u.file.clone();
        if path.exists() {
            if std::os::unix::net::UnixStream::connect(&path).is_ok() {
                return Err(format!(
                    "[unix_http_server] file={}: another program is already listening on this socket (is supervisord already running?)",
                    path.display()
                ));
            }
            std::fs::remove_file(&path).map_err(|e| {
                format!(
                    "[unix_http_server] file={}: can't remove the stale socket: {e}",
                    path.display()
                )
            })?;
        }
        let l = UnixListener::bind(&path).map_err(|e| {
            format!(
                "[unix_http_server] file={}: can't bind: {e}",
                path.display()
            )
        })?;
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(u.chmod))
            .map_err(|e| format!("[unix_http_server] chmod={:o}: {e}", u.chmod))?;
        if let Some(owner) = &u.chown {
            chown(&path, owner)?;
        }
        out.unix = Some((l, path, creds(&u.username, &u.password)));
    }
    if let Some(i) = &config.inet_http_server {
        let addrs = i.bind_addrs();
        if addrs.is_empty() {
            return Err(format!(
                "[inet_http_server] port={}: can't resolve the address",
                i.port
            ));
        }
        let tls = match &i.tls {
            Some(files) => Some(Arc::new(tls::Tls::open(files)?)),
            None => None,
        };
        for a in addrs {
            let l = TcpListener::bind(a)
                .await
                .map_err(|e| format!("[inet_http_server] port={}: can't bind {a}: {e}", i.port))?;
            out.tcp.push(TcpPort {
                listener: l,
                creds: creds(&i.username, &i.password),
                tls: tls.clone(),
            });
        }
    }
    Ok(out)
}

fn chown(path: &std::path::Path, owner: &str) -> Result<(), String> {
    let (user, group) = match owner.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (owner, None),
    };
    let err = |m: String| format!("[unix_http_server] chown={owner}: {m}");
    let pw = nix::unistd::User::from_name(user)
        .map_err(|e| err(e.to_string()))?
        .ok_or_else(|| err(format!("no such user {user}")))?;
    let gid = match group {
        None => pw.gid,
        Some(g) => {
            nix::unistd::Group::from_name(g)
                .map_err(|e| err(e.to_string()))?
                .ok_or_else(|| err(format!("no such group {g}")))?
                .gid
        }
    };
    nix::unistd::chown(path, Some(pw.uid), Some(gid)).map_err(|e| err(e.to_string()))
}

fn is_grpc(req: &Request<Body>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// The largest request body (XML-RPC calls and REST lists are small).
const MAX_BODY: usize = 4 << 20;

/// How long a request body may take to arrive once its head has.
const BODY_TIME: std::time::Duration = std::time::Duration::from_secs(30);

/// Reads a request's body whole, within [`BODY_TIME`] and [`MAX_BODY`], before any handler
/// sees it (after authentication, which is outside): a client that sends a head and never
/// its body gets a 408 instead of holding a handler for ever. gRPC's streams are left alone.
async fn whole_body(req: Request<Body>, next: axum::middleware::Next) -> Response {
    if is_grpc(&req) {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    match tokio::time::timeout(BODY_TIME, axum::body::to_bytes(body, MAX_BODY)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {MAX_BODY} bytes (the limit), or broken\n"),
        )
            .into_response(),
        Err(_) => (
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s\n",
                BODY_TIME.as_secs()
            ),
        )
            .into_response(),
    }
}

/// Every response carries program output or names somewhere (JSON, log tails, event
/// streams, /metrics): no browser may guess it is HTML.
async fn nosniff(mut r: Response) -> Response {
    r.headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(HeaderValue::from_static("nosniff"));
    r
}

/// Answers what no route matched: gRPC clients get UNIMPLEMENTED, others 404.
async fn fallback(req: Request<Body>) -> Response {
    if is_grpc(&req) {
        let mut r = Response::new(Body::empty());
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        r.headers_mut()
            .insert("grpc-status", HeaderValue::from_static("12"));
        return r;
    }
    (StatusCode::NOT_FOUND, "not found\n").into_response()
}

/// The whole HTTP surface one listener serves (gRPC, XML-RPC, REST, GUI, /metrics), without
/// credentials: what the fuzzer drives, request by request.
pub async fn open_router(svc: &Service) -> Result<axum::Router, String> {
    router(svc, None).await
}

async fn router(svc: &Service, creds: Option<Arc<Credentials>>) -> Result<axum::Router, String> {
    let mut r = grpc::routes(svc)
        .await?
        .merge(xmlrpc::routes(svc.clone()))
        .merge(rest::routes(svc.clone()))
        .merge(gui::routes(svc.clone()))
        .route(
            "/metrics",
            axum::routing::get(metrics::render).with_state(svc.clone()),
        )
        .fallback(fallback)
        .layer(axum::middleware::map_response(nosniff))
        .layer(axum::middleware::from_fn(whole_body))
        .layer(axum::middleware::from_fn(csrf::protect))
        // Requests are small; a huge body is a mistake or an attack.
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY));
    if let Some(c) = creds {
        r = r.layer(axum::middleware::from_fn_with_state(c, auth::require));
    }
    Ok(r)
}

/// Serves every listener until `shutdown` is cancelled.
pub async fn serve(
    listeners: Listeners,
    svc: Service,
    shutdown: CancellationToken,
    tasks: &TaskTracker,
) -> Result<(), String> {
    if let Some((l, _, c)) = listeners.unix {
        let app = router(&svc, c).await?;
        tasks.spawn(conn::serve(l, app, None, shutdown.clone(), tasks.clone()));
    }
    for p in listeners.tcp {
        let app = router(&svc, p.creds).await?;
        tasks.spawn(conn::serve(
            p.listener,
            app,
            p.tls,
            shutdown.clone(),
            tasks.clone(),
        ));
    }
    Ok(())
}
