//! The way into the event system: whoever has something to announce (the actor, output pumps,
//! the service) emits it on the [`Bus`]. Subscribers get every event through a broadcast
//! channel (one that lags re-syncs with a status request); the event listener pools get them,
//! without loss, through the [`super::dispatcher`], which also receives what their processes
//! write and the pools' configuration.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use shared::config::{GroupConfig, ProcessKind, ResultHandler};
use shared::events::EventType;
use tokio::sync::{broadcast, mpsc, oneshot};

use super::Event;
use super::dispatcher::Dispatcher;
use super::pool::PoolView;

/// Events a subscriber may fall behind before it lags. Every slot is allocated up front (about
/// 100 bytes each), so this is a memory cost of the idle daemon; a burst larger than this
/// (hundreds of programs changing state at once) only affects a subscriber that is not reading.
const CAPACITY: usize = 1024;

/// Output events (`PROCESS_LOG`, `PROCESS_COMMUNICATION`) the dispatcher may have waiting
/// before a program's pump waits for it (and the program for its pipe), as in supervisor,
/// where one loop reads and dispatches.
const OUTPUT_BACKLOG: usize = 256;

#[derive(Clone)]
pub struct Bus {
    subscribers: broadcast::Sender<Event>,
    inputs: mpsc::UnboundedSender<Input>,
    outputs: mpsc::Sender<Event>,
    /// The dispatcher's runtime (its own thread): listeners' stdout is read there.
    runtime: Option<tokio::runtime::Handle>,
}

/// One process of a listener pool.
#[derive(Debug, Clone)]
pub struct ListenerId {
    pub pool: Arc<str>,
    pub name: Arc<str>,
    pub pid: i32,
}

/// A pool as the configuration defines it.
#[derive(Debug, Clone)]
pub struct PoolSpec {
    pub name: String,
    pub events: Vec<EventType>,
    pub buffer_size: usize,
    pub handler: ResultHandler,
    /// Its processes' names, in config order.
    pub members: Vec<String>,
}

impl PoolSpec {
    /// The pool of an `[eventlistener:x]` group; `None` for other groups.
    pub fn of(group: &GroupConfig) -> Option<PoolSpec> {
        let ProcessKind::EventListener(l) = &group.processes.first()?.kind else {
            return None;
        };
        Some(PoolSpec {
            name: group.name.clone(),
            events: l.events.clone(),
            buffer_size: l.buffer_size,
            handler: l.result_handler,
            members: group.processes.iter().map(|p| p.name.clone()).collect(),
        })
    }
}

pub(super) enum Input {
    Event(Event),
    /// The configuration was (re)loaded: every pool goes (new ones are added, one by one, as
    /// their groups are).
    Reset {
        server: Arc<str>,
    },
    AddPool(PoolSpec),
    RemovePool(String),
    /// A listener process was spawned: events for it are written to `stdin`.
    Attach {
        id: ListenerId,
        stdin: OwnedFd,
    },
    /// A listener process wrote on its stdout.
    Output {
        id: ListenerId,
        data: Vec<u8>,
    },
    /// A listener process's stdout ended (it and everything it started closed it).
    Eof(ListenerId),
    Views(oneshot::Sender<Vec<PoolView>>),
    /// Someone subscribed: ticks must run for them.
    Subscribed,
}

impl Bus {
    /// The bus and the dispatcher to start for its pools (on a thread of its own; without one,
    /// when the system refuses a thread, on the daemon's runtime).
    pub fn new() -> (Bus, Dispatcher) {
        let (inputs, rx) = mpsc::unbounded_channel();
        let (outputs, outputs_rx) = mpsc::channel(OUTPUT_BACKLOG);
        let subscribers = broadcast::channel(CAPACITY).0;
        let (runtime, starter) = match super::dispatcher::thread() {
            Ok((handle, starter)) => (Some(handle), Some(starter)),
            Err(e) => {
                tracing::error!(
                    "can't start the event dispatcher's thread ({e}): it runs with everything else"
                );
                (None, None)
            }
        };
        let bus = Bus {
            subscribers: subscribers.clone(),
            inputs,
            outputs,
            runtime,
        };
        (bus, Dispatcher::new(rx, outputs_rx, subscribers, starter))
    }

    pub(crate) fn runtime(&self) -> Option<tokio::runtime::Handle> {
        self.runtime.clone()
    }

    pub fn emit(&self, event: Event) {
        if self.subscribers.receiver_count() > 0 {
            let _ = self.subscribers.send(event.clone());
        }
        let _ = self.inputs.send(Input::Event(event));
    }

    /// An event of a program's output: waits while the dispatcher has a backlog of them.
    pub async fn emit_output(&self, event: Event) {
        if self.subscribers.receiver_count() > 0 {
            let _ = self.subscribers.send(event.clone());
        }
        let _ = self.outputs.send(event).await;
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        let rx = self.subscribers.subscribe();
        let _ = self.inputs.send(Input::Subscribed);
        rx
    }

    /// A (re)load: every pool goes; `server` is the identifier from now on.
    pub fn reset(&self, server: &str) {
        let _ = self.inputs.send(Input::Reset {
            server: Arc::from(server),
        });
    }

    pub fn add_pool(&self, pool: PoolSpec) {
        let _ = self.inputs.send(Input::AddPool(pool));
    }

    pub fn remove_pool(&self, name: &str) {
        let _ = self.inputs.send(Input::RemovePool(name.to_owned()));
    }

    pub fn attach(&self, id: ListenerId, stdin: OwnedFd) {
        let _ = self.inputs.send(Input::Attach { id, stdin });
    }

    pub fn listener_output(&self, id: &ListenerId, data: &[u8]) {
        let _ = self.inputs.send(Input::Output {
            id: id.clone(),
            data: data.to_vec(),
        });
    }

    pub fn listener_eof(&self, id: &ListenerId) {
        let _ = self.inputs.send(Input::Eof(id.clone()));
    }

    /// The pools and their listeners now.
    pub async fn pools(&self) -> Vec<PoolView> {
        let (tx, rx) = oneshot::channel();
        if self.inputs.send(Input::Views(tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }
}
