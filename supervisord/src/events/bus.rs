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

#[derive(Clone)]
pub struct Bus {
    subscribers: broadcast::Sender<Event>,
    inputs: mpsc::UnboundedSender<Input>,
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
    /// The configuration was (re)loaded: these pools replace every pool there was.
    Pools {
        server: Arc<str>,
        pools: Vec<PoolSpec>,
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
    Views(oneshot::Sender<Vec<PoolView>>),
    /// Someone subscribed: ticks must run for them.
    Subscribed,
}

impl Bus {
    /// The bus and the dispatcher to start (on a thread of its own) for its pools. Without a
    /// runtime for that thread (no memory or no file descriptor for it), listeners' output is
    /// read on the daemon's runtime.
    pub fn new() -> (Bus, Dispatcher) {
        let (inputs, rx) = mpsc::unbounded_channel();
        let subscribers = broadcast::channel(CAPACITY).0;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build();
        let runtime = match runtime {
            Ok(rt) => Some(rt),
            Err(e) => {
                tracing::error!("can't make the event dispatcher's runtime: {e}");
                None
            }
        };
        let bus = Bus {
            subscribers: subscribers.clone(),
            inputs,
            runtime: runtime.as_ref().map(|rt| rt.handle().clone()),
        };
        (bus, Dispatcher::new(rx, subscribers, runtime))
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

    pub fn subscribe(&self) -> broadcast::Receiver<Event> {
        let rx = self.subscribers.subscribe();
        let _ = self.inputs.send(Input::Subscribed);
        rx
    }

    pub fn set_pools(&self, server: &str, pools: Vec<PoolSpec>) {
        let _ = self.inputs.send(Input::Pools {
            server: Arc::from(server),
            pools,
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

    /// The pools and their listeners now.
    pub async fn pools(&self) -> Vec<PoolView> {
        let (tx, rx) = oneshot::channel();
        if self.inputs.send(Input::Views(tx)).is_err() {
            return Vec::new();
        }
        rx.await.unwrap_or_default()
    }
}
