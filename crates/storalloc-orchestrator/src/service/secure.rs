//! Authentication and authorization in front of the three services: each
//! wrapper learns who is calling (see `storalloc-auth`), decides whether
//! they may, writes the audit log, then hands the call to the plain
//! service. The engine itself stays unaware of users beyond `Owner`.

use super::admin::AdminApi;
use super::agent::AgentApi;
use super::client::{ClientApi, GID_HEADER, UID_HEADER};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use storalloc_auth::agent_key::{AGENT_HOST_HEADER, AGENT_MAC_HEADER, AGENT_TIME_HEADER};
use storalloc_auth::{
    AccessPolicy, AgentKey, AgentProof, AuditEvent, AuditLog, AuthError, Authenticator, CallInfo,
    Identity, NoneAuth, MUNGE_HEADER,
};
use storalloc_proto::v1::admin_service_server::AdminService;
use storalloc_proto::v1::agent_service_server::AgentService;
use storalloc_proto::v1::client_service_server::ClientService;
use storalloc_proto::v1::*;
use tokio_stream::{Stream, StreamExt};
use tonic::metadata::MetadataValue;
use tonic::{Request, Response, Status};

/// How the orchestrator authenticates and authorizes (config keys `auth`,
/// `admin_uids`, `admin_groups`, `agent_secret_file`).
#[derive(Clone)]
pub struct Security {
    pub auth: Arc<dyn Authenticator>,
    pub policy: AccessPolicy,
    /// None: agents are not authenticated (only allowed on loopback binds).
    pub agent_key: Option<AgentKey>,
}

impl Default for Security {
    /// `auth: none`, no agent secret: the loopback-only development mode.
    fn default() -> Security {
        Security {
            auth: Arc::new(NoneAuth),
            policy: AccessPolicy::default(),
            agent_key: None,
        }
    }
}

impl Security {
    /// Why this set-up must not listen on `addr`, if it must not.
    pub fn refuse_bind(&self, addr: SocketAddr) -> Option<String> {
        if addr.ip().is_loopback() {
            return None;
        }
        if self.auth.name() == "none" {
            return Some(format!(
                "refusing to listen on {addr} with `auth: none`: anyone who can reach it could act as any user. \
                 Set `auth: munge` (see docs/security.md) or bind orchestrator_addr to a loopback address"
            ));
        }
        if self.agent_key.is_none() {
            return Some(format!(
                "refusing to listen on {addr} without `agent_secret_file`: anyone who can reach it could register \
                 as a storage node. Create a 0600 secret file and name it in the config (see docs/security.md)"
            ));
        }
        None
    }
}

pub(super) struct Guard {
    pub security: Security,
    pub audit: AuditLog,
}

fn peer_string(p: Option<SocketAddr>) -> Option<String> {
    p.map(|p| p.to_string())
}

fn to_status(e: AuthError) -> Status {
    match e {
        AuthError::Unavailable(m) => Status::unavailable(m),
        e => Status::unauthenticated(e.to_string()),
    }
}

impl Guard {
    fn record(
        &self,
        who: Option<Identity>,
        peer: Option<SocketAddr>,
        action: &str,
        allocation: Option<u64>,
        outcome: &str,
        detail: &str,
    ) {
        self.audit.record(&AuditEvent {
            uid: who.map(|w| w.uid),
            gid: who.map(|w| w.gid),
            peer: peer_string(peer),
            action,
            allocation,
            outcome,
            detail,
        });
    }

    /// Authenticates a user's call and rewrites its uid/gid metadata to
    /// the proven identity, which is what the plain service records as
    /// the owner (and passes to the agents).
    fn identify<T>(&self, req: &mut Request<T>, action: &str) -> Result<Identity, Status> {
        let peer = req.remote_addr();
        let md = req.metadata();
        let text = |k: &str| md.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
        let num = |k: &str| text(k).and_then(|s| s.trim().parse::<u32>().ok());
        let cred = text(MUNGE_HEADER);
        let call = CallInfo {
            peer,
            credential: cred.as_deref(),
            claimed_uid: num(UID_HEADER),
            claimed_gid: num(GID_HEADER),
        };
        let who = match self.security.auth.authenticate(&call) {
            Ok(w) => w,
            Err(e) => {
                self.record(None, peer, action, None, "unauthenticated", &e.to_string());
                return Err(to_status(e));
            }
        };
        let md = req.metadata_mut();
        md.remove(MUNGE_HEADER);
        md.insert(UID_HEADER, MetadataValue::from(who.uid));
        md.insert(GID_HEADER, MetadataValue::from(who.gid));
        Ok(who)
    }

    fn may_see(&self, who: &Identity, a: &Allocation) -> bool {
        a.owner_uid == who.uid || self.security.policy.is_admin(who)
    }

    fn deny(&self, who: Identity, peer: Option<SocketAddr>, action: &str, id: u64) -> Status {
        self.record(
            Some(who),
            peer,
            action,
            Some(id),
            "denied",
            "not the owner and not an admin",
        );
        Status::permission_denied(format!(
            "allocation {id} belongs to another user; only its owner or an admin may {action} it"
        ))
    }

    fn outcome<T>(
        &self,
        who: Identity,
        peer: Option<SocketAddr>,
        action: &str,
        id: Option<u64>,
        r: &Result<T, Status>,
    ) {
        match r {
            Ok(_) => self.record(Some(who), peer, action, id, "ok", ""),
            Err(s) => self.record(Some(who), peer, action, id, "error", s.message()),
        }
    }
}

/// `ClientService` with authentication and per-owner authorization.
pub struct SecureClient {
    pub(super) inner: ClientApi,
    pub(super) guard: Arc<Guard>,
}

type EventStream = Pin<Box<dyn Stream<Item = Result<AllocationEvent, Status>> + Send>>;

impl SecureClient {
    /// The allocation, if `who` may see it.
    async fn owned(
        &self,
        who: Identity,
        peer: Option<SocketAddr>,
        action: &str,
        id: u64,
    ) -> Result<Allocation, Status> {
        let a = self
            .inner
            .get(Request::new(GetRequest { allocation_id: id }))
            .await;
        let a = match a {
            Ok(a) => a.into_inner(),
            Err(s) => {
                self.guard
                    .record(Some(who), peer, action, Some(id), "error", s.message());
                return Err(s);
            }
        };
        if !self.guard.may_see(&who, &a) {
            return Err(self.guard.deny(who, peer, action, id));
        }
        Ok(a)
    }
}

#[tonic::async_trait]
impl ClientService for SecureClient {
    async fn submit(
        &self,
        mut request: Request<SubmitRequest>,
    ) -> Result<Response<SubmitResponse>, Status> {
        let peer = request.remote_addr();
        let who = self.guard.identify(&mut request, "submit")?;
        let r = self.inner.submit(request).await;
        if let Ok(resp) = &r {
            // A request id is not a secret: re-sending someone else's must
            // not hand over their allocation.
            if let Some(a) = &resp.get_ref().allocation {
                if !self.guard.may_see(&who, a) {
                    return Err(self.guard.deny(who, peer, "submit", a.id));
                }
            }
        }
        let id = r
            .as_ref()
            .ok()
            .and_then(|x| x.get_ref().allocation.as_ref().map(|a| a.id));
        self.guard.outcome(who, peer, "submit", id, &r);
        r
    }

    async fn get(&self, mut request: Request<GetRequest>) -> Result<Response<Allocation>, Status> {
        let peer = request.remote_addr();
        let who = self.guard.identify(&mut request, "get")?;
        let id = request.get_ref().allocation_id;
        let a = self.owned(who, peer, "get", id).await?;
        Ok(Response::new(a))
    }

    async fn list(
        &self,
        mut request: Request<ListRequest>,
    ) -> Result<Response<ListResponse>, Status> {
        let who = self.guard.identify(&mut request, "list")?;
        let mut r = self.inner.list(request).await?;
        if !self.guard.security.policy.is_admin(&who) {
            r.get_mut().allocations.retain(|a| a.owner_uid == who.uid);
        }
        Ok(r)
    }

    async fn history(
        &self,
        mut request: Request<HistoryRequest>,
    ) -> Result<Response<HistoryResponse>, Status> {
        let who = self.guard.identify(&mut request, "history")?;
        // Users see their own history; admins anyone's.
        if !self.guard.security.policy.is_admin(&who) {
            match request.get_ref().uid {
                Some(u) if u != who.uid => {
                    return Err(Status::permission_denied(format!(
                        "uid {} may only read its own history (asked for uid {u})",
                        who.uid
                    )))
                }
                _ => request.get_mut().uid = Some(who.uid),
            }
        }
        self.inner.history(request).await
    }

    async fn cancel(
        &self,
        mut request: Request<CancelRequest>,
    ) -> Result<Response<Allocation>, Status> {
        let peer = request.remote_addr();
        let who = self.guard.identify(&mut request, "cancel")?;
        let id = request.get_ref().allocation_id;
        self.owned(who, peer, "cancel", id).await?;
        let r = self.inner.cancel(request).await;
        self.guard.outcome(who, peer, "cancel", Some(id), &r);
        r
    }

    type WatchStream = EventStream;

    async fn watch(
        &self,
        mut request: Request<WatchRequest>,
    ) -> Result<Response<EventStream>, Status> {
        let peer = request.remote_addr();
        let who = self.guard.identify(&mut request, "watch")?;
        if let Some(id) = request.get_ref().allocation_id {
            self.owned(who, peer, "watch", id).await?;
        }
        let r = self.inner.watch(request).await?;
        if self.guard.security.policy.is_admin(&who) {
            return Ok(r);
        }
        let mine = r.into_inner().filter(move |ev| match ev {
            Ok(ev) => ev
                .allocation
                .as_ref()
                .is_some_and(|a| a.owner_uid == who.uid),
            Err(_) => true,
        });
        Ok(Response::new(Box::pin(mine)))
    }

    async fn status(
        &self,
        mut request: Request<StatusRequest>,
    ) -> Result<Response<StatusResponse>, Status> {
        let who = self.guard.identify(&mut request, "status")?;
        let mut r = self.inner.status(request).await?;
        // Nodes' disk usage still counts everyone's allocations: the
        // aggregate picture without other users' details.
        if !self.guard.security.policy.is_admin(&who) {
            r.get_mut().allocations.retain(|a| a.owner_uid == who.uid);
        }
        Ok(r)
    }
}

/// `AdminService`: reading nodes is for anyone authenticated, changing
/// them for admins.
pub struct SecureAdmin {
    pub(super) inner: AdminApi,
    pub(super) guard: Arc<Guard>,
}

impl SecureAdmin {
    fn admin<T>(&self, request: &mut Request<T>, action: &str) -> Result<Identity, Status> {
        let peer = request.remote_addr();
        let who = self.guard.identify(request, action)?;
        if !self.guard.security.policy.is_admin(&who) {
            self.guard
                .record(Some(who), peer, action, None, "denied", "not an admin");
            return Err(Status::permission_denied(format!(
                "{action} is for admins (uid {} is not in admin_uids or admin_groups)",
                who.uid
            )));
        }
        Ok(who)
    }
}

#[tonic::async_trait]
impl AdminService for SecureAdmin {
    async fn list_nodes(
        &self,
        mut request: Request<ListNodesRequest>,
    ) -> Result<Response<ListNodesResponse>, Status> {
        self.guard.identify(&mut request, "list nodes")?;
        self.inner.list_nodes(request).await
    }

    async fn drain_node(
        &self,
        mut request: Request<NodeRequest>,
    ) -> Result<Response<NodeInfo>, Status> {
        let peer = request.remote_addr();
        let who = self.admin(&mut request, "drain node")?;
        let r = self.inner.drain_node(request).await;
        self.guard.outcome(who, peer, "drain node", None, &r);
        r
    }

    async fn resume_node(
        &self,
        mut request: Request<NodeRequest>,
    ) -> Result<Response<NodeInfo>, Status> {
        let peer = request.remote_addr();
        let who = self.admin(&mut request, "resume node")?;
        let r = self.inner.resume_node(request).await;
        self.guard.outcome(who, peer, "resume node", None, &r);
        r
    }
}

/// `AgentService`: with an agent secret, every call must carry a valid
/// proof, and Register must be for the proven hostname.
pub struct SecureAgent {
    pub(super) inner: AgentApi,
    pub(super) guard: Arc<Guard>,
}

impl SecureAgent {
    /// The proven hostname (None when agents are not authenticated).
    fn verify<T>(&self, request: &Request<T>, action: &str) -> Result<Option<String>, Status> {
        let Some(key) = &self.guard.security.agent_key else {
            return Ok(None);
        };
        let md = request.metadata();
        let text = |k: &str| md.get(k).and_then(|v| v.to_str().ok()).map(str::to_string);
        let proof = match (
            text(AGENT_HOST_HEADER),
            text(AGENT_TIME_HEADER),
            text(AGENT_MAC_HEADER),
        ) {
            (Some(host), Some(t), Some(mac_hex)) => {
                t.trim().parse().ok().map(|time_unix| AgentProof {
                    host,
                    time_unix,
                    mac_hex,
                })
            }
            _ => None,
        };
        let res = match proof {
            None => Err(AuthError::Invalid(
                "unknown agent: the call carries no agent proof (configure agent_secret_file on the agent)".into(),
            )),
            Some(p) => key.verify(&p, storalloc_auth::now_unix()),
        };
        match res {
            Ok(host) => Ok(Some(host)),
            Err(e) => {
                self.guard.audit.record(&AuditEvent {
                    uid: None,
                    gid: None,
                    peer: peer_string(request.remote_addr()),
                    action,
                    allocation: None,
                    outcome: "unauthenticated",
                    detail: &e.to_string(),
                });
                Err(Status::unauthenticated(format!("agent {action}: {e}")))
            }
        }
    }
}

type CommandStream = Pin<Box<dyn Stream<Item = Result<AgentCommand, Status>> + Send>>;

#[tonic::async_trait]
impl AgentService for SecureAgent {
    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        let host = self.verify(&request, "register")?;
        let claimed = request
            .get_ref()
            .node
            .as_ref()
            .map(|n| n.hostname.clone())
            .unwrap_or_default();
        if let Some(h) = host {
            if h != claimed {
                self.guard.audit.record(&AuditEvent {
                    uid: None,
                    gid: None,
                    peer: peer_string(request.remote_addr()),
                    action: "register",
                    allocation: None,
                    outcome: "denied",
                    detail: &format!("proof for {h:?} used to register {claimed:?}"),
                });
                return Err(Status::permission_denied(format!(
                    "agent proved hostname {h:?} but registers node {claimed:?}"
                )));
            }
        }
        self.inner.register(request).await
    }

    async fn heartbeat(
        &self,
        request: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatResponse>, Status> {
        self.verify(&request, "heartbeat")?;
        self.inner.heartbeat(request).await
    }

    type CommandsStream = CommandStream;

    async fn commands(
        &self,
        request: Request<CommandStreamRequest>,
    ) -> Result<Response<CommandStream>, Status> {
        self.verify(&request, "commands")?;
        self.inner.commands(request).await
    }

    async fn report_result(
        &self,
        request: Request<CommandResult>,
    ) -> Result<Response<ResultAck>, Status> {
        self.verify(&request, "report result")?;
        self.inner.report_result(request).await
    }
}
