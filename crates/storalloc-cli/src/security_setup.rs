//! Turns the config's security keys (docs/security.md) into what the
//! orchestrator and the agents run with.

use anyhow::{bail, Context};
use std::path::Path;
use std::sync::Arc;
use storalloc_auth::{
    AccessPolicy, AgentKey, Authenticator, ClientTls, MungeAuth, NoneAuth, ServerTls,
};
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
            storalloc_auth::munge::encode(b"").context("auth: munge")?;
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

/// The orchestrator's TLS (`tls_cert_file`, `tls_key_file`,
/// `tls_client_ca_file`); `None`: plain HTTP/2.
pub fn orchestrator_tls(cfg: &Config) -> anyhow::Result<Option<ServerTls>> {
    let t = &cfg.security.tls;
    match (&t.cert_file, &t.key_file) {
        (Some(cert), Some(key)) => Ok(Some(ServerTls::from_files(
            cert,
            key,
            t.client_ca_file.as_deref(),
        )?)),
        (Some(_), None) => bail!("tls_cert_file is set but tls_key_file is not"),
        (None, Some(_)) => bail!("tls_key_file is set but tls_cert_file is not"),
        (None, None) if t.client_ca_file.is_some() => bail!(
            "tls_client_ca_file is set but tls_cert_file and tls_key_file are not: \
             agent certificates are checked only over TLS"
        ),
        (None, None) => Ok(None),
    }
}

/// A client's or agent's TLS (`tls_ca_file`, `tls_client_cert_file`,
/// `tls_client_key_file`) from the config at `config`, if any.
pub fn client_tls_from(config: Option<&Path>) -> anyhow::Result<Option<ClientTls>> {
    let Some(path) = config else {
        return Ok(None);
    };
    let loaded = storalloc_config::load_config(path)?;
    let t = &loaded.config.security.tls;
    match &t.ca_file {
        Some(ca) => Ok(Some(ClientTls::from_files(
            ca,
            t.client_cert_file.as_deref(),
            t.client_key_file.as_deref(),
        )?)),
        None if t.client_cert_file.is_some() || t.client_key_file.is_some() => bail!(
            "{}: tls_client_cert_file and tls_client_key_file need tls_ca_file",
            path.display()
        ),
        None => Ok(None),
    }
}
