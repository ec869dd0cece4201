//! The HTTP layer with clients that are not ours: Python's supervisorctl (every command, the same
//! output and exit codes as ours), Python's xmlrpc.client (values and faults), curl (HTTP rules
//! and auth).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use tests::{Daemon, PROGRAMS, curl, daemon, repo_root, venv_python, wait_for};

/// Uptimes tick between two runs; everything else must be identical.
fn normalize(s: &str) -> String {
    s.lines()
        .map(|l| match l.find(", uptime ") {
            Some(i) => l[..i].to_owned(),
            None => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn pythons_supervisorctl_prints_what_ours_prints() {
    let d = daemon();
    // Read-only commands: both clients, same daemon, same answer.
    for args in [
        &["status"][..],
        &["status", "longrun", "grp:*"],
        &["status", "nosuch"],
        &["status", "grp"],
        &["pid", "longrun"],
        &["pid", "nosuch"],
        &["pid", "manual"],
        &["avail"],
        &["tail", "nosuch"],
        &["tail", "chatty", "bogus"],
        &["maintail", "100"],
        &["start", "longrun"],
        &["stop", "manual"],
        &["start", "nosuch"],
        &["start", "nofile"],
        &["signal", "BOGUS", "longrun"],
        &["signal", "HUP", "manual"],
        &["clear", "nosuch"],
        &["reread"],
        &["version"],
    ] {
        let ours = d.ctl(args);
        let theirs = d.pyctl(args);
        assert_eq!(
            (theirs.code, normalize(&theirs.stdout)),
            (ours.code, normalize(&ours.stdout)),
            "supervisorctl {args:?}\nours:   {ours:?}\ntheirs: {theirs:?}"
        );
    }
    // State-changing commands, with Python's client alone.
    let o = d.pyctl(&["start", "manual"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "manual: started\n"));
    let o = d.pyctl(&["restart", "manual"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "manual: stopped\nmanual: started\n")
    );
    let o = d.pyctl(&["stop", "grp:*"]);
    let mut l: Vec<&str> = o.stdout.lines().collect();
    l.sort();
    assert_eq!(l, ["grp:ga: stopped", "grp:gb: stopped"]);
    let o = d.pyctl(&["start", "crasher"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (7, "crasher: ERROR (spawn error)\n")
    );
    let o = d.pyctl(&["signal", "CONT", "longrun"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "longrun: signalled\n"));
    let o = d.pyctl(&["clear", "chatty"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "chatty: cleared\n"));
}

#[test]
fn pythons_tail_f_and_fg_stream_through_logtail() {
    let d = daemon();
    let py = venv_python().with_file_name("supervisorctl");
    let mut child = Command::new(&py)
        .args(["-s", &d.url(), "tail", "-f", "chatty"])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("python tail -f");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut lines = 0;
    while lines < 8 {
        let mut l = String::new();
        assert!(out.read_line(&mut l).expect("read") > 0, "stream ended");
        if l.starts_with("out line") {
            lines += 1;
        }
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    assert_eq!(child.wait().expect("wait").code(), Some(0));
}

#[test]
fn xmlrpc_client_values_and_faults() {
    let d = daemon();
    let port = tests::free_port();
    // The same programs, served over TCP with auth as well.
    let mut d2 = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=123\n{PROGRAMS}"
    ));
    drop(d);
    d2.wait_log("gave up: crasher entered FATAL state");
    for p in ["longrun", "ga", "gb", "chatty", "echoer"] {
        d2.wait_log(&format!("success: {p} entered RUNNING state"));
    }
    let out = Command::new(venv_python())
        .arg(repo_root().join("tests/python/xmlrpc_client.py"))
        .arg(format!("http://user:123@127.0.0.1:{port}/RPC2"))
        .output()
        .expect("python");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // curl: the HTTP rules.
    let base = format!("http://127.0.0.1:{port}");
    let r = curl(&[&format!("{base}/RPC2")]);
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
    assert!(
        r.to_lowercase()
            .contains("www-authenticate: basic realm=\"default\""),
        "{r}"
    );
    let r = curl(&["-u", "user:123", &format!("{base}/RPC2")]);
    assert!(r.starts_with("HTTP/1.1 400"), "GET is refused: {r}");
    let r = curl(&[
        "-u",
        "user:123",
        "-d",
        "<methodCall><nope",
        &format!("{base}/RPC2"),
    ]);
    assert!(r.starts_with("HTTP/1.1 400"), "malformed: {r}");
    let r = curl(&[
        "-u",
        "user:123",
        "-d",
        "<?xml version='1.0'?><methodCall><methodName>supervisor.getPID</methodName></methodCall>",
        &format!("{base}/RPC2"),
    ]);
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("text/xml") && r.contains("<int>"),
        "{r}"
    );
    let r = curl(&["-u", "user:123", &format!("{base}/logtail/nosuch/stdout")]);
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    let r = curl(&["-u", "user:wrong", &format!("{base}/mainlogtail")]);
    assert!(r.starts_with("HTTP/1.1 401"), "{r}");
    wait_for("a clean shutdown", || Some(()));
}

/// Feeds one event to a superlance listener the way supervisord would, and returns its result.
fn feed_listener(listener: &mut std::process::Child, eventname: &str, payload: &str) -> String {
    use std::io::{Read, Write};
    let out = listener.stdout.as_mut().expect("stdout");
    let mut ready = [0u8; 6];
    out.read_exact(&mut ready).expect("READY");
    assert_eq!(&ready, b"READY\n");
    let header = format!(
        "ver:3.0 server:supervisor serial:1 pool:listener poolserial:1 eventname:{eventname} len:{}\n",
        payload.chars().count()
    );
    let input = listener.stdin.as_mut().expect("stdin");
    input.write_all(header.as_bytes()).expect("write");
    input.write_all(payload.as_bytes()).expect("write");
    input.flush().expect("flush");
    let mut result = [0u8; 11];
    out.read_exact(&mut result).expect("RESULT");
    String::from_utf8_lossy(&result).into_owned()
}

#[test]
fn superlance_memmon_and_httpok_restart_through_our_xmlrpc() {
    let mut d = Daemon::start(
        "[program:hog]\ncommand=sleep 600\nstartsecs=0\n[program:web]\ncommand=sleep 601\nstartsecs=0\n",
    );
    d.wait_log("success: hog entered RUNNING state");
    d.wait_log("success: web entered RUNNING state");
    let bin_dir = venv_python().with_file_name("");
    let env_url = format!("unix://{}", d.path("supervisor.sock").display());

    // memmon: hog uses more than 1 KB, so a TICK makes memmon restart it (getAllProcessInfo,
    // getProcessInfo('hog:hog'), stopProcess, startProcess).
    let hog_before = d.spawned_pid("hog");
    let mut memmon = Command::new(bin_dir.join("memmon"))
        .args(["-p", "hog=1KB"])
        .env("SUPERVISOR_SERVER_URL", &env_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("memmon");
    let r = feed_listener(&mut memmon, "TICK_60", "when:1700000000");
    assert_eq!(r, "RESULT 2\nOK");
    wait_for("hog restarted by memmon", || {
        let pid = d.spawned_pid("hog");
        (pid != hog_before).then_some(())
    });
    let _ = memmon.kill();
    let _ = memmon.wait();

    // httpok: the URL does not answer, so on a TICK httpok restarts web.
    let web_before = d.spawned_pid("web");
    let port = tests::free_port();
    let mut httpok = Command::new(bin_dir.join("httpok"))
        .args(["-p", "web", "-t", "2", &format!("http://127.0.0.1:{port}/")])
        .env("SUPERVISOR_SERVER_URL", &env_url)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("httpok");
    assert_eq!(
        feed_listener(&mut httpok, "TICK_60", "when:1700000000"),
        "RESULT 2\nOK"
    );
    wait_for("web restarted by httpok", || {
        (d.spawned_pid("web") != web_before).then_some(())
    });
    let _ = httpok.kill();
    let _ = httpok.wait();
}

#[test]
fn a_deeply_nested_request_is_refused_and_the_daemon_lives_on() {
    // These bodies aborted the whole daemon (a worker's stack overflowed), orphaning every
    // program.
    let mut d = Daemon::start("[program:web]\ncommand=sleep 600\nstartsecs=0\n");
    d.wait_log("success: web entered RUNNING state");
    let sock = d.path("supervisor.sock").display().to_string();
    for (open, close, n) in [
        ("<a>", "</a>", 50_000),
        ("<array><data><value>", "</value></data></array>", 5_000),
    ] {
        let body = format!(
            "<?xml version='1.0'?><methodCall><methodName>supervisor.getState</methodName><params><param><value>{}{}</value></param></params></methodCall>",
            open.repeat(n),
            close.repeat(n)
        );
        let file = d.path("body.xml");
        std::fs::write(&file, body).expect("write body");
        let out = curl(&[
            "--unix-socket",
            &sock,
            "-H",
            "Content-Type: text/xml",
            "--data-binary",
            &format!("@{}", file.display()),
            "http://localhost/RPC2",
        ]);
        assert!(out.starts_with("HTTP/1.1 400"), "{out}");
        assert!(
            out.contains("elements nest deeper than 100 levels (the limit)"),
            "{out}"
        );
    }
    let status = d.ctl(&["status", "web"]);
    assert!(status.stdout.contains("RUNNING"), "{status:?}");
    assert_eq!(d.stop(), 0);
}

/// Runs `tests/python/SCRIPT SOCKET ARGS…` (the venv's Python) against `d`: its stdout.
fn python_against(d: &Daemon, script: &str, args: &[&str]) -> String {
    let out = std::process::Command::new(tests::venv_python())
        .arg(tests::repo_root().join("tests/python").join(script))
        .arg(d.path("supervisor.sock"))
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("run {script}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn get_all_config_info_is_pythons_key_for_key() {
    let conf = r#"
        [program:plain]
        command=/bin/sleep 600
        [program:autolog]
        command=/bin/sleep 600
        stdout_logfile=AUTO
        stderr_logfile=NONE
        [program:explicit]
        command=/bin/sleep 600
        stdout_logfile=%(here)s/x.log
        stdout_logfile_maxbytes=1KB
        stdout_logfile_backups=3
        stdout_capture_maxbytes=1KB
        stdout_events_enabled=true
        stdout_syslog=true
        stderr_logfile=%(here)s/e.log
        stderr_logfile_backups=0
        [program:rooted]
        command=/bin/sleep 600
        user=root
        [program:redir]
        command=/bin/sleep 600
        redirect_stderr=true
        [program:misc]
        command=/bin/sleep 600
        autostart=false
        killasgroup=true
        stopasgroup=true
        priority=50
        exitcodes=0,2
        startsecs=0
        stopsignal=INT
        serverurl=http://127.0.0.1:9999
        directory=/tmp
        [program:multi]
        command=/bin/sleep 600
        numprocs=2
        process_name=%(program_name)s_%(process_num)02d
        [group:grp]
        programs=multi
        priority=77
        [eventlistener:lis]
        command=cat
        events=PROCESS_STATE
        "#;
    let dump = |d: &Daemon, drop: &[&str]| {
        let dir = d.dir.path().to_string_lossy().into_owned();
        python_against(d, "config_info.py", &[&[dir.as_str()], drop].concat())
    };
    let mut py = Daemon::start_python(conf);
    py.wait_log("success: plain entered RUNNING state");
    let python = dump(&py, &[]);
    let mut d = Daemon::start(conf);
    d.wait_log("success: plain entered RUNNING state");
    // Ours adds `autorestart` (no client minds an extra key); everything else is Python's.
    let ours = dump(&d, &["autorestart"]);
    assert_eq!(ours.lines().count(), 9, "{ours}");
    for (o, p) in ours.lines().zip(python.lines()) {
        assert_eq!(o, p);
    }
    assert!(python.contains("\"uid\": [\"int\", 0]"), "{python}");
    assert_eq!(d.stop(), 0);
}

#[test]
fn faults_are_pythons_word_for_word() {
    let conf = r#"
        [program:sleeper]
        command=sleep 600
        startsecs=0
        [program:idle]
        command=sleep 600
        autostart=false
        [program:nolog]
        command=sleep 600
        startsecs=0
        stderr_logfile=NONE
        [program:badlog]
        command=sleep 600
        autostart=false
        startretries=0
        stdout_logfile=%(here)s
        [group:grp]
        programs=a,b
        [program:a]
        command=sleep 600
        startsecs=0
        [program:b]
        command=sleep 600
        autostart=false
        "#;
    let run = |d: &Daemon| python_against(d, "faults.py", &[]);
    let settle = |d: &mut Daemon| {
        for p in ["sleeper", "nolog", "a"] {
            d.wait_log(&format!("success: {p} entered RUNNING state"));
        }
    };
    let mut py = Daemon::start_python(conf);
    settle(&mut py);
    let python = run(&py);
    let mut d = Daemon::start(conf);
    settle(&mut d);
    let ours = run(&d);
    for (o, p) in ours.lines().zip(python.lines()) {
        assert_eq!(o, p);
    }
    assert_eq!(ours.lines().count(), python.lines().count());
    assert!(
        python.contains("readLog(-5, 3) -> FAULT 3 BAD_ARGUMENTS\n"),
        "{python}"
    );
    assert_eq!(d.stop(), 0);
}

#[test]
fn a_start_that_waits_for_its_restart_pause_is_no_spawn_error() {
    // FATAL with a spawn error ("Exited too quickly"), then started again within restartpause:
    // the start is scheduled, and the old error is no answer to it.
    let mut d = Daemon::start(
        "[program:quick]\ncommand=sh -c 'exit 1'\nstartsecs=1\nstartretries=0\nrestartpause=60\n",
    );
    d.wait_log("gave up: quick entered FATAL state");
    let out = std::process::Command::new(tests::venv_python())
        .args([
            "-c",
            "import sys, xmlrpc.client\n\
             from supervisor.xmlrpc import SupervisorTransport\n\
             p = xmlrpc.client.ServerProxy('http://x', SupervisorTransport(None, None, 'unix://' + sys.argv[1]))\n\
             print(p.supervisor.startProcess('quick', False))",
        ])
        .arg(d.path("supervisor.sock"))
        .output()
        .expect("python");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "True",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(d.stop(), 0);
}
