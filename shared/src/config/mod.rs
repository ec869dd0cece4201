//! supervisord.conf: reading files (with `[include]`), turning sections into [`Config`], and
//! validating it before anything starts. Errors and warnings name file, line, section and key.

mod diagnostic;
mod extensions;
mod kinds;
mod load;
mod logging;
mod model;
mod overrides;
mod program;
mod reader;
mod search;
mod sections;
mod validate;

#[cfg(test)]
mod manual_tests;

pub use diagnostic::{ConfigErrors, Diagnostic};
pub use load::{LoadOptions, load, load_ctl, load_str};
pub use model::*;
pub use overrides::Overrides;
pub use search::{find_config, search_paths};
pub use sections::main_log;
