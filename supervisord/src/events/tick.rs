//! `TICK_5`, `TICK_60`, `TICK_3600`: one event when a wall-clock time slice of that period
//! begins, carrying the slice's start (supervisor's `tick`; the slice the daemon started in is
//! not announced).

use shared::events::TickPeriod;

/// The start of the `period`-second slice `now` (epoch seconds) is in.
pub fn slice(period: TickPeriod, now: u64) -> u64 {
    now - now % period.seconds()
}

/// The slices last announced, per period.
#[derive(Debug, Clone, Copy)]
pub struct Ticks {
    last: [u64; 3],
}

impl Ticks {
    pub fn new(now: u64) -> Ticks {
        Ticks {
            last: TickPeriod::ALL.map(|p| slice(p, now)),
        }
    }

    /// The ticks due at `now` (shortest period first), each with its slice's start.
    pub fn due(&mut self, now: u64) -> Vec<(TickPeriod, u64)> {
        let mut due = Vec::new();
        for (i, p) in TickPeriod::ALL.into_iter().enumerate() {
            let s = slice(p, now);
            if s != self.last[i] {
                self.last[i] = s;
                due.push((p, s));
            }
        }
        due
    }

    /// Seconds from `now` until the next slice of the shortest period begins.
    pub fn next_in(now_secs: f64) -> f64 {
        let p = TickPeriod::Five.seconds() as f64;
        p - now_secs.rem_euclid(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_tick_per_new_slice() {
        let mut t = Ticks::new(3599);
        assert_eq!(t.due(3599), vec![]);
        assert_eq!(
            t.due(3600),
            vec![
                (TickPeriod::Five, 3600),
                (TickPeriod::Sixty, 3600),
                (TickPeriod::Hour, 3600)
            ]
        );
        assert_eq!(t.due(3604), vec![]);
        // A late wakeup announces the slice it is in, once.
        assert_eq!(t.due(3611), vec![(TickPeriod::Five, 3610)]);
        assert_eq!(t.due(3611), vec![]);
        assert!((Ticks::next_in(3611.25) - 3.75).abs() < 1e-9);
    }
}
