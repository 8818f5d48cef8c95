//! An engine driven in-process with `storalloc.v1` messages, converted as
//! the gRPC handlers convert them. The engine's own tests and the
//! integration tests use it to check the engine and the edge together
//! without a network; the handlers themselves convert outside the engine
//! thread, so the engine's hot path never does this work.

use super::convert;
use crate::clock::Clock;
use crate::comm::AgentComm;
use crate::engine::{Engine, EngineError, Owner};
use crate::lifecycle::NodeName;
use crate::store::{StateStore, StoreError};
use storalloc_proto::v1::{
    node_request, Allocation, CommandResult, HeartbeatResponse, NodeInfo, NodeRequest,
    RegisterRequest, RegisterResponse, SubmitRequest, SubmitResponse,
};

pub struct Wire<S: StateStore, A: AgentComm, C: Clock>(pub Engine<S, A, C>);

impl<S: StateStore, A: AgentComm, C: Clock> Wire<S, A, C> {
    pub fn submit(
        &mut self,
        r: SubmitRequest,
        owner: Owner,
    ) -> Result<SubmitResponse, EngineError> {
        let (id, req) = convert::submission(r).map_err(EngineError::InvalidArgument)?;
        let (a, duplicate) = self.0.submit(id, req, owner)?;
        Ok(SubmitResponse {
            allocation: Some(convert::allocation_to_proto(&a)),
            duplicate,
        })
    }

    pub fn get(&self, id: u64) -> Result<Allocation, EngineError> {
        self.0.get(id).map(|a| convert::allocation_to_proto(&a))
    }

    pub fn list(&self, all: bool) -> Vec<Allocation> {
        self.0
            .list(all)
            .iter()
            .map(convert::allocation_to_proto)
            .collect()
    }

    pub fn cancel(&mut self, id: u64) -> Result<Allocation, EngineError> {
        self.0.cancel(id).map(|a| convert::allocation_to_proto(&a))
    }

    pub fn register(&mut self, r: RegisterRequest) -> Result<RegisterResponse, EngineError> {
        let reg = convert::registration(r).map_err(EngineError::InvalidArgument)?;
        let r = self.0.register(reg)?;
        Ok(RegisterResponse {
            node_id: r.node_id,
            session_id: r.session_id,
            heartbeat_interval_s: r.heartbeat_interval_s,
            orphans: r.orphans,
        })
    }

    pub fn heartbeat(&mut self, session: &str) -> HeartbeatResponse {
        HeartbeatResponse {
            known: self.0.heartbeat(session),
        }
    }

    pub fn report_result(&mut self, r: CommandResult) -> Result<(), EngineError> {
        let o = convert::outcome(&r).map_err(EngineError::InvalidArgument)?;
        self.0.report_result(&r.session_id, r.command_id, o)
    }

    pub fn node_infos(&mut self) -> Vec<NodeInfo> {
        self.0.node_views().iter().map(convert::node_info).collect()
    }

    pub fn drain_node(&mut self, r: &NodeRequest) -> Result<NodeInfo, EngineError> {
        self.0
            .drain_node(&node_name(r)?)
            .map(|v| convert::node_info(&v))
    }

    pub fn resume_node(&mut self, r: &NodeRequest) -> Result<NodeInfo, EngineError> {
        self.0
            .resume_node(&node_name(r)?)
            .map(|v| convert::node_info(&v))
    }

    pub fn open_commands(&mut self, session: &str) -> Result<A::Stream, EngineError> {
        self.0.open_commands(session)
    }

    pub fn watch(&mut self, id: Option<u64>) -> Result<(), EngineError> {
        self.0.watch(id).map(|_| ())
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<crate::engine::Event> {
        self.0.subscribe()
    }

    pub fn commit(&mut self) -> Result<(), StoreError> {
        self.0.commit()
    }

    pub fn tick(&mut self) {
        self.0.tick()
    }

    pub fn has_uncommitted(&self) -> bool {
        self.0.has_uncommitted()
    }

    pub fn check_invariants(&self) -> Result<(), storalloc_core::InvariantViolation> {
        self.0.check_invariants()
    }
}

/// The node an admin request names; `Err` as the handlers answer it.
pub fn node_name(r: &NodeRequest) -> Result<NodeName, EngineError> {
    match &r.node {
        Some(node_request::Node::Id(id)) => Ok(NodeName::Id(*id)),
        Some(node_request::Node::Hostname(h)) => Ok(NodeName::Hostname(h.clone())),
        None => Err(EngineError::InvalidArgument(
            "node is required: give its id or its hostname".into(),
        )),
    }
}
