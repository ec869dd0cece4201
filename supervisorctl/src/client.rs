//! The connection to supervisord and how its failures read: connection refused, no socket file,
//! permission denied, authentication, faults.

use std::error::Error as _;
use std::path::Path;

use proto::v1::supervisor_client::SupervisorClient;
use shared::Fault;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};
use tonic::{Code, Request, Status};

pub(crate) type Api = SupervisorClient<InterceptedService<Channel, Auth>>;

/// Adds basic credentials to every call.
#[derive(Clone)]
pub(crate) struct Auth {
    header: Option<MetadataValue<Ascii>>,
}

impl Interceptor for Auth {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if let Some(h) = &self.header {
            req.metadata_mut().insert("authorization", h.clone());
        }
        Ok(req)
    }
}

/// Why a call failed.
#[derive(Debug)]
pub(crate) enum CallError {
    /// One of supervisor's faults.
    Fault(Fault),
    /// The socket file does not exist (supervisord is not running there).
    NoSuchFile,
    /// Nothing listens there.
    Refused,
    /// We may not use the socket.
    PermissionDenied,
    /// The server wants (other) credentials.
    Auth,
    /// The TLS handshake failed (an untrusted certificate, say): rustls's words.
    Tls(String),
    Other(String),
}

pub(crate) fn connect(
    url: &str,
    user: Option<&str>,
    pass: Option<&str>,
    cafile: Option<&Path>,
) -> Result<Api, String> {
    if !["http://", "https://", "unix://"]
        .iter()
        .any(|s| url.starts_with(s))
    {
        return Err(format!(
            "bad server URL {url:?}: it needs a scheme: http://{url}, https://{url}, or unix:///path/to/supervisor.sock"
        ));
    }
    let mut endpoint =
        Endpoint::from_shared(url.to_owned()).map_err(|e| format!("bad server URL {url}: {e}"))?;
    if url.starts_with("https://") {
        // The given CA alone, as curl's --cacert and Python's cafile (and no reading of the
        // system's store on every command); else the system's roots.
        let mut tls = ClientTlsConfig::new();
        if cafile.is_none() {
            tls = tls.with_native_roots();
        }
        if let Some(f) = cafile {
            let pem = std::fs::read(f).map_err(|e| format!("cafile {}: {e}", f.display()))?;
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(format!(
                    "cafile {}: no PEM certificate in it (expected BEGIN CERTIFICATE)",
                    f.display()
                ));
            }
            tls = tls.ca_certificate(Certificate::from_pem(pem));
        }
        endpoint = endpoint
            .tls_config(tls)
            .map_err(|e| format!("TLS for {url}: {e}"))?;
    }
    let channel = endpoint.connect_lazy();
    let header = match (user, pass) {
        (None, None) => None,
        (u, p) => {
            let raw = format!("{}:{}", u.unwrap_or(""), p.unwrap_or(""));
            let v = format!("Basic {}", shared::base64::encode(raw.as_bytes()));
            Some(
                v.parse()
                    .map_err(|_| "bad characters in credentials".to_string())?,
            )
        }
    };
    Ok(SupervisorClient::with_interceptor(channel, Auth { header })
        .max_decoding_message_size(64 << 20))
}

/// Turns a status into what went wrong, looking through the transport error for the OS error.
pub(crate) fn classify(st: Status) -> CallError {
    if let Some(f) = proto::fault_from_status(&st) {
        return CallError::Fault(f);
    }
    if st.code() == Code::Unauthenticated {
        return CallError::Auth;
    }
    let mut source = st.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            // rustls's error is the io::Error's payload (which `source()` skips).
            if let Some(t) = io
                .get_ref()
                .and_then(|i| i.downcast_ref::<tokio_rustls::rustls::Error>())
            {
                return CallError::Tls(t.to_string());
            }
            match io.kind() {
                std::io::ErrorKind::NotFound => return CallError::NoSuchFile,
                std::io::ErrorKind::ConnectionRefused => return CallError::Refused,
                std::io::ErrorKind::PermissionDenied => return CallError::PermissionDenied,
                _ => {}
            }
        }
        source = e.source();
    }
    CallError::Other(format!("{}: {}", st.code(), st.message()))
}
