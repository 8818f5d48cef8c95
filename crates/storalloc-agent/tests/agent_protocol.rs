//! The agent against a scripted orchestrator (a fake AgentService on
//! loopback): registration with what it holds, orphans and their grace
//! period, command execution and results, unknown commands, re-registration
//! and reconnection.

mod agent_support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storalloc_agent::{Backoff, DryRunBackend, DryRunNode, StorageBackend};
use storalloc_proto::v1 as pb;
use storalloc_proto::v1::agent_service_server::{AgentService, AgentServiceServer};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status};

const GB: u64 = 1_000_000_000;

#[derive(Default)]
struct Script {
    registers: Vec<pb::RegisterRequest>,
    results: Vec<pb::CommandResult>,
    heartbeats: u32,
    orphans_next: Vec<u64>,
    /// Named as orphans at every registration (after `orphans_next`).
    orphans_always: Vec<u64>,
    unknown_sessions: bool,
    /// Every heartbeat says the session is unknown, so the agent registers
    /// again at each one.
    forget_sessions: bool,
    commands: Option<mpsc::Sender<Result<pb::AgentCommand, Status>>>,
}

#[derive(Default, Clone)]
struct Fake(Arc<Mutex<Script>>);

#[tonic::async_trait]
impl AgentService for Fake {
    async fn register(
        &self,
        r: Request<pb::RegisterRequest>,
    ) -> Result<Response<pb::RegisterResponse>, Status> {
        let mut s = self.0.lock().unwrap();
        s.registers.push(r.into_inner());
        let mut orphans = std::mem::take(&mut s.orphans_next);
        orphans.extend(s.orphans_always.iter().copied());
        Ok(Response::new(pb::RegisterResponse {
            node_id: 3,
            session_id: format!("session-{}", s.registers.len()),
            heartbeat_interval_s: 1,
            orphans,
        }))
    }

    async fn heartbeat(
        &self,
        _: Request<pb::HeartbeatRequest>,
    ) -> Result<Response<pb::HeartbeatResponse>, Status> {
        let mut s = self.0.lock().unwrap();
        s.heartbeats += 1;
        let known = !std::mem::take(&mut s.unknown_sessions) && !s.forget_sessions;
        Ok(Response::new(pb::HeartbeatResponse { known }))
    }

    type CommandsStream = ReceiverStream<Result<pb::AgentCommand, Status>>;

    async fn commands(
        &self,
        _: Request<pb::CommandStreamRequest>,
    ) -> Result<Response<Self::CommandsStream>, Status> {
        let (tx, rx) = mpsc::channel(16);
        self.0.lock().unwrap().commands = Some(tx);
        Ok(Response::new(ReceiverStream::new(rx)))
    }

    async fn report_result(
        &self,
        r: Request<pb::CommandResult>,
    ) -> Result<Response<pb::ResultAck>, Status> {
        self.0.lock().unwrap().results.push(r.into_inner());
        Ok(Response::new(pb::ResultAck {}))
    }
}

/// Serves `fake` on `addr` (port 0: any) until the returned sender fires.
async fn serve(fake: Fake, addr: SocketAddr) -> (SocketAddr, oneshot::Sender<()>) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    let bound = listener.local_addr().unwrap();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(AgentServiceServer::new(fake))
            .serve_with_incoming_shutdown(TcpListenerStream::new(listener), async {
                let _ = rx.await;
            })
            .await
            .unwrap();
    });
    (bound, tx)
}

fn sim_node() -> DryRunNode {
    DryRunNode {
        hostname: "ault14".into(),
        address: "10.1.1.1".into(),
        disk_capacities: vec![1000 * GB, 2000 * GB],
        disk_ids: vec![],
    }
}

fn start_agent(
    addr: SocketAddr,
    backend: Arc<DryRunBackend>,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    start_agent_with_grace(addr, backend, Duration::ZERO)
}

fn start_agent_with_grace(
    addr: SocketAddr,
    backend: Arc<DryRunBackend>,
    orphan_grace: Duration,
) -> (watch::Sender<bool>, tokio::task::JoinHandle<()>) {
    let per_disk: Vec<Arc<dyn StorageBackend>> = vec![backend.clone(), backend];
    let opts = agent_support::ault14_options(
        addr,
        per_disk,
        Backoff::new(Duration::from_millis(20), Duration::from_millis(200)),
        orphan_grace,
    );
    let (stop, stop_rx) = watch::channel(false);
    let h = tokio::spawn(async move {
        storalloc_agent::run(opts, None, stop_rx).await.unwrap();
    });
    (stop, h)
}

async fn until<T>(what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    for _ in 0..1500 {
        if let Some(v) = f() {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("timed out waiting for {what}");
}

fn allocate(command_id: u64, allocation_id: u64, disk: u32, gb: u64) -> pb::AgentCommand {
    pb::AgentCommand {
        command_id,
        kind: Some(pb::agent_command::Kind::Allocate(pb::AllocateCommand {
            allocation_id,
            disk,
            capacity_bytes: gb * GB,
            start_unix: 0,
            end_unix: 3600,
            ..Default::default()
        })),
    }
}

async fn send(fake: &Fake, cmd: pb::AgentCommand) {
    let tx = until("the command stream", || {
        fake.0.lock().unwrap().commands.clone()
    })
    .await;
    tx.send(Ok(cmd)).await.unwrap();
}

async fn result_of(fake: &Fake, command_id: u64) -> pb::CommandResult {
    until("a result", || {
        fake.0
            .lock()
            .unwrap()
            .results
            .iter()
            .find(|r| r.command_id == command_id)
            .cloned()
    })
    .await
}

/// A persisted simulate backend in `dir` already holding `blocks` (id, disk, GB).
fn backend_holding(dir: &std::path::Path, blocks: &[(u64, u32, u64)]) -> Arc<DryRunBackend> {
    let backend = Arc::new(DryRunBackend::open(dir, sim_node()).unwrap());
    for &(id, disk, gb) in blocks {
        backend
            .apply(&storalloc_agent::conformance::spec(id, disk, gb))
            .unwrap();
    }
    backend
}

async fn stop_agent(stop: watch::Sender<bool>, agent: tokio::task::JoinHandle<()>) {
    stop.send(true).unwrap();
    agent.await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn announces_holdings_executes_commands_and_answers_unknown_ones() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_holding(dir.path(), &[(9, 1, 3)]);
    let fake = Fake::default();
    let (addr, _srv) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let (stop, agent) = start_agent(addr, backend.clone());

    let reg = until("registration", || {
        fake.0.lock().unwrap().registers.first().cloned()
    })
    .await;
    assert_eq!(reg.node.unwrap().hostname, "ault14");
    assert_eq!(reg.held.len(), 1);
    assert_eq!(
        (
            reg.held[0].allocation_id,
            reg.held[0].disk,
            reg.held[0].capacity_bytes
        ),
        (9, 1, 3 * GB)
    );

    send(&fake, allocate(1, 5, 0, 10)).await;
    let r = result_of(&fake, 1).await;
    assert_eq!(r.code(), pb::ResultCode::Ok);
    assert_eq!(r.session_id, "session-1");
    assert_eq!(r.allocation_id, 5);
    let att = r.attachment.unwrap();
    assert_eq!(att.nqn, backend.nqn(5, 0));
    assert_eq!((att.address.as_str(), att.port), ("10.1.1.1", 4420));

    send(
        &fake,
        pb::AgentCommand {
            command_id: 2,
            kind: None,
        },
    )
    .await;
    let r = result_of(&fake, 2).await;
    assert_eq!(r.code(), pb::ResultCode::Unsupported);
    assert!(!r.error.is_empty());

    send(&fake, allocate(3, 6, 99, 1)).await;
    let r = result_of(&fake, 3).await;
    assert_eq!(r.code(), pb::ResultCode::Failed);
    assert!(r.error.contains("99"), "{}", r.error);

    send(
        &fake,
        pb::AgentCommand {
            command_id: 4,
            kind: Some(pb::agent_command::Kind::Release(pb::ReleaseCommand {
                allocation_id: 9,
                disk: 1,
            })),
        },
    )
    .await;
    assert_eq!(result_of(&fake, 4).await.code(), pb::ResultCode::Ok);
    let held: Vec<u64> = backend
        .list_held()
        .unwrap()
        .iter()
        .map(|h| h.allocation_id)
        .collect();
    assert_eq!(held, vec![5]);
    // The stream survived the unknown command and the failure.
    assert_eq!(fake.0.lock().unwrap().registers.len(), 1);

    stop_agent(stop, agent).await;
}

fn held_ids(backend: &DryRunBackend) -> Vec<u64> {
    backend
        .list_held()
        .unwrap()
        .iter()
        .map(|h| h.allocation_id)
        .collect()
}

/// Waits until the fake has answered `n` more heartbeats than now.
async fn heartbeats_pass(fake: &Fake, n: u32) {
    let from = fake.0.lock().unwrap().heartbeats;
    until("heartbeats", || {
        (fake.0.lock().unwrap().heartbeats >= from + n).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_grace_period_orphans_are_released_right_after_registering() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_holding(dir.path(), &[(7, 0, 1), (8, 1, 1)]);
    let fake = Fake::default();
    fake.0.lock().unwrap().orphans_next = vec![7];
    let (addr, _srv) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let (stop, agent) = start_agent(addr, backend.clone());
    until("orphan 7 released", || {
        let held: Vec<u64> = backend
            .list_held()
            .unwrap()
            .iter()
            .map(|h| h.allocation_id)
            .collect();
        (held == vec![8]).then_some(())
    })
    .await;
    // Persisted: a backend reopened over the same dir agrees.
    let reopened = DryRunBackend::open(dir.path(), sim_node()).unwrap();
    assert_eq!(reopened.list_held().unwrap().len(), 1);
    stop_agent(stop, agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orphans_are_kept_during_the_grace_period() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_holding(dir.path(), &[(7, 0, 1), (8, 1, 1)]);
    let fake = Fake::default();
    fake.0.lock().unwrap().orphans_always = vec![7];
    let (addr, _srv) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let (stop, agent) = start_agent_with_grace(addr, backend.clone(), Duration::from_secs(3600));
    until("registration", || {
        fake.0.lock().unwrap().registers.first().cloned()
    })
    .await;
    // Every heartbeat checks the grace period; an hour has not passed.
    heartbeats_pass(&fake, 3).await;
    assert_eq!(held_ids(&backend), vec![7, 8]);
    stop_agent(stop, agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_orphan_claimed_by_an_allocate_is_kept_and_the_others_go_after_the_grace() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_holding(dir.path(), &[(7, 0, 1), (8, 1, 1), (9, 1, 2)]);
    let fake = Fake::default();
    fake.0.lock().unwrap().orphans_next = vec![7, 8];
    let (addr, _srv) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let (stop, agent) = start_agent_with_grace(addr, backend.clone(), Duration::from_secs(2));
    // The orchestrator re-adopts 7 (e.g. it caught up with its records).
    send(&fake, allocate(1, 7, 0, 1)).await;
    let r = result_of(&fake, 1).await;
    assert_eq!(r.code(), pb::ResultCode::Ok);
    assert_eq!(r.attachment.unwrap().nqn, backend.nqn(7, 0));
    until("orphan 8 removed after the grace period", || {
        (held_ids(&backend) == vec![7, 9]).then_some(())
    })
    .await;
    // 7 is past the grace period too, had it stayed an orphan.
    heartbeats_pass(&fake, 2).await;
    assert_eq!(held_ids(&backend), vec![7, 9]);
    let reopened = DryRunBackend::open(dir.path(), sim_node()).unwrap();
    assert_eq!(held_ids(&reopened), vec![7, 9]);
    stop_agent(stop, agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grace_period_runs_across_registrations_and_ends_when_no_longer_named() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_holding(dir.path(), &[(7, 0, 1), (8, 1, 1)]);
    let fake = Fake::default();
    {
        let mut s = fake.0.lock().unwrap();
        // 7 only at the first registration, 8 at every one; the agent
        // registers again at each heartbeat (about every second), more
        // often than the grace period.
        s.orphans_next = vec![7];
        s.orphans_always = vec![8];
        s.forget_sessions = true;
    }
    let (addr, _srv) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let (stop, agent) = start_agent_with_grace(addr, backend.clone(), Duration::from_secs(3));
    // Were the period restarted at each registration, 8 would stay forever.
    until("orphan 8 removed", || {
        (!held_ids(&backend).contains(&8)).then_some(())
    })
    .await;
    assert!(
        fake.0.lock().unwrap().registers.len() >= 3,
        "registered again within the grace period"
    );
    // 7 was named together with 8 and would have gone with it.
    assert_eq!(held_ids(&backend), vec![7]);
    stop_agent(stop, agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registers_again_when_the_session_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_holding(dir.path(), &[]);
    let fake = Fake::default();
    let (addr, _srv) = serve(fake.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let (stop, agent) = start_agent(addr, backend.clone());
    send(&fake, allocate(1, 21, 1, 5)).await;
    assert_eq!(result_of(&fake, 1).await.code(), pb::ResultCode::Ok);
    fake.0.lock().unwrap().unknown_sessions = true;
    let second = until("a second registration", || {
        fake.0.lock().unwrap().registers.get(1).cloned()
    })
    .await;
    let held: Vec<(u64, u32)> = second
        .held
        .iter()
        .map(|h| (h.allocation_id, h.disk))
        .collect();
    assert_eq!(held, vec![(21, 1)]);
    stop_agent(stop, agent).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comes_back_after_the_orchestrator_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let backend = backend_holding(dir.path(), &[]);
    let first = Fake::default();
    let (addr, srv) = serve(first.clone(), "127.0.0.1:0".parse().unwrap()).await;
    let (stop, agent) = start_agent(addr, backend.clone());
    send(&first, allocate(1, 30, 0, 2)).await;
    assert_eq!(result_of(&first, 1).await.code(), pb::ResultCode::Ok);
    srv.send(()).unwrap();
    // Drop the first stream so the old server can finish shutting down.
    first.0.lock().unwrap().commands = None;
    tokio::time::sleep(Duration::from_millis(300)).await;

    let second = Fake::default();
    let (_, _srv2) = serve(second.clone(), addr).await;
    let reg = until("registration with the new orchestrator", || {
        second.0.lock().unwrap().registers.first().cloned()
    })
    .await;
    assert_eq!(reg.held.len(), 1);
    assert_eq!(reg.held[0].allocation_id, 30);
    // Re-sent command (no result recorded by the new orchestrator): same answer.
    send(&second, allocate(1, 30, 0, 2)).await;
    let r = result_of(&second, 1).await;
    assert_eq!(r.code(), pb::ResultCode::Ok);
    assert_eq!(r.attachment.unwrap().nqn, backend.nqn(30, 0));
    assert_eq!(backend.list_held().unwrap().len(), 1);
    stop_agent(stop, agent).await;
}
