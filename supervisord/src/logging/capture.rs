//! Pumps a child's stdout or stderr pipe into its [`LogSink`]. One task per stream; it ends at
//! EOF (the child and every descendant holding the pipe have closed it).

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;

use super::sink::LogSink;

/// Large reads keep the syscall count (and the daemon's CPU per byte) low for chatty children.
const CHUNK: usize = 64 * 1024;

/// A read smaller than this means the child writes in small pieces: waiting a moment before the
/// next read lets them gather, so one wakeup carries many lines instead of one.
const SMALL_READ: usize = 16 * 1024;

/// Room for what gathers during that moment (Linux allows 1 MiB pipes without privileges).
const PIPE_SIZE: i32 = 1 << 20;

pub type SharedSink = Arc<Mutex<LogSink>>;

/// Starts pumping `fd` into `sink`. Errors of the sink are reported by the sink itself.
pub fn pump(fd: OwnedFd, sink: SharedSink) -> std::io::Result<tokio::task::JoinHandle<()>> {
    let _ = nix::fcntl::fcntl(&fd, nix::fcntl::FcntlArg::F_SETPIPE_SZ(PIPE_SIZE));
    let mut rx = pipe::Receiver::from_owned_fd(fd)?;
    Ok(tokio::spawn(async move {
        let mut buf = vec![0u8; CHUNK];
        loop {
            match rx.read(&mut buf).await {
                Ok(0) => break,
                Ok(n) => {
                    let reports = sink
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .write(&buf[..n]);
                    for r in reports {
                        tracing::error!("{r}");
                    }
                    if n < SMALL_READ {
                        // Out of epoll while waiting: otherwise every small write of the child
                        // would wake the daemon anyway.
                        let Ok(fd) = rx.into_nonblocking_fd() else {
                            break;
                        };
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
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
    }))
}
