//! HTTP(S) and TCP probes (health checks, and hooks in the Go supervisord's forms), as
//! Kubernetes' kubelet does them: a TCP probe passes when the connection is accepted; an HTTP
//! probe when its GET (or POST, for a hook with `-d`) is answered with a status from 200 to 399
//! (redirects are not followed, and an https:// certificate is not verified: the point is
//! whether the program answers, on a name that often has no valid certificate).

use std::sync::Arc;
use std::time::Duration;

use shared::config::{HttpBody, HttpRequest, Probe};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::client::danger::{
    HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier,
};
use tokio_rustls::rustls::crypto::{CryptoProvider, ring};
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use tokio_rustls::rustls::{ClientConfig, DigitallySignedStruct, SignatureScheme};

/// The most of a response read for its status line.
const HEAD_LIMIT: usize = 8192;

/// Runs `probe` (HTTP or TCP) within `timeout`.
pub async fn run(probe: &Probe, timeout: Duration) -> Result<(), String> {
    let work = async {
        match probe {
            Probe::Tcp { host, port } => TcpStream::connect((host.as_str(), *port))
                .await
                .map(drop)
                .map_err(|e| format!("tcp://{host}:{port}: {e}")),
            Probe::Http(req) => http(req).await.map_err(|e| format!("{}: {e}", req.url)),
            Probe::Command(_) => Err("a command is run by the supervisor".into()),
        }
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(r) => r,
        Err(_) => Err(match probe {
            Probe::Tcp { host, port } => {
                format!("tcp://{host}:{port}: no answer within {timeout:?}")
            }
            Probe::Http(req) => format!("{}: no answer within {timeout:?}", req.url),
            Probe::Command(_) => format!("no answer within {timeout:?}"),
        }),
    }
}

/// The parts of an http(s) URL a GET needs.
#[derive(Debug, PartialEq, Eq)]
struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// `host[:port]` as the Host header says it.
    authority: String,
    path: String,
}

fn parse(url: &str) -> Result<Target, String> {
    let (tls, rest) = if let Some(r) = strip_prefix_ci(url, "https://") {
        (true, r)
    } else if let Some(r) = strip_prefix_ci(url, "http://") {
        (false, r)
    } else {
        return Err("not an http:// or https:// URL".into());
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(k) if rest[k..].starts_with('/') => (&rest[..k], rest[k..].to_owned()),
        Some(k) => (&rest[..k], format!("/{}", &rest[k..])),
        None => (rest, "/".to_owned()),
    };
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let default_port = if tls { 443 } else { 80 };
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let (h, after) = v6.split_once(']').ok_or("bad IPv6 address")?;
        let port = match after.strip_prefix(':') {
            Some(p) => p.parse().map_err(|_| format!("bad port {p:?}"))?,
            None => default_port,
        };
        (h.to_owned(), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (
                h.to_owned(),
                p.parse().map_err(|_| format!("bad port {p:?}"))?,
            ),
            None => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err("no host".into());
    }
    Ok(Target {
        tls,
        host,
        port,
        authority: authority.to_owned(),
        path,
    })
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &s[prefix.len()..])
}

/// The most of a `-d @FILE` body sent.
const BODY_LIMIT: u64 = 1 << 20;

async fn http(req: &HttpRequest) -> Result<(), String> {
    let t = parse(&req.url)?;
    let body = match &req.body {
        None => None,
        Some(HttpBody::Text(s)) => Some(s.clone().into_bytes()),
        Some(HttpBody::File(f)) => {
            let file = tokio::fs::File::open(f)
                .await
                .map_err(|e| format!("{}: {e}", f.display()))?;
            let mut data = Vec::new();
            file.take(BODY_LIMIT)
                .read_to_end(&mut data)
                .await
                .map_err(|e| format!("{}: {e}", f.display()))?;
            Some(data)
        }
    };
    let tcp = TcpStream::connect((t.host.as_str(), t.port))
        .await
        .map_err(|e| e.to_string())?;
    let status = if t.tls {
        let name = ServerName::try_from(t.host.clone()).map_err(|e| e.to_string())?;
        let tls = TlsConnector::from(Arc::new(insecure_client()?))
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS: {e}"))?;
        send(tls, &t, &req.headers, body.as_deref()).await?
    } else {
        send(tcp, &t, &req.headers, body.as_deref()).await?
    };
    if (200..400).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP status {status}"))
    }
}

/// A GET (or a POST of `body`), and the status of the answer.
async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    t: &Target,
    headers: &[(String, String)],
    body: Option<&[u8]>,
) -> Result<u16, String> {
    let mut req = format!(
        "{} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: supervisord-rs\r\nAccept: */*\r\nConnection: close\r\n",
        if body.is_some() { "POST" } else { "GET" },
        t.path,
        t.authority
    );
    for (name, value) in headers {
        req.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(b) = body {
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        req.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    if let Some(b) = body {
        s.write_all(b).await.map_err(|e| e.to_string())?;
    }
    let mut head = Vec::with_capacity(256);
    let mut buf = [0u8; 1024];
    while !head.contains(&b'\n') && head.len() < HEAD_LIMIT {
        let n = s.read(&mut buf).await.map_err(|e| e.to_string())?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    status_of(&head)
}

/// The status code of `HTTP/1.x NNN reason`.
fn status_of(head: &[u8]) -> Result<u16, String> {
    let line = head.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    match (words.next(), words.next().map(str::parse::<u16>)) {
        (Some(v), Some(Ok(code))) if v.starts_with("HTTP/") => Ok(code),
        _ if line.is_empty() => Err("the connection closed without an answer".into()),
        _ => Err(format!("not an HTTP answer: {:?}", line.trim_end())),
    }
}

fn insecure_client() -> Result<ClientConfig, String> {
    let provider = Arc::new(ring::default_provider());
    let verifier = Arc::new(AnyCertificate(provider.clone()));
    Ok(ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth())
}

/// Accepts any certificate, but still checks that the handshake is signed by it.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, tokio_rustls::rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        tokio_rustls::rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, tokio_rustls::rustls::Error> {
        tokio_rustls::rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let t = parse("http://127.0.0.1:8080/health?x=1").expect("parses");
        assert_eq!(
            t,
            Target {
                tls: false,
                host: "127.0.0.1".into(),
                port: 8080,
                authority: "127.0.0.1:8080".into(),
                path: "/health?x=1".into()
            }
        );
        let t = parse("HTTPS://[::1]/").expect("parses");
        assert_eq!((t.tls, t.host.as_str(), t.port), (true, "::1", 443));
        assert_eq!(
            parse("http://localhost?ready").expect("parses").path,
            "/?ready"
        );
        assert!(parse("http://:80/").is_err());
        assert!(parse("http://h:x/").is_err());
    }

    #[test]
    fn status_lines() {
        assert_eq!(status_of(b"HTTP/1.1 204 No Content\r\n"), Ok(204));
        assert_eq!(status_of(b"HTTP/1.0 500 Oops\r\n\r\n"), Ok(500));
        assert!(status_of(b"").is_err());
        assert!(status_of(b"SSH-2.0-OpenSSH\r\n").is_err());
    }

    #[tokio::test]
    async fn probes_against_real_sockets() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let server = tokio::spawn(async move {
            let mut requests = Vec::new();
            for status in ["200 OK", "503 Service Unavailable", "204 No Content"] {
                let (mut s, _) = listener.accept().await.expect("accept");
                let mut got = Vec::new();
                let mut buf = [0u8; 1024];
                // Until the end of the head, and of a body of Content-Length 3 if one comes.
                while !(got.ends_with(b"\r\n\r\n") || got.ends_with(b"x=1")) {
                    match s.read(&mut buf).await {
                        Ok(0) | Err(_) => break,
                        Ok(n) => got.extend_from_slice(&buf[..n]),
                    }
                }
                requests.push(String::from_utf8_lossy(&got).into_owned());
                let _ = s
                    .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes())
                    .await;
            }
            requests
        });
        let url = Probe::Http(HttpRequest {
            url: format!("http://127.0.0.1:{port}/"),
            headers: Vec::new(),
            body: None,
        });
        let long = Duration::from_secs(30);
        assert_eq!(run(&url, long).await, Ok(()));
        let e = run(&url, long).await.expect_err("503");
        assert!(e.contains("HTTP status 503"), "{e}");
        let hook = Probe::Http(HttpRequest {
            url: format!("http://127.0.0.1:{port}/hook"),
            headers: vec![("X-Token".into(), "t".into())],
            body: Some(HttpBody::Text("x=1".into())),
        });
        assert_eq!(run(&hook, long).await, Ok(()));
        let requests = server.await.expect("server");
        assert!(
            requests[0].starts_with("GET / HTTP/1.1\r\n"),
            "{}",
            requests[0]
        );
        let post = &requests[2];
        assert!(post.starts_with("POST /hook HTTP/1.1\r\n"), "{post}");
        assert!(
            post.contains("X-Token: t\r\n") && post.contains("Content-Length: 3\r\n"),
            "{post}"
        );
        assert!(post.ends_with("\r\n\r\nx=1"), "{post}");
        let tcp = Probe::Tcp {
            host: "127.0.0.1".into(),
            port,
        };
        // The listener is gone: refused.
        assert!(run(&tcp, long).await.is_err());
    }
}
