//! Pumps a child's stdout or stderr pipe into its [`LogSink`]. One task per stream; it ends at
//! EOF (the child and every descendant holding the pipe have closed it).

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use tokio::io::AsyncReadExt;
use tokio::net::unix::pipe;

use super::sink::LogSink;

/// Large reads keep the syscall count (and the daemon's CPU per byte) low for chatty children.
const CHUNK: usize = 64 * 1024;

pub type SharedSink = Arc<Mutex<LogSink>>;

/// Starts pumping `fd` into `sink`. Errors of the sink are reported by the sink itself.
pub fn pump(fd: OwnedFd, sink: SharedSink) -> std::io::Result<tokio::task::JoinHandle<()>> {
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
