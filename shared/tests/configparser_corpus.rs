//! Differential test: our ini parser against Python's configparser, configured as supervisor
//! configures it, over the corpus in tests/corpus/configparser. When python3 is present the
//! expected output is produced live by dump.py; expected.jsonl (made the same way) is the record
//! used otherwise and is checked to still match Python.

use std::path::{Path, PathBuf};
use std::process::Command;

use shared::ini::{Ini, IniError};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus/configparser")
}

/// Python's `json.dumps(s, ensure_ascii=True)` for a string.
fn js(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn pairs<'a>(items: impl Iterator<Item = (&'a str, &'a str)>) -> String {
    let v: Vec<String> = items
        .map(|(k, v)| format!("[{}, {}]", js(k), js(v)))
        .collect();
    format!("[{}]", v.join(", "))
}

fn dump(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = std::fs::read(path).expect("corpus file readable");
    let Ok(text) = String::from_utf8(bytes) else {
        return format!(
            "{{\"file\": {}, \"ok\": false, \"error\": \"UnicodeDecodeError\"}}",
            js(&name)
        );
    };
    let mut ini = Ini::new();
    match ini.read_str(&text, path) {
        Ok(()) => {
            let sections: Vec<String> = ini
                .sections()
                .iter()
                .map(|s| {
                    format!(
                        "[{}, {}]",
                        js(&s.name),
                        pairs(ini.items(&s.name).into_iter())
                    )
                })
                .collect();
            let defaults = pairs(
                ini.defaults
                    .entries()
                    .iter()
                    .map(|e| (e.key.as_str(), e.value.as_str())),
            );
            format!(
                "{{\"file\": {}, \"ok\": true, \"sections\": [{}], \"defaults\": {}}}",
                js(&name),
                sections.join(", "),
                defaults
            )
        }
        Err(IniError::MissingSectionHeader { line, .. }) => format!(
            "{{\"file\": {}, \"ok\": false, \"error\": \"MissingSectionHeaderError\", \"line\": {line}}}",
            js(&name)
        ),
        Err(IniError::Parsing { line, lines, .. }) => format!(
            "{{\"file\": {}, \"ok\": false, \"error\": \"ParsingError\", \"line\": {line}, \"lines\": [{}]}}",
            js(&name),
            lines
                .iter()
                .map(|l| l.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

fn corpus_files() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus_dir())
        .expect("corpus dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "conf"))
        .collect();
    files.sort_by_key(|p| p.file_name().map(|n| n.to_os_string()));
    files
}

fn compare(expected: &str, files: &[PathBuf]) {
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(
        expected.len(),
        files.len(),
        "one expected line per corpus file"
    );
    let mut failures = Vec::new();
    for (want, file) in expected.iter().zip(files) {
        let got = dump(file);
        if got != *want {
            failures.push(format!(
                "{}\n  python: {want}\n  ours:   {got}",
                file.display()
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} files differ:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n")
    );
}

#[test]
fn corpus_is_large_enough() {
    assert!(corpus_files().len() >= 30);
}

#[test]
fn parser_matches_recorded_python_output() {
    let expected =
        std::fs::read_to_string(corpus_dir().join("expected.jsonl")).expect("expected.jsonl");
    compare(&expected, &corpus_files());
}

#[test]
fn parser_matches_live_python() {
    let files = corpus_files();
    let out = match Command::new("python3")
        .arg(corpus_dir().join("dump.py"))
        .args(&files)
        .output()
    {
        Ok(o) if o.status.success() => o,
        Ok(o) => panic!("dump.py failed: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => {
            eprintln!("python3 not available ({e}); the recorded output was compared instead");
            return;
        }
    };
    let minor = Command::new("python3")
        .args(["-c", "import sys; print(sys.version_info[1])"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<u32>().ok());
    if minor.is_some_and(|m| !(10..=12).contains(&m)) {
        // 3.13 changed the inline-comment scan; the corpus pins 3.10–3.12 semantics.
        eprintln!("python3.{minor:?} differs from 3.11 on purpose-built edge cases; skipped");
        return;
    }
    compare(&String::from_utf8_lossy(&out.stdout), &files);
}
