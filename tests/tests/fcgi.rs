//! `[fcgi-program:x]` through the real daemon with a real FastCGI stack from Debian: fcgiwrap
//! (libfcgi's responder, which accepts on its stdin) as the program, `cgi-fcgi` (libfcgi-bin)
//! and nginx as clients. And the two real-world configs that use fcgi-program (CVAT's uvicorn,
//! openwisp's daphne), run with their ASGI servers from PyPI.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tests::{Daemon, curl, free_port, repo_root, venv_python, wait_for};

const FCGIWRAP: &str = "/usr/sbin/fcgiwrap";

fn need(tool: &str) {
    assert!(
        Path::new(tool).exists(),
        "{tool} not found: .ci/run installs Debian's fcgiwrap, libfcgi-bin and nginx-light"
    );
}

/// The CGI script fcgiwrap runs: it answers with the pid of the fcgiwrap process (its parent).
fn write_cgi(d: &Daemon) {
    let path = d.path("pid.cgi");
    std::fs::write(
        &path,
        "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\npid=%s\\n' \"$PPID\"\n",
    )
    .expect("write cgi");
    let mut perm = std::fs::metadata(&path).expect("meta").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&path, perm).expect("chmod");
}

/// One FastCGI request with `cgi-fcgi` to `addr` (`host:port` or a socket path): the pid that
/// answered, or None when nothing did.
fn request(d: &Daemon, addr: &str) -> Option<i32> {
    need("/usr/bin/cgi-fcgi");
    let out = Command::new("timeout")
        .args(["20", "cgi-fcgi", "-bind", "-connect", addr])
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .env("REQUEST_METHOD", "GET")
        .env("SCRIPT_FILENAME", d.path("pid.cgi"))
        .env("SCRIPT_NAME", "/pid")
        .env("SERVER_NAME", "localhost")
        .env("SERVER_PORT", "80")
        .env("SERVER_PROTOCOL", "HTTP/1.1")
        .env("GATEWAY_INTERFACE", "CGI/1.1")
        .env("QUERY_STRING", "")
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.strip_prefix("pid="))
        .and_then(|p| p.trim().parse().ok())
}

/// The pids of a group's processes, from `supervisorctl status`, once all are RUNNING.
fn group_pids(d: &Daemon, group: &str, n: usize) -> BTreeSet<i32> {
    wait_for(&format!("{n} processes of {group} RUNNING"), || {
        let out = d.ctl(&["status", &format!("{group}:*")]).stdout;
        let pids: BTreeSet<i32> = out
            .lines()
            .filter(|l| l.contains("RUNNING"))
            .filter_map(|l| l.split("pid ").nth(1)?.split(',').next()?.parse().ok())
            .collect();
        (pids.len() == n).then_some(pids)
    })
}

#[test]
fn three_processes_share_a_tcp_and_a_unix_socket_created_before_they_start() {
    need(FCGIWRAP);
    let port = free_port();
    let mut d = Daemon::start(&format!(
        r#"
        [fcgi-program:tcp]
        socket=tcp://127.0.0.1:{port}
        socket_backlog=64
        command={FCGIWRAP}
        numprocs=3
        process_name=%(program_name)s_%(process_num)d
        startsecs=0
        [fcgi-program:unix]
        socket=unix://%(here)s/%(program_name)s.sock
        socket_mode=0660
        command={FCGIWRAP}
        numprocs=3
        process_name=%(program_name)s_%(process_num)d
        startsecs=0
        "#
    ));
    write_cgi(&d);
    let sock = d.path("unix.sock");
    for (group, addr) in [
        ("tcp", format!("127.0.0.1:{port}")),
        ("unix", sock.display().to_string()),
    ] {
        let pids = group_pids(&d, group, 3);
        let mut answered = BTreeSet::new();
        for _ in 0..30 {
            let pid = request(&d, &addr).expect("an answer");
            assert!(
                pids.contains(&pid),
                "{pid} is not one of {group}'s {pids:?}"
            );
            answered.insert(pid);
        }
        assert!(
            answered.len() >= 2,
            "{group}: only {answered:?} answered 30 requests"
        );
    }
    let log = d.log();
    assert_eq!(
        log.matches(&format!("Creating socket tcp://127.0.0.1:{port}"))
            .count(),
        1,
        "{log}"
    );
    let created = log.find("Creating socket tcp://").expect("created");
    assert!(
        created < log.find("spawned: 'tcp_0'").expect("spawned"),
        "{log}"
    );
    let mode = std::fs::metadata(&sock).expect("socket").permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o660
    );
    d.stop();
}

#[test]
fn the_last_process_out_closes_the_socket_and_the_next_start_creates_it_again() {
    need(FCGIWRAP);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let busy = taken.local_addr().expect("addr").port();
    let dir = tempfile::tempdir().expect("tempdir");
    // A stale file where the socket goes (a crashed daemon's) is replaced.
    let sock = dir.path().join("app.sock");
    std::fs::write(&sock, "stale").expect("write");
    let mut d = Daemon::start(&format!(
        r#"
        [fcgi-program:app]
        socket=unix://{sock}
        command={FCGIWRAP}
        numprocs=2
        process_name=app_%(process_num)d
        startsecs=0
        [fcgi-program:busy]
        socket=tcp://127.0.0.1:{busy}
        command={FCGIWRAP}
        startretries=0
        "#,
        sock = sock.display()
    ));
    write_cgi(&d);
    let addr = sock.display().to_string();
    group_pids(&d, "app", 2);
    assert!(request(&d, &addr).is_some());
    let log = d.wait_log("gave up: busy entered FATAL state");
    assert!(
        log.contains(&format!(
            "spawnerr: Could not create FastCGI socket tcp://127.0.0.1:{busy}: Address already in use"
        )),
        "{log}"
    );
    let status = d.ctl(&["status", "busy"]).stdout;
    assert!(
        status.contains("Could not create FastCGI socket"),
        "{status}"
    );

    d.ctl(&["stop", "app:app_0"]);
    assert!(
        request(&d, &addr).is_some(),
        "one process still holds the socket"
    );
    d.ctl(&["stop", "app:app_1"]);
    d.wait_log(&format!("Closing socket unix://{}", sock.display()));
    assert!(
        request(&d, &addr).is_none(),
        "nothing listens once the last process is gone"
    );
    assert!(
        sock.exists(),
        "the file is left in place, as Python leaves it"
    );
    d.ctl(&["start", "app:*"]);
    d.wait_log_count(&format!("Creating socket unix://{}", sock.display()), 2);
    group_pids(&d, "app", 2);
    assert!(request(&d, &addr).is_some());
    drop(taken);
    d.stop();
}

#[test]
fn a_group_restarted_while_requests_flow_answers_from_new_processes() {
    need(FCGIWRAP);
    let port = free_port();
    let d = Daemon::start(&format!(
        r#"
        [fcgi-program:web]
        socket=tcp://127.0.0.1:{port}
        command={FCGIWRAP}
        numprocs=3
        process_name=web_%(process_num)d
        startsecs=0
        "#
    ));
    write_cgi(&d);
    let addr = format!("127.0.0.1:{port}");
    let before = group_pids(&d, "web", 3);
    let d = Arc::new(d);
    let done = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let client = {
        let (d, done, ok, failed, addr) = (
            d.clone(),
            done.clone(),
            ok.clone(),
            failed.clone(),
            addr.clone(),
        );
        std::thread::spawn(move || {
            while !done.load(Ordering::SeqCst) {
                match request(&d, &addr) {
                    Some(_) => ok.fetch_add(1, Ordering::SeqCst),
                    None => failed.fetch_add(1, Ordering::SeqCst),
                };
            }
        })
    };
    wait_for("requests answered before the restart", || {
        (ok.load(Ordering::SeqCst) >= 5).then_some(())
    });
    let out = d.ctl(&["restart", "web:*"]);
    assert_eq!(out.stdout.matches(": started").count(), 3, "{out:?}");
    let after = group_pids(&d, "web", 3);
    assert!(before.is_disjoint(&after), "{before:?} then {after:?}");
    let answered = ok.load(Ordering::SeqCst);
    wait_for("requests answered after the restart", || {
        (ok.load(Ordering::SeqCst) >= answered + 5).then_some(())
    });
    done.store(true, Ordering::SeqCst);
    client.join().expect("client");
    let pid = request(&d, &addr).expect("an answer");
    assert!(after.contains(&pid), "{pid} not in {after:?}");
    // `restart` stops the group, then starts it (as Python's supervisorctl does): the last one
    // out closed the socket, the first one in created it again.
    let log = d.log();
    assert_eq!(log.matches("Closing socket").count(), 1, "{log}");
    assert_eq!(log.matches("Creating socket").count(), 2, "{log}");
    println!(
        "restart under load: {} answered, {} failed (a request in the hands of a process that was stopped)",
        ok.load(Ordering::SeqCst),
        failed.load(Ordering::SeqCst)
    );
    let mut d = Arc::into_inner(d).expect("one owner");
    d.stop();
}

#[test]
fn a_changed_socket_is_created_anew_by_update() {
    need(FCGIWRAP);
    let (a, b) = (free_port(), free_port());
    let body = |port: u16| {
        format!(
            "[fcgi-program:web]\nsocket=tcp://127.0.0.1:{port}\ncommand={FCGIWRAP}\nstartsecs=0\n"
        )
    };
    let mut d = Daemon::start(&body(a));
    write_cgi(&d);
    group_pids(&d, "web", 1);
    assert!(request(&d, &format!("127.0.0.1:{a}")).is_some());
    d.write_config(&body(b));
    let out = d.ctl(&["update"]);
    assert!(out.stdout.contains("web: updated process group"), "{out:?}");
    d.wait_log(&format!("Closing socket tcp://127.0.0.1:{a}"));
    d.wait_log(&format!("Creating socket tcp://127.0.0.1:{b}"));
    group_pids(&d, "web", 1);
    assert!(request(&d, &format!("127.0.0.1:{b}")).is_some());
    assert!(request(&d, &format!("127.0.0.1:{a}")).is_none());
    d.stop();
}

#[test]
fn nginx_in_front_of_an_fcgi_group() {
    need(FCGIWRAP);
    need("/usr/sbin/nginx");
    let (http, fcgi) = (free_port(), free_port());
    let mut d = Daemon::start(&format!(
        r#"
        [fcgi-program:app]
        socket=unix://%(here)s/app.sock
        command={FCGIWRAP}
        numprocs=2
        process_name=app_%(process_num)d
        startsecs=0
        [fcgi-program:tcp]
        socket=tcp://127.0.0.1:{fcgi}
        command={FCGIWRAP}
        startsecs=0
        [program:nginx]
        command=/usr/sbin/nginx -c %(here)s/nginx.conf
        startsecs=1
        "#
    ));
    write_cgi(&d);
    let dir = d.dir.path().display().to_string();
    std::fs::create_dir(d.path("ngx")).expect("mkdir");
    std::fs::write(
        d.path("nginx.conf"),
        format!(
            "daemon off; master_process off; worker_processes 1; pid {dir}/nginx.pid;\n\
             error_log {dir}/nginx-error.log;\nevents {{ worker_connections 64; }}\n\
             http {{ access_log off; client_body_temp_path {dir}/ngx; fastcgi_temp_path {dir}/ngx;\n\
               proxy_temp_path {dir}/ngx; uwsgi_temp_path {dir}/ngx; scgi_temp_path {dir}/ngx;\n\
               server {{ listen 127.0.0.1:{http};\n\
                 location /unix {{ include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME {dir}/pid.cgi; fastcgi_pass unix:{dir}/app.sock; }}\n\
                 location /tcp {{ include /etc/nginx/fastcgi_params; fastcgi_param SCRIPT_FILENAME {dir}/pid.cgi; fastcgi_pass 127.0.0.1:{fcgi}; }} }} }}\n"
        ),
    )
    .expect("nginx.conf");
    d.ctl(&["restart", "nginx"]);
    d.wait_log("success: nginx entered RUNNING state");
    let unix = group_pids(&d, "app", 2);
    let tcp = group_pids(&d, "tcp", 1);
    for (path, pids) in [("unix", &unix), ("tcp", &tcp)] {
        let page = wait_for(&format!("nginx to answer /{path}"), || {
            let r = curl(&[&format!("http://127.0.0.1:{http}/{path}")]);
            r.starts_with("HTTP/1.1 200").then_some(r)
        });
        let pid: i32 = page
            .lines()
            .find_map(|l| l.strip_prefix("pid="))
            .and_then(|p| p.trim().parse().ok())
            .expect(&page);
        assert!(pids.contains(&pid), "{page}");
    }
    d.stop();
}

/// An ASGI application that says which process answered.
const ASGI: &str = r#"import os
async def application(scope, receive, send):
    if scope["type"] != "http":
        return
    body = ("asgi pid=%d\n" % os.getpid()).encode()
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": body})
"#;

/// A real-world config from the corpus, its paths moved into `dir` by `edits`.
fn corpus_file(name: &str, edits: &[(&str, String)]) -> String {
    let mut text =
        std::fs::read_to_string(repo_root().join("tests/corpus/configparser").join(name))
            .expect("corpus file");
    for (from, to) in edits {
        assert!(text.contains(from), "{name} has no {from:?}");
        text = text.replace(from, to);
    }
    text
}

fn get_unix(sock: &Path) -> Option<String> {
    let out = Command::new("curl")
        .args(["-s", "--max-time", "20", "--unix-socket"])
        .arg(sock)
        .arg("http://localhost/")
        .output()
        .ok()?;
    let body = String::from_utf8_lossy(&out.stdout).into_owned();
    body.starts_with("asgi pid=").then_some(body)
}

#[test]
fn the_corpus_fcgi_programs_run_cvat_uvicorn_and_openwisp_daphne() {
    let bin = venv_python().with_file_name("daphne");
    assert!(
        bin.exists(),
        "run `.ci/setup-python` (it installs uvicorn and daphne into the venv)"
    );
    let mut d = Daemon::start("[include]\nfiles = cvat.conf openwisp.conf\n");
    let here = d.dir.path().display().to_string();
    let python = venv_python().display().to_string();
    for pkg in ["cvat", "openwisp2"] {
        std::fs::create_dir(d.path(pkg)).expect("mkdir");
        std::fs::write(d.path(pkg).join("__init__.py"), "").expect("init");
        std::fs::write(d.path(pkg).join("asgi.py"), ASGI).expect("asgi");
    }
    std::fs::create_dir(d.path("run")).expect("mkdir");
    std::fs::write(d.path("wait_for_deps.sh"), "#!/bin/sh\nexec \"$@\"\n").expect("script");
    let mut perm = std::fs::metadata(d.path("wait_for_deps.sh"))
        .expect("meta")
        .permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(d.path("wait_for_deps.sh"), perm).expect("chmod");
    // File 24 as CVAT ships it, but for its [include] of CVAT's other files and its nginx
    // (configured by CVAT's image): uvicorn on the fcgi socket, NUMPROCS processes.
    let cvat = corpus_file(
        "24-cvat-ai_cvat-server.conf",
        &[
            ("%(ENV_HOME)s", here.clone()),
            (
                "unix:///tmp/uvicorn.sock",
                format!("unix://{here}/uvicorn.sock"),
            ),
            ("python3 -m uvicorn", format!("{python} -m uvicorn")),
            ("%(ENV_NUMPROCS)s", "2".into()),
        ],
    );
    let start = cvat.find("[fcgi-program:uvicorn]").expect("section");
    std::fs::write(d.path("cvat.conf"), &cvat[start..]).expect("write");
    let openwisp = corpus_file(
        "50-the-maldridge_openwisp-aio-daphne.conf",
        &[
            ("/run/openwisp/", format!("{here}/run/")),
            ("/opt/openwisp/venv/bin/daphne", bin.display().to_string()),
            ("directory=/opt/openwisp", format!("directory={here}")),
            ("/var/log/openwisp/", format!("{here}/")),
        ],
    );
    std::fs::write(d.path("openwisp.conf"), openwisp).expect("write");
    d.ctl(&["reload"]);
    d.wait_log("Creating socket unix://");
    let uvicorn = group_pids(&d, "uvicorn", 2);
    let answer = wait_for("uvicorn to answer on the fcgi socket", || {
        get_unix(&d.path("uvicorn.sock"))
    });
    let pid: i32 = answer
        .trim()
        .trim_start_matches("asgi pid=")
        .parse()
        .expect(&answer);
    assert!(uvicorn.contains(&pid), "{answer} not from {uvicorn:?}");
    // openwisp's daphne listens on the fcgi socket (fd 0) and on a socket of its own (-u) at
    // the same path for process 0: a first attempt may lose that race and be restarted, as
    // under Python's supervisord. It answers once RUNNING.
    wait_for("daphne's RUNNING process to answer", || {
        let answer = get_unix(&d.path("run/daphne0.sock"))?;
        let pid: i32 = answer.trim().trim_start_matches("asgi pid=").parse().ok()?;
        group_pids(&d, "daphne", 1).contains(&pid).then_some(())
    });
    let log = std::fs::read_to_string(d.path("daphne.log")).expect("daphne.log");
    assert!(log.contains("fd:fileno=0"), "{log}");
    d.stop();
}
