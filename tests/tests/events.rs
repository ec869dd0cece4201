//! Events and event listeners through the real daemon: envelopes compared with Python's
//! supervisord, the protocol's rejections, deaths and overflows, capture mode, result handlers,
//! supervisor's own end-to-end tests, and superlance's listeners unchanged from PyPI.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use tests::*;

/// One envelope a test listener was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Envelope {
    process: String,
    headers: BTreeMap<String, String>,
    payload: String,
}

impl Envelope {
    fn name(&self) -> &str {
        &self.headers["eventname"]
    }

    fn serial(&self) -> u64 {
        self.headers["serial"].parse().expect("serial")
    }
}

fn unescape(s: &str) -> String {
    let mut out = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some(c) => out.push(c),
            None => {}
        }
    }
    out
}

/// What the listener(s) logging to `log` were sent so far.
fn envelopes(log: &Path) -> Vec<Envelope> {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    text.lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, '\t');
            let process = parts.next()?.to_owned();
            let header = parts.next()?;
            let payload = unescape(parts.next()?);
            let headers = header
                .split_whitespace()
                .filter_map(|kv| kv.split_once(':'))
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect();
            Some(Envelope {
                process,
                headers,
                payload,
            })
        })
        .collect()
}

/// Waits until `log` holds an envelope that `f` accepts; returns them all.
fn wait_envelope(log: &Path, what: &str, f: impl Fn(&Envelope) -> bool) -> Vec<Envelope> {
    wait_for(what, || {
        let all = envelopes(log);
        all.iter().any(&f).then_some(all)
    })
}

/// The command line of the test listener.
fn listener(log: &Path, args: &str) -> String {
    format!(
        "{} {} {} {args}",
        venv_python().display(),
        repo_root().join("tests/python/listener.py").display(),
        log.display()
    )
}

/// Sends `count` REMOTE_COMMUNICATION events through Python's XML-RPC client.
fn remote_events(d: &Daemon, kind: &str, data: &str, count: usize) {
    let out = Command::new(venv_python())
        .arg(repo_root().join("tests/python/remote_event.py"))
        .arg(d.path("supervisor.sock"))
        .args([kind, data, &count.to_string()])
        .output()
        .expect("run remote_event.py");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// An envelope with what varies between runs (pids) masked.
fn comparable(e: &Envelope) -> (String, String) {
    let mut payload = String::new();
    let mut rest = e.payload.as_str();
    while let Some(i) = rest.find("pid:") {
        payload.push_str(&rest[..i + 4]);
        rest = rest[i + 4..].trim_start_matches(|c: char| c.is_ascii_digit());
        payload.push('N');
    }
    payload.push_str(rest);
    (e.name().to_owned(), payload)
}

const COMPARED: &str = r#"
[supervisord]
logfile=%(here)s/main.log
pidfile=%(here)s/supervisord.pid
childlogdir=%(here)s
loglevel=debug
identifier=compared

[eventlistener:raw]
command=LISTENER
events=PROCESS_STATE,PROCESS_LOG,PROCESS_COMMUNICATION,REMOTE_COMMUNICATION,SUPERVISOR_STATE_CHANGE,PROCESS_GROUP
buffer_size=100

[program:talker]
command=sh -c 'echo hello; printf "x<!--XSUPERVISOR:BEGIN-->captured text<!--XSUPERVISOR:END-->y, and more text after the token\n"; echo "é to stderr" >&2; exec sleep 600'
stdout_events_enabled=true
stderr_events_enabled=true
stdout_capture_maxbytes=1KB
startsecs=0

[program:quick]
command=sh -c 'exit 3'
startretries=1
"#;

/// Runs the comparison scenario on `d`: settle, a remote event, a stop. Returns the envelopes.
fn compared_scenario(d: &mut Daemon) -> Vec<Envelope> {
    let log = &d.path("events.log");
    wait_envelope(log, "the comm event and FATAL", |e| {
        e.name() == "PROCESS_STATE_FATAL"
    });
    wait_envelope(log, "the stderr output", |e| {
        e.name() == "PROCESS_LOG_STDERR"
    });
    wait_envelope(log, "the comm event", |e| {
        e.name() == "PROCESS_COMMUNICATION_STDOUT"
    });
    wait_envelope(log, "the last stdout output", |e| {
        e.payload.ends_with("y, and more text after the token\n")
    });
    remote_events(d, "test-type", "line one\nline two", 1);
    wait_envelope(log, "the remote event", |e| {
        e.name() == "REMOTE_COMMUNICATION"
    });
    let out = d.pyctl(&["stop", "talker"]);
    assert!(out.stdout.contains("talker: stopped"), "{out:?}");
    let all = wait_envelope(log, "talker STOPPED", |e| {
        e.name() == "PROCESS_STATE_STOPPED"
    });
    d.stop();
    all
}

/// The command line of the test listener, logging to `events.log` in the daemon's directory
/// (the children's working directory).
fn listener_here(args: &str) -> String {
    listener(Path::new("events.log"), args)
}

#[test]
fn envelopes_and_payloads_match_pythons_supervisord() {
    let body = COMPARED.replace("LISTENER", &listener_here(""));
    let mut theirs = Daemon::start_python(&body);
    let expected = compared_scenario(&mut theirs);
    let mut ours = Daemon::start(&body);
    let got = compared_scenario(&mut ours);

    // Headers: supervisor's fields in supervisor's order, serials from 0 without a gap (one
    // pool: the pool serial is the global one), len the payload's length in characters.
    for (i, e) in got.iter().enumerate() {
        assert_eq!(
            e.headers.keys().collect::<Vec<_>>(),
            [
                "eventname",
                "len",
                "pool",
                "poolserial",
                "serial",
                "server",
                "ver"
            ],
            "{e:?}"
        );
        assert_eq!(e.headers["ver"], "3.0");
        assert_eq!(e.headers["server"], "compared");
        assert_eq!(e.headers["pool"], "raw");
        assert_eq!(e.serial(), i as u64, "{e:?}");
        assert_eq!(e.headers["poolserial"], e.headers["serial"]);
        assert_eq!(
            e.headers["len"].parse::<usize>().ok(),
            Some(e.payload.chars().count())
        );
    }
    // The same events with the same payloads. Python's loop and our tasks may interleave
    // processes differently (a BACKOFF before or after another's RUNNING), so the order is
    // compared per process, and the whole as a multiset.
    // Per process: its state changes in one sequence, and each output stream in another (two
    // pipes, and a pipe and a state change, are read in no set order).
    let key = |e: &Envelope| {
        let process = e
            .payload
            .split_whitespace()
            .find_map(|w| w.strip_prefix("processname:"))
            .unwrap_or_default();
        let name = e.name();
        if name.starts_with("PROCESS_STATE") {
            format!("{process} state")
        } else if name.starts_with("PROCESS_LOG") || name.starts_with("PROCESS_COMMUNICATION") {
            let channel = name.rsplit('_').next().unwrap_or_default();
            format!("{process} output {channel}")
        } else {
            name.to_owned()
        }
    };
    let by_process = |all: &[Envelope]| {
        let mut m: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
        for e in all {
            m.entry(key(e)).or_default().push(comparable(e));
        }
        m
    };
    assert_eq!(by_process(&got), by_process(&expected));
    let mut a: Vec<_> = got.iter().map(comparable).collect();
    let mut b: Vec<_> = expected.iter().map(comparable).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    // The group and daemon events open the stream in the same order.
    let head = |all: &[Envelope]| all.iter().take(4).map(comparable).collect::<Vec<_>>();
    assert_eq!(head(&got), head(&expected));
}

#[test]
fn the_container_idiom_stops_the_daemon_when_a_program_goes_fatal() {
    // corpus file 22 (supervisor issue 733): a one-line shell listener that kills its parent.
    let mut d = Daemon::start(
        r#"
        [program:nonexistent]
        command=%(here)s/nonexistent
        startsecs=0
        startretries=0
        autorestart=false

        [eventlistener:fatalexit]
        events=PROCESS_STATE_FATAL
        command=sh -c 'while true; do printf "READY\n"; read line; kill -15 $PPID; printf "RESULT 2\n"; printf "OK"; done'
        startsecs=0
        startretries=0
        "#,
    );
    assert_eq!(d.wait_exit(), 0);
    let log = d.log();
    let fatal = log.find("gave up: nonexistent entered FATAL state");
    let term = log.find("received SIGTERM indicating exit request");
    assert!(fatal.is_some() && term > fatal, "{log}");
}

#[test]
fn a_rejected_event_is_sent_again_with_its_serials() {
    let mut d = Daemon::start(&format!(
        "
        [eventlistener:raw]
        command={}
        events=REMOTE_COMMUNICATION
        ",
        listener_here("--reject-first")
    ));
    d.wait_log("success: raw entered RUNNING state");
    remote_events(&d, "t", "data", 2);
    let log = d.path("events.log");
    let all = wait_envelope(&log, "the second event twice", |e| {
        e.serial() == 1 && envelopes(&log).iter().filter(|x| x.serial() == 1).count() == 2
    });
    let seen: Vec<(u64, &str)> = all
        .iter()
        .map(|e| (e.serial(), e.headers["poolserial"].as_str()))
        .collect();
    assert_eq!(seen, [(0, "0"), (0, "0"), (1, "1"), (1, "1")]);
    assert_eq!(all[0].payload, "type:t\ndata 0");
    let log = d.wait_log_count("raw: event was rejected", 2);
    assert!(log.contains("raw: event was processed"), "{log}");
}

#[test]
fn a_listener_that_dies_while_busy_loses_its_event_to_another() {
    let mut d = Daemon::start(&format!(
        "
        [eventlistener:raw]
        command={}
        process_name=%(program_name)s_%(process_num)d
        numprocs=2
        events=REMOTE_COMMUNICATION
        autorestart=true
        ",
        listener_here("--die-first died")
    ));
    d.wait_log("success: raw_0 entered RUNNING state");
    d.wait_log("success: raw_1 entered RUNNING state");
    remote_events(&d, "t", "once", 1);
    let log = d.path("events.log");
    let all = wait_envelope(&log, "the event delivered twice", |_| {
        envelopes(&log).len() >= 2
    });
    assert_eq!(all[0].serial(), 0);
    assert_eq!(all[1].serial(), 0);
    assert_ne!(all[0].process, all[1].process, "{all:?}");
    d.wait_log(&format!(
        "exited: {} (exit status 1; not expected)",
        all[0].process
    ));
}

#[test]
fn a_protocol_violation_makes_a_listener_unknown_with_pythons_words() {
    let mut d = Daemon::start(
        r#"
        [eventlistener:raw]
        command=sh -c 'printf "READY\n"; read line; printf "To: ops@example.com\n"; exec sleep 600'
        events=REMOTE_COMMUNICATION
        "#,
    );
    d.wait_log("success: raw entered RUNNING state");
    remote_events(&d, "t", "x", 1);
    d.wait_log("raw: bad result line: 'To: ops@example.com'");
    let log = d.wait_log("raw: has entered the UNKNOWN state and will no longer receive events, this usually indicates the process violated the eventlistener protocol");
    assert!(log.contains("rebuffering event 0 for pool raw"), "{log}");
}

#[test]
fn a_full_buffer_drops_the_oldest_events_with_pythons_line() {
    let mut d = Daemon::start(&format!(
        "
        [eventlistener:raw]
        command={}
        events=REMOTE_COMMUNICATION
        buffer_size=2
        ",
        listener_here("--never-ready")
    ));
    d.wait_log("success: raw entered RUNNING state");
    remote_events(&d, "t", "x", 5);
    for n in 0..3 {
        d.wait_log(&format!(
            "ERRO pool raw event buffer overflowed, discarding event {n}"
        ));
    }
    // The pool holds the two newest.
    let out = d.ctl(&["--json", "events", "--pools"]);
    assert!(out.stdout.contains("\"buffered\": 2,"), "{out:?}");
    assert!(out.stdout.contains("\"dropped\": 3,"), "{out:?}");
    // And /metrics counts them per pool.
    let sock = d.path("supervisor.sock");
    let metrics = curl(&[
        "--unix-socket",
        &sock.display().to_string(),
        "http://localhost/metrics",
    ]);
    for line in [
        "supervisord_events_emitted_total{pool=\"raw\"} 5",
        "supervisord_events_dropped_total{pool=\"raw\"} 3",
        "supervisord_events_delivered_total{pool=\"raw\"} 0",
        "supervisord_events_buffered{pool=\"raw\"} 2",
    ] {
        assert!(metrics.contains(line), "{line} in\n{metrics}");
    }
}

#[test]
fn a_two_process_pool_serves_two_events_at_once() {
    // Each listener holds its event until both events have been received: a pool that sent
    // one event at a time would never get there.
    let mut d = Daemon::start(&format!(
        "
        [eventlistener:raw]
        command={}
        process_name=%(program_name)s_%(process_num)d
        numprocs=2
        events=REMOTE_COMMUNICATION
        ",
        listener_here("--hold-until events.log.got-0 events.log.got-1 --")
    ));
    d.wait_log("success: raw_0 entered RUNNING state");
    d.wait_log("success: raw_1 entered RUNNING state");
    remote_events(&d, "t", "x", 2);
    let log = d.wait_log_count(": event was processed", 2);
    let all = envelopes(&d.path("events.log"));
    assert_eq!(all.len(), 2, "{all:?}\n{log}");
    assert_ne!(all[0].process, all[1].process);
}

#[test]
fn capture_mode_across_reads_becomes_one_event_and_stays_out_of_the_log() {
    let mut d = Daemon::start(&format!(
        r#"
        [program:cap]
        command=sh -c 'printf "before <!--XSUPER"; sleep 0.3; printf "VISOR:BEGIN-->secret "; sleep 0.3; printf "message<!--XSUPERVISOR:E"; sleep 0.3; printf "ND--> after the capture, long enough to flush\n"; exec sleep 600'
        stdout_logfile=%(here)s/cap.log
        stdout_capture_maxbytes=1KB
        startsecs=0

        [eventlistener:raw]
        command={}
        events=PROCESS_COMMUNICATION
        "#,
        listener_here("")
    ));
    let all = wait_envelope(&d.path("events.log"), "the comm event", |e| {
        e.name() == "PROCESS_COMMUNICATION_STDOUT"
    });
    assert_eq!(
        comparable(&all[0]).1,
        "processname:cap groupname:cap pid:N\nsecret message"
    );
    let cap = wait_for("the log after the capture", || {
        let s = std::fs::read_to_string(d.path("cap.log")).unwrap_or_default();
        s.contains("flush").then_some(s)
    });
    assert_eq!(cap, "before  after the capture, long enough to flush\n");
    d.stop();
}

#[test]
fn supervisor_stdout_result_handler_prints_process_output() {
    let mut d = Daemon::start(&format!(
        r#"
        [program:talker]
        command=sh -c 'echo hello; echo world >&2; exec sleep 600'
        stdout_events_enabled=true
        stderr_events_enabled=true
        startsecs=0

        [eventlistener:stdout]
        command={} {}
        buffer_size=100
        events=PROCESS_LOG
        result_handler=supervisor_stdout:event_handler
        "#,
        venv_python().display(),
        repo_root()
            .join("tests/python/stdout_listener.py")
            .display()
    ));
    wait_for("the output on the daemon's stdout", || {
        let out = d.stdout();
        (out.contains("talker stdout | hello\n") && out.contains("talker stderr | world\n"))
            .then_some(())
    });
    d.stop();
}

#[test]
fn an_unknown_result_handler_is_a_warning_with_its_line_and_the_default_is_used() {
    let mut d = Daemon::start(&format!(
        "
        [eventlistener:raw]
        command={}
        events=REMOTE_COMMUNICATION
        result_handler=mypackage.handlers:handle
        ",
        listener_here("")
    ));
    let log = d.wait_log("result_handler mypackage.handlers:handle is Python code");
    let line = log
        .lines()
        .find(|l| l.contains("mypackage.handlers:handle"))
        .unwrap_or_default();
    assert!(line.contains("supervisord.conf:"), "{line}");
    d.wait_log("success: raw entered RUNNING state");
    remote_events(&d, "t", "x", 1);
    d.wait_log("raw: event was processed");
}

#[test]
fn reload_keeps_the_global_serial_and_restarts_pool_serials() {
    let mut d = Daemon::start(&format!(
        "
        [eventlistener:raw]
        command={}
        events=REMOTE_COMMUNICATION
        ",
        listener_here("")
    ));
    d.wait_log("success: raw entered RUNNING state");
    remote_events(&d, "t", "x", 2);
    let log = d.path("events.log");
    wait_envelope(&log, "two events", |e| e.serial() == 1);
    let out = d.ctl(&["reload"]);
    assert_eq!(out.code, 0, "{out:?}");
    d.wait_log_count("success: raw entered RUNNING state", 2);
    remote_events(&d, "t", "after", 1);
    let all = wait_envelope(&log, "the event after the reload", |e| {
        e.payload == "type:t\nafter"
    });
    let last = all.last().expect("an envelope");
    assert_eq!(
        (last.serial(), last.headers["poolserial"].as_str()),
        (2, "0")
    );
}

#[test]
fn ticks_carry_the_start_of_their_wall_clock_slice() {
    let mut d = Daemon::start(&format!(
        "
        [eventlistener:raw]
        command={}
        events=TICK_5
        ",
        listener_here("")
    ));
    let all = wait_envelope(&d.path("events.log"), "a TICK_5", |e| e.name() == "TICK_5");
    let when: u64 = all[0]
        .payload
        .strip_prefix("when:")
        .and_then(|w| w.parse().ok())
        .expect("when:N");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    assert_eq!(when % 5, 0);
    assert!(when <= now && now - when < 60, "{when} vs {now}");
    d.stop();
}

#[test]
fn superlance_crashmail_mails_an_unexpected_exit() {
    let crashmail = venv_python().with_file_name("crashmail");
    let mut d = Daemon::start(&format!(
        r#"
        [program:crasher]
        command=sh -c 'exit 3'
        startsecs=0
        autorestart=false

        [eventlistener:crashmail]
        command={} -p crasher -m ops@example.com -s "sh -c 'cat >> mail.txt'"
        events=PROCESS_STATE_EXITED
        "#,
        crashmail.display()
    ));
    let mail = wait_for("the mail", || {
        let m = std::fs::read_to_string(d.path("mail.txt")).unwrap_or_default();
        m.contains("exited unexpectedly").then_some(m)
    });
    assert!(
        mail.contains("Process crasher in group crasher exited unexpectedly (pid ")
            && mail.contains("from state RUNNING"),
        "{mail}"
    );
    assert!(mail.contains("To: ops@example.com"), "{mail}");
    d.stop();
}

#[test]
fn superlance_fatalmailbatch_mails_through_an_smtp_server() {
    let port = free_port();
    let fatalmailbatch = venv_python().with_file_name("fatalmailbatch");
    let mut d = Daemon::start(&format!(
        r#"
        [program:smtp]
        command={py} -m aiosmtpd -n -l 127.0.0.1:{port} -c aiosmtpd.handlers.Mailbox %(here)s/maildir
        priority=1

        [program:doomed]
        command=sh -c 'exit 3'
        startretries=0

        [eventlistener:fatalmailbatch]
        command={fatalmailbatch} -t ops@example.com -f sd@example.com -H 127.0.0.1:{port} -e TICK_5 -i 0.01
        events=PROCESS_STATE,TICK_5
        "#,
        py = venv_python().display(),
        fatalmailbatch = fatalmailbatch.display()
    ));
    let mail = wait_for("a mail in the maildir", || {
        let dir = std::fs::read_dir(d.path("maildir/new")).ok()?;
        dir.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
            .find(|m| m.contains("doomed"))
    });
    assert!(
        mail.contains("Process doomed:doomed failed to start too many times"),
        "{mail}"
    );
    d.stop();
}

#[test]
fn superlance_memmon_and_httpok_restart_programs() {
    let dead = free_port();
    let memmon = venv_python().with_file_name("memmon");
    let httpok = venv_python().with_file_name("httpok");
    let mut d = Daemon::start(&format!(
        r#"
        [program:hog]
        command=sleep 600
        startsecs=0

        [program:web]
        command=sleep 600
        startsecs=0

        [eventlistener:memmon]
        command={memmon} -p hog=1KB
        events=TICK_5

        [eventlistener:httpok]
        command={httpok} -p web -t 2 http://127.0.0.1:{dead}/
        events=TICK_5
        "#,
        memmon = memmon.display(),
        httpok = httpok.display()
    ));
    let hog = d.spawned_pid("hog");
    let web = d.spawned_pid("web");
    d.wait_log_count("spawned: 'hog' with pid", 2);
    d.wait_log_count("spawned: 'web' with pid", 2);
    assert_ne!(d.spawned_pid("hog"), hog);
    assert_ne!(d.spawned_pid("web"), web);
    d.stop();
}

/// Runs `supervisorctl args…` in the background; its stdout lines arrive on the receiver.
fn ctl_lines(
    d: &Daemon,
    args: &[&str],
) -> (std::process::Child, std::sync::mpsc::Receiver<String>) {
    use std::io::BufRead;
    let mut child = Command::new(bin("supervisorctl"))
        .args(["-s", &d.url()])
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run supervisorctl");
    let out = child.stdout.take().expect("stdout");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

fn next_line(rx: &std::sync::mpsc::Receiver<String>) -> String {
    rx.recv_timeout(DEADLINE)
        .expect("a line from supervisorctl events")
}

#[test]
fn supervisorctl_events_prints_events_as_they_happen() {
    let mut d = Daemon::start(
        "
        [program:web]
        command=sleep 600
        startsecs=0
        autostart=false
        ",
    );
    // Only STOPPED: what comes first is web's stop, not its start.
    let (mut only, only_rx) = ctl_lines(&d, &["events", "process_state_stopped"]);
    let (mut json, json_rx) = ctl_lines(
        &d,
        &["--json", "events", "PROCESS_STATE", "REMOTE_COMMUNICATION"],
    );
    assert_eq!(next_line(&only_rx), "==> Press Ctrl-C to exit <==");
    // The subscriptions are live once the daemon has answered them: send a probe until the
    // JSON follower shows it.
    let mut probe = String::new();
    for i in 0.. {
        remote_events(&d, "probe", &i.to_string(), 1);
        if let Ok(l) = json_rx.recv_timeout(std::time::Duration::from_millis(500)) {
            probe = l;
            break;
        }
        assert!(i < 60, "no event reached supervisorctl events");
    }
    assert!(
        probe.contains("\"type\": \"REMOTE_COMMUNICATION\""),
        "{probe}"
    );
    assert!(probe.contains("\"remote_type\": \"probe\""), "{probe}");
    assert_eq!(d.ctl(&["start", "web"]).code, 0);
    assert_eq!(d.ctl(&["stop", "web"]).code, 0);
    let stopped = next_line(&only_rx);
    assert!(
        stopped.contains(
            " PROCESS_STATE_STOPPED processname:web groupname:web from_state:STOPPING pid:"
        ),
        "{stopped}"
    );
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|l: &String| l.contains("PROCESS_STATE_STOPPED"))
    {
        seen.push(next_line(&json_rx));
    }
    let types: Vec<&str> = seen
        .iter()
        .filter_map(|l| l.split("\"type\": \"").nth(1)?.split('"').next())
        .filter(|t| *t != "REMOTE_COMMUNICATION")
        .collect();
    assert_eq!(
        types,
        [
            "PROCESS_STATE_STARTING",
            "PROCESS_STATE_RUNNING",
            "PROCESS_STATE_STOPPING",
            "PROCESS_STATE_STOPPED"
        ]
    );
    assert!(
        seen[seen.len() - 1].contains("\"from_state\": \"STOPPING\""),
        "{seen:?}"
    );
    for c in [&mut only, &mut json] {
        let _ = c.kill();
        let _ = c.wait();
    }
    // An unknown type is refused before anything is followed.
    let out = d.ctl(&["events", "PROCESS_STAT"]);
    assert!(
        out.stdout
            .contains("Error: unknown event type PROCESS_STAT"),
        "{out:?}"
    );
    assert_ne!(out.code, 0);
    d.stop();
}

#[test]
fn a_listener_that_answers_and_exits_has_its_event_processed_once() {
    // The exit may be known before the answer is read: the answer still counts.
    let mut d = Daemon::start(
        r#"
        [eventlistener:once]
        command=sh -c 'printf "READY\n"; read header; echo "$header" >> events.log; printf "RESULT 2\nOK"; exit 0'
        events=REMOTE_COMMUNICATION
        autorestart=true
        "#,
    );
    d.wait_log("success: once entered RUNNING state");
    remote_events(&d, "t", "x", 1);
    d.wait_log("once: event was processed");
    d.wait_log_count("success: once entered RUNNING state", 2);
    let out = d.ctl(&["--json", "events", "--pools"]);
    for field in ["\"processed\": 1,", "\"rejected\": 0,", "\"buffered\": 0,"] {
        assert!(out.stdout.contains(field), "{field} in {out:?}");
    }
    d.stop();
}
