//! Loading whole configs: defaults, expansions, includes, Go extensions, and located errors.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use shared::config::{
    Config, ConfigErrors, FcgiConfig, FcgiSocket, LoadOptions, LogTarget, ProcessKind, load,
    load_str,
};
use shared::events::{EventType, TickPeriod};
use shared::signals::Signal;
use shared::values::AutoRestart;

fn opts(dir: &Path) -> LoadOptions {
    LoadOptions {
        environ: vec![
            ("HOME".into(), "/root".into()),
            ("APP_PORT".into(), "8080".into()),
        ],
        host_node_name: "node1".into(),
        cwd: dir.to_owned(),
        overrides: Default::default(),
    }
}

fn load_text(text: &str) -> (tempfile::TempDir, Result<Config, ConfigErrors>) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("supervisord.conf");
    std::fs::write(&path, text).unwrap();
    let r = load(&path, &opts(dir.path()));
    (dir, r)
}

fn ok(text: &str) -> (tempfile::TempDir, Config) {
    let (d, r) = load_text(text);
    match r {
        Ok(c) => (d, c),
        Err(e) => panic!("config rejected:\n{e}"),
    }
}

fn err(text: &str) -> String {
    match load_text(text).1 {
        Ok(_) => panic!("config accepted:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn python_defaults() {
    let (_d, c) = ok("[program:web]\ncommand=/bin/cat\n");
    let p = c.processes().next().unwrap();
    assert_eq!(p.full_name(), "web:web");
    assert_eq!(p.priority, 999);
    assert!(p.autostart);
    assert_eq!(p.startsecs, 1);
    assert_eq!(p.startretries, 3);
    assert_eq!(p.autorestart, AutoRestart::Unexpected);
    assert_eq!(p.exitcodes, vec![0]);
    assert_eq!(p.stopsignals, vec![Signal::TERM]);
    assert_eq!(p.stopwaitsecs, 10);
    assert!(!p.stopasgroup && !p.killasgroup);
    assert_eq!(p.stdout.targets, vec![LogTarget::Auto]);
    assert_eq!(p.stdout.maxbytes, 50 * 1024 * 1024);
    assert_eq!(p.stdout.backups, 10);
    assert_eq!(c.supervisord.identifier, "supervisor");
    assert_eq!(c.supervisord.minfds, 1024);
}

#[test]
fn expansions_everywhere_a_program_uses_them() {
    let (d, c) = ok(r#"
[program:w]
command=/bin/echo %(program_name)s %(process_num)02d %(group_name)s %(numprocs)d %(host_node_name)s %(ENV_APP_PORT)s %(ENV_MINE)s %(here)s 100%%
process_name=%(program_name)s_%(process_num)02d
numprocs=2
environment=MINE="x y"
"#);
    let names: Vec<String> = c.processes().map(|p| p.full_name()).collect();
    assert_eq!(names, vec!["w:w_00", "w:w_01"]);
    let p = c.processes().nth(1).unwrap();
    assert_eq!(
        p.command,
        format!(
            "/bin/echo w 01 w 2 node1 8080 x y {} 100%",
            d.path().display()
        )
    );
    assert_eq!(p.environment, vec![("MINE".to_string(), "x y".to_string())]);
}

#[test]
fn errors_name_file_line_section_key_and_value() {
    let e = err("[program:a]\ncommand=/bin/true\nstartsecs=ten\n");
    assert!(
        e.contains("supervisord.conf:3: [program:a] startsecs=\"ten\": expected an integer"),
        "{e}"
    );
    let e = err("[program:a]\nautostart=true\n");
    assert!(
        e.contains(":1: [program:a] command: section [program:a] does not specify a command"),
        "{e}"
    );
    let e = err("[program:a]\ncommand=x\nstopasgroup=true\nkillasgroup=false\n");
    assert!(e.contains(":4: [program:a] killasgroup=\"false\": cannot set stopasgroup=true and killasgroup=false"), "{e}");
    let e = err("[program:a]\ncommand=x\nnumprocs=2\n");
    assert!(
        e.contains("%(process_num) must be present within process_name"),
        "{e}"
    );
    let e = err("[program:a]\ncommand=x %(bogus)s\n");
    assert!(e.contains("contains name \"bogus\" which cannot be expanded; available names: group_name, here, host_node_name, numprocs, process_num, program_name"), "{e}");
    let e = err("[program:a]\ncommand=x\nstopsignal=NOPE\n");
    assert!(e.contains("not a valid signal name"), "{e}");
    let e = err("[program:a]\ncommand=x\nstdout_logfile_maxbytes=1.5MB\n");
    assert!(e.contains("expected a byte size"), "{e}");
    let e = err("[program:a]\ncommand=x\nexitcodes=0,256\n");
    assert!(e.contains("must be 0-255"), "{e}");
    let e = err("[program:a]\ncommand=x\nstdout_logfile=/no/such/dir/x.log\n");
    assert!(
        e.contains("the directory named as part of the path /no/such/dir/x.log does not exist"),
        "{e}"
    );
    let e = err("[supervisord]\nloglevel=loud\n");
    assert!(e.contains("bad logging level name"), "{e}");
}

#[test]
fn several_errors_are_all_reported() {
    let e = err("[program:a]\ncommand=x\nstartsecs=x\nstartretries=y\n");
    assert!(e.contains("startsecs") && e.contains("startretries"), "{e}");
}

#[test]
fn duplicate_process_names_are_an_error() {
    let e = err(
        "[group:g]\nprograms=a,b\n[program:a]\ncommand=x\nprocess_name=same\n[program:b]\ncommand=y\nprocess_name=same\n",
    );
    assert!(e.contains("two processes are named g:same"), "{e}");
    let e = err("[group:a]\nprograms=b\n[program:a]\ncommand=x\n[program:b]\ncommand=y\n");
    assert!(e.contains("two process groups are named \"a\""), "{e}");
}

#[test]
fn depends_on_unknown_and_cycles() {
    let e = err("[program:a]\ncommand=x\ndepends_on=nope\n");
    assert!(
        e.contains("[program:a] depends_on=\"nope\": depends_on names unknown program \"nope\""),
        "{e}"
    );
    let e = err(
        "[program:a]\ncommand=x\ndepends_on=b\n[program:b]\ncommand=x\ndepends_on=c\n[program:c]\ncommand=x\ndepends_on=a\n",
    );
    assert!(
        e.contains("depends_on forms a cycle: a:a -> b:b -> c:c -> a:a"),
        "{e}"
    );
    let (_d, c) = ok(
        "[program:a]\ncommand=x\ndepends_on=b, c\n[program:b]\ncommand=x\n[program:c]\ncommand=x\n",
    );
    assert_eq!(c.processes().next().unwrap().depends_on, vec!["b", "c"]);
}

#[test]
fn unknown_sections_and_keys_warn_with_location() {
    let (_d, c) = ok("[program:a]\ncommand=x\nautorestrat=true\n[prgram:b]\ncommand=y\n");
    let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    assert!(
        w.iter().any(|w| w.contains(
            ":3: [program:a] autorestrat: unknown option, ignored (did you mean autorestart?)"
        )),
        "{w:?}"
    );
    assert!(
        w.iter()
            .any(|w| w.contains(":4: [prgram:b] unknown section, ignored")),
        "{w:?}"
    );
}

#[test]
fn program_default_and_go_extensions() {
    let (_d, c) = ok(r#"
[program-default]
startsecs=0
stopsignal=TERM INT
envFiles=a.env
[program:a]
command=x
stdout_logfile=/dev/stdout, syslog @tcp:logs.example:1514
killwaitsecs=5
restartpause=2
[program:b]
command=y
startsecs=3
stderr_logfile=syslog @10.0.0.1
"#);
    let a = c.processes().next().unwrap();
    let b = c.processes().nth(1).unwrap();
    assert_eq!(a.startsecs, 0);
    assert_eq!(b.startsecs, 3);
    assert_eq!(
        a.stopsignals,
        vec![Signal::TERM, Signal::parse("INT").unwrap()]
    );
    assert!(a.env_files[0].ends_with("a.env"));
    assert_eq!(a.killwaitsecs, 5);
    assert_eq!(a.restartpause, 2);
    assert_eq!(a.stdout.targets.len(), 2);
    assert_eq!(a.stdout.targets[0], LogTarget::Stdout);
    assert!(matches!(&a.stdout.targets[1], LogTarget::Syslog(Some(r)) if r.tcp && r.port == 1514));
    assert!(matches!(&b.stderr.targets[0], LogTarget::Syslog(Some(r)) if !r.tcp && r.port == 514));
    // The env file does not exist: a warning, not an error (it may appear before the start).
    assert!(c.warnings.iter().any(|w| w.message.contains("env file")));
}

#[test]
fn include_globs_relative_to_the_main_file_without_dotfiles() {
    let dir = tempfile::tempdir().unwrap();
    let conf_d = dir.path().join("conf.d");
    std::fs::create_dir(&conf_d).unwrap();
    std::fs::write(conf_d.join("a.conf"), "[program:a]\ncommand=%(here)s/run\n").unwrap();
    std::fs::write(conf_d.join(".hidden.conf"), "[program:hidden]\ncommand=x\n").unwrap();
    let main = dir.path().join("supervisord.conf");
    std::fs::write(&main, "[include]\nfiles=conf.d/*.conf nomatch/*.conf\n").unwrap();
    let c = load(&main, &opts(dir.path())).unwrap();
    let names: Vec<String> = c.processes().map(|p| p.full_name()).collect();
    assert_eq!(names, vec!["a:a"]);
    assert_eq!(
        c.processes().next().unwrap().command,
        format!("{}/run", conf_d.display())
    );
    assert!(c.infos[0].starts_with("Included extra file"));
    assert!(
        c.warnings
            .iter()
            .any(|w| w.message.contains("no file matches via include"))
    );
}

#[test]
fn groups_sort_by_priority_then_name() {
    let (_d, c) = ok(
        "[program:z]\ncommand=x\npriority=1\n[program:b]\ncommand=x\n[program:a]\ncommand=x\n[eventlistener:l]\ncommand=x\nevents=TICK_5\n",
    );
    let names: Vec<&str> = c.groups.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(names, vec!["l", "z", "a", "b"]);
}

#[test]
fn eventlistener_rules() {
    let e = err("[eventlistener:l]\ncommand=x\n");
    assert!(e.contains("requires an events= line"), "{e}");
    let e = err("[eventlistener:l]\ncommand=x\nevents=NOPE\n");
    assert!(e.contains("unknown event type NOPE"), "{e}");
    let e = err("[eventlistener:l]\ncommand=x\nevents=TICK_5\nredirect_stderr=true\n");
    assert!(e.contains("not allowed for an eventlistener"), "{e}");
    let e = err("[eventlistener:l]\ncommand=x\nevents=TICK_5\nbuffer_size=0\n");
    assert!(e.contains("supervisord.conf:4: [eventlistener:l] buffer_size=\"0\": buffer_size must be at least 1"), "{e}");
}

#[test]
fn process_kinds_are_typed() {
    let (_d, c) = ok(
        "[eventlistener:l]\ncommand=x\nevents=PROCESS_STATE, tick_60 ,REMOTE_COMMUNICATION\nbuffer_size=3\nnumprocs=2\nprocess_name=l%(process_num)d\n[fcgi-program:f]\ncommand=x\nsocket=unix:///tmp/%(program_name)s.sock\nsocket_mode=0660\nsocket_backlog=5\n[fcgi-program:t]\ncommand=x\nsocket=tcp://127.0.0.1:9000\n[program:p]\ncommand=x\n",
    );
    let kind = |name: &str| c.processes().find(|p| p.name == name).unwrap().kind.clone();
    let ProcessKind::EventListener(l) = kind("l0") else {
        panic!("a listener")
    };
    assert_eq!(
        l.events,
        vec![
            EventType::ProcessState(None),
            EventType::Tick(Some(TickPeriod::Sixty)),
            EventType::RemoteCommunication
        ]
    );
    assert_eq!(l.buffer_size, 3);
    assert_eq!(l.result_handler, shared::config::ResultHandler::Default);
    assert_eq!(kind("l1"), ProcessKind::EventListener(l));
    assert_eq!(
        kind("f"),
        ProcessKind::Fcgi(FcgiConfig {
            socket: FcgiSocket::Unix {
                path: "/tmp/f.sock".into(),
                owner: None,
                mode: 0o660
            },
            backlog: Some(5)
        })
    );
    assert_eq!(
        kind("t"),
        ProcessKind::Fcgi(FcgiConfig {
            socket: FcgiSocket::Tcp {
                host: "127.0.0.1".into(),
                port: 9000
            },
            backlog: None
        })
    );
    assert_eq!(kind("p"), ProcessKind::Program);
}

#[test]
fn fcgi_socket_errors_are_located() {
    let e = err("[fcgi-program:f]\ncommand=x\n");
    assert!(
        e.contains("[fcgi-program:f] section requires a socket= line"),
        "{e}"
    );
    let e = err("[fcgi-program:f]\ncommand=x\nsocket=unix://rel.sock\n");
    assert!(
        e.contains("supervisord.conf:3: [fcgi-program:f] socket=")
            && e.contains("not an absolute path"),
        "{e}"
    );
    let e = err("[fcgi-program:f]\ncommand=x\nsocket=tcp://h:1\nsocket_mode=0600\n");
    assert!(e.contains("apply to unix sockets"), "{e}");
    let e = err("[fcgi-program:f]\ncommand=x\nsocket=tcp://h:70000\n");
    assert!(e.contains("bad port"), "{e}");
    let e = err("[fcgi-program:f]\ncommand=x\nsocket=unix:///tmp/x\nsocket_backlog=0\n");
    assert!(
        e.contains("socket_backlog must be between 1 and 65535"),
        "{e}"
    );
    // The socket knows the program's name only, as in supervisor.
    let e = err("[fcgi-program:f]\ncommand=x\nsocket=unix:///tmp/%(process_num)d\n");
    assert!(e.contains("process_num"), "{e}");
}

#[test]
fn servers_and_ctl() {
    let (d, c) = ok(
        "[unix_http_server]\nfile=%(here)s/s.sock\n[inet_http_server]\nport=:9001\n[supervisorctl]\nserverurl=unix://%(here)s/s.sock\n",
    );
    assert_eq!(c.unix_http_server.unwrap().file, d.path().join("s.sock"));
    let inet = c.inet_http_server.unwrap();
    assert_eq!((inet.host.as_str(), inet.port_number), ("", 9001));
    assert_eq!(
        c.supervisorctl.serverurl,
        Some(format!("unix://{}/s.sock", d.path().display()))
    );
    let e = err("[inet_http_server]\nport=127.0.0.1:9001\nusername=u\n");
    assert!(
        e.contains("username and password must be set together"),
        "{e}"
    );
}

#[test]
fn tls_files_and_the_ctl_cafile() {
    let (d, c) = ok(
        "[inet_http_server]\nport=:9443\ncertfile=tls/cert.pem\nkeyfile=/etc/k.pem\n[supervisorctl]\ncafile=/etc/ca.pem\n",
    );
    let tls = c
        .inet_http_server
        .expect("inet_http_server")
        .tls
        .expect("tls");
    assert_eq!(tls.certfile, d.path().join("tls/cert.pem"));
    assert_eq!(tls.keyfile, Path::new("/etc/k.pem"));
    assert_eq!(
        c.supervisorctl.cafile.as_deref(),
        Some(Path::new("/etc/ca.pem"))
    );
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let (_, c) = ok("[inet_http_server]\nport=:9001\n");
    assert!(c.inet_http_server.expect("inet_http_server").tls.is_none());
    for half in ["certfile=c.pem", "keyfile=k.pem"] {
        let e = err(&format!("[inet_http_server]\nport=:9001\n{half}\n"));
        assert!(
            e.contains("certfile and keyfile must be set together"),
            "{e}"
        );
    }
}

#[test]
fn load_str_resolves_relative_paths_against_cwd() {
    let dir = tempfile::tempdir().unwrap();
    let c = load_str(
        "[supervisord]\nlogfile=main.log\n",
        Path::new("x.conf"),
        &opts(dir.path()),
    )
    .unwrap();
    assert_eq!(
        c.supervisord.logfile,
        shared::config::MainLog::File(PathBuf::from(dir.path()).join("main.log"))
    );
}

#[test]
fn numprocs_is_bounded_and_a_per_process_error_is_said_once() {
    let e = err(
        "[program:a]\ncommand=sleep 1\nnumprocs=999999999\nprocess_name=%(program_name)s_%(process_num)d\n",
    );
    assert!(
        e.contains(":3: [program:a] numprocs=\"999999999\": numprocs must be at most 10000"),
        "{e}"
    );
    let e = err(
        "[program:b]\ncommand=sleep 1\nuser=nosuchuser\nnumprocs=3000\nprocess_name=%(program_name)s_%(process_num)d\n",
    );
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(
        e.contains(":3: [program:b] user=\"nosuchuser\"")
            && e.contains("(3000 times: once per process of the section)"),
        "{e}"
    );
    // At the limit, it loads.
    let (_d, c) = ok(
        "[program:c]\ncommand=sleep 1\nnumprocs=10000\nprocess_name=%(program_name)s_%(process_num)d\n",
    );
    assert_eq!(c.groups[0].processes.len(), 10_000);
}

#[test]
fn a_repeated_section_is_merged_with_a_warning_naming_both_places() {
    let dir = tempfile::tempdir().expect("test setup");
    std::fs::write(dir.path().join("more.conf"), "[program:web]\nstartsecs=5\n")
        .expect("test setup");
    let path = dir.path().join("supervisord.conf");
    std::fs::write(
        &path,
        "[include]\nfiles=more.conf\n[program:web]\ncommand=/bin/cat\nstartsecs=1\n",
    )
    .expect("test setup");
    let c = load(&path, &opts(dir.path())).expect("test setup");
    let web = &c.groups[0].processes[0];
    assert_eq!((web.command.as_str(), web.startsecs), ("/bin/cat", 5));
    let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
    let expected = format!(
        "{}:1: [program:web] the section appears again here (first at {}:3); the two are merged, the later values winning",
        dir.path().join("more.conf").display(),
        path.display()
    );
    assert!(w.contains(&expected), "{w:#?}");
}

#[test]
fn a_format_width_no_name_needs_is_a_config_error() {
    let e =
        err("[program:x]\ncommand=x\nprocess_name=%(program_name)s_%(process_num)0999999999d\n");
    assert!(
        e.contains("process_name") && e.contains("format width 999999999 is too large"),
        "{e}"
    );
}

/// Every option of a liveness check is read, in a section and in [program-default], so none is
/// reported as unknown.
#[test]
fn liveness_options_are_not_unknown() {
    let check = "liveness_check_script=tcp://127.0.0.1:5432\nliveness_check_initial_delay=1s\n\
                 liveness_check_period=5s\nliveness_check_timeout=2s\n\
                 liveness_check_success_threshold=1\nliveness_check_failure_threshold=3\n\
                 liveness_check_failure_action=restart\n";
    for text in [
        format!("[program:db]\ncommand=sleep 60\n{check}"),
        format!("[program-default]\n{check}[program:db]\ncommand=sleep 60\n"),
        format!("[fcgi-program:web]\ncommand=cat\nsocket=tcp://127.0.0.1:9000\n{check}"),
    ] {
        let (_, c) = ok(&text);
        assert!(c.warnings.is_empty(), "{text}\n{:?}", c.warnings);
    }
}

/// A syslog facility or priority that syslog doesn't know is an error, not a silent default.
#[test]
fn syslog_names_are_checked() {
    let (_, c) = ok("[program:a]\ncommand=cat\nsyslog_facility=LOG_LOCAL3\n\
                     syslog_stdout_priority=warn\nsyslog_stderr_priority=CRIT\n");
    let syslog = &c.groups[0].processes[0].syslog;
    assert_eq!(syslog.facility.as_deref(), Some("local3"));
    assert_eq!(syslog.stdout_priority.as_deref(), Some("warning"));
    assert_eq!(syslog.stderr_priority.as_deref(), Some("crit"));
    let e = err("[program:a]\ncommand=cat\nsyslog_facility=local9\n");
    assert!(
        e.contains(":3: [program:a] syslog_facility=\"local9\": unknown syslog facility"),
        "{e}"
    );
    let e = err("[program:a]\ncommand=cat\nsyslog_stderr_priority=loud\n");
    assert!(
        e.contains("syslog_stderr_priority=\"loud\": unknown syslog priority"),
        "{e}"
    );
}
