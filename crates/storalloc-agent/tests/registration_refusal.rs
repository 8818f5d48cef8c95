//! The agent against an orchestrator that refuses its registrations (a fake
//! AgentService on loopback): transient errors are retried with backoff, a
//! permanent refusal ends the agent with an error saying what to fix.

mod agent_support;

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storalloc_agent::{AgentError, Backoff, DryRunBackend, DryRunNode, StorageBackend};
use storalloc_proto::v1 as pb;
use storalloc_proto::v1::agent_service_server::{AgentService, AgentServiceServer};
use tokio::sync::watch;
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Code, Request, Response, Status};

/// Answers each registration with the next status of its script, and
/// counts them.
#[derive(Clone, Default)]
struct Refuser {
    answers: Arc<Mutex<VecDeque<Status>>>,
    registers: Arc<Mutex<u32>>,
}

#[tonic::async_trait]
impl AgentService for Refuser {
    async fn register(
        &self,
        _: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        *self.registers.lock().unwrap() += 1;
        let next = self.answers.lock().unwrap().pop_front();
        Err(next.unwrap_or_else(|| Status::unavailable("script exhausted")))
    }

    async fn heartbeat(
        &self,
        _: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        Err(Status::failed_precondition("never registered"))
    }

    type CommandsStream = ReceiverStream<Result<pb::AgentCommand, Status>>;

    async fn commands(
        &self,
        _: Request<pb::CommandStreamRequest>,
    ) -> Result<Response<Self::CommandsStream>, Status> {
        Err(Status::failed_precondition("never registered"))
    }

    async fn report_result(
        &self,
        _: Request<pb::CommandResult>,
    ) -> Result<Response<pb::ResultAck>, Status> {
        Err(Status::failed_precondition("never registered"))
    }
}

/// Runs an agent against `fake` until it returns (or 10 s pass).
async fn run_against(fake: Refuser) -> Result<(), AgentError> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(AgentServiceServer::new(fake))
            .serve_with_incoming(TcpListenerStream::new(listener)),
    );
    let dir = tempfile::tempdir().unwrap();
    let node = DryRunNode {
        hostname: "ault14".into(),
        address: "10.1.1.1".into(),
        disk_capacities: vec![1_000_000_000_000],
        disk_ids: vec![],
    };
    let backend: Arc<dyn StorageBackend> = Arc::new(DryRunBackend::open(dir.path(), node).unwrap());
    let opts = agent_support::ault14_options(
        addr,
        vec![backend],
        Backoff::new(Duration::from_millis(10), Duration::from_millis(50)),
        Duration::ZERO,
    );
    let (_stop, stop_rx) = watch::channel(false);
    tokio::time::timeout(
        Duration::from_secs(10),
        storalloc_agent::run(opts, None, stop_rx),
    )
    .await
    .expect("the agent still retries after 10 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_errors_are_retried_and_a_refusal_ends_the_agent() {
    let fake = Refuser::default();
    fake.answers.lock().unwrap().extend([
        Status::unavailable("restarting"),
        Status::deadline_exceeded("slow"),
        Status::resource_exhausted("busy"),
        Status::aborted("conflict"),
        Status::invalid_argument("node.disks[0].medium: unknown medium \"tape\""),
    ]);
    let err = run_against(fake.clone()).await.unwrap_err();
    assert_eq!(
        *fake.registers.lock().unwrap(),
        5,
        "four retries, then stop"
    );
    let AgentError::Refused { host, refusal } = &err else {
        panic!("expected a refusal, got {err}");
    };
    assert_eq!(host, "ault14");
    assert_eq!(refusal.code, Code::InvalidArgument);
    assert_eq!(
        err.to_string(),
        "ault14: the orchestrator refused this node's registration (InvalidArgument): \
         node.disks[0].medium: unknown medium \"tape\"; fix the system file and restart \
         `storalloc server`"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_identity_ends_the_agent_too() {
    let fake = Refuser::default();
    fake.answers
        .lock()
        .unwrap()
        .push_back(Status::unauthenticated("agent register: bad MAC"));
    let err = run_against(fake.clone()).await.unwrap_err();
    assert_eq!(*fake.registers.lock().unwrap(), 1);
    assert!(err.to_string().contains("agent_secret_file"), "{err}");
}
