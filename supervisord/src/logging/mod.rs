//! Logs: the daemon's main log, child output capture and its targets, size rotation, the AUTO
//! child log files in childlogdir, and the writer threads that keep a stalled output (a
//! terminal, a syslog server, a disk) from stalling anyone else.

pub mod capture;
pub mod console;
pub mod mainlog;
pub mod rotate;
pub mod sink;
pub mod syslog_target;
pub mod writer;

use std::fs::OpenOptions;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use tokio::sync::broadcast;

pub use shared::events::Channel;

/// A piece of a log as its followers get it: the bytes, and where they start in everything
/// written to that log since the daemon started (so a follower that falls behind can tell how
/// many bytes it missed).
#[derive(Debug, Clone)]
pub struct Piece {
    pub offset: u64,
    pub data: Arc<[u8]>,
}

/// The sending side of a log's followers.
pub type Followers = broadcast::Sender<Piece>;

/// A follower of a log: the pieces written from now on, and the offset the next one starts at.
#[derive(Debug)]
pub struct FollowRx {
    pub rx: broadcast::Receiver<Piece>,
    pub offset: u64,
}

/// Pieces a follower may fall behind before it misses some.
const FOLLOW_CAPACITY: usize = 256;

/// A log's followers and how much the log has had written: created on the first follow, since a
/// channel costs kilobytes and most logs are never followed.
#[derive(Default)]
pub struct FollowHub {
    followers: Option<Followers>,
    written: u64,
}

impl FollowHub {
    /// A new follower.
    pub fn follow(&mut self) -> FollowRx {
        let rx = self
            .followers
            .get_or_insert_with(|| broadcast::channel(FOLLOW_CAPACITY).0)
            .subscribe();
        FollowRx {
            rx,
            offset: self.written,
        }
    }

    /// Hands `data` to the followers there are, and counts it.
    pub fn publish(&mut self, data: &[u8]) {
        let offset = self.written;
        self.written += data.len() as u64;
        if let Some(f) = &self.followers
            && !data.is_empty()
            && f.receiver_count() > 0
        {
            let _ = f.send(Piece {
                offset,
                data: Arc::from(data),
            });
        }
    }
}

/// Creates an AUTO log file like Python's `tempfile.mkstemp`:
/// `<process>-<channel>---<identifier>-<8 random chars>.log`, mode 0600.
pub fn create_auto_log(
    dir: &Path,
    process: &str,
    channel: &str,
    identifier: &str,
) -> io::Result<PathBuf> {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789_";
    let state = std::collections::hash_map::RandomState::new();
    for attempt in 0u64..100 {
        let mut h = state.build_hasher();
        h.write_u64(attempt);
        h.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
        );
        let mut v = h.finish();
        let suffix: String = (0..8)
            .map(|_| {
                let c = ALPHABET[(v % ALPHABET.len() as u64) as usize] as char;
                v /= ALPHABET.len() as u64;
                c
            })
            .collect();
        let path = dir.join(format!("{process}-{channel}---{identifier}-{suffix}.log"));
        match OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
        {
            Ok(_) => return Ok(path),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(io::Error::other("could not find a free AUTO log file name"))
}

/// Python's AUTO log cleanup at startup: removes files matching
/// `.+?---<identifier>-\S+\.log\.?\d{0,4}` (a prefix match) in childlogdir.
pub fn clear_auto_logs(dir: &Path, identifier: &str) -> Vec<String> {
    let mut warnings = Vec::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(_) => {
            warnings.push("Could not clear childlog dir".to_string());
            return warnings;
        }
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if is_auto_log_name(name, identifier) {
            let path = entry.path();
            if std::fs::remove_file(&path).is_err() {
                warnings.push(format!("Failed to clean up '{}'", path.display()));
            }
        }
    }
    warnings
}

fn is_auto_log_name(name: &str, identifier: &str) -> bool {
    let marker = format!("---{identifier}-");
    // `.+?` needs at least one character before the marker.
    let Some(pos) = name.get(1..).and_then(|n| n.find(&marker)).map(|p| p + 1) else {
        return false;
    };
    let rest = &name[pos + marker.len()..];
    // `\S+\.log` : at least one non-space character, then `.log` somewhere after it.
    rest.char_indices().any(|(i, _)| {
        i > 0 && rest[i..].starts_with(".log") && !rest[..i].contains(char::is_whitespace)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_names_match_pythons_cleanup_pattern() {
        assert!(is_auto_log_name(
            "web-stdout---supervisor-ab12cd_3.log",
            "supervisor"
        ));
        assert!(is_auto_log_name(
            "web-stdout---supervisor-ab12cd_3.log.3",
            "supervisor"
        ));
        assert!(!is_auto_log_name("x---supervisor-.log", "supervisor"));
        assert!(!is_auto_log_name(
            "web-stdout---other-abc.log",
            "supervisor"
        ));
        assert!(!is_auto_log_name("plain.log", "supervisor"));
    }

    #[test]
    fn auto_log_files_are_created_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("tempdir");
        let p = create_auto_log(dir.path(), "web", "stdout", "supervisor").expect("create");
        let name = p
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        assert!(name.starts_with("web-stdout---supervisor-"), "{name}");
        assert!(is_auto_log_name(&name, "supervisor"));
        let mode = std::fs::metadata(&p)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
    }
}
