//! What a child's output stream means besides log output: `PROCESS_LOG` events when
//! `*_events_enabled`, capture mode when `*_capture_maxbytes`, and for an event listener's
//! stdout, the listener protocol. A stream's pump passes every read through its [`Route`] and
//! logs what comes back.

use std::borrow::Cow;
use std::sync::Arc;

use shared::events::Channel;

use super::Event;
use super::bus::{Bus, ListenerId};
use super::capture::{Capture, Piece};

pub enum Route {
    /// Output is log output only (no event wants it): the common, free case.
    Log,
    /// A program's stream with events enabled or capture mode on.
    Events(Box<Events>),
    /// An event listener's stdout: protocol for its pool, and log output as well (supervisor
    /// writes it to `stdout_logfile` too).
    Listener { bus: Bus, id: ListenerId },
}

pub struct Events {
    bus: Bus,
    /// Made by the last read, to be sent (the pump waits for room).
    pending: Vec<Event>,
    name: Arc<str>,
    group: Arc<str>,
    channel: Channel,
    log_events: bool,
    capture: Option<Capture>,
    strip_ansi: bool,
}

impl Route {
    /// `capture_maxbytes` 0: no capture mode.
    #[allow(clippy::too_many_arguments)]
    pub fn events(
        bus: &Bus,
        name: &str,
        group: &str,
        channel: Channel,
        log_events: bool,
        capture_maxbytes: u64,
        strip_ansi: bool,
    ) -> Route {
        if !log_events && capture_maxbytes == 0 {
            return Route::Log;
        }
        Route::Events(Box::new(Events {
            bus: bus.clone(),
            pending: Vec::new(),
            name: Arc::from(name),
            group: Arc::from(group),
            channel,
            log_events,
            capture: (capture_maxbytes > 0)
                .then(|| Capture::new(usize::try_from(capture_maxbytes).unwrap_or(usize::MAX))),
            strip_ansi,
        }))
    }

    /// The stream is an event listener's stdout (its protocol).
    pub fn is_listener(&self) -> bool {
        matches!(self, Route::Listener { .. })
    }

    /// The runtime the stream is read on, when not the daemon's own.
    pub fn runtime(&self) -> Option<tokio::runtime::Handle> {
        match self {
            Route::Listener { bus, .. } => bus.runtime(),
            _ => None,
        }
    }

    /// What of `data` (written by process `pid`) goes to the log.
    pub fn take<'a>(&mut self, data: &'a [u8], pid: i32) -> Cow<'a, [u8]> {
        match self {
            Route::Log => Cow::Borrowed(data),
            Route::Listener { bus, id } => {
                // supervisor's debug line, bytes shown as Python's repr.
                tracing::debug!(
                    "'{}' stdout output:\n{}",
                    id.name,
                    super::protocol::python_bytes_repr(data)
                );
                bus.listener_output(id, data);
                Cow::Borrowed(data)
            }
            Route::Events(e) => e.take(data, pid),
        }
    }

    /// Sends the events the last reads made, waiting while the dispatcher has a backlog.
    pub async fn send_events(&mut self) {
        if let Route::Events(e) = self {
            for event in std::mem::take(&mut e.pending) {
                e.bus.emit_output(event).await;
            }
        }
    }

    /// The stream ended: what is left for the log.
    pub fn finish(&mut self, pid: i32) -> Option<Vec<u8>> {
        match self {
            Route::Events(e) => {
                let rest = e.capture.as_mut()?.finish()?;
                e.log_event(&rest, pid);
                Some(rest)
            }
            Route::Listener { bus, id } => {
                bus.listener_eof(id);
                None
            }
            Route::Log => None,
        }
    }
}

impl Events {
    fn take<'a>(&mut self, data: &'a [u8], pid: i32) -> Cow<'a, [u8]> {
        // supervisor strips escapes before the events see the output.
        let data: Cow<'a, [u8]> = if self.strip_ansi && data.contains(&0x1b) {
            Cow::Owned(crate::logging::sink::strip_escapes(data))
        } else {
            Cow::Borrowed(data)
        };
        let Some(capture) = self.capture.as_mut() else {
            self.log_event(&data, pid);
            return data;
        };
        let pieces = capture.feed(&data);
        let mut log = Vec::new();
        for piece in pieces {
            match piece {
                Piece::Output { data, captured } => {
                    self.log_event(&data, pid);
                    if !captured {
                        log.extend_from_slice(&data);
                    }
                }
                Piece::Communication(data) => {
                    tracing::debug!(
                        "'{}' {} emitted a comm event",
                        self.name,
                        self.channel.name()
                    );
                    self.pending.push(Event::ProcessCommunication {
                        name: self.name.clone(),
                        group: self.group.clone(),
                        pid,
                        channel: self.channel,
                        data: Arc::from(data),
                    });
                }
            }
        }
        Cow::Owned(log)
    }

    fn log_event(&mut self, data: &[u8], pid: i32) {
        if self.log_events && !data.is_empty() {
            self.pending.push(Event::ProcessLog {
                name: self.name.clone(),
                group: self.group.clone(),
                pid,
                channel: self.channel,
                data: Arc::from(data),
            });
        }
    }
}
