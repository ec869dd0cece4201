//! Helpers for the black-box tests: the real `supervisord` binary on a temp directory, observed
//! through its main log, its pidfile and /proc. No bare sleeps: everything polls with a deadline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The environment variable that marks the processes of one test's daemon.
const MARKER: &str = "SUPERVISORD_TEST_DIR";

/// The marker variable, for a daemon a test starts itself (daemon mode, say): give it
/// `dir`, and hold a [`Leftovers`] for `dir`.
pub const TEST_MARKER: &str = MARKER;

/// Kills, when dropped, whatever still runs with `dir` as its marker.
pub struct Leftovers<'a>(pub &'a Path);

impl Drop for Leftovers<'_> {
    fn drop(&mut self) {
        kill_marked(self.0);
    }
}

/// Kills every process whose environment carries `MARKER=dir` (test cleanup's safety net).
fn kill_marked(dir: &Path) -> Vec<i32> {
    let needle = format!("{MARKER}={}", dir.display());
    let mut killed = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return killed;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) else {
            continue;
        };
        if env.split(|&b| b == 0).any(|v| v == needle.as_bytes()) {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            killed.push(pid);
        }
    }
    killed
}

/// Deadlines are generous: machines are shared and have two cores.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// `target/<profile>/` (this test binary lives in `target/<profile>/deps/`).
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let dir = exe.parent().and_then(Path::parent).expect("target dir");
    dir.to_owned()
}

pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.exists(),
        "{} not found: run `cargo build --workspace --bins` first",
        p.display()
    );
    p
}

/// Polls `f` every 20 ms until it returns `Some`, or panics with `what` after `DEADLINE`.
pub fn wait_for<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(start.elapsed() < DEADLINE, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A running supervisord with its own temp dir.
pub struct Daemon {
    pub dir: tempfile::TempDir,
    pub child: Option<Child>,
    pub config: PathBuf,
    /// How the daemon ended, once it has.
    pub status: Option<std::process::ExitStatus>,
    /// A command the daemon runs under (its last argument is the daemon's path).
    pub wrapper: Vec<String>,
    /// The daemon's stdout when it is not a file (the write end of a pipe).
    stdout: Option<std::os::fd::OwnedFd>,
    /// Python's supervisord instead of ours (the reference for comparisons).
    python: bool,
    /// Variables set in the daemon's environment besides the test's own.
    env: Vec<(String, String)>,
}

impl Daemon {
    /// Writes `body` after a `[supervisord]` section pointing every file into the temp dir and
    /// starts the daemon in the foreground.
    pub fn start(body: &str) -> Daemon {
        Self::start_with(body, &[])
    }

    /// Starts the daemon under a wrapper command (`unshare -fp --mount-proc`, say).
    pub fn start_wrapped(wrapper: &[&str], body: &str) -> Daemon {
        Self::launch(wrapper, body, &[])
    }

    pub fn start_with(body: &str, args: &[&str]) -> Daemon {
        Self::launch(&[], body, args)
    }

    /// Starts the daemon with `env` added to its environment.
    pub fn start_with_env(body: &str, env: &[(&str, &str)]) -> Daemon {
        Self::launch_env(&[], body, &[], env)
    }

    fn launch(wrapper: &[&str], body: &str, args: &[&str]) -> Daemon {
        Self::launch_env(wrapper, body, args, &[])
    }

    fn launch_env(wrapper: &[&str], body: &str, args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("supervisord.conf");
        std::fs::write(&config, Self::config_text(dir.path(), body)).expect("write config");
        let mut d = Daemon {
            dir,
            child: None,
            config,
            status: None,
            wrapper: wrapper.iter().map(|s| s.to_string()).collect(),
            stdout: None,
            python: false,
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        d.spawn(args);
        d
    }

    /// Python's supervisord (from the venv) on the same kind of config, in the foreground: the
    /// reference a test compares ours with.
    pub fn start_python(body: &str) -> Daemon {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("supervisord.conf");
        let text = format!(
            "{}\n[rpcinterface:supervisor]\nsupervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface\n",
            Self::config_text(dir.path(), body)
        );
        std::fs::write(&config, text).expect("write config");
        let mut d = Daemon {
            dir,
            child: None,
            config,
            status: None,
            wrapper: Vec::new(),
            stdout: None,
            python: true,
            env: Vec::new(),
        };
        d.spawn(&["-n"]);
        d
    }

    /// Starts the daemon with its stdout a pipe that nobody reads (a paused terminal, a
    /// container log driver that stopped reading). Keep the returned read end open.
    pub fn start_with_unread_stdout(body: &str) -> (Daemon, std::os::fd::OwnedFd) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("supervisord.conf");
        std::fs::write(&config, Self::config_text(dir.path(), body)).expect("write config");
        let (r, w) = nix::unistd::pipe().expect("pipe");
        let mut d = Daemon {
            dir,
            child: None,
            config,
            status: None,
            wrapper: Vec::new(),
            stdout: Some(w),
            python: false,
            env: Vec::new(),
        };
        d.spawn(&[]);
        (d, r)
    }

    /// The standard `[supervisord]` section plus `body`.
    pub fn config_text(dir: &Path, body: &str) -> String {
        let body = unindent(body);
        let mut head = String::new();
        if !body.contains("[supervisord]") {
            head.push_str(&format!(
                "[supervisord]\nlogfile={d}/main.log\npidfile={d}/supervisord.pid\nchildlogdir={d}\nloglevel=debug\n\n",
                d = dir.display()
            ));
        }
        if !body.contains("[unix_http_server]") {
            head.push_str(&format!(
                "[unix_http_server]\nfile={d}/supervisor.sock\n\n",
                d = dir.display()
            ));
        }
        format!("{head}{body}")
    }

    /// Replaces the config file (for SIGHUP tests).
    pub fn write_config(&self, body: &str) {
        std::fs::write(&self.config, Self::config_text(self.dir.path(), body)).expect("write");
    }

    fn spawn(&mut self, args: &[&str]) {
        let out = match self.stdout.take() {
            Some(fd) => Stdio::from(fd),
            None => {
                Stdio::from(std::fs::File::create(self.path("stdout.txt")).expect("stdout file"))
            }
        };
        let err = std::fs::File::create(self.path("stderr.txt")).expect("stderr file");
        let mut cmd = match self.wrapper.split_first() {
            _ if self.python => {
                let mut c = Command::new(venv_python());
                c.args(["-m", "supervisor.supervisord"]);
                c
            }
            Some((first, rest)) => {
                let mut c = Command::new(first);
                c.args(rest).arg(bin("supervisord"));
                c
            }
            None => Command::new(bin("supervisord")),
        };
        let child = cmd
            .arg("-c")
            .arg(&self.config)
            .args(args)
            .current_dir(self.dir.path())
            // Every child inherits this: Drop finds (and kills) whatever a test left behind.
            .env(MARKER, self.dir.path())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .spawn()
            .expect("spawn supervisord");
        self.child = Some(child);
        self.wait_log("supervisord started with pid");
    }

    /// Starts the daemon again on the same config and directory (after it ended).
    pub fn respawn(&mut self) {
        self.status = None;
        self.spawn(&[]);
    }

    /// `unix://…/supervisor.sock`.
    pub fn url(&self) -> String {
        format!("unix://{}", self.path("supervisor.sock").display())
    }

    /// Runs our `supervisorctl -s <socket> args…`; returns (exit code, stdout, stderr).
    pub fn ctl(&self, args: &[&str]) -> Output {
        run_ctl(&[&["-s", &self.url()], args].concat())
    }

    /// Runs our `supervisorctl -s <socket> args…` and fails the test if it has not answered by
    /// the deadline (it is killed then).
    pub fn ctl_in_time(&self, args: &[&str]) -> Output {
        let mut child = Command::new(bin("supervisorctl"))
            .args(["-s", &self.url()])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run supervisorctl");
        let start = Instant::now();
        while child.try_wait().expect("try_wait").is_none() {
            if start.elapsed() > DEADLINE {
                let _ = child.kill();
                let _ = child.wait();
                panic!("supervisorctl {args:?} got no answer in {DEADLINE:?}");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Output::from(child.wait_with_output().expect("output"))
    }

    /// Runs Python's `supervisorctl -s <socket> args…`.
    pub fn pyctl(&self, args: &[&str]) -> Output {
        let py = venv_python();
        let out = Command::new(py.with_file_name("supervisorctl"))
            .args(["-s", &self.url()])
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run python supervisorctl");
        Output::from(out)
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// The daemon's pid (as seen from here): under a wrapper that forks, the wrapper's child;
    /// under one that execs the daemon, its own.
    pub fn pid(&self) -> i32 {
        let top = self.child.as_ref().map_or(0, |c| c.id() as i32);
        let is_daemon = std::fs::read_link(format!("/proc/{top}/exe"))
            .is_ok_and(|exe| exe == bin("supervisord"));
        if self.wrapper.is_empty() || is_daemon {
            return top;
        }
        children(top).first().copied().unwrap_or(top)
    }

    /// The main log, including its rotated backups (oldest first).
    pub fn log(&self) -> String {
        let mut out = String::new();
        for i in (1..=20).rev() {
            if let Ok(s) = std::fs::read_to_string(self.path(&format!("main.log.{i}"))) {
                out.push_str(&s);
            }
        }
        out.push_str(&std::fs::read_to_string(self.path("main.log")).unwrap_or_default());
        out
    }

    pub fn stdout(&self) -> String {
        std::fs::read_to_string(self.path("stdout.txt")).unwrap_or_default()
    }

    /// Waits until the main log contains `needle`; returns the log.
    pub fn wait_log(&mut self, needle: &str) -> String {
        let what = format!("{needle:?} in the main log");
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.contains(needle) {
                return log;
            }
            if let Some(st) = self.try_status() {
                panic!(
                    "supervisord exited ({st}) before {what}\n--- main log ---\n{log}\n--- stderr ---\n{}",
                    std::fs::read_to_string(self.path("stderr.txt")).unwrap_or_default()
                );
            }
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {what}\n--- main log ---\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Waits until `needle` appears `n` times in the main log.
    pub fn wait_log_count(&mut self, needle: &str, n: usize) -> String {
        let start = Instant::now();
        loop {
            let log = self.log();
            if log.matches(needle).count() >= n {
                return log;
            }
            assert!(
                start.elapsed() < DEADLINE,
                "timed out waiting for {n}× {needle:?}\n--- main log ---\n{log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The pid from the last `spawned: 'name' with pid N` line.
    pub fn spawned_pid(&mut self, name: &str) -> i32 {
        let needle = format!("spawned: '{name}' with pid ");
        let log = self.wait_log(&needle);
        log.lines()
            .rev()
            .find_map(|l| l.split(&needle).nth(1))
            .and_then(|p| p.trim().parse().ok())
            .expect("pid in spawned line")
    }

    pub fn signal(&self, sig: nix::sys::signal::Signal) {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.pid()), sig).expect("signal daemon");
    }

    fn try_status(&mut self) -> Option<std::process::ExitStatus> {
        if self.status.is_none()
            && let Some(c) = self.child.as_mut()
        {
            self.status = c.try_wait().ok().flatten();
        }
        self.status
    }

    /// Waits for the daemon to exit on its own; returns its exit code.
    pub fn wait_exit(&mut self) -> i32 {
        let st = wait_for("supervisord to exit", || self.try_status());
        st.code().unwrap_or(-1)
    }

    /// SIGTERM and wait: the orderly shutdown every test ends with.
    pub fn stop(&mut self) -> i32 {
        if self.try_status().is_none() {
            self.signal(nix::sys::signal::Signal::SIGTERM);
        }
        self.wait_exit()
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if self.try_status().is_none() {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.pid()),
                nix::sys::signal::Signal::SIGTERM,
            );
            let start = Instant::now();
            while self.try_status().is_none() && start.elapsed() < Duration::from_secs(15) {
                std::thread::sleep(Duration::from_millis(20));
            }
            if self.try_status().is_none()
                && let Some(c) = self.child.as_mut()
            {
                let _ = c.kill();
                let _ = c.wait();
            }
        }
        let leftovers = kill_marked(self.dir.path());
        if !leftovers.is_empty() {
            eprintln!("killed processes the test left behind: {leftovers:?}");
        }
        if std::thread::panicking() {
            eprintln!(
                "--- main log ({}) ---\n{}\n--- stderr ---\n{}",
                self.path("main.log").display(),
                self.log(),
                std::fs::read_to_string(self.path("stderr.txt")).unwrap_or_default()
            );
        }
    }
}

/// Removes the common indentation of a test's inline config.
pub fn unindent(s: &str) -> String {
    let indent = s
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    s.lines()
        .map(|l| {
            if l.len() >= indent {
                &l[indent..]
            } else {
                l.trim_start()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

/// The direct children of `pid`.
pub fn children(pid: i32) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for t in tasks.flatten() {
        if let Ok(s) = std::fs::read_to_string(t.path().join("children")) {
            out.extend(s.split_whitespace().filter_map(|p| p.parse::<i32>().ok()));
        }
    }
    out
}

/// The state letter of a process (`R`, `S`, `Z`, …), if it exists.
pub fn proc_state(pid: i32) -> Option<char> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    s.rsplit_once(')')?.1.trim_start().chars().next()
}

/// Whether a process with this pid exists (and is not a zombie).
pub fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(s) => !s
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

/// Pids of processes whose command line starts with `needle` (arguments joined by spaces).
pub fn pids_with_cmdline(needle: &str) -> Vec<i32> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    for e in entries.flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<i32>().ok()) else {
            continue;
        };
        if let Ok(cmd) = std::fs::read(format!("/proc/{pid}/cmdline")) {
            let cmd = String::from_utf8_lossy(&cmd).replace('\0', " ");
            if cmd.starts_with(needle) && alive(pid) {
                out.push(pid);
            }
        }
    }
    out
}

/// Parses the timestamp of a main log line (`2026-11-24 00:57:49,244 …`) as seconds of the day.
pub fn log_time(line: &str) -> f64 {
    let t = line.get(11..23).expect("timestamp");
    let (hms, ms) = t.split_once(',').expect("ms");
    let mut parts = hms.split(':').map(|p| p.parse::<f64>().expect("number"));
    let (h, m, s) = (
        parts.next().unwrap(),
        parts.next().unwrap(),
        parts.next().unwrap(),
    );
    h * 3600.0 + m * 60.0 + s + ms.parse::<f64>().unwrap() / 1000.0
}

/// The repository root (tests/ is one level down).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("repo root")
        .to_owned()
}

/// The Python of the venv holding Python's `supervisor` (made by `.ci/setup-python`):
/// `$SUPERVISOR_VENV/bin/python`, else `<repo>/.venv/bin/python`.
pub fn venv_python() -> PathBuf {
    let venv = std::env::var_os("SUPERVISOR_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join(".venv"));
    let py = venv.join("bin/python");
    assert!(
        py.exists(),
        "{} not found: run `.ci/setup-python` first (it makes a venv with Python's supervisor)",
        py.display()
    );
    py
}

/// What a client run printed, and how it ended.
#[derive(Debug, Clone)]
pub struct Output {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl From<std::process::Output> for Output {
    fn from(o: std::process::Output) -> Output {
        Output {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
        }
    }
}

/// Runs our supervisorctl with `args` (stdin from /dev/null).
pub fn run_ctl(args: &[&str]) -> Output {
    let out = Command::new(bin("supervisorctl"))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run supervisorctl");
    Output::from(out)
}

/// The programs most client tests run against: running, stopped, FATAL, a group, a missing
/// command, a chatty one and one that echoes its stdin.
pub const PROGRAMS: &str = r#"
[program:longrun]
command=sleep 600
startsecs=0
[program:manual]
command=sleep 600
autostart=false
[program:crasher]
command=sh -c 'exit 3'
startretries=0
[group:grp]
programs=ga,gb
[program:ga]
command=sleep 600
startsecs=0
[program:gb]
command=sleep 600
startsecs=0
[program:nofile]
command=/nonexistent/bin/cmd
autostart=false
[program:chatty]
command=sh -c 'i=0; while true; do i=$((i+1)); echo "out line $i"; sleep 0.1; done'
startsecs=0
[program:echoer]
command=cat
startsecs=0
"#;

/// A daemon running [`PROGRAMS`], once every one of them has settled.
pub fn daemon() -> Daemon {
    let mut d = Daemon::start(PROGRAMS);
    d.wait_log("gave up: crasher entered FATAL state");
    for p in ["longrun", "ga", "gb", "chatty", "echoer"] {
        d.wait_log(&format!("success: {p} entered RUNNING state"));
    }
    d
}

/// A loopback TCP port nobody listens on right now.
pub fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().expect("local addr").port()
}

/// `curl -s -i` with a deadline: the whole response, headers included.
pub fn curl(args: &[&str]) -> String {
    let o = Command::new("curl")
        .args(["-s", "-i", "--max-time", "20"])
        .args(args)
        .output()
        .expect("run curl");
    String::from_utf8_lossy(&o.stdout).into_owned()
}
