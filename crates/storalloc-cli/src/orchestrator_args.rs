//! What every live command shares: where the orchestrator is (`-c CFG`,
//! `--orchestrator HOST:PORT` or `--endpoints PATH`), with its TLS settings,
//! and the tokio runtime the commands run on.

use anyhow::{bail, Context};
use clap::Args;
use std::path::PathBuf;
use std::time::Duration;
use storalloc_client::{Client, RetryPolicy};

/// Where the orchestrator is. `--orchestrator` and `--endpoints` win over the config.
#[derive(Args, Debug, Clone)]
pub struct OrchestratorArgs {
    /// Orchestrator/client config (the original's YAML): `orchestrator_addr`
    /// with `client_port` (clients) or `server_port` (storage servers).
    #[arg(short = 'c', long = "config", value_name = "CFG")]
    pub config: Option<PathBuf>,
    /// The orchestrator's address, overriding the config (HOST:PORT).
    #[arg(long, value_name = "HOST:PORT", conflicts_with = "endpoints")]
    pub orchestrator: Option<String>,
    /// Read the addresses from the `endpoints.json` the orchestrator writes in
    /// its state dir (give the file or the dir); waits up to 10 s for it.
    #[arg(long, value_name = "PATH")]
    pub endpoints: Option<PathBuf>,
}

/// Which of the orchestrator's two ports a command talks to.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Service {
    Client,
    Agent,
}

impl OrchestratorArgs {
    pub async fn resolve(&self, service: Service) -> anyhow::Result<String> {
        if let Some(a) = &self.orchestrator {
            return Ok(a.clone());
        }
        if let Some(p) = &self.endpoints {
            let e = storalloc_client::wait_for_endpoints(p, Duration::from_secs(10)).await?;
            return Ok(match service {
                Service::Client => e.client,
                Service::Agent => e.server,
            });
        }
        let Some(cfg) = &self.config else {
            bail!("say where the orchestrator is: -c CONFIG, --orchestrator HOST:PORT or --endpoints PATH");
        };
        let loaded = storalloc_config::load_config(cfg)?;
        for w in &loaded.warnings {
            tracing::warn!("{w}");
        }
        Ok(match service {
            Service::Client => loaded.config.client_endpoint(),
            Service::Agent => loaded.config.server_endpoint(),
        })
    }

    pub async fn client(&self, policy: RetryPolicy) -> anyhow::Result<Client> {
        let addr = self.resolve(Service::Client).await?;
        let tls = self.tls()?;
        Ok(Client::with_tls(&addr, policy, tls.as_ref())?)
    }

    /// The TLS settings of the config given with `-c` (`tls_ca_file`, and
    /// for agents `tls_client_cert_file`/`tls_client_key_file`). Refuses to
    /// go without when `endpoints.json` says the orchestrator speaks TLS.
    pub fn tls(&self) -> anyhow::Result<Option<storalloc_client::ClientTls>> {
        let tls = crate::security_setup::client_tls_from(self.config.as_deref())?;
        if tls.is_none() && self.orchestrator.is_none() {
            if let Some(p) = &self.endpoints {
                if storalloc_client::read_endpoints(p).is_ok_and(|e| e.tls) {
                    bail!(
                        "{}: the orchestrator speaks TLS (\"tls\": true): give a config with \
                         tls_ca_file with -c (see docs/security.md)",
                        p.display()
                    );
                }
            }
        }
        Ok(tls)
    }
}

pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")
}
