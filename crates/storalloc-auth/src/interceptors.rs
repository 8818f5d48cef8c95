//! The client side: tonic interceptors that attach proofs to every call
//! (and to every retry, so a retried call never replays a credential).

use crate::agent_key::{AGENT_HOST_HEADER, AGENT_MAC_HEADER, AGENT_TIME_HEADER};
use crate::{munge, AgentKey, MUNGE_HEADER};
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::{Request, Status};

/// Set to `none` to never attach a MUNGE credential.
pub const AUTH_ENV: &str = "STORALLOC_AUTH";

/// Attaches a fresh MUNGE credential to each call when the local munged
/// can make one. Without munged the call goes out bare: an `auth: none`
/// orchestrator does not need it, and a `munge` one answers with a clear
/// Unauthenticated error.
#[derive(Debug, Clone)]
pub struct MungeCredentials {
    enabled: bool,
}

impl MungeCredentials {
    /// Enabled unless `STORALLOC_AUTH=none`.
    pub fn from_env() -> MungeCredentials {
        MungeCredentials {
            enabled: std::env::var(AUTH_ENV).map_or(true, |v| v != "none"),
        }
    }

    pub fn disabled() -> MungeCredentials {
        MungeCredentials { enabled: false }
    }
}

impl Interceptor for MungeCredentials {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        if !self.enabled {
            return Ok(req);
        }
        match munge::encode(b"") {
            Ok(c) => match MetadataValue::try_from(c.as_str()) {
                Ok(v) => {
                    req.metadata_mut().insert(MUNGE_HEADER, v);
                }
                Err(_) => tracing::warn!("munged returned a credential that is not ASCII"),
            },
            Err(e) => tracing::debug!(error = %e, "calling without a MUNGE credential"),
        }
        Ok(req)
    }
}

/// Signs each agent call with the cluster's agent secret (none: unsigned).
#[derive(Debug, Clone)]
pub struct AgentSigner {
    key: Option<AgentKey>,
    host: String,
}

impl AgentSigner {
    pub fn new(key: Option<AgentKey>, host: &str) -> AgentSigner {
        AgentSigner {
            key,
            host: host.to_string(),
        }
    }
}

impl Interceptor for AgentSigner {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let Some(key) = &self.key else {
            return Ok(req);
        };
        let p = key.sign(&self.host, crate::now_unix());
        let bad =
            |what: &str| Status::invalid_argument(format!("agent {what} is not valid metadata"));
        let md = req.metadata_mut();
        md.insert(
            AGENT_HOST_HEADER,
            MetadataValue::try_from(p.host.as_str()).map_err(|_| bad("hostname"))?,
        );
        md.insert(AGENT_TIME_HEADER, MetadataValue::from(p.time_unix));
        md.insert(
            AGENT_MAC_HEADER,
            MetadataValue::try_from(p.mac_hex.as_str()).map_err(|_| bad("MAC"))?,
        );
        Ok(req)
    }
}
