//! The daemon's own behaviour: daemonizing, --env-file, user=, restartpause, failing log targets,
//! output never stalling supervision, syslog targets, idleness, AUTO log cleanup, main log
//! rotation, resource limits.

use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;
use std::time::Duration;

use nix::sys::signal::Signal::SIGTERM;
use tests::{Daemon, alive, bin, log_time, wait_for};

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn dash_d_daemonizes_writes_the_pidfile_and_cleans_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("d.conf");
    std::fs::write(
        &conf,
        "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/sd.pid\n[program:bg]\ncommand=sleep 600\nstartsecs=0\n",
    )
    .expect("write");
    let status = Command::new(bin("supervisord"))
        .args(["-d", "-c"])
        .arg(&conf)
        .status()
        .expect("run");
    assert!(status.success(), "the launching process exits 0 at once");
    let pid: i32 = wait_for("the pidfile", || {
        read(&dir.path().join("sd.pid")).trim().parse().ok()
    });
    assert!(alive(pid));
    wait_for("bg running", || {
        read(&dir.path().join("main.log"))
            .contains("success: bg entered RUNNING state")
            .then_some(())
    });
    let log = read(&dir.path().join("main.log"));
    assert!(log.contains("daemonizing the supervisord process"), "{log}");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), SIGTERM).expect("term");
    wait_for("the daemon to exit", || (!alive(pid)).then_some(()));
    assert!(!dir.path().join("sd.pid").exists(), "pidfile removed");
    assert!(read(&dir.path().join("main.log")).contains("stopped: bg"));
}

#[test]
fn env_file_feeds_supervisords_own_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let envf = dir.path().join("sup.env");
    std::fs::write(&envf, "GREETING=hello-from-env-file\n").expect("write");
    let mut d = Daemon::start_with(
        r#"
        [program:greet]
        command=sh -c 'echo %(ENV_GREETING)s $GREETING; exec sleep 600'
        startsecs=0
        stdout_logfile=%(here)s/greet.log
        "#,
        &["--env-file", envf.to_str().expect("utf8")],
    );
    wait_for("greeting", || {
        read(&d.path("greet.log"))
            .contains("hello-from-env-file hello-from-env-file")
            .then_some(())
    });
    assert_eq!(d.stop(), 0);
}

#[test]
fn user_switches_identity_and_sets_home() {
    let mut d = Daemon::start(
        r#"
        [program:asnobody]
        command=sh -c 'id -u; id -g; echo "home=$HOME user=$USER"; exec sleep 600'
        user=nobody
        startsecs=0
        stdout_logfile=%(here)s/who.log
        "#,
    );
    let out = wait_for("the child's identity", || {
        let s = read(&d.path("who.log"));
        s.contains("home=").then_some(s)
    });
    let nobody = nix::unistd::User::from_name("nobody")
        .expect("lookup")
        .expect("nobody exists");
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some(nobody.uid.to_string().as_str()));
    assert_eq!(lines.next(), Some(nobody.gid.to_string().as_str()));
    assert_eq!(
        lines.next(),
        Some(format!("home={} user=nobody", nobody.dir.display()).as_str())
    );
    assert_eq!(d.stop(), 0);
}

#[test]
fn restartpause_spaces_restarts() {
    let mut d = Daemon::start(
        r#"
        [program:flappy]
        command=sh -c 'exit 1'
        startsecs=0
        autorestart=true
        restartpause=2
        "#,
    );
    let log = d.wait_log_count("spawned: 'flappy'", 3);
    let spawns: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("spawned: 'flappy'"))
        .collect();
    for w in spawns.windows(2) {
        let gap = log_time(w[1]) - log_time(w[0]);
        assert!(gap >= 1.95, "restartpause=2 but restarted after {gap}s");
    }
    assert_eq!(d.stop(), 0);
}

#[test]
fn a_failing_log_target_is_reported_once_and_the_child_keeps_running() {
    let mut d = Daemon::start(
        r#"
        [program:chatty]
        command=sh -c 'while true; do echo x; sleep 0.02; done'
        startsecs=0
        stdout_logfile=/dev/full, %(here)s/ok.log
        "#,
    );
    let pid = d.spawned_pid("chatty");
    d.wait_log("can't write log file /dev/full");
    // The other target keeps receiving output, and the child is fine.
    let before = read(&d.path("ok.log")).len();
    wait_for("more output in ok.log", || {
        (read(&d.path("ok.log")).len() > before + 20).then_some(())
    });
    assert!(alive(pid));
    let log = d.log();
    assert_eq!(
        log.matches("can't write log file /dev/full").count(),
        1,
        "{log}"
    );
    assert!(log.contains("the process keeps running"));
    assert_eq!(d.stop(), 0);
}

#[test]
fn a_child_writing_flat_out_does_not_delay_another_childs_restarts() {
    let mut d = Daemon::start(
        r#"
        [program:firehose]
        command=yes 0123456789012345678901234567890123456789
        startsecs=0
        stdout_logfile=%(here)s/firehose.log
        stdout_logfile_maxbytes=4MB
        stdout_logfile_backups=1
        [program:crasher]
        command=sh -c 'exit 1'
        startsecs=0
        autorestart=true
        "#,
    );
    d.wait_log_count("spawned: 'crasher'", 20);
    assert!(std::fs::metadata(d.path("firehose.log")).is_ok());
    assert_eq!(d.stop(), 0);
}

#[test]
fn remote_syslog_target_over_udp() {
    let sock = UdpSocket::bind("127.0.0.1:0").expect("bind");
    sock.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let port = sock.local_addr().expect("addr").port();
    let mut d = Daemon::start(&format!(
        r#"
        [program:sysloggy]
        command=sh -c 'echo hello-syslog; exec sleep 600'
        startsecs=0
        stdout_logfile=syslog @udp:127.0.0.1:{port}
        syslog_tag=mytag
        "#
    ));
    let mut buf = [0u8; 2048];
    let n = sock.recv(&mut buf).expect("a syslog datagram");
    let msg = String::from_utf8_lossy(&buf[..n]);
    assert!(msg.contains("hello-syslog"), "{msg}");
    assert!(msg.contains("mytag"), "{msg}");
    assert!(msg.starts_with("<14>"), "user.info priority: {msg}");
    assert_eq!(d.stop(), 0);
}

#[test]
fn remote_syslog_over_tcp_sends_a_line_per_message_tagged_with_the_childs_pid() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let mut d = Daemon::start(&format!(
        r#"
        [program:tcplog]
        command=sh -c 'echo one; echo two; echo three; exec sleep 600'
        startsecs=0
        stdout_logfile=syslog @tcp:127.0.0.1:{port}
        syslog_tag=tcptag
        "#
    ));
    let pid = d.spawned_pid("tcplog");
    // accept() has no timeout: wait for the daemon to connect first.
    listener.set_nonblocking(true).expect("nonblocking");
    let conn = wait_for("the daemon's syslog connection", || {
        listener.accept().ok().map(|(c, _)| c)
    });
    conn.set_nonblocking(false).expect("blocking");
    conn.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let lines: Vec<String> = BufReader::new(conn)
        .lines()
        .take(3)
        .collect::<Result<_, _>>()
        .expect("three lines");
    for (line, word) in lines.iter().zip(["one", "two", "three"]) {
        assert!(line.starts_with("<14>"), "user.info priority: {line}");
        assert!(line.ends_with(&format!(" tcptag[{pid}]: {word}")), "{line}");
    }
    assert_eq!(d.stop(), 0);
}

#[test]
fn a_stdout_nobody_reads_stalls_neither_the_daemon_nor_a_childs_log_file() {
    // Regression: #9, a stalled /dev/stdout froze status, start and stop for everyone.
    let (mut d, _unread) = Daemon::start_with_unread_stdout(
        r#"
        [program:loud]
        command=sh -c 'seq 1 300000; exec sleep 600'
        startsecs=0
        stdout_logfile=/dev/stdout, %(here)s/loud.log
        stdout_logfile_maxbytes=0
        [program:other]
        command=sleep 600
        autostart=false
        startsecs=0
        "#,
    );
    // 2 MB through a 64 KiB pipe nobody reads: most of it can't go there.
    d.wait_log("the daemon's standard output is not keeping up");
    let status = d.ctl_in_time(&["status"]);
    assert!(status.stdout.contains("loud"), "{status:?}");
    let start = d.ctl_in_time(&["start", "other"]);
    assert_eq!(start.stdout.trim(), "other: started", "{start:?}");
    let stop = d.ctl_in_time(&["stop", "other"]);
    assert_eq!(stop.stdout.trim(), "other: stopped", "{stop:?}");
    // The file target lost nothing.
    let expected: String = (1..=300000).map(|i| format!("{i}\n")).collect();
    wait_for("every line in loud.log", || {
        (read(&d.path("loud.log")).len() >= expected.len()).then_some(())
    });
    assert!(
        read(&d.path("loud.log")) == expected,
        "loud.log is complete"
    );
    assert_eq!(d.stop(), 0);
    // What was dropped is counted in the main log.
    let log = d.log();
    assert!(
        log.contains("the daemon's standard output ") && log.contains(" from 'loud' stdout"),
        "{log}"
    );
}

#[test]
fn output_written_while_stopping_reaches_the_log_in_full() {
    // The child writes 12 MB as it is told to stop, to its file and to a syslog server that
    // never reads; a grandchild in its own session keeps the pipe open after the child exits.
    // Regression: #9, the daemon hung at exit and the file lost the end of the output.
    let stalled = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = stalled.local_addr().expect("addr").port();
    let line = "line-%g-padded-to-sixty-bytes-so-the-payload-is-large-xxxxx";
    let mut d = Daemon::start(&format!(
        r#"
        [program:farewell]
        command=sh -c 'setsid sleep 6107 & trap "seq -f {fmt} 1 200000; exit 0" TERM; while :; do sleep 0.1; done'
        startsecs=0
        stdout_logfile=%(here)s/farewell.log, syslog @tcp:127.0.0.1:{port}
        stdout_logfile_maxbytes=0
        "#,
        fmt = line.replace('%', "%%"),
    ));
    d.wait_log("success: farewell entered RUNNING state");
    assert_eq!(d.stop(), 0);
    let expected: String = (1..=200000)
        .map(|i| format!("{}\n", line.replace("%g", &i.to_string())))
        .collect();
    let got = read(&d.path("farewell.log"));
    assert!(
        got == expected,
        "farewell.log has {} of {} bytes",
        got.len(),
        expected.len()
    );
    for pid in tests::pids_with_cmdline("sleep 6107") {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    drop(stalled);
}

/// Sum of context switches of every thread of `pid`.
fn context_switches(pid: i32) -> u64 {
    let mut total = 0;
    for t in std::fs::read_dir(format!("/proc/{pid}/task"))
        .expect("tasks")
        .flatten()
    {
        let status = read(&t.path().join("status"));
        for l in status.lines() {
            if l.starts_with("voluntary_ctxt_switches")
                || l.starts_with("nonvoluntary_ctxt_switches")
            {
                total += l
                    .split_whitespace()
                    .last()
                    .and_then(|n| n.parse::<u64>().ok())
                    .unwrap_or(0);
            }
        }
    }
    total
}

#[test]
fn an_idle_daemon_is_never_woken() {
    let mut body = String::from(
        "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/supervisord.pid\nchildlogdir=%(here)s\n",
    );
    for i in 0..20 {
        body.push_str(&format!(
            "[program:idle{i}]\ncommand=sleep 600\nstartsecs=0\n"
        ));
    }
    let mut d = Daemon::start(&body);
    d.wait_log_count("entered RUNNING state", 20);
    let before = context_switches(d.pid());
    // An observation window, not synchronisation: nothing should happen in it.
    std::thread::sleep(Duration::from_secs(3));
    let after = context_switches(d.pid());
    assert!(
        after - before <= 2,
        "the idle daemon woke up {} times in 3 s",
        after - before
    );
    assert_eq!(d.stop(), 0);
}

#[test]
fn auto_logs_of_a_previous_run_are_cleaned_unless_nocleanup() {
    for (nocleanup, kept) in [(false, false), (true, true)] {
        let dir = tempfile::tempdir().expect("tempdir");
        let stale = dir.path().join("old-stdout---supervisor-abc123.log");
        std::fs::write(&stale, "stale").expect("write");
        std::fs::write(dir.path().join("unrelated.log"), "keep").expect("write");
        let dir_s = dir.path().display().to_string();
        let mut d = Daemon::start(&format!(
            "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/supervisord.pid\nchildlogdir={dir_s}\nnocleanup={nocleanup}\n[program:p]\ncommand=sleep 600\nstartsecs=0\n"
        ));
        d.wait_log("success: p entered RUNNING state");
        assert_eq!(stale.exists(), kept, "nocleanup={nocleanup}");
        assert!(dir.path().join("unrelated.log").exists());
        let auto = std::fs::read_dir(dir.path())
            .expect("dir")
            .flatten()
            .find(|e| {
                e.file_name()
                    .to_string_lossy()
                    .starts_with("p-stdout---supervisor-")
            })
            .expect("a new AUTO log");
        let mode = auto.metadata().expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(d.stop(), 0);
    }
}

#[test]
fn the_main_log_rotates_by_size() {
    let mut d = Daemon::start(
        r#"
        [supervisord]
        logfile=%(here)s/main.log
        logfile_maxbytes=2KB
        logfile_backups=2
        pidfile=%(here)s/supervisord.pid
        childlogdir=%(here)s
        [program:churn]
        command=sh -c 'exit 0'
        startsecs=0
        autorestart=true
        "#,
    );
    wait_for("two main log backups", || {
        d.path("main.log.2").exists().then_some(())
    });
    let first = read(&d.path("main.log.2"));
    wait_for("another rotation", || {
        (read(&d.path("main.log.2")) != first).then_some(())
    });
    assert!(!d.path("main.log.3").exists());
    for name in ["main.log.1", "main.log.2"] {
        let backup = read(&d.path(name));
        assert!(backup.len() <= 2048, "{name}: {} bytes", backup.len());
        assert!(
            backup.ends_with('\n')
                && backup
                    .lines()
                    .all(|l| l.len() > 24 && l.as_bytes()[4] == b'-'),
            "whole lines: {backup}"
        );
    }
    d.signal(SIGTERM);
    assert_eq!(d.wait_exit(), 0);
}

#[test]
fn minfds_that_cannot_be_met_refuses_to_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("m.conf");
    std::fs::write(&conf, "[supervisord]\nlogfile=%(here)s/main.log\nminfds=2000000000\n[program:x]\ncommand=sleep 9871\n").expect("write");
    let out = Command::new(bin("supervisord"))
        .arg("-c")
        .arg(&conf)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("The minimum number of file descriptors required to run this process is 2000000000 as per the \"minfds\""), "{err}");
    assert!(tests::pids_with_cmdline("sleep 9871").is_empty());
}

#[test]
fn children_get_only_stdin_stdout_and_stderr_even_if_the_daemon_inherited_more() {
    // The shell leaves fd 7 open across exec, so the daemon inherits it (as from a careless
    // parent or a service manager); Python's supervisord closes such descriptors in every child.
    let mut d = Daemon::start_wrapped(
        &["sh", "-c", "exec 7</dev/null; exec \"$0\" \"$@\""],
        "[program:kid]\ncommand=sleep 600\nstartsecs=0\n",
    );
    assert!(
        std::fs::read_link(format!("/proc/{}/fd/7", d.pid())).is_ok(),
        "the daemon itself holds the inherited fd 7"
    );
    let kid = d.spawned_pid("kid");
    let mut fds: Vec<String> = std::fs::read_dir(format!("/proc/{kid}/fd"))
        .expect("the child's fds")
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    fds.sort();
    assert_eq!(fds, ["0", "1", "2"]);
    d.stop();
}

/// Kills the daemon with SIGKILL and returns how its child `sleep 600` fares.
fn child_after_daemon_kill(extra: &str) -> (i32, bool) {
    let mut d = Daemon::start(&format!(
        "[supervisord]\nlogfile=%(here)s/main.log\npidfile=%(here)s/supervisord.pid\n{extra}\n\
         [unix_http_server]\nfile=%(here)s/supervisor.sock\n\
         [program:orphan]\ncommand=sleep 600\nstartsecs=0\n"
    ));
    let child = d.spawned_pid("orphan");
    d.signal(nix::sys::signal::Signal::SIGKILL);
    d.wait_exit();
    // Either the kernel ends it at once, or it lives on: poll for the first.
    let start = std::time::Instant::now();
    while tests::alive(child) && start.elapsed() < std::time::Duration::from_secs(5) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let survived = tests::alive(child);
    if survived {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
    (child, survived)
}

#[test]
fn children_do_not_outlive_a_killed_daemon_unless_asked_to() {
    let (_, survived) = child_after_daemon_kill("");
    assert!(!survived, "the child outlived the daemon's SIGKILL");
    // Python's behaviour, when asked for.
    let (_, survived) = child_after_daemon_kill("stop_children_on_daemon_death=false");
    assert!(survived, "the child was stopped although the option is off");
}

#[test]
fn a_live_socket_is_refused_and_a_stale_one_replaced() {
    let mut d = Daemon::start("[program:p]\ncommand=sleep 600\nstartsecs=0\n");
    d.wait_log("success: p entered RUNNING state");
    // A second daemon on the same config is refused; the first goes on.
    let mut second = Command::new(bin("supervisord"))
        .arg("-c")
        .arg(&d.config)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn a second daemon");
    let status = wait_for("the second daemon to give up", || {
        second.try_wait().expect("try_wait")
    });
    let out = second.wait_with_output().expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!status.success(), "{text}");
    assert!(
        text.contains("another program is already listening on this socket"),
        "{text}"
    );
    assert!(d.ctl(&["status", "p"]).stdout.contains("RUNNING"));
    // Killed, the daemon leaves its socket file: the next one replaces it.
    d.signal(nix::sys::signal::Signal::SIGKILL);
    d.wait_exit();
    assert!(d.path("supervisor.sock").exists());
    d.respawn();
    d.wait_log_count("success: p entered RUNNING state", 2);
    assert!(d.ctl(&["status", "p"]).stdout.contains("RUNNING"));
    assert_eq!(d.stop(), 0);
}
