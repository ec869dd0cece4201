//! The Go supervisord's program extensions through the real daemon, with real files, signals,
//! sockets and clocks: restart on change, hooks, `cron`, liveness checks and readiness.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use tests::{Daemon, alive, curl, free_port, wait_for};

fn write_exec(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write script");
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
}

/// `'name'`'s pid from `supervisorctl status` once it is RUNNING with a pid other than `not`.
fn running_pid(d: &Daemon, name: &str, not: i32) -> i32 {
    wait_for(&format!("{name} RUNNING with a new pid"), || {
        let out = d.ctl(&["pid", name]).stdout;
        let pid: i32 = out.trim().parse().ok()?;
        let status = d.ctl(&["status", name]).stdout;
        (pid > 0 && pid != not && status.contains("RUNNING")).then_some(pid)
    })
}

#[test]
fn a_replaced_binary_restarts_the_program_however_it_is_replaced() {
    let mut d = Daemon::start(
        r#"
        [program:app]
        command=%(here)s/bin/app
        startsecs=0
        restart_when_binary_changed=true
        restart_debounce=200ms
        "#,
    );
    let bin = d.path("bin");
    let script = "#!/bin/sh\nexec sleep 600\n";
    // The program starts only once its executable exists: written after the daemon started,
    // the watch must pick it up (its directory appears too).
    d.wait_log("bin does not exist (yet)");
    std::fs::create_dir(&bin).expect("mkdir");
    write_exec(&bin.join("app"), script);
    d.ctl(&["start", "app"]);
    let mut pid = running_pid(&d, "app", 0);
    let steps: [(&str, &dyn Fn()); 3] = [
        // mv over it (an atomic deploy)
        ("mv", &|| {
            write_exec(&bin.join("app.new"), &format!("{script}# v2\n"));
            std::fs::rename(bin.join("app.new"), bin.join("app")).expect("mv");
        }),
        // rewritten in place (cp onto it)
        ("cp", &|| {
            std::fs::write(bin.join("app"), format!("{script}# v3\n")).expect("cp");
        }),
        // unlinked and created anew (a package upgrade)
        ("unlink", &|| {
            std::fs::remove_file(bin.join("app")).expect("rm");
            write_exec(&bin.join("app"), &format!("{script}# v4\n"));
        }),
    ];
    for (n, (how, replace)) in steps.iter().enumerate() {
        replace();
        let log = d.wait_log_count("changed: restarting 'app'", n + 1);
        assert!(
            log.contains(&format!("executable {}", bin.join("app").display())),
            "{how}:\n{log}"
        );
        let new = running_pid(&d, "app", pid);
        assert!(!alive(pid) || new != pid, "{how}: the old process is gone");
        pid = new;
    }
    assert_eq!(d.log().matches("changed: restarting 'app'").count(), 3);
    d.stop();
}

#[test]
fn a_burst_of_200_files_is_one_restart_and_other_names_are_ignored() {
    let mut d = Daemon::start(
        r#"
        [program:web]
        command=sleep 600
        startsecs=0
        restart_directory_monitor=%(here)s/conf
        restart_file_pattern=*.conf
        restart_debounce=300ms
        "#,
    );
    let conf = d.path("conf");
    d.wait_log("conf does not exist (yet)");
    std::fs::create_dir_all(conf.join("sub")).expect("mkdir");
    d.wait_log("conf appeared: watched now");
    let pid = d.spawned_pid("web");
    for i in 0..200 {
        std::fs::write(conf.join("sub").join(format!("f{i:03}.conf")), "x").expect("write");
    }
    std::fs::write(conf.join("notes.txt"), "not a .conf").expect("write");
    let log = d.wait_log("changed: restarting 'web'");
    let action = log
        .lines()
        .find(|l| l.contains("changed: restarting 'web'"))
        .expect("action");
    assert!(
        action.contains("/sub/f") && action.contains(".conf and more"),
        "{action}"
    );
    let second = running_pid(&d, "web", pid);
    // A change after the burst is a second action, named for that file alone: so the burst
    // was exactly one. It is written into a directory made just before, so it is seen however
    // soon after the directory it comes.
    std::fs::create_dir_all(conf.join("late/deeper")).expect("mkdir");
    std::fs::write(conf.join("late/deeper/sentinel.conf"), "x").expect("write");
    let log = d.wait_log_count("changed: restarting 'web'", 2);
    let actions: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("changed: restarting 'web'"))
        .collect();
    assert_eq!(actions.len(), 2, "{log}");
    assert!(
        actions[1].contains("sentinel.conf changed"),
        "{}",
        actions[1]
    );
    assert!(!log.contains("notes.txt"), "{log}");
    running_pid(&d, "web", second);
    d.stop();
}

#[test]
fn signal_and_command_variants_act_without_a_restart() {
    let mut d = Daemon::start(
        r#"
        [program:sig]
        command=%(here)s/trap.sh
        startsecs=0
        stdout_logfile=%(here)s/sig.log
        restart_directory_monitor=%(here)s/watched
        restart_signal_when_file_changed=USR1
        restart_debounce=100ms
        [program:cmd]
        command=sleep 600
        startsecs=0
        restart_when_binary_changed=false
        restart_directory_monitor=%(here)s/watched
        restart_cmd_when_file_changed=echo "reload requested for $SUPERVISOR_PROCESS_NAME"
        restart_debounce=100ms
        "#,
    );
    write_exec(
        &d.path("trap.sh"),
        "#!/bin/sh\ntrap 'echo got USR1' USR1\necho ready\nwhile :; do sleep 1 & wait $!; done\n",
    );
    std::fs::create_dir(d.path("watched")).expect("mkdir");
    d.ctl(&["restart", "sig"]);
    let sig = running_pid(&d, "sig", 0);
    let cmd = running_pid(&d, "cmd", 0);
    wait_for("the trap script to be ready", || {
        std::fs::read_to_string(d.path("sig.log"))
            .ok()?
            .contains("ready")
            .then_some(())
    });
    std::fs::write(d.path("watched/a"), "x").expect("write");
    d.wait_log("'cmd' restart_cmd_when_file_changed output: reload requested for cmd");
    d.wait_log(&format!("sending SIGUSR1 to 'sig' (pid {sig})"));
    wait_for("the program's answer to USR1", || {
        std::fs::read_to_string(d.path("sig.log"))
            .ok()?
            .contains("got USR1")
            .then_some(())
    });
    assert_eq!(running_pid(&d, "sig", 0), sig);
    assert_eq!(running_pid(&d, "cmd", 0), cmd);
    d.stop();
}

#[test]
fn watches_follow_a_reload_and_a_stopped_program_is_left_alone() {
    let mut d = Daemon::start(
        r#"
        [program:app]
        command=sleep 600
        startsecs=0
        "#,
    );
    std::fs::create_dir(d.path("conf")).expect("mkdir");
    let pid = d.spawned_pid("app");
    d.write_config(
        r#"
        [program:app]
        command=sleep 600
        startsecs=0
        restart_directory_monitor=%(here)s/conf
        restart_debounce=100ms
        "#,
    );
    let out = d.ctl(&["update"]);
    assert!(out.stdout.contains("app: updated process group"), "{out:?}");
    let pid = running_pid(&d, "app", pid);
    std::fs::write(d.path("conf/x"), "1").expect("write");
    d.wait_log("changed: restarting 'app'");
    let pid = running_pid(&d, "app", pid);
    d.ctl(&["stop", "app"]);
    std::fs::write(d.path("conf/y"), "2").expect("write");
    d.wait_log("conf/y changed; 'app' is STOPPED: nothing done");
    assert!(!alive(pid));
    // Removed by a reload: no watch, no action. A program added by the same reload watches
    // another directory; its action, for a change made after the one in conf/, comes first.
    std::fs::create_dir(d.path("conf2")).expect("mkdir");
    d.write_config(
        r#"
        [program:other]
        command=sleep 600
        startsecs=0
        restart_directory_monitor=%(here)s/conf2
        restart_debounce=100ms
        "#,
    );
    d.ctl(&["update"]);
    d.wait_log("spawned: 'other'");
    std::fs::write(d.path("conf/z"), "3").expect("write");
    std::fs::write(d.path("conf2/s"), "4").expect("write");
    let log = d.wait_log("conf2/s changed: restarting 'other'");
    assert!(!log.contains("conf/z"), "{log}");
    d.stop();
}

#[test]
fn a_failing_pre_start_hook_blocks_the_start_and_hooks_log_their_output() {
    let mut d = Daemon::start(
        r#"
        [program:app]
        command=sleep 600
        startsecs=0
        startretries=1
        pre_start_hook=echo checking; test -e %(here)s/ready
        pre_stop_hook=echo "draining $SUPERVISOR_PROCESS_NAME"
        "#,
    );
    d.wait_log("gave up: app entered FATAL state");
    let log = d.log();
    assert!(
        log.contains("'app' pre_start_hook output: checking"),
        "{log}"
    );
    assert!(!log.contains("spawned: 'app'"), "{log}");
    let status = d.ctl(&["status", "app"]).stdout;
    assert!(
        status.contains("FATAL") && status.contains("pre_start_hook failed: exit status 1"),
        "{status}"
    );
    let py = d.pyctl(&["status", "app"]).stdout;
    assert!(py.contains("pre_start_hook failed: exit status 1"), "{py}");
    std::fs::write(d.path("ready"), "").expect("touch");
    let out = d.ctl(&["start", "app"]);
    assert!(out.stdout.contains("app: started"), "{out:?}");
    d.wait_log("'app' pre_start_hook succeeded");
    d.ctl(&["stop", "app"]);
    let log = d.wait_log("stopped: app");
    let hook = log
        .find("'app' pre_stop_hook output: draining app")
        .expect(&log);
    assert!(hook < log.find("stopped: app").expect("stopped"), "{log}");
    d.stop();
}

#[test]
fn cron_starts_a_stopped_program_and_leaves_a_running_one_alone() {
    let mut d = Daemon::start(
        r#"
        [program:job]
        command=sleep 600
        startsecs=0
        autostart=false
        cron=*/2 * * * * *
        "#,
    );
    d.wait_log("cron: starting 'job'");
    let pid = running_pid(&d, "job", 0);
    d.wait_log("cron: 'job' is RUNNING: left alone");
    assert_eq!(d.log().matches("cron: starting 'job'").count(), 1);
    d.ctl(&["stop", "job"]);
    d.wait_log_count("cron: starting 'job'", 2);
    let again = running_pid(&d, "job", pid);
    assert_ne!(again, pid);
    d.stop();
}

/// A web server whose answer is 503 while `sick` exists in its directory.
const SERVER: &str = r#"
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(503 if os.path.exists("sick") else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

#[test]
fn an_http_check_reports_health_everywhere_and_its_failure_action_runs() {
    let port = free_port();
    let web = free_port();
    let mut d = Daemon::start(&format!(
        r#"
        [inet_http_server]
        port=127.0.0.1:{web}
        [program:api]
        command=python3 %(here)s/server.py {port}
        directory=%(here)s
        startsecs=0
        autostart=false
        liveness_check_script=http://127.0.0.1:{port}/health
        liveness_check_initial_delay=2
        liveness_check_period=0.3
        liveness_check_timeout=3
        liveness_check_failure_threshold=2
        liveness_check_success_threshold=2
        liveness_check_failure_action=echo "api is sick" > %(here)s/alerted
        "#
    ));
    std::fs::write(d.path("server.py"), SERVER).expect("write");
    d.ctl(&["start", "api"]);
    d.wait_log("'api' is healthy (liveness check passed)");
    let status = d.ctl(&["status", "api"]).stdout;
    assert!(status.contains(", healthy"), "{status}");
    let metrics = curl(&[&format!("http://127.0.0.1:{web}/metrics")]);
    assert!(
        metrics.contains("supervisord_process_healthy{name=\"api\",group=\"api\"} 1"),
        "{metrics}"
    );
    let before = d.log().matches("'api' is unhealthy").count();
    std::fs::write(d.path("sick"), "").expect("touch");
    d.wait_log_count(
        "'api' is unhealthy (2 failed liveness checks in a row, the last: http://127.0.0.1",
        before + 1,
    );
    wait_for("the failure action's file", || {
        d.path("alerted").exists().then_some(())
    });
    // The process runs on (the action was a command), and every client sees why.
    let status = d.ctl(&["status", "api"]).stdout;
    assert!(
        status.contains("RUNNING") && status.contains("unhealthy: http://127.0.0.1"),
        "{status}"
    );
    assert!(status.contains("HTTP status 503"), "{status}");
    let py = d.pyctl(&["status", "api"]).stdout;
    assert!(
        py.contains("unhealthy:") && py.contains("HTTP status 503"),
        "{py}"
    );
    let json = d.ctl(&["--json", "status", "api"]).stdout;
    assert!(json.contains("\"health\": \"unhealthy\""), "{json}");
    let rest = curl(&[&format!("http://127.0.0.1:{web}/program/list")]);
    assert!(rest.contains("\"health\": \"unhealthy\""), "{rest}");
    let metrics = curl(&[&format!("http://127.0.0.1:{web}/metrics")]);
    assert!(
        metrics.contains("supervisord_process_healthy{name=\"api\",group=\"api\"} 0"),
        "{metrics}"
    );
    std::fs::remove_file(d.path("sick")).expect("rm");
    d.wait_log_count("'api' is healthy (liveness check passed)", 2);
    // A server that stops answering (stopped by SIGSTOP: connections are accepted by the
    // kernel, nothing replies) fails by the timeout.
    let pid: i32 = d.ctl(&["pid", "api"]).stdout.trim().parse().expect("pid");
    let api = nix::unistd::Pid::from_raw(pid);
    nix::sys::signal::kill(api, nix::sys::signal::Signal::SIGSTOP).expect("stop");
    d.wait_log("/health: no answer within 3s");
    d.wait_log_count("'api' is unhealthy", before + 2);
    nix::sys::signal::kill(api, nix::sys::signal::Signal::SIGCONT).expect("cont");
    d.wait_log_count("'api' is healthy (liveness check passed)", 3);
    d.stop();
}

#[test]
fn tcp_and_command_checks_restart_and_stop_what_fails() {
    let port = free_port();
    let mut d = Daemon::start(&format!(
        r#"
        [program:listener]
        command=python3 -c "import os,socket,time; s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', {port})); s.listen(); exec('while not os.path.exists(\'close\'): time.sleep(0.1)'); s.close(); os.remove('close'); time.sleep(600)"
        directory=%(here)s
        startsecs=0
        stopwaitsecs=2
        liveness_check_script=tcp://127.0.0.1:{port}
        liveness_check_initial_delay=3
        liveness_check_period=0.5
        liveness_check_failure_threshold=3
        [program:checked]
        command=sleep 600
        startsecs=0
        liveness_check_script=test ! -e %(here)s/broken
        liveness_check_period=0.3
        liveness_check_failure_threshold=1
        liveness_check_failure_action=stop
        "#
    ));
    let first = d.spawned_pid("listener");
    d.wait_log("'listener' is healthy");
    // It closes its socket when told: restarted, with a new pid, healthy again.
    std::fs::write(d.path("close"), "").expect("touch");
    d.wait_log("'listener' is unhealthy");
    d.wait_log("restarting it");
    let second = running_pid(&d, "listener", first);
    assert_ne!(first, second);
    d.wait_log_count("'listener' is healthy", 2);

    d.wait_log("'checked' is healthy");
    std::fs::write(d.path("broken"), "").expect("touch");
    d.wait_log("'checked' is unhealthy (1 failed liveness checks in a row, the last: exit status 1): stopping it");
    let status = wait_for("checked STOPPED", || {
        let s = d.ctl(&["status", "checked"]).stdout;
        s.contains("STOPPED").then_some(s)
    });
    assert!(status.contains("(unhealthy: exit status 1)"), "{status}");
    d.stop();
}

#[test]
fn depends_on_waits_for_a_dependency_that_is_slow_to_listen() {
    let port = free_port();
    let mut d = Daemon::start(&format!(
        r#"
        [program:db]
        command=python3 -c "import socket,time; time.sleep(2); s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(('127.0.0.1', {port})); s.listen(); print('listening', flush=True); time.sleep(600)"
        startsecs=0
        stdout_logfile=%(here)s/db.log
        liveness_check_script=tcp://127.0.0.1:{port}
        liveness_check_period=0.2
        liveness_check_failure_threshold=100
        [program:app]
        command=sleep 600
        startsecs=0
        depends_on=db
        "#
    ));
    let log = d.wait_log("spawned: 'app'");
    let healthy = log
        .find("'db' is healthy")
        .expect("db healthy before app spawned");
    assert!(healthy < log.find("spawned: 'app'").expect("app"), "{log}");
    assert!(
        log.contains("app waits for db:db to be ready (depends_on)"),
        "{log}"
    );
    let db_out = std::fs::read_to_string(d.path("db.log")).expect("db log");
    assert!(db_out.contains("listening"), "{db_out}");
    d.stop();
}

/// Records each request (method, path, the X-Who header, body) in `requests.log` and answers
/// 200.
const RECORDER: &str = r#"
import http.server, sys
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode() if n else ""
        with open("requests.log", "a") as f:
            f.write("%s %s %s %s\n" % (self.command, self.path, self.headers.get("X-Who"), body))
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()
    do_GET = do_POST = answer
    def log_message(self, *a):
        pass
http.server.HTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"#;

#[test]
fn hooks_in_the_go_forms_http_and_tcp() {
    let (port, closed) = (free_port(), free_port());
    let mut d = Daemon::start(&format!(
        r#"
        [program:recorder]
        command=python3 %(here)s/recorder.py {port}
        directory=%(here)s
        startsecs=0
        autostart=false
        priority=1
        [program:app]
        command=sleep 600
        startsecs=0
        autostart=false
        pre_start_hook=http://127.0.0.1:{port}/starting -H 'X-Who: app'
        pre_stop_hook=http://127.0.0.1:{port}/stopping -H 'X-Who: app' -d 'reason=stop'
        [program:gated]
        command=sleep 600
        startsecs=0
        autostart=false
        startretries=0
        pre_start_hook=tcp://127.0.0.1:{closed}
        "#
    ));
    std::fs::write(d.path("recorder.py"), RECORDER).expect("write");
    d.ctl(&["start", "recorder"]);
    let log_file = d.path("requests.log");
    let requests = || std::fs::read_to_string(&log_file).unwrap_or_default();
    // The recorder may take a moment to listen: until then the hook fails and app BACKOFFs.
    wait_for("app RUNNING after its HTTP pre_start_hook", || {
        d.ctl(&["start", "app"]);
        d.ctl(&["status", "app"])
            .stdout
            .contains("RUNNING")
            .then_some(())
    });
    assert!(
        requests().contains("GET /starting app \n"),
        "{}",
        requests()
    );
    d.ctl(&["stop", "app"]);
    d.wait_log("stopped: app");
    assert!(
        requests().contains("POST /stopping app reason=stop\n"),
        "{}",
        requests()
    );
    let log = d.log();
    let hook = log.find("'app' pre_stop_hook succeeded").expect(&log);
    assert!(hook < log.find("stopped: app").expect("stopped"), "{log}");

    let out = d.ctl(&["start", "gated"]);
    assert_ne!(out.code, 0, "{out:?}");
    let status = d.ctl(&["status", "gated"]).stdout;
    assert!(
        status.contains(&format!(
            "pre_start_hook failed: tcp://127.0.0.1:{closed}: Connection refused"
        )),
        "{status}"
    );
    d.stop();
}
