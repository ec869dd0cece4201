//! supervisord.conf(5) documents exactly the options the reader accepts: a key added to a
//! section without a word in the manual, or a manual entry for a key that is not read, fails
//! here.

use super::{kinds, program, sections};

const MANUAL: &str = include_str!("../../../docs/supervisord.conf.5.md");

/// The keys of the `### \`key\`` items under `## heading`.
fn documented(heading: &str) -> Vec<&'static str> {
    let start = format!("## {heading}\n");
    let Some(at) = MANUAL.find(&start) else {
        panic!("supervisord.conf.5.md has no section {heading}");
    };
    let body = &MANUAL[at + start.len()..];
    let body = body.find("\n## ").map_or(body, |end| &body[..end]);
    let mut keys: Vec<&str> = body
        .lines()
        .filter_map(|l| l.strip_prefix("### `"))
        .filter_map(|l| l.split_once('`').map(|(k, _)| k))
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn the_manual_documents_every_option_of_every_section() {
    let program = program::accepted_keys("program");
    let cases: [(&str, &[&str]); 9] = [
        ("[unix_http_server]", sections::UNIX_HTTP_SERVER_KEYS),
        ("[inet_http_server]", sections::INET_HTTP_SERVER_KEYS),
        ("[supervisord]", sections::SUPERVISORD_KEYS),
        ("[supervisorctl]", sections::SUPERVISORCTL_KEYS),
        ("[program:x]", &program),
        ("[group:x]", program::GROUP_KEYS),
        ("[include]", &["files"]),
        ("[eventlistener:x]", kinds::extra_keys("eventlistener")),
        ("[fcgi-program:x]", kinds::extra_keys("fcgi-program")),
    ];
    for (heading, accepted) in cases {
        let mut accepted = accepted.to_vec();
        accepted.sort_unstable();
        assert_eq!(documented(heading), accepted, "{heading}");
    }
}

/// The manual's EXAMPLES load without a warning (every option named in them is one we read).
#[test]
fn the_manual_examples_are_valid_configs() {
    let examples = MANUAL
        .split("\n## EXAMPLES\n")
        .nth(1)
        .and_then(|rest| rest.split("\n## ").next())
        .expect("an EXAMPLES section");
    let text: String = examples
        .lines()
        .filter_map(|l| l.strip_prefix("    "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(text.contains("[program:"), "{text}");
    // What the examples name beside the file must exist, as for a real one.
    let here = tempfile::tempdir().expect("a temp dir");
    let dir = here.path().to_owned();
    for d in ["log", "conf.d"] {
        std::fs::create_dir(dir.join(d)).expect("a directory");
    }
    std::fs::write(dir.join("conf.d/a.conf"), "").expect("a.conf");
    std::fs::write(dir.join("local.conf"), "").expect("local.conf");
    let opts = super::LoadOptions {
        cwd: dir.clone(),
        ..super::LoadOptions::from_process()
    };
    match super::load_str(&text, &dir.join("supervisord.conf"), &opts) {
        Ok(c) => assert!(c.warnings.is_empty(), "{:?}", c.warnings),
        Err(e) => panic!("{e}\n{text}"),
    }
}

#[test]
fn the_manual_renders_as_roff_safely() {
    // Our converter escapes these, but a line starting with them is a sign of a sentence
    // broken in an odd place, and some viewers of the Markdown trip on them.
    for (n, line) in MANUAL.lines().enumerate() {
        assert!(
            !line.starts_with(['.', '\'']),
            "line {}: starts with a roff control character",
            n + 1
        );
        assert!(
            line.chars().count() <= 100,
            "line {}: longer than 100",
            n + 1
        );
    }
}
