//! Program-type sections (`[program:x]`, `[eventlistener:x]`, `[fcgi-program:x]`) and
//! `[group:x]`, turned into process groups with every process expanded (numprocs).

use std::path::PathBuf;
use std::sync::Arc;

use crate::ini::Section;
use crate::values;

use super::reader::{Reader, Sect, program_base};
use super::{
    GroupConfig, LogTarget, ProcessConfig, ProcessKind, SupervisordConfig, SyslogConfig,
    extensions, kinds, logging,
};

pub(super) const GROUP_KEYS: &[&str] = &["programs", "priority"];
pub(super) const PROGRAM_KEYS: &[&str] = &[
    "command",
    "process_name",
    "numprocs",
    "numprocs_start",
    "priority",
    "autostart",
    "startsecs",
    "startretries",
    "autorestart",
    "exitcodes",
    "stopsignal",
    "stopwaitsecs",
    "stopasgroup",
    "killasgroup",
    "user",
    "redirect_stderr",
    "stdout_logfile",
    "stdout_logfile_maxbytes",
    "stdout_logfile_backups",
    "stdout_capture_maxbytes",
    "stdout_events_enabled",
    "stdout_syslog",
    "stderr_logfile",
    "stderr_logfile_maxbytes",
    "stderr_logfile_backups",
    "stderr_capture_maxbytes",
    "stderr_events_enabled",
    "stderr_syslog",
    "environment",
    "directory",
    "umask",
    "serverurl",
    // Go supervisord extensions
    "envfiles",
    "depends_on",
    "killwaitsecs",
    "restartpause",
    "strip_ansi",
    "syslog_facility",
    "syslog_tag",
    "syslog_stdout_priority",
    "syslog_stderr_priority",
];

/// Every key a section of `section_type` (program, eventlistener, fcgi-program) accepts.
pub(super) fn accepted_keys(section_type: &str) -> Vec<&'static str> {
    [
        PROGRAM_KEYS,
        extensions::KEYS,
        extensions::CHECK_OPTIONS,
        kinds::extra_keys(section_type),
    ]
    .concat()
}

/// The most processes one section may define (Python has no limit; ours keeps a typo such as
/// `numprocs=999999999` from exhausting memory before anything runs).
pub(crate) const MAX_NUMPROCS: i64 = 10_000;

/// Builds every group, sorted by priority (stable, as Python's `groups.sort()`).
pub(super) fn groups<'a>(r: &mut Reader<'a>, sup: &SupervisordConfig) -> Vec<GroupConfig> {
    let ini = r.ini;
    let defaults = ini.section("program-default");
    if let Some(d) = defaults {
        let mut base = program_base(r);
        base.set_str("program_name", "");
        if let Some(mut s) = r.section(&d.name, None, base) {
            s.warn_unknown_keys(&accepted_keys("program"));
        }
    }
    let mut out = Vec::new();
    let mut in_groups: Vec<String> = Vec::new();

    for sec in ini.sections() {
        let Some(group_name) = sec.name.strip_prefix("group:") else {
            continue;
        };
        let group_name = match values::process_or_group_name(group_name) {
            Ok(n) => n,
            Err(m) => {
                r.error_at(sec, m);
                continue;
            }
        };
        let exp = program_base(r);
        let Some(mut s) = r.section(&sec.name, None, exp) else {
            continue;
        };
        let programs = s.string("programs", None).unwrap_or_default();
        let priority = s.value("priority", "999", values::integer);
        s.warn_unknown_keys(GROUP_KEYS);
        let names: Vec<&str> = programs
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect();
        if names.is_empty() {
            r.error_at(sec, "section has no programs= value");
            continue;
        }
        let mut processes = Vec::new();
        for program in names {
            let p = format!("program:{program}");
            let f = format!("fcgi-program:{program}");
            let section = match (ini.section(&p), ini.section(&f)) {
                (Some(_), Some(_)) => {
                    r.error_at(
                        sec,
                        format!("programs= names {program} which is ambiguous (exists as program and fcgi-program)"),
                    );
                    continue;
                }
                (Some(s), None) | (None, Some(s)) => s,
                (None, None) => {
                    r.error_at(
                        sec,
                        format!("programs= names unknown program or fcgi-program {program}"),
                    );
                    continue;
                }
            };
            in_groups.push(section.name.clone());
            let fallback = section
                .name
                .starts_with("program:")
                .then_some(defaults)
                .flatten();
            let (mut procs, _) = processes_from_section(r, section, &group_name, fallback, sup);
            procs.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
            processes.extend(procs);
        }
        processes.shrink_to_fit();
        out.push(GroupConfig {
            name: group_name,
            priority,
            processes,
            explicit: true,
        });
    }

    for kind in ["program", "eventlistener", "fcgi-program"] {
        for sec in ini.sections() {
            let Some(name) = sec
                .name
                .strip_prefix(kind)
                .and_then(|n| n.strip_prefix(':'))
            else {
                continue;
            };
            if in_groups.contains(&sec.name) {
                continue;
            }
            let name = match values::process_or_group_name(name) {
                Ok(n) => n,
                Err(m) => {
                    r.error_at(sec, m);
                    continue;
                }
            };
            let fallback = (kind == "program").then_some(defaults).flatten();
            let (processes, priority) = processes_from_section(r, sec, &name, fallback, sup);
            out.push(GroupConfig {
                name,
                priority,
                processes,
                explicit: false,
            });
        }
    }
    // Python sorts groups and processes by (priority, name).
    out.sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    // A [group:x] keeps its programs= order (each program's processes sorted).
    for g in out.iter_mut().filter(|g| !g.explicit) {
        g.processes
            .sort_by(|a, b| (a.priority, &a.name).cmp(&(b.priority, &b.name)));
    }
    out
}

/// What every process of one section shares.
struct SectionFacts {
    program: String,
    group: String,
    kind: ProcessKind,
    priority: i64,
}

/// One program-type section → its processes (numprocs of them), plus the priority its group
/// has when the section forms a group of its own.
fn processes_from_section<'a>(
    r: &mut Reader<'a>,
    sec: &Section,
    group_name: &str,
    fallback: Option<&'a Section>,
    sup: &SupervisordConfig,
) -> (Vec<Arc<ProcessConfig>>, i64) {
    let (section_type, program) = sec.name.split_once(':').unwrap_or(("program", &sec.name));
    let program = program.trim().to_owned();
    let mut exp = program_base(r);
    exp.set_str("program_name", &program);
    exp.set_str("group_name", group_name);
    let Some(mut s) = r.section(&sec.name, fallback, exp) else {
        return (Vec::new(), 999);
    };
    let listener = section_type == "eventlistener";
    // A pool's own priority defaults to -1 (listeners start first), its processes' to 999,
    // as in Python.
    let priority = s.value("priority", "999", values::integer);
    let pool_priority = if listener && s.raw("priority").is_none() {
        -1
    } else {
        priority
    };
    let numprocs = s.value("numprocs", "1", values::integer);
    let numprocs_start = s.value("numprocs_start", "0", values::integer);
    if numprocs < 1 {
        s.error(
            "numprocs",
            s.raw("numprocs").as_deref(),
            "numprocs must be at least 1",
        );
    }
    if numprocs > MAX_NUMPROCS {
        s.error(
            "numprocs",
            s.raw("numprocs").as_deref(),
            format!("numprocs must be at most {MAX_NUMPROCS} (each process takes pipes, descriptors and memory of the daemon)"),
        );
    }
    let process_name_raw = s
        .raw("process_name")
        .unwrap_or_else(|| "%(program_name)s".into());
    if numprocs > 1 && !process_name_raw.contains("%(process_num)") {
        s.error(
            "process_name",
            Some(&process_name_raw),
            format!("%(process_num) must be present within process_name when numprocs > 1 (numprocs={numprocs}); for example process_name=%(program_name)s_%(process_num)02d"),
        );
    }
    let kind = kinds::process_kind(&mut s, section_type, &program);
    let stopasgroup = s.value("stopasgroup", "false", values::boolean);
    let killasgroup = s.value(
        "killasgroup",
        if stopasgroup { "true" } else { "false" },
        values::boolean,
    );
    if stopasgroup && !killasgroup {
        s.error(
            "killasgroup",
            s.raw("killasgroup").as_deref(),
            "cannot set stopasgroup=true and killasgroup=false",
        );
    }
    if listener && s.value("redirect_stderr", "false", values::boolean) {
        s.error(
            "redirect_stderr",
            Some("true"),
            "redirect_stderr=true is not allowed for an eventlistener: it would interfere with the eventlistener protocol",
        );
    }
    if !s.has("command") {
        s.error(
            "command",
            None,
            format!("section [{}] does not specify a command", s.name()),
        );
    }
    let facts = SectionFacts {
        program,
        group: group_name.to_owned(),
        kind,
        priority,
    };
    let count = if numprocs > MAX_NUMPROCS {
        1
    } else {
        numprocs.max(1)
    };
    let mut procs = Vec::with_capacity(usize::try_from(count).unwrap_or(1).min(1024));
    for process_num in numprocs_start..numprocs_start + count {
        s.exp.set_int("process_num", process_num);
        s.exp.set_int("numprocs", numprocs);
        if let Some(p) = one_process(&mut s, &facts, process_num, sup) {
            procs.push(Arc::new(p));
        }
    }
    s.warn_unknown_keys(&accepted_keys(section_type));
    (procs, pool_priority)
}

fn one_process(
    s: &mut Sect<'_, '_>,
    facts: &SectionFacts,
    process_num: i64,
    sup: &SupervisordConfig,
) -> Option<ProcessConfig> {
    // environment= is expanded before its own names exist; then they become ENV_ names for the
    // other keys, after [supervisord] environment's.
    let environment = s.value("environment", "", values::key_value_pairs);
    for (k, v) in sup.environment.iter().chain(environment.iter()) {
        s.exp.set_str(&format!("ENV_{k}"), v);
    }
    let name_raw = s.string("process_name", Some("%(program_name)s"))?;
    let name = match values::process_or_group_name(&name_raw) {
        Ok(n) => n,
        Err(m) => {
            s.error("process_name", Some(&name_raw), m);
            return None;
        }
    };
    let (command, argv) = command(s);
    let listener = matches!(facts.kind, ProcessKind::EventListener(_));
    let redirect_stderr = !listener && s.value("redirect_stderr", "false", values::boolean);
    let stdout = logging::log_config(s, "stdout", listener);
    let mut stderr = logging::log_config(s, "stderr", listener);
    if redirect_stderr {
        if stderr.targets.iter().any(|t| t != &LogTarget::Auto) && s.has("stderr_logfile") {
            s.warn(
                Some("stderr_logfile"),
                "redirect_stderr=true but stderr_logfile has also been set to a filename, the filename has been ignored",
            );
        }
        stderr.targets.clear();
    }
    let here_dir = s
        .section
        .file
        .parent()
        .map(PathBuf::from)
        .unwrap_or_default();
    let env_files = s.value("envfiles", "", |v| {
        Ok(v.split(',')
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .map(|f| values::relative_to(&here_dir, &values::expand_user(f)))
            .collect::<Vec<_>>())
    });
    for f in &env_files {
        if !f.is_file() {
            s.warn(Some("envfiles"), format!("env file {} does not exist (yet): the program will fail to spawn until it does", f.display()));
        }
    }
    let user = s.non_empty("user");
    if let Some(u) = &user
        && let Err(m) = values::user_spec(u)
    {
        s.error("user", Some(u), m);
    }
    let depends_on = s.value("depends_on", "", |v| {
        Ok(v.split([',', ' '])
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(str::to_owned)
            .collect())
    });
    let serverurl = s
        .non_empty("serverurl")
        .filter(|u| !u.trim().eq_ignore_ascii_case("auto"));
    let stopasgroup = s.value("stopasgroup", "false", values::boolean);
    Some(ProcessConfig {
        name,
        group: facts.group.clone(),
        program: facts.program.clone(),
        kind: facts.kind.clone(),
        command,
        argv,
        process_num,
        priority: facts.priority,
        autostart: s.value("autostart", "true", values::boolean),
        startsecs: s.value("startsecs", "1", values::non_negative),
        startretries: s.value("startretries", "3", values::non_negative),
        autorestart: s.value("autorestart", "unexpected", values::autorestart),
        exitcodes: s.value("exitcodes", "0", values::exitcodes),
        stopsignals: s.value("stopsignal", "TERM", values::signal_list),
        stopwaitsecs: s.value("stopwaitsecs", "10", values::non_negative),
        killwaitsecs: s.value("killwaitsecs", "2", values::non_negative),
        stopasgroup,
        killasgroup: s.value(
            "killasgroup",
            if stopasgroup { "true" } else { "false" },
            values::boolean,
        ),
        user,
        redirect_stderr,
        stdout,
        stderr,
        environment,
        env_files,
        directory: s.non_empty("directory").map(|d| values::expand_user(&d)),
        umask: s.optional("umask", values::octal),
        serverurl,
        depends_on,
        restartpause: s.value("restartpause", "0", values::non_negative),
        strip_ansi: s.value(
            "strip_ansi",
            if sup.strip_ansi { "true" } else { "false" },
            values::boolean,
        ),
        watch: extensions::watch(s, &here_dir),
        hooks: extensions::hooks(s),
        cron: extensions::cron(s),
        liveness: extensions::liveness(s),
        syslog: SyslogConfig {
            facility: s.optional("syslog_facility", values::syslog_facility),
            tag: s.non_empty("syslog_tag"),
            stdout_priority: s.optional("syslog_stdout_priority", values::syslog_priority),
            stderr_priority: s.optional("syslog_stderr_priority", values::syslog_priority),
        },
        file: s.section.file.clone(),
        line: s.section.line,
    })
}

/// `command`, and its words as supervisor splits them.
fn command(s: &mut Sect<'_, '_>) -> (String, Vec<String>) {
    let command = s.string("command", None).unwrap_or_default();
    let argv = match values::shell_split(&command) {
        Ok(v) if !v.is_empty() => v,
        Ok(_) => {
            if s.has("command") {
                s.error("command", Some(&command), "command is empty");
            }
            Vec::new()
        }
        Err(m) => {
            s.error("command", Some(&command), m);
            Vec::new()
        }
    };
    (command, argv)
}
