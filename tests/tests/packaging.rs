//! The release artifacts `packaging/build` leaves in dist/ (run by `.ci/test` before the tests):
//! the .deb passes lintian and holds Debian's supervisor layout, the .rpm the same files and
//! metadata, and what the .deb installs works in a root of its own (the packaged config, the
//! daemon on it with a conf.d program, the packaged supervisorctl over the packaged socket, the
//! man pages, the completions). The static binary also runs as PID 1 of an empty root, as in a
//! `FROM scratch` image.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use tests::{Leftovers, TEST_MARKER, children, proc_state, repo_root, wait_for};

/// The one file in dist/ whose name ends with `suffix`.
fn artifact(suffix: &str) -> PathBuf {
    let dist = repo_root().join("dist");
    let found: Vec<PathBuf> = std::fs::read_dir(&dist)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.to_string_lossy().ends_with(suffix))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(
        found.len(),
        1,
        "one *{suffix} in {}: run packaging/build first (.ci/test does); found {found:?}",
        dist.display()
    );
    found.into_iter().next().unwrap()
}

/// Runs a command to completion: (status, stdout, stderr).
fn run(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn ok(cmd: &mut Command) -> String {
    let shown = format!("{cmd:?}");
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{shown}\n{out}\n{err}");
    out
}

/// Installed files every package and the tarball must hold (as the .deb names them).
const FILES: &[&str] = &[
    "usr/bin/supervisord",
    "usr/bin/supervisorctl",
    "etc/supervisor/supervisord.conf",
    "usr/lib/systemd/system/supervisord.service",
    "usr/share/man/man8/supervisord.8.gz",
    "usr/share/man/man5/supervisord.conf.5.gz",
    "usr/share/man/man1/supervisorctl.1.gz",
    "usr/share/bash-completion/completions/supervisorctl",
    "usr/share/fish/vendor_completions.d/supervisorctl.fish",
];

/// dist/ was made from this tree: its man pages are what the freshly built binaries print.
#[test]
fn the_artifacts_are_of_this_tree() {
    let dir = tempfile::tempdir().unwrap();
    ok(Command::new("dpkg-deb")
        .arg("-x")
        .arg(artifact(".deb"))
        .arg(dir.path()));
    for (page, args) in [
        (
            "man5/supervisord.conf.5.gz",
            vec!["manpage", "supervisord.conf"],
        ),
        ("man8/supervisord.8.gz", vec!["manpage", "supervisord"]),
        ("man1/supervisorctl.1.gz", vec!["manpage", "supervisorctl"]),
    ] {
        let packaged = ok(Command::new("gunzip")
            .arg("-c")
            .arg(dir.path().join("usr/share/man").join(page)));
        let built = ok(Command::new(tests::bin("supervisord")).args(&args));
        assert!(
            packaged == built,
            "{page} in dist/ is not what target/ builds: run packaging/build again"
        );
    }
}

#[test]
fn the_deb_passes_lintian_and_swaps_with_debians_supervisor() {
    let deb = artifact(".deb");
    // Warnings too: the few that don't apply are overridden in the package, with the reason.
    ok(Command::new("lintian")
        .args(["--fail-on", "error,warning", "--pedantic"])
        .arg(&deb));
    let field = |name: &str| ok(Command::new("dpkg-deb").arg("-f").arg(&deb).arg(name));
    assert_eq!(field("Package").trim(), "supervisord-rs");
    assert_eq!(field("Depends").trim(), "init-system-helpers (>= 1.54~)");
    for relation in ["Conflicts", "Replaces", "Provides"] {
        assert_eq!(field(relation).trim(), "supervisor", "{relation}");
    }
    let listing = ok(Command::new("dpkg-deb").arg("-c").arg(&deb));
    for f in FILES
        .iter()
        .chain(&["usr/share/zsh/vendor-completions/_supervisorctl"])
    {
        assert!(
            listing.contains(&format!("./{f}\n")),
            "{f} not in:\n{listing}"
        );
    }
    for copyright in ["copyright", "changelog.Debian.gz"] {
        let f = format!("./usr/share/doc/supervisord-rs/{copyright}\n");
        assert!(listing.contains(&f), "{f}");
    }
    let control = tempfile::tempdir().unwrap();
    ok(Command::new("dpkg-deb")
        .arg("-e")
        .arg(&deb)
        .arg(control.path()));
    let conffiles = std::fs::read_to_string(control.path().join("conffiles")).unwrap();
    assert_eq!(conffiles.trim(), "/etc/supervisor/supervisord.conf");
    // Started only where systemd runs (debhelper's guard, which also keeps a chroot or an image
    // build from starting it), and never restarted by an upgrade.
    let postinst = std::fs::read_to_string(control.path().join("postinst")).unwrap();
    let start = postinst.find("deb-systemd-invoke start").expect("a start");
    let guard = postinst[..start]
        .rfind("if [ -d /run/systemd/system ]")
        .expect("the start is guarded");
    assert!(!postinst[guard..start].contains("fi\n"), "{postinst}");
    assert!(!postinst.contains("restart"), "{postinst}");
}

#[test]
fn the_rpm_holds_the_same_files_and_swaps_with_supervisor() {
    let rpm = artifact(".rpm");
    let q = |args: &[&str]| ok(Command::new("rpm").arg("-qp").args(args).arg(&rpm));
    let info = q(&["-i"]);
    for line in [
        "Name        : supervisord-rs",
        concat!("Version     : ", env!("CARGO_PKG_VERSION")),
        "License     : MIT",
        "Architecture: x86_64",
    ] {
        assert!(info.contains(line), "{line} not in:\n{info}");
    }
    let files = q(&["-l"]);
    for f in FILES
        .iter()
        .chain(&["usr/share/zsh/site-functions/_supervisorctl"])
    {
        assert!(files.contains(&format!("/{f}\n")), "{f} not in:\n{files}");
    }
    assert_eq!(q(&["-c"]).trim(), "/etc/supervisor/supervisord.conf");
    for relation in ["--conflicts", "--provides"] {
        assert!(
            q(&[relation]).lines().any(|l| l == "supervisor"),
            "{relation}"
        );
    }
    // Not obsoleted: Fedora's supervisor keeps its programs where our config doesn't look.
    assert!(!q(&["--obsoletes"]).contains("supervisor"));
    // Static binaries: no library to require.
    let requires = q(&["--requires"]);
    assert!(!requires.contains(".so"), "{requires}");
}

#[test]
fn the_tarball_and_checksums() {
    let sums = artifact("SHA256SUMS");
    let dist = sums.parent().unwrap();
    let listed = ok(Command::new("sha256sum")
        .arg("-c")
        .arg(&sums)
        .current_dir(dist));
    for suffix in [".deb: OK", ".rpm: OK", ".tar.gz: OK"] {
        assert!(listed.contains(suffix), "{listed}");
    }
    let tarball = artifact("-linux.tar.gz");
    let dir = tempfile::tempdir().unwrap();
    ok(Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(dir.path()));
    let top = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .next()
        .expect("one directory")
        .path();
    for f in [
        "supervisord",
        "supervisorctl",
        "supervisord.conf.sample",
        "supervisord.service",
        "man/supervisord.8.gz",
        "man/supervisord.conf.5.gz",
        "man/supervisorctl.1.gz",
        "completions/supervisorctl.bash",
        "completions/_supervisorctl",
        "completions/supervisorctl.fish",
        "LICENSE",
        "README.md",
    ] {
        assert!(top.join(f).is_file(), "{f}");
    }
    for b in ["supervisord", "supervisorctl"] {
        let elf = ok(Command::new("readelf").arg("-d").arg(top.join(b)));
        assert!(!elf.contains("NEEDED"), "{b} is not static:\n{elf}");
        let syms = ok(Command::new("readelf").arg("-S").arg(top.join(b)));
        assert!(!syms.contains(".symtab"), "{b} is not stripped");
    }
    let v = ok(Command::new(top.join("supervisord")).arg("--version"));
    assert_eq!(v.trim(), env!("CARGO_PKG_VERSION"));
    // The sample config in the tarball is valid as it is.
    ok(Command::new(top.join("supervisord"))
        .arg("--check")
        .arg("-c")
        .arg(top.join("supervisord.conf.sample")));
}

/// The .deb's files extracted into `root`, with busybox as its shell and tools, and the
/// package's postinst run there as dpkg runs it ("configure"): no systemd, so nothing starts.
fn installed_root(root: &Path) {
    let deb = artifact(".deb");
    ok(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(root));
    busybox_in(root);
    let control = root.join("tmp/control");
    std::fs::create_dir_all(root.join("tmp")).unwrap();
    ok(Command::new("dpkg-deb").arg("-e").arg(&deb).arg(&control));
    std::fs::create_dir_all(root.join("run")).unwrap();
    let (code, out, err) = run(Command::new("chroot").arg(root).args([
        "/bin/sh",
        "/tmp/control/postinst",
        "configure",
    ]));
    assert_eq!(code, 0, "postinst:\n{out}\n{err}");
    for d in ["var/log/supervisor", "etc/supervisor/conf.d"] {
        assert!(root.join(d).is_dir(), "postinst made {d}");
    }
}

/// Debian's busybox-static in `root/bin`, with its applets (sh, sleep, …) as links there.
fn busybox_in(root: &Path) {
    let busybox = Path::new("/bin/busybox");
    let static_busybox = Command::new("readelf")
        .arg("-d")
        .arg(busybox)
        .output()
        .is_ok_and(|o| {
            o.status.success() && !String::from_utf8_lossy(&o.stdout).contains("NEEDED")
        });
    assert!(
        static_busybox,
        "/bin/busybox is missing or not static: install Debian's busybox-static \
         (.ci/setup-packaging does)"
    );
    let bin = root.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::copy(busybox, bin.join("busybox")).unwrap();
    ok(Command::new("chroot")
        .arg(root)
        .args(["/bin/busybox", "--install", "-s", "/bin"]));
}

/// A daemon in its own mount and pid namespaces, chrooted into `root`, with /dev and /proc
/// mounted as a container runtime mounts them; killed with the namespace when the test ends.
struct Contained {
    child: std::process::Child,
    /// Everything the daemon printed so far (read as it comes: a pipe left unread could fill
    /// and stall it).
    output: std::sync::Arc<std::sync::Mutex<String>>,
    marker: tempfile::TempDir,
}

impl Contained {
    fn start(root: &Path, argv: &[&str]) -> Contained {
        let marker = tempfile::tempdir().unwrap();
        for d in ["dev", "proc"] {
            std::fs::create_dir_all(root.join(d)).unwrap();
        }
        let mut child = Command::new("unshare")
            .args(["--mount", "--pid", "--fork", "--kill-child", "sh", "-c"])
            .arg(
                "mount --rbind /dev \"$0/dev\" && mount -t proc proc \"$0/proc\" && \
                 exec chroot \"$0\" \"$@\" 2>&1",
            )
            .arg(root)
            .args(argv)
            .env(TEST_MARKER, marker.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("unshare");
        let output = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        if let Some(mut out) = child.stdout.take() {
            let sink = output.clone();
            std::thread::spawn(move || {
                use std::io::Read;
                let mut buf = [0u8; 4096];
                while let Ok(n @ 1..) = out.read(&mut buf) {
                    sink.lock()
                        .unwrap()
                        .push_str(&String::from_utf8_lossy(&buf[..n]));
                }
            });
        }
        Contained {
            child,
            output,
            marker,
        }
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().clone()
    }

    /// The namespace's PID 1, as this side sees it.
    fn pid1(&self) -> i32 {
        let unshare = i32::try_from(self.child.id()).unwrap();
        wait_for("the namespace's first process", || {
            children(unshare).first().copied()
        })
    }

    /// Waits (with the tests' deadline) for the daemon to end: its status and what it printed.
    fn wait(mut self) -> (i32, String) {
        let status = wait_for("the daemon to exit", || {
            self.child.try_wait().ok().flatten()
        });
        // The reader thread ends at EOF, once nothing in the namespace holds the pipe.
        let out = wait_for("the daemon's output to end", || {
            (std::sync::Arc::strong_count(&self.output) == 1).then(|| self.output())
        });
        (status.code().unwrap_or(-1), out)
    }
}

impl Drop for Contained {
    fn drop(&mut self) {
        drop(Leftovers(self.marker.path()));
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn the_deb_installed_in_a_root_runs_a_conf_d_program() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    installed_root(root);
    std::fs::write(
        root.join("etc/supervisor/conf.d/hello.conf"),
        "[program:hello]\ncommand=/bin/sh -c 'echo hello from conf.d; exec sleep 600'\n\
         startsecs=0\n",
    )
    .unwrap();
    let conf = "/etc/supervisor/supervisord.conf";
    let check =
        ok(Command::new("chroot")
            .arg(root)
            .args(["/usr/bin/supervisord", "--check", "-c", conf]));
    assert!(check.contains("hello"), "{check}");
    let daemon = Contained::start(root, &["/usr/bin/supervisord", "-n", "-c", conf]);
    // The packaged supervisorctl finds the packaged config and, through it, the socket.
    let ctl = |args: &[&str]| {
        run(Command::new("chroot")
            .arg(root)
            .arg("/usr/bin/supervisorctl")
            .args(args))
    };
    let status = wait_for("hello RUNNING over /run/supervisor.sock", || {
        let (code, out, _) = ctl(&["status"]);
        (code == 0 && out.contains("RUNNING")).then_some(out)
    });
    assert!(status.starts_with("hello "), "{status}");
    assert!(root.join("run/supervisor.sock").exists());
    let (_, tail, _) = ctl(&["tail", "hello"]);
    assert!(tail.contains("hello from conf.d"), "{tail}");
    let log = std::fs::read_to_string(root.join("var/log/supervisor/supervisord.log")).unwrap();
    assert!(
        log.contains("success: hello entered RUNNING state"),
        "{log}"
    );
    let (code, out, err) = ctl(&["shutdown"]);
    assert_eq!(code, 0, "{out}{err}");
    let (code, _) = daemon.wait();
    assert_eq!(code, 0);
    // Purge takes the daemon's logs, not what another package (Debian's supervisor, installed
    // again) keeps in the same directory.
    let logs = root.join("var/log/supervisor");
    let auto: Vec<_> = std::fs::read_dir(&logs)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("---supervisor-"))
        .collect();
    assert!(
        !auto.is_empty(),
        "hello's AUTO logs are in /var/log/supervisor"
    );
    std::fs::write(logs.join("theirs.log"), "not ours").unwrap();
    let (code, out, err) =
        run(Command::new("chroot")
            .arg(root)
            .args(["/bin/sh", "/tmp/control/postrm", "purge"]));
    assert_eq!(code, 0, "postrm purge:\n{out}\n{err}");
    let left: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["theirs.log"]);
}

#[test]
fn the_packaged_man_pages_render_and_the_completions_load() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    ok(Command::new("dpkg-deb")
        .arg("-x")
        .arg(artifact(".deb"))
        .arg(root));
    let pages = [
        (
            "usr/share/man/man8/supervisord.8.gz",
            "SUPERVISORD(8)",
            "SIGNALS",
        ),
        (
            "usr/share/man/man5/supervisord.conf.5.gz",
            "SUPERVISORD.CONF(5)",
            "liveness_check_failure_action",
        ),
        (
            "usr/share/man/man1/supervisorctl.1.gz",
            "SUPERVISORCTL(1)",
            "EXIT STATUS",
        ),
    ];
    for (page, title, inside) in pages {
        let (code, out, err) = run(Command::new("man")
            .args(["--warnings", "-l"])
            .arg(root.join(page))
            .env("MANWIDTH", "100")
            .env("LC_ALL", "C.UTF-8"));
        assert_eq!(code, 0, "{page}: {err}");
        assert!(err.trim().is_empty(), "{page}: groff warns:\n{err}");
        assert!(
            out.starts_with(title),
            "{page}:\n{}",
            &out[..out.len().min(300)]
        );
        assert!(out.contains(inside), "{page}: no {inside}");
    }
    let bash = root.join("usr/share/bash-completion/completions/supervisorctl");
    let loaded = ok(Command::new("bash")
        .arg("-c")
        .arg("source \"$1\" && complete -p supervisorctl")
        .arg("bash")
        .arg(&bash));
    assert!(loaded.starts_with("complete -F"), "{loaded}");
    let zsh = root.join("usr/share/zsh/vendor-completions/_supervisorctl");
    ok(Command::new("zsh").arg("-n").arg(&zsh));
    let fish = root.join("usr/share/fish/vendor_completions.d/supervisorctl.fish");
    let loaded = ok(Command::new("fish")
        .arg("-c")
        .arg("source $argv[1]; complete -c supervisorctl | count")
        .arg(&fish));
    assert!(loaded.trim().parse::<u32>().unwrap_or(0) > 0, "{loaded}");
}

/// As in the `FROM scratch` image of packaging/Dockerfile: the root packaging/container/rootfs
/// lays out (the two static binaries, the container config, empty /run, /tmp and log
/// directories), plus busybox and a conf.d file for programs. The daemon, started as the image's
/// ENTRYPOINT starts it (it finds /etc/supervisord.conf; `-e debug` as `docker run IMAGE -e
/// debug` would add, for the reaper's debug lines), is PID 1: it starts its
/// programs, reaps the orphan one leaves, answers supervisorctl over its socket, and stops
/// everything on SIGTERM (what `docker stop` sends), exiting 0.
#[test]
fn the_image_root_runs_supervisord_as_pid1() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let pkg = tempfile::tempdir().unwrap();
    ok(Command::new("dpkg-deb")
        .arg("-x")
        .arg(artifact(".deb"))
        .arg(pkg.path()));
    ok(Command::new(repo_root().join("packaging/container/rootfs"))
        .arg(pkg.path().join("usr/bin"))
        .arg(root));
    let mut entries: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    entries.sort();
    assert_eq!(entries, ["etc", "run", "tmp", "usr", "var"], "nothing else");
    busybox_in(root);
    std::fs::write(
        root.join("etc/supervisor/conf.d/programs.conf"),
        "[program:app]\ncommand=/bin/sleep 600\nstartsecs=0\n\
         [program:orphaner]\ncommand=/bin/sh -c '(sleep 0.3; exit 3) & exit 0'\n\
         startsecs=0\nautorestart=false\n",
    )
    .unwrap();
    let daemon = Contained::start(root, &["/usr/local/bin/supervisord", "-e", "debug"]);
    let pid1 = daemon.pid1();
    let status = wait_for("app RUNNING, orphaner EXITED", || {
        let (code, out, _) = run(Command::new("chroot")
            .arg(root)
            .args(["/usr/local/bin/supervisorctl", "status"]));
        (code == 3 && out.contains("RUNNING") && out.contains("EXITED")).then_some(out)
    });
    assert!(status.starts_with("app "), "{status}");
    // The subshell outlives `sh`, is re-parented to PID 1, and must be reaped when it exits:
    // then only `app` is left.
    wait_for("orphan reaped, no zombie under PID 1", || {
        let kids = children(pid1);
        (kids.len() == 1 && kids.iter().all(|&k| proc_state(k) != Some('Z'))).then_some(())
    });
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid1),
        nix::sys::signal::Signal::SIGTERM,
    )
    .unwrap();
    let (code, out) = daemon.wait();
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("supervisord started with pid 1\n"), "{out}");
    assert!(out.contains("reaped unknown pid"), "{out}");
    assert!(
        out.contains("stopped: app (terminated by SIGTERM)"),
        "{out}"
    );
}
