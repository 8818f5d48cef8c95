//! Who is calling storalloc, and what they may do.
//!
//! - [`Authenticator`] turns what arrives with a call (peer address, a
//!   credential, claimed ids) into an [`Identity`]. Two implementations:
//!   [`NoneAuth`] (loopback only, takes claims at their word) and
//!   [`MungeAuth`] (a MUNGE credential decoded through libmunge, which is
//!   opened at run time: the build needs no libmunge-dev).
//!   [`conformance`] is the one suite both pass.
//! - [`AgentKey`] is the per-cluster shared secret agents sign their calls with.
//! - [`AccessPolicy`] says who is an admin.
//! - [`AuditLog`] appends to `<state_dir>/audit.log`.

pub mod agent_key;
pub mod audit;
pub mod conformance;
pub mod interceptors;
pub mod munge;
mod munge_sys;
mod none;
pub mod policy;
pub mod tls;

pub use agent_key::{AgentKey, AgentProof};
pub use audit::{AuditEvent, AuditLog, AUDIT_FILE};
pub use interceptors::{AgentSigner, MungeCredentials};
pub use munge::MungeAuth;
pub use none::NoneAuth;
pub use policy::AccessPolicy;
pub use tls::{ClientTls, ServerTls, TlsFileError};

use std::net::SocketAddr;

/// The gRPC metadata key carrying a user's MUNGE credential.
pub const MUNGE_HEADER: &str = "x-storalloc-munge";

/// A proven (or, with `auth: none`, claimed) caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
}

/// What arrives with a call.
#[derive(Debug, Clone, Copy, Default)]
pub struct CallInfo<'a> {
    pub peer: Option<SocketAddr>,
    pub credential: Option<&'a str>,
    pub claimed_uid: Option<u32>,
    pub claimed_gid: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("no credential was sent (storalloc needs MUNGE here: is munged running on the client host?)")]
    Missing,
    #[error("auth is none, which only accepts loopback callers; {0} is not one")]
    NotLoopback(String),
    #[error("the credential was already used (replayed)")]
    Replayed,
    #[error("the credential has expired")]
    Expired,
    #[error("{0}")]
    Invalid(String),
    /// The machinery (munged) is unreachable: not the caller's fault.
    #[error("{0}")]
    Unavailable(String),
    #[error("{0}")]
    Config(String),
}

/// One way of learning who a caller is. Implementations are cheap and
/// synchronous (a MUNGE decode is one round trip to the local munged).
pub trait Authenticator: Send + Sync {
    /// The config's `auth:` value.
    fn name(&self) -> &'static str;
    fn authenticate(&self, call: &CallInfo<'_>) -> Result<Identity, AuthError>;
}

/// The config's `auth:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMode {
    #[default]
    None,
    Munge,
}

impl AuthMode {
    pub fn authenticator(self) -> Box<dyn Authenticator> {
        match self {
            AuthMode::None => Box::new(NoneAuth),
            AuthMode::Munge => Box::new(MungeAuth),
        }
    }
}

/// The current Unix time, for agent proofs.
pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
