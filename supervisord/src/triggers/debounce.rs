//! Turns a burst of file events into one action: a key is due once no event came for it during
//! the quiet period, or once it has waited ten quiet periods since its first event (a writer that
//! never pauses — a log being appended to — still gets acted on, at a bounded rate).

use std::collections::HashMap;
use std::hash::Hash;
use std::time::Duration;

use tokio::time::Instant;

/// How many quiet periods a key may be held back by events that keep coming.
const CAP: u32 = 10;

#[derive(Debug)]
struct Burst<D> {
    first: Instant,
    last: Instant,
    quiet: Duration,
    /// What the burst touched, as the caller describes it (kept for the log line).
    detail: D,
}

impl<D> Burst<D> {
    fn due(&self) -> Instant {
        (self.last + self.quiet).min(self.first + self.quiet * CAP)
    }
}

#[derive(Debug)]
pub(crate) struct Debouncer<K, D> {
    pending: HashMap<K, Burst<D>>,
}

impl<K: Eq + Hash + Clone, D: Default> Debouncer<K, D> {
    pub(crate) fn new() -> Self {
        Debouncer {
            pending: HashMap::new(),
        }
    }

    /// Records an event for `key` at `now`; `note` adds to what the burst touched.
    pub(crate) fn event(
        &mut self,
        key: K,
        now: Instant,
        quiet: Duration,
        note: impl FnOnce(&mut D),
    ) {
        let burst = self.pending.entry(key).or_insert_with(|| Burst {
            first: now,
            last: now,
            quiet,
            detail: D::default(),
        });
        burst.last = now;
        burst.quiet = quiet;
        note(&mut burst.detail);
    }

    /// When the earliest pending key is due.
    pub(crate) fn next_due(&self) -> Option<Instant> {
        self.pending.values().map(Burst::due).min()
    }

    /// The keys due at `now`, each with what its burst touched; they are forgotten.
    pub(crate) fn take_due(&mut self, now: Instant) -> Vec<(K, D)> {
        let due: Vec<K> = self
            .pending
            .iter()
            .filter(|(_, b)| b.due() <= now)
            .map(|(k, _)| k.clone())
            .collect();
        due.into_iter()
            .filter_map(|k| self.pending.remove(&k).map(|b| (k, b.detail)))
            .collect()
    }

    /// Drops what is pending for keys `keep` refuses (a program that left the configuration).
    pub(crate) fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.pending.retain(|k, _| keep(k));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const Q: Duration = Duration::from_millis(500);

    fn ms(base: Instant, n: u64) -> Instant {
        base + Duration::from_millis(n)
    }

    /// (event times in ms, check time, expected to be due)
    #[test]
    fn a_key_is_due_after_quiet_or_after_the_cap() {
        let cases: &[(&[u64], u64, bool)] = &[
            (&[0], 499, false),
            (&[0], 500, true),
            (&[0, 400], 800, false),
            (&[0, 400], 900, true),
            // A burst of 200 events 10 ms apart: due 500 ms after the last.
            (&[0, 10, 20, 1990], 2489, false),
            (&[0, 10, 20, 1990], 2490, true),
            // Events that never pause: due ten quiet periods after the first.
            (
                &[
                    0, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200, 3600, 4000, 4400, 4800,
                ],
                4999,
                false,
            ),
            (
                &[
                    0, 400, 800, 1200, 1600, 2000, 2400, 2800, 3200, 3600, 4000, 4400, 4800,
                ],
                5000,
                true,
            ),
        ];
        for (events, at, due) in cases {
            let base = Instant::now();
            let mut d: Debouncer<&str, Vec<u64>> = Debouncer::new();
            for &e in *events {
                d.event("p", ms(base, e), Q, |v| v.push(e));
            }
            let taken = d.take_due(ms(base, *at));
            assert_eq!(!taken.is_empty(), *due, "events {events:?} at {at}");
            if *due {
                assert_eq!(taken, vec![("p", events.to_vec())]);
                assert_eq!(d.next_due(), None);
            } else {
                assert!(d.next_due().is_some_and(|t| t > ms(base, *at)));
            }
        }
    }

    #[test]
    fn keys_are_independent_and_taken_once() {
        let base = Instant::now();
        let mut d: Debouncer<&str, ()> = Debouncer::new();
        d.event("a", base, Q, |_| {});
        d.event("b", ms(base, 300), Q, |_| {});
        assert_eq!(d.next_due(), Some(ms(base, 500)));
        assert_eq!(d.take_due(ms(base, 600)), vec![("a", ())]);
        assert!(d.take_due(ms(base, 600)).is_empty());
        assert_eq!(d.next_due(), Some(ms(base, 800)));
        d.retain(|k| *k != "b");
        assert_eq!(d.next_due(), None);
    }
}
