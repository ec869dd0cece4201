//! `reload`, `shutdown`, `version`: the daemon itself.

use proto::v1;
use shared::Fault;

use super::{Ctl, Reported, help};
use crate::client::{self, CallError};
use crate::output;

fn confirm(ctl: &Ctl, question: &str) -> bool {
    if !ctl.interactive {
        return true;
    }
    let mut rl = match rustyline::DefaultEditor::new() {
        Ok(r) => r,
        Err(_) => return false,
    };
    rl.readline(question)
        .map(|a| a.trim().to_lowercase().starts_with('y'))
        .unwrap_or(false)
}

fn gone(ctl: &mut Ctl, e: CallError) -> Reported {
    let url = ctl.opts.serverurl.clone();
    match e {
        CallError::Refused => {
            ctl.output(&format!(
                "ERROR: {url} refused connection (already shut down?)"
            ));
            ctl.exitstatus = output::GENERIC;
            Reported
        }
        CallError::NoSuchFile => {
            ctl.output(&format!("ERROR: {url} no such file (already shut down?)"));
            ctl.exitstatus = output::GENERIC;
            Reported
        }
        CallError::Fault(Fault::ShutdownState) => {
            ctl.output("ERROR: already shutting down");
            Reported
        }
        e => ctl.report(e),
    }
}

pub(crate) async fn shutdown(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    if !args.is_empty() {
        ctl.output("Error: shutdown accepts no arguments");
        ctl.exitstatus = output::GENERIC;
        help::show(ctl, "shutdown");
        return Ok(());
    }
    if !confirm(ctl, "Really shut the remote supervisord process down y/N? ") {
        return Ok(());
    }
    let mut api = ctl.api()?;
    match api.shutdown(v1::ShutdownRequest {}).await {
        Ok(_) => {
            ctl.output("Shut down");
            Ok(())
        }
        Err(st) => Err(gone(ctl, client::classify(st))),
    }
}

pub(crate) async fn reload(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    if !args.is_empty() {
        ctl.output("Error: reload accepts no arguments");
        ctl.exitstatus = output::GENERIC;
        help::show(ctl, "reload");
        return Ok(());
    }
    if !confirm(ctl, "Really restart the remote supervisord process y/N? ") {
        return Ok(());
    }
    let mut api = ctl.api()?;
    match api.restart(v1::RestartRequest {}).await {
        Ok(_) => {
            ctl.output("Restarted supervisord");
            Ok(())
        }
        Err(st) => match client::classify(st) {
            CallError::Fault(Fault::Failed(why)) => {
                ctl.output(&format!("ERROR: {why}"));
                ctl.exitstatus = output::GENERIC;
                Err(Reported)
            }
            e => {
                let r = gone(ctl, e);
                ctl.exitstatus = output::GENERIC;
                Err(r)
            }
        },
    }
}

pub(crate) async fn version(ctl: &mut Ctl, args: &[String]) -> Result<(), Reported> {
    if !args.is_empty() {
        ctl.output("Error: version accepts no arguments");
        ctl.exitstatus = output::GENERIC;
        help::show(ctl, "version");
        return Ok(());
    }
    let mut api = ctl.upcheck().await?;
    match api.get_version(v1::GetVersionRequest {}).await {
        Ok(r) => {
            ctl.output(&r.into_inner().supervisor_version);
            Ok(())
        }
        Err(st) => Err(ctl.report(client::classify(st))),
    }
}
