//! Which processes a name given by a client selects: parsed once, here, for the daemon's actor,
//! every protocol adapter and the client (supervisor's `split_namespec`).

use std::fmt;

/// What a name selects.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Selection {
    /// Every process (`all`, as supervisorctl takes it; the API has no such name).
    All,
    /// Every process of a group (`group:*` or `group:`).
    Group(String),
    /// One process: `group:name`, or `name` alone, which means `name:name` (a program whose
    /// group is itself).
    Process { group: String, name: String },
}

impl Selection {
    /// A namespec as supervisor's API takes it: `group:name`, `group:*`, `group:` or `name`.
    /// `all` is a process name here, as it is in supervisor's XML-RPC methods.
    pub fn namespec(spec: &str) -> Selection {
        match spec.split_once(':') {
            Some((group, name)) if name.is_empty() || name == "*" => {
                Selection::Group(group.to_owned())
            }
            Some((group, name)) => Selection::Process {
                group: group.to_owned(),
                name: name.to_owned(),
            },
            None => Selection::Process {
                group: spec.to_owned(),
                name: spec.to_owned(),
            },
        }
    }

    /// A name as supervisorctl's commands take it: `all` too.
    pub fn argument(arg: &str) -> Selection {
        if arg == "all" {
            Selection::All
        } else {
            Selection::namespec(arg)
        }
    }

    /// The group a selection names, if it names one (a group, or a process's group).
    pub fn group(&self) -> Option<&str> {
        match self {
            Selection::All => None,
            Selection::Group(g) | Selection::Process { group: g, .. } => Some(g),
        }
    }

    /// Whether the process `group:name` is selected.
    pub fn matches(&self, group: &str, name: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Group(g) => g == group,
            Selection::Process { group: g, name: n } => g == group && n == name,
        }
    }
}

/// supervisor's way to show a process: `name` when it is alone in a group of the same name,
/// else `group:name`.
pub fn namespec(group: &str, name: &str) -> String {
    if group == name {
        name.to_owned()
    } else {
        format!("{group}:{name}")
    }
}

impl fmt::Display for Selection {
    /// The canonical spelling: `all`, `group:*`, `group:name`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selection::All => f.write_str("all"),
            Selection::Group(g) => write!(f, "{g}:*"),
            Selection::Process { group, name } => write!(f, "{group}:{name}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn process(group: &str, name: &str) -> Selection {
        Selection::Process {
            group: group.into(),
            name: name.into(),
        }
    }

    #[test]
    fn namespecs_as_supervisor_splits_them() {
        let cases = [
            ("g:*", Selection::Group("g".into())),
            ("g:", Selection::Group("g".into())),
            ("g:a", process("g", "a")),
            ("a", process("a", "a")),
            ("all", process("all", "all")),
            // Only the first colon splits, as Python's split(':', 1).
            ("g:a:b", process("g", "a:b")),
            (":a", process("", "a")),
        ];
        for (spec, want) in cases {
            assert_eq!(Selection::namespec(spec), want, "{spec}");
        }
        assert_eq!(Selection::argument("all"), Selection::All);
        assert_eq!(Selection::argument("g:*"), Selection::Group("g".into()));
    }

    #[test]
    fn matching_and_display() {
        assert!(Selection::All.matches("g", "a"));
        assert!(Selection::Group("g".into()).matches("g", "a"));
        assert!(!Selection::Group("g".into()).matches("h", "a"));
        assert!(process("g", "a").matches("g", "a"));
        assert!(!process("g", "a").matches("g", "b"));
        assert_eq!(Selection::namespec("g:").to_string(), "g:*");
        assert_eq!(Selection::namespec("web").to_string(), "web:web");
        assert_eq!(namespec("web", "web"), "web");
        assert_eq!(namespec("g", "web"), "g:web");
    }
}
