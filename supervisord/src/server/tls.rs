//! HTTPS for `[inet_http_server]` (`certfile=`, `keyfile=`): the port can then be exposed beyond
//! loopback without sending basic-auth passwords in clear text.
//!
//! The files are read again when either changes (a renewed certificate is picked up by the
//! next connection, no restart); a renewal that does not load keeps the old pair serving, with
//! a warning.

use std::io::BufReader;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use shared::config::TlsFiles;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::{Error, InconsistentKeys, ServerConfig};

/// The first byte of a TLS record carrying a handshake: what a client speaking TLS sends first.
pub(super) const HANDSHAKE: u8 = 0x16;

/// What a plain-HTTP client gets from an HTTPS port.
pub(super) const PLAIN_HTTP_ANSWER: &[u8] = b"HTTP/1.0 400 Bad Request\r\n\
Content-Type: text/plain\r\nConnection: close\r\n\r\n\
This port speaks HTTPS (TLS): use an https:// URL.\n";

/// A certificate pair, as loaded, and the files' modification times it was loaded at.
struct Loaded {
    stamp: (Option<SystemTime>, Option<SystemTime>),
    acceptor: TlsAcceptor,
}

/// The certificate and key one listener serves with, kept current with the files.
pub(super) struct Tls {
    files: TlsFiles,
    current: Mutex<Loaded>,
}

impl Tls {
    /// Loads the pair; an error names the option and the file.
    pub(super) fn open(files: &TlsFiles) -> Result<Tls, String> {
        let stamp = stamp(files);
        let acceptor = TlsAcceptor::from(Arc::new(server_config(files)?));
        Ok(Tls {
            files: files.clone(),
            current: Mutex::new(Loaded { stamp, acceptor }),
        })
    }

    /// The acceptor for a new connection: the files are loaded again if they changed since.
    pub(super) fn acceptor(&self) -> TlsAcceptor {
        let now = stamp(&self.files);
        let mut cur = self.current.lock().unwrap_or_else(PoisonError::into_inner);
        if now != cur.stamp {
            // Tried once per change: a half-written renewal is tried again when it is complete
            // (its modification time moves again).
            cur.stamp = now;
            match server_config(&self.files) {
                Ok(c) => {
                    tracing::info!(
                        "[inet_http_server] certfile={}: reloaded",
                        self.files.certfile.display()
                    );
                    cur.acceptor = TlsAcceptor::from(Arc::new(c));
                }
                Err(e) => tracing::warn!("{e}; still serving the previous certificate"),
            }
        }
        cur.acceptor.clone()
    }
}

fn stamp(files: &TlsFiles) -> (Option<SystemTime>, Option<SystemTime>) {
    let m = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).ok();
    (m(&files.certfile), m(&files.keyfile))
}

/// Reads and checks the pair: certificates, a key, and that the key belongs to the first
/// certificate. HTTP/2 (gRPC) and HTTP/1.1 are offered by ALPN.
pub fn server_config(files: &TlsFiles) -> Result<ServerConfig, String> {
    let cert_err = |m: String| {
        format!(
            "[inet_http_server] certfile={}: {m}",
            files.certfile.display()
        )
    };
    let key_err = |m: String| {
        format!(
            "[inet_http_server] keyfile={}: {m}",
            files.keyfile.display()
        )
    };
    let certs = read_certs(&files.certfile).map_err(cert_err)?;
    let key = read(&files.keyfile)
        .and_then(|r| {
            PrivateKeyDer::from_pem_reader(r).map_err(|e| match e {
                tokio_rustls::rustls::pki_types::pem::Error::NoItemsFound => {
                    "no private key in the file (expected PEM: BEGIN PRIVATE KEY, BEGIN RSA PRIVATE KEY or BEGIN EC PRIVATE KEY)".to_string()
                }
                e => format!("not a PEM private key: {e}"),
            })
        })
        .map_err(key_err)?;
    let provider = Arc::new(ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| cert_err(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| {
            let why = match e {
                Error::InconsistentKeys(InconsistentKeys::KeyMismatch) => {
                    "the private key does not belong to the (first) certificate".to_string()
                }
                e => e.to_string(),
            };
            format!(
                "[inet_http_server] certfile={} keyfile={}: {why}",
                files.certfile.display(),
                files.keyfile.display()
            )
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

fn read(path: &Path) -> Result<BufReader<std::fs::File>, String> {
    std::fs::File::open(path)
        .map(BufReader::new)
        .map_err(|e| format!("can't read: {e}"))
}

fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_reader_iter(read(path)?)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate: {e}"))?;
    if certs.is_empty() {
        return Err("no certificate in the file (expected PEM: BEGIN CERTIFICATE)".into());
    }
    Ok(certs)
}
