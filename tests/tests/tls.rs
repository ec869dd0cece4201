//! HTTPS on `[inet_http_server]` (`certfile=`, `keyfile=`): our supervisorctl (gRPC), curl
//! (REST, /metrics) and Python's xmlrpc.client over TLS with a private CA made by openssl;
//! certificate renewal without a restart; plain HTTP refused with a message; bad pairs named.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use tests::{DEADLINE, Daemon, curl, run_ctl, venv_python};

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl");
    assert!(
        o.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// A CA (`NAME-ca.pem`) and a server certificate it signed for 127.0.0.1 and localhost
/// (`NAME.pem`, `NAME.key`).
fn make_pki(dir: &Path, name: &str) -> (PathBuf, PathBuf, PathBuf) {
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let (ca, ca_key) = (format!("{name}-ca.pem"), format!("{name}-ca.key"));
    let (cert, key, csr) = (
        format!("{name}.pem"),
        format!("{name}.key"),
        format!("{name}.csr"),
    );
    let subj = format!("/CN={name} test CA");
    let mut args = vec!["req", "-x509"];
    args.extend(ec);
    args.extend([
        "-keyout", &ca_key, "-out", &ca, "-days", "2", "-subj", &subj,
    ]);
    openssl(dir, &args);
    let mut args = vec!["req"];
    args.extend(ec);
    args.extend(["-keyout", &key, "-out", &csr, "-subj", "/CN=localhost"]);
    openssl(dir, &args);
    std::fs::write(
        dir.join("san.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
    )
    .expect("write san.ext");
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            &csr,
            "-CA",
            &ca,
            "-CAkey",
            &ca_key,
            "-CAcreateserial",
            "-out",
            &cert,
            "-days",
            "2",
            "-extfile",
            "san.ext",
        ],
    );
    (dir.join(ca), dir.join(cert), dir.join(key))
}

struct Secure {
    d: Daemon,
    url: String,
    ca: PathBuf,
    /// Holds the CA and the served pair (`server.pem`, `server.key`).
    pki: tempfile::TempDir,
}

/// A daemon with an HTTPS port (credentials u/p), and a running program.
fn secure_daemon() -> Secure {
    let pki = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = make_pki(pki.path(), "first");
    let (served_cert, served_key) = (pki.path().join("server.pem"), pki.path().join("server.key"));
    std::fs::copy(cert, &served_cert).expect("copy");
    std::fs::copy(key, &served_key).expect("copy");
    let port = tests::free_port();
    let mut d = Daemon::start(&format!(
        "[inet_http_server]\nport=127.0.0.1:{port}\nusername=u\npassword=p\ncertfile={}\nkeyfile={}\n\
         [program:runner]\ncommand=sleep 600\nstartsecs=0\n",
        served_cert.display(),
        served_key.display()
    ));
    d.wait_log("success: runner entered RUNNING state");
    Secure {
        d,
        url: format!("https://127.0.0.1:{port}"),
        ca,
        pki,
    }
}

#[test]
fn an_https_port_serves_supervisorctl_curl_and_xmlrpc_with_a_private_ca() {
    let s = secure_daemon();
    let ca = s.ca.to_string_lossy().into_owned();

    let out = run_ctl(&[
        "-s", &s.url, "-u", "u", "-p", "p", "--cafile", &ca, "status",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout.contains("runner") && out.stdout.contains("RUNNING"),
        "{out:?}"
    );

    // The CA from [supervisorctl] cafile=, as a deployment would write it.
    let ctl_conf = s.d.path("ctl.conf");
    std::fs::write(
        &ctl_conf,
        format!(
            "[supervisorctl]\nserverurl={}\nusername=u\npassword=p\ncafile={ca}\n",
            s.url
        ),
    )
    .expect("write ctl.conf");
    let out = run_ctl(&["-c", &ctl_conf.to_string_lossy(), "pid"]);
    assert_eq!(out.stdout.trim(), s.d.pid().to_string(), "{out:?}");

    // Without the CA the certificate is not trusted, and the client says what to do.
    let out = run_ctl(&["-s", &s.url, "-u", "u", "-p", "p", "status"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .contains("TLS: invalid peer certificate: UnknownIssuer"),
        "{out:?}"
    );
    assert!(out.stderr.contains("--cafile"), "{out:?}");

    // Credentials still apply inside TLS.
    let out = run_ctl(&[
        "-s", &s.url, "-u", "u", "-p", "wrong", "--cafile", &ca, "status",
    ]);
    assert!(out.stdout.contains("refused the credentials"), "{out:?}");

    let r = curl(&[
        "--cacert",
        &ca,
        "-u",
        "u:p",
        &format!("{}/program/list", s.url),
    ]);
    assert!(r.starts_with("HTTP/2 200"), "{r}");
    assert!(r.contains("\"name\": \"runner\""), "{r}");
    let r = curl(&[
        "--cacert",
        &ca,
        "--http1.1",
        "-u",
        "u:p",
        &format!("{}/metrics", s.url),
    ]);
    assert!(r.starts_with("HTTP/1.1 200"), "{r}");
    assert!(r.contains("node_supervisord_state{name=\"runner\""), "{r}");
    let r = curl(&["--cacert", &ca, &format!("{}/program/list", s.url)]);
    assert!(r.starts_with("HTTP/2 401"), "{r}");

    // Plain HTTP on the HTTPS port: a readable refusal, not a hang or garbage.
    let plain = s.url.replace("https://", "http://");
    let r = curl(&[&format!("{plain}/program/list")]);
    assert!(r.starts_with("HTTP/1.0 400"), "{r}");
    assert!(
        r.contains("This port speaks HTTPS (TLS): use an https:// URL."),
        "{r}"
    );
    let out = run_ctl(&["-s", &plain, "-u", "u", "-p", "p", "status"]);
    assert_ne!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("use an https:// URL"), "{out:?}");

    let py = Command::new(venv_python())
        .args([
            "-c",
            "import ssl, sys, xmlrpc.client\n\
             ctx = ssl.create_default_context(cafile=sys.argv[1])\n\
             p = xmlrpc.client.ServerProxy(sys.argv[2], context=ctx)\n\
             print(p.supervisor.getState()['statename'], p.supervisor.getProcessInfo('runner')['statename'])",
            &ca,
            &s.url.replace("https://", "https://u:p@"),
        ])
        .output()
        .expect("run python");
    assert_eq!(
        String::from_utf8_lossy(&py.stdout).trim(),
        "RUNNING RUNNING",
        "{}",
        String::from_utf8_lossy(&py.stderr)
    );
}

#[test]
fn a_renewed_certificate_is_served_without_a_restart() {
    let mut s = secure_daemon();
    let pki = tempfile::tempdir().expect("tempdir");
    let (ca2, cert2, key2) = make_pki(pki.path(), "second");
    let list = format!("{}/program/list", s.url);
    let ca = s.ca.to_string_lossy().into_owned();
    let ca2 = ca2.to_string_lossy().into_owned();
    assert!(curl(&["--cacert", &ca, "-u", "u:p", &list]).starts_with("HTTP/2 200"));

    // Half a renewal (the new key, the old certificate) does not load: the old pair serves.
    let replace = |from: &Path, to: &str| {
        let tmp = s.pki.path().join(format!("{to}.new"));
        std::fs::copy(from, &tmp).expect("copy");
        std::fs::rename(&tmp, s.pki.path().join(to)).expect("rename");
    };
    replace(&key2, "server.key");
    let r = curl(&["--cacert", &ca, "-u", "u:p", &list]);
    assert!(r.starts_with("HTTP/2 200"), "{r}");
    s.d.wait_log("the private key does not belong to the (first) certificate; still serving the previous certificate");

    replace(&cert2, "server.pem");
    let r = curl(&["--cacert", &ca2, "-u", "u:p", &list]);
    assert!(r.starts_with("HTTP/2 200"), "{r}");
    s.d.wait_log("server.pem: reloaded");
    let r = curl(&["--cacert", &ca, "-u", "u:p", &list]);
    assert!(
        r.is_empty(),
        "the old CA must no longer verify the server: {r}"
    );
}

#[test]
fn a_handshake_that_stalls_is_closed() {
    let s = secure_daemon();
    let addr = s.url.trim_start_matches("https://");
    let mut c = std::net::TcpStream::connect(addr).expect("connect");
    // A TLS record header (handshake, TLS 1.0) announcing 512 bytes, and no more.
    c.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).expect("write");
    c.set_read_timeout(Some(DEADLINE)).expect("timeout");
    let start = Instant::now();
    let mut buf = [0u8; 64];
    let n = c.read(&mut buf).unwrap_or(0);
    assert_eq!(n, 0, "the server must close, not answer");
    assert!(
        start.elapsed() < DEADLINE,
        "closed by the server's handshake timeout"
    );
    // And the daemon still answers.
    let ca = s.ca.to_string_lossy().into_owned();
    let out = run_ctl(&[
        "-s", &s.url, "-u", "u", "-p", "p", "--cafile", &ca, "status",
    ]);
    assert_eq!(out.code, 0, "{out:?}");
}

#[test]
fn a_bad_certificate_pair_is_named_by_check_and_at_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (ca, cert, key) = make_pki(dir.path(), "pki");
    let conf = dir.path().join("s.conf");
    let check = |inet: &str| {
        std::fs::write(
            &conf,
            format!(
                "[supervisord]\nlogfile={d}/main.log\npidfile={d}/s.pid\n[inet_http_server]\nport=127.0.0.1:{port}\n{inet}\n[program:x]\ncommand=sleep 1\n",
                d = dir.path().display(),
                port = tests::free_port(),
            ),
        )
        .expect("write");
        let o = Command::new(tests::bin("supervisord"))
            .args(["-c", &conf.to_string_lossy(), "--check"])
            .output()
            .expect("run");
        (
            o.status.code(),
            String::from_utf8_lossy(&o.stderr).into_owned(),
        )
    };
    let (code, err) = check(&format!("certfile={}", cert.display()));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(":4: [inet_http_server] keyfile: certfile and keyfile must be set together"),
        "{err}"
    );
    let (code, err) = check(&format!(
        "certfile={}\nkeyfile={}",
        cert.display(),
        ca.display()
    ));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains(&format!(
            "[inet_http_server] keyfile={}: no private key in the file",
            ca.display()
        )),
        "{err}"
    );
    let (code, err) = check(&format!(
        "certfile={}\nkeyfile={}",
        key.display(),
        key.display()
    ));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no certificate in the file"), "{err}");
    let (code, err) = check(&format!(
        "certfile={}\nkeyfile={}",
        cert.display(),
        "/nonexistent.key"
    ));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("[inet_http_server] keyfile=/nonexistent.key: can't read: No such file"),
        "{err}"
    );
    let (code, err) = check(&format!(
        "certfile={}\nkeyfile={}",
        cert.display(),
        key.display()
    ));
    assert_eq!(code, Some(0), "{err}");

    // Starting on a bad pair fails before anything runs, with the same words.
    std::fs::write(
        dir.path().join("other.key"),
        std::fs::read(dir.path().join("pki-ca.key")).expect("read"),
    )
    .expect("write");
    let (code, err) = check(&format!(
        "certfile={}\nkeyfile={}/other.key",
        cert.display(),
        dir.path().display()
    ));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("the private key does not belong to the (first) certificate"),
        "{err}"
    );
    let o = Command::new(tests::bin("supervisord"))
        .args(["-c", &conf.to_string_lossy(), "-n"])
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run");
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("the private key does not belong to the (first) certificate"),
        "{err}"
    );
}
