//! supervisord-rs: a process control system compatible with Python's supervisord.
//!
//! # Layout
//! - [`supervisor`]: the actor that owns the process table, and its [`supervisor::Handle`].
//! - [`process`]: the state machine, spawning, signalling.
//! - [`reaper`]: the single `waitpid(-1)` loop (correct as PID 1).
//! - [`logging`]: the main log, child output capture, rotation.
//! - [`events`]: what the actor publishes.
//! - [`service`]: the one facade every protocol calls (domain types and faults).
//! - [`server`]: the listeners and the protocol adapters over the service (gRPC, XML-RPC,
//!   REST, the web GUI, /metrics).
//! - [`triggers`]: file watches, schedules and health probes, which act through the actor.
//! - [`daemon`]: startup and shutdown around the actor (pidfile, signals, reload).
//! - [`systemd`]: telling systemd (`Type=notify`) when the daemon is ready, reloading, stopping.
//! - [`system_service`]: `supervisord service install|uninstall|start|stop|status`.
//! - [`readiness`]: telling the shell that started the daemon in the background that it is up.

pub mod daemon;
pub mod events;
pub mod logging;
pub mod process;
pub mod readiness;
pub mod reaper;
pub mod server;
pub mod service;
pub mod supervisor;
pub mod system_service;
pub mod systemd;
pub mod triggers;

pub use daemon::{RunOptions, run};
