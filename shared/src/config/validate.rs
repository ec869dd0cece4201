//! Cross-section checks that need the whole config: unique names, `depends_on` targets and
//! cycles, programs named by `shutdown_on_exit`.

use std::collections::HashMap;

use super::reader::Reader;
use super::{Config, Diagnostic, ProcessConfig};

pub(super) fn validate(r: &mut Reader<'_>, config: &mut Config) {
    let mut seen_groups: HashMap<&str, &str> = HashMap::new();
    let mut seen: HashMap<String, &ProcessConfig> = HashMap::new();
    for g in &config.groups {
        if seen_groups.insert(&g.name, "").is_some() {
            let p = g.processes.first();
            r.errors.push(Diagnostic {
                line: p.map(|p| p.line),
                ..Diagnostic::file(
                    p.map_or(config.file.clone(), |p| p.file.clone()),
                    format!("two process groups are named {:?} (a [group:x] and a program section, or two sections of different types)", g.name),
                )
            });
        }
        for p in &g.processes {
            if let Some(prev) = seen.insert(p.full_name(), p) {
                r.errors.push(Diagnostic {
                    line: Some(p.line),
                    section: Some(p.section()),
                    key: Some("process_name".into()),
                    value: Some(p.name.clone()),
                    ..Diagnostic::file(
                        &p.file,
                        format!(
                            "two processes are named {} (also defined by [{}] at {}:{})",
                            p.full_name(),
                            prev.section(),
                            prev.file.display(),
                            prev.line
                        ),
                    )
                });
            }
        }
    }

    // depends_on: each name is a program (all its processes), a group, or group:name.
    let mut edges: HashMap<String, Vec<String>> = HashMap::new();
    let resolve = |name: &str| -> Vec<String> {
        config
            .processes()
            .filter(|p| {
                p.program == name || p.group == name || p.full_name() == name || p.name == name
            })
            .map(ProcessConfig::full_name)
            .collect()
    };
    for p in config.processes() {
        for dep in &p.depends_on {
            let targets = resolve(dep);
            if targets.is_empty() {
                r.errors.push(Diagnostic {
                    line: Some(p.line),
                    section: Some(p.section()),
                    key: Some("depends_on".into()),
                    value: Some(dep.clone()),
                    ..Diagnostic::file(&p.file, format!("depends_on names unknown program {dep:?}"))
                });
            }
            edges.entry(p.full_name()).or_default().extend(targets);
        }
    }
    let order: Vec<String> = config.processes().map(ProcessConfig::full_name).collect();
    if let Some(cycle) = find_cycle(&edges, &order) {
        let first = config.processes().find(|p| p.full_name() == cycle[0]);
        r.errors.push(Diagnostic {
            line: first.map(|p| p.line),
            key: Some("depends_on".into()),
            section: first.map(ProcessConfig::section),
            ..Diagnostic::file(
                first.map_or(config.file.clone(), |p| p.file.clone()),
                format!("depends_on forms a cycle: {}", cycle.join(" -> ")),
            )
        });
    }

    for name in &config.supervisord.shutdown_on_exit {
        if resolve(name).is_empty() {
            r.errors.push(Diagnostic {
                section: Some("supervisord".into()),
                key: Some("shutdown_on_exit".into()),
                value: Some(name.clone()),
                ..Diagnostic::file(&config.file, format!("names unknown program {name:?}"))
            });
        }
    }
}

/// A cycle in the dependency graph, as a path that starts and ends at the same node; the search
/// starts from each process in start order, so the message is stable.
fn find_cycle(edges: &HashMap<String, Vec<String>>, order: &[String]) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        n: &str,
        edges: &HashMap<String, Vec<String>>,
        marks: &mut HashMap<String, Mark>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match marks.get(n) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let start = path.iter().position(|p| p == n).unwrap_or(0);
                let mut cycle = path[start..].to_vec();
                cycle.push(n.to_owned());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(n.to_owned(), Mark::Open);
        path.push(n.to_owned());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, marks, path) {
                return Some(c);
            }
        }
        path.pop();
        marks.insert(n.to_owned(), Mark::Done);
        None
    }
    let mut marks = HashMap::new();
    for k in order {
        if let Some(c) = visit(k, edges, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}
