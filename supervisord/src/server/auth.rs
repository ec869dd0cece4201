//! HTTP basic auth for every request on a listener (gRPC and HTTP alike), with supervisor's
//! `{SHA}<hex>` passwords and constant-time comparison. A gRPC request that fails gets
//! UNAUTHENTICATED; anything else gets 401 with `WWW-Authenticate: Basic realm="default"`.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use sha1::{Digest, Sha1};

/// The username and password a listener requires.
#[derive(Debug, Clone)]
pub struct Credentials {
    username: String,
    password: String,
}

impl Credentials {
    pub fn new(username: &str, password: &str) -> Credentials {
        Credentials {
            username: username.to_owned(),
            password: password.to_owned(),
        }
    }

    /// Whether `user:pass` matches. `{SHA}hex` passwords compare the SHA-1 of what was sent.
    pub fn accepts(&self, user: &[u8], pass: &[u8]) -> bool {
        let user_ok = ct_eq(user, self.username.as_bytes());
        let pass_ok = match self.password.strip_prefix("{SHA}") {
            Some(hex) => {
                let digest = Sha1::digest(pass);
                let sent: String = digest.iter().map(|b| format!("{b:02x}")).collect();
                ct_eq(sent.as_bytes(), hex.to_ascii_lowercase().as_bytes())
            }
            None => ct_eq(pass, self.password.as_bytes()),
        };
        user_ok & pass_ok
    }

    /// Checks an `Authorization: Basic …` header value.
    pub fn check_header(&self, value: Option<&HeaderValue>) -> bool {
        let Some(v) = value.and_then(|v| v.to_str().ok()) else {
            return false;
        };
        let Some(b64) = v
            .strip_prefix("Basic ")
            .or_else(|| v.strip_prefix("basic "))
        else {
            return false;
        };
        let Some(decoded) = shared::base64::decode(b64.trim()) else {
            return false;
        };
        let Some(colon) = decoded.iter().position(|&b| b == b':') else {
            return false;
        };
        self.accepts(&decoded[..colon], &decoded[colon + 1..])
    }
}

/// Compares without an early exit, so timing says nothing about where they differ.
fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = (a.len() ^ b.len()) as u8 | u8::from(a.len() != b.len());
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= x ^ y;
    }
    diff == 0
}

/// The middleware: lets the request through or answers it.
pub async fn require(State(creds): State<Arc<Credentials>>, req: Request, next: Next) -> Response {
    if creds.check_header(req.headers().get(header::AUTHORIZATION)) {
        return next.run(req).await;
    }
    let grpc = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"));
    let mut resp = Response::new(Body::empty());
    if !grpc {
        *resp.status_mut() = StatusCode::UNAUTHORIZED;
    }
    let h = resp.headers_mut();
    if grpc {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/grpc"),
        );
        h.insert("grpc-status", HeaderValue::from_static("16"));
        h.insert(
            "grpc-message",
            HeaderValue::from_static("Server%20requires%20authentication"),
        );
    } else {
        h.insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"default\""),
        );
        h.insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_sha_passwords() {
        let plain = Credentials::new("user", "123");
        assert!(plain.accepts(b"user", b"123"));
        assert!(!plain.accepts(b"user", b"1234"));
        assert!(!plain.accepts(b"usr", b"123"));
        // sha1("thepassword")
        let sha = Credentials::new("u", "{SHA}82ab876d1387bfafe46cc1c8a2ef074eae50cb1d");
        assert!(sha.accepts(b"u", b"thepassword"));
        assert!(!sha.accepts(b"u", b"wrong"));
        let hv = HeaderValue::from_static("Basic dXNlcjoxMjM=");
        assert!(plain.check_header(Some(&hv)));
        assert!(!plain.check_header(None));
    }
}
