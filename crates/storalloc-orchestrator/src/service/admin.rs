//! `AdminService`: what operators call.

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
        let nodes = self.engine.call(|e| e.node_infos()).await?;
        Ok(Response::new(ListNodesResponse { nodes }))
    }

    async fn drain_node(
        &self,
        request: Request<NodeRequest>,
    ) -> Result<Response<NodeInfo>, Status> {
        let r = request.into_inner();
        Ok(Response::new(
            self.engine.try_call(move |e| e.drain_node(&r)).await?,
        ))
    }

    async fn resume_node(
        &self,
        request: Request<NodeRequest>,
    ) -> Result<Response<NodeInfo>, Status> {
        let r = request.into_inner();
        Ok(Response::new(
            self.engine.try_call(move |e| e.resume_node(&r)).await?,
        ))
    }
}
