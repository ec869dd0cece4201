//! Where to look for supervisord.conf when `-c` is not given (the Go supervisord's order).

use std::path::{Path, PathBuf};

/// Candidates in order: `$CWD/supervisord.conf`, `$CWD/etc/supervisord.conf`,
/// `/etc/supervisord.conf`, `/etc/supervisor/supervisord.conf`, then `../etc/supervisord.conf`
/// and `../supervisord.conf` relative to the executable.
pub fn search_paths(cwd: &Path, exe: Option<&Path>) -> Vec<PathBuf> {
    let mut v = vec![
        cwd.join("supervisord.conf"),
        cwd.join("etc/supervisord.conf"),
        PathBuf::from("/etc/supervisord.conf"),
        PathBuf::from("/etc/supervisor/supervisord.conf"),
    ];
    if let Some(dir) = exe.and_then(Path::parent) {
        v.push(dir.join("../etc/supervisord.conf"));
        v.push(dir.join("../supervisord.conf"));
    }
    v
}

/// The first candidate that exists.
pub fn find_config() -> Option<PathBuf> {
    let cwd = std::env::current_dir().ok()?;
    let exe = std::env::current_exe().ok();
    search_paths(&cwd, exe.as_deref())
        .into_iter()
        .find(|p| p.is_file())
}
