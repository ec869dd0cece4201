//! `cron=`: each scheduled process is offered a start at each tick of its schedule (the actor
//! starts it unless it runs). Ticks are computed in local time from the table in force, so a
//! reload or an `update` takes effect at once. The task sleeps until the next tick, waking at
//! least once a minute so a change of the system clock shifts the ticks with it.

use std::sync::Arc;
use std::time::Duration;

use chrono::{Local, NaiveDateTime, TimeZone};
use shared::cron::Schedule;
use tracing::debug;

use crate::supervisor::{Active, Handle};

/// The longest sleep: the clock may have been changed meanwhile.
const MAX_SLEEP: Duration = Duration::from_secs(60);

struct Entry {
    full_name: String,
    schedule: Schedule,
    next: Option<NaiveDateTime>,
}

/// The schedules of `active`; one that was there before with the same schedule keeps its next
/// tick (an `@every 1h` is not put off by each `update`).
fn entries(active: &Active, now: NaiveDateTime, before: &[Entry]) -> Vec<Entry> {
    active
        .processes
        .iter()
        .filter_map(|p| {
            let schedule = p.cron.clone()?;
            let full_name = p.full_name();
            let next = match before
                .iter()
                .find(|e| e.full_name == full_name && e.schedule == schedule)
            {
                Some(e) => e.next,
                None => schedule.next_after(now),
            };
            Some(Entry {
                full_name,
                schedule,
                next,
            })
        })
        .collect()
}

/// Local wall-clock time, to the second.
fn now() -> NaiveDateTime {
    Local::now().naive_local()
}

/// How long from `now` until `t` (local time; a time in a DST gap is taken as its later
/// reading, one that is ambiguous as its earlier).
fn until(t: NaiveDateTime) -> Duration {
    let at = Local.from_local_datetime(&t).earliest().or_else(|| {
        Local
            .from_local_datetime(&(t + chrono::Duration::hours(1)))
            .earliest()
    });
    match at {
        Some(at) => (at - Local::now()).to_std().unwrap_or_default(),
        // A gap of more than an hour (a rare zone change): look again later.
        None => MAX_SLEEP,
    }
}

pub async fn run(handle: Handle) {
    let mut active = handle.active();
    let mut table: Arc<Active> = active.borrow_and_update().clone();
    let mut list = entries(&table, now(), &[]);
    loop {
        let next = list.iter().filter_map(|e| e.next).min();
        let sleep = next.map_or(Duration::MAX, |t| until(t).min(MAX_SLEEP));
        tokio::select! {
            changed = active.changed() => {
                if changed.is_err() {
                    return;
                }
                table = active.borrow_and_update().clone();
                list = entries(&table, now(), &list);
            }
            _ = tokio::time::sleep(sleep), if next.is_some() => {
                let t = now();
                for e in &mut list {
                    match e.next {
                        Some(n) if n <= t => {
                            debug!("cron tick for {}", e.full_name);
                            handle.scheduled(e.full_name.clone()).await;
                            e.next = e.schedule.next_after(t);
                        }
                        // The clock went back more than a tick's distance: start again from now.
                        Some(n) if e.schedule.next_after(t).is_some_and(|m| m < n) => {
                            e.next = e.schedule.next_after(t);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}
