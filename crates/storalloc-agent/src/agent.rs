//! The agent's life: register, heartbeat, follow the command stream, report
//! results; on any break (orchestrator down, restarted, or no longer knowing
//! the session) wait with backoff and register again. A registration the
//! orchestrator refuses for good (see [`crate::refusal`]) ends the agent.
//!
//! The agent never listens: it dials the orchestrator, so it works behind
//! NAT and a restarted orchestrator simply waits for it to come back.

use crate::backend::{BlockSpec, HeldBlock};
use crate::backoff::Backoff;
use crate::disks::DiskBackends;
use crate::orphans::PendingOrphans;
use crate::refusal::Refusal;
use std::time::{Duration, Instant};
use storalloc_core::TimeSpan;
use storalloc_proto::v1 as pb;
use storalloc_proto::v1::agent_service_client::AgentServiceClient;
use tokio::sync::{mpsc, watch};
use tonic::transport::Channel;

/// Something the agent did, for a caller that wants to show progress.
#[derive(Debug, Clone)]
pub enum AgentEvent {
    Registered {
        hostname: String,
        node_id: u32,
        held: usize,
        orphans: Vec<u64>,
    },
    Allocated {
        hostname: String,
        allocation_id: u64,
        disk: u32,
        attachment: crate::backend::AttachmentInfo,
    },
    Released {
        hostname: String,
        allocation_id: u64,
        disk: u32,
    },
    CommandFailed {
        hostname: String,
        allocation_id: u64,
        error: String,
    },
    Disconnected {
        hostname: String,
        error: String,
    },
}

#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("invalid orchestrator address {addr:?}: {message}")]
    BadAddress { addr: String, message: String },
    #[error(transparent)]
    Backend(#[from] crate::backend::BackendError),
    /// Retrying cannot help: the operator must change something first.
    #[error("{host}: {refusal}")]
    Refused { host: String, refusal: Refusal },
}

pub struct AgentOptions {
    /// `host:port` (or a full `http://` URI) of the orchestrator's AgentService.
    pub orchestrator: String,
    pub node: pb::NodeDescription,
    pub backends: DiskBackends,
    pub backoff: Backoff,
    /// Release everything held before the first registration (`--reset`).
    pub reset: bool,
    /// How long the orchestrator must keep naming a block as an orphan
    /// before the agent removes it (`--orphan-grace`); zero removes orphans
    /// right after registering.
    pub orphan_grace: Duration,
}

/// The `--orphan-grace` default.
pub const DEFAULT_ORPHAN_GRACE: Duration = Duration::from_secs(5 * 60);

/// Why one session ended.
enum SessionEnd {
    Shutdown,
    Broken(String),
    Refused(Refusal),
}

/// Runs until `shutdown` turns true. Errors for bad set-up and for a
/// registration the orchestrator refuses for good; every network failure
/// is retried.
pub async fn run(
    opts: AgentOptions,
    events: Option<mpsc::UnboundedSender<AgentEvent>>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), AgentError> {
    run_signed(opts, None, events, shutdown).await
}

/// [`run`], signing every call with the cluster's agent secret
/// (`agent_secret_file`, docs/security.md).
pub async fn run_signed(
    opts: AgentOptions,
    agent_key: Option<storalloc_auth::AgentKey>,
    events: Option<mpsc::UnboundedSender<AgentEvent>>,
    shutdown: watch::Receiver<bool>,
) -> Result<(), AgentError> {
    run_secure(opts, agent_key, None, events, shutdown).await
}

/// [`run_signed`], over TLS when `tls` is given (`tls_ca_file` and, when the
/// orchestrator requires agent certificates, `tls_client_cert_file` and
/// `tls_client_key_file`; docs/security.md, "TLS").
pub async fn run_secure(
    opts: AgentOptions,
    agent_key: Option<storalloc_auth::AgentKey>,
    tls: Option<storalloc_auth::ClientTls>,
    events: Option<mpsc::UnboundedSender<AgentEvent>>,
    mut shutdown: watch::Receiver<bool>,
) -> Result<(), AgentError> {
    let channel =
        storalloc_auth::tls::lazy_channel(&opts.orchestrator, tls.as_ref()).map_err(|e| {
            AgentError::BadAddress {
                addr: opts.orchestrator.clone(),
                message: e.to_string(),
            }
        })?;
    let host = opts.node.hostname.clone();
    let emit = |e: AgentEvent| {
        if let Some(tx) = &events {
            let _ = tx.send(e);
        }
    };
    let restored = opts.backends.preflight_and_restore().await?;
    if restored > 0 {
        tracing::info!(host = %host, restored, "re-created storage the node had lost");
    }
    if opts.reset {
        for h in opts.backends.list_held()? {
            opts.backends.release(h.allocation_id, h.disk).await?;
        }
    }
    let mut backoff = opts.backoff.clone();
    // Outlives sessions: a re-registration must not restart the grace period.
    let mut orphans = PendingOrphans::new(opts.orphan_grace);
    loop {
        if *shutdown.borrow() {
            return Ok(());
        }
        let signer = storalloc_auth::AgentSigner::new(agent_key.clone(), &host);
        let mut client = AgentServiceClient::with_interceptor(channel.clone(), signer)
            .max_decoding_message_size(storalloc_auth::tls::MAX_AGENT_MESSAGE_BYTES)
            .max_encoding_message_size(storalloc_auth::tls::MAX_AGENT_MESSAGE_BYTES);
        let ctx = SessionCtx {
            emit: &emit,
            shutdown: &mut shutdown,
            backoff: &mut backoff,
            orphans: &mut orphans,
        };
        match session(&opts, &mut client, ctx).await {
            SessionEnd::Shutdown => return Ok(()),
            SessionEnd::Refused(refusal) => {
                tracing::error!(host = %host, %refusal, "registration refused; not retrying");
                return Err(AgentError::Refused { host, refusal });
            }
            SessionEnd::Broken(error) => {
                tracing::info!(host = %host, %error, "orchestrator session ended");
                // Said once per outage, not at every retry.
                if backoff.is_fresh() {
                    emit(AgentEvent::Disconnected {
                        hostname: host.clone(),
                        error,
                    });
                }
            }
        }
        let wait = backoff.next_delay();
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            // A dropped sender means nobody can stop us any more: stop now.
            r = shutdown.changed() => if r.is_err() { return Ok(()) },
        }
    }
}

/// What a session borrows from the agent's life across sessions.
struct SessionCtx<'a, E: Fn(AgentEvent)> {
    emit: &'a E,
    shutdown: &'a mut watch::Receiver<bool>,
    backoff: &'a mut Backoff,
    orphans: &'a mut PendingOrphans,
}

async fn session<E: Fn(AgentEvent)>(
    opts: &AgentOptions,
    client: &mut AgentServiceClient<
        tonic::service::interceptor::InterceptedService<Channel, storalloc_auth::AgentSigner>,
    >,
    ctx: SessionCtx<'_, E>,
) -> SessionEnd {
    let SessionCtx {
        emit,
        shutdown,
        backoff,
        orphans,
    } = ctx;
    let host = opts.node.hostname.clone();
    let held = match opts.backends.list_held() {
        Ok(h) => h,
        Err(e) => return SessionEnd::Broken(format!("listing held storage: {e}")),
    };
    let held_count = held.len();
    let req = pb::RegisterRequest {
        node: Some(opts.node.clone()),
        held: held.iter().cloned().map(HeldBlock::into).collect(),
        agent_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let reg = match client.register(req).await {
        Ok(r) => r.into_inner(),
        Err(s) => {
            if let Some(r) = crate::refusal::permanent(&s) {
                return SessionEnd::Refused(r);
            }
            return SessionEnd::Broken(format!(
                "register: {}",
                storalloc_auth::tls::status_with_causes(&s)
            ));
        }
    };
    backoff.reset();
    let session_id = reg.session_id.clone();
    tracing::info!(host = %host, node = reg.node_id, held = held_count, orphans = reg.orphans.len(), "registered");
    let newly = orphans.registered(&reg.orphans, &held, Instant::now());
    if !orphans.grace().is_zero() {
        for h in newly {
            tracing::info!(
                host = %host,
                allocation = h.allocation_id,
                disk = h.disk,
                backend = %opts.backends.backend_name(h.disk).unwrap_or("unknown"),
                grace = %TimeSpan(orphans.grace().as_secs()),
                "the orchestrator does not know this storage; it is removed after the grace period unless claimed"
            );
        }
    }
    remove_due_orphans(opts, orphans, emit).await;
    emit(AgentEvent::Registered {
        hostname: host.clone(),
        node_id: reg.node_id,
        held: held_count,
        orphans: reg.orphans.clone(),
    });

    let mut stream = match client
        .commands(pb::CommandStreamRequest {
            session_id: session_id.clone(),
        })
        .await
    {
        Ok(s) => s.into_inner(),
        Err(s) => return SessionEnd::Broken(format!("opening command stream: {}", s.message())),
    };
    let interval = Duration::from_secs(u64::from(reg.heartbeat_interval_s.max(1)));
    let mut ticker = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            r = shutdown.changed() => {
                if r.is_err() || *shutdown.borrow() {
                    return SessionEnd::Shutdown;
                }
            }
            _ = ticker.tick() => {
                let hb = client
                    .heartbeat(pb::HeartbeatRequest { session_id: session_id.clone() })
                    .await;
                match hb {
                    // Only while the orchestrator knows us is its list of orphans current.
                    Ok(r) if r.get_ref().known => remove_due_orphans(opts, orphans, emit).await,
                    Ok(_) => return SessionEnd::Broken("the orchestrator no longer knows this session".into()),
                    Err(s) => return SessionEnd::Broken(format!("heartbeat: {}", s.message())),
                }
            }
            msg = stream.message() => {
                let cmd = match msg {
                    Ok(Some(cmd)) => cmd,
                    Ok(None) => return SessionEnd::Broken("command stream closed".into()),
                    Err(s) => return SessionEnd::Broken(format!("command stream: {}", s.message())),
                };
                let result = execute(opts, &session_id, cmd, emit, orphans).await;
                if let Err(s) = client.report_result(result).await {
                    // The orchestrator re-sends commands without a result when
                    // we come back, and apply/release are idempotent.
                    return SessionEnd::Broken(format!("reporting a result: {}", s.message()));
                }
            }
        }
    }
}

/// Removes the orphans whose grace period is over, logging each one. A
/// failed removal stays pending and is tried again at the next heartbeat.
async fn remove_due_orphans(
    opts: &AgentOptions,
    orphans: &mut PendingOrphans,
    emit: &impl Fn(AgentEvent),
) {
    let host = &opts.node.hostname;
    for due in orphans.take_due(Instant::now()) {
        let h = due.held.clone();
        let backend = opts.backends.backend_name(h.disk).unwrap_or("unknown");
        let age = TimeSpan(due.age.as_secs());
        tracing::warn!(
            host = %host,
            allocation = h.allocation_id,
            disk = h.disk,
            backend = %backend,
            age = %age,
            capacity_bytes = h.capacity_bytes,
            "removing orphan storage the orchestrator does not know"
        );
        match opts.backends.remove_orphan(h.clone()).await {
            Ok(()) => emit(AgentEvent::Released {
                hostname: host.clone(),
                allocation_id: h.allocation_id,
                disk: h.disk,
            }),
            Err(e) => {
                tracing::warn!(
                    host = %host,
                    allocation = h.allocation_id,
                    disk = h.disk,
                    backend = %backend,
                    error = %e,
                    "removing an orphan failed; trying again at the next heartbeat"
                );
                orphans.retry(due, Instant::now());
            }
        }
    }
}

async fn execute(
    opts: &AgentOptions,
    session_id: &str,
    cmd: pb::AgentCommand,
    emit: &impl Fn(AgentEvent),
    orphans: &mut PendingOrphans,
) -> pb::CommandResult {
    let host = opts.node.hostname.clone();
    let commanded = match &cmd.kind {
        Some(pb::agent_command::Kind::Allocate(a)) => Some(a.allocation_id),
        Some(pb::agent_command::Kind::Release(r)) => Some(r.allocation_id),
        None => None,
    };
    // A command for an allocation means the orchestrator knows it: none of
    // its blocks is an orphan (a Release removes them its own way).
    if let Some(id) = commanded {
        if orphans.claimed(id) > 0 {
            tracing::info!(host = %host, allocation = id, "the orchestrator claimed storage it had named an orphan; keeping it");
        }
    }
    let mut result = pb::CommandResult {
        session_id: session_id.to_string(),
        command_id: cmd.command_id,
        allocation_id: 0,
        code: pb::ResultCode::Ok as i32,
        error: String::new(),
        attachment: None,
    };
    let outcome = match cmd.kind {
        Some(pb::agent_command::Kind::Allocate(a)) => {
            result.allocation_id = a.allocation_id;
            let spec = BlockSpec::from(&a);
            match opts.backends.apply(spec).await {
                Ok(att) => {
                    emit(AgentEvent::Allocated {
                        hostname: host.clone(),
                        allocation_id: a.allocation_id,
                        disk: a.disk,
                        attachment: att.clone(),
                    });
                    result.attachment = Some(att.into());
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        }
        Some(pb::agent_command::Kind::Release(r)) => {
            result.allocation_id = r.allocation_id;
            match opts.backends.release(r.allocation_id, r.disk).await {
                Ok(()) => {
                    emit(AgentEvent::Released {
                        hostname: host.clone(),
                        allocation_id: r.allocation_id,
                        disk: r.disk,
                    });
                    Ok(())
                }
                Err(e) => Err(e.to_string()),
            }
        }
        None => {
            // A command from a newer orchestrator: say so instead of dropping the stream.
            result.code = pb::ResultCode::Unsupported as i32;
            result.error = format!(
                "agent {} does not know this kind of command",
                env!("CARGO_PKG_VERSION")
            );
            return result;
        }
    };
    if let Err(error) = outcome {
        tracing::warn!(host = %host, allocation = result.allocation_id, %error, "command failed");
        emit(AgentEvent::CommandFailed {
            hostname: host,
            allocation_id: result.allocation_id,
            error: error.clone(),
        });
        result.code = pb::ResultCode::Failed as i32;
        result.error = error;
    }
    result
}
