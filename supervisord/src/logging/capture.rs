//! Pumps a child's stdout or stderr pipe into its [`LogSink`]. One task per stream; it ends at
//! EOF (the child and every descendant holding the pipe have closed it), or at the daemon's
//! exit once it has taken what the pipe holds.
//!
//! Pacing: a child that writes in small pieces would wake the daemon once per write. After a
//! small read the pump therefore steps out of epoll for a millisecond, so that one wakeup
//! carries everything written meanwhile. A child writing faster than a pause's worth of pipe
//! can hold would block on its full pipe during that pause, so above `FAST` the pump reads
//! as data arrives instead. Pipes start at the kernel's default size and grow to `BIG_PIPE`
//! only for a child that fills one: the extra room counts against the user's pipe quota
//! (`fs.pipe-user-pages-soft`), which a few hundred quiet programs must not use up.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::sink::LogSink;
use crate::events::output::Route;

/// Large reads keep the syscall count (and the daemon's CPU per byte) low for chatty children.
const CHUNK: usize = 64 * 1024;

/// A read smaller than this means the child writes in small pieces.
const SMALL_READ: usize = 16 * 1024;

/// How long a pause lasts (the timer's resolution).
const PAUSE: Duration = Duration::from_millis(1);

/// Room for what gathers during a pause (Linux allows 1 MiB pipes without privileges).
const BIG_PIPE: i32 = 1 << 20;

/// Bytes per second above which a pause would let [`BIG_PIPE`] fill up (timers fire a little
/// late, so well below 1 MiB per millisecond).
const FAST: f64 = 400e6;

/// Bytes per second above which the default 64 KiB pipe fills up during a pause or two.
const GROW: f64 = 32e6;

/// How often the rate is measured.
const WINDOW: Duration = Duration::from_millis(10);

/// A stream's sink, shared by the pumps of that stream (a new child's, and an old one's that a
/// grandchild still writes to).
pub type SharedSink = Arc<tokio::sync::Mutex<LogSink>>;

/// Every pump of the daemon: tracked, so that at exit every byte a child wrote before it
/// exited reaches its log.
#[derive(Clone, Default)]
pub struct Pumps {
    tracker: TaskTracker,
    /// Cancelled at exit, once the children are gone: each pump takes what its pipe holds
    /// and ends (a grandchild may keep a pipe open forever).
    drain: CancellationToken,
}

impl Pumps {
    /// Tells every pump to finish with what its pipe holds now.
    pub fn finish(&self) {
        self.drain.cancel();
        self.tracker.close();
    }

    /// Waits for every pump to end (after [`Pumps::finish`]).
    pub async fn wait(&self) {
        self.tracker.wait().await;
    }
}

/// The stream's recent rate, measured over [`WINDOW`]s.
struct Pace {
    since: Instant,
    bytes: usize,
    fast: bool,
    /// The rate ever reached [`GROW`].
    chatty: bool,
}

impl Pace {
    fn record(&mut self, n: usize) {
        self.bytes += n;
        let elapsed = self.since.elapsed();
        if elapsed >= WINDOW {
            let rate = self.bytes as f64 / elapsed.as_secs_f64();
            self.fast = rate >= FAST;
            self.chatty |= rate >= GROW;
            self.since = Instant::now();
            self.bytes = 0;
        }
    }
}

async fn write(sink: &SharedSink, route: &mut Route, data: &[u8], pid: i32) {
    let data = route.take(data, pid);
    if !data.is_empty() {
        let mut sink = sink.lock().await;
        // supervisor's debug line for each chunk of a program's output (a listener's stdout
        // has its own, written where its protocol is read).
        if !route.is_listener() && tracing::enabled!(tracing::Level::DEBUG) {
            tracing::debug!("{}", sink.mainlog_text(&data));
        }
        for r in sink.write(&data, pid) {
            r.log();
        }
    }
    route.send_events().await;
}

/// Starts pumping `fd` (output of process `pid`) through `route` into `sink`, as one of
/// `pumps`. It first opens the sink's files (supervisor creates them when the process spawns).
/// A listener's stdout is read on the event dispatcher's thread, beside its pool.
pub fn pump(fd: OwnedFd, sink: SharedSink, pid: i32, pumps: &Pumps, route: Route) {
    let runtime = route.runtime();
    let task = run(fd, sink, pid, pumps.drain.clone(), route);
    match runtime {
        Some(rt) => {
            pumps.tracker.spawn_on(task, &rt);
        }
        None => {
            pumps.tracker.spawn(task);
        }
    }
}

async fn run(fd: OwnedFd, sink: SharedSink, pid: i32, drain: CancellationToken, mut route: Route) {
    // Registered with the runtime this runs on.
    let mut rx = match pipe::Receiver::from_owned_fd(fd) {
        Ok(rx) => rx,
        Err(e) => {
            tracing::error!("can't read output of process {pid}: {e}");
            return;
        }
    };
    // A listener's stdout carries its protocol: each answer is awaited, so it is read at once.
    let paced = !matches!(route, Route::Listener { .. });
    {
        for r in sink.lock().await.open() {
            r.log();
        }
        let mut buf = vec![0u8; CHUNK];
        let mut grown = false;
        let mut pace = Pace {
            since: Instant::now(),
            bytes: 0,
            fast: false,
            chatty: false,
        };
        loop {
            let read = tokio::select! {
                // Output first: the drain's future is then not even polled on the hot path.
                biased;
                r = rx.read(&mut buf) => r,
                () = drain.cancelled() => {
                    // The children are gone: what is in the pipe is all there will be, unless a
                    // grandchild still holds it, and nobody waits for that. Read the descriptor
                    // itself: tokio's try_read reads nothing until its event loop has seen the
                    // pipe readable, which a pump just back from a pause has not.
                    loop {
                        match nix::unistd::read(&rx, &mut buf) {
                            Ok(0) => break,
                            Ok(n) => write(&sink, &mut route, &buf[..n], pid).await,
                            Err(nix::errno::Errno::EINTR) => {}
                            Err(_) => break,
                        }
                    }
                    break;
                }
            };
            match read {
                Ok(0) => break,
                Ok(n) => {
                    write(&sink, &mut route, &buf[..n], pid).await;
                    pace.record(n);
                    if pace.chatty && !grown {
                        grown = true;
                        let _ =
                            nix::fcntl::fcntl(&rx, nix::fcntl::FcntlArg::F_SETPIPE_SZ(BIG_PIPE));
                    }
                    if paced && n < SMALL_READ && !pace.fast {
                        // Out of epoll while waiting: otherwise every small write of the child
                        // would wake the daemon anyway.
                        let Ok(fd) = rx.into_nonblocking_fd() else {
                            break;
                        };
                        tokio::select! {
                            () = tokio::time::sleep(PAUSE) => {}
                            () = drain.cancelled() => {}
                        }
                        rx = match pipe::Receiver::from_owned_fd(fd) {
                            Ok(r) => r,
                            Err(_) => break,
                        };
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => {
                    tracing::debug!("stopped reading child output: {e}");
                    break;
                }
            }
        }
        if let Some(rest) = route.finish(pid) {
            for r in sink.lock().await.write(&rest, pid) {
                r.log();
            }
        }
        route.send_events().await;
    }
}
