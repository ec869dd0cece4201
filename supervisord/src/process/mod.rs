//! One child process: its state machine ([`state`]), how it is spawned ([`spawn`]) and
//! signalled ([`kill`]).

pub mod kill;
pub mod spawn;
pub mod state;
