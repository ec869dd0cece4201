//! The command line: config errors refuse to start (nothing is spawned), `--check`, `init`,
//! `version`, config search.

use std::process::Command;

use tests::{Daemon, bin, pids_with_cmdline};

fn run(args: &[&str], cwd: &std::path::Path) -> (i32, String, String) {
    let out = Command::new(bin("supervisord"))
        .args(args)
        .current_dir(cwd)
        .output()
        .expect("run supervisord");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_bad_config_starts_nothing_and_names_file_line_section_key_and_value() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("bad.conf");
    std::fs::write(
        &conf,
        "[supervisord]\nlogfile=%(here)s/main.log\n\n[program:good]\ncommand=sleep 8231\n\n[program:bad]\ncommand=sleep 8232\nstartsecs=ten\n",
    )
    .expect("write");
    let (code, _, err) = run(&["-c", conf.to_str().expect("utf8")], dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!(
            "{}:9: [program:bad] startsecs=\"ten\": expected an integer",
            conf.display()
        )),
        "{err}"
    );
    assert!(
        pids_with_cmdline("sleep 8231").is_empty(),
        "nothing was started"
    );
    assert!(!dir.path().join("main.log").exists());
}

#[test]
fn check_prints_programs_in_start_order_and_validates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("s.conf");
    std::fs::write(
        &conf,
        "[program:b]\ncommand=/bin/b --x\n[program:a]\ncommand=/bin/a\npriority=5\ndepends_on=b\n[program:typo]\ncommand=x\nstartsec=1\n",
    )
    .expect("write");
    let (code, out, err) = run(&["--check", "-c", "s.conf"], dir.path());
    assert_eq!(code, 0, "{err}");
    let a = out.find("a:a").expect("a listed");
    let b = out.find("b:b").expect("b listed");
    assert!(a < b, "priority 5 first:\n{out}");
    assert!(out.contains("/bin/b --x"));
    assert!(out.contains("depends_on=b"));
    assert!(out.contains("configuration is valid"));
    assert!(
        err.contains(
            "s.conf:9: [program:typo] startsec: unknown option, ignored (did you mean startsecs?)"
        ),
        "{err}"
    );

    std::fs::write(
        &conf,
        "[program:a]\ncommand=x\ndepends_on=a2\n[program:a2]\ncommand=y\ndepends_on=a\n",
    )
    .expect("write");
    let (code, _, err) = run(&["--check", "-c", "s.conf"], dir.path());
    assert_eq!(code, 1);
    assert!(
        err.contains("depends_on forms a cycle: a:a -> a2:a2 -> a:a"),
        "{err}"
    );
    assert!(err.contains("configuration is NOT valid"));
}

#[test]
fn init_writes_a_sample_that_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, err) = run(&["init", "-o", "sample.conf"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(
        out.starts_with("wrote a sample configuration to sample.conf\n"),
        "{out}"
    );
    assert!(out.contains("http://127.0.0.1:9001"), "{out}");
    // An existing file is kept unless --force.
    std::fs::write(dir.path().join("sample.conf"), "mine").expect("write");
    let (code, _, err) = run(&["init", "-o", "sample.conf"], dir.path());
    assert_eq!(code, 2);
    assert!(
        err.contains("sample.conf exists; not replaced (use --force"),
        "{err}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("sample.conf")).expect("read"),
        "mine"
    );
    let (code, _, err) = run(&["init", "--force", "-o", "sample.conf"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["--check", "-c", "sample.conf"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("clock:clock"), "{out}");
    // And the daemon runs it: the clock ticks, the crasher goes FATAL, the workers run, the
    // GUI's port answers (a free one here, 9001 in the sample).
    let port = tests::free_port();
    let text = std::fs::read_to_string(dir.path().join("sample.conf"))
        .expect("read")
        .replace("%(here)s/supervisord.log", "%(here)s/main.log")
        .replace("127.0.0.1:9001", &format!("127.0.0.1:{port}"));
    let mut d = Daemon::start(&text);
    d.wait_log("success: clock entered RUNNING state");
    d.wait_log("gave up: crasher entered FATAL state");
    d.wait_log("success: worker_1 entered RUNNING state");
    let r = tests::curl(&[&format!("http://127.0.0.1:{port}/")]);
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("supervisord"),
        "{r}"
    );
    let out = d.ctl(&["status"]);
    assert!(
        out.stdout.contains("workers:worker_0") && out.stdout.contains("FATAL"),
        "{out:?}"
    );
    assert_eq!(d.stop(), 0);
}

#[test]
fn version_and_missing_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out, _) = run(&["version"], dir.path());
    assert_eq!(code, 0);
    assert_eq!(out.trim(), env!("CARGO_PKG_VERSION"));
    let (code, out2, _) = run(&["-v"], dir.path());
    assert_eq!((code, out2), (0, out));
    let (code, _, err) = run(&["-c", "nope.conf"], dir.path());
    assert_eq!(code, 2);
    assert!(err.contains("nope.conf: cannot read"), "{err}");
}

#[test]
fn config_is_found_in_the_working_directory() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("etc")).expect("mkdir");
    std::fs::write(
        dir.path().join("etc/supervisord.conf"),
        "[program:found]\ncommand=x\n",
    )
    .expect("write");
    let out = Command::new(bin("supervisord"))
        .arg("--check")
        .current_dir(dir.path())
        .output()
        .expect("run");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("found:found"), "{text}");
    assert!(
        text.contains("etc/supervisord.conf: configuration is valid"),
        "{text}"
    );
}

fn marked(dir: &std::path::Path, args: &[&str]) -> Command {
    let mut c = Command::new(bin("supervisord"));
    c.args(args)
        .current_dir(dir)
        .env(tests::TEST_MARKER, dir)
        .stdin(std::process::Stdio::null());
    c
}

#[test]
fn nodaemon_false_daemonizes_and_the_shell_learns_the_outcome() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _cleanup = tests::Leftovers(dir.path());
    let d = dir.path().display().to_string();
    std::fs::write(
        dir.path().join("s.conf"),
        format!(
            "[supervisord]\nnodaemon=false\nlogfile={d}/main.log\npidfile={d}/s.pid\n\
             [unix_http_server]\nfile={d}/s.sock\n[program:sl]\ncommand=sleep 600\nstartsecs=0\n"
        ),
    )
    .expect("write");
    let sock = format!("unix://{d}/s.sock");
    // The shell gets 0 once the daemon is up: its socket answers at once.
    let out = marked(dir.path(), &["-c", "s.conf"]).output().expect("run");
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let pid: i32 = std::fs::read_to_string(dir.path().join("s.pid"))
        .expect("pidfile")
        .trim()
        .parse()
        .expect("pid");
    assert!(tests::alive(pid));
    let sid = nix::unistd::getsid(Some(nix::unistd::Pid::from_raw(pid))).expect("getsid");
    assert_eq!(sid.as_raw(), pid, "a session of its own");
    assert_eq!(
        tests::run_ctl(&["-s", &sock, "pid"]).stdout.trim(),
        pid.to_string()
    );
    tests::wait_for("sl RUNNING", || {
        tests::run_ctl(&["-s", &sock, "status", "sl"])
            .stdout
            .contains("RUNNING")
            .then_some(())
    });
    // An error before it is up reaches the terminal, with a non-zero status.
    let out = marked(dir.path(), &["-c", "s.conf"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("another program is already listening on this socket"),
        "{out:?}"
    );
    let out = tests::run_ctl(&["-s", &sock, "shutdown"]);
    assert!(out.stdout.contains("Shut down"), "{out:?}");
    tests::wait_for("the daemon's exit", || (!tests::alive(pid)).then_some(()));

    // -n wins over nodaemon=false: the foreground.
    let mut child = marked(dir.path(), &["-c", "s.conf", "-n"])
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("spawn");
    let fg = child.id() as i32;
    tests::wait_for("the foreground daemon", || {
        (tests::run_ctl(&["-s", &sock, "pid"]).stdout.trim() == fg.to_string()).then_some(())
    });
    assert!(child.try_wait().expect("try_wait").is_none());
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(fg), nix::sys::signal::SIGTERM)
        .expect("kill");
    assert_eq!(child.wait().expect("wait").code(), Some(0));
}

#[test]
fn pythons_command_line_options_override_the_config_at_start_and_reload() {
    let mut d = Daemon::start_with(
        r#"
        [supervisord]
        logfile=%(here)s/ignored.log
        identifier=fromfile
        loglevel=info
        [program:colors]
        command=sh -c 'printf "\033[31mred\033[0m\n"; touch made; exec sleep 600'
        directory=%(here)s
        stdout_logfile=AUTO
        startsecs=0
        "#,
        &[
            "-i",
            "fromcli",
            "-e",
            "debug",
            "-l",
            "main.log",
            "-j",
            "cli.pid",
            "-q",
            ".",
            "-t",
            "-m",
            "077",
            "-y",
            "2KB",
            "-z",
            "1",
            "-a",
            "64",
            "--minprocs",
            "10",
        ],
    );
    d.wait_log("success: colors entered RUNNING state");
    let ident = |d: &Daemon| {
        let r = tests::curl(&[
            "--unix-socket",
            &d.path("supervisor.sock").to_string_lossy(),
            "-d",
            "<?xml version='1.0'?><methodCall><methodName>supervisor.getIdentification</methodName></methodCall>",
            "http://localhost/RPC2",
        ]);
        r.contains("<string>fromcli</string>")
    };
    assert!(ident(&d), "-i");
    assert!(!d.path("ignored.log").exists(), "-l");
    assert_eq!(
        std::fs::read_to_string(d.path("cli.pid"))
            .expect("-j")
            .trim(),
        d.pid().to_string()
    );
    let auto: Vec<_> = std::fs::read_dir(d.path(""))
        .expect("dir")
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with("colors-stdout---")
        })
        .collect();
    assert_eq!(auto.len(), 1, "{auto:?}");
    let log = tests::wait_for("the AUTO log", || {
        let t = std::fs::read_to_string(auto[0].path()).ok()?;
        (!t.is_empty()).then_some(t)
    });
    assert_eq!(log, "red\n", "-t strips ANSI");
    let made = tests::wait_for("the file the program made", || {
        std::fs::metadata(d.path("made")).ok()
    });
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(made.permissions().mode() & 0o777, 0o600, "-m 077");
    // The command line wins again after a reload.
    d.signal(nix::sys::signal::SIGHUP);
    d.wait_log_count("success: colors entered RUNNING state", 2);
    assert!(ident(&d), "-i after reload");
    // -y 2KB -z 1: the main log rotates, one backup.
    for _ in 0..20 {
        d.ctl(&["restart", "colors"]);
        if d.path("main.log.1").exists() {
            break;
        }
    }
    assert!(d.path("main.log.1").exists() && !d.path("main.log.2").exists());
    assert!(std::fs::metadata(d.path("main.log.1")).expect("meta").len() <= 2048);
    assert_eq!(d.stop(), 0);
    assert!(
        d.log().contains(" DEBG killing colors"),
        "-e debug: {}",
        d.log()
    );
}
