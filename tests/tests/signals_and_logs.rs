//! The daemon's signals (HUP reload, USR2 reopen) and child output handling: rotation, targets,
//! redirect_stderr, strip_ansi, the child's environment.

use nix::sys::signal::Signal::{SIGHUP, SIGTERM, SIGUSR2};
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
fn child_logs_rotate_before_a_write_would_pass_maxbytes() {
    // 400 lines of 70 bytes in a burst (read in a few large pieces) at maxbytes=4KB: no file
    // passes 4096 bytes, nothing is lost and the order holds across backups (Python rotates
    // after the write, which leaves files past the limit).
    let mut d = Daemon::start(
        r#"
        [program:writer]
        command=sh -c 'seq -f %%069g 1 400; exec sleep 600'
        startsecs=0
        stdout_logfile=%(here)s/w.log
        stdout_logfile_maxbytes=4KB
        stdout_logfile_backups=10
        "#,
    );
    let p = |n: &str| d.path(n);
    let files = || {
        let mut names: Vec<String> = (1..=10)
            .rev()
            .map(|i| format!("w.log.{i}"))
            .filter(|n| p(n).exists())
            .collect();
        names.push("w.log".into());
        names
    };
    let all = wait_for("the 400th line", || {
        let all: String = files().iter().map(|n| read(&p(n))).collect();
        all.ends_with(&format!("{:069}\n", 400)).then_some(all)
    });
    let expected: String = (1..=400).map(|i| format!("{i:069}\n")).collect();
    assert_eq!(all, expected, "every line once, in order");
    // A line is cut only where the program's output reached the daemon in two reads.
    for n in files() {
        let text = read(&p(&n));
        assert!(text.len() <= 4096, "{n}: {} bytes", text.len());
    }
    assert!(
        p("w.log.6").exists(),
        "28000 bytes take 7 files of at most 4096"
    );
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

#[test]
fn a_log_file_that_cannot_be_opened_fails_the_spawn_as_in_python() {
    let conf = r#"
        [program:bad]
        command=sleep 600
        startretries=1
        stdout_logfile=%(here)s
        "#;
    // The log file is a directory: its parent exists (the config is valid), the open fails.
    let line = "spawnerr: unknown error making dispatchers for 'bad': EISDIR";
    let mut py = Daemon::start_python(conf);
    py.wait_log("gave up: bad entered FATAL state");
    let python = py.log();
    let mut d = Daemon::start(conf);
    d.wait_log("gave up: bad entered FATAL state");
    let ours = d.log();
    // The same story, line for line (times aside).
    let story = |log: &str| -> Vec<String> {
        log.lines()
            .filter(|l| l.contains("spawnerr") || l.contains("gave up") || l.contains("spawned"))
            .map(|l| l.get(24..).unwrap_or(l).to_owned())
            .collect()
    };
    assert_eq!(
        story(&ours),
        story(&python),
        "ours:\n{ours}\npython:\n{python}"
    );
    assert_eq!(python.matches(line).count(), 2, "{python}");
    let out = d.ctl(&["status", "bad"]);
    assert!(
        out.stdout.contains("FATAL")
            && out
                .stdout
                .contains("unknown error making dispatchers for 'bad': EISDIR"),
        "{out:?}"
    );
    assert_eq!(d.stop(), 0);
}

#[test]
fn a_reload_re_creates_the_servers_that_changed() {
    use std::os::unix::fs::PermissionsExt;
    let (p1, p2, p3) = (tests::free_port(), tests::free_port(), tests::free_port());
    let body = |unix: &str, inet: &str| {
        format!(
            "[unix_http_server]\n{unix}\n{inet}\n[program:sleeper]\ncommand=sleep 600\nstartsecs=0\n"
        )
    };
    let mut d = Daemon::start("[program:sleeper]\ncommand=sleep 600\nstartsecs=0\n");
    let sock = d.path("supervisor.sock").display().to_string();
    let unix1 = format!("file={sock}");
    d.write_config(&body(
        &unix1,
        &format!("[inet_http_server]\nport=127.0.0.1:{p1}"),
    ));
    let status = |port: u16, auth: &[&str]| {
        let mut args = vec!["-o", "/dev/null", "-w", "%{http_code}"];
        args.extend_from_slice(auth);
        let url = format!("http://127.0.0.1:{port}/program/list");
        args.push(&url);
        let o = std::process::Command::new("curl")
            .args(["-s", "--max-time", "10"])
            .args(&args)
            .output()
            .expect("curl");
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // No inet port at first: a reload opens it.
    d.signal(SIGHUP);
    wait_for("port 1 open", || (status(p1, &[]) == "200").then_some(()));

    // Another port with credentials, the socket with another mode: port 1 closes, port 2
    // asks for the credentials, the socket (kept) has its new mode.
    d.write_config(&body(
        &format!("{unix1}\nchmod=0770"),
        &format!("[inet_http_server]\nport=127.0.0.1:{p2}\nusername=u\npassword=p"),
    ));
    d.signal(SIGHUP);
    wait_for("port 2 open", || {
        (status(p2, &["-u", "u:p"]) == "200").then_some(())
    });
    assert_eq!(status(p2, &[]), "401");
    wait_for("port 1 closed", || (status(p1, &[]) == "000").then_some(()));
    let mode = std::fs::metadata(&sock)
        .expect("socket")
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o770);
    assert!(d.ctl(&["status", "sleeper"]).stdout.contains("RUNNING"));

    // The same port on another address (`localhost` is 127.0.0.1, and ::1 where there is
    // IPv6): the old socket closes first, the new one serves.
    d.write_config(&body(
        &unix1,
        &format!("[inet_http_server]\nport=localhost:{p2}\nusername=u\npassword=p"),
    ));
    d.signal(SIGHUP);
    // Announced: the socket (start), port 1, the socket and port 2, the socket and this.
    d.wait_log_count("RPC interface 'supervisor' initialized", 6);
    assert_eq!(status(p2, &["-u", "u:p"]), "200");
    assert!(
        !d.log()
            .contains(&format!("port=localhost:{p2}: can't bind")),
        "{}",
        d.log()
    );

    // A port that can't be bound: said in the main log, and port 2 keeps serving.
    let taken = std::net::TcpListener::bind(("127.0.0.1", p3)).expect("bind");
    d.write_config(&body(
        &unix1,
        &format!("[inet_http_server]\nport=127.0.0.1:{p3}"),
    ));
    d.signal(SIGHUP);
    d.wait_log(&format!(
        "[inet_http_server] port=127.0.0.1:{p3}: can't bind 127.0.0.1:{p3}: Address already in use (os error 98); the previous [inet_http_server] keeps serving"
    ));
    assert_eq!(status(p2, &["-u", "u:p"]), "200");
    drop(taken);

    // The socket moves and the port goes: the old file is gone, the new one answers.
    let moved = d.path("moved.sock").display().to_string();
    d.write_config(&body(&format!("file={moved}"), ""));
    d.signal(SIGHUP);
    wait_for("the moved socket", || {
        let o = tests::run_ctl(&["-s", &format!("unix://{moved}"), "status", "sleeper"]);
        o.stdout.contains("RUNNING").then_some(())
    });
    wait_for("the old socket removed", || {
        (!std::path::Path::new(&sock).exists()).then_some(())
    });
    wait_for("port 2 closed", || {
        (status(p2, &["-u", "u:p"]) == "000").then_some(())
    });
    d.signal(SIGTERM);
    assert_eq!(d.wait_exit(), 0);
    assert!(!std::path::Path::new(&moved).exists(), "removed at exit");
}
