//! `reread`, `add`, `remove`: comparing a newly read config with the active groups, and adding
//! or removing whole groups while everything else keeps running.

use std::sync::Arc;

use shared::config::{Config, GroupConfig};
use shared::{Fault, ProcessState};
use tracing::info;

use shared::events::GroupChange;

use super::Supervisor;
use crate::events::Event;
use crate::events::bus::PoolSpec;
use crate::process::policy::StartGate;

/// A group's config without where it was written, so moving a section is not a change.
fn normalized(g: &GroupConfig) -> GroupConfig {
    let mut g = g.clone();
    for p in &mut g.processes {
        let p = Arc::make_mut(p);
        p.file = Default::default();
        p.line = 0;
    }
    g
}

impl Supervisor {
    /// The active groups, in start order.
    fn active_groups(&self) -> Vec<GroupConfig> {
        self.groups.clone()
    }

    /// supervisor's `reloadConfig`: (added, changed, removed) group names, each sorted. The new
    /// config is kept for `add`.
    pub(super) fn reread(&mut self, new: Arc<Config>) -> (Vec<String>, Vec<String>, Vec<String>) {
        let active = self.active_groups();
        let mut added = Vec::new();
        let mut changed = Vec::new();
        let mut removed = Vec::new();
        for g in &new.groups {
            match active.iter().find(|a| a.name == g.name) {
                None => added.push(g.name.clone()),
                Some(a) if normalized(a) != normalized(g) => changed.push(g.name.clone()),
                Some(_) => {}
            }
        }
        for a in &active {
            if !new.groups.iter().any(|g| g.name == a.name) {
                removed.push(a.name.clone());
            }
        }
        added.sort();
        changed.sort();
        removed.sort();
        self.pending = Some(new);
        (added, changed, removed)
    }

    /// `addProcessGroup`: activates a group of the last config read, and starts what autostarts.
    pub(super) fn add_group(&mut self, name: &str) -> Result<(), Fault> {
        if !self.running() {
            return Err(Fault::ShutdownState);
        }
        // As supervisor: a group the config no longer has is BAD_NAME even while it runs.
        let source = self.pending.clone().unwrap_or_else(|| self.config.clone());
        let Some(group) = source.groups.iter().find(|g| g.name == name).cloned() else {
            return Err(Fault::BadName(name.to_owned()));
        };
        if self.groups.iter().any(|g| g.name == name) {
            return Err(Fault::AlreadyAdded(name.to_owned()));
        }
        let key = (group.priority, group.name.clone());
        let gpos = self
            .groups
            .iter()
            .position(|g| (g.priority, g.name.clone()) > key)
            .unwrap_or(self.groups.len());
        // The processes go where their group's start order puts them.
        let later: Vec<&str> = self.groups[gpos..]
            .iter()
            .map(|g| g.name.as_str())
            .collect();
        let ppos = self
            .procs
            .iter()
            .position(|p| later.contains(&p.cfg.group.as_str()))
            .unwrap_or(self.procs.len());
        let new: Vec<_> = group
            .processes
            .iter()
            .map(|p| self.make_process(p))
            .collect();
        let count = new.len();
        self.procs.splice(ppos..ppos, new);
        if let Some(pool) = PoolSpec::of(&group) {
            self.bus.add_pool(pool);
        }
        self.groups.insert(gpos, group);
        self.reindex();
        info!("added process group {name}");
        self.bus.emit(Event::ProcessGroup {
            group: name.to_owned(),
            change: GroupChange::Added,
        });
        for i in ppos..ppos + count {
            if self.procs[i].cfg.autostart {
                let _ = self.start(i, None);
            }
        }
        Ok(())
    }

    /// `removeProcessGroup`: only a group whose processes are all stopped.
    pub(super) fn remove_group(&mut self, name: &str) -> Result<(), Fault> {
        if !self.running() {
            return Err(Fault::ShutdownState);
        }
        if !self.groups.iter().any(|g| g.name == name) {
            return Err(Fault::BadName(name.to_owned()));
        }
        let stopped = |s: ProcessState| {
            matches!(
                s,
                ProcessState::Stopped
                    | ProcessState::Exited
                    | ProcessState::Fatal
                    | ProcessState::Unknown
            )
        };
        if self
            .procs
            .iter()
            .any(|p| p.cfg.group == name && (!stopped(p.state) || p.pid != 0))
        {
            return Err(Fault::StillRunning(name.to_owned()));
        }
        self.procs.retain(|p| p.cfg.group != name);
        self.groups.retain(|g| g.name != name);
        self.reindex();
        self.drop_orphan_waiters();
        self.bus.remove_pool(name);
        info!("removed process group {name}");
        self.bus.emit(Event::ProcessGroup {
            group: name.to_owned(),
            change: GroupChange::Removed,
        });
        // What waited for the removed processes as dependencies may start now.
        for i in 0..self.procs.len() {
            let p = &self.procs[i];
            if p.gate == StartGate::WaitingDeps && p.deps.iter().all(|&d| self.procs[d].is_ready())
            {
                self.procs[i].gate = StartGate::Open;
                let _ = self.start(i, None);
            }
        }
        Ok(())
    }
}
