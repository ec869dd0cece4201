//! The HTTP surface of a listener (gRPC, XML-RPC, REST, GUI, /metrics, log tails) over a real
//! daemon with no program: any request gets a response, never a panic or a hang. The input is
//! `METHOD PATH`, header lines, an empty line, then the body.
#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use axum::body::Body;
use libfuzzer_sys::fuzz_target;
use tower::ServiceExt;

struct App {
    rt: tokio::runtime::Runtime,
    router: axum::Router,
}

fn app() -> &'static App {
    static APP: OnceLock<App> = OnceLock::new();
    APP.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let dir =
            std::env::temp_dir().join(format!("supervisord-fuzz-http-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("supervisord.conf");
        let text = format!(
            "[supervisord]\nlogfile={d}/main.log\nchildlogdir={d}\n",
            d = dir.display()
        );
        let _ = std::fs::write(&path, &text);
        let opts = shared::config::LoadOptions::from_process();
        let config = std::sync::Arc::new(
            shared::config::load_str(&text, &path, &opts).expect("the fuzzer's config"),
        );
        let router = rt.block_on(async {
            let mainlog = supervisord::logging::mainlog::MainLog::new();
            let (_exits, exits_rx) = tokio::sync::mpsc::unbounded_channel();
            let (sup, handle) =
                supervisord::supervisor::Supervisor::new(config, mainlog.clone(), exits_rx);
            tokio::spawn(sup.run());
            // The sender of exits must outlive the actor: nothing is ever reaped here.
            std::mem::forget(_exits);
            let reloader = std::sync::Arc::new(supervisord::service::Reloader::new(
                path.clone(),
                opts,
                mainlog.clone(),
                false,
            ));
            let svc = supervisord::service::Service::new(handle, mainlog, reloader);
            supervisord::server::open_router(&svc)
                .await
                .expect("router")
        });
        App { rt, router }
    })
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let Some((method, path)) = lines.next().and_then(|l| l.split_once(' ')) else {
        return;
    };
    let mut req = axum::http::Request::builder().method(method).uri(path);
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            req = req.header(k.trim(), v.trim());
        }
    }
    let Ok(req) = req.body(Body::from(body.to_owned())) else {
        return;
    };
    let what = format!("{method} {path}");
    let a = app();
    a.rt.block_on(async {
        // The response's head (a stream, a log follow or the GUI's events, is not read): with
        // no program to wait for, every request answers at once.
        let r = tokio::time::timeout(Duration::from_secs(8), a.router.clone().oneshot(req)).await;
        assert!(r.is_ok(), "the request {what} got no answer");
    });
});
