//! `AdminService`: what operators call.

use super::convert::node_info;
use super::handle::EngineHandle;
use storalloc_proto::v1::admin_service_server::AdminService;
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
        let name =
            super::wire::node_name(&request.into_inner()).map_err(super::handle::to_status)?;
        let v = self.engine.try_call(move |e| e.drain_node(&name)).await?;
        Ok(Response::new(node_info(&v)))
    }

    async fn resume_node(
        &self,
        request: Request<NodeRequest>,
    ) -> Result<Response<NodeInfo>, Status> {
        let name =
            super::wire::node_name(&request.into_inner()).map_err(super::handle::to_status)?;
        let v = self.engine.try_call(move |e| e.resume_node(&name)).await?;
        Ok(Response::new(node_info(&v)))
    }
}
