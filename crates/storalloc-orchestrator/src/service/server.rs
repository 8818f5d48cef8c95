//! Binding and running the orchestrator: ClientService and AdminService on
//! the client port, AgentService on the server port, the engine on its own
//! thread, and `<state_dir>/endpoints.json` telling others where it all is.

use super::admin::AdminApi;
use super::agent::AgentApi;
use super::client::ClientApi;
use super::handle::{spawn, EngineHandle};
use super::secure::{Guard, SecureAdmin, SecureAgent, SecureClient, Security};
use crate::clock::SystemClock;
use crate::comm::ChannelComm;
use crate::engine::{Engine, EngineConfig};
use crate::store::{SqliteStore, StateStore, StoreError};
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use storalloc_proto::v1::admin_service_server::AdminServiceServer;
use storalloc_proto::v1::agent_service_server::AgentServiceServer;
use storalloc_proto::v1::client_service_server::ClientServiceServer;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_stream::wrappers::TcpListenerStream;
use tokio_stream::StreamExt;

/// The file, inside the state directory, naming the bound addresses.
pub const ENDPOINTS_FILE: &str = "endpoints.json";

#[derive(Debug, Clone)]
pub struct OrchestratorOptions {
    /// The config's `orchestrator_addr`: an IP address or a hostname.
    pub host: String,
    /// ClientService and AdminService; 0 picks a free port.
    pub client_port: u16,
    /// AgentService; 0 picks a free port.
    pub server_port: u16,
    pub state_dir: PathBuf,
    pub engine: EngineConfig,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Endpoints {
    pub client: SocketAddr,
    pub server: SocketAddr,
}

#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Open(#[from] crate::engine::OpenError),
    #[error("cannot resolve orchestrator_addr {host:?}: {error}")]
    Resolve { host: String, error: std::io::Error },
    #[error("cannot listen on {addr} ({what}): {error}")]
    Bind {
        addr: String,
        what: &'static str,
        error: std::io::Error,
    },
    #[error("{path}: {error}")]
    Io { path: String, error: std::io::Error },
    #[error("gRPC server: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("the engine stopped unexpectedly (see the log); restart to recover")]
    EngineStopped,
    /// The security settings do not allow this bind (see docs/security.md).
    #[error("{0}")]
    Insecure(String),
    /// The TLS certificate and key cannot be used together.
    #[error("TLS (tls_cert_file, tls_key_file, tls_client_ca_file): {0}")]
    Tls(String),
}

/// A running orchestrator.
pub struct Orchestrator {
    endpoints: Endpoints,
    state_dir: PathBuf,
    engine: EngineHandle,
    engine_stopped: watch::Receiver<bool>,
    engine_thread: Option<std::thread::JoinHandle<()>>,
    stop_tx: watch::Sender<bool>,
    servers: Vec<tokio::task::JoinHandle<Result<(), tonic::transport::Error>>>,
    tls: bool,
}

async fn bind(host: &str, port: u16, what: &'static str) -> Result<TcpListener, OrchestratorError> {
    let mut addrs = tokio::net::lookup_host((host, port))
        .await
        .map_err(|error| OrchestratorError::Resolve {
            host: host.to_string(),
            error,
        })?;
    let addr = addrs.next().ok_or_else(|| OrchestratorError::Resolve {
        host: host.to_string(),
        error: std::io::Error::new(std::io::ErrorKind::NotFound, "no address"),
    })?;
    TcpListener::bind(addr)
        .await
        .map_err(|error| OrchestratorError::Bind {
            addr: addr.to_string(),
            what,
            error,
        })
}

/// Accepted connections, with Nagle's algorithm off: calls are small and
/// latency matters more than packet count.
fn incoming(
    l: TcpListener,
) -> impl tokio_stream::Stream<Item = std::io::Result<tokio::net::TcpStream>> {
    TcpListenerStream::new(l).map(|s| {
        if let Ok(s) = &s {
            let _ = s.set_nodelay(true);
        }
        s
    })
}

/// What to advertise for a bound address: an unspecified IP (0.0.0.0, ::)
/// is not something to connect to, so local clients get loopback.
fn advertised(a: SocketAddr) -> SocketAddr {
    if a.ip().is_unspecified() {
        SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), a.port())
    } else {
        a
    }
}

fn write_endpoints(dir: &Path, ep: &Endpoints, tls: bool) -> Result<(), OrchestratorError> {
    let mut body = serde_json::json!({
        "client": ep.client.to_string(),
        "server": ep.server.to_string(),
    });
    // Only said when on, so the file stays as it was without TLS.
    if tls {
        body["tls"] = serde_json::Value::Bool(true);
    }
    let path = dir.join(ENDPOINTS_FILE);
    let tmp = dir.join(format!("{ENDPOINTS_FILE}.tmp"));
    let io = |error| OrchestratorError::Io {
        path: path.display().to_string(),
        error,
    };
    // Written then renamed, so a reader never sees half a file.
    std::fs::write(&tmp, format!("{body}\n")).map_err(io)?;
    std::fs::rename(&tmp, &path).map_err(io)
}

/// Reads `<state_dir>/endpoints.json` as written by a running orchestrator.
pub fn read_endpoints(state_dir: &Path) -> Result<Endpoints, String> {
    let path = state_dir.join(ENDPOINTS_FILE);
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let v: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let field = |k: &str| -> Result<SocketAddr, String> {
        v.get(k)
            .and_then(|s| s.as_str())
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                format!(
                    "{}: field {k:?} is missing or not host:port",
                    path.display()
                )
            })
    };
    Ok(Endpoints {
        client: field("client")?,
        server: field("server")?,
    })
}

/// The gRPC server builders for the client port and the agent port.
fn builders(
    tls: Option<&storalloc_auth::ServerTls>,
) -> Result<(tonic::transport::Server, tonic::transport::Server), OrchestratorError> {
    let plain = tonic::transport::Server::builder;
    let Some(t) = tls else {
        return Ok((plain(), plain()));
    };
    // The key not matching the certificate shows up here.
    let bad = |e: tonic::transport::Error| {
        let mut m = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(s) = src {
            m.push_str(&format!(": {s}"));
            src = s.source();
        }
        OrchestratorError::Tls(m)
    };
    Ok((
        plain().tls_config(t.client_port()).map_err(bad)?,
        plain().tls_config(t.agent_port()).map_err(bad)?,
    ))
}

impl Orchestrator {
    /// Opens the state directory (recovering what it holds), binds both
    /// ports, writes `endpoints.json` and starts serving.
    pub async fn start(opts: OrchestratorOptions) -> Result<Orchestrator, OrchestratorError> {
        Self::start_secure(opts, Security::default()).await
    }

    /// [`Orchestrator::start`] with authentication and authorization
    /// settings; refuses insecure settings on a non-loopback address.
    pub async fn start_secure(
        opts: OrchestratorOptions,
        security: Security,
    ) -> Result<Orchestrator, OrchestratorError> {
        Self::start_tls(opts, security, None).await
    }

    /// [`Orchestrator::start_secure`], serving both ports over TLS when `tls`
    /// is given (docs/security.md, "TLS").
    pub async fn start_tls(
        opts: OrchestratorOptions,
        security: Security,
        tls: Option<storalloc_auth::ServerTls>,
    ) -> Result<Orchestrator, OrchestratorError> {
        // Checked before anything is opened or bound.
        let (mut client_builder, mut agent_builder) = builders(tls.as_ref())?;
        let store = SqliteStore::open(&opts.state_dir)?;
        let _ = std::fs::remove_file(opts.state_dir.join(ENDPOINTS_FILE));
        let store: Box<dyn StateStore> = Box::new(store);
        let engine = Engine::open(
            store,
            ChannelComm::default(),
            SystemClock,
            opts.engine.clone(),
        )?;
        let client_l = bind(&opts.host, opts.client_port, "client port").await?;
        let server_l = bind(&opts.host, opts.server_port, "server port").await?;
        let local = |l: &TcpListener| {
            l.local_addr().map_err(|error| OrchestratorError::Io {
                path: "listener".into(),
                error,
            })
        };
        for addr in [local(&client_l)?, local(&server_l)?] {
            if let Some(why) = security.refuse_bind(addr) {
                return Err(OrchestratorError::Insecure(why));
            }
        }
        if security.auth.name() == "none" {
            tracing::warn!(
                "auth: none: callers are not authenticated (loopback only; see docs/security.md)"
            );
        }
        let audit = storalloc_auth::AuditLog::open(&opts.state_dir).map_err(|error| {
            OrchestratorError::Io {
                path: opts
                    .state_dir
                    .join(storalloc_auth::AUDIT_FILE)
                    .display()
                    .to_string(),
                error,
            }
        })?;
        let guard = Arc::new(Guard { security, audit });
        let endpoints = Endpoints {
            client: advertised(local(&client_l)?),
            server: advertised(local(&server_l)?),
        };
        let (handle, engine_stopped, engine_thread) = spawn(engine);
        let (stop_tx, stop_rx) = watch::channel(false);
        let stopped = |mut rx: watch::Receiver<bool>| async move {
            let _ = rx.wait_for(|s| *s).await;
        };
        let client_srv = client_builder
            .add_service(ClientServiceServer::new(SecureClient {
                inner: ClientApi {
                    engine: handle.clone(),
                },
                guard: guard.clone(),
            }))
            .add_service(AdminServiceServer::new(SecureAdmin {
                inner: AdminApi {
                    engine: handle.clone(),
                },
                guard: guard.clone(),
            }))
            .serve_with_incoming_shutdown(incoming(client_l), stopped(stop_rx.clone()));
        // Registrations of big nodes exceed tonic's 4 MiB default.
        let agent_srv = agent_builder
            .add_service(
                AgentServiceServer::new(SecureAgent {
                    inner: AgentApi {
                        engine: handle.clone(),
                    },
                    guard,
                })
                .max_decoding_message_size(storalloc_auth::tls::MAX_AGENT_MESSAGE_BYTES)
                .max_encoding_message_size(storalloc_auth::tls::MAX_AGENT_MESSAGE_BYTES),
            )
            .serve_with_incoming_shutdown(incoming(server_l), stopped(stop_rx));
        let servers = vec![tokio::spawn(client_srv), tokio::spawn(agent_srv)];
        write_endpoints(&opts.state_dir, &endpoints, tls.is_some())?;
        tracing::info!(
            client = %endpoints.client,
            server = %endpoints.server,
            tls = tls.is_some(),
            agent_certs_required = tls.as_ref().is_some_and(|t| t.requires_agent_certs()),
            state_dir = %opts.state_dir.display(),
            strategy = %opts.engine.scheduler.strategy,
            "orchestrator listening"
        );
        Ok(Orchestrator {
            endpoints,
            state_dir: opts.state_dir,
            engine: handle,
            engine_stopped,
            engine_thread: Some(engine_thread),
            stop_tx,
            servers,
            tls: tls.is_some(),
        })
    }

    pub fn endpoints(&self) -> Endpoints {
        self.endpoints
    }

    /// Are both ports served over TLS?
    pub fn tls(&self) -> bool {
        self.tls
    }

    /// A handle on the engine, for in-process users such as the dashboard.
    pub fn engine(&self) -> EngineHandle {
        self.engine.clone()
    }

    /// Serves until `shutdown` resolves (or the engine dies), then stops.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), OrchestratorError> {
        let mut stopped = self.engine_stopped.clone();
        let died = tokio::select! {
            _ = shutdown => false,
            _ = stopped.wait_for(|s| *s) => true,
        };
        self.stop().await?;
        if died {
            return Err(OrchestratorError::EngineStopped);
        }
        Ok(())
    }

    /// Stops accepting calls, lets the engine finish its batch, and removes
    /// `endpoints.json`. Every answered call was already durable.
    pub async fn stop(mut self) -> Result<(), OrchestratorError> {
        // Stop accepting, then stop the engine: dropping it ends the command
        // and watch streams, which would otherwise hold the servers open.
        let _ = self.stop_tx.send(true);
        self.engine.shutdown();
        if let Some(t) = self.engine_thread.take() {
            let _ = tokio::task::spawn_blocking(move || t.join()).await;
        }
        for mut s in self.servers.drain(..) {
            match tokio::time::timeout(std::time::Duration::from_secs(2), &mut s).await {
                Ok(Ok(Err(e))) => tracing::warn!(error = %e, "gRPC server"),
                Ok(_) => {}
                Err(_) => {
                    tracing::warn!("a gRPC server did not stop within 2 s; aborting it");
                    s.abort();
                }
            }
        }
        let _ = std::fs::remove_file(self.state_dir.join(ENDPOINTS_FILE));
        tracing::info!("orchestrator stopped");
        Ok(())
    }
}
