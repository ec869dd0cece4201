//! The supervisor actor: sole owner of the process table. Other tasks talk to it through
//! [`Handle`]; it never blocks on I/O and wakes only for commands, child exits and timers.

mod actor;
mod child_io;
mod env;
mod fcgi;
mod handle;
mod spawner;
mod table;

pub use actor::{Outcome, Supervisor};
pub(crate) use env::executable;
pub use handle::{Active, Changed, Command, ConfigEntry, DaemonStatus, Handle, ProcessInfo};
pub use spawner::{OsSpawner, Spawner};

pub(crate) use table::wall_now;
