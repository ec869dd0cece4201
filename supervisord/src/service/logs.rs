//! Logs through the service: reading and tailing files (off the async workers), clearing, and
//! following a log as it is written, with one lag policy for every protocol: a follower that
//! falls behind gets [`Chunk::Skipped`] with the number of bytes it missed, then the output goes on.

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use futures_util::Stream;
use shared::Fault;
use tokio::sync::broadcast::error::RecvError;

use super::{Service, logfile};
use crate::logging::{Channel, FollowRx};

/// Which log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogSource {
    /// The daemon's main log.
    Main,
    Process {
        name: String,
        channel: Channel,
    },
}

/// What a follower receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Chunk {
    Data(Arc<[u8]>),
    /// The follower read too slowly and this many bytes went by without it.
    Skipped(u64),
}

impl Chunk {
    /// The text a plain-text stream shows for skipped bytes.
    pub fn skipped_marker(n: u64) -> String {
        format!("\n==> {n} bytes skipped (the client was too slow) <==\n")
    }
}

pub type ChunkStream = Pin<Box<dyn Stream<Item = Chunk> + Send>>;

/// A followed log: the file it is written to (if any), and its chunks from now on, preceded by
/// the last bytes of that file.
pub struct Follow {
    pub file: Option<PathBuf>,
    pub chunks: ChunkStream,
}

/// supervisor's `tailProcessLog` answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tail {
    pub data: Vec<u8>,
    /// Where the next tail should start (the file's size).
    pub offset: i64,
    /// Bytes between the requested offset and the data returned were left out.
    pub overflow: bool,
}

/// Runs blocking file work on the blocking pool, so a slow disk never holds an async worker.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, Fault> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| Fault::Failed(format!("internal error: {e}")))
}

impl Service {
    /// The log file of `name`'s channel: NO_FILE when it has none, or it does not exist (yet).
    async fn process_log_file(&self, name: &str, channel: Channel) -> Result<PathBuf, Fault> {
        let info = self.handle.info(name).await?;
        let path = match channel {
            Channel::Stdout => info.stdout_logfile,
            Channel::Stderr => info.stderr_logfile,
        };
        if path.is_empty() {
            // Python's RPCError(NO_FILE, None): the name alone.
            return Err(Fault::NoFile(String::new()));
        }
        let p = PathBuf::from(&path);
        if !p.exists() {
            return Err(Fault::NoFile(path));
        }
        Ok(p)
    }

    fn main_log_file(&self) -> Result<PathBuf, Fault> {
        match self.mainlog.path() {
            Some(p) if p.exists() => Ok(p),
            Some(p) => Err(Fault::NoFile(p.display().to_string())),
            None => Err(Fault::NoFile(String::new())),
        }
    }

    /// supervisor's `readLog` / `readProcessStdoutLog` offset and length rules.
    pub async fn read_log(
        &self,
        source: &LogSource,
        offset: i64,
        length: i64,
    ) -> Result<Vec<u8>, Fault> {
        let path = match source {
            LogSource::Main => self.main_log_file()?,
            LogSource::Process { name, channel } => self.process_log_file(name, *channel).await?,
        };
        blocking(move || logfile::read_file(&path, offset, length)).await?
    }

    /// supervisor's `tailProcessStdoutLog`.
    pub async fn tail_log(
        &self,
        name: &str,
        channel: Channel,
        offset: i64,
        length: i64,
    ) -> Result<Tail, Fault> {
        let info = self.handle.info(name).await?;
        let path = PathBuf::from(match channel {
            Channel::Stdout => info.stdout_logfile,
            Channel::Stderr => info.stderr_logfile,
        });
        let (data, offset, overflow) =
            blocking(move || logfile::tail_file(&path, offset, length)).await?;
        Ok(Tail {
            data,
            offset,
            overflow,
        })
    }

    /// Empties the main log (`clearLog`).
    pub async fn clear_main_log(&self) -> Result<(), Fault> {
        // NO_FILE without a file (as supervisor), FAILED when it can't be emptied; the reason
        // goes to the main log, supervisor's fault carries none.
        match self.mainlog.path() {
            Some(p) if p.exists() => {}
            _ => return Err(Fault::NoFile(String::new())),
        }
        self.mainlog.clear().await.map_err(|e| {
            tracing::error!("can't clear the main log: {e}");
            Fault::Failed(String::new())
        })
    }

    /// Empties a process's log files and their backups (`clearProcessLogs`).
    pub async fn clear_logs(&self, name: &str) -> Result<(), Fault> {
        self.handle.clear_logs(name).await
    }

    /// Follows a log: the last `initial` bytes of its file, then what is written from now on.
    pub async fn follow(&self, source: &LogSource, initial: u64) -> Result<Follow, Fault> {
        let (file, rx) = match source {
            LogSource::Main => (self.mainlog.path(), self.mainlog.follow()),
            LogSource::Process { name, channel } => self.handle.follow(name, *channel).await?,
        };
        Ok(Follow {
            chunks: chunks(file.clone(), initial, rx),
            file,
        })
    }
}

/// Where a follower is.
struct Following {
    first: Option<(PathBuf, u64)>,
    rx: FollowRx,
    /// Data to hand out after a [`Chunk::Skipped`].
    pending: Option<Arc<[u8]>>,
}

/// The chunks of a follow as a stream: it ends when the log's writer goes away, and costs
/// nothing once the client has gone (the stream is dropped with the response).
fn chunks(file: Option<PathBuf>, initial: u64, rx: FollowRx) -> ChunkStream {
    let start = Following {
        first: file.filter(|_| initial > 0).map(|f| (f, initial)),
        rx,
        pending: None,
    };
    Box::pin(futures_util::stream::unfold(start, |mut st| async move {
        if let Some((path, n)) = st.first.take() {
            let data = blocking(move || logfile::last_bytes(&path, n))
                .await
                .unwrap_or_default();
            if !data.is_empty() {
                return Some((Chunk::Data(data.into()), st));
            }
        }
        if let Some(data) = st.pending.take() {
            return Some((Chunk::Data(data), st));
        }
        loop {
            match st.rx.rx.recv().await {
                Ok(piece) => {
                    let skipped = piece.offset.saturating_sub(st.rx.offset);
                    st.rx.offset = piece.offset + piece.data.len() as u64;
                    if skipped > 0 {
                        st.pending = Some(piece.data);
                        return Some((Chunk::Skipped(skipped), st));
                    }
                    return Some((Chunk::Data(piece.data), st));
                }
                // The next piece's offset tells how much went by.
                Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return None,
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;
    use crate::logging::FollowHub;

    #[tokio::test]
    async fn a_slow_follower_learns_how_many_bytes_it_missed() {
        let mut hub = FollowHub::default();
        hub.publish(b"before");
        let mut stream = chunks(None, 0, hub.follow());
        hub.publish(b"first");
        assert_eq!(
            stream.next().await,
            Some(Chunk::Data(Arc::from(&b"first"[..])))
        );
        // More pieces than the channel holds: the oldest are lost to this follower.
        for _ in 0..300 {
            hub.publish(b"0123456789");
        }
        hub.publish(b"last");
        let mut got = Vec::new();
        drop(hub);
        while let Some(c) = stream.next().await {
            got.push(c);
        }
        let Some(Chunk::Skipped(n)) = got.first() else {
            panic!("expected a skip first, got {got:?}");
        };
        let data: usize = got[1..]
            .iter()
            .map(|c| match c {
                Chunk::Data(d) => d.len(),
                Chunk::Skipped(_) => panic!("one skip only"),
            })
            .sum();
        // Every byte written after "first" is either delivered or counted as skipped.
        assert_eq!(*n as usize + data, 300 * 10 + 4);
        assert!(*n > 0);
    }
}
