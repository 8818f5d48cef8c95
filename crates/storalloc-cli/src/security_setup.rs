//! Turns the config's security keys (docs/security.md) into what the
//! orchestrator and the agents run with.

use anyhow::{bail, Context};
use std::path::Path;
use std::sync::Arc;
use storalloc_auth::{AccessPolicy, AgentKey, Authenticator, MungeAuth, NoneAuth};
use storalloc_config::{AuthKind, Config, SecurityConfig};
use storalloc_orchestrator::service::Security;

fn agent_key(s: &SecurityConfig) -> anyhow::Result<Option<AgentKey>> {
    s.agent_secret_file
        .as_deref()
        .map(|p| AgentKey::from_file(p).context("loading the agent secret"))
        .transpose()
}

/// The orchestrator's settings from its config.
pub fn orchestrator_security(cfg: &Config) -> anyhow::Result<Security> {
    let s = &cfg.security;
    let auth: Arc<dyn Authenticator> = match s.auth {
        AuthKind::None => Arc::new(NoneAuth),
        AuthKind::Munge => {
            // Fail at start, not at the first call, when munged is missing.
            storalloc_auth::munge::encode(b"")
                .context("auth: munge, but the local munged cannot make a credential")?;
            Arc::new(MungeAuth)
        }
    };
    let mut policy = AccessPolicy::default();
    policy.admin_uids.extend(s.admin_uids.iter().copied());
    for g in &s.admin_groups {
        match AccessPolicy::gid_of(g) {
            Some(gid) => {
                policy.admin_gids.insert(gid);
            }
            None => bail!("admin_groups: no group {g:?} on this host"),
        }
    }
    Ok(Security {
        auth,
        policy,
        agent_key: agent_key(s)?,
    })
}

/// The agent secret named by the config at `config`, if any.
pub fn agent_key_from(config: Option<&Path>) -> anyhow::Result<Option<AgentKey>> {
    let Some(path) = config else {
        return Ok(None);
    };
    let loaded = storalloc_config::load_config(path)?;
    agent_key(&loaded.config.security)
}
