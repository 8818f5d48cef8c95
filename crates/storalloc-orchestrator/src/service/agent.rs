//! `AgentService`: what storage-server agents call.

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
        let req = request.into_inner();
        Ok(Response::new(
            self.engine.try_call(move |e| e.register(req)).await?,
        ))
    }

    async fn heartbeat(
        &self,
        request: Request<HeartbeatRequest>,
    ) -> Result<Response<HeartbeatResponse>, Status> {
        let s = request.into_inner().session_id;
        Ok(Response::new(
            self.engine.call(move |e| e.heartbeat(&s)).await?,
        ))
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
        self.engine.try_call(move |e| e.report_result(r)).await?;
        Ok(Response::new(ResultAck {}))
    }
}
