//! Restart on change (the Go supervisord's `restart_when_binary_changed` and
//! `restart_directory_monitor`), by inotify rather than the Go code's 10 s polling with MD5.
//! A binary is watched through its directory, so a file replaced by `mv`, rewritten by `cp` or
//! unlinked and created anew (a package upgrade) is seen alike. A burst of events is one
//! action (a debouncer). Watches follow the table the actor publishes; a path that does not
//! exist yet is watched through its nearest existing ancestor until it appears.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use notify::event::{CreateKind, EventKind, ModifyKind};
use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::{debug, info, warn};

use super::debounce::Debouncer;
use crate::supervisor::{Active, Changed, Handle};

/// One thing watched for one process.
#[derive(Debug, Clone, PartialEq)]
struct Spec {
    /// The process's full name (what the actor is told) and its name (for messages).
    full_name: String,
    name: String,
    what: Changed,
    target: Target,
    debounce: Duration,
}

#[derive(Debug, Clone, PartialEq)]
enum Target {
    /// The executable: changes of this one path count.
    File(PathBuf),
    /// `restart_directory_monitor`: files below it whose name matches.
    Tree {
        dir: PathBuf,
        pattern: glob::Pattern,
    },
}

impl Target {
    /// The path that must exist for the watch to be set.
    fn anchor(&self) -> PathBuf {
        match self {
            Target::File(f) => f
                .parent()
                .map_or_else(|| PathBuf::from("/"), Path::to_path_buf),
            Target::Tree { dir, .. } => dir.clone(),
        }
    }

    fn mode(&self) -> RecursiveMode {
        match self {
            Target::File(_) => RecursiveMode::NonRecursive,
            Target::Tree { .. } => RecursiveMode::Recursive,
        }
    }

    /// Whether an event on `path` is a change of this target.
    fn touched_by(&self, path: &Path) -> bool {
        match self {
            Target::File(f) => path == f,
            Target::Tree { dir, pattern } => {
                path != dir
                    && path.starts_with(dir)
                    && path
                        .file_name()
                        .is_some_and(|n| pattern.matches(&n.to_string_lossy()))
            }
        }
    }
}

/// What the watches are for, from the table in force. Problems are warnings: the program runs
/// as it would without the watch.
fn specs(active: &Active) -> (Vec<Spec>, Vec<String>) {
    let mut specs = Vec::new();
    let mut warnings = Vec::new();
    for p in &active.processes {
        let base = |what, target| Spec {
            full_name: p.full_name(),
            name: p.name.clone(),
            what,
            target,
            debounce: p.watch.debounce,
        };
        if p.watch.binary.is_some() {
            // A path that does not exist yet is watched for (as the program can't start until it
            // does); a bare name must be found on PATH first.
            let found = match crate::supervisor::executable(&active.config, p) {
                Ok(exe) => Ok(exe),
                Err(e) => match p.argv.first() {
                    Some(a) if a.contains('/') => Ok(PathBuf::from(a)),
                    _ => Err(e),
                },
            };
            match found {
                Ok(exe) => {
                    let exe = match (&p.directory, exe.is_relative()) {
                        (Some(d), true) => d.join(exe),
                        _ => exe,
                    };
                    // A symlink is watched as a name (it may be pointed elsewhere) and as
                    // what it points to (which may be replaced in place).
                    if let Ok(real) = std::fs::canonicalize(&exe)
                        && real != exe
                    {
                        specs.push(base(Changed::Binary, Target::File(real)));
                    }
                    specs.push(base(Changed::Binary, Target::File(exe)));
                }
                Err(e) => warnings.push(format!(
                    "restart_when_binary_changed of '{}': can't watch its executable: {e}",
                    p.name
                )),
            }
        }
        if let Some(d) = &p.watch.directory {
            match glob::Pattern::new(&d.pattern) {
                Ok(pattern) => specs.push(base(
                    Changed::Files,
                    Target::Tree {
                        dir: d.dir.clone(),
                        pattern,
                    },
                )),
                Err(e) => warnings.push(format!("restart_file_pattern of '{}': {e}", p.name)),
            }
        }
    }
    (specs, warnings)
}

/// The watch points the specs need now: each anchor that exists (recursive wins over not),
/// and for an anchor that does not, its nearest existing ancestor (not recursively), which
/// tells when it appears. Also returns the anchors that are missing.
fn points(specs: &[Spec]) -> (BTreeMap<PathBuf, RecursiveMode>, BTreeSet<PathBuf>) {
    let mut points: BTreeMap<PathBuf, RecursiveMode> = BTreeMap::new();
    let mut missing = BTreeSet::new();
    let mut add = |path: PathBuf, mode: RecursiveMode| {
        let slot = points.entry(path).or_insert(mode);
        if mode == RecursiveMode::Recursive {
            *slot = mode;
        }
    };
    for s in specs {
        let anchor = s.target.anchor();
        if anchor.is_dir() {
            add(anchor, s.target.mode());
            continue;
        }
        let ancestor = anchor.ancestors().skip(1).find(|a| a.is_dir());
        if let Some(a) = ancestor {
            add(a.to_path_buf(), RecursiveMode::NonRecursive);
        }
        missing.insert(anchor);
    }
    (points, missing)
}

/// What a burst touched, for the log line.
#[derive(Debug, Default)]
struct Touched {
    paths: BTreeSet<PathBuf>,
    more: bool,
}

/// How many changed paths one log line names.
const NAMED: usize = 3;

impl Touched {
    fn add(&mut self, p: &Path) {
        if self.paths.len() < NAMED {
            self.paths.insert(p.to_path_buf());
        } else if !self.paths.contains(p) {
            self.more = true;
        }
    }

    fn describe(&self, what: Changed) -> String {
        let list: Vec<String> = self.paths.iter().map(|p| p.display().to_string()).collect();
        let list = list.join(", ");
        match (what, self.more) {
            (Changed::Binary, _) => format!("executable {list}"),
            (Changed::Files, false) => list,
            (Changed::Files, true) => format!("{list} and more"),
        }
    }
}

/// Mutations only: opening or reading a file is not a change.
fn is_change(kind: &EventKind) -> bool {
    match kind {
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any | EventKind::Other => true,
        EventKind::Modify(ModifyKind::Metadata(_)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(a) => matches!(
            a,
            notify::event::AccessKind::Close(notify::event::AccessMode::Write)
        ),
    }
}

/// The most entries looked at in a new directory (a tree copied in at once is still seen as a
/// change by its first files).
const SCAN_LIMIT: usize = 10_000;

/// The files below a directory that was just created, up to [`SCAN_LIMIT`] entries.
fn files_below(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    let mut seen = 0;
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            seen += 1;
            if seen > SCAN_LIMIT {
                return out;
            }
            match e.file_type() {
                Ok(t) if t.is_dir() => todo.push(e.path()),
                Ok(_) => out.push(e.path()),
                Err(_) => {}
            }
        }
    }
    out
}

/// Events the watcher thread may queue before it waits for this task.
const QUEUE: usize = 1024;

struct State {
    handle: Handle,
    watcher: Option<RecommendedWatcher>,
    events: mpsc::Sender<notify::Result<notify::Event>>,
    active: Arc<Active>,
    specs: Vec<Spec>,
    watched: BTreeMap<PathBuf, RecursiveMode>,
    missing: BTreeSet<PathBuf>,
    warned: HashSet<String>,
    bursts: Debouncer<(String, Changed), Touched>,
}

/// Watches for as long as the daemon runs.
pub async fn run(handle: Handle) {
    let mut active = handle.active();
    let (tx, mut rx) = mpsc::channel(QUEUE);
    let current = active.borrow_and_update().clone();
    let mut st = State {
        handle,
        watcher: None,
        events: tx,
        active: current,
        specs: Vec::new(),
        watched: BTreeMap::new(),
        missing: BTreeSet::new(),
        warned: HashSet::new(),
        bursts: Debouncer::new(),
    };
    st.plan();
    loop {
        let due = st.bursts.next_due();
        tokio::select! {
            changed = active.changed() => {
                if changed.is_err() {
                    return;
                }
                st.active = active.borrow_and_update().clone();
                st.plan();
            }
            Some(event) = rx.recv() => st.on_event(event),
            _ = tokio::time::sleep_until(due.unwrap_or_else(Instant::now)), if due.is_some() => {
                st.fire().await;
            }
        }
    }
}

impl State {
    /// Computes the specs from the table and sets the watches they need.
    fn plan(&mut self) {
        let (specs, warnings) = specs(&self.active);
        let mut now_warned = HashSet::new();
        for w in warnings {
            if !self.warned.contains(&w) {
                warn!("{w}");
            }
            now_warned.insert(w);
        }
        let (points, missing) = points(&specs);
        for m in &missing {
            let w = format!(
                "{} does not exist (yet): watched for once it appears",
                m.display()
            );
            if !self.warned.contains(&w) {
                for s in specs.iter().filter(|s| &s.target.anchor() == m) {
                    warn!("restart on change of '{}': {w}", s.name);
                }
            }
            now_warned.insert(w);
        }
        for m in self.missing.difference(&missing) {
            if specs.iter().any(|s| &s.target.anchor() == m) {
                info!("{} appeared: watched now", m.display());
            }
        }
        self.warned = now_warned;
        let names: HashSet<(String, Changed)> = specs
            .iter()
            .map(|s| (s.full_name.clone(), s.what))
            .collect();
        self.bursts.retain(|k| names.contains(k));
        self.specs = specs;
        self.missing = missing;
        self.set_watches(points);
    }

    fn set_watches(&mut self, points: BTreeMap<PathBuf, RecursiveMode>) {
        if points.is_empty() && self.watcher.is_none() {
            return;
        }
        let watcher = match &mut self.watcher {
            Some(w) => w,
            None => {
                let tx = self.events.clone();
                match notify::recommended_watcher(move |e| {
                    let _ = tx.blocking_send(e);
                }) {
                    Ok(w) => self.watcher.insert(w),
                    Err(e) => {
                        warn!("can't watch files for restart on change: {e}");
                        return;
                    }
                }
            }
        };
        for (path, mode) in &self.watched {
            if points.get(path) != Some(mode) {
                let _ = watcher.unwatch(path);
            }
        }
        let mut set = BTreeMap::new();
        for (path, mode) in points {
            if self.watched.get(&path) == Some(&mode) {
                set.insert(path, mode);
                continue;
            }
            match watcher.watch(&path, mode) {
                Ok(()) => {
                    debug!("watching {} ({mode:?})", path.display());
                    set.insert(path, mode);
                }
                Err(e) => warn!("can't watch {}: {e}", path.display()),
            }
        }
        self.watched = set;
    }

    fn on_event(&mut self, event: notify::Result<notify::Event>) {
        let event = match event {
            Ok(e) => e,
            Err(e) => {
                warn!("file watch error: {e}");
                return;
            }
        };
        if event.need_rescan() {
            warn!("the kernel dropped file events (too many at once): some changes may be missed");
        }
        if !is_change(&event.kind) {
            return;
        }
        let now = Instant::now();
        let mut replan = false;
        let created_dir = matches!(event.kind, EventKind::Create(CreateKind::Folder));
        for path in &event.paths {
            // Files written into a new directory before its watch was added are only seen by
            // looking.
            let inside: Vec<PathBuf> = if created_dir {
                files_below(path)
            } else {
                Vec::new()
            };
            for s in &self.specs {
                for p in std::iter::once(path).chain(&inside) {
                    if s.target.touched_by(p) {
                        self.bursts
                            .event((s.full_name.clone(), s.what), now, s.debounce, |t| t.add(p));
                    }
                }
            }
            // Something missing (or a directory on its way) may have appeared, or a watched
            // directory gone; other events beside a missing path change nothing.
            let renamed = matches!(event.kind, EventKind::Modify(ModifyKind::Name(_)));
            let created = matches!(event.kind, EventKind::Create(_)) || renamed;
            let removed = matches!(event.kind, EventKind::Remove(_)) || renamed;
            replan |= (created && self.missing.iter().any(|m| m.starts_with(path)))
                || (removed && self.watched.contains_key(path));
        }
        if replan {
            self.plan();
        }
    }

    async fn fire(&mut self) {
        let due = self.bursts.take_due(Instant::now());
        let mut binary = false;
        for ((full_name, what), touched) in due {
            binary |= what == Changed::Binary;
            self.handle
                .changed(full_name, what, touched.describe(what))
                .await;
        }
        if binary {
            // A symlink may point elsewhere now.
            self.plan();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(dir: &str, pattern: &str) -> Target {
        Target::Tree {
            dir: dir.into(),
            pattern: glob::Pattern::new(pattern).expect("pattern"),
        }
    }

    #[test]
    fn what_an_event_path_touches() {
        let cases = [
            (
                Target::File("/opt/app/bin/app".into()),
                "/opt/app/bin/app",
                true,
            ),
            (
                Target::File("/opt/app/bin/app".into()),
                "/opt/app/bin/app.tmp",
                false,
            ),
            (
                Target::File("/opt/app/bin/app".into()),
                "/opt/app/bin",
                false,
            ),
            (tree("/srv/conf", "*"), "/srv/conf/a.yaml", true),
            (tree("/srv/conf", "*"), "/srv/conf/sub/dir/b.yaml", true),
            (tree("/srv/conf", "*"), "/srv/conf", false),
            (tree("/srv/conf", "*"), "/srv/config/a.yaml", false),
            (tree("/srv/conf", "*.yaml"), "/srv/conf/sub/b.yaml", true),
            (tree("/srv/conf", "*.yaml"), "/srv/conf/b.yaml.swp", false),
            (tree("/srv/conf", "[ab].py"), "/srv/conf/b.py", true),
            (tree("/srv/conf", "[ab].py"), "/srv/conf/c.py", false),
        ];
        for (target, path, want) in cases {
            assert_eq!(
                target.touched_by(Path::new(path)),
                want,
                "{target:?} {path}"
            );
        }
    }

    #[test]
    fn watch_points_and_missing_anchors() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path();
        std::fs::create_dir_all(root.join("bin")).expect("mkdir");
        let spec = |target| Spec {
            full_name: "g:p".into(),
            name: "p".into(),
            what: Changed::Files,
            target,
            debounce: Duration::from_millis(500),
        };
        let specs = [
            spec(Target::File(root.join("bin/app"))),
            spec(Target::Tree {
                dir: root.join("bin"),
                pattern: glob::Pattern::new("*").expect("pattern"),
            }),
            spec(Target::Tree {
                dir: root.join("later/conf"),
                pattern: glob::Pattern::new("*").expect("pattern"),
            }),
        ];
        let (points, missing) = points(&specs);
        assert_eq!(
            points.get(&root.join("bin")),
            Some(&RecursiveMode::Recursive)
        );
        assert_eq!(points.get(root), Some(&RecursiveMode::NonRecursive));
        assert_eq!(points.len(), 2);
        assert_eq!(missing, BTreeSet::from([root.join("later/conf")]));
    }

    #[test]
    fn a_burst_is_described_by_a_few_of_its_paths() {
        let mut t = Touched::default();
        for k in 0..5 {
            t.add(Path::new(&format!("/d/f{k}")));
        }
        assert_eq!(t.describe(Changed::Files), "/d/f0, /d/f1, /d/f2 and more");
        let mut one = Touched::default();
        one.add(Path::new("/usr/bin/app"));
        one.add(Path::new("/usr/bin/app"));
        assert_eq!(one.describe(Changed::Binary), "executable /usr/bin/app");
    }
}
