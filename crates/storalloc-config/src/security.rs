//! The config's security extension keys (docs/security.md): `auth`,
//! `admin_uids`, `admin_groups` and `agent_secret_file`, and the optional
//! TLS files (`tls_*`).

use crate::error::FieldError;
use crate::fields::{non_empty_text, text_list};
use crate::yaml::Value;
use std::path::PathBuf;

/// How callers prove who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthKind {
    /// No proof: accepted only when the orchestrator listens on loopback.
    #[default]
    None,
    /// A MUNGE credential on every client call.
    Munge,
}

impl AuthKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthKind::None => "none",
            AuthKind::Munge => "munge",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SecurityConfig {
    pub auth: AuthKind,
    /// Users who may see and cancel every allocation and drain nodes
    /// (root always may).
    pub admin_uids: Vec<u32>,
    /// Groups (names or gids) whose members are admins.
    pub admin_groups: Vec<String>,
    /// The per-cluster secret agents sign their calls with (mode 0600).
    /// `None`: agents are not authenticated (loopback only).
    pub agent_secret_file: Option<PathBuf>,
    /// Optional TLS (docs/security.md, "TLS"); all `None`: plain HTTP/2.
    pub tls: TlsConfig,
}

/// The `tls_*` keys. The orchestrator uses the first three, clients and
/// agents the rest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TlsConfig {
    /// The orchestrator's certificate chain (PEM); with `tls_key_file`,
    /// turns TLS on for both ports.
    pub cert_file: Option<PathBuf>,
    pub key_file: Option<PathBuf>,
    /// Agents must present a certificate signed by this CA.
    pub client_ca_file: Option<PathBuf>,
    /// The CA clients and agents check the orchestrator against; turns TLS
    /// on for them.
    pub ca_file: Option<PathBuf>,
    /// The agent's own certificate and key, for `tls_client_ca_file`.
    pub client_cert_file: Option<PathBuf>,
    pub client_key_file: Option<PathBuf>,
}

/// The keys [`apply`] handles.
pub(crate) const KEYS: &[&str] = &[
    "auth",
    "admin_uids",
    "admin_groups",
    "agent_secret_file",
    "tls_cert_file",
    "tls_key_file",
    "tls_client_ca_file",
    "tls_ca_file",
    "tls_client_cert_file",
    "tls_client_key_file",
];

fn optional_path(v: &Value, key: &str) -> Result<Option<PathBuf>, FieldError> {
    Ok(match v {
        Value::Null => None,
        other => Some(PathBuf::from(non_empty_text(other, key)?)),
    })
}

pub(crate) fn apply(c: &mut SecurityConfig, key: &str, v: &Value) -> Result<(), FieldError> {
    match key {
        "auth" => {
            c.auth = match v {
                Value::Str(s) if s == "none" => AuthKind::None,
                Value::Str(s) if s == "munge" => AuthKind::Munge,
                other => {
                    return Err(FieldError::new(
                        key,
                        format!("expected none or munge, got {}", other.describe()),
                    ))
                }
            }
        }
        "admin_uids" => {
            let items: Vec<Value> = match v {
                Value::Seq(items) => items.clone(),
                Value::Null => Vec::new(),
                one => vec![one.clone()],
            };
            c.admin_uids = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    match item {
                        Value::Int(n) => u32::try_from(*n).map_err(|_| ()),
                        _ => Err(()),
                    }
                    .map_err(|_| {
                        FieldError::new(
                            &format!("{key}[{i}]"),
                            format!("expected a numeric uid, got {}", item.describe()),
                        )
                    })
                })
                .collect::<Result<_, _>>()?;
        }
        "admin_groups" => c.admin_groups = text_list(v, key)?,
        "agent_secret_file" => c.agent_secret_file = optional_path(v, key)?,
        "tls_cert_file" => c.tls.cert_file = optional_path(v, key)?,
        "tls_key_file" => c.tls.key_file = optional_path(v, key)?,
        "tls_client_ca_file" => c.tls.client_ca_file = optional_path(v, key)?,
        "tls_ca_file" => c.tls.ca_file = optional_path(v, key)?,
        "tls_client_cert_file" => c.tls.client_cert_file = optional_path(v, key)?,
        "tls_client_key_file" => c.tls.client_key_file = optional_path(v, key)?,
        // Only called for KEYS.
        _ => {}
    }
    Ok(())
}
