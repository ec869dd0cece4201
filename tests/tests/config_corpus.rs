//! The config corpus through the real binary, compared with Python's supervisord itself: every
//! file Python accepts we accept, with the same processes (names, commands, start order); every
//! file Python rejects we reject, naming file and line, except where we deliberately accept more
//! (listed below).

use std::path::{Path, PathBuf};
use std::process::Command;

use tests::{bin, repo_root, venv_python};

/// Python errors we deliberately do not reproduce.
const LENIENT: &[&str] = &[
    // The Go supervisord (and so its users' configs) does without a [supervisord] section.
    ".ini file does not include supervisord section",
    // Third-party Python plugins cannot be loaded; we warn and serve our own API.
    "cannot be resolved within",
];

fn corpus() -> Vec<PathBuf> {
    let dir = repo_root().join("tests/corpus/configparser");
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("corpus")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    v.sort();
    v
}

/// Runs with a small fixed environment, from an empty directory, so both sides see the same.
fn controlled(cmd: &mut Command, cwd: &Path) {
    cmd.env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", "/root")
        .env("LANG", "C.UTF-8")
        .current_dir(cwd);
}

/// Extracts `"key": "string"` / arrays of pairs from the one-line JSON both tools print.
fn field<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{key}\": "))? + key.len() + 4;
    Some(&json[start..])
}

/// Python's verdict on every file, from one run of supervisor_dump.py (one JSON line each).
/// (accepted, error text, processes as (`group:name`, command)).
type Verdict = (bool, String, Vec<(String, String)>);

fn python_results(files: &[PathBuf], cwd: &Path) -> Vec<Verdict> {
    let mut cmd = Command::new(venv_python());
    cmd.arg(repo_root().join("tests/corpus/configparser/supervisor_dump.py"))
        .args(files);
    controlled(&mut cmd, cwd);
    let out = cmd.output().expect("run supervisor_dump.py");
    assert!(
        out.status.success(),
        "dump failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), files.len(), "one line per file");
    lines
        .into_iter()
        .map(|line| {
            let ok = line.contains("\"ok\": true");
            let error = field(line, "error")
                .map(|e| e.to_owned())
                .unwrap_or_default();
            let procs = field(line, "processes")
                .map(parse_string_array_pairs)
                .unwrap_or_default();
            (ok, error, procs)
        })
        .collect()
}

/// `[["a", "b"], ["c", "d"]]` → pairs (JSON string escapes decoded for \" and \\ and \n).
fn parse_string_array_pairs(s: &str) -> Vec<(String, String)> {
    let strings = parse_strings(s.split_once("]]").map_or(s, |(a, _)| a));
    strings
        .chunks(2)
        .filter(|c| c.len() == 2)
        .map(|c| (c[0].clone(), c[1].clone()))
        .collect()
}

fn parse_strings(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut cur = String::new();
        while let Some(c) = chars.next() {
            match c {
                '"' => break,
                '\\' => match chars.next() {
                    Some('n') => cur.push('\n'),
                    Some('t') => cur.push('\t'),
                    Some('u') => {
                        let hex: String = chars.by_ref().take(4).collect();
                        if let Some(ch) =
                            u32::from_str_radix(&hex, 16).ok().and_then(char::from_u32)
                        {
                            cur.push(ch);
                        }
                    }
                    Some(o) => cur.push(o),
                    None => {}
                },
                c => cur.push(c),
            }
        }
        out.push(cur);
    }
    out
}

fn our_result(file: &Path, cwd: &Path) -> Verdict {
    let mut cmd = Command::new(bin("supervisord"));
    cmd.args(["--check", "--json", "-c"]).arg(file);
    controlled(&mut cmd, cwd);
    let out = cmd.output().expect("run supervisord --check");
    let text = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    let valid = text.contains("\"valid\": true");
    assert_eq!(out.status.code(), Some(if valid { 0 } else { 1 }), "{text}");
    let mut procs = Vec::new();
    if valid {
        let list = field(&text, "programs").unwrap_or_default();
        for obj in list.split("{\"name\": ").skip(1) {
            let strings = parse_strings(obj);
            // "name", then key/value strings: group, kind, command
            procs.push((strings[0].clone(), strings[6].clone()));
        }
    }
    (valid, text, procs)
}

#[test]
fn corpus_matches_python_supervisord() {
    let cwd = tempfile::tempdir().expect("tempdir");
    let mut failures = Vec::new();
    let (mut both_ok, mut both_rejected, mut lenient) = (0, 0, 0);
    // supervisor_dump.py sorts by file name, as corpus() does.
    let files = corpus();
    let python = python_results(&files, cwd.path());
    for (file, (py_ok, py_err, py_procs)) in files.iter().zip(python) {
        let name = file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let (our_ok, our_out, our_procs) = our_result(file, cwd.path());
        match (py_ok, our_ok) {
            (true, true) => {
                both_ok += 1;
                if py_procs != our_procs {
                    failures.push(format!(
                        "{name}: processes differ\n  python: {py_procs:?}\n  ours:   {our_procs:?}"
                    ));
                }
            }
            (false, false) => {
                both_rejected += 1;
                // Our errors say where: "<file>:<line>:".
                if !our_out.contains(&format!("{}:", file.display())) {
                    failures.push(format!(
                        "{name}: our error does not name the file: {our_out}"
                    ));
                }
            }
            (false, true) if LENIENT.iter().any(|l| py_err.contains(l)) => lenient += 1,
            (false, true) => {
                failures.push(format!("{name}: python rejects ({py_err}) but we accept"))
            }
            (true, false) => {
                failures.push(format!("{name}: python accepts but we reject: {our_out}"))
            }
        }
    }
    eprintln!(
        "{both_ok} accepted by both, {both_rejected} rejected by both, {lenient} accepted only by us (deliberately)"
    );
    assert!(
        both_ok >= 10,
        "too few files accepted by both to mean anything"
    );
    assert!(
        failures.is_empty(),
        "{} differences:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
