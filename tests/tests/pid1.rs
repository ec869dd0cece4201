//! The daemon as PID 1 of a new PID namespace (a container's init): orphaned grandchildren are
//! re-parented to it and must all be reaped, and its children stop cleanly.

use tests::{Daemon, children, proc_state, wait_for};

#[test]
fn as_pid1_it_reaps_orphans_and_leaves_no_zombie() {
    let probe = std::process::Command::new("unshare")
        .args(["-fp", "--mount-proc", "true"])
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "`unshare -fp --mount-proc` must work here (root, util-linux)"
    );
    let mut d = Daemon::start_wrapped(
        &["unshare", "-fp", "--mount-proc"],
        r#"
        [program:orphaner]
        command=sh -c 'for i in 1 2 3 4 5; do (sleep 0.3; exit 3) & done; exit 0'
        startsecs=0
        autorestart=false
        [program:steady]
        command=sleep 600
        startsecs=0
        "#,
    );
    let pid1 = d.pid();
    // Inside the namespace the daemon is pid 1, and so its children see ppid 1.
    let log = d.wait_log("supervisord started with pid 1");
    assert!(log.contains("supervisord started with pid 1\n"), "{log}");
    d.wait_log("exited: orphaner (exit status 0; expected)");
    // The five subshells outlive `sh` and are re-parented to the daemon, which reaps them.
    d.wait_log_count("reaped unknown pid", 5);
    wait_for("no zombie children of the daemon", || {
        let zombies: Vec<i32> = children(pid1)
            .into_iter()
            .filter(|&c| proc_state(c) == Some('Z'))
            .collect();
        zombies.is_empty().then_some(())
    });
    let steady = children(pid1);
    assert_eq!(steady.len(), 1, "only `steady` is left: {steady:?}");
    assert_eq!(d.stop(), 0);
    assert!(d.log().contains("stopped: steady (terminated by SIGTERM)"));
}
