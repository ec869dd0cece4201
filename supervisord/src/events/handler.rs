//! Result handlers: what a listener's `RESULT` means (supervisor's `result_handler=`, a Python
//! function there; the ones people configure are implemented here).

use shared::config::ResultHandler;

/// What a result meant (supervisor: the handler returned, raised `RejectEvent`, or raised
/// anything else).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The event was processed; `print` is what the handler writes to the daemon's stdout.
    Processed { print: Option<Vec<u8>> },
    /// Send the event again.
    Rejected,
    /// The handler failed on this result: the listener is UNKNOWN and the event is sent again.
    Error,
}

pub fn handle(handler: ResultHandler, result: &[u8]) -> Outcome {
    match handler {
        ResultHandler::Default => {
            if result == b"OK" {
                Outcome::Processed { print: None }
            } else {
                Outcome::Rejected
            }
        }
        ResultHandler::SupervisorStdout => supervisor_stdout(result),
    }
}

/// supervisor_stdout's `event_handler`: the result is the `PROCESS_LOG` payload the listener
/// echoed (`processname:x … channel:stdout\n<data>`); every line of the data is printed with
/// `x stdout | ` before it, by `print` (so a trailing newline of the data gives one more, empty,
/// prefixed line, as the original does). A result it can't split is an error, as there.
fn supervisor_stdout(result: &[u8]) -> Outcome {
    let Ok(text) = std::str::from_utf8(result) else {
        return Outcome::Error;
    };
    let Some((line, data)) = text.split_once('\n') else {
        return Outcome::Error;
    };
    let mut process = None;
    let mut channel = None;
    for token in line.split_whitespace() {
        // `dict(x.split(':') for x in line.split())` fails on a token without exactly one ':'.
        let mut parts = token.split(':');
        let (Some(k), Some(v), None) = (parts.next(), parts.next(), parts.next()) else {
            return Outcome::Error;
        };
        match k {
            "processname" => process = Some(v),
            "channel" => channel = Some(v),
            _ => {}
        }
    }
    let (Some(process), Some(channel)) = (process, channel) else {
        return Outcome::Error;
    };
    let prefix = format!("{process} {channel} | ");
    let mut out = String::with_capacity(data.len() + prefix.len() * 2);
    for (i, l) in data.split('\n').enumerate() {
        if i > 0 {
            out.push('\n');
        }
        out.push_str(&prefix);
        out.push_str(l);
    }
    out.push('\n');
    Outcome::Processed {
        print: Some(out.into_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_handler() {
        assert_eq!(
            handle(ResultHandler::Default, b"OK"),
            Outcome::Processed { print: None }
        );
        assert_eq!(handle(ResultHandler::Default, b"FAIL"), Outcome::Rejected);
        assert_eq!(handle(ResultHandler::Default, b"OK\n"), Outcome::Rejected);
    }

    #[test]
    fn supervisor_stdout_prints_each_line_with_its_prefix() {
        let printed = |r: &[u8]| match handle(ResultHandler::SupervisorStdout, r) {
            Outcome::Processed { print: Some(p) } => String::from_utf8_lossy(&p).into_owned(),
            other => panic!("{other:?}"),
        };
        assert_eq!(
            printed(b"processname:web groupname:web pid:3 channel:stdout\nhello\nworld"),
            "web stdout | hello\nweb stdout | world\n"
        );
        assert_eq!(
            printed(b"processname:w groupname:w pid:3 channel:stderr\nbye\n"),
            "w stderr | bye\nw stderr | \n"
        );
        for bad in [
            &b"OK"[..],
            b"processname:w\nx",
            b"a:b:c channel:x\ny",
            b"\xff\n",
        ] {
            assert_eq!(
                handle(ResultHandler::SupervisorStdout, bad),
                Outcome::Error,
                "{bad:?}"
            );
        }
    }
}
