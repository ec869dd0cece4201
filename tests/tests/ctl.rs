//! Our supervisorctl against the real daemon: every command's output and exit code as Python's
//! supervisorctl prints them (tests/…/supervisorctl-transcripts rules), `supervisord ctl`,
//! serverurl discovery, auth, `tail -f` and `fg`, connection failures.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use tests::{Daemon, bin, daemon, run_ctl, wait_for};

fn lines(s: &str) -> Vec<&str> {
    s.lines().collect()
}

#[test]
fn status_formats_and_exit_codes() {
    let d = daemon();
    let o = d.ctl(&["status"]);
    assert_eq!(o.code, 3, "a FATAL and STOPPED ones are listed: {o:?}");
    let l = lines(&o.stdout);
    let names: Vec<&str> = l
        .iter()
        .map(|x| x.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(
        names,
        [
            "chatty", "crasher", "echoer", "grp:ga", "grp:gb", "longrun", "manual", "nofile"
        ]
    );
    let crasher = l[1];
    assert_eq!(
        crasher,
        format!(
            "{:<33}{:<10}{}",
            "crasher", "FATAL", "Exited too quickly (process log may have details)"
        )
    );
    assert!(
        l[5].starts_with(&format!("{:<33}{:<10}pid ", "longrun", "RUNNING")),
        "{}",
        l[5]
    );
    assert!(l[5].contains(", uptime 0:00:"), "{}", l[5]);
    assert_eq!(
        l[6],
        format!("{:<33}{:<10}Not started", "manual", "STOPPED")
    );

    let o = d.ctl(&["status", "longrun", "grp:*"]);
    assert_eq!(o.code, 0, "{o:?}");
    assert_eq!(lines(&o.stdout).len(), 3);
    let o = d.ctl(&["status", "grp"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (4, "grp: ERROR (no such process)\n")
    );
    let o = d.ctl(&["status", "nosuch:*"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (4, "nosuch: ERROR (no such group)\n")
    );
    let o = d.ctl(&["status", "nosuch", "manual"]);
    assert_eq!(o.code, 3, "stopped beats unknown: {o:?}");
}

#[test]
fn start_stop_restart_signal() {
    let d = daemon();
    let o = d.ctl(&["start", "manual"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "manual: started\n"));
    let o = d.ctl(&["start", "manual"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "manual: ERROR (already started)\n")
    );
    let o = d.ctl(&["start", "nosuch"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "nosuch: ERROR (no such process)\n")
    );
    let o = d.ctl(&["start", "nofile"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "nofile: ERROR (no such file)\n")
    );
    let o = d.ctl(&["start", "crasher"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (7, "crasher: ERROR (spawn error)\n")
    );
    let o = d.ctl(&["start"]);
    assert_eq!(o.code, 2);
    assert!(
        o.stdout
            .starts_with("Error: start requires a process name\nstart <name>\t\tStart a process\n"),
        "{o:?}"
    );
    let o = d.ctl(&["start", "nosuch:*"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (2, "nosuch: ERROR (no such group)\n")
    );

    let o = d.ctl(&["stop", "manual"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "manual: stopped\n"));
    let o = d.ctl(&["stop", "manual"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "manual: ERROR (not running)\n")
    );
    let o = d.ctl(&["stop"]);
    assert_eq!(o.code, 1);
    let o = d.ctl(&["stop", "grp:*"]);
    assert_eq!(o.code, 0);
    let mut got = lines(&o.stdout);
    got.sort();
    assert_eq!(got, ["grp:ga: stopped", "grp:gb: stopped"]);
    let o = d.ctl(&["start", "grp:*"]);
    let mut got = lines(&o.stdout);
    got.sort();
    assert_eq!(got, ["grp:ga: started", "grp:gb: started"]);

    let o = d.ctl(&["restart", "longrun"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "longrun: stopped\nlongrun: started\n")
    );

    let o = d.ctl(&["signal", "HUP", "longrun"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "longrun: signalled\n"));
    let o = d.ctl(&["signal", "BOGUS", "longrun"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "longrun: ERROR (bad signal name)\n")
    );
    let o = d.ctl(&["signal", "HUP", "manual"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (7, "manual: ERROR (not running)\n")
    );
    let o = d.ctl(&["signal", "HUP"]);
    assert_eq!(o.code, 1);
    assert!(
        o.stdout
            .starts_with("Error: signal requires a signal name and a process name\n")
    );
}

#[test]
fn all_operations() {
    let d = daemon();
    let o = d.ctl(&["stop", "all"]);
    assert_eq!(o.code, 0, "{o:?}");
    let mut got = lines(&o.stdout);
    got.sort();
    assert_eq!(
        got,
        [
            "chatty: stopped",
            "echoer: stopped",
            "grp:ga: stopped",
            "grp:gb: stopped",
            "longrun: stopped"
        ]
    );
    let o = d.ctl(&["start", "all"]);
    let out = o.stdout.clone();
    assert!(out.contains("nofile: ERROR (no such file)\n"), "{out}");
    assert!(out.contains("crasher: ERROR (spawn error)\n"), "{out}");
    assert!(out.contains("manual: started\n"), "{out}");
    assert!(o.code == 7 || o.code == 1, "{o:?}");
}

#[test]
fn pid_tail_maintail_clear_avail_version() {
    let d = daemon();
    let o = d.ctl(&["pid"]);
    assert_eq!(o.stdout.trim(), d.pid().to_string());
    let o = d.ctl(&["pid", "longrun"]);
    let pid: i32 = o.stdout.trim().parse().expect("a pid");
    assert!(pid > 0 && o.code == 0);
    let o = d.ctl(&["pid", "manual"]);
    assert_eq!((o.code, o.stdout.as_str()), (7, "0\n"));
    let o = d.ctl(&["pid", "nosuch"]);
    assert_eq!((o.code, o.stdout.as_str()), (1, "No such process nosuch\n"));
    let o = d.ctl(&["pid", "all"]);
    assert_eq!(lines(&o.stdout).len(), 8);

    wait_for("chatty output", || {
        d.ctl(&["tail", "chatty"])
            .stdout
            .contains("out line 3")
            .then_some(())
    });
    let o = d.ctl(&["tail", "-20", "chatty"]);
    assert!(o.stdout.len() <= 21 && o.stdout.ends_with('\n'), "{o:?}");
    let o = d.ctl(&["tail", "nosuch"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "nosuch: ERROR (no such process name)\n")
    );
    let o = d.ctl(&["tail", "chatty", "bogus"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "Error: bad channel 'bogus'\n")
    );
    let o = d.ctl(&["tail"]);
    assert!(o.stdout.starts_with("Error: too few arguments\n"));

    let o = d.ctl(&["maintail"]);
    assert!(o.stdout.contains("spawned: 'chatty'"), "{o:?}");
    let o = d.ctl(&["maintail", "-100"]);
    assert!(o.stdout.len() <= 101);
    let o = d.ctl(&["maintail", "100"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "Error: bad argument 100\n")
    );

    let o = d.ctl(&["clear", "chatty"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "chatty: cleared\n"));
    let o = d.ctl(&["clear", "nosuch"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "nosuch: ERROR (no such process)\n")
    );

    let o = d.ctl(&["avail"]);
    let l = lines(&o.stdout);
    assert_eq!(l.len(), 8);
    assert_eq!(
        l[0],
        format!(
            "{:<32} {:<9} {:<9} {}",
            "chatty", "in use", "auto", "999:999"
        )
    );
    assert!(o.stdout.contains(&format!(
        "{:<32} {:<9} {:<9} {}",
        "manual", "in use", "manual", "999:999"
    )));

    let o = d.ctl(&["version"]);
    assert_eq!((o.code, o.stdout.trim()), (0, env!("CARGO_PKG_VERSION")));
    let o = d.ctl(&["version", "x"]);
    assert_eq!(o.code, 1);
}

#[test]
fn json_output_for_scripts() {
    let d = daemon();
    let o = d.ctl(&["--json", "status", "longrun"]);
    assert!(o.stdout.starts_with("[{\"name\": \"longrun\", \"group\": \"longrun\", \"namespec\": \"longrun\", \"state\": \"RUNNING\", \"statecode\": 20, \"pid\": "), "{o:?}");
    let o = d.ctl(&["--json", "pid", "manual"]);
    assert_eq!(o.stdout.trim(), "[{\"name\": \"manual\", \"pid\": 0}]");
    let o = d.ctl(&["--json", "avail"]);
    assert!(o.stdout.contains("\"namespec\": \"grp:ga\""), "{o:?}");
}

#[test]
fn help_matches_python() {
    let o = run_ctl(&["help"]);
    // Python's listing, then ours in a section of its own (as Python shows a plugin's).
    assert_eq!(
        o.stdout,
        "\ndefault commands (type help <topic>):\n=====================================\nadd    exit      open  reload  restart   start   tail   \navail  fg        pid   remove  shutdown  status  update \nclear  maintail  quit  reread  signal    stop    version\n\n\nsupervisord-rs commands (type help <topic>):\n============================================\nevents\n\n"
    );
    let o = run_ctl(&["help", "start"]);
    assert_eq!(
        o.stdout,
        "start <name>\t\tStart a process\nstart <gname>:*\t\tStart all processes in a group\nstart <name> <name>\tStart multiple processes or groups\nstart all\t\tStart all processes\n"
    );
    let o = run_ctl(&["help", "maintail"]);
    assert!(o.stdout.ends_with("main log file\n\n"));
    let o = run_ctl(&["bogus", "x"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "*** Unknown syntax: bogus x\n")
    );
}

#[test]
fn connection_failures_say_where_and_exit_like_python() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("unix://{}/nope.sock", dir.path().display());
    let o = run_ctl(&["-s", &url, "stop", "x"]);
    assert_eq!(
        (o.code, o.stdout.clone()),
        (7, format!("{url} no such file\n"))
    );
    let o = run_ctl(&["-s", &url, "status"]);
    assert_eq!(o.code, 4);
    let port = tests::free_port();
    let http = format!("http://127.0.0.1:{port}");
    let o = run_ctl(&["-s", &http, "start", "x"]);
    assert_eq!(
        (o.code, o.stdout.clone()),
        (4, format!("{http} refused connection\n"))
    );
    let o = run_ctl(&["-s", &http, "shutdown"]);
    assert_eq!(
        (o.code, o.stdout.clone()),
        (
            1,
            format!("ERROR: {http} refused connection (already shut down?)\n")
        )
    );
}

#[test]
fn auth_over_tcp_and_serverurl_discovery() {
    let port = tests::free_port();
    let mut d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword={{SHA}}40bd001563085fc35165329ea1ff5c5ecbdbbeef\n[program:p]\ncommand=sleep 600\nstartsecs=0\n"
    ));
    d.wait_log("success: p entered RUNNING state");
    let http = format!("http://127.0.0.1:{port}");
    let ok = run_ctl(&["-s", &http, "-u", "user", "-p", "123", "status"]);
    assert_eq!(ok.code, 0, "{ok:?}");
    assert!(ok.stdout.starts_with("p "));
    let bad = run_ctl(&["-s", &http, "-u", "user", "-p", "wrong", "status"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stdout.starts_with("Server requires authentication\n"),
        "{bad:?}"
    );
    let none = run_ctl(&["-s", &http, "stop", "p"]);
    assert_eq!(none.code, 1);
    // The unix socket of the same daemon has no auth.
    assert_eq!(d.ctl(&["status"]).code, 0);

    // serverurl and credentials from [supervisorctl] of the -c file, also for `supervisord ctl`.
    let conf = d.path("ctl.conf");
    std::fs::write(
        &conf,
        format!("[supervisorctl]\nserverurl={http}\nusername=user\npassword=123\n"),
    )
    .expect("write");
    let o = run_ctl(&["-c", conf.to_str().expect("utf8"), "pid", "p"]);
    assert_eq!(o.code, 0, "{o:?}");
    let o = Command::new(bin("supervisord"))
        .args(["ctl", "-c", conf.to_str().expect("utf8"), "status", "p"])
        .output()
        .expect("supervisord ctl");
    assert_eq!(o.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&o.stdout).starts_with("p "));
    // Go's spelling -P for the password.
    let o = Command::new(bin("supervisord"))
        .args(["ctl", "-s", &http, "-u", "user", "-P", "123", "pid"])
        .output()
        .expect("supervisord ctl");
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        d.pid().to_string()
    );
    // Found in the working directory when -c is absent (./supervisord.conf, ./etc/…).
    let cwd = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(cwd.path().join("etc")).expect("mkdir");
    std::fs::write(
        cwd.path().join("etc/supervisord.conf"),
        format!("[supervisorctl]\nserverurl={http}\nusername=user\npassword=123\n"),
    )
    .expect("write");
    let o = Command::new(bin("supervisorctl"))
        .args(["pid", "p"])
        .current_dir(cwd.path())
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let pid: i32 = String::from_utf8_lossy(&o.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    assert!(pid > 0, "{o:?}");
    // Without any config: http://localhost:9001, and a hint on stderr only.
    let empty = tempfile::tempdir().expect("tempdir");
    let o = Command::new(bin("supervisorctl"))
        .arg("stop")
        .arg("x")
        .current_dir(empty.path())
        .stdin(Stdio::null())
        .output()
        .expect("run");
    let out = String::from_utf8_lossy(&o.stdout);
    if out.contains("refused connection") {
        assert_eq!(out, "http://localhost:9001 refused connection\n");
        assert!(String::from_utf8_lossy(&o.stderr).starts_with("hint: "));
    }
}

#[test]
fn the_password_is_asked_for_at_a_terminal() {
    let port = tests::free_port();
    let mut d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=user\npassword=s3cret\n[program:p]\ncommand=sleep 600\nstartsecs=0\n"
    ));
    d.wait_log("success: p entered RUNNING state");
    let session = format!("auth{}", std::process::id());
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().expect("tmux");
    let cmd = format!(
        "{} -s http://127.0.0.1:{port} -u user status; sleep 30",
        bin("supervisorctl").display()
    );
    assert!(
        tmux(&[
            "new-session",
            "-d",
            "-x",
            "120",
            "-y",
            "20",
            "-s",
            &session,
            &cmd
        ])
        .status
        .success()
    );
    let screen = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned()
    };
    wait_for("the password prompt", || {
        screen().contains("Password:").then_some(())
    });
    assert!(screen().contains("Server requires authentication"));
    tmux(&["send-keys", "-t", &session, "s3cret", "Enter"]);
    wait_for("the status after authenticating", || {
        screen()
            .contains(&format!("{:<33}{:<10}pid ", "p", "RUNNING"))
            .then_some(())
    });
    assert!(!screen().contains("s3cret"), "the password is not echoed");
    let _ = tmux(&["kill-session", "-t", &session]);
}

#[test]
fn tail_f_follows_and_ctrl_c_detaches() {
    let d = daemon();
    let mut child = Command::new(bin("supervisorctl"))
        .args(["-s", &d.url(), "tail", "-f", "chatty"])
        .stdout(Stdio::piped())
        .stdin(Stdio::null())
        .spawn()
        .expect("tail -f");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read");
    assert_eq!(first, "==> Press Ctrl-C to exit <==\n");
    // New lines keep arriving.
    let mut seen = Vec::new();
    while seen.len() < 10 {
        let mut l = String::new();
        if out.read_line(&mut l).expect("read") == 0 {
            break;
        }
        if l.starts_with("out line") {
            seen.push(l);
        }
    }
    assert_eq!(seen.len(), 10);
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    let o = d.ctl(&["status", "chatty"]);
    assert!(
        o.stdout.contains("RUNNING"),
        "the process keeps running: {o:?}"
    );
}

#[test]
fn fg_sends_stdin_and_shows_output() {
    let d = daemon();
    let mut child = Command::new(bin("supervisorctl"))
        .args(["-s", &d.url(), "fg", "echoer"])
        .stdout(Stdio::piped())
        .stdin(Stdio::piped())
        .spawn()
        .expect("fg");
    let mut input = child.stdin.take().expect("stdin");
    let mut out = BufReader::new(child.stdout.take().expect("stdout"));
    let mut first = String::new();
    out.read_line(&mut first).expect("read");
    assert_eq!(first, "==> Press Ctrl-C to exit <==\n");
    writeln!(input, "hello from fg").expect("write");
    let mut l = String::new();
    while !l.contains("hello from fg") {
        l.clear();
        assert!(out.read_line(&mut l).expect("read") > 0, "fg ended early");
    }
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(child.id() as i32),
        nix::sys::signal::Signal::SIGINT,
    )
    .expect("SIGINT");
    let mut rest = String::new();
    out.read_line(&mut rest).expect("read");
    assert_eq!(rest, "Exiting foreground\n");
    assert_eq!(child.wait().expect("wait").code(), Some(0));
    assert!(d.ctl(&["status", "echoer"]).stdout.contains("RUNNING"));
}

#[test]
fn shutdown_and_reload() {
    let mut d = daemon();
    let o = d.ctl(&["reload"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "Restarted supervisord\n"));
    d.wait_log_count("spawned: 'longrun'", 2);
    let o = d.ctl(&["shutdown"]);
    assert_eq!((o.code, o.stdout.as_str()), (0, "Shut down\n"));
    assert_eq!(d.wait_exit(), 0);
    assert!(!d.path("supervisor.sock").exists(), "socket removed");
}

#[test]
fn completions_and_man_page() {
    let o = run_ctl(&["completions", "bash"]);
    assert_eq!(o.code, 0);
    assert!(o.stdout.contains("complete") && o.stdout.contains("supervisorctl"));
    let o = run_ctl(&["completions", "zsh"]);
    assert!(o.stdout.contains("#compdef supervisorctl"));
    let o = run_ctl(&["manpage"]);
    assert!(
        o.stdout.contains(".TH SUPERVISORCTL 1"),
        "{}",
        &o.stdout[..o.stdout.len().min(200)]
    );
}

#[test]
fn reread_update_add_remove() {
    let mut d = Daemon::start(
        r#"
        [program:keep]
        command=sleep 600
        startsecs=0
        [program:change]
        command=sleep 600
        startsecs=0
        [program:gone]
        command=sleep 600
        startsecs=0
        "#,
    );
    d.wait_log_count("entered RUNNING state", 3);
    let keep_pid = d.ctl(&["pid", "keep"]).stdout.trim().to_owned();
    let o = d.ctl(&["reread"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "No config updates to processes\n")
    );
    d.write_config(
        r#"
        [program:keep]
        command=sleep 600
        startsecs=0
        [program:change]
        command=sleep 601
        startsecs=0
        [program:new]
        command=sleep 602
        startsecs=0
        "#,
    );
    let o = d.ctl(&["reread"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "change: changed\ngone: disappeared\nnew: available\n")
    );
    let o = d.ctl(&["avail"]);
    assert!(
        o.stdout.contains(&format!("{:<32} {:<9}", "new", "avail")),
        "{o:?}"
    );
    let o = d.ctl(&["update"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (
            0,
            "gone: stopped\ngone: removed process group\nchange: stopped\nchange: updated process group\nnew: added process group\n"
        )
    );
    d.wait_log("spawned: 'new'");
    let o = d.ctl(&["status"]);
    let names: Vec<&str> = o
        .stdout
        .lines()
        .map(|l| l.split_whitespace().next().unwrap_or(""))
        .collect();
    assert_eq!(names, ["change", "keep", "new"]);
    assert_eq!(d.ctl(&["pid", "keep"]).stdout.trim(), keep_pid, "untouched");
    let pid: i32 = wait_for("change restarted", || {
        d.ctl(&["pid", "change"])
            .stdout
            .trim()
            .parse()
            .ok()
            .filter(|p| *p > 0)
    });
    let cmdline = std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    assert!(cmdline.contains("601"), "{cmdline:?}");

    // remove / add by hand.
    let o = d.ctl(&["remove", "new"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "ERROR: process/group still running: new\n")
    );
    d.ctl(&["stop", "new"]);
    let o = d.ctl(&["remove", "new"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "new: removed process group\n")
    );
    let o = d.ctl(&["add", "new"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "new: added process group\n")
    );
    let o = d.ctl(&["add", "new"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (0, "ERROR: process group already active\n")
    );
    let o = d.ctl(&["add", "nosuch"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "ERROR: no such process/group: nosuch\n")
    );
    let o = d.ctl(&["update", "nosuch"]);
    assert_eq!(
        (o.code, o.stdout.as_str()),
        (1, "ERROR: no such group: nosuch\n")
    );

    // A broken config is refused by reread and changes nothing.
    d.write_config("[program:keep]\ncommand=sleep 600\nstartsecs=later\n");
    let o = d.ctl(&["reread"]);
    assert_eq!(o.code, 1);
    assert!(o.stdout.starts_with("ERROR: CANT_REREAD: "), "{o:?}");
    assert!(o.stdout.contains("startsecs=\"later\""), "{o:?}");
    assert_eq!(d.ctl(&["pid", "keep"]).stdout.trim(), keep_pid);
}

#[test]
fn a_python_grpcio_client_generated_from_the_proto_works() {
    // `many` makes events in bulk for the lagging-subscriber check.
    let mut d = Daemon::start(
        "[program:py]\ncommand=sleep 600\nstartsecs=0\n\
         [program:many]\ncommand=sleep 600\nstartsecs=0\nnumprocs=50\n\
         process_name=%(program_name)s_%(process_num)s\n",
    );
    d.wait_log("success: py entered RUNNING state");
    let out = Command::new(tests::venv_python())
        .arg(tests::repo_root().join("tests/python/grpc_client.py"))
        .arg(tests::repo_root().join("proto/proto"))
        .arg(d.path("supervisor.sock"))
        .output()
        .expect("run the python client");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("all ok"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn interactive_shell_in_a_terminal() {
    let d = daemon();
    let session = format!("ctl{}", std::process::id());
    let hist = d.path("history");
    let conf = d.path("ctl.conf");
    std::fs::write(
        &conf,
        format!(
            "[supervisorctl]\nserverurl={}\nprompt=mysup\nhistory_file={}\n",
            d.url(),
            hist.display()
        ),
    )
    .expect("write");
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().expect("tmux");
    let cmd = format!("{} -c {}", bin("supervisorctl").display(), conf.display());
    let st = tmux(&[
        "new-session",
        "-d",
        "-x",
        "150",
        "-y",
        "50",
        "-s",
        &session,
        &cmd,
    ]);
    assert!(st.status.success(), "{st:?}");
    let screen = || {
        String::from_utf8_lossy(&tmux(&["capture-pane", "-p", "-t", &session]).stdout).into_owned()
    };
    // The shell starts with `status`, then the prompt from [supervisorctl] prompt.
    let start = std::time::Instant::now();
    while !screen().contains("mysup>") {
        assert!(
            start.elapsed() < tests::DEADLINE,
            "no prompt; the screen:\n{}",
            screen()
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(screen().contains("longrun"), "{}", screen());
    tmux(&["send-keys", "-t", &session, "pid longrun", "Enter"]);
    tmux(&["send-keys", "-t", &session, "stat", "Tab"]);
    wait_for("tab completion of the action", || {
        screen().contains("mysup> status").then_some(())
    });
    tmux(&["send-keys", "-t", &session, " man", "Tab", "Enter"]);
    wait_for("completion of a process name", || {
        let s = screen();
        s.contains(&format!("{:<33}{:<10}Not started", "manual", "STOPPED"))
            .then_some(())
    });
    tmux(&["send-keys", "-t", &session, "quit", "Enter"]);
    wait_for("the shell to exit and save history", || {
        std::fs::read_to_string(&hist)
            .ok()
            .filter(|h| h.contains("pid longrun"))
    });
    let _ = tmux(&["kill-session", "-t", &session]);
}

#[test]
fn shell_completions_offer_actions_options_and_the_daemons_names() {
    let d = tests::daemon();
    let dir = tempfile::tempdir().expect("tempdir");
    let path = format!(
        "{}:{}",
        tests::bin_dir().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let url = d.url();
    let script = |shell: &str| {
        let out = run_ctl(&["completions", shell]);
        assert_eq!(out.code, 0, "{out:?}");
        let f = dir.path().join(format!("supervisorctl.{shell}"));
        std::fs::write(&f, out.stdout).expect("write");
        f
    };
    let run = |shell: &str, program: String| {
        let o = std::process::Command::new(shell)
            .args(["-c", &program])
            .env("PATH", &path)
            .output()
            .unwrap_or_else(|e| panic!("run {shell}: {e}"));
        assert!(
            o.status.success(),
            "{shell}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        let mut v: Vec<String> = String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| l.split('\t').next().unwrap_or(l).to_owned())
            .collect();
        v.sort();
        v
    };
    // Each shell completes the words after `supervisorctl -s URL`. bash replaces only what
    // follows a ':' (its word breaks), so it is offered that part.
    let cases: [(&str, &[&str], &[&str]); 5] = [
        ("res", &["restart"], &["restart"]),
        ("restart lon", &["longrun"], &["longrun"]),
        (
            "stop grp",
            &["grp:*", "grp:ga", "grp:gb"],
            &["grp:*", "grp:ga", "grp:gb"],
        ),
        ("stop grp:g", &["ga", "gb"], &["grp:ga", "grp:gb"]),
        ("--js", &["--json"], &["--json"]),
    ];
    let bash = script("bash");
    let zsh = script("zsh");
    let fish = script("fish");
    for (line, want_bash, want) in cases {
        let words: Vec<&str> = ["supervisorctl", "-s", &url]
            .into_iter()
            .chain(line.split(' '))
            .collect();
        let quoted = words
            .iter()
            .map(|w| format!("'{w}'"))
            .collect::<Vec<_>>()
            .join(" ");
        let typed = words.join(" ");
        let got = run(
            "bash",
            format!(
                "source {}; COMP_LINE='{typed}'; COMP_POINT={}; _supervisorctl; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
                bash.display(),
                typed.len()
            ),
        );
        assert_eq!(got, want_bash, "bash: {line}");
        let got = run(
            "zsh",
            format!(
                "compdef() {{ :; }}; compadd() {{ [[ $1 == -- ]] && shift; printf '%s\\n' \"$@\"; }}; source {}; words=({quoted}); CURRENT={}; _supervisorctl | grep -- '^{}'",
                zsh.display(),
                words.len(),
                words[words.len() - 1]
            ),
        );
        assert_eq!(got, want, "zsh: {line}");
        let got = run(
            "fish",
            format!(
                "source {}; complete -C\"{}\"",
                fish.display(),
                words.join(" ")
            ),
        );
        assert_eq!(got, want, "fish: {line}");
    }
}
