//! Where the server is and who we are: `-s`, else `[supervisorctl] serverurl` of the `-c` file,
//! else of the config found in the usual places, else `http://localhost:9001`. Credentials from
//! `-u`/`-p`, else from that same `[supervisorctl]` section (even when `-s` is given, as Python's
//! supervisorctl does).

use std::path::PathBuf;

use shared::config::{CtlConfig, LoadOptions};

use crate::cli::Cli;

#[derive(Debug, Clone)]
pub(crate) struct Options {
    pub serverurl: String,
    pub username: Option<String>,
    pub password: Option<String>,
    pub prompt: String,
    pub history_file: Option<PathBuf>,
    /// CA certificates to trust for an `https://` server, instead of the system's.
    pub cafile: Option<PathBuf>,
}

impl Options {
    pub(crate) fn resolve(cli: &Cli) -> Result<Options, String> {
        let file = match &cli.config {
            Some(p) => {
                if !p.exists() {
                    return Err(format!("could not find config file {}", p.display()));
                }
                Some(p.clone())
            }
            None => shared::config::find_config(),
        };
        let ctl = match &file {
            Some(f) => shared::config::load_ctl(f, &LoadOptions::from_process())
                .map_err(|e| e.to_string())?,
            None => CtlConfig {
                prompt: "supervisor".into(),
                ..CtlConfig::default()
            },
        };
        Ok(Options {
            serverurl: cli
                .serverurl
                .clone()
                .or(ctl.serverurl)
                .unwrap_or_else(|| "http://localhost:9001".into()),
            username: cli.username.clone().or(ctl.username),
            password: cli.password.clone().or(ctl.password),
            prompt: ctl.prompt,
            history_file: cli.history_file.clone().or(ctl.history_file),
            cafile: cli.cafile.clone().or(ctl.cafile),
        })
    }
}
