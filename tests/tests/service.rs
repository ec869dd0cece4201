//! `supervisord service …` without touching the machine: inside a private mount namespace with a
//! tmpfs over systemd's unit directory, the unit is written with this binary, the config and
//! `Type=notify`, enabled, refused a second time without --force, and removed again; start and
//! stop without a running systemd say so. Needs root and `unshare` (util-linux) and systemctl.

use std::process::Command;

use tests::{Daemon, bin};

fn in_private_mounts(script: &str) -> (i32, String) {
    let out = Command::new("unshare")
        .args(["-m", "sh", "-c"])
        .arg(format!(
            "set -u; mount --make-rprivate / && mount -t tmpfs tmpfs /etc/systemd/system && {script}"
        ))
        .output()
        .expect("run unshare");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn install_writes_and_enables_the_unit_and_uninstall_removes_it() {
    assert!(
        std::path::Path::new("/usr/bin/systemctl").exists()
            || std::path::Path::new("/bin/systemctl").exists(),
        "systemctl (Debian's systemd package) is needed to test the systemd service"
    );
    let d = Daemon::start("[program:a]\ncommand=sleep 600\nstartsecs=0\n");
    let sd = bin("supervisord");
    let conf = d.config.display().to_string();
    let env = d.path("app.env");
    std::fs::write(&env, "A=1\n").expect("env file");
    let script = format!(
        r#"
        sd={sd}
        $sd service install -c {conf} --env-file {env}; echo "install=$?"
        echo "--- unit"; cat /etc/systemd/system/supervisord.service; echo "--- end"
        ls /etc/systemd/system/multi-user.target.wants/
        $sd service install -c {conf}; echo "again=$?"
        $sd service install -c {conf} --force; echo "force=$?"
        $sd service start; echo "start=$?"
        $sd service stop; echo "stop=$?"
        $sd service uninstall; echo "uninstall=$?"
        ls -A /etc/systemd/system/ | tr '\n' ' '; echo "[left]"
        $sd service uninstall; echo "twice=$?"
        "#,
        sd = sd.display(),
        env = env.display(),
    );
    let (code, out) = in_private_mounts(&script);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("install=0"), "{out}");
    assert!(
        out.contains(&format!(
            "\nExecStart={} -n -c {conf} --env-file {}\n",
            sd.display(),
            env.display()
        )),
        "{out}"
    );
    assert!(
        out.contains("\nType=notify\n") && out.contains("\nExecReload=/bin/kill -HUP $MAINPID\n"),
        "{out}"
    );
    assert!(out.contains("supervisord.service\n"), "enabled: {out}");
    assert!(out.contains("Error: already installed: /etc/systemd/system/supervisord.service (use --force to replace it)"), "{out}");
    assert!(out.contains("again=2") && out.contains("force=0"), "{out}");
    assert!(
        out.contains("Error: systemd is not running on this machine (no /run/systemd/system): `supervisord service start` needs it"),
        "{out}"
    );
    assert!(out.contains("start=2") && out.contains("stop=2"), "{out}");
    assert!(
        out.contains("uninstall=0")
            && out.contains("removed /etc/systemd/system/supervisord.service"),
        "{out}"
    );
    // Nothing left: not the unit, not its enablement link (an empty wants directory may stay).
    let left = out
        .split("[left]")
        .next()
        .and_then(|s| s.lines().last())
        .unwrap_or_default();
    assert!(!left.contains("supervisord"), "{out}");
    assert!(
        out.contains(
            "Error: not installed: /etc/systemd/system/supervisord.service does not exist"
        ),
        "{out}"
    );
    assert!(out.contains("twice=2"), "{out}");
    // The machine's own unit directory was never touched.
    assert!(!std::path::Path::new("/etc/systemd/system/supervisord.service").exists());
}

#[test]
fn install_refuses_a_config_with_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let conf = dir.path().join("bad.conf");
    std::fs::write(&conf, "[program:x]\ncommand=\nstartsecs=abc\n").expect("write");
    let (code, out) = in_private_mounts(&format!(
        "{} service install -c {}; echo rc=$?; ls -A /etc/systemd/system | wc -l",
        bin("supervisord").display(),
        conf.display()
    ));
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("not installing:") && out.contains("has errors") && out.contains("startsecs"),
        "{out}"
    );
    // Refused, and nothing written in the unit directory.
    assert!(out.contains("rc=2\n0\n"), "{out}");
}
