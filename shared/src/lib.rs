//! What the daemon and the client both need: the config model and its parser, process and
//! daemon states, faults with supervisor's codes, and signal names.
//!
//! # Layout
//! - [`ini`]: the ConfigParser dialect supervisor reads (syntax only).
//! - [`values`]: the value syntax of each option type.
//! - [`expand`]: `%(name)s` expansions.
//! - [`config`]: sections → [`config::Config`], validated, with located errors.
//! - [`state`], [`fault`], [`signals`], [`events`]: supervisor's vocabulary.
//! - [`names`]: which processes a name selects.
//! - [`cron`]: `cron=` schedules.

pub mod base64;
pub mod config;
pub mod cron;
pub mod events;
pub mod expand;
pub mod fault;
pub mod ini;
pub mod json;
pub mod names;
pub mod signals;
pub mod state;
pub mod values;

pub use fault::Fault;
pub use state::{ProcessState, SupervisorState};
