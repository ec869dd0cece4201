//! The actions. [`Ctl::onecmd`] runs one command line, as Python's `onecmd` does, and records
//! the exit status.

mod avail;
mod config;
mod control;
mod daemon;
mod events;
mod help;
mod logs;
mod pid;
mod status;

use proto::v1;
use shared::Fault;

use crate::client::{self, Api, CallError};
use crate::options::Options;
use crate::output;

pub(crate) use help::{COMMAND_LINE_ONLY, COMMANDS, EXTRA_COMMANDS, texts as help_texts};

/// Every action a command line may start with (for completion scripts).
pub(crate) fn actions() -> impl Iterator<Item = &'static str> {
    COMMANDS
        .iter()
        .chain(EXTRA_COMMANDS)
        .chain(COMMAND_LINE_ONLY)
        .copied()
}

/// The client's state across commands (one in command mode, many in the shell).
pub(crate) struct Ctl {
    pub opts: Options,
    pub json: bool,
    /// In the shell: confirmations are asked, and failures do not end anything.
    pub interactive: bool,
    /// The last call was refused for its credentials.
    auth_failed: bool,
    pub exitstatus: i32,
    api: Option<Api>,
}

/// A call's failure, already reported to the user: commands just return.
pub(crate) struct Reported;

impl Ctl {
    pub(crate) fn new(opts: Options, json: bool) -> Ctl {
        Ctl {
            opts,
            json,
            interactive: false,
            auth_failed: false,
            exitstatus: 0,
            api: None,
        }
    }

    pub(crate) fn output(&self, s: &str) {
        println!("{s}");
    }

    /// What to check next, on stderr so stdout stays what Python's supervisorctl prints.
    fn hint(&self, s: &str) {
        eprintln!("hint: {s}");
    }

    /// The API client (connects lazily; reused).
    pub(crate) fn api(&mut self) -> Result<Api, Reported> {
        if let Some(a) = &self.api {
            return Ok(a.clone());
        }
        match client::connect(
            &self.opts.serverurl,
            self.opts.username.as_deref(),
            self.opts.password.as_deref(),
            self.opts.cafile.as_deref(),
        ) {
            Ok(a) => {
                self.api = Some(a.clone());
                Ok(a)
            }
            Err(e) => {
                self.output(&format!("error: {e}"));
                self.exitstatus = output::GENERIC;
                Err(Reported)
            }
        }
    }

    /// Reports a failed call that is not a fault the command handles itself.
    pub(crate) fn report(&mut self, e: CallError) -> Reported {
        let url = self.opts.serverurl.clone();
        match e {
            CallError::NoSuchFile => {
                self.output(&format!("{url} no such file"));
                self.hint("is supervisord running? Its socket is [unix_http_server] file= of its config; give the same path with -s or [supervisorctl] serverurl");
                self.exitstatus = output::NOT_RUNNING;
            }
            CallError::Refused => {
                self.output(&format!("{url} refused connection"));
                self.hint("is supervisord running, with [inet_http_server] port= (or [unix_http_server] file=) matching this URL? Without -s the client uses [supervisorctl] serverurl, else http://localhost:9001");
                self.exitstatus = output::INSUFFICIENT_PRIVILEGES;
            }
            CallError::PermissionDenied => {
                self.output(&format!(
                    "{url} permission denied (check the socket's chmod and chown in [unix_http_server], and who you are)"
                ));
                self.exitstatus = output::GENERIC;
            }
            CallError::Auth => {
                self.auth_failed = true;
                self.output("Server requires authentication");
                self.output(&format!(
                    "error: {url} refused the credentials (give -u USER -p PASS, or username/password in [supervisorctl])"
                ));
                self.exitstatus = output::GENERIC;
            }
            CallError::Fault(Fault::ShutdownState) => {
                self.output("ERROR: supervisor shutting down");
                self.exitstatus = output::GENERIC;
            }
            CallError::Fault(f) => {
                self.output(&format!("error: {f}"));
                self.exitstatus = output::GENERIC;
            }
            CallError::Tls(m) => {
                self.output(&format!("error: {url}: TLS: {m}"));
                self.hint("a server with a private certificate needs its CA: --cafile FILE, or cafile= in [supervisorctl]");
                self.exitstatus = output::GENERIC;
            }
            CallError::Other(m) => {
                self.output(&format!("error: {url}: {m}"));
                if url.starts_with("http://")
                    && (m.contains("protocol error") || m.contains("canceled"))
                {
                    // What an HTTPS port's plain-text refusal looks like to an HTTP/2 client
                    // (which of the two depends on who is first: its preface or the close).
                    self.hint("if the server's port serves HTTPS ([inet_http_server] certfile=), use an https:// URL");
                }
                self.exitstatus = output::GENERIC;
            }
        }
        Reported
    }

    /// supervisorctl's `upcheck`: the server answers and speaks API 3.0.
    pub(crate) async fn upcheck(&mut self) -> Result<Api, Reported> {
        let mut api = self.api()?;
        match api.get_version(v1::GetVersionRequest {}).await {
            Ok(r) => {
                let v = r.into_inner().api_version;
                if v != "3.0" {
                    self.output(&format!("Sorry, this version of supervisorctl expects to talk to a server with API version 3.0, but the remote version is {v}."));
                    self.exitstatus = 5;
                    return Err(Reported);
                }
                Ok(api)
            }
            Err(st) if st.code() == tonic::Code::Unimplemented => {
                self.output("Sorry, supervisord responded but did not recognize the supervisor namespace commands that supervisorctl uses to control it.  Please check that the [rpcinterface:supervisor] section is enabled in the configuration file (see sample.conf).");
                self.exitstatus = output::UNIMPLEMENTED;
                Err(Reported)
            }
            Err(st) => Err(self.report(client::classify(st))),
        }
    }

    /// Runs one action; after an authentication failure at a terminal, asks for credentials and
    /// runs it once more.
    pub(crate) async fn onecmd(&mut self, words: &[String]) {
        self.auth_failed = false;
        self.run_action(words).await;
        if self.auth_failed && self.prompt_credentials() {
            self.auth_failed = false;
            self.exitstatus = 0;
            self.run_action(words).await;
        }
    }

    async fn run_action(&mut self, words: &[String]) {
        let Some((verb, args)) = words.split_first() else {
            return;
        };
        let args: Vec<String> = args.to_vec();
        let _ = match verb.as_str() {
            "status" => status::run(self, &args).await,
            "start" => control::start(self, &args).await,
            "stop" => control::stop(self, &args).await,
            "restart" => control::restart(self, &args).await,
            "signal" => control::signal(self, &args).await,
            "pid" => pid::run(self, &args).await,
            "events" => events::run(self, &args).await,
            "tail" => logs::tail(self, &args).await,
            "maintail" => logs::maintail(self, &args).await,
            "fg" => logs::fg(self, &args).await,
            "clear" => logs::clear(self, &args).await,
            "avail" => avail::run(self, &args).await,
            "reload" => daemon::reload(self, &args).await,
            "shutdown" => daemon::shutdown(self, &args).await,
            "version" => daemon::version(self, &args).await,
            "reread" => config::reread(self, &args).await,
            "update" => config::update(self, &args).await,
            "add" => config::add(self, &args).await,
            "remove" => config::remove(self, &args).await,
            "help" => {
                help::run(self, &args);
                Ok(())
            }
            "open" => {
                if self.open(&args) {
                    let before = self.exitstatus;
                    let _ = status::run(self, &[]).await;
                    self.exitstatus = before;
                }
                Ok(())
            }
            "quit" | "exit" | "EOF" => {
                self.output("");
                Ok(())
            }
            other => {
                self.output(&format!("*** Unknown syntax: {}", words.join(" ")));
                let _ = other;
                self.exitstatus = output::GENERIC;
                Ok(())
            }
        };
    }

    fn open(&mut self, args: &[String]) -> bool {
        let url = args.first().map_or("", String::as_str);
        if !["http://", "https://", "unix://"]
            .iter()
            .any(|s| url.starts_with(s))
        {
            self.output("ERROR: url must be http://, https:// or unix://");
            self.exitstatus = output::GENERIC;
            return false;
        }
        self.opts.serverurl = url.to_owned();
        self.api = None;
        true
    }

    /// After an authentication failure at a terminal: ask for credentials, to retry with.
    pub(crate) fn prompt_credentials(&mut self) -> bool {
        use std::io::IsTerminal;
        if !std::io::stdin().is_terminal() {
            return false;
        }
        let user = match &self.opts.username {
            Some(u) => u.clone(),
            None => {
                let mut rl = match rustyline::DefaultEditor::new() {
                    Ok(r) => r,
                    Err(_) => return false,
                };
                match rl.readline("Username:") {
                    Ok(u) => u.trim().to_owned(),
                    Err(_) => return false,
                }
            }
        };
        let Ok(pass) = rpassword::prompt_password("Password:") else {
            return false;
        };
        self.output("");
        self.opts.username = Some(user);
        self.opts.password = Some(pass);
        self.api = None;
        true
    }
}
