//! The config reader: ConfigParser's dialect, every section's options, `%(…)s` expansions and
//! includes (of files in the fuzzer's own directory): a config is loaded or refused with
//! located errors, never a panic, whatever the text.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use shared::config::{LoadOptions, load_str};

/// A directory with a file an `[include]` may name.
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("supervisord-fuzz-{}", std::process::id()));
        let _ = std::fs::create_dir_all(d.join("conf.d"));
        let _ = std::fs::write(
            d.join("conf.d/extra.conf"),
            "[program:extra]\ncommand=sleep %(ENV_HOME)s\n",
        );
        d
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let d = dir();
    let opts = LoadOptions {
        environ: vec![("HOME".into(), "/root".into())],
        host_node_name: "fuzz".into(),
        cwd: d.clone(),
        overrides: Default::default(),
    };
    let _ = load_str(text, &d.join("supervisord.conf"), &opts);
});
