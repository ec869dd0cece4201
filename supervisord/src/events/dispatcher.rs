//! The task that owns the event listener pools: it numbers the events they take (the global
//! serial lives as long as the daemon; a pool's own serial starts over with the pool), feeds
//! their processes' output to the protocol, writes envelopes to their stdin, and announces
//! ticks while anyone wants them. It runs on a thread of its own: on the daemon's workers, an
//! event would wait behind whatever the actor does next (a fork and exec, for a restart), as a
//! task it wakes runs on the same worker once it yields.

use std::collections::HashMap;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use shared::ProcessState;
use shared::events::{EventType, TickPeriod};
use tokio::io::AsyncWriteExt;
use tokio::net::unix::pipe;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;
use tokio_util::sync::{CancellationToken, DropGuard};
use tracing::{debug, error, warn};

use super::Event;
use super::bus::{Input, ListenerId, PoolSpec};
use super::pool::{Effect, Level, Pool, Rendered};
use super::tick::Ticks;

/// How long a listener's output may still arrive after its exit, before the event it was
/// processing is sent again (supervisor reads what a process wrote before handling its exit;
/// here the exit and the output come by different paths). A grandchild holding the pipe open
/// is why there is a limit.
const FINAL_OUTPUT: Duration = Duration::from_secs(1);

/// A listener's stdin and the task writing to it (cancelled when the listener is gone, even
/// in the middle of a write nobody reads).
struct Writer {
    tx: mpsc::UnboundedSender<String>,
    _cancel: DropGuard,
}

pub struct Dispatcher {
    inputs: mpsc::UnboundedReceiver<Input>,
    /// Events of programs' output (bounded: their pumps wait).
    outputs: mpsc::Receiver<Event>,
    subscribers: broadcast::Sender<Event>,
    /// `[supervisord] identifier`, the envelope's `server:`.
    server: Arc<str>,
    pools: Vec<Pool>,
    /// The last global serial given (none yet: the first is 0).
    serial: Option<u64>,
    /// The stdin of each live listener process, by (pool, process).
    writers: HashMap<(Arc<str>, Arc<str>), Writer>,
    ticks: Ticks,
    /// Ticks were wanted at the last look.
    ticking: bool,
    /// Listeners that exited before their output ended: (deadline, pool, process, pid).
    finishing: Vec<(Instant, Arc<str>, Arc<str>, i32)>,
    /// Hands the dispatcher to its thread.
    starter: Option<oneshot::Sender<Dispatcher>>,
}

fn wall() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Starts the dispatcher's thread and its runtime, waiting for the dispatcher. Listeners'
/// stdout is read on that runtime too (the returned handle), next to their pools.
pub(super) fn thread() -> std::io::Result<(tokio::runtime::Handle, oneshot::Sender<Dispatcher>)> {
    let (handle_tx, handle_rx) = std::sync::mpsc::channel();
    let (start_tx, start_rx) = oneshot::channel::<Dispatcher>();
    std::thread::Builder::new()
        .name("events".into())
        .stack_size(512 * 1024)
        .spawn(move || {
            let rt = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(rt) => rt,
                Err(e) => {
                    let _ = handle_tx.send(Err(e));
                    return;
                }
            };
            let _ = handle_tx.send(Ok(rt.handle().clone()));
            rt.block_on(async move {
                // No dispatcher (the supervisor never ran): the thread just ends.
                if let Ok(d) = start_rx.await {
                    d.run().await;
                }
            });
        })?;
    let handle = handle_rx
        .recv()
        .map_err(|_| std::io::Error::other("the events thread ended at once"))??;
    Ok((handle, start_tx))
}

impl Dispatcher {
    pub(super) fn new(
        inputs: mpsc::UnboundedReceiver<Input>,
        outputs: mpsc::Receiver<Event>,
        subscribers: broadcast::Sender<Event>,
        starter: Option<oneshot::Sender<Dispatcher>>,
    ) -> Dispatcher {
        Dispatcher {
            inputs,
            outputs,
            subscribers,
            server: Arc::from("supervisor"),
            pools: Vec::new(),
            serial: None,
            writers: HashMap::new(),
            ticks: Ticks::new(wall() as u64),
            ticking: false,
            finishing: Vec::new(),
            starter,
        }
    }

    /// Runs the dispatcher on its thread (or, without one, as a task of the daemon's), until
    /// every [`super::Bus`] is gone.
    pub fn start(mut self) {
        match self.starter.take() {
            Some(tx) => {
                if let Err(d) = tx.send(self) {
                    tokio::spawn(d.run());
                }
            }
            None => {
                tokio::spawn(self.run());
            }
        }
    }

    async fn run(mut self) {
        loop {
            let wanted = self.ticks_wanted();
            if wanted && !self.ticking {
                // The slice this starts in is not announced (as at supervisor's start).
                self.ticks = Ticks::new(wall() as u64);
            }
            self.ticking = wanted;
            let next_tick = wanted
                .then(|| Instant::now() + Duration::from_secs_f64(Ticks::next_in(wall()) + 0.001));
            let deadline = self.finishing.iter().map(|f| f.0).chain(next_tick).min();
            let sleep = async {
                match deadline {
                    Some(at) => tokio::time::sleep_until(at).await,
                    None => std::future::pending().await,
                }
            };
            let input = tokio::select! {
                input = self.inputs.recv() => match input {
                    Some(i) => Some(i),
                    // Every bus is gone (the outputs' senders with them).
                    None => break,
                },
                Some(e) = self.outputs.recv() => Some(Input::Event(e)),
                () = sleep => None,
            };
            if let Some(input) = input {
                self.handle(input);
                // Take what else is there before dispatching: one pass for a burst.
                while let Ok(input) = self.inputs.try_recv() {
                    self.handle(input);
                }
                while let Ok(e) = self.outputs.try_recv() {
                    self.event(&e);
                }
            }
            // Whatever woke us, a slice may have begun and a listener's time may be up.
            if self.ticking {
                self.tick();
            }
            self.finish_due();
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
    }

    fn finish_due(&mut self) {
        let now = Instant::now();
        let due: Vec<_> = self.finishing.extract_if(.., |f| f.0 <= now).collect();
        for (_, pool, name, pid) in due {
            let effects = match self.pool(&pool) {
                Some(p) => p.output_ended(&name, pid),
                None => continue,
            };
            self.apply(&pool, effects);
        }
    }

    fn handle(&mut self, input: Input) {
        match input {
            Input::Event(e) => self.event(&e),
            Input::Reset { server } => {
                self.server = server;
                self.pools.clear();
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
            Input::Eof(ListenerId { pool, name, pid }) => {
                let effects = match self.pool(&pool) {
                    Some(p) => p.output_ended(&name, pid),
                    None => return,
                };
                self.finishing
                    .retain(|f| !(f.1 == pool && f.2 == name && f.3 == pid));
                self.apply(&pool, effects);
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

    /// Hands `e` to the pools that subscribe to it; then a listener's own state change moves
    /// its protocol (supervisor's order: a listener's exit is buffered before the event it was
    /// processing goes back to the head of the buffer).
    fn event(&mut self, e: &Event) {
        let t = e.event_type();
        if self.pools.iter().any(|p| p.wants(t)) {
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
        if let Event::ProcessStateChanged {
            name, group, to, ..
        } = e
            && let Some(p) = self.pool(group)
        {
            let (effects, waiting) = p.state_changed(name, *to);
            let pool: Arc<str> = Arc::from(group.as_str());
            let name: Arc<str> = Arc::from(name.as_str());
            if let Some(pid) = waiting {
                self.finishing.push((
                    Instant::now() + FINAL_OUTPUT,
                    pool.clone(),
                    name.clone(),
                    pid,
                ));
            }
            if matches!(
                to,
                ProcessState::Exited | ProcessState::Stopped | ProcessState::Backoff
            ) {
                self.writers.remove(&(pool.clone(), name));
            }
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
                        let _ = w.tx.send(data);
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
fn writer(stdin: OwnedFd) -> Writer {
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let cancel = CancellationToken::new();
    let gone = cancel.clone();
    tokio::spawn(async move {
        let Ok(mut pipe) = pipe::Sender::from_owned_fd(stdin) else {
            return;
        };
        loop {
            let data = tokio::select! {
                data = rx.recv() => data,
                () = gone.cancelled() => None,
            };
            let Some(data) = data else {
                return;
            };
            tokio::select! {
                r = pipe.write_all(data.as_bytes()) => {
                    if let Err(e) = r {
                        debug!("can't write an event to a listener: {e}");
                        return;
                    }
                }
                () = gone.cancelled() => return,
            }
        }
    });
    Writer {
        tx,
        _cancel: cancel.drop_guard(),
    }
}
