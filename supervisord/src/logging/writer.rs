//! A writer thread behind a bounded queue, for outputs that can stall: the daemon's stdout and
//! stderr (a paused terminal, a container log driver that stopped reading), syslog servers, the
//! main log file. Handing data over never blocks: beyond the queue's capacity it is dropped and
//! counted, and so is what the output refuses. A drop is never silent: the first one is
//! reported in the main log at once, and the totals when the output works again (or at exit).
//!
//! Child log files are not written here: their pump writes them, and a slow disk slows only that
//! child, whose pipe fills (a file never loses output).

use std::collections::VecDeque;
use std::io;
use std::sync::mpsc as std_mpsc;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

/// Something a [`Writer`] writes to.
pub trait Target: Send + 'static {
    /// Writes one item whole, or fails (the item is then counted as dropped).
    fn write(&mut self, data: &[u8]) -> io::Result<()>;
}

type Job<T> = Box<dyn FnOnce(&mut T) + Send>;

enum Item<T> {
    Data { from: Arc<str>, data: Box<[u8]> },
    Run(Job<T>),
}

struct Queue<T> {
    items: VecDeque<Item<T>>,
    /// Bytes of data in `items`.
    bytes: usize,
    /// The thread is writing a batch.
    busy: bool,
    /// Data dropped since the output last worked, by who sent it.
    dropped: Vec<(Arc<str>, u64)>,
    /// The queue overflowed, or the output failed, and that is not reported as over yet.
    trouble: bool,
}

struct Shared<T> {
    /// What the output is, for reports ("the daemon's stdout").
    name: String,
    capacity: usize,
    queue: Mutex<Queue<T>>,
    /// Work arrived.
    work: Condvar,
    /// The queue became empty and nothing is being written.
    idle: Condvar,
}

/// A handle to one writer thread. Cheap to clone.
pub struct Writer<T: Target> {
    shared: Arc<Shared<T>>,
}

impl<T: Target> Clone for Writer<T> {
    fn clone(&self) -> Self {
        Writer {
            shared: self.shared.clone(),
        }
    }
}

/// Writer threads only copy bytes: a small stack is plenty, and keeps the idle daemon small.
const STACK: usize = 128 * 1024;

impl<T: Target> Writer<T> {
    /// Starts the thread. `name` says what the output is, for reports.
    pub fn start(name: impl Into<String>, target: T, capacity: usize) -> io::Result<Writer<T>> {
        let shared = Arc::new(Shared {
            name: name.into(),
            capacity,
            queue: Mutex::new(Queue {
                items: VecDeque::new(),
                bytes: 0,
                busy: false,
                dropped: Vec::new(),
                trouble: false,
            }),
            work: Condvar::new(),
            idle: Condvar::new(),
        });
        let s = shared.clone();
        std::thread::Builder::new()
            .name("supervisord-writer".into())
            .stack_size(STACK)
            .spawn(move || run(&s, target))?;
        Ok(Writer { shared })
    }

    fn lock(&self) -> MutexGuard<'_, Queue<T>> {
        lock(&self.shared.queue)
    }

    /// Queues `data` (sent by `from`, for drop reports), or drops it if the queue is full.
    pub fn write(&self, from: &Arc<str>, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let mut q = self.lock();
        if q.bytes + data.len() > self.shared.capacity {
            count(&mut q.dropped, from, data.len());
            if !q.trouble {
                q.trouble = true;
                drop(q);
                report(Report::Overflow {
                    name: self.shared.name.clone(),
                });
            }
            return;
        }
        q.bytes += data.len();
        q.items.push_back(Item::Data {
            from: from.clone(),
            data: data.into(),
        });
        drop(q);
        self.shared.work.notify_one();
    }

    /// Runs `f` on the target in the writer thread, after what is queued.
    pub fn run(&self, f: impl FnOnce(&mut T) + Send + 'static) {
        self.lock().items.push_back(Item::Run(Box::new(f)));
        self.shared.work.notify_one();
    }

    /// Runs `f` on the target in the writer thread; its result arrives on the receiver.
    pub fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(&mut T) -> R + Send + 'static,
    ) -> oneshot::Receiver<R> {
        let (tx, rx) = oneshot::channel();
        self.run(move |t| {
            let _ = tx.send(f(t));
        });
        rx
    }

    /// Waits until everything queued so far is written, for at most `limit`; then reports what
    /// was dropped and not reported yet (at exit). Returns whether everything was written.
    pub fn flush(&self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        self.wait_idle(deadline);
        let dropped = {
            let mut q = self.lock();
            q.trouble = false;
            std::mem::take(&mut q.dropped)
        };
        if !dropped.is_empty() {
            // At exit the reporting thread may not get to it: report from here, then give the
            // report (which may be queued here, when this writes the main log) its chance.
            log(Report::Dropped {
                name: self.shared.name.clone(),
                dropped,
                recovered: false,
            });
        }
        self.wait_idle(deadline)
    }

    /// Waits until nothing is queued or being written, or `deadline`; returns which.
    fn wait_idle(&self, deadline: Instant) -> bool {
        let mut q = self.lock();
        while !q.items.is_empty() || q.busy {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            q = match self.shared.idle.wait_timeout(q, left) {
                Ok((q, _)) => q,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }
}

fn lock<Q>(m: &Mutex<Q>) -> MutexGuard<'_, Q> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn count(dropped: &mut Vec<(Arc<str>, u64)>, from: &Arc<str>, n: usize) {
    match dropped.iter_mut().find(|(f, _)| f == from) {
        Some((_, total)) => *total += n as u64,
        None => dropped.push((from.clone(), n as u64)),
    }
}

/// The thread: takes everything queued, writes it without holding the lock, repeats.
fn run<T: Target>(shared: &Shared<T>, mut target: T) {
    loop {
        let batch = {
            let mut q = lock(&shared.queue);
            while q.items.is_empty() {
                q.busy = false;
                shared.idle.notify_all();
                q = match shared.work.wait(q) {
                    Ok(q) => q,
                    Err(p) => p.into_inner(),
                };
            }
            q.busy = true;
            q.bytes = 0;
            std::mem::take(&mut q.items)
        };
        let mut failed: Vec<(Arc<str>, usize)> = Vec::new();
        let mut error = None;
        let mut wrote = false;
        for item in batch {
            match item {
                Item::Data { from, data } => match target.write(&data) {
                    Ok(()) => wrote = true,
                    Err(e) => {
                        failed.push((from, data.len()));
                        error = Some(e);
                    }
                },
                Item::Run(f) => f(&mut target),
            }
        }
        let mut q = lock(&shared.queue);
        for (from, n) in &failed {
            count(&mut q.dropped, from, *n);
        }
        if let Some(e) = error
            && !q.trouble
        {
            q.trouble = true;
            drop(q);
            report(Report::Failed {
                name: shared.name.clone(),
                error: e.to_string(),
            });
        } else if wrote && failed.is_empty() && q.trouble && q.bytes < shared.capacity / 2 {
            q.trouble = false;
            let dropped = std::mem::take(&mut q.dropped);
            drop(q);
            report(Report::Dropped {
                name: shared.name.clone(),
                dropped,
                recovered: true,
            });
        }
    }
}

/// What the main log is told about an output's trouble.
enum Report {
    Overflow {
        name: String,
    },
    Failed {
        name: String,
        error: String,
    },
    Dropped {
        name: String,
        dropped: Vec<(Arc<str>, u64)>,
        recovered: bool,
    },
}

/// Reports go through a thread of their own: whoever noticed the trouble may hold locks the
/// main log needs (the main log itself writes through writers).
fn report(r: Report) {
    static REPORTS: OnceLock<Option<std_mpsc::Sender<Report>>> = OnceLock::new();
    let tx = REPORTS.get_or_init(|| {
        let (tx, rx) = std_mpsc::channel::<Report>();
        std::thread::Builder::new()
            .name("supervisord-reports".into())
            .stack_size(STACK)
            .spawn(move || {
                for r in rx {
                    log(r);
                }
            })
            .ok()
            .map(|_| tx)
    });
    match tx {
        Some(tx) => {
            let _ = tx.send(r);
        }
        None => log(r),
    }
}

fn log(r: Report) {
    match r {
        Report::Overflow { name } => tracing::warn!(
            "{name} is not keeping up (nothing reads it, or too slowly): what is sent to it is dropped until it does; the programs keep running"
        ),
        Report::Failed { name, error } => tracing::error!(
            "{name}: {error}: what is sent to it is dropped until it works again; the programs keep running"
        ),
        Report::Dropped {
            name,
            dropped,
            recovered,
        } => {
            let total: u64 = dropped.iter().map(|(_, n)| n).sum();
            let from: Vec<String> = dropped
                .iter()
                .map(|(f, n)| format!("{n} from {f}"))
                .collect();
            let now = if recovered { "works again; " } else { "" };
            tracing::warn!(
                "{name} {now}{total} bytes sent to it were dropped ({})",
                from.join(", ")
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A target that blocks until released, and records what it wrote.
    struct Gate {
        open: Arc<(Mutex<bool>, Condvar)>,
        written: Arc<Mutex<Vec<u8>>>,
    }

    impl Target for Gate {
        fn write(&mut self, data: &[u8]) -> io::Result<()> {
            let (m, cv) = &*self.open;
            let mut open = lock(m);
            while !*open {
                open = cv.wait(open).unwrap_or_else(|p| p.into_inner());
            }
            lock(&self.written).extend_from_slice(data);
            Ok(())
        }
    }

    #[test]
    fn a_stalled_output_never_blocks_the_writer_and_drops_are_counted() {
        let open = Arc::new((Mutex::new(false), Condvar::new()));
        let written = Arc::new(Mutex::new(Vec::new()));
        let target = Gate {
            open: open.clone(),
            written: written.clone(),
        };
        let w = Writer::start("test output", target, 100).expect("thread");
        let from: Arc<str> = Arc::from("'web' stdout");
        let started = Instant::now();
        // The first item is taken by the thread and blocks there; 100 more bytes fit the queue.
        for _ in 0..50 {
            w.write(&from, b"0123456789");
        }
        assert!(started.elapsed() < Duration::from_secs(5), "never blocks");
        let dropped: u64 = lock(&w.shared.queue).dropped.iter().map(|(_, n)| n).sum();
        // At most one batch in the thread and a queue's worth waiting: the rest is dropped.
        assert!(dropped >= 300, "{dropped}");
        *lock(&open.0) = true;
        open.1.notify_all();
        assert!(w.flush(Duration::from_secs(30)));
        w.write(&from, b"after");
        assert!(w.flush(Duration::from_secs(30)));
        let got = lock(&written).clone();
        assert!(got.ends_with(b"after"));
        // Everything sent was either written or counted as dropped.
        assert_eq!(got.len() as u64 + dropped, 500 + 5);
        assert!(
            lock(&w.shared.queue).dropped.is_empty(),
            "reported by flush"
        );
    }

    #[test]
    fn jobs_run_in_order_with_the_data() {
        struct Log(Vec<u8>);
        impl Target for Log {
            fn write(&mut self, data: &[u8]) -> io::Result<()> {
                self.0.extend_from_slice(data);
                Ok(())
            }
        }
        let w = Writer::start("log", Log(Vec::new()), 1 << 20).expect("thread");
        let from: Arc<str> = Arc::from("x");
        w.write(&from, b"a");
        w.run(|t| t.0.clear());
        w.write(&from, b"b");
        let rx = w.call(|t| t.0.clone());
        assert_eq!(rx.blocking_recv().expect("answer"), b"b");
    }
}
