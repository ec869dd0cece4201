//! Telling whoever started the daemon in the background that it is up — its servers listen and
//! its pidfile is written — or why it could not start: the shell then gets 0, or the error on
//! its terminal and a non-zero status, as with Python's supervisord.

use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex, PoisonError};

/// The daemon's end: said once (ready, or failed), then closed.
#[derive(Clone, Default)]
pub struct Readiness {
    pipe: Arc<Mutex<Option<std::fs::File>>>,
}

impl Readiness {
    /// Nobody waits (the foreground).
    pub fn none() -> Readiness {
        Readiness::default()
    }

    pub fn pipe(fd: OwnedFd) -> Readiness {
        Readiness {
            pipe: Arc::new(Mutex::new(Some(std::fs::File::from(fd)))),
        }
    }

    fn say(&self, what: &str) {
        let mut pipe = self.pipe.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(mut f) = pipe.take() {
            // The starter may be gone (its terminal closed): nothing to tell then.
            let _ = f.write_all(what.as_bytes());
        }
    }

    /// Up: servers listening, pidfile written.
    pub fn ready(&self) {
        self.say("OK\n");
    }

    /// Could not start (a no-op once ready was said).
    pub fn failed(&self, why: &str) {
        self.say(&format!("ERR {why}"));
    }
}

/// What the starter's end read: `Ok` when the daemon is up, else its error.
pub fn wait(fd: OwnedFd) -> Result<(), String> {
    let mut text = String::new();
    let _ = std::fs::File::from(fd).read_to_string(&mut text);
    match text.strip_prefix("ERR ") {
        _ if text == "OK\n" => Ok(()),
        Some(why) => Err(why.to_owned()),
        None => Err("supervisord ended before it was up (see its main log)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (OwnedFd, OwnedFd) {
        nix::unistd::pipe().expect("pipe")
    }

    #[test]
    fn the_starter_learns_ready_or_why_not() {
        let (r, w) = pair();
        let ready = Readiness::pipe(w);
        ready.ready();
        ready.failed("too late: not said");
        assert_eq!(wait(r), Ok(()));

        let (r, w) = pair();
        let ready = Readiness::pipe(w);
        ready.failed("[inet_http_server] port=9001: can't bind");
        assert_eq!(
            wait(r),
            Err("[inet_http_server] port=9001: can't bind".into())
        );

        let (r, w) = pair();
        drop(Readiness::pipe(w));
        assert!(
            wait(r)
                .expect_err("no word")
                .contains("ended before it was up")
        );
    }
}
