//! `AgentService`: what storage-server agents call.

use super::convert;
use super::handle::EngineHandle;
use std::pin::Pin;
use storalloc_proto::v1::agent_service_server::AgentService;
use storalloc_proto::v1::{
    AgentCommand, CommandResult, CommandStreamRequest, HeartbeatRequest, HeartbeatResponse,
    RegisterRequest, RegisterResponse, ResultAck,
};
use tokio_stream::wrappers::UnboundedReceiverStream;
use tokio_stream::{Stream, StreamExt};
use tonic::{Request, Response, Status};

pub struct AgentApi {
    pub(super) engine: EngineHandle,
}

type CommandStream = Pin<Box<dyn Stream<Item = Result<AgentCommand, Status>> + Send>>;

#[tonic::async_trait]
impl AgentService for AgentApi {
    async fn register(
        &self,
        request: Request<RegisterRequest>,
    ) -> Result<Response<RegisterResponse>, Status> {
        let reg = convert::registration(request.into_inner()).map_err(Status::invalid_argument)?;
        let r = self.engine.try_call(move |e| e.register(reg)).await?;
        Ok(Response::new(RegisterResponse {
            node_id: r.node_id,
            session_id: r.session_id,
            heartbeat_interval_s: r.heartbeat_interval_s,
            orphans: r.orphans,
        }))
    }

    async fn heartbeat(
        &self,
        request: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatResponse>, Status> {
        let s = request.into_inner().session_id;
        let known = self.engine.call(move |e| e.heartbeat(&s)).await?;
        Ok(Response::new(HeartbeatResponse { known }))
    }

    type CommandsStream = CommandStream;

    async fn commands(
        &self,
        request: Request<CommandStreamRequest>,
    ) -> Result<Response<Self::CommandsStream>, Status> {
        let s = request.into_inner().session_id;
        let rx = self.engine.try_call(move |e| e.open_commands(&s)).await?;
        Ok(Response::new(Box::pin(
            UnboundedReceiverStream::new(rx).map(Ok),
        )))
    }

    async fn report_result(
        &self,
        request: Request<CommandResult>,
    ) -> Result<Response<ResultAck>, Status> {
        let r = request.into_inner();
        let outcome = convert::outcome(&r).map_err(Status::invalid_argument)?;
        self.engine
            .try_call(move |e| e.report_result(&r.session_id, r.command_id, outcome))
            .await?;
        Ok(Response::new(ResultAck {}))
    }
}
