//! systemd's notify protocol, seen from a socket of the test's own as `$NOTIFY_SOCKET`:
//! READY=1 only once the autostart programs are RUNNING, STATUS= with counts, RELOADING=1 and
//! READY=1 around a reload, STOPPING=1 at shutdown; and the socket is not passed on to programs.

use std::os::unix::net::UnixDatagram;
use std::time::{Duration, Instant};

use tests::Daemon;

/// The next message, within the tests' deadline.
fn next(sock: &UnixDatagram) -> String {
    sock.set_read_timeout(Some(Duration::from_secs(60)))
        .expect("timeout");
    let mut buf = [0u8; 4096];
    let n = sock.recv(&mut buf).expect("a message from supervisord");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

/// Messages until one contains `needle`; returns them all.
fn until(sock: &UnixDatagram, needle: &str) -> Vec<String> {
    let start = Instant::now();
    let mut seen = Vec::new();
    while start.elapsed() < Duration::from_secs(120) {
        let m = next(sock);
        let done = m.contains(needle);
        seen.push(m);
        if done {
            return seen;
        }
    }
    panic!("no {needle:?} in {seen:?}");
}

#[test]
fn ready_after_the_autostart_programs_then_reloading_and_stopping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("notify.sock");
    let sock = UnixDatagram::bind(&path).expect("bind");
    let mut d = Daemon::start_with_env(
        r#"
        [program:quick]
        command=sleep 600
        startsecs=1
        [program:slow]
        command=sh -c 'echo "notify=${NOTIFY_SOCKET:-unset}"; exec sleep 600'
        startsecs=3
        stdout_logfile=%(here)s/slow.log
        [program:manual]
        command=sleep 600
        autostart=false
        "#,
        &[("NOTIFY_SOCKET", path.to_str().expect("utf-8 path"))],
    );
    let before = until(&sock, "READY=1");
    // READY came after slow (startsecs=3) was RUNNING, and says so.
    assert!(
        d.log().contains("success: slow entered RUNNING state"),
        "{before:?}"
    );
    let ready = before.last().expect("ready");
    assert!(
        ready.contains("STATUS=2 running, 0 starting, 0 backoff, 1 stopped, 0 fatal"),
        "{ready}"
    );
    assert!(
        !before[..before.len() - 1]
            .iter()
            .any(|m| m.contains("READY=1"))
    );
    let slow = std::fs::read_to_string(d.path("slow.log")).expect("slow.log");
    assert!(slow.contains("notify=unset"), "{slow}");
    // Counts follow the table.
    d.ctl(&["start", "manual"]);
    until(&sock, "STATUS=3 running");
    // A reload: RELOADING=1, then READY=1 once everything runs again.
    d.signal(nix::sys::signal::Signal::SIGHUP);
    let reload = until(&sock, "RELOADING=1");
    assert!(
        reload
            .last()
            .expect("reloading")
            .contains("MONOTONIC_USEC="),
        "{reload:?}"
    );
    let again = until(&sock, "READY=1");
    assert!(
        again.last().expect("ready").contains("STATUS=2 running"),
        "{again:?}"
    );
    d.signal(nix::sys::signal::Signal::SIGTERM);
    until(&sock, "STOPPING=1");
    assert_eq!(d.wait_exit(), 0);
}
