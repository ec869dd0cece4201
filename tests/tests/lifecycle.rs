//! Process lifecycle through the real daemon: start, RUNNING, crash loops to FATAL with linear
//! backoff, stop escalation, process groups, dependencies, shutdown leaving nothing behind.

use nix::sys::signal::Signal::{SIGKILL, SIGTERM};
use std::os::unix::fs::PermissionsExt;
use tests::{Daemon, alive, log_time, pids_with_cmdline, wait_for};

#[test]
fn program_reaches_running_and_logs_python_messages() {
    let mut d = Daemon::start(
        r#"
        [program:sleeper]
        command=sleep 600
        startsecs=1
        "#,
    );
    let pid = d.spawned_pid("sleeper");
    assert!(alive(pid));
    d.wait_log(
        "INFO success: sleeper entered RUNNING state, process has stayed up for > than 1 seconds (startsecs)",
    );
    assert_eq!(d.stop(), 0);
    let log = d.log();
    assert!(
        log.contains("WARN received SIGTERM indicating exit request"),
        "{log}"
    );
    assert!(
        log.contains("WARN stopped: sleeper (terminated by SIGTERM)"),
        "{log}"
    );
    assert!(!alive(pid));
    assert!(!d.path("supervisord.pid").exists(), "pidfile removed");
}

#[test]
fn crash_loop_reaches_fatal_after_startretries_plus_one_attempts_with_linear_backoff() {
    let mut d = Daemon::start(
        r#"
        [program:crasher]
        command=sh -c 'exit 3'
        startretries=2
        startsecs=1
        "#,
    );
    let log =
        d.wait_log("gave up: crasher entered FATAL state, too many start retries too quickly");
    let spawns: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("spawned: 'crasher'"))
        .collect();
    assert_eq!(spawns.len(), 3, "startretries=2 means 3 attempts:\n{log}");
    assert_eq!(
        log.matches("WARN exited: crasher (exit status 3; not expected)")
            .count(),
        3
    );
    // Linear backoff: the waits after the 1st and 2nd failure are 1 s and 2 s.
    let gap1 = log_time(spawns[1]) - log_time(spawns[0]);
    let gap2 = log_time(spawns[2]) - log_time(spawns[1]);
    assert!(gap1 >= 0.95, "first retry after ≥1 s, was {gap1}");
    assert!(gap2 >= 1.95, "second retry after ≥2 s, was {gap2}");
    assert!(gap2 > gap1 + 0.5, "the delay grows: {gap1} then {gap2}");
    assert_eq!(d.stop(), 0);
}

#[test]
fn exit_within_startsecs_counts_as_failed_start_even_with_expected_code() {
    let mut d = Daemon::start(
        r#"
        [program:quick]
        command=true
        startretries=0
        "#,
    );
    let log = d.wait_log("gave up: quick entered FATAL state");
    assert!(
        log.contains("WARN exited: quick (exit status 0; not expected)"),
        "{log}"
    );
    d.stop();
}

#[test]
fn autorestart_unexpected_restarts_only_unexpected_exits() {
    let mut d = Daemon::start(
        r#"
        [program:expected]
        command=sh -c 'sleep 0.3; exit 0'
        startsecs=0
        [program:unexpected]
        command=sh -c 'sleep 0.3; exit 7'
        startsecs=0
        "#,
    );
    d.wait_log_count("spawned: 'unexpected'", 3);
    let log = d.log();
    assert!(
        log.contains("INFO exited: expected (exit status 0; expected)"),
        "{log}"
    );
    assert_eq!(log.matches("spawned: 'expected'").count(), 1, "{log}");
    assert!(log.contains("WARN exited: unexpected (exit status 7; not expected)"));
    d.stop();
}

#[test]
fn autorestart_true_and_false() {
    let mut d = Daemon::start(
        r#"
        [program:always]
        command=sh -c 'sleep 0.2'
        startsecs=0
        autorestart=true
        [program:never]
        command=sh -c 'sleep 0.2; exit 9'
        startsecs=0
        autorestart=false
        "#,
    );
    d.wait_log_count("spawned: 'always'", 3);
    d.wait_log("exited: never (exit status 9; not expected)");
    assert_eq!(d.log().matches("spawned: 'never'").count(), 1);
    d.stop();
}

#[test]
fn death_by_signal_is_unexpected_and_restarted() {
    let mut d = Daemon::start(
        r#"
        [program:victim]
        command=sleep 600
        startsecs=0
        "#,
    );
    let pid = d.spawned_pid("victim");
    d.wait_log("success: victim entered RUNNING state");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), SIGKILL).expect("kill");
    d.wait_log("WARN exited: victim (terminated by SIGKILL; not expected)");
    d.wait_log_count("spawned: 'victim'", 2);
    let new = d.spawned_pid("victim");
    assert_ne!(new, pid);
    d.stop();
}

#[test]
fn child_ignoring_sigterm_is_killed_after_stopwaitsecs() {
    let mut d = Daemon::start(
        r#"
        [program:stubborn]
        command=sh -c 'trap "" TERM; echo ready; while true; do sleep 0.1; done'
        startsecs=0
        stopwaitsecs=1
        stdout_logfile=%(here)s/stubborn.log
        "#,
    );
    let pid = d.spawned_pid("stubborn");
    wait_for("the trap to be installed", || {
        std::fs::read_to_string(d.path("stubborn.log"))
            .ok()
            .filter(|s| s.contains("ready"))
    });
    d.signal(SIGTERM);
    let code = d.wait_exit();
    assert_eq!(code, 0);
    let log = d.log();
    let term_line = log
        .lines()
        .find(|l| l.contains("killing stubborn") && l.contains("SIGTERM"))
        .expect("TERM sent");
    let kill_line = log
        .lines()
        .find(|l| l.contains(&format!("WARN killing 'stubborn' ({pid}) with SIGKILL")))
        .unwrap_or_else(|| panic!("SIGKILL after stopwaitsecs:\n{log}"));
    assert!(log_time(kill_line) - log_time(term_line) >= 0.95);
    assert!(
        log.contains("WARN stopped: stubborn (terminated by SIGKILL)"),
        "{log}"
    );
    assert!(!alive(pid));
}

#[test]
fn go_stopsignal_list_is_tried_in_order() {
    let mut d = Daemon::start(
        r#"
        [program:picky]
        command=sh -c 'trap "" TERM; trap "exit 0" INT; echo ready; while true; do sleep 0.1; done'
        startsecs=0
        stopsignal=TERM INT
        stopwaitsecs=1
        stdout_logfile=%(here)s/picky.log
        "#,
    );
    wait_for("ready", || {
        std::fs::read_to_string(d.path("picky.log"))
            .ok()
            .filter(|s| s.contains("ready"))
    });
    assert_eq!(d.stop(), 0);
    let log = d.log();
    assert!(log.contains("with signal SIGTERM"), "{log}");
    assert!(log.contains("with signal SIGINT"), "{log}");
    assert!(log.contains("INFO stopped: picky (exit status 0)"), "{log}");
    assert!(!log.contains("with SIGKILL"), "{log}");
}

#[test]
fn stopasgroup_stops_the_whole_sh_tree() {
    let mut d = Daemon::start(
        r#"
        [program:tree]
        command=sh -c 'sleep 7771 & sleep 7772 & wait'
        startsecs=0
        stopasgroup=true
        [program:flat]
        command=sh -c 'sleep 7773 & sleep 7774 & wait'
        startsecs=0
        "#,
    );
    wait_for("the tree's children", || {
        (!pids_with_cmdline("sleep 7771").is_empty() && !pids_with_cmdline("sleep 7772").is_empty())
            .then_some(())
    });
    wait_for("the flat one's children", || {
        (!pids_with_cmdline("sleep 7774").is_empty()).then_some(())
    });
    assert_eq!(d.stop(), 0);
    assert!(
        pids_with_cmdline("sleep 7771").is_empty(),
        "stopasgroup kills the group"
    );
    assert!(pids_with_cmdline("sleep 7772").is_empty());
    assert!(d.log().contains("process group with signal SIGTERM"));
    // Without stopasgroup only `sh` gets the signal (as in Python); clean up its children.
    for pid in pids_with_cmdline("sleep 7773")
        .into_iter()
        .chain(pids_with_cmdline("sleep 7774"))
    {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), SIGKILL);
    }
}

#[test]
fn depends_on_starts_a_program_only_once_its_dependency_is_running() {
    let mut d = Daemon::start(
        r#"
        [program:app]
        command=sleep 600
        depends_on=db
        startsecs=0
        [program:db]
        command=sleep 601
        startsecs=1
        "#,
    );
    let log = d.wait_log("spawned: 'app'");
    let db_running = log
        .find("success: db entered RUNNING state")
        .expect("db RUNNING first");
    let app_spawned = log.find("spawned: 'app'").expect("app spawned");
    assert!(db_running < app_spawned, "{log}");
    assert_eq!(d.stop(), 0);
    // Shutdown in reverse: the dependent first.
    let log = d.log();
    let app_stop = log.find("stopped: app").expect("app stopped");
    let db_stop = log.find("stopped: db").expect("db stopped");
    assert!(app_stop < db_stop, "{log}");
}

#[test]
fn a_fatal_dependency_leaves_its_dependents_stopped_with_a_reason() {
    let mut d = Daemon::start(
        r#"
        [program:app]
        command=sleep 600
        depends_on=broken
        [program:broken]
        command=/nonexistent/binary
        startretries=0
        "#,
    );
    d.wait_log("gave up: broken entered FATAL state");
    d.wait_log("not starting app: dependency 'broken:broken' entered FATAL state; not started");
    assert!(!d.log().contains("spawned: 'app'"));
    d.stop();
}

#[test]
fn priority_orders_start_and_reverse_orders_shutdown() {
    let mut d = Daemon::start(
        r#"
        [program:last]
        command=sleep 600
        priority=900
        startsecs=0
        [program:first]
        command=sleep 601
        priority=1
        startsecs=0
        [program:middle]
        command=sleep 602
        priority=500
        startsecs=0
        "#,
    );
    let log = d.wait_log("spawned: 'last'");
    let pos = |s: &str, log: &str| log.find(s).unwrap_or_else(|| panic!("{s} in\n{log}"));
    assert!(pos("spawned: 'first'", &log) < pos("spawned: 'middle'", &log));
    assert!(pos("spawned: 'middle'", &log) < pos("spawned: 'last'", &log));
    d.wait_log_count("entered RUNNING state", 3);
    assert_eq!(d.stop(), 0);
    let log = d.log();
    assert!(pos("stopped: last", &log) < pos("stopped: middle", &log));
    assert!(pos("stopped: middle", &log) < pos("stopped: first", &log));
}

#[test]
fn numprocs_groups_and_program_default() {
    let mut d = Daemon::start(
        r#"
        [program-default]
        startsecs=0
        [program:worker]
        command=sleep 62%(process_num)02d
        numprocs=3
        numprocs_start=1
        process_name=%(program_name)s_%(process_num)02d
        [group:svc]
        programs=api,cron
        [program:api]
        command=sleep 610
        [program:cron]
        command=sleep 611
        "#,
    );
    for name in ["worker_01", "worker_02", "worker_03", "api", "cron"] {
        d.wait_log(&format!(
            "success: {name} entered RUNNING state, process has stayed up for > than 0 seconds"
        ));
    }
    assert_eq!(pids_with_cmdline("sleep 6202").len(), 1);
    d.stop();
}

#[test]
fn term_with_many_children_leaves_none_behind() {
    let mut body = String::new();
    for i in 0..40 {
        body.push_str(&format!(
            "[program:p{i}]\ncommand=sleep {}\nstartsecs=0\n",
            90000 + i
        ));
    }
    let mut d = Daemon::start(&body);
    d.wait_log_count("entered RUNNING state", 40);
    let pids: Vec<i32> = (0..40).map(|i| d.spawned_pid(&format!("p{i}"))).collect();
    assert!(pids.iter().all(|&p| alive(p)));
    assert_eq!(d.stop(), 0);
    let survivors: Vec<i32> = pids.into_iter().filter(|&p| alive(p)).collect();
    assert!(survivors.is_empty(), "left behind: {survivors:?}");
    assert_eq!(d.log().matches("stopped: p").count(), 40);
}

#[test]
fn spawn_errors_use_pythons_texts() {
    let mut d = Daemon::start(
        r#"
        [program:missing]
        command=no_such_command_xyz
        startretries=0
        [program:notexec]
        command=%(here)s/plain.txt
        startretries=0
        [program:baddir]
        command=sleep 1
        directory=/nonexistent/dir
        startretries=0
        "#,
    );
    std::fs::write(d.path("plain.txt"), "x").expect("write");
    let log = d.wait_log("gave up: baddir");
    assert!(
        log.contains("INFO spawnerr: can't find command 'no_such_command_xyz'"),
        "{log}"
    );
    d.wait_log("gave up: missing entered FATAL state");
    d.wait_log("gave up: notexec entered FATAL state");
    let log = d.log();
    assert!(
        log.contains("WARN exited: baddir (exit status 127; not expected)"),
        "{log}"
    );
    let stderr_log = std::fs::read_dir(d.dir.path())
        .expect("dir")
        .flatten()
        .find(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("baddir-stderr---")
        })
        .map(|e| std::fs::read_to_string(e.path()).expect("read"))
        .expect("AUTO stderr log");
    assert!(
        stderr_log.contains("supervisor: couldn't chdir to /nonexistent/dir: ENOENT\nsupervisor: child process was not spawned"),
        "{stderr_log}"
    );
    d.stop();
}

#[test]
fn a_child_starts_with_default_signals_and_its_exec_failure_in_its_stderr() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Executable, but no binary and no #!: execve refuses it (ENOEXEC).
    let script = dir.path().join("noshebang");
    std::fs::write(&script, "echo hi\n").expect("write");
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let mut d = Daemon::start(&format!(
        r#"
        [program:plain]
        command=sleep 600
        startsecs=0
        [program:badexec]
        command={}
        startretries=0
        stderr_logfile=%(here)s/badexec.err
        "#,
        script.display()
    ));
    let pid = d.spawned_pid("plain");
    // Nothing blocked, nothing ignored, no handler of the daemon's: what the daemon's runtime
    // set up for itself stays out of its children.
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    for key in ["SigBlk", "SigIgn", "SigCgt"] {
        let line = status
            .lines()
            .find(|l| l.starts_with(key))
            .expect("signal line");
        assert!(line.ends_with("0000000000000000"), "{line}");
    }
    d.wait_log("gave up: badexec entered FATAL state");
    let err = std::fs::read_to_string(d.path("badexec.err")).expect("stderr log");
    assert_eq!(
        err,
        format!(
            "supervisor: couldn't exec {}: ENOEXEC\nsupervisor: child process was not spawned\n",
            script.display()
        )
    );
    d.stop();
}

#[test]
fn shutdown_on_fatal_exits_nonzero() {
    let mut d = Daemon::start(
        r#"
        [supervisord]
        logfile=%(here)s/main.log
        pidfile=%(here)s/supervisord.pid
        childlogdir=%(here)s
        shutdown_on_fatal=true
        [program:ok]
        command=sleep 600
        startsecs=0
        [program:broken]
        command=sh -c 'exit 1'
        startretries=0
        "#,
    );
    assert_eq!(d.wait_exit(), 1);
    let log = d.log();
    assert!(
        log.contains("CRIT broken entered FATAL state: shutting down (shutdown_on_fatal)"),
        "{log}"
    );
    assert!(log.contains("stopped: ok"));
}

#[test]
fn shutdown_on_exit_propagates_the_exit_status() {
    let mut d = Daemon::start(
        r#"
        [supervisord]
        logfile=%(here)s/main.log
        pidfile=%(here)s/supervisord.pid
        childlogdir=%(here)s
        shutdown_on_exit=app
        [program:app]
        command=sh -c 'sleep 1.5; exit 42'
        [program:sidecar]
        command=sleep 600
        startsecs=0
        "#,
    );
    assert_eq!(d.wait_exit(), 42);
    assert!(
        d.log()
            .contains("app exited: shutting down (shutdown_on_exit), exit status 42")
    );
}
