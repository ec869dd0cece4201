//! One child process: its state machine ([`state`]), the decisions around it ([`policy`]), how
//! it is spawned ([`spawn`]) and signalled ([`kill`]).

pub mod health;
pub mod kill;
pub mod policy;
pub mod spawn;
pub mod state;
