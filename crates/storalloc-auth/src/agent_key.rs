//! Agents prove they belong to the cluster with a shared secret: each call
//! carries the agent's hostname, the time, and an HMAC-SHA256 of both under
//! the secret. The orchestrator checks the MAC, that the time is within
//! [`MAX_SKEW_S`] of its own, and (on Register) that the hostname is the
//! node being registered, so an agent without the secret can neither
//! register nor act for an existing node.

use crate::AuthError;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::path::Path;

pub const AGENT_HOST_HEADER: &str = "x-storalloc-agent-host";
pub const AGENT_TIME_HEADER: &str = "x-storalloc-agent-time";
pub const AGENT_MAC_HEADER: &str = "x-storalloc-agent-mac";

/// How far an agent's clock may be from the orchestrator's.
pub const MAX_SKEW_S: i64 = 300;

/// Secrets shorter than this are refused: they could be guessed.
const MIN_SECRET: usize = 16;

#[derive(Clone)]
pub struct AgentKey {
    secret: Vec<u8>,
}

impl std::fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AgentKey(<secret>)")
    }
}

/// The three metadata values an agent sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProof {
    pub host: String,
    pub time_unix: i64,
    pub mac_hex: String,
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

impl AgentKey {
    pub fn new(secret: Vec<u8>) -> Result<AgentKey, AuthError> {
        if secret.len() < MIN_SECRET {
            return Err(AuthError::Config(format!(
                "the agent secret must be at least {MIN_SECRET} bytes, got {}",
                secret.len()
            )));
        }
        Ok(AgentKey { secret })
    }

    /// Reads the secret file (surrounding whitespace trimmed). It must not
    /// be readable by group or others: whoever reads it can act as any node.
    pub fn from_file(path: &Path) -> Result<AgentKey, AuthError> {
        use std::os::unix::fs::PermissionsExt;
        let err =
            |m: String| AuthError::Config(format!("agent_secret_file {}: {m}", path.display()));
        let meta = std::fs::metadata(path).map_err(|e| err(e.to_string()))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(err(format!(
                "mode is {mode:04o}; it must be 0600 or stricter (chmod 600)"
            )));
        }
        let raw = std::fs::read(path).map_err(|e| err(e.to_string()))?;
        let trimmed = raw.trim_ascii().to_vec();
        AgentKey::new(trimmed).map_err(|e| err(e.to_string()))
    }

    fn mac(&self, host: &str, time_unix: i64) -> Hmac<Sha256> {
        let mut m =
            Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes any key length");
        m.update(format!("storalloc-agent-v1\n{host}\n{time_unix}").as_bytes());
        m
    }

    pub fn sign(&self, host: &str, time_unix: i64) -> AgentProof {
        AgentProof {
            host: host.to_string(),
            time_unix,
            mac_hex: hex(&self.mac(host, time_unix).finalize().into_bytes()),
        }
    }

    /// Checks `proof` at time `now_unix`; returns the proven hostname.
    pub fn verify(&self, proof: &AgentProof, now_unix: i64) -> Result<String, AuthError> {
        if (now_unix - proof.time_unix).abs() > MAX_SKEW_S {
            return Err(AuthError::Expired);
        }
        let mac = unhex(&proof.mac_hex)
            .ok_or_else(|| AuthError::Invalid("the agent MAC is not hex".into()))?;
        self.mac(&proof.host, proof.time_unix)
            .verify_slice(&mac)
            .map_err(|_| {
                AuthError::Invalid("the agent MAC does not match (wrong secret?)".into())
            })?;
        Ok(proof.host.clone())
    }
}
