//! The daemon's signals (HUP reload, USR2 reopen) and child output handling: rotation, targets,
//! redirect_stderr, strip_ansi, the child's environment.

use nix::sys::signal::Signal::{SIGHUP, SIGUSR2};
use tests::{Daemon, alive, wait_for};

fn read(p: &std::path::Path) -> String {
    std::fs::read_to_string(p).unwrap_or_default()
}

#[test]
fn hup_with_a_good_config_restarts_with_the_new_one() {
    let mut d = Daemon::start(
        r#"
        [program:old]
        command=sleep 600
        startsecs=0
        "#,
    );
    let old_pid = d.spawned_pid("old");
    d.write_config(
        r#"
        [program:old]
        command=sleep 601
        startsecs=0
        [program:new]
        command=sleep 602
        startsecs=0
        "#,
    );
    d.signal(SIGHUP);
    d.wait_log("WARN received SIGHUP indicating restart request");
    d.wait_log("spawned: 'new'");
    d.wait_log_count("spawned: 'old'", 2);
    assert!(!alive(old_pid), "old process stopped by the reload");
    let new_old = d.spawned_pid("old");
    assert_ne!(new_old, old_pid);
    let cmdline = read(std::path::Path::new(&format!("/proc/{new_old}/cmdline")));
    assert!(
        cmdline.contains("601"),
        "restarted with the new command: {cmdline:?}"
    );
    assert_eq!(d.stop(), 0);
}

#[test]
fn hup_with_a_broken_config_keeps_the_running_one_untouched() {
    let mut d = Daemon::start(
        r#"
        [program:keep]
        command=sleep 600
        startsecs=0
        "#,
    );
    let pid = d.spawned_pid("keep");
    d.write_config(
        r#"
        [program:keep]
        command=sleep 600
        startsecs=soon
        "#,
    );
    d.signal(SIGHUP);
    let log = d.wait_log("has errors; the running configuration is kept");
    assert!(
        log.contains("startsecs=\"soon\": expected an integer"),
        "{log}"
    );
    assert!(alive(pid), "the running process was not touched");
    assert_eq!(log.matches("spawned: 'keep'").count(), 1);
    assert!(!log.contains("stopped: keep"));
    // Still fully working: a later good reload goes through.
    d.write_config(
        r#"
        [program:keep]
        command=sleep 600
        startsecs=0
        "#,
    );
    d.signal(SIGHUP);
    d.wait_log_count("spawned: 'keep'", 2);
    assert_eq!(d.stop(), 0);
}

#[test]
fn usr2_reopens_log_files() {
    let mut d = Daemon::start(
        r#"
        [program:talker]
        command=sh -c 'i=0; while true; do echo line$i; i=$((i+1)); sleep 0.05; done'
        startsecs=0
        stdout_logfile=%(here)s/talker.log
        "#,
    );
    let log_path = d.path("talker.log");
    wait_for("output", || {
        (read(&log_path).contains("line3")).then_some(())
    });
    std::fs::rename(&log_path, d.path("talker.log.old")).expect("rename");
    std::fs::rename(d.path("main.log"), d.path("main.log.old")).expect("rename main");
    d.signal(SIGUSR2);
    wait_for("a new talker.log", || {
        (read(&log_path).contains("line")).then_some(())
    });
    wait_for("a new main.log", || {
        std::fs::metadata(d.path("main.log")).ok()
    });
    let old_main = read(&d.path("main.log.old"));
    assert!(
        old_main.contains("received SIGUSR2 indicating log reopen request"),
        "{old_main}"
    );
    assert_eq!(d.stop(), 0);
}

#[test]
fn child_logs_rotate_by_size_with_backups() {
    // Four bursts of 2100 bytes, each of one letter; the writer waits for each burst to be
    // rotated into w.log.1 before the next, so every burst is one write of its own.
    let mut d = Daemon::start(
        r#"
        [program:writer]
        command=sh -c 'for c in a b c d; do head -c 2100 /dev/zero | tr "\0" $c; until grep -q $c %(here)s/w.log.1 2>/dev/null; do sleep 0.02; done; done; exec sleep 600'
        startsecs=0
        stdout_logfile=%(here)s/w.log
        stdout_logfile_maxbytes=2KB
        stdout_logfile_backups=2
        "#,
    );
    let p = |n: &str| d.path(n);
    wait_for("the fourth burst rotated", || {
        read(&p("w.log.1")).contains('d').then_some(())
    });
    let one = read(&p("w.log.1"));
    let two = read(&p("w.log.2"));
    // Rotation happens after the write that reaches maxbytes (Python's rule), so each backup
    // holds one whole burst.
    assert_eq!(one, "d".repeat(2100));
    assert_eq!(two, "c".repeat(2100));
    assert!(!p("w.log.3").exists(), "only 2 backups kept");
    assert_eq!(read(&p("w.log")), "");
    assert_eq!(d.stop(), 0);
}

#[test]
fn redirect_stderr_strip_ansi_and_multiple_targets() {
    let mut d = Daemon::start(
        r#"
        [supervisord]
        logfile=%(here)s/main.log
        pidfile=%(here)s/supervisord.pid
        childlogdir=%(here)s
        strip_ansi=true
        [program:colors]
        command=sh -c 'printf "\033[31mred\033[0m out\n"; echo err >&2; exec sleep 600'
        startsecs=0
        redirect_stderr=true
        stdout_logfile=%(here)s/a.log, %(here)s/b.log, /dev/stdout
        "#,
    );
    wait_for("both lines in a.log", || {
        let s = read(&d.path("a.log"));
        (s.contains("red out") && s.contains("err")).then_some(())
    });
    let a = read(&d.path("a.log"));
    assert_eq!(a, read(&d.path("b.log")));
    assert!(!a.contains('\u{1b}'), "ANSI stripped: {a:?}");
    wait_for("the daemon's stdout", || {
        d.stdout().contains("red out").then_some(())
    });
    let no_stderr_auto = std::fs::read_dir(d.dir.path())
        .expect("dir")
        .flatten()
        .all(|e| !e.file_name().to_string_lossy().starts_with("colors-stderr"));
    assert!(no_stderr_auto, "no stderr log when redirected");
    assert_eq!(d.stop(), 0);
}

#[test]
fn child_environment_follows_pythons_order_and_env_files() {
    let dir_env = "FROM_FILE=file\nOVERRIDE=file\n";
    let mut d = Daemon::start(
        r#"
        [supervisord]
        logfile=%(here)s/main.log
        pidfile=%(here)s/supervisord.pid
        childlogdir=%(here)s
        environment=GLOBAL="g",OVERRIDE="global"
        [unix_http_server]
        file=%(here)s/supervisor.sock
        [program:envdump]
        command=sh -c 'env > %(here)s/env.txt; exec sleep 600'
        startsecs=0
        envFiles=%(here)s/app.env
        environment=OVERRIDE="program",PROG="p"
        startretries=0
        "#,
    );
    // The env file is read at spawn time: missing at first, written before the reload.
    let log = d.wait_log("gave up: envdump entered FATAL state");
    assert!(log.contains("couldn't read env file"), "{log}");
    std::fs::write(d.path("app.env"), dir_env).expect("env file");
    d.signal(SIGHUP);
    wait_for("env.txt", || {
        let s = read(&d.path("env.txt"));
        s.contains("PROG=").then_some(s)
    });
    let env = read(&d.path("env.txt"));
    let get = |k: &str| {
        env.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(str::to_owned)
    };
    assert_eq!(get("SUPERVISOR_ENABLED").as_deref(), Some("1"));
    assert_eq!(get("SUPERVISOR_PROCESS_NAME").as_deref(), Some("envdump"));
    assert_eq!(get("SUPERVISOR_GROUP_NAME").as_deref(), Some("envdump"));
    assert_eq!(
        get("SUPERVISOR_SERVER_URL"),
        Some(format!("unix://{}/supervisor.sock", d.dir.path().display()))
    );
    assert_eq!(get("GLOBAL").as_deref(), Some("g"));
    assert_eq!(get("FROM_FILE").as_deref(), Some("file"));
    assert_eq!(get("OVERRIDE").as_deref(), Some("program"));
    assert!(
        get("PATH").is_some(),
        "supervisord's own environment is inherited"
    );
    assert_eq!(d.stop(), 0);
}
