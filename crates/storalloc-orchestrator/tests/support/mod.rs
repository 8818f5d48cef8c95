//! Setup shared by the orchestrator's integration tests: options for an
//! in-process orchestrator on loopback with random ports, an engine over
//! a SQLite store, and the register and submit requests they send.
//! Each test file uses only some of these.

use std::net::SocketAddr;
use std::path::Path;
use storalloc_core::{SchedulerConfig, StrategyKind};
use storalloc_orchestrator::service::convert;
use storalloc_orchestrator::service::wire::Wire;
use storalloc_orchestrator::store::SqliteStore;
use storalloc_orchestrator::{
    CommEvent, Engine, EngineConfig, ManualClock, OrchestratorOptions, RecordingComm,
};
use storalloc_proto::v1::admin_service_client::AdminServiceClient;
use storalloc_proto::v1::agent_service_client::AgentServiceClient;
use storalloc_proto::v1::client_service_client::ClientServiceClient;
use storalloc_proto::v1::{
    AgentCommand, DiskDescription, NodeDescription, RegisterRequest, StorageRequest, SubmitRequest,
};
use tonic::transport::Channel;

pub const GB: u64 = 1_000_000_000;

/// The engine the recovery tests drive directly, seen through the wire
/// types as the gRPC edge sees it.
#[allow(dead_code)]
pub type E = Wire<SqliteStore, RecordingComm, ManualClock>;

/// The commands sent since the last look, as agents receive them.
#[allow(dead_code)]
pub fn sent(comm: &RecordingComm) -> Vec<(u32, AgentCommand)> {
    comm.take_sent()
        .iter()
        .map(|d| (d.node, convert::dispatch_to_proto(d)))
        .collect()
}

/// Everything the comm saw, with commands as agents receive them.
#[allow(dead_code)]
#[derive(Debug, PartialEq)]
pub enum Seen {
    Opened(u32),
    Closed(u32),
    Sent(u32, AgentCommand),
}

#[allow(dead_code)]
pub fn seen(comm: &RecordingComm) -> Vec<Seen> {
    comm.take()
        .into_iter()
        .map(|e| match e {
            CommEvent::Opened(n) => Seen::Opened(n),
            CommEvent::Closed(n) => Seen::Closed(n),
            CommEvent::Sent(d) => Seen::Sent(d.node, convert::dispatch_to_proto(&d)),
        })
        .collect()
}

/// Options for an orchestrator bound to `host` on random ports.
#[allow(dead_code)]
pub fn options_on(dir: &Path, host: &str) -> OrchestratorOptions {
    OrchestratorOptions {
        host: host.into(),
        client_port: 0,
        server_port: 0,
        state_dir: dir.to_path_buf(),
        engine: EngineConfig::new(SchedulerConfig::new(StrategyKind::WorstCase)),
    }
}

/// Options for an orchestrator on 127.0.0.1 with random ports.
#[allow(dead_code)]
pub fn options(dir: &Path) -> OrchestratorOptions {
    options_on(dir, "127.0.0.1")
}

/// Opens the engine over the store in `dir`; heartbeats never time out,
/// so only what a test does changes node states.
#[allow(dead_code)]
pub fn open_engine(
    dir: &Path,
    clock: &ManualClock,
    comm: &RecordingComm,
    strategy: StrategyKind,
) -> E {
    let mut cfg = EngineConfig::new(SchedulerConfig::new(strategy));
    cfg.heartbeat_timeout_s = 1_000_000;
    Wire(
        Engine::open(
            SqliteStore::open(dir).unwrap(),
            comm.clone(),
            clock.clone(),
            cfg,
        )
        .unwrap(),
    )
}

/// `host` with one simulated 1000 GB disk, holding nothing.
#[allow(dead_code)]
pub fn register_request(host: &str) -> RegisterRequest {
    RegisterRequest {
        node: Some(NodeDescription {
            hostname: host.into(),
            address: "127.0.0.1".into(),
            network_bw_gbps: 10.0,
            disks: vec![DiskDescription {
                capacity_bytes: 1000 * GB,
                write_bw_gbps: 2.0,
                read_bw_gbps: 2.0,
                backend: "simulate".into(),
                ..Default::default()
            }],
        }),
        held: vec![],
        agent_version: "test".into(),
    }
}

/// `gb` GB for an hour, starting at `start` (now when `None`).
#[allow(dead_code)]
pub fn submit_at(id: &str, gb: u64, start: Option<i64>) -> SubmitRequest {
    SubmitRequest {
        request_id: id.into(),
        request: Some(StorageRequest {
            capacity_bytes: gb * GB,
            duration_s: 3600,
            start_unix: start,
            ..Default::default()
        }),
    }
}

/// `gb` GB for an hour, starting now.
#[allow(dead_code)]
pub fn submit(id: &str, gb: u64) -> SubmitRequest {
    submit_at(id, gb, None)
}

/// A client of the client port at `addr`, over plain HTTP/2.
#[allow(dead_code)]
pub async fn client_at(addr: SocketAddr) -> ClientServiceClient<Channel> {
    ClientServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

/// An admin client of the client port at `addr`, over plain HTTP/2.
#[allow(dead_code)]
pub async fn admin_at(addr: SocketAddr) -> AdminServiceClient<Channel> {
    AdminServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

/// An agent's client of the server port at `addr`, over plain HTTP/2.
#[allow(dead_code)]
pub async fn agent_at(addr: SocketAddr) -> AgentServiceClient<Channel> {
    AgentServiceClient::connect(format!("http://{addr}"))
        .await
        .unwrap()
}

/// Skips a test whose component (root, munged, chromium, a QEMU guest…) is
/// missing here, saying why. With `STORALLOC_REQUIRE_ALL=1` (CI sets it)
/// fails it instead, so that a missing component cannot pass unnoticed.
/// Returns only when skipping is allowed.
#[allow(dead_code)]
pub fn skip_or_fail(reason: &str) {
    if std::env::var("STORALLOC_REQUIRE_ALL").is_ok_and(|v| !v.is_empty() && v != "0") {
        panic!("not skipped: {reason} (STORALLOC_REQUIRE_ALL=1 forbids skipping)");
    }
    eprintln!("SKIPPED: {reason}");
}
