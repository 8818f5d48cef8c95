//! `AdminService`: what operators call.

use super::convert::node_info;
use super::handle::EngineHandle;
use crate::lifecycle::NodeName;
use storalloc_proto::v1::admin_service_server::AdminService;
use storalloc_proto::v1::node_request;
use storalloc_proto::v1::{ListNodesRequest, ListNodesResponse, NodeInfo, NodeRequest};
use tonic::{Request, Response, Status};

pub struct AdminApi {
    pub(super) engine: EngineHandle,
}

#[tonic::async_trait]
impl AdminService for AdminApi {
    async fn list_nodes(
        &self,
        _request: Request<ListNodesRequest>,
    ) -> Result<Response<ListNodesResponse>, Status> {
        let nodes = self
            .engine
            .call(|e| e.node_views().iter().map(node_info).collect())
            .await?;
        Ok(Response::new(ListNodesResponse { nodes }))
    }

    async fn drain_node(
        &self,
        request: Request<NodeRequest>,
    ) -> Result<Response<NodeInfo>, Status> {
        let name = node_name(request.into_inner())?;
        let v = self.engine.try_call(move |e| e.drain_node(&name)).await?;
        Ok(Response::new(node_info(&v)))
    }

    async fn resume_node(
        &self,
        request: Request<NodeRequest>,
    ) -> Result<Response<NodeInfo>, Status> {
        let name = node_name(request.into_inner())?;
        let v = self.engine.try_call(move |e| e.resume_node(&name)).await?;
        Ok(Response::new(node_info(&v)))
    }
}

fn node_name(r: NodeRequest) -> Result<NodeName, Status> {
    match r.node {
        Some(node_request::Node::Id(id)) => Ok(NodeName::Id(id)),
        Some(node_request::Node::Hostname(h)) => Ok(NodeName::Hostname(h)),
        None => Err(Status::invalid_argument(
            "node is required: give its id or its hostname",
        )),
    }
}
