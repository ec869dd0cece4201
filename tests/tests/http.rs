//! The rest of the HTTP layer: the Go supervisord's REST endpoints (curl), /metrics (parsed by
//! prometheus_client), cross-site protection, path safety.

use std::process::Command;

use tests::{Daemon, curl, repo_root, venv_python};

fn daemon_on_tcp() -> (Daemon, String) {
    let port = tests::free_port();
    let mut d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\n[program:runner]\ncommand=sleep 600\nstartsecs=0\n[program:idle]\ncommand=sleep 600\nautostart=false\n"
    ));
    d.wait_log("success: runner entered RUNNING state");
    (d, format!("http://127.0.0.1:{port}"))
}

#[test]
fn rest_endpoints() {
    let (d, base) = daemon_on_tcp();
    let r = curl(&[&format!("{base}/program/list")]);
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("application/json"),
        "{r}"
    );
    assert!(
        r.contains("\"name\": \"runner\"") && r.contains("\"statename\": \"RUNNING\""),
        "{r}"
    );
    let r = curl(&[&format!("{base}/program/info/idle")]);
    assert!(r.contains("\"statename\": \"STOPPED\""), "{r}");
    let r = curl(&[&format!("{base}/program/info/nosuch")]);
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    let r = curl(&["-X", "POST", &format!("{base}/program/start/idle")]);
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("\"success\": true"),
        "{r}"
    );
    assert!(d.ctl(&["status", "idle"]).stdout.contains("RUNNING"));
    let r = curl(&["-X", "POST", &format!("{base}/program/restart/idle")]);
    assert!(r.contains("\"success\": true"), "{r}");
    let r = curl(&[
        "-X",
        "POST",
        "-d",
        "[\"idle\", \"nosuch\"]",
        &format!("{base}/program/stopPrograms"),
    ]);
    assert!(r.contains("{\"name\": \"idle\", \"success\": true"), "{r}");
    assert!(
        r.contains("{\"name\": \"nosuch\", \"success\": false, \"error\": \"BAD_NAME: nosuch\"}"),
        "{r}"
    );
    let r = curl(&[
        "-X",
        "POST",
        "-d",
        "not json",
        &format!("{base}/program/startPrograms"),
    ]);
    assert!(r.starts_with("HTTP/1.1 400"), "{r}");
    let r = curl(&[&format!("{base}/program/log/runner/bogus")]);
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    // Only POST changes state.
    let r = curl(&[&format!("{base}/program/stop/runner")]);
    assert!(r.starts_with("HTTP/1.1 405"), "{r}");
    assert!(d.ctl(&["status", "runner"]).stdout.contains("RUNNING"));
}

#[test]
fn rest_names_groups_as_the_other_protocols_do() {
    let port = tests::free_port();
    let mut d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\n[group:web]\nprograms=a,b\n[program:a]\ncommand=sleep 600\nstartsecs=0\n[program:b]\ncommand=sleep 600\nstartsecs=0\n"
    ));
    d.wait_log("success: a entered RUNNING state");
    d.wait_log("success: b entered RUNNING state");
    let base = format!("http://127.0.0.1:{port}");
    let running = |d: &Daemon| {
        d.ctl(&["status", "web:*"])
            .stdout
            .matches("RUNNING")
            .count()
    };
    // `*` is sent escaped, as a browser or a client library would.
    let r = curl(&["-X", "POST", &format!("{base}/program/stop/web:%2A")]);
    assert!(r.contains("\"success\": true"), "{r}");
    assert_eq!(running(&d), 0);
    let r = curl(&["-X", "POST", &format!("{base}/program/start/web:*")]);
    assert!(r.contains("\"success\": true"), "{r}");
    assert_eq!(running(&d), 2);
    let before = d.ctl(&["pid", "web:a"]).stdout;
    let r = curl(&["-X", "POST", &format!("{base}/program/restart/web:*")]);
    assert!(r.contains("\"success\": true"), "{r}");
    assert_eq!(running(&d), 2);
    assert_ne!(d.ctl(&["pid", "web:a"]).stdout, before, "restarted");
    let r = curl(&[
        "-X",
        "POST",
        "-d",
        "[\"web:*\", \"nosuch:*\"]",
        &format!("{base}/program/stopPrograms"),
    ]);
    assert!(r.contains("{\"name\": \"web:*\", \"success\": true"), "{r}");
    assert!(
        r.contains("{\"name\": \"nosuch:*\", \"success\": false, \"error\": \"BAD_NAME: nosuch\"}"),
        "{r}"
    );
    assert_eq!(running(&d), 0);
    let r = curl(&["-X", "POST", &format!("{base}/program/start/nosuch:*")]);
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
}

#[test]
fn cross_site_posts_are_refused() {
    let (d, base) = daemon_on_tcp();
    let r = curl(&[
        "-X",
        "POST",
        "-H",
        "Origin: http://evil.example",
        &format!("{base}/program/stop/runner"),
    ]);
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    let r = curl(&[
        "-X",
        "POST",
        "-H",
        "Sec-Fetch-Site: cross-site",
        "-d",
        "<methodCall><methodName>supervisor.shutdown</methodName></methodCall>",
        &format!("{base}/RPC2"),
    ]);
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    assert!(
        d.ctl(&["status", "runner"]).stdout.contains("RUNNING"),
        "nothing happened"
    );
    // The same origin is fine.
    let host = base.trim_start_matches("http://");
    let r = curl(&[
        "-X",
        "POST",
        "-H",
        &format!("Origin: {base}"),
        "-H",
        &format!("Host: {host}"),
        &format!("{base}/program/stop/runner"),
    ]);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
}

#[test]
fn no_path_traversal_through_log_endpoints() {
    let (_d, base) = daemon_on_tcp();
    for path in [
        "/logtail/..%2F..%2Fetc%2Fpasswd",
        "/logtail/../../etc/passwd",
        "/program/log/..%2Fetc/stdout",
    ] {
        let r = curl(&["--path-as-is", &format!("{base}{path}")]);
        assert!(!r.contains("root:x:0:0"), "{path}: {r}");
        assert!(
            r.starts_with("HTTP/1.1 404") || r.starts_with("HTTP/1.1 400"),
            "{path}: {r}"
        );
    }
}

#[test]
fn metrics_parse_with_prometheus_client() {
    let (_d, base) = daemon_on_tcp();
    let out = Command::new(venv_python())
        .arg(repo_root().join("tests/python/metrics_check.py"))
        .arg(format!("{base}/metrics"))
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn web_gui_in_headless_chromium() {
    let port = tests::free_port();
    let mut d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\n\
         [program:web]\ncommand=sleep 600\nstartsecs=0\n\
         [program:ticker]\ncommand=sh -c 'i=0; while true; do i=$((i+1)); echo tick $i; sleep 0.2; done'\nstartsecs=0\n\
         [program:<script>]\ncommand=sleep 600\nstartsecs=0\n\
         [group:workers]\nprograms=w1,w2\n[program:w1]\ncommand=sleep 600\nstartsecs=0\n[program:w2]\ncommand=sleep 600\nstartsecs=0\n\
         [eventlistener:watch]\ncommand=sh -c 'printf \"READY\\n\"; exec sleep 600'\nevents=PROCESS_STATE_FATAL\nstartsecs=0\n\
         [program:checked]\ncommand=sleep 600\nstartsecs=0\nliveness_check_script=test ! -e %(here)s/sick\n\
         liveness_check_period=0.3\nliveness_check_failure_threshold=1\nliveness_check_failure_action=true\n"
    ));
    d.wait_log("success: web entered RUNNING state");
    let gui = repo_root().join("tests/gui");
    assert!(
        gui.join("node_modules/playwright-core").exists(),
        "run `.ci/setup-gui` first (npm installs playwright-core; Debian's chromium is the browser)"
    );
    let out = Command::new("node")
        .arg(gui.join("gui_test.mjs"))
        .arg(format!("http://127.0.0.1:{port}"))
        .env("SCREENSHOT", d.path("gui.png"))
        .env("SICK", d.path("sick"))
        .output()
        .expect("node");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn responses_carrying_output_or_names_are_never_sniffed() {
    let (_d, base) = daemon_on_tcp();
    for (path, extra) in [
        ("/program/list", &[][..]),
        ("/metrics", &[]),
        ("/nosuch", &[]),
        // Streams: the headers come at once; the stream is cut short.
        ("/logtail/runner", &["--max-time", "1"][..]),
        ("/events", &["--max-time", "1"]),
    ] {
        let url = format!("{base}{path}");
        let r = curl(&[extra, &[url.as_str()][..]].concat());
        assert!(
            r.to_lowercase().contains("x-content-type-options: nosniff"),
            "{path}: {r}"
        );
    }
    let r = curl(&[
        "-H",
        "Content-Type: text/xml",
        "--data-binary",
        "<?xml version='1.0'?><methodCall><methodName>supervisor.getAllProcessInfo</methodName></methodCall>",
        &format!("{base}/RPC2"),
    ]);
    assert!(
        r.to_lowercase().contains("x-content-type-options: nosniff"),
        "{r}"
    );
}

/// Reads from `s` until the server closes it (or `limit` passes): the bytes it sent.
fn until_closed(s: &mut std::net::TcpStream, limit: std::time::Duration) -> Option<String> {
    use std::io::Read;
    s.set_read_timeout(Some(limit)).expect("read timeout");
    let mut got = Vec::new();
    match s.read_to_end(&mut got) {
        Ok(_) => Some(String::from_utf8_lossy(&got).into_owned()),
        // Reset by the server counts as closed too.
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
            Some(String::from_utf8_lossy(&got).into_owned())
        }
        Err(_) => None,
    }
}

#[test]
fn silent_slow_and_bodiless_clients_are_closed_and_others_are_served() {
    use std::io::Write;
    use std::net::TcpStream;
    // Room for the connections below, in the daemon and here.
    let (_, hard) = nix::sys::resource::getrlimit(nix::sys::resource::Resource::RLIMIT_NOFILE)
        .expect("getrlimit");
    let _ = nix::sys::resource::setrlimit(
        nix::sys::resource::Resource::RLIMIT_NOFILE,
        hard.min(8192),
        hard,
    );
    let port = tests::free_port();
    let mut d = Daemon::start(&format!(
        "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/supervisord.pid\nminfds=4096\n\
         [unix_http_server]\nfile=%(here)s/supervisor.sock\n\
         [inet_http_server]\nport=127.0.0.1:{port}\n\
         [program:runner]\ncommand=sleep 600\nstartsecs=0\n"
    ));
    d.wait_log("success: runner entered RUNNING state");
    let addr = format!("127.0.0.1:{port}");
    // 1000 connections that say nothing: the daemon keeps answering.
    let idle: Vec<TcpStream> = (0..1000)
        .map(|_| TcpStream::connect(&addr).expect("connect"))
        .collect();
    let status = d.ctl_in_time(&["status", "runner"]);
    assert!(status.stdout.contains("RUNNING"), "{status:?}");
    // A slow loris: half a head, then nothing.
    let mut loris = TcpStream::connect(&addr).expect("connect");
    loris
        .write_all(b"GET /program/list HTTP/1.1\r\nHost: x\r\n")
        .expect("write");
    // A head announcing a body that never comes.
    let mut bodiless = TcpStream::connect(&addr).expect("connect");
    bodiless
        .write_all(
            b"POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: 100\r\n\r\n",
        )
        .expect("write");
    let limit = std::time::Duration::from_secs(90);
    let mut silent = idle.into_iter().next().expect("one");
    assert!(
        until_closed(&mut silent, limit).is_some(),
        "a silent connection stays open"
    );
    assert!(
        until_closed(&mut loris, limit).is_some(),
        "a slow head stays open"
    );
    let answer = until_closed(&mut bodiless, limit).expect("a bodiless request stays open");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.contains("the request body did not arrive within 30 s"),
        "{answer}"
    );
    assert!(d.ctl(&["status", "runner"]).stdout.contains("RUNNING"));
}
