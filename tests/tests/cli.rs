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
    let (code, _, err) = run(&["init", "-o", "sample.conf"], dir.path());
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = run(&["--check", "-c", "sample.conf"], dir.path());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("clock:clock"), "{out}");
    // And the daemon runs it.
    let text = std::fs::read_to_string(dir.path().join("sample.conf")).expect("read");
    let mut d = Daemon::start(&text.replace("%(here)s/supervisord.log", "%(here)s/main.log"));
    d.wait_log("success: clock entered RUNNING state");
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
