//! supervisor's own end-to-end suite (shipped in the pip package as
//! `supervisor/tests/test_end_to_end.py`), run with our daemon in place of
//! `python -m supervisor.supervisord`: event listeners, child output in the main log at debug,
//! identifiers, tail -f, environment expansion, log rotation.

use std::process::Command;

use tests::{bin, repo_root, venv_python};

#[test]
fn supervisors_own_end_to_end_suite_passes_with_our_daemon() {
    let path = format!(
        "{}:{}",
        venv_python().parent().expect("venv bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(venv_python())
        .arg(repo_root().join("tests/python/e2e_ours.py"))
        // test_issue_1251 checks the words of Python's own --help; test_issue_565 needs
        // fixtures/hello.sh, which the pip package does not ship (Python's supervisord fails it
        // the same way).
        .args(["--all-but", "test_issue_1251", "test_issue_565"])
        .env("SUPERVISORD", bin("supervisord"))
        .env("PATH", path)
        .current_dir(dir.path())
        .output()
        .expect("run e2e_ours.py");
    let text = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("Ran 25 tests") && text.contains("\nOK"),
        "{text}"
    );
}
