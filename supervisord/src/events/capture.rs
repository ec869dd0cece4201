//! Capture mode (`*_capture_maxbytes`): text a program writes between
//! `<!--XSUPERVISOR:BEGIN-->` and `<!--XSUPERVISOR:END-->` becomes a `PROCESS_COMMUNICATION`
//! event instead of log output. supervisor's `POutputDispatcher.record_output`, token splitting
//! and all: a token cut across two reads is found, and output no longer than the token it
//! looks for waits for more.

const BEGIN: &[u8] = b"<!--XSUPERVISOR:BEGIN-->";
const END: &[u8] = b"<!--XSUPERVISOR:END-->";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Output, in the order written; `captured` when it is inside the tokens (it then goes to
    /// the capture buffer, not the log, but still makes `PROCESS_LOG` events, as supervisor's).
    Output { data: Vec<u8>, captured: bool },
    /// The END token came: what was captured (at most `maxbytes`, supervisor's `BoundIO`).
    Communication(Vec<u8>),
}

#[derive(Debug, Clone)]
pub struct Capture {
    maxbytes: usize,
    capturing: bool,
    /// Output not decided yet.
    pending: Vec<u8>,
    captured: Vec<u8>,
}

impl Capture {
    pub fn new(maxbytes: usize) -> Capture {
        Capture {
            maxbytes,
            capturing: false,
            pending: Vec::new(),
            captured: Vec::new(),
        }
    }

    pub fn feed(&mut self, data: &[u8]) -> Vec<Piece> {
        self.pending.extend_from_slice(data);
        let mut pieces = Vec::new();
        loop {
            let token = if self.capturing { END } else { BEGIN };
            if self.pending.len() <= token.len() {
                break;
            }
            let data = std::mem::take(&mut self.pending);
            match find(&data, token) {
                Some(at) => {
                    self.output(&data[..at], &mut pieces);
                    self.toggle(&mut pieces);
                    self.pending = data[at + token.len()..].to_vec();
                    if self.pending.is_empty() {
                        break;
                    }
                }
                None => {
                    let keep = prefix_at_end(&data, token);
                    let (now, later) = data.split_at(data.len() - keep);
                    self.output(now, &mut pieces);
                    self.pending = later.to_vec();
                    break;
                }
            }
        }
        pieces
    }

    /// The stream ended: what is left is output (supervisor drops it; nothing is lost here).
    pub fn finish(&mut self) -> Option<Vec<u8>> {
        let mut rest = std::mem::take(&mut self.captured);
        if !self.capturing {
            rest.clear();
        }
        rest.append(&mut self.pending);
        self.capturing = false;
        (!rest.is_empty()).then_some(rest)
    }

    fn output(&mut self, data: &[u8], pieces: &mut Vec<Piece>) {
        if data.is_empty() {
            return;
        }
        if self.capturing {
            // BoundIO.write: when it would grow past maxbytes, as many bytes as are written
            // leave its front.
            if self.captured.len() + data.len() > self.maxbytes {
                let cut = data.len().min(self.captured.len());
                self.captured.drain(..cut);
            }
            self.captured.extend_from_slice(data);
        }
        pieces.push(Piece::Output {
            data: data.to_vec(),
            captured: self.capturing,
        });
    }

    fn toggle(&mut self, pieces: &mut Vec<Piece>) {
        self.capturing = !self.capturing;
        if !self.capturing {
            pieces.push(Piece::Communication(std::mem::take(&mut self.captured)));
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The length of the longest proper prefix of `token` that `data` ends with.
fn prefix_at_end(data: &[u8], token: &[u8]) -> usize {
    (1..token.len())
        .rev()
        .find(|&l| data.ends_with(&token[..l]))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(s: &str, captured: bool) -> Piece {
        Piece::Output {
            data: s.as_bytes().to_vec(),
            captured,
        }
    }

    #[test]
    fn text_between_the_tokens_becomes_an_event() {
        let mut c = Capture::new(100);
        assert_eq!(
            c.feed(b"before <!--XSUPERVISOR:BEGIN-->hello<!--XSUPERVISOR:END--> after\n"),
            vec![
                out("before ", false),
                out("hello", true),
                Piece::Communication(b"hello".to_vec()),
            ]
        );
        // No longer than the token: it waits for more, as in supervisor.
        assert_eq!(c.finish(), Some(b" after\n".to_vec()));
    }

    #[test]
    fn tokens_cut_across_reads() {
        let mut c = Capture::new(100);
        let mut all = Vec::new();
        for chunk in [
            &b"log line\n<!--XSUPER"[..],
            b"VISOR:BEGIN-->par",
            b"t one, part two<!--XSUPERVISOR:E",
            b"ND-->tail that is long enough\n",
        ] {
            all.extend(c.feed(chunk));
        }
        let comm: Vec<_> = all
            .iter()
            .filter_map(|p| match p {
                Piece::Communication(d) => Some(String::from_utf8_lossy(d).into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(comm, vec!["part one, part two"]);
        let logged: String = all
            .iter()
            .filter_map(|p| match p {
                Piece::Output {
                    data,
                    captured: false,
                } => Some(String::from_utf8_lossy(data).into_owned()),
                _ => None,
            })
            .collect();
        assert_eq!(logged, "log line\ntail that is long enough\n");
    }

    #[test]
    fn short_output_waits_and_the_end_keeps_it() {
        let mut c = Capture::new(100);
        assert_eq!(c.feed(b"short\n"), vec![]);
        assert_eq!(c.finish(), Some(b"short\n".to_vec()));
        // An unfinished capture is output too.
        let mut c = Capture::new(100);
        c.feed(b"<!--XSUPERVISOR:BEGIN-->unfinished business here");
        assert_eq!(c.finish(), Some(b"unfinished business here".to_vec()));
    }

    #[test]
    fn a_capture_keeps_at_most_maxbytes_as_boundio_does() {
        let mut c = Capture::new(8);
        c.feed(b"<!--XSUPERVISOR:BEGIN-->0123456789012345678901234");
        let pieces = c.feed(b"abcde<!--XSUPERVISOR:END-->");
        // "0123...4" (25 bytes) went in first (into an empty buffer: kept whole), then
        // "abcde" pushed 5 bytes out of its front.
        assert!(pieces.contains(&Piece::Communication(b"56789012345678901234abcde".to_vec())));
    }
}
