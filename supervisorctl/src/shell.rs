//! The interactive shell: prompt from `[supervisorctl] prompt`, line editing, persistent history,
//! completion of actions and process names. Lines are split like a shell and run as actions.

use rustyline::completion::{Completer, Pair};
use rustyline::error::ReadlineError;
use rustyline::history::DefaultHistory;
use rustyline::{Context, Editor, Helper, Highlighter, Hinter, Validator};

use crate::commands::{COMMANDS, Ctl, EXTRA_COMMANDS};

#[derive(Helper, Highlighter, Hinter, Validator)]
struct Complete {
    names: Vec<String>,
}

impl Completer for Complete {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        _ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let start = before.rfind(' ').map_or(0, |i| i + 1);
        let word = &before[start..];
        let pool: Vec<String> = if start == 0 {
            COMMANDS
                .iter()
                .chain(EXTRA_COMMANDS)
                .map(|s| s.to_string())
                .collect()
        } else {
            let mut v = self.names.clone();
            v.push("all".into());
            v
        };
        let candidates = pool
            .into_iter()
            .filter(|c| c.starts_with(word))
            .map(|c| Pair {
                display: c.clone(),
                replacement: c,
            })
            .collect();
        Ok((start, candidates))
    }
}

/// Process names (and `group:*`) for completion.
pub(crate) async fn process_names(ctl: &mut Ctl) -> Vec<String> {
    let Ok(mut api) = ctl.api() else {
        return Vec::new();
    };
    let Ok(r) = api
        .get_all_process_info(proto::v1::GetAllProcessInfoRequest {})
        .await
    else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for i in r.into_inner().processes {
        names.push(crate::output::namespec(&i.group, &i.name));
        // `g:*` for real groups only (a program alone in its own group is just its name).
        let g = format!("{}:*", i.group);
        if i.group != i.name && !names.contains(&g) {
            names.push(g);
        }
    }
    names
}

/// Splits a line like a shell would (quotes, backslashes).
fn split(line: &str) -> Vec<String> {
    shared::values::shell_split(line)
        .unwrap_or_else(|_| line.split_whitespace().map(str::to_owned).collect())
}

pub(crate) async fn run(ctl: &mut Ctl) {
    ctl.interactive = true;
    ctl.onecmd(&["status".to_string()]).await;
    let mut rl: Editor<Complete, DefaultHistory> = match Editor::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: can't start the shell: {e}");
            return;
        }
    };
    rl.set_helper(Some(Complete {
        names: process_names(ctl).await,
    }));
    let history = ctl.opts.history_file.clone();
    if let Some(h) = &history {
        let _ = rl.load_history(h);
    }
    let prompt = format!("{}> ", ctl.opts.prompt);
    loop {
        match rl.readline(&prompt) {
            Ok(line) => {
                let words = split(&line);
                if words.is_empty() {
                    continue;
                }
                let _ = rl.add_history_entry(line.as_str());
                if matches!(words[0].as_str(), "quit" | "exit") {
                    break;
                }
                ctl.onecmd(&words).await;
                if let Some(h) = rl.helper_mut() {
                    h.names = process_names(ctl).await;
                }
            }
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => {
                println!();
                break;
            }
            Err(e) => {
                eprintln!("error: {e}");
                break;
            }
        }
    }
    if let Some(h) = &history {
        let _ = rl.save_history(h);
    }
}
