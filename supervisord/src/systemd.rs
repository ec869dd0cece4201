//! systemd's notify protocol (`Type=notify`), spoken on `$NOTIFY_SOCKET` when systemd set it:
//! `READY=1` once the servers listen and every autostart program has settled (RUNNING, or
//! given up on) — or after [`READY_PATIENCE`] at the latest — `STATUS=` with the counts as they
//! change, `RELOADING=1` while a reload stops and starts everything (then `READY=1` again),
//! `STOPPING=1` at shutdown. Neither original does this; without `$NOTIFY_SOCKET` nothing is
//! sent and nothing runs.

use std::collections::HashSet;
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::time::Duration;

use shared::{ProcessState, SupervisorState};
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tracing::{debug, warn};

use crate::events::Event;
use crate::supervisor::{Handle, ProcessInfo};

/// The environment variable systemd passes the socket in (not passed on to programs).
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// How long a burst of state changes is gathered before the counts are sent again.
const SETTLE: Duration = Duration::from_millis(100);

/// READY=1 goes out by this time even if an autostart program is still on its way (a long
/// startsecs, many retries, a dependency waiting on its check): systemd's default start timeout
/// is 90 s, and a daemon timed out is killed and restarted with every program it runs. STATUS=
/// still shows what is starting.
pub const READY_PATIENCE: Duration = Duration::from_secs(60);

/// Whether READY=1 is due: the daemon runs, has not said it, and its programs have settled or
/// it has waited long enough.
fn ready_due(running: bool, ready: bool, settled: bool, waited: Duration) -> bool {
    running && !ready && (settled || waited >= READY_PATIENCE)
}

pub struct Notifier {
    socket: UnixDatagram,
    addr: SocketAddr,
}

impl Notifier {
    /// The notifier `$NOTIFY_SOCKET` asks for (`/path` or `@abstract`), if any.
    pub fn from_env() -> Option<Notifier> {
        let target = std::env::var_os(NOTIFY_SOCKET)?;
        let target = target.to_string_lossy().into_owned();
        let addr = match target.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
            None => SocketAddr::from_pathname(&target),
        };
        // Never blocking: a systemd that stopped reading must not hold up a worker thread (a
        // message it can't take now is dropped with a warning).
        let made = addr.and_then(|addr| {
            let socket = UnixDatagram::unbound()?;
            socket.set_nonblocking(true)?;
            Ok((socket, addr))
        });
        match made {
            Ok((socket, addr)) => Some(Notifier { socket, addr }),
            Err(e) => {
                warn!("{NOTIFY_SOCKET}={target}: can't notify systemd: {e}");
                None
            }
        }
    }

    fn send(&self, message: &str) {
        debug!("telling systemd: {}", message.replace('\n', " "));
        if let Err(e) = self.socket.send_to_addr(message.as_bytes(), &self.addr) {
            warn!("can't notify systemd: {e}");
        }
    }
}

/// The counts `STATUS=` shows, and whether every autostart program has settled.
#[derive(Debug, Default, PartialEq, Eq)]
struct Summary {
    running: usize,
    starting: usize,
    backoff: usize,
    stopped: usize,
    fatal: usize,
    settled: bool,
}

impl Summary {
    fn of(processes: &[ProcessInfo], autostart: impl Fn(&ProcessInfo) -> bool) -> Summary {
        let mut s = Summary {
            settled: true,
            ..Summary::default()
        };
        for p in processes {
            match p.state {
                ProcessState::Running => s.running += 1,
                ProcessState::Starting => s.starting += 1,
                ProcessState::Backoff => s.backoff += 1,
                ProcessState::Fatal => s.fatal += 1,
                _ => s.stopped += 1,
            }
            // Settled: RUNNING, given up on, or ended after it ran; a STOPPED autostart
            // program that never started is still to come (waiting for a dependency), unless
            // it was told why not.
            let settled = match p.state {
                ProcessState::Running | ProcessState::Fatal | ProcessState::Exited => true,
                ProcessState::Stopped => p.starts > 0 || !p.spawnerr.is_empty(),
                _ => false,
            };
            s.settled &= settled || !autostart(p);
        }
        s
    }

    fn status(&self) -> String {
        format!(
            "STATUS={} running, {} starting, {} backoff, {} stopped, {} fatal",
            self.running, self.starting, self.backoff, self.stopped, self.fatal
        )
    }
}

/// What an event means to systemd: RELOADING=1 (not ready until settled again), or STOPPING=1
/// (the end). Returns false once nothing more is to be said.
fn on_event(notifier: &Notifier, event: &Event, ready: &mut bool) -> bool {
    match event {
        Event::SupervisorStateChanged {
            to: SupervisorState::Restarting,
        } => {
            *ready = false;
            notifier.send(&format!("RELOADING=1\nMONOTONIC_USEC={}", monotonic_usec()));
            true
        }
        Event::SupervisorStateChanged {
            to: SupervisorState::Shutdown,
        } => {
            notifier.send("STOPPING=1");
            false
        }
        _ => true,
    }
}

/// Tells systemd about the daemon until it stops. Called once the servers listen.
pub async fn run(notifier: Notifier, handle: Handle) {
    let mut events = handle.subscribe();
    let active = handle.active();
    let mut ready = false;
    // Since when READY=1 is owed: the start, then each reload.
    let mut owed_since = tokio::time::Instant::now();
    let mut last_status = String::new();
    loop {
        let Ok(processes) = handle.processes().await else {
            return;
        };
        let autostart: HashSet<String> = active
            .borrow()
            .processes
            .iter()
            .filter(|c| c.autostart)
            .map(|c| c.full_name())
            .collect();
        let summary = Summary::of(&processes, |p| {
            autostart.contains(&format!("{}:{}", p.group, p.name))
        });
        let status = summary.status();
        let running = handle.state() == SupervisorState::Running;
        if ready_due(running, ready, summary.settled, owed_since.elapsed()) {
            ready = true;
            if !summary.settled {
                warn!(
                    "telling systemd the daemon is ready after {}s, though not every autostart \
                     program has settled",
                    READY_PATIENCE.as_secs()
                );
            }
            notifier.send(&format!("READY=1\n{status}"));
            last_status = status;
        } else if status != last_status {
            notifier.send(&status);
            last_status = status;
        }
        // Wait for a change (or for the patience to run out), then gather what follows it.
        let deadline = owed_since + READY_PATIENCE;
        let next = if ready || tokio::time::Instant::now() >= deadline {
            events.recv().await
        } else {
            match tokio::time::timeout_at(deadline, events.recv()).await {
                Ok(next) => next,
                Err(_) => continue,
            }
        };
        let was_ready = ready;
        match next {
            Ok(e) if !on_event(&notifier, &e, &mut ready) => return,
            Ok(_) | Err(RecvError::Lagged(_)) => {}
            Err(RecvError::Closed) => return,
        }
        tokio::time::sleep(SETTLE).await;
        loop {
            match events.try_recv() {
                Ok(e) if !on_event(&notifier, &e, &mut ready) => return,
                Ok(_) | Err(TryRecvError::Lagged(_)) => {}
                Err(_) => break,
            }
        }
        if was_ready && !ready {
            owed_since = tokio::time::Instant::now();
        }
    }
}

/// CLOCK_MONOTONIC in microseconds (what systemd wants with RELOADING=1).
fn monotonic_usec() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000 + t.tv_nsec() as u64 / 1000)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(name: &str, state: ProcessState, starts: u64, spawnerr: &str) -> ProcessInfo {
        ProcessInfo {
            name: name.into(),
            group: name.into(),
            state,
            pid: 0,
            start: 0,
            stop: 0,
            spawnerr: spawnerr.into(),
            exitstatus: 0,
            stdout_logfile: String::new(),
            stderr_logfile: String::new(),
            starts,
            health: Default::default(),
        }
    }

    /// An autostart program: its state, spawns, spawn error.
    type Row = (ProcessState, u64, &'static str);

    #[test]
    fn ready_is_due_when_settled_or_after_the_patience() {
        let long = READY_PATIENCE;
        let short = Duration::from_secs(1);
        // (running, already ready, settled, waited, due)
        let cases = [
            (true, false, true, short, true),
            (true, false, false, short, false),
            (true, false, false, long, true),
            (true, true, true, long, false),
            // Stopping or reloading: never.
            (false, false, true, long, false),
        ];
        for (running, ready, settled, waited, due) in cases {
            assert_eq!(
                ready_due(running, ready, settled, waited),
                due,
                "{running} {ready} {settled} {waited:?}"
            );
        }
    }

    #[test]
    fn settled_when_every_autostart_program_is_running_or_given_up_on() {
        use ProcessState::*;
        // (autostart programs, settled)
        let cases: &[(&[Row], bool)] = &[
            (&[(Running, 1, ""), (Fatal, 4, "Exited too quickly")], true),
            (&[(Running, 1, ""), (Starting, 1, "")], false),
            (&[(Backoff, 2, "")], false),
            // Waiting for a dependency, never started yet.
            (&[(Running, 1, ""), (Stopped, 0, "")], false),
            // A dependency went FATAL: it will not start.
            (
                &[
                    (Fatal, 1, ""),
                    (
                        Stopped,
                        0,
                        "dependency 'db:db' entered FATAL state; not started",
                    ),
                ],
                true,
            ),
            (&[(Exited, 1, "")], true),
            (&[], true),
        ];
        for (procs, want) in cases {
            let infos: Vec<ProcessInfo> = procs
                .iter()
                .enumerate()
                .map(|(k, (st, n, e))| info(&format!("p{k}"), *st, *n, e))
                .collect();
            assert_eq!(Summary::of(&infos, |_| true).settled, *want, "{procs:?}");
        }
        // What is not autostart does not count.
        let manual = [info("m", Stopped, 0, "")];
        assert!(Summary::of(&manual, |_| false).settled);
        assert_eq!(
            Summary::of(
                &[info("a", Running, 1, ""), info("b", Stopped, 0, "")],
                |_| false
            )
            .status(),
            "STATUS=1 running, 0 starting, 0 backoff, 1 stopped, 0 fatal"
        );
    }
}
