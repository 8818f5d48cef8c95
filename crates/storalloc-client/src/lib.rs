//! The storalloc client library: talks to the orchestrator's ClientService
//! and AdminService over gRPC.
//!
//! Every call retries with backoff while the orchestrator is unreachable
//! (down, restarting) until the [`RetryPolicy`] gives up. That is safe
//! because every call is idempotent; in particular [`Client::submit`] takes a
//! client-chosen request id (see [`new_request_id`]) that is re-sent
//! unchanged, so a submission retried across an orchestrator restart is
//! never allocated twice.

mod endpoints;
/// The JSON views moved to `storalloc-proto`, beside the messages they show.
pub use storalloc_proto::json;
mod retry;

pub use endpoints::{read_endpoints, wait_for_endpoints, Endpoints};
pub use retry::RetryPolicy;
pub use storalloc_auth::ClientTls;

use std::time::Duration;
use storalloc_auth::MungeCredentials;
use storalloc_proto::v1 as pb;
use storalloc_proto::v1::admin_service_client::AdminServiceClient;
use storalloc_proto::v1::client_service_client::ClientServiceClient;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::Code;

pub use storalloc_proto::v1;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid orchestrator address {addr:?}: {message}")]
    BadAddress { addr: String, message: String },
    #[error("cannot reach the orchestrator at {addr} (gave up after {after:?}): {message}")]
    Unreachable {
        addr: String,
        after: Duration,
        message: String,
    },
    /// The orchestrator answered with an error; `message` is its explanation.
    #[error("{op}: {message}")]
    Rejected {
        op: &'static str,
        code: Code,
        message: String,
    },
    #[error("{path}: {message}")]
    Endpoints { path: String, message: String },
    #[error("the watch stream ended before allocation {0} reached the awaited state")]
    WatchEnded(u64),
}

impl ClientError {
    /// The gRPC code the orchestrator answered with, if it answered.
    pub fn code(&self) -> Option<Code> {
        match self {
            ClientError::Rejected { code, .. } => Some(*code),
            _ => None,
        }
    }
}

/// A UUID v4, the recommended request id.
pub fn new_request_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// Is an allocation in a state it will never leave?
pub fn is_final(state: pb::AllocationState) -> bool {
    use pb::AllocationState as S;
    matches!(state, S::Refused | S::Failed | S::Ended | S::Cancelled)
}

/// Status and List answers of big systems exceed tonic's 4 MiB default.
const MAX_MESSAGE: usize = 256 << 20;

/// Every call carries a fresh MUNGE credential when munged can make one
/// (docs/security.md); `STORALLOC_AUTH=none` turns that off.
type Svc = InterceptedService<Channel, MungeCredentials>;

#[derive(Clone)]
pub struct Client {
    addr: String,
    client: ClientServiceClient<Svc>,
    admin: AdminServiceClient<Svc>,
    policy: RetryPolicy,
    tls: bool,
}

/// Transport-level failures worth retrying; anything else is the
/// orchestrator's answer and is returned as is.
fn retryable(s: &tonic::Status) -> bool {
    matches!(
        s.code(),
        Code::Unavailable | Code::Cancelled | Code::Unknown
    )
}

impl Client {
    /// A client for the orchestrator at `addr` (`host:port` or `http://…`).
    /// Connects lazily; the first call waits for the orchestrator as long as
    /// `policy` allows.
    pub fn new(addr: &str, policy: RetryPolicy) -> Result<Client, ClientError> {
        Client::with_tls(addr, policy, None)
    }

    /// [`Client::new`] over TLS when `tls` is given: `host:port` then means
    /// `https://host:port` and the orchestrator's certificate must be signed
    /// by the CA in `tls` (docs/security.md, "TLS").
    pub fn with_tls(
        addr: &str,
        policy: RetryPolicy,
        tls: Option<&ClientTls>,
    ) -> Result<Client, ClientError> {
        let channel =
            storalloc_auth::tls::lazy_channel(addr, tls).map_err(|e| ClientError::BadAddress {
                addr: addr.to_string(),
                message: e.to_string(),
            })?;
        Ok(Client {
            addr: addr.to_string(),
            client: ClientServiceClient::with_interceptor(
                channel.clone(),
                MungeCredentials::from_env(),
            )
            .max_decoding_message_size(MAX_MESSAGE),
            admin: AdminServiceClient::with_interceptor(channel, MungeCredentials::from_env())
                .max_decoding_message_size(MAX_MESSAGE),
            policy,
            tls: tls.is_some(),
        })
    }

    /// Like [`Client::new`], then waits until the orchestrator answers.
    pub async fn connect(addr: &str, policy: RetryPolicy) -> Result<Client, ClientError> {
        let c = Client::new(addr, policy)?;
        c.status().await?;
        Ok(c)
    }

    pub fn addr(&self) -> &str {
        &self.addr
    }

    /// What a plain HTTP/2 client sees when the orchestrator expects a TLS
    /// handshake (a protocol error or a dropped connection) gets a hint.
    fn tls_hint(&self, mut message: String) -> String {
        let looks_like_tls = ["protocol error", "broken pipe", "connection reset"]
            .iter()
            .any(|m| message.contains(m));
        if !self.tls && looks_like_tls {
            message.push_str(
                " (does the orchestrator use TLS? then set tls_ca_file; see docs/security.md)",
            );
        }
        message
    }

    async fn call<T, F, Fut>(&self, op: &'static str, mut f: F) -> Result<T, ClientError>
    where
        F: FnMut(ClientServiceClient<Svc>, AdminServiceClient<Svc>) -> Fut,
        Fut: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>>,
    {
        let started = tokio::time::Instant::now();
        let mut backoff = self.policy.backoff();
        loop {
            match f(self.client.clone(), self.admin.clone()).await {
                Ok(r) => return Ok(r.into_inner()),
                Err(s) if retryable(&s) => {
                    let waited = started.elapsed();
                    if waited >= self.policy.give_up_after {
                        return Err(ClientError::Unreachable {
                            addr: self.addr.clone(),
                            after: waited,
                            message: self.tls_hint(storalloc_auth::tls::status_with_causes(&s)),
                        });
                    }
                    tracing::debug!(op, error = %s.message(), "orchestrator unreachable, retrying");
                    tokio::time::sleep(backoff.next_delay()).await;
                }
                Err(s) => {
                    return Err(ClientError::Rejected {
                        op,
                        code: s.code(),
                        message: self.tls_hint(s.message().to_string()),
                    });
                }
            }
        }
    }

    /// Ask for storage. Re-sending the same `request_id` (which this method
    /// does on its own while the orchestrator is unreachable) returns the
    /// allocation created the first time.
    pub async fn submit(
        &self,
        request_id: &str,
        request: pb::StorageRequest,
    ) -> Result<pb::SubmitResponse, ClientError> {
        let req = pb::SubmitRequest {
            request_id: request_id.to_string(),
            request: Some(request),
        };
        self.call("submit", |mut c, _| {
            let req = req.clone();
            async move { c.submit(req).await }
        })
        .await
    }

    pub async fn get(&self, allocation_id: u64) -> Result<pb::Allocation, ClientError> {
        self.call("get", |mut c, _| async move {
            c.get(pb::GetRequest { allocation_id }).await
        })
        .await
    }

    pub async fn list(&self, include_finished: bool) -> Result<Vec<pb::Allocation>, ClientError> {
        let r = self
            .call("list", |mut c, _| async move {
                c.list(pb::ListRequest { include_finished }).await
            })
            .await?;
        Ok(r.allocations)
    }

    pub async fn cancel(&self, allocation_id: u64) -> Result<pb::Allocation, ClientError> {
        self.call("cancel", |mut c, _| async move {
            c.cancel(pb::CancelRequest { allocation_id }).await
        })
        .await
    }

    pub async fn status(&self) -> Result<pb::StatusResponse, ClientError> {
        self.call("status", |mut c, _| async move {
            c.status(pb::StatusRequest {}).await
        })
        .await
    }

    /// One page of finished allocations (see `storalloc history`).
    pub async fn history(
        &self,
        req: pb::HistoryRequest,
    ) -> Result<pb::HistoryResponse, ClientError> {
        self.call("history", |mut c, _| async move { c.history(req).await })
            .await
    }

    pub async fn list_nodes(&self) -> Result<Vec<pb::NodeInfo>, ClientError> {
        let r = self
            .call("list nodes", |_, mut a| async move {
                a.list_nodes(pb::ListNodesRequest {}).await
            })
            .await?;
        Ok(r.nodes)
    }

    /// The event stream of one allocation (or of all with `None`); it starts
    /// with the current state.
    pub async fn watch(
        &self,
        allocation_id: Option<u64>,
    ) -> Result<tonic::Streaming<pb::AllocationEvent>, ClientError> {
        self.call("watch", |mut c, _| async move {
            c.watch(pb::WatchRequest { allocation_id }).await
        })
        .await
    }

    /// Follows allocation `id` until `done` holds for it (or it reaches a
    /// final state), re-opening the watch if the orchestrator goes away.
    pub async fn wait_until(
        &self,
        id: u64,
        done: impl Fn(&pb::Allocation) -> bool,
    ) -> Result<pb::Allocation, ClientError> {
        let mut backoff = self.policy.backoff();
        let mut broken_since: Option<tokio::time::Instant> = None;
        loop {
            let mut stream = self.watch(Some(id)).await?;
            loop {
                match stream.message().await {
                    Ok(Some(ev)) => {
                        broken_since = None;
                        if let Some(a) = ev.allocation {
                            if a.id == id && (done(&a) || is_final(a.state())) {
                                return Ok(a);
                            }
                        }
                    }
                    Ok(None) => break,
                    Err(s) if retryable(&s) => break,
                    Err(s) => {
                        return Err(ClientError::Rejected {
                            op: "watch",
                            code: s.code(),
                            message: s.message().to_string(),
                        })
                    }
                }
            }
            let since = *broken_since.get_or_insert_with(tokio::time::Instant::now);
            if since.elapsed() >= self.policy.give_up_after {
                return Err(ClientError::WatchEnded(id));
            }
            tokio::time::sleep(backoff.next_delay()).await;
        }
    }
}
