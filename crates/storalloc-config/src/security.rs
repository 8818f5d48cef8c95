//! The config's security extension keys (docs/security.md): `auth`,
//! `admin_uids`, `admin_groups` and `agent_secret_file`.

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
}

/// The keys [`apply`] handles.
pub(crate) const KEYS: &[&str] = &["auth", "admin_uids", "admin_groups", "agent_secret_file"];

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
        "agent_secret_file" => {
            c.agent_secret_file = match v {
                Value::Null => None,
                other => Some(PathBuf::from(non_empty_text(other, key)?)),
            }
        }
        // Only called for KEYS.
        _ => {}
    }
    Ok(())
}
