//! A process's health as its liveness check reports it, and what each result leads to: a pure
//! function of the counts and thresholds, as Kubernetes' probes count them.

/// What clients see.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Health {
    /// No check configured, or the process is not RUNNING.
    #[default]
    NotChecked,
    /// RUNNING, and the check has not decided yet.
    Unknown,
    Healthy,
    /// With the last failure's reason.
    Unhealthy(String),
}

impl Health {
    /// The word status and metrics show (`None` when nothing is checked).
    pub fn word(&self) -> Option<&'static str> {
        match self {
            Health::NotChecked => None,
            Health::Unknown => Some("unknown"),
            Health::Healthy => Some("healthy"),
            Health::Unhealthy(_) => Some("unhealthy"),
        }
    }
}

/// The check's state for one run of a process (reset at every start).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tracker {
    pub health: Health,
    /// The check has passed since this start: dependents may start (readiness).
    pub ready: bool,
    passes: u32,
    fails: u32,
}

/// What one result changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing to do.
    Same,
    /// Healthy now; `first` when it is the first time since the start (the process is ready).
    Healthy { first: bool },
    /// Unhealthy now: the failure action is due.
    Unhealthy,
}

impl Tracker {
    pub fn started() -> Tracker {
        Tracker {
            health: Health::Unknown,
            ..Tracker::default()
        }
    }

    /// The run is over: nothing is checked until the next, but an unhealthy verdict stays
    /// visible (it says why the process was stopped or restarted).
    pub fn end_run(&mut self) {
        let health = match std::mem::take(&mut self.health) {
            h @ Health::Unhealthy(_) => h,
            _ => Health::NotChecked,
        };
        *self = Tracker {
            health,
            ..Tracker::default()
        };
    }

    pub fn record(
        &mut self,
        result: Result<(), String>,
        success_threshold: u32,
        failure_threshold: u32,
    ) -> Verdict {
        match result {
            Ok(()) => {
                self.fails = 0;
                self.passes = self.passes.saturating_add(1);
                // From Unknown one pass is enough (Kubernetes requires 1 for liveness too); after
                // a failure it takes success_threshold in a row.
                let enough = self.health == Health::Unknown || self.passes >= success_threshold;
                if self.health != Health::Healthy && enough {
                    self.health = Health::Healthy;
                    let first = !self.ready;
                    self.ready = true;
                    return Verdict::Healthy { first };
                }
                Verdict::Same
            }
            Err(reason) => {
                self.passes = 0;
                self.fails = self.fails.saturating_add(1);
                match &mut self.health {
                    Health::Unhealthy(r) => {
                        *r = reason;
                        Verdict::Same
                    }
                    _ if self.fails >= failure_threshold => {
                        self.health = Health::Unhealthy(reason);
                        Verdict::Unhealthy
                    }
                    _ => Verdict::Same,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run of results and the verdict after each, with success_threshold 2 and
    /// failure_threshold 3.
    #[test]
    fn results_and_verdicts() {
        use Verdict::*;
        let ok = || Ok(());
        let bad = || Err("refused".to_owned());
        let runs: &[&[(bool, Verdict)]] = &[
            &[(true, Healthy { first: true }), (true, Same), (true, Same)],
            &[
                (false, Same),
                (false, Same),
                (false, Unhealthy),
                (false, Same),
            ],
            &[
                (true, Healthy { first: true }),
                (false, Same),
                (false, Same),
                (true, Same),
                (false, Same),
                (false, Same),
                (false, Unhealthy),
                (true, Same),
                (true, Healthy { first: false }),
            ],
            // Failures short of the threshold keep it healthy and never unready it.
            &[
                (true, Healthy { first: true }),
                (false, Same),
                (false, Same),
                (true, Same),
            ],
        ];
        for run in runs {
            let mut t = Tracker::started();
            for (k, (pass, want)) in run.iter().enumerate() {
                let got = t.record(if *pass { ok() } else { bad() }, 2, 3);
                assert_eq!(&got, want, "step {k} of {run:?}");
            }
        }
    }

    #[test]
    fn readiness_is_the_first_pass_and_stays() {
        let mut t = Tracker::started();
        assert!(!t.ready);
        assert_eq!(t.health.word(), Some("unknown"));
        t.record(Ok(()), 1, 1);
        assert!(t.ready);
        t.record(Err("x".into()), 1, 1);
        assert_eq!(t.health, Health::Unhealthy("x".into()));
        assert!(t.ready);
        t.end_run();
        assert_eq!(t.health, Health::Unhealthy("x".into()));
        assert!(!t.ready);
        let mut healthy = Tracker::started();
        healthy.record(Ok(()), 1, 1);
        healthy.end_run();
        assert_eq!(healthy, Tracker::default());
        assert_eq!(Health::NotChecked.word(), None);
    }
}
