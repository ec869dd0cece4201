//! The actor on paused time: a fake spawner hands out pids and reports what it was asked, the
//! tests decide when each child exits, and tokio's clock jumps straight to the next timer. So
//! startsecs, backoff, stop escalation, restartpause and dependencies are exercised exactly,
//! in milliseconds of real time.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use nix::sys::signal::Signal as NixSignal;
use nix::sys::wait::WaitStatus;
use nix::unistd::Pid;
use shared::config::{Config, LoadOptions};
use shared::signals::Signal;
use shared::{Fault, ProcessState, SupervisorState};
use tokio::sync::{broadcast, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::{Outcome, Supervisor};
use crate::events::Event;
use crate::logging::mainlog::MainLog;
use crate::process::kill::KillError;
use crate::process::spawn::{SpawnError, SpawnSpec, Spawned};
use crate::reaper::Exit;
use crate::supervisor::Handle;
use crate::supervisor::spawner::Spawner;

use ProcessState::*;

/// What the fake was asked to do, and when (on the paused clock).
#[derive(Debug, Clone, PartialEq)]
enum Call {
    Spawn {
        name: String,
        pid: i32,
        at: Instant,
    },
    Signal {
        pid: i32,
        signal: Signal,
        group: bool,
        at: Instant,
    },
}

struct FakeSpawner {
    calls: mpsc::UnboundedSender<Call>,
    next_pid: i32,
}

impl Spawner for FakeSpawner {
    fn spawn(&mut self, spec: SpawnSpec) -> Result<Spawned, SpawnError> {
        self.next_pid += 1;
        let _ = self.calls.send(Call::Spawn {
            name: spec.name,
            pid: self.next_pid,
            at: Instant::now(),
        });
        Ok(Spawned {
            pid: self.next_pid,
            stdin: None,
            stdout: None,
            stderr: None,
        })
    }

    fn signal(&mut self, pid: i32, signal: Signal, group: bool) -> Result<(), KillError> {
        let _ = self.calls.send(Call::Signal {
            pid,
            signal,
            group,
            at: Instant::now(),
        });
        Ok(())
    }
}

struct Harness {
    handle: Handle,
    exits: mpsc::UnboundedSender<Exit>,
    calls: mpsc::UnboundedReceiver<Call>,
    events: broadcast::Receiver<Event>,
    actor: JoinHandle<Outcome>,
    start: Instant,
    dir: tempfile::TempDir,
}

/// `body`'s programs, with logs discarded unless they say otherwise.
fn config(dir: &std::path::Path, body: &str) -> Config {
    let text = format!(
        "[supervisord]\nlogfile={d}/main.log\nchildlogdir={d}\n[program-default]\nstdout_logfile=NONE\nstderr_logfile=NONE\n{body}",
        d = dir.display()
    );
    let opts = LoadOptions {
        environ: Vec::new(),
        host_node_name: "test".into(),
        cwd: dir.to_owned(),
        overrides: Default::default(),
    };
    shared::config::load_str(&text, &dir.join("supervisord.conf"), &opts)
        .unwrap_or_else(|e| panic!("test config rejected:\n{e}"))
}

impl Harness {
    fn new(body: &str) -> Harness {
        let dir = tempfile::tempdir().unwrap();
        let config = config(dir.path(), body);
        let (exits, exit_rx) = mpsc::unbounded_channel();
        let (calls_tx, calls) = mpsc::unbounded_channel();
        let spawner = FakeSpawner {
            calls: calls_tx,
            next_pid: 1000,
        };
        let (sup, handle) =
            Supervisor::with_spawner(Arc::new(config), MainLog::new(), exit_rx, Box::new(spawner));
        let events = handle.subscribe();
        Harness {
            handle,
            exits,
            calls,
            events,
            actor: tokio::spawn(sup.run()),
            start: Instant::now(),
            dir,
        }
    }

    /// The next thing the fake was asked, with the time since the start.
    async fn call(&mut self) -> Call {
        tokio::time::timeout(Duration::from_secs(3600), self.calls.recv())
            .await
            .expect("the actor did something within an hour")
            .expect("the actor is alive")
    }

    /// The next spawn: (name, pid, seconds since the start).
    async fn spawned(&mut self) -> (String, i32, f64) {
        match self.call().await {
            Call::Spawn { name, pid, at } => (name, pid, self.secs(at)),
            other => panic!("expected a spawn, got {other:?}"),
        }
    }

    /// The next signal: (pid, signal, to the group, seconds since the start).
    async fn signalled(&mut self) -> (i32, Signal, bool, f64) {
        match self.call().await {
            Call::Signal {
                pid,
                signal,
                group,
                at,
            } => (pid, signal, group, self.secs(at)),
            other => panic!("expected a signal, got {other:?}"),
        }
    }

    fn secs(&self, at: Instant) -> f64 {
        (at - self.start).as_secs_f64()
    }

    fn now(&self) -> f64 {
        self.secs(Instant::now())
    }

    fn exit(&self, pid: i32, code: i32) {
        let status = WaitStatus::Exited(Pid::from_raw(pid), code);
        self.exits.send(Exit { pid, status }).unwrap();
    }

    fn killed(&self, pid: i32, sig: NixSignal) {
        let status = WaitStatus::Signaled(Pid::from_raw(pid), sig, false);
        self.exits.send(Exit { pid, status }).unwrap();
    }

    /// Waits for `name` to enter `state`; returns the seconds since the start.
    async fn entered(&mut self, name: &str, state: ProcessState) -> f64 {
        loop {
            let ev = tokio::time::timeout(Duration::from_secs(3600), self.events.recv())
                .await
                .unwrap_or_else(|_| panic!("{name} never entered {state}"))
                .unwrap();
            if let Event::ProcessStateChanged { name: n, to, .. } = ev
                && n == name
                && to == state
            {
                return self.now();
            }
        }
    }

    async fn state(&self, name: &str) -> ProcessState {
        self.handle.info(name).await.unwrap().state
    }

    /// Nothing more is asked of the fake for a (virtual) day.
    async fn quiet(&mut self) {
        if let Ok(Some(c)) =
            tokio::time::timeout(Duration::from_secs(86400), self.calls.recv()).await
        {
            panic!("unexpected {c:?}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn running_after_startsecs() {
    let mut h = Harness::new("[program:web]\ncommand=/bin/sh\nstartsecs=5\n");
    let (name, _, at) = h.spawned().await;
    assert_eq!((name.as_str(), at), ("web", 0.0));
    assert_eq!(h.state("web").await, Starting);
    assert_eq!(h.entered("web", Running).await, 5.0);
    let info = h.handle.info("web").await.unwrap();
    assert_eq!(info.pid, 1001);
}

#[tokio::test(start_paused = true)]
async fn backoff_waits_one_second_more_each_time_then_fatal() {
    let mut h = Harness::new("[program:crash]\ncommand=/bin/sh\nstartsecs=10\nstartretries=3\n");
    let mut spawns = Vec::new();
    for _ in 0..4 {
        let (_, pid, at) = h.spawned().await;
        spawns.push(at);
        h.exit(pid, 1);
    }
    assert_eq!(h.entered("crash", Fatal).await, 6.0);
    // Spawned at 0, then after 1, 2 and 3 s in BACKOFF.
    assert_eq!(spawns, vec![0.0, 1.0, 3.0, 6.0]);
    let info = h.handle.info("crash").await.unwrap();
    assert_eq!(
        info.spawnerr,
        "Exited too quickly (process log may have details)"
    );
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn autorestart_by_exit_code() {
    let mut h = Harness::new(
        "[program:always]\ncommand=/bin/sh\nstartsecs=0\nautorestart=true\n\
         [program:never]\ncommand=/bin/sh\nstartsecs=0\nautorestart=false\n\
         [program:unexpected]\ncommand=/bin/sh\nstartsecs=0\nautorestart=unexpected\nexitcodes=0,2\n",
    );
    let mut pids = std::collections::HashMap::new();
    for _ in 0..3 {
        let (name, pid, _) = h.spawned().await;
        pids.insert(name, pid);
    }
    // An expected code: only `always` restarts.
    h.exit(pids["always"], 0);
    assert_eq!(h.spawned().await.0, "always");
    h.exit(pids["never"], 0);
    h.exit(pids["unexpected"], 2);
    assert_eq!(h.entered("unexpected", Exited).await, 0.0);
    assert_eq!(h.state("never").await, Exited);
    h.quiet().await;
    // An unexpected code restarts `unexpected`; `never` stays down whatever happens.
    h.handle.start("unexpected", false).await.unwrap();
    let (_, pid, _) = h.spawned().await;
    h.exit(pid, 3);
    assert_eq!(h.spawned().await.0, "unexpected");
    let info = h.handle.info("never").await.unwrap();
    assert_eq!((info.state, info.exitstatus), (Exited, 0));
}

#[tokio::test(start_paused = true)]
async fn stop_signals_in_turn_then_sigkill() {
    let mut h = Harness::new(
        "[program:stubborn]\ncommand=/bin/sh\nstartsecs=0\nstopsignal=INT,TERM\nstopwaitsecs=10\nkillwaitsecs=2\n",
    );
    let (_, pid, _) = h.spawned().await;
    let handle = h.handle.clone();
    let stop = tokio::spawn(async move { handle.stop("stubborn", true).await });
    assert_eq!(h.signalled().await, (pid, Signal::INT, false, 0.0));
    assert_eq!(h.signalled().await, (pid, Signal::TERM, false, 10.0));
    assert_eq!(h.signalled().await, (pid, Signal::KILL, false, 20.0));
    h.killed(pid, NixSignal::SIGKILL);
    let info = stop.await.unwrap().unwrap();
    assert_eq!((info.state, info.exitstatus), (Stopped, -1));
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn a_stuck_process_is_abandoned_after_killwaitsecs_at_shutdown() {
    let mut h = Harness::new(
        "[program:stuck]\ncommand=/bin/sh\nstartsecs=0\nstopwaitsecs=3\nkillwaitsecs=2\n",
    );
    h.spawned().await;
    h.handle.request_shutdown().await.unwrap();
    assert_eq!(h.signalled().await.1, Signal::TERM);
    assert_eq!(h.signalled().await.1, Signal::KILL);
    // Never reaped: the daemon stops waiting killwaitsecs after SIGKILL.
    let (start, actor) = (h.start, h.actor);
    let outcome = actor.await.unwrap();
    assert_eq!(outcome.exit_code, 0);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test(start_paused = true)]
async fn stopasgroup_signals_the_process_group() {
    let mut h = Harness::new(
        "[program:tree]\ncommand=/bin/sh\nstartsecs=0\nstopasgroup=true\nstopwaitsecs=1\n\
         [program:killgroup]\ncommand=/bin/sh\nstartsecs=0\nkillasgroup=true\nstopwaitsecs=1\n",
    );
    // Started in name order: killgroup, then tree.
    let (_, b, _) = h.spawned().await;
    let (_, a, _) = h.spawned().await;
    h.handle.stop("tree", false).await.unwrap();
    assert_eq!(h.signalled().await, (a, Signal::TERM, true, 0.0));
    h.killed(a, NixSignal::SIGTERM);
    h.handle.stop("killgroup", false).await.unwrap();
    // TERM to the process only; SIGKILL to its group.
    assert_eq!(h.signalled().await, (b, Signal::TERM, false, 0.0));
    assert_eq!(h.signalled().await, (b, Signal::KILL, true, 1.0));
}

#[tokio::test(start_paused = true)]
async fn restartpause_delays_the_next_start_after_a_stop() {
    let mut h = Harness::new(
        "[program:paused]\ncommand=/bin/sh\nstartsecs=0\nrestartpause=4\nautorestart=true\n",
    );
    let (_, pid, _) = h.spawned().await;
    tokio::time::advance(Duration::from_secs(1)).await;
    h.exit(pid, 0);
    // It died at 1 s: the autorestart waits until 5 s.
    let (_, _, at) = h.spawned().await;
    assert_eq!(at, 5.0);
}

#[tokio::test(start_paused = true)]
async fn dependencies_start_first_and_a_fatal_one_cascades() {
    let mut h = Harness::new(
        "[program:db]\ncommand=/bin/sh\nstartsecs=2\nstartretries=0\npriority=900\n\
         [program:app]\ncommand=/bin/sh\nstartsecs=1\ndepends_on=db\npriority=100\n\
         [program:web]\ncommand=/bin/sh\nstartsecs=1\ndepends_on=app\npriority=1\n",
    );
    // Priority would start web first; depends_on makes it wait for app, app for db.
    let (first, db, _) = h.spawned().await;
    assert_eq!(first, "db");
    let (second, app, at) = h.spawned().await;
    assert_eq!((second.as_str(), at), ("app", 2.0));
    let (third, _, at) = h.spawned().await;
    assert_eq!((third.as_str(), at), ("web", 3.0));
    // Stopped in reverse: web, then app, then db.
    let handle = h.handle.clone();
    let shutdown = tokio::spawn(async move { handle.shutdown().await });
    let mut order = Vec::new();
    for _ in 0..3 {
        let (pid, ..) = h.signalled().await;
        order.push(pid);
        h.killed(pid, NixSignal::SIGTERM);
    }
    assert_eq!(order, vec![1003, app, db]);
    shutdown.await.unwrap().unwrap();

    // A dependency that goes FATAL: what waits for it is not started, with the reason.
    let mut h = Harness::new(
        "[program:db]\ncommand=/bin/sh\nstartsecs=2\nstartretries=0\n\
         [program:app]\ncommand=/bin/sh\ndepends_on=db\n",
    );
    let (_, db, _) = h.spawned().await;
    h.exit(db, 1);
    h.entered("db", Fatal).await;
    let app = h.handle.info("app").await.unwrap();
    assert_eq!(app.state, Stopped);
    assert_eq!(
        app.spawnerr,
        "dependency 'db:db' entered FATAL state; not started"
    );
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_stops_groups_in_reverse_priority_order() {
    let mut h = Harness::new(
        "[program:first]\ncommand=/bin/sh\nstartsecs=0\npriority=1\n\
         [program:middle]\ncommand=/bin/sh\nstartsecs=0\npriority=50\n\
         [program:last]\ncommand=/bin/sh\nstartsecs=0\npriority=99\n",
    );
    let mut started = Vec::new();
    for _ in 0..3 {
        started.push(h.spawned().await.0);
    }
    assert_eq!(started, vec!["first", "middle", "last"]);
    let handle = h.handle.clone();
    let shutdown = tokio::spawn(async move { handle.shutdown().await });
    let mut stopped = Vec::new();
    for _ in 0..3 {
        // The next group is signalled only once this one has exited.
        let (pid, ..) = h.signalled().await;
        stopped.push(pid);
        tokio::time::advance(Duration::from_secs(1)).await;
        h.killed(pid, NixSignal::SIGTERM);
    }
    assert_eq!(stopped, vec![1003, 1002, 1001]);
    shutdown.await.unwrap().unwrap();
    assert_eq!(h.handle.state(), SupervisorState::Shutdown);
    assert_eq!(h.actor.await.unwrap().exit_code, 0);
}

#[tokio::test(start_paused = true)]
async fn restart_stops_then_starts_once_reaped() {
    let mut h = Harness::new("[program:web]\ncommand=/bin/sh\nstartsecs=1\nstopwaitsecs=5\n");
    let (_, pid, _) = h.spawned().await;
    h.entered("web", Running).await;
    let handle = h.handle.clone();
    let restart = tokio::spawn(async move { handle.restart("web", true).await });
    let (signalled, signal, ..) = h.signalled().await;
    assert_eq!((signalled, signal), (pid, Signal::TERM));
    tokio::time::advance(Duration::from_secs(2)).await;
    h.killed(pid, NixSignal::SIGTERM);
    let (_, new_pid, at) = h.spawned().await;
    assert_eq!(at, 3.0);
    // Answered once RUNNING again (startsecs later).
    let info = restart.await.unwrap().unwrap();
    assert_eq!((info.state, info.pid), (Running, new_pid));
    assert_eq!(h.now(), 4.0);
    // A stopped process just starts; a running one that is asked to stop stays stopped.
    let handle = h.handle.clone();
    let stop = tokio::spawn(async move { handle.stop("web", true).await });
    h.signalled().await;
    h.killed(new_pid, NixSignal::SIGTERM);
    assert_eq!(stop.await.unwrap().unwrap().state, Stopped);
    let info = h.handle.restart("web", false).await.unwrap();
    assert_eq!(info.state, Starting);
    let err = h.handle.restart("nosuch", false).await.unwrap_err();
    assert_eq!(err, Fault::BadName("nosuch".into()));
}

#[tokio::test(start_paused = true)]
async fn a_waiting_stop_is_answered_when_a_restart_starts_the_process_again() {
    let mut h = Harness::new("[program:web]\ncommand=/bin/sh\nstartsecs=0\nstopwaitsecs=5\n");
    let (_, pid, _) = h.spawned().await;
    let handle = h.handle.clone();
    let stop = tokio::spawn(async move { handle.stop("web", true).await });
    assert_eq!(h.signalled().await.1, Signal::TERM);
    // While it stops, a restart comes in: it starts again once reaped.
    let info = h.handle.restart("web", false).await.unwrap();
    assert_eq!(info.state, Stopping);
    h.killed(pid, NixSignal::SIGTERM);
    let stopped = tokio::time::timeout(Duration::from_secs(3600), stop)
        .await
        .expect("the stop is answered");
    assert_eq!(stopped.unwrap().unwrap().state, Stopped);
    assert_eq!(h.spawned().await.0, "web");
}

#[tokio::test(start_paused = true)]
async fn reread_add_and_remove_groups_and_reload() {
    let mut h = Harness::new(
        "[program:kept]\ncommand=/bin/sh\nstartsecs=0\n\
         [program:changed]\ncommand=/bin/sh\nstartsecs=0\n\
         [program:gone]\ncommand=/bin/sh\nstartsecs=0\n",
    );
    for _ in 0..3 {
        h.spawned().await;
    }
    let next = Arc::new(config(
        h.dir.path(),
        "[program:kept]\ncommand=/bin/sh\nstartsecs=0\n\
         [program:changed]\ncommand=/bin/sh -c true\nstartsecs=0\n\
         [program:added]\ncommand=/bin/sh\nstartsecs=0\n",
    ));
    let (added, changed, removed) = h.handle.reread(next.clone()).await.unwrap();
    assert_eq!(
        (added, changed, removed),
        (
            vec!["added".into()],
            vec!["changed".into()],
            vec!["gone".into()]
        )
    );
    // Removing a running group is refused; once stopped it goes.
    assert_eq!(
        h.handle.remove_group("gone").await,
        Err(Fault::StillRunning("gone".into()))
    );
    h.handle.stop("gone", false).await.unwrap();
    let (pid, ..) = h.signalled().await;
    h.killed(pid, NixSignal::SIGTERM);
    h.entered("gone", Stopped).await;
    h.handle.remove_group("gone").await.unwrap();
    h.handle.add_group("added").await.unwrap();
    assert_eq!(h.spawned().await.0, "added");
    let names: Vec<String> = h
        .handle
        .processes()
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names, vec!["added", "changed", "kept"]);

    // A reload stops everything and starts the new config's programs.
    let handle = h.handle.clone();
    let reload = tokio::spawn(async move { handle.reload(next).await });
    for _ in 0..3 {
        let (pid, ..) = h.signalled().await;
        h.killed(pid, NixSignal::SIGTERM);
    }
    let mut started: Vec<String> = Vec::new();
    for _ in 0..3 {
        started.push(h.spawned().await.0);
    }
    started.sort();
    assert_eq!(started, vec!["added", "changed", "kept"]);
    reload.await.unwrap().unwrap();
    assert_eq!(h.handle.state(), SupervisorState::Running);
}

/// The next state change event of `name`: (to, pid).
async fn next_change(h: &mut Harness, name: &str) -> (ProcessState, i32) {
    loop {
        let ev = tokio::time::timeout(Duration::from_secs(3600), h.events.recv())
            .await
            .expect("an event within an hour")
            .unwrap();
        if let Event::ProcessStateChanged {
            name: n, to, pid, ..
        } = ev
            && n == name
        {
            return (to, pid);
        }
    }
}

#[tokio::test(start_paused = true)]
async fn state_events_carry_the_pid_of_the_process_that_ended() {
    let mut h = Harness::new("[program:web]\ncommand=/bin/sh\nstartsecs=0\nautorestart=true\n");
    let (_, first, _) = h.spawned().await;
    assert_eq!(next_change(&mut h, "web").await, (Starting, 0));
    assert_eq!(next_change(&mut h, "web").await, (Running, first));
    // Exited with its own pid; the restart is a new process.
    h.exit(first, 0);
    assert_eq!(next_change(&mut h, "web").await, (Exited, first));
    let (_, second, _) = h.spawned().await;
    assert_eq!(next_change(&mut h, "web").await, (Starting, 0));
    assert_eq!(next_change(&mut h, "web").await, (Running, second));
    let handle = h.handle.clone();
    let stop = tokio::spawn(async move { handle.stop("web", true).await });
    h.signalled().await;
    assert_eq!(next_change(&mut h, "web").await, (Stopping, second));
    h.exit(second, 0);
    assert_eq!(next_change(&mut h, "web").await, (Stopped, second));
    stop.await.unwrap().unwrap();
    assert_eq!(h.handle.info("web").await.unwrap().pid, 0);
}

#[tokio::test(start_paused = true)]
async fn a_failing_pre_start_hook_is_a_failed_start_and_a_passing_one_lets_it_spawn() {
    let mut h = Harness::new(
        "[program:web]\ncommand=/bin/sh\nstartsecs=0\nstartretries=3\npre_start_hook=check\n",
    );
    let (name, hook, at) = h.spawned().await;
    assert_eq!((name.as_str(), at), ("'web' pre_start_hook", 0.0));
    assert_eq!(h.state("web").await, Starting);
    h.exit(hook, 3);
    assert_eq!(h.entered("web", Backoff).await, 0.0);
    let info = h.handle.info("web").await.unwrap();
    assert_eq!(info.spawnerr, "pre_start_hook failed: exit status 3");
    // The retry runs the hook again; this time it passes and the program spawns.
    let (name, hook, at) = h.spawned().await;
    assert_eq!((name.as_str(), at), ("'web' pre_start_hook", 1.0));
    h.exit(hook, 0);
    let (name, _, at) = h.spawned().await;
    assert_eq!((name.as_str(), at), ("web", 1.0));
    assert_eq!(h.entered("web", Running).await, 1.0);
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn a_hook_that_hangs_is_killed_at_its_timeout() {
    let mut h = Harness::new(
        "[program:web]\ncommand=/bin/sh\nstartretries=0\npre_start_hook=sleep 99\nhook_timeout=5\n",
    );
    let (_, hook, _) = h.spawned().await;
    assert_eq!(h.signalled().await, (hook, Signal::KILL, true, 5.0));
    h.killed(hook, NixSignal::SIGKILL);
    h.entered("web", Fatal).await;
    let info = h.handle.info("web").await.unwrap();
    assert_eq!(info.spawnerr, "pre_start_hook failed: timed out after 5s");
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn a_stop_while_the_pre_start_hook_runs_kills_it_and_nothing_spawns() {
    let mut h = Harness::new("[program:web]\ncommand=/bin/sh\npre_start_hook=slow\n");
    let (_, hook, _) = h.spawned().await;
    let handle = h.handle.clone();
    let stop = tokio::spawn(async move { handle.stop("web", true).await });
    assert_eq!(h.signalled().await, (hook, Signal::KILL, true, 0.0));
    h.killed(hook, NixSignal::SIGKILL);
    let info = stop.await.unwrap().unwrap();
    assert_eq!(info.state, Stopped);
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn the_pre_stop_hook_runs_before_the_stop_signal() {
    let mut h = Harness::new(
        "[program:web]\ncommand=/bin/sh\nstartsecs=0\npre_stop_hook=drain\nhook_timeout=30\n",
    );
    let (_, pid, _) = h.spawned().await;
    let handle = h.handle.clone();
    let stop = tokio::spawn(async move { handle.stop("web", true).await });
    let (name, hook, _) = h.spawned().await;
    assert_eq!(name, "'web' pre_stop_hook");
    assert_eq!(h.state("web").await, Stopping);
    tokio::time::sleep(Duration::from_secs(7)).await;
    h.exit(hook, 1);
    // A failed pre_stop_hook does not keep the process running.
    assert_eq!(h.signalled().await, (pid, Signal::TERM, false, 7.0));
    h.killed(pid, NixSignal::SIGTERM);
    assert_eq!(stop.await.unwrap().unwrap().state, Stopped);
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn a_failing_liveness_check_restarts_the_process_and_readiness_gates_dependents() {
    let mut h = Harness::new(
        "[program:db]\ncommand=/bin/sh\nstartsecs=1\nliveness_check_script=probe\n\
         liveness_check_initial_delay=2\nliveness_check_period=10\nliveness_check_failure_threshold=2\n\
         [program:app]\ncommand=/bin/sh\nstartsecs=0\ndepends_on=db\n",
    );
    let (_, db, _) = h.spawned().await;
    assert_eq!(h.entered("db", Running).await, 1.0);
    // The first check, 2 s after RUNNING: app still waits for it.
    let (name, check, at) = h.spawned().await;
    assert_eq!((name.as_str(), at), ("'db' liveness check", 3.0));
    assert_eq!(h.state("app").await, Stopped);
    h.exit(check, 0);
    let (name, _, at) = h.spawned().await;
    assert_eq!((name.as_str(), at), ("app", 3.0));
    let info = h.handle.info("db").await.unwrap();
    assert_eq!(info.health, crate::process::health::Health::Healthy);
    // Two failures in a row, a period apart: unhealthy, and restarted.
    let (_, check, at) = h.spawned().await;
    assert_eq!(at, 13.0);
    h.exit(check, 1);
    let (_, check, at) = h.spawned().await;
    assert_eq!(at, 23.0);
    h.exit(check, 1);
    assert_eq!(h.signalled().await, (db, Signal::TERM, false, 23.0));
    let info = h.handle.info("db").await.unwrap();
    assert_eq!(
        info.health,
        crate::process::health::Health::Unhealthy("exit status 1".into())
    );
    h.killed(db, NixSignal::SIGTERM);
    let (name, _, at) = h.spawned().await;
    assert_eq!((name.as_str(), at), ("db", 23.0));
}

#[tokio::test(start_paused = true)]
async fn changes_act_only_on_running_processes_and_cron_starts_only_stopped_ones() {
    let mut h = Harness::new(
        "[program:web]\ncommand=/bin/sh\nstartsecs=0\nrestart_directory_monitor=/tmp\n\
         restart_signal_when_file_changed=HUP USR1\n\
         [program:job]\ncommand=/bin/sh\nstartsecs=0\nautostart=false\nautorestart=false\n\
         cron=@every 1h\nrestart_when_binary_changed=true\n",
    );
    let (_, web, _) = h.spawned().await;
    h.handle
        .changed(
            "web:web".into(),
            crate::supervisor::Changed::Files,
            "/tmp/x".into(),
        )
        .await;
    assert_eq!(h.signalled().await.1, Signal::HUP);
    assert_eq!(
        h.signalled().await,
        (web, Signal::parse("USR1").unwrap(), false, 0.0)
    );
    // Not running: a change does nothing, a tick starts it, and a tick while it runs does not.
    h.handle
        .changed(
            "job:job".into(),
            crate::supervisor::Changed::Binary,
            "x".into(),
        )
        .await;
    h.handle.scheduled("job:job".into()).await;
    let (name, job, _) = h.spawned().await;
    assert_eq!(name, "job");
    h.entered("job", Running).await;
    h.handle.scheduled("job:job".into()).await;
    h.handle
        .changed(
            "job:job".into(),
            crate::supervisor::Changed::Binary,
            "x".into(),
        )
        .await;
    // Restarted through the one restart path: stopped, then spawned again.
    assert_eq!(h.signalled().await.0, job);
    h.killed(job, NixSignal::SIGTERM);
    assert_eq!(h.spawned().await.0, "job");
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn a_slow_pre_start_hook_does_not_count_as_uptime() {
    let mut h = Harness::new(
        "[program:web]\ncommand=/bin/sh\nstartsecs=1\nstartretries=0\npre_start_hook=slow\n",
    );
    let (_, hook, _) = h.spawned().await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    h.exit(hook, 0);
    let (name, pid, at) = h.spawned().await;
    assert_eq!((name.as_str(), at), ("web", 5.0));
    // It dies at once: a failed start, although 5 s passed since the start began.
    h.exit(pid, 1);
    h.entered("web", Fatal).await;
    h.quiet().await;
}

#[tokio::test(start_paused = true)]
async fn a_pre_start_hook_that_ends_during_shutdown_starts_nothing() {
    let mut h = Harness::new(
        "[program:web]\ncommand=/bin/sh\npre_start_hook=slow\npriority=1\n\
         [program:last]\ncommand=/bin/sh\nstartsecs=0\npriority=2\n",
    );
    let (name, hook, _) = h.spawned().await;
    assert_eq!(name, "'web' pre_start_hook");
    let (_, last, _) = h.spawned().await;
    h.handle.request_shutdown().await.unwrap();
    // The last group is stopped first; web's hook ends meanwhile: web is not spawned.
    assert_eq!(h.signalled().await, (last, Signal::TERM, false, 0.0));
    h.exit(hook, 0);
    assert_eq!(h.entered("web", Stopped).await, 0.0);
    h.killed(last, NixSignal::SIGTERM);
    h.actor.await.unwrap();
    if let Ok(c) = h.calls.try_recv() {
        panic!("unexpected {c:?}");
    }
}
