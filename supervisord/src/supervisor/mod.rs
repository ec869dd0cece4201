//! The supervisor actor: sole owner of the process table. Other tasks talk to it through
//! [`Handle`]; it never blocks on I/O and wakes only for commands, child exits and timers.

mod actor;
mod env;
mod handle;
mod table;

pub use actor::{Outcome, Supervisor};
pub use handle::{Command, DaemonStatus, Handle, ProcessInfo};

pub(crate) use table::wall_now;
