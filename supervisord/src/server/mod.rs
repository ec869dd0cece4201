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
use shared::config::{Config, InetHttpServer, UnixHttpServer};
use tokio::net::{TcpListener, UnixListener};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use auth::Credentials;

use crate::service::Service;

/// The listeners the config asks for, serving. A reload re-creates what changed: a listener
/// whose address or file changed is bound anew (and the old one closed only if that worked),
/// one whose credentials, mode or certificate changed keeps its socket and serves new
/// connections with the new settings; connections already open finish as they are.
pub struct Servers {
    svc: Service,
    shutdown: CancellationToken,
    tasks: TaskTracker,
    unix: Option<Running<UnixHttpServer>>,
    inet: Option<Running<InetHttpServer>>,
}

/// One configured listener (the inet one may be several sockets: one per address).
struct Running<C> {
    cfg: C,
    /// Stops accepting (a child of the daemon's shutdown).
    stop: CancellationToken,
    setup: watch::Sender<conn::Setup>,
    /// The accept loops, which own the sockets.
    accepting: Vec<tokio::task::JoinHandle<()>>,
}

impl<C> Running<C> {
    /// The same sockets under new settings: new connections get `setup`.
    fn renew(self, cfg: C, setup: conn::Setup, section: &str, has_auth: bool) -> Running<C> {
        self.setup.send_replace(setup);
        announce(section, has_auth);
        Running { cfg, ..self }
    }

    /// Stops accepting and waits until the sockets are closed (open connections go on).
    async fn close(self) {
        self.stop.cancel();
        for h in self.accepting {
            let _ = h.await;
        }
    }
}

fn creds(user: &Option<String>, pass: &Option<String>) -> Option<Arc<Credentials>> {
    match (user, pass) {
        (Some(u), Some(p)) => Some(Arc::new(Credentials::new(u, p))),
        (Some(u), None) => Some(Arc::new(Credentials::new(u, ""))),
        _ => None,
    }
}

/// Binds `[unix_http_server]`: a stale socket file is replaced, a live one refused.
fn bind_unix(u: &UnixHttpServer) -> Result<UnixListener, String> {
    let path = &u.file;
    if path.exists() {
        if std::os::unix::net::UnixStream::connect(path).is_ok() {
            return Err(format!(
                "[unix_http_server] file={}: another program is already listening on this socket (is supervisord already running?)",
                path.display()
            ));
        }
        std::fs::remove_file(path).map_err(|e| {
            format!(
                "[unix_http_server] file={}: can't remove the stale socket: {e}",
                path.display()
            )
        })?;
    }
    let l = UnixListener::bind(path).map_err(|e| {
        format!(
            "[unix_http_server] file={}: can't bind: {e}",
            path.display()
        )
    })?;
    if let Err(e) = set_mode(u) {
        let _ = std::fs::remove_file(path);
        return Err(e);
    }
    Ok(l)
}

fn set_mode(u: &UnixHttpServer) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&u.file, std::fs::Permissions::from_mode(u.chmod))
        .map_err(|e| format!("[unix_http_server] chmod={:o}: {e}", u.chmod))?;
    if let Some(owner) = &u.chown {
        chown(&u.file, owner)?;
    }
    Ok(())
}

/// Binds every address of `[inet_http_server]`.
async fn bind_inet(i: &InetHttpServer) -> Result<Vec<TcpListener>, String> {
    let addrs = i.bind_addrs();
    if addrs.is_empty() {
        return Err(format!(
            "[inet_http_server] port={}: can't resolve the address",
            i.port
        ));
    }
    let mut out = Vec::new();
    for a in addrs {
        out.push(
            TcpListener::bind(a)
                .await
                .map_err(|e| format!("[inet_http_server] port={}: can't bind {a}: {e}", i.port))?,
        );
    }
    Ok(out)
}

fn announce(section: &str, has_auth: bool) {
    tracing::info!("RPC interface 'supervisor' initialized");
    if !has_auth {
        crate::crit!("Server '{section}' running without any HTTP authentication checking");
    }
}

impl Servers {
    /// Binds and serves every configured listener; an error names the section and what failed.
    pub async fn start(
        config: &Config,
        svc: Service,
        shutdown: CancellationToken,
        tasks: TaskTracker,
    ) -> Result<Servers, String> {
        let mut me = Servers {
            svc,
            shutdown,
            tasks,
            unix: None,
            inet: None,
        };
        if let Some(u) = &config.unix_http_server {
            let l = bind_unix(u)?;
            me.unix = Some(me.serve_unix(u, l).await?);
        }
        if let Some(i) = &config.inet_http_server {
            let tls = open_tls(i)?;
            let ls = bind_inet(i).await?;
            me.inet = Some(me.serve_inet(i, ls, tls).await?);
        }
        Ok(me)
    }

    /// The unix socket's path now (removed at exit).
    pub fn socket_path(&self) -> Option<PathBuf> {
        self.unix.as_ref().map(|r| r.cfg.file.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.unix.is_none() && self.inet.is_none()
    }

    async fn setup(
        &self,
        user: &Option<String>,
        pass: &Option<String>,
        tls: Option<Arc<tls::Tls>>,
    ) -> Result<conn::Setup, String> {
        Ok(conn::Setup {
            app: router(&self.svc, creds(user, pass)).await?,
            tls,
        })
    }

    async fn serve_unix(
        &self,
        u: &UnixHttpServer,
        l: UnixListener,
    ) -> Result<Running<UnixHttpServer>, String> {
        let (setup, rx) = watch::channel(self.setup(&u.username, &u.password, None).await?);
        let stop = self.shutdown.child_token();
        let accepting = vec![self.tasks.spawn(conn::serve(
            l,
            rx,
            stop.clone(),
            self.shutdown.clone(),
            self.tasks.clone(),
        ))];
        announce("unix_http_server", u.username.is_some());
        Ok(Running {
            cfg: u.clone(),
            stop,
            setup,
            accepting,
        })
    }

    async fn serve_inet(
        &self,
        i: &InetHttpServer,
        ls: Vec<TcpListener>,
        tls: Option<Arc<tls::Tls>>,
    ) -> Result<Running<InetHttpServer>, String> {
        let (setup, rx) = watch::channel(self.setup(&i.username, &i.password, tls).await?);
        let stop = self.shutdown.child_token();
        let accepting = ls
            .into_iter()
            .map(|l| {
                self.tasks.spawn(conn::serve(
                    l,
                    rx.clone(),
                    stop.clone(),
                    self.shutdown.clone(),
                    self.tasks.clone(),
                ))
            })
            .collect();
        announce("inet_http_server", i.username.is_some());
        Ok(Running {
            cfg: i.clone(),
            stop,
            setup,
            accepting,
        })
    }

    /// A reload's servers: what changed is re-created; an error is logged and the old
    /// listener keeps serving.
    pub async fn apply(&mut self, config: &Config) {
        if let Err(e) = self.apply_unix(config.unix_http_server.as_ref()).await {
            tracing::error!("{e}; the previous [unix_http_server] keeps serving");
        }
        if let Err(e) = self.apply_inet(config.inet_http_server.as_ref()).await {
            tracing::error!("{e}; the previous [inet_http_server] keeps serving");
        }
    }

    async fn apply_unix(&mut self, new: Option<&UnixHttpServer>) -> Result<(), String> {
        match (self.unix.take(), new) {
            (None, None) => {}
            (Some(old), None) => {
                old.stop.cancel();
                let _ = std::fs::remove_file(&old.cfg.file);
                tracing::info!(
                    "[unix_http_server] removed: {} closed",
                    old.cfg.file.display()
                );
            }
            (None, Some(n)) => {
                let l = bind_unix(n)?;
                self.unix = Some(self.serve_unix(n, l).await?);
            }
            (Some(old), Some(n)) if old.cfg == *n => self.unix = Some(old),
            (Some(old), Some(n)) if old.cfg.file == n.file => {
                // Same socket: new mode and owner now, new credentials for new connections.
                let res = async {
                    let setup = self.setup(&n.username, &n.password, None).await?;
                    set_mode(n)?;
                    Ok::<_, String>(setup)
                }
                .await;
                match res {
                    Ok(setup) => {
                        let has_auth = n.username.is_some();
                        self.unix = Some(old.renew(n.clone(), setup, "unix_http_server", has_auth));
                    }
                    Err(e) => {
                        self.unix = Some(old);
                        return Err(e);
                    }
                }
            }
            (Some(old), Some(n)) => {
                let running = match bind_unix(n) {
                    Ok(l) => self.serve_unix(n, l).await,
                    Err(e) => Err(e),
                };
                match running {
                    Ok(r) => {
                        let file = old.cfg.file.clone();
                        old.close().await;
                        let _ = std::fs::remove_file(&file);
                        self.unix = Some(r);
                    }
                    Err(e) => {
                        self.unix = Some(old);
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }

    async fn apply_inet(&mut self, new: Option<&InetHttpServer>) -> Result<(), String> {
        match (self.inet.take(), new) {
            (None, None) => {}
            (Some(old), None) => {
                let port = old.cfg.port.clone();
                old.close().await;
                tracing::info!("[inet_http_server] removed: port {port} closed");
            }
            (None, Some(n)) => {
                let tls = open_tls(n)?;
                let ls = bind_inet(n).await?;
                self.inet = Some(self.serve_inet(n, ls, tls).await?);
            }
            (Some(old), Some(n)) if old.cfg == *n => self.inet = Some(old),
            (Some(old), Some(n)) if old.cfg.bind_addrs() == n.bind_addrs() => {
                // Same sockets: new credentials or certificate for new connections.
                let res = async {
                    let tls = open_tls(n)?;
                    self.setup(&n.username, &n.password, tls).await
                }
                .await;
                match res {
                    Ok(setup) => {
                        let has_auth = n.username.is_some();
                        self.inet = Some(old.renew(n.clone(), setup, "inet_http_server", has_auth));
                    }
                    Err(e) => {
                        self.inet = Some(old);
                        return Err(e);
                    }
                }
            }
            // The same port on other addresses (`*:9001` → `127.0.0.1:9001`): the old sockets
            // would collide with the new ones, so they close first, and are bound again if
            // the new ones can't be.
            (Some(old), Some(n)) if old.cfg.port_number == n.port_number => {
                let tls = match open_tls(n) {
                    Ok(t) => t,
                    Err(e) => {
                        self.inet = Some(old);
                        return Err(e);
                    }
                };
                let old_cfg = old.cfg.clone();
                let old_tls = old.setup.borrow().tls.clone();
                old.close().await;
                let bound = bind_inet(n).await;
                let (cfg, ls, tls, outcome) = match bound {
                    Ok(ls) => (n.clone(), ls, tls, Ok(())),
                    Err(e) => match bind_inet(&old_cfg).await {
                        Ok(ls) => (old_cfg.clone(), ls, old_tls, Err(e)),
                        Err(again) => {
                            crate::crit!(
                                "{e}; and the previous address can't be bound again ({again}): [inet_http_server] is not serving"
                            );
                            return Ok(());
                        }
                    },
                };
                self.inet = Some(self.serve_inet(&cfg, ls, tls).await?);
                return outcome;
            }
            (Some(old), Some(n)) => {
                let running = async {
                    let tls = open_tls(n)?;
                    let ls = bind_inet(n).await?;
                    self.serve_inet(n, ls, tls).await
                }
                .await;
                match running {
                    Ok(r) => {
                        old.close().await;
                        self.inet = Some(r);
                    }
                    Err(e) => {
                        self.inet = Some(old);
                        return Err(e);
                    }
                }
            }
        }
        Ok(())
    }
}

fn open_tls(i: &InetHttpServer) -> Result<Option<Arc<tls::Tls>>, String> {
    i.tls
        .as_ref()
        .map(|files| tls::Tls::open(files).map(Arc::new))
        .transpose()
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
