//! The task that owns the event listener pools: it numbers the events they take (the global
//! serial lives as long as the daemon; a pool's own serial starts over with the pool), feeds
//! their processes' output to the protocol, writes envelopes to their stdin, and announces
//! ticks while anyone wants them.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shared::ProcessState;
use shared::events::{EventType, TickPeriod};
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;
use tokio::sync::{broadcast, mpsc};
use tracing::{debug, error, warn};

use super::Event;
use super::bus::{Input, PoolSpec};
use super::pool::{Effect, Level, Pool, Rendered};
use super::tick::Ticks;

pub struct Dispatcher {
    inputs: mpsc::UnboundedReceiver<Input>,
    subscribers: broadcast::Sender<Event>,
    /// `[supervisord] identifier`, the envelope's `server:`.
    server: Arc<str>,
    pools: Vec<Pool>,
    /// The last global serial given (none yet: the first is 0).
    serial: Option<u64>,
    /// The stdin of each live listener process, by (pool, process).
    writers: HashMap<(Arc<str>, Arc<str>), mpsc::UnboundedSender<String>>,
    ticks: Ticks,
    /// The runtime of the dispatcher's thread (`None`: it runs on the daemon's).
    runtime: Option<tokio::runtime::Runtime>,
}

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

impl Dispatcher {
    pub(super) fn new(
        inputs: mpsc::UnboundedReceiver<Input>,
        subscribers: broadcast::Sender<Event>,
        runtime: Option<tokio::runtime::Runtime>,
    ) -> Dispatcher {
        Dispatcher {
            inputs,
            subscribers,
            server: Arc::from("supervisor"),
            pools: Vec::new(),
            serial: None,
            writers: HashMap::new(),
            ticks: Ticks::new(wall() as u64),
            runtime,
        }
    }

    /// Runs the dispatcher on a thread of its own, until every [`super::Bus`] is gone. On the
    /// daemon's workers, an event would wait behind whatever the actor does next (a fork and
    /// exec, for a restart): a task it wakes runs on the same worker once it yields.
    /// Without a runtime of its own, it is a task of the daemon's.
    pub fn start(mut self) -> std::io::Result<()> {
        let Some(rt) = self.runtime.take() else {
            tokio::spawn(self.run());
            return Ok(());
        };
        std::thread::Builder::new()
            .name("events".into())
            .stack_size(512 * 1024)
            .spawn(move || rt.block_on(self.run()))?;
        Ok(())
    }

    async fn run(mut self) {
        loop {
            let input = if self.ticks_wanted() {
                let wait = Duration::from_secs_f64(Ticks::next_in(wall()) + 0.001);
                tokio::select! {
                    input = self.inputs.recv() => input,
                    () = tokio::time::sleep(wait) => {
                        self.tick();
                        continue;
                    }
                }
            } else {
                self.inputs.recv().await
            };
            let Some(input) = input else {
                break;
            };
            self.handle(input);
            // Take what else is there before dispatching: one pass for a burst.
            while let Ok(input) = self.inputs.try_recv() {
                self.handle(input);
            }
            self.dispatch();
        }
    }

    /// A pool subscribes to a tick, or a client follows events.
    fn ticks_wanted(&self) -> bool {
        self.subscribers.receiver_count() > 0
            || self.pools.iter().any(|p| {
                TickPeriod::ALL
                    .iter()
                    .any(|t| p.wants(EventType::Tick(Some(*t))))
            })
    }

    fn tick(&mut self) {
        for (period, when) in self.ticks.due(wall() as u64) {
            let event = Event::Tick { period, when };
            if self.subscribers.receiver_count() > 0 {
                let _ = self.subscribers.send(event.clone());
            }
            self.event(&event);
        }
        self.dispatch();
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Event(e) => self.event(&e),
            Input::Pools { server, pools } => {
                self.server = server;
                self.pools = pools.into_iter().map(make_pool).collect();
            }
            Input::AddPool(spec) => {
                self.pools.retain(|p| p.name() != spec.name);
                self.pools.push(make_pool(spec));
            }
            Input::RemovePool(name) => self.pools.retain(|p| p.name() != name),
            Input::Attach { id, stdin } => {
                let effects = match self.pool(&id.pool) {
                    Some(p) => p.attached(&id.name, id.pid),
                    None => return,
                };
                self.writers
                    .insert((id.pool.clone(), id.name.clone()), writer(stdin));
                self.apply(&id.pool, effects);
            }
            Input::Output { id, data } => {
                let effects = match self.pool(&id.pool) {
                    Some(p) => p.output(&id.name, id.pid, &data),
                    None => return,
                };
                self.apply(&id.pool, effects);
            }
            Input::Views(reply) => {
                let _ = reply.send(self.pools.iter().map(Pool::view).collect());
            }
            Input::Subscribed => {}
        }
    }

    fn pool(&mut self, name: &str) -> Option<&mut Pool> {
        self.pools.iter_mut().find(|p| p.name() == name)
    }

    /// Hands `e` to the pools that subscribe to it; a listener's own state changes also move
    /// its protocol.
    fn event(&mut self, e: &Event) {
        if let Event::ProcessStateChanged {
            name, group, to, ..
        } = e
            && let Some(p) = self.pool(group)
        {
            let effects = p.state_changed(name, *to);
            if matches!(
                to,
                ProcessState::Exited | ProcessState::Stopped | ProcessState::Backoff
            ) {
                self.writers
                    .remove(&(Arc::from(group.as_str()), Arc::from(name.as_str())));
            }
            let pool: Arc<str> = Arc::from(group.as_str());
            self.apply(&pool, effects);
        }
        let t = e.event_type();
        if !self.pools.iter().any(|p| p.wants(t)) {
            return;
        }
        let serial = self.serial.map_or(0, |s| s.wrapping_add(1));
        self.serial = Some(serial);
        let rendered = Rendered {
            serial,
            name: t.name(),
            payload: Arc::from(e.payload()),
        };
        let mut all = Vec::new();
        for p in self.pools.iter_mut().filter(|p| p.wants(t)) {
            let name: Arc<str> = Arc::from(p.name());
            all.push((name, p.accept(rendered.clone())));
        }
        for (pool, effects) in all {
            self.apply(&pool, effects);
        }
    }

    fn dispatch(&mut self) {
        let server = self.server.clone();
        let mut all = Vec::new();
        for p in &mut self.pools {
            let effects = p.dispatch(&server);
            if !effects.is_empty() {
                all.push((Arc::<str>::from(p.name()), effects));
            }
        }
        for (pool, effects) in all {
            self.apply(&pool, effects);
        }
    }

    fn apply(&mut self, pool: &Arc<str>, effects: Vec<Effect>) {
        for e in effects {
            match e {
                Effect::Send { process, data } => {
                    if let Some(w) = self.writers.get(&(pool.clone(), process)) {
                        let _ = w.send(data);
                    }
                }
                Effect::Print(data) => {
                    let from: Arc<str> = Arc::from(format!("'{pool}' result_handler"));
                    crate::logging::console::write(false, &from, &data);
                }
                Effect::Log(Level::Debug, m) => debug!("{m}"),
                Effect::Log(Level::Warn, m) => warn!("{m}"),
                Effect::Log(Level::Error, m) => error!("{m}"),
            }
        }
    }
}

fn make_pool(spec: PoolSpec) -> Pool {
    Pool::new(
        &spec.name,
        spec.events,
        spec.buffer_size,
        spec.handler,
        spec.members,
    )
}

/// A listener's stdin: envelopes are written in order by a task of their own, so a listener
/// that does not read blocks nobody (it is sent one event at a time).
fn writer(stdin: OwnedFd) -> mpsc::UnboundedSender<String> {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let Ok(mut pipe) = pipe::Sender::from_owned_fd(stdin) else {
            return;
        };
        while let Some(data) = rx.recv().await {
            if let Err(e) = pipe.write_all(data.as_bytes()).await {
                debug!("can't write an event to a listener: {e}");
                break;
            }
        }
    });
    tx
}
