//! The gRPC API of supervisord-rs (`package supervisor.v1`). The service definition and the
//! generated code arrive with the control plane; this crate exists now so the dependency
//! direction (`shared ← proto ← {supervisord, supervisorctl}`) is fixed from the start.
