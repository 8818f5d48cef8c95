//! The gRPC services in-process on 127.0.0.1 with random ports: what a
//! client and an agent see on the wire.

mod support;

use std::time::Duration;
use storalloc_orchestrator::service::read_endpoints;
use storalloc_orchestrator::Orchestrator;
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::*;
use support::{admin_at, agent_at, client_at, options, register_request, submit, GB};
use tonic::Code;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_and_an_agent_over_grpc() {
    let dir = tempfile::tempdir().unwrap();
    let orch = Orchestrator::start(options(dir.path())).await.unwrap();
    let ep = read_endpoints(dir.path()).unwrap();
    assert_eq!(ep, orch.endpoints(), "endpoints.json names the bound ports");
    assert_ne!(ep.client.port(), 0);
    assert_ne!(ep.client.port(), ep.server.port());

    let mut agent = agent_at(ep.server).await;
    let mut client = client_at(ep.client).await;
    let mut admin = admin_at(ep.client).await;

    let reg = agent
        .register(register_request("storage-1"))
        .await
        .unwrap()
        .into_inner();
    let session = reg.session_id.clone();
    let mut commands = agent
        .commands(CommandStreamRequest {
            session_id: session.clone(),
        })
        .await
        .unwrap()
        .into_inner();

    let granted = client
        .submit(submit("job-1", 100))
        .await
        .unwrap()
        .into_inner();
    assert!(!granted.duplicate);
    let a = granted.allocation.unwrap();
    assert_eq!(a.state(), AllocationState::Granted);
    let mut watch = client
        .watch(WatchRequest {
            allocation_id: Some(a.id),
        })
        .await
        .unwrap()
        .into_inner();
    let first = watch.message().await.unwrap().unwrap();
    assert_eq!(
        first.allocation.unwrap().state(),
        AllocationState::Granted,
        "replay first"
    );

    let cmd = tokio::time::timeout(Duration::from_secs(10), commands.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Some(Kind::Allocate(alloc)) = cmd.kind.clone() else {
        panic!("expected Allocate, got {cmd:?}")
    };
    assert_eq!(
        (alloc.allocation_id, alloc.disk, alloc.capacity_bytes),
        (a.id, 0, 100 * GB)
    );
    agent
        .report_result(CommandResult {
            session_id: session.clone(),
            command_id: cmd.command_id,
            allocation_id: a.id,
            code: ResultCode::Ok as i32,
            error: String::new(),
            attachment: Some(Attachment {
                r#type: "directory".into(),
                path: "/srv/a1".into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap();
    let ev = tokio::time::timeout(Duration::from_secs(10), watch.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(ev.allocation.unwrap().state(), AllocationState::Allocated);

    let dup = client
        .submit(submit("job-1", 999))
        .await
        .unwrap()
        .into_inner();
    assert!(dup.duplicate);
    assert_eq!(dup.allocation.unwrap().id, a.id);

    let bad = client.submit(submit("job-2", 0)).await.unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert!(
        bad.message().contains("capacity_bytes"),
        "{}",
        bad.message()
    );
    let missing = client
        .get(GetRequest { allocation_id: 777 })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let stale = agent
        .heartbeat(HeartbeatRequest {
            session_id: "nope".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert!(!stale.known);
    assert!(
        agent
            .heartbeat(HeartbeatRequest {
                session_id: session.clone()
            })
            .await
            .unwrap()
            .into_inner()
            .known
    );

    let status = client.status(StatusRequest {}).await.unwrap().into_inner();
    assert_eq!(status.strategy, "worst_case");
    assert_eq!(status.nodes.len(), 1);
    assert_eq!(status.nodes[0].state(), NodeState::Up);
    assert_eq!(status.nodes[0].disks[0].used_bytes, 100 * GB);
    assert_eq!(status.allocations.len(), 1);
    let nodes = admin
        .list_nodes(ListNodesRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        nodes.nodes[0].description.as_ref().unwrap().hostname,
        "storage-1"
    );

    let cancelled = client
        .cancel(CancelRequest {
            allocation_id: a.id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state(), AllocationState::Cancelled);
    let cmd = tokio::time::timeout(Duration::from_secs(10), commands.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        matches!(cmd.kind, Some(Kind::Release(ref r)) if r.allocation_id == a.id),
        "{cmd:?}"
    );
    // The watch of one allocation ends with its final state.
    let last = watch.message().await.unwrap().unwrap();
    assert_eq!(last.allocation.unwrap().state(), AllocationState::Cancelled);
    assert!(watch.message().await.unwrap().is_none());

    drop((agent, client, admin, commands));
    orch.stop().await.unwrap();
    assert!(
        !dir.path().join("endpoints.json").exists(),
        "removed on a clean stop"
    );

    // Same state dir, new ports: the allocation is still there.
    let orch = Orchestrator::start(options(dir.path())).await.unwrap();
    let ep = read_endpoints(dir.path()).unwrap();
    let mut client = client_at(ep.client).await;
    let got = client
        .get(GetRequest {
            allocation_id: a.id,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(got.state(), AllocationState::Cancelled);
    let status = client.status(StatusRequest {}).await.unwrap().into_inner();
    assert_eq!(
        status.nodes[0].state(),
        NodeState::Down,
        "DOWN until the agent returns"
    );
    orch.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_submits_share_commits_and_all_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let orch = Orchestrator::start(options(dir.path())).await.unwrap();
    let ep = orch.endpoints();
    let mut agent = agent_at(ep.server).await;
    agent
        .register(RegisterRequest {
            node: Some(NodeDescription {
                hostname: "s".into(),
                address: "127.0.0.1".into(),
                network_bw_gbps: 10.0,
                disks: vec![
                    DiskDescription {
                        capacity_bytes: 10_000 * GB,
                        write_bw_gbps: 2.0,
                        read_bw_gbps: 2.0,
                        ..Default::default()
                    };
                    4
                ],
            }),
            held: vec![],
            agent_version: "test".into(),
        })
        .await
        .unwrap();
    let client = client_at(ep.client).await;
    let mut tasks = Vec::new();
    for i in 0..200 {
        let mut c = client.clone();
        // Every request twice: the second must get the first's allocation.
        tasks.push(tokio::spawn(async move {
            let a = c
                .submit(submit(&format!("c{i}"), 10))
                .await
                .unwrap()
                .into_inner();
            let b = c
                .submit(submit(&format!("c{i}"), 10))
                .await
                .unwrap()
                .into_inner();
            assert!(b.duplicate);
            assert_eq!(
                a.allocation.as_ref().unwrap().id,
                b.allocation.as_ref().unwrap().id
            );
            a.allocation.unwrap()
        }));
    }
    let mut granted = Vec::new();
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(a.state(), AllocationState::Granted, "{}", a.explanation);
        granted.push(a.id);
    }
    granted.sort_unstable();
    granted.dedup();
    assert_eq!(granted.len(), 200, "one allocation per request id");
    drop(client);
    orch.stop().await.unwrap();

    let orch = Orchestrator::start(options(dir.path())).await.unwrap();
    let mut client = client_at(orch.endpoints().client).await;
    let listed = client
        .list(ListRequest {
            include_finished: true,
        })
        .await
        .unwrap()
        .into_inner()
        .allocations;
    let mut ids: Vec<u64> = listed.iter().map(|a| a.id).collect();
    ids.sort_unstable();
    assert_eq!(ids, granted, "every answered grant was durable");
    orch.stop().await.unwrap();
}
