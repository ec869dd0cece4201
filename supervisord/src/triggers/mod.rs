//! What acts on processes besides clients: file changes ([`changes`]), schedules
//! ([`schedule`]), and the probes of health checks ([`probe`]). Each asks the actor through its
//! handle; the actor decides.

pub mod changes;
mod debounce;
pub mod probe;
pub mod schedule;

use tokio::task::JoinHandle;

use crate::supervisor::Handle;

/// The watcher and the scheduler: they follow the table until this is dropped.
pub struct Triggers(Vec<JoinHandle<()>>);

impl Triggers {
    pub fn start(handle: &Handle) -> Triggers {
        Triggers(vec![
            tokio::spawn(changes::run(handle.clone())),
            tokio::spawn(schedule::run(handle.clone())),
        ])
    }
}

impl Drop for Triggers {
    fn drop(&mut self) {
        for t in &self.0 {
            t.abort();
        }
    }
}
