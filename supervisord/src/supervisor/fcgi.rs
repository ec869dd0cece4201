//! The listening sockets of `[fcgi-program:x]` groups, with Python supervisor's rules: a
//! group's socket is created (and bound, and listening) when the first of its processes
//! spawns, handed to every process as its stdin, and closed when the last one has exited; the
//! next spawn creates it again. A unix socket's stale file is replaced when it is created, and
//! left in place when it is closed (as Python does: a client then gets "connection refused").

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::fs::PermissionsExt;

use nix::sys::socket::{
    AddressFamily, Backlog, SockFlag, SockType, SockaddrIn, SockaddrIn6, UnixAddr, bind, listen,
    setsockopt, socket, sockopt,
};
use shared::config::{FcgiConfig, FcgiSocket};
use tracing::info;

use crate::process::spawn;

/// Which socket: a group, and the socket it was created for (a reload may change it).
pub(super) type Key = (String, String);

struct Shared {
    socket: OwnedFd,
    /// The processes holding it (spawned and not yet reaped).
    refs: usize,
}

#[derive(Default)]
pub(super) struct Sockets {
    open: HashMap<Key, Shared>,
}

impl Sockets {
    /// A reference to group `group`'s socket for a process about to spawn (created if none is
    /// open), as a descriptor the child gets as its stdin.
    pub(super) fn acquire(
        &mut self,
        group: &str,
        cfg: &FcgiConfig,
    ) -> Result<(Key, OwnedFd), String> {
        let key = (group.to_owned(), cfg.socket.to_string());
        let shared = match self.open.entry(key.clone()) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(v) => {
                info!("Creating socket {}", cfg.socket);
                let socket = create(cfg)
                    .map_err(|e| format!("Could not create FastCGI socket {}: {e}", cfg.socket))?;
                v.insert(Shared { socket, refs: 0 })
            }
        };
        let fd = shared
            .socket
            .try_clone()
            .map_err(|e| format!("Could not share FastCGI socket {}: {e}", cfg.socket))?;
        shared.refs += 1;
        Ok((key, fd))
    }

    /// A process holding a reference has exited (or failed to spawn).
    pub(super) fn release(&mut self, key: &Key) {
        let Some(shared) = self.open.get_mut(key) else {
            return;
        };
        shared.refs = shared.refs.saturating_sub(1);
        if shared.refs == 0 {
            info!("Closing socket {}", key.1);
            self.open.remove(key);
        }
    }

    /// How many processes hold group `group`'s socket (tests).
    #[cfg(test)]
    pub(super) fn refs(&self, key: &Key) -> usize {
        self.open.get(key).map_or(0, |s| s.refs)
    }
}

fn create(cfg: &FcgiConfig) -> Result<OwnedFd, String> {
    let backlog = match cfg.backlog {
        Some(n) => Backlog::new(i32::try_from(n).unwrap_or(i32::MAX).min(libc::SOMAXCONN))
            .map_err(|e| format!("socket_backlog {n}: {e}"))?,
        None => Backlog::MAXCONN,
    };
    let fd = match &cfg.socket {
        FcgiSocket::Unix { path, owner, mode } => {
            if std::fs::symlink_metadata(path).is_ok() {
                std::fs::remove_file(path)
                    .map_err(|e| format!("can't remove {}: {e}", path.display()))?;
            }
            let fd = socket(
                AddressFamily::Unix,
                SockType::Stream,
                SockFlag::SOCK_CLOEXEC,
                None,
            )
            .map_err(|e| e.to_string())?;
            let addr = UnixAddr::new(path).map_err(|e| e.to_string())?;
            bind(fd.as_raw_fd(), &addr).map_err(|e| e.to_string())?;
            let placed = (|| {
                if let Some(owner) = owner {
                    let u = spawn::lookup_user(owner)?;
                    nix::unistd::chown(path, Some(u.uid), Some(u.gid))
                        .map_err(|e| format!("can't chown {} to {owner}: {e}", path.display()))?;
                }
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(*mode))
                    .map_err(|e| format!("can't chmod {}: {e}", path.display()))
            })();
            if let Err(e) = placed {
                let _ = std::fs::remove_file(path);
                return Err(e);
            }
            fd
        }
        FcgiSocket::Tcp { host, port } => {
            let addr = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), *port))
                .map_err(|e| e.to_string())?
                .next()
                .ok_or_else(|| format!("{host} has no address"))?;
            let family = if addr.is_ipv4() {
                AddressFamily::Inet
            } else {
                AddressFamily::Inet6
            };
            let fd = socket(family, SockType::Stream, SockFlag::SOCK_CLOEXEC, None)
                .map_err(|e| e.to_string())?;
            setsockopt(&fd, sockopt::ReuseAddr, &true).map_err(|e| e.to_string())?;
            let bound = match addr {
                std::net::SocketAddr::V4(a) => bind(fd.as_raw_fd(), &SockaddrIn::from(a)),
                std::net::SocketAddr::V6(a) => bind(fd.as_raw_fd(), &SockaddrIn6::from(a)),
            };
            bound.map_err(|e| e.desc().to_owned())?;
            fd
        }
    };
    listen(&fd.as_fd(), backlog).map_err(|e| e.to_string())?;
    Ok(fd)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn created_by_the_first_closed_after_the_last() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.sock");
        // A stale file from an earlier run is replaced.
        std::fs::write(&path, b"stale").unwrap();
        let cfg = FcgiConfig {
            socket: FcgiSocket::Unix {
                path: path.clone(),
                owner: None,
                mode: 0o600,
            },
            backlog: Some(5),
        };
        let mut s = Sockets::default();
        let (key, a) = s.acquire("app", &cfg).unwrap();
        let (_, b) = s.acquire("app", &cfg).unwrap();
        assert_eq!(s.refs(&key), 2);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        // What the children get accepts connections.
        let client = std::os::unix::net::UnixStream::connect(&path);
        assert!(client.is_ok());
        drop((a, b));
        s.release(&key);
        assert_eq!(s.refs(&key), 1);
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
        s.release(&key);
        assert_eq!(s.refs(&key), 0);
        // Closed: the file stays, as Python leaves it, but nothing listens.
        assert!(path.exists());
        assert!(std::os::unix::net::UnixStream::connect(&path).is_err());
        let (_, _c) = s.acquire("app", &cfg).unwrap();
        assert!(std::os::unix::net::UnixStream::connect(&path).is_ok());
    }

    #[test]
    fn a_port_in_use_is_a_spawn_error() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = taken.local_addr().unwrap().port();
        let cfg = FcgiConfig {
            socket: FcgiSocket::Tcp {
                host: "127.0.0.1".into(),
                port,
            },
            backlog: None,
        };
        let e = Sockets::default().acquire("app", &cfg).unwrap_err();
        assert_eq!(
            e,
            format!(
                "Could not create FastCGI socket tcp://127.0.0.1:{port}: Address already in use"
            )
        );
    }
}
