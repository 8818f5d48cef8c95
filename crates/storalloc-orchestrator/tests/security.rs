//! Authentication and per-owner authorization with REAL MUNGE credentials
//! for different local users (made with `runuser -u USER -- munge -n`),
//! agent proofs, and the refusal of insecure binds. Tests that need munged
//! or user accounts say why and skip when they are missing (CI has both).

mod support;

use std::process::Command;
use std::sync::Arc;
use std::time::Duration;
use storalloc_auth::agent_key::{AGENT_HOST_HEADER, AGENT_MAC_HEADER, AGENT_TIME_HEADER};
use storalloc_auth::{AccessPolicy, AgentKey, MungeAuth, MUNGE_HEADER};
use storalloc_orchestrator::service::Security;
use storalloc_orchestrator::{Orchestrator, OrchestratorError};
use storalloc_proto::v1::admin_service_client::AdminServiceClient;
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::agent_service_client::AgentServiceClient;
use storalloc_proto::v1::client_service_client::ClientServiceClient;
use storalloc_proto::v1::*;
use support::{admin_at, agent_at, client_at, options_on, register_request, skip_or_fail, submit};
use tonic::transport::Channel;
use tonic::{Code, Request};

const SECRET: &str = "test-cluster-secret-0123456789";

fn run(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn munged_running() -> bool {
    if run("munge", &["-n"]).is_none() {
        skip_or_fail("munged is not running (or the munge CLI is missing); CI starts it");
        return false;
    }
    true
}

/// uid and gid of a local test user, created when missing.
fn user(name: &str) -> Option<(u32, u32)> {
    let ids = |name: &str| -> Option<(u32, u32)> {
        Some((
            run("id", &["-u", name])?.parse().ok()?,
            run("id", &["-g", name])?.parse().ok()?,
        ))
    };
    // Tests run in parallel and useradd locks /etc/passwd: try a few times.
    for _ in 0..20 {
        if let Some(i) = ids(name) {
            return Some(i);
        }
        let _ = run("useradd", &["-M", "-s", "/usr/sbin/nologin", name]);
        std::thread::sleep(Duration::from_millis(100));
    }
    skip_or_fail(&format!("cannot create the test user {name} (not root?)"));
    None
}

/// A fresh MUNGE credential made by `user`'s own process.
fn cred_of(user: &str, ttl: Option<u32>) -> String {
    let ttl = ttl.map(|t| t.to_string());
    let mut args = vec!["-u", user, "--", "munge", "-n"];
    if let Some(t) = &ttl {
        args.extend(["-t", t.as_str()]);
    }
    run("runuser", &args).unwrap_or_else(|| panic!("runuser -u {user} -- munge -n failed"))
}

fn as_user<T>(msg: T, user: &str) -> Request<T> {
    with_cred(msg, &cred_of(user, None))
}

fn with_cred<T>(msg: T, cred: &str) -> Request<T> {
    let mut r = Request::new(msg);
    r.metadata_mut()
        .insert(MUNGE_HEADER, cred.parse().expect("ASCII credential"));
    r
}

fn signed<T>(msg: T, key: &AgentKey, host: &str) -> Request<T> {
    let p = key.sign(host, storalloc_auth::now_unix());
    let mut r = Request::new(msg);
    let md = r.metadata_mut();
    md.insert(AGENT_HOST_HEADER, p.host.parse().unwrap());
    md.insert(AGENT_TIME_HEADER, p.time_unix.to_string().parse().unwrap());
    md.insert(AGENT_MAC_HEADER, p.mac_hex.parse().unwrap());
    r
}

fn key() -> AgentKey {
    AgentKey::new(SECRET.as_bytes().to_vec()).unwrap()
}

async fn start_munge(dir: &std::path::Path, admin_uid: Option<u32>) -> Orchestrator {
    let mut policy = AccessPolicy::default();
    policy.admin_uids.extend(admin_uid);
    let security = Security {
        auth: Arc::new(MungeAuth),
        policy,
        agent_key: Some(key()),
    };
    Orchestrator::start_secure(options_on(dir, "127.0.0.1"), security)
        .await
        .unwrap()
}

async fn clients(
    o: &Orchestrator,
) -> (
    ClientServiceClient<Channel>,
    AdminServiceClient<Channel>,
    AgentServiceClient<Channel>,
) {
    let ep = o.endpoints();
    (
        client_at(ep.client).await,
        admin_at(ep.client).await,
        agent_at(ep.server).await,
    )
}

fn code<T: std::fmt::Debug>(r: Result<tonic::Response<T>, tonic::Status>) -> Code {
    match r {
        Ok(x) => panic!("expected an error, got {x:?}"),
        Err(s) => s.code(),
    }
}

fn audit_lines(dir: &std::path::Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(dir.join("audit.log"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_owner_or_an_admin_sees_and_cancels_an_allocation() {
    if !munged_running() {
        return;
    }
    let (Some((uid_a, gid_a)), Some((uid_b, _)), Some((uid_adm, _))) = (
        user("storalloc-ta"),
        user("storalloc-tb"),
        user("storalloc-tadm"),
    ) else {
        return;
    };
    let (a, b, adm) = ("storalloc-ta", "storalloc-tb", "storalloc-tadm");
    let dir = tempfile::tempdir().unwrap();
    let orch = start_munge(dir.path(), Some(uid_adm)).await;
    let (mut client, mut admin, mut agent) = clients(&orch).await;

    let reg = agent
        .register(signed(register_request("storage-1"), &key(), "storage-1"))
        .await
        .unwrap()
        .into_inner();
    let mut commands = agent
        .commands(signed(
            CommandStreamRequest {
                session_id: reg.session_id.clone(),
            },
            &key(),
            "storage-1",
        ))
        .await
        .unwrap()
        .into_inner();

    // A's claim to be root in the metadata is ignored: MUNGE says who A is.
    let mut req = as_user(submit("job-a", 100), a);
    req.metadata_mut()
        .insert("x-storalloc-uid", "0".parse().unwrap());
    let granted = client.submit(req).await.unwrap().into_inner();
    let alloc = granted.allocation.unwrap();
    assert_eq!(alloc.state(), AllocationState::Granted);
    assert_eq!((alloc.owner_uid, alloc.owner_gid), (uid_a, gid_a));

    // The storage is created for A: the agent's command carries A's ids.
    let cmd = tokio::time::timeout(Duration::from_secs(10), commands.message())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let Some(Kind::Allocate(create)) = cmd.kind else {
        panic!("expected Allocate, got {cmd:?}")
    };
    assert_eq!((create.owner_uid, create.owner_gid), (uid_a, gid_a));

    // B can neither read, watch, cancel nor take over A's allocation.
    let id = alloc.id;
    let get = GetRequest { allocation_id: id };
    assert_eq!(
        code(client.get(as_user(get, b)).await),
        Code::PermissionDenied
    );
    let cancel = CancelRequest { allocation_id: id };
    assert_eq!(
        code(client.cancel(as_user(cancel, b)).await),
        Code::PermissionDenied
    );
    let watch = WatchRequest {
        allocation_id: Some(id),
    };
    let denied = client.watch(as_user(watch, b)).await.map(|_| ());
    assert_eq!(denied.unwrap_err().code(), Code::PermissionDenied);
    assert_eq!(
        code(client.submit(as_user(submit("job-a", 100), b)).await),
        Code::PermissionDenied,
        "re-sending A's request id does not hand A's allocation to B"
    );
    let list_b = client
        .list(as_user(ListRequest::default(), b))
        .await
        .unwrap()
        .into_inner();
    assert!(list_b.allocations.iter().all(|x| x.owner_uid == uid_b));
    let status_b = client
        .status(as_user(StatusRequest {}, b))
        .await
        .unwrap()
        .into_inner();
    assert!(status_b.allocations.iter().all(|x| x.id != id));
    assert_eq!(
        status_b.nodes[0].disks[0].allocations, 1,
        "B still sees the aggregate: one allocation on the disk"
    );
    let drain = NodeRequest {
        node: Some(node_request::Node::Hostname("storage-1".into())),
    };
    assert_eq!(
        code(admin.drain_node(as_user(drain, b)).await),
        Code::PermissionDenied
    );

    // A sees it; the admin sees and cancels it.
    let mine = client.get(as_user(get, a)).await.unwrap().into_inner();
    assert_eq!(mine.id, id);
    let list_adm = client
        .list(as_user(ListRequest::default(), adm))
        .await
        .unwrap()
        .into_inner();
    assert!(list_adm.allocations.iter().any(|x| x.id == id));
    let cancelled = client
        .cancel(as_user(cancel, adm))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state(), AllocationState::Cancelled);

    orch.stop().await.unwrap();
    let log = audit_lines(dir.path());
    let has = |uid: u32, action: &str, outcome: &str| {
        log.iter().any(|l| {
            l["uid"] == uid
                && l["action"] == action
                && l["outcome"] == outcome
                && l["allocation"] == id
        })
    };
    assert!(has(uid_a, "submit", "ok"), "{log:#?}");
    assert!(has(uid_b, "cancel", "denied"), "{log:#?}");
    assert!(has(uid_b, "get", "denied"), "{log:#?}");
    assert!(has(uid_adm, "cancel", "ok"), "{log:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_replayed_expired_and_missing_credentials_are_refused() {
    if !munged_running() {
        return;
    }
    let Some(_) = user("storalloc-ta") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let orch = start_munge(dir.path(), None).await;
    let (mut client, _, _) = clients(&orch).await;
    let status = |c: &str| with_cred(StatusRequest {}, c);

    let once = cred_of("storalloc-ta", None);
    client.status(status(&once)).await.unwrap();
    let replay = client.status(status(&once)).await.unwrap_err();
    assert_eq!(replay.code(), Code::Unauthenticated);
    assert!(
        replay.message().contains("replayed"),
        "{}",
        replay.message()
    );

    let fresh = cred_of("storalloc-ta", None);
    let forged = storalloc_auth::conformance::tamper(&fresh);
    assert_eq!(
        code(client.status(status(&forged)).await),
        Code::Unauthenticated
    );

    let short = cred_of("storalloc-ta", Some(1));
    tokio::time::sleep(Duration::from_secs(3)).await;
    let expired = client.status(status(&short)).await.unwrap_err();
    assert_eq!(expired.code(), Code::Unauthenticated);
    assert!(
        expired.message().contains("expired"),
        "{}",
        expired.message()
    );

    let mut bare = Request::new(StatusRequest {});
    bare.metadata_mut()
        .insert("x-storalloc-uid", "0".parse().unwrap());
    assert_eq!(code(client.status(bare).await), Code::Unauthenticated);

    orch.stop().await.unwrap();
    let log = audit_lines(dir.path());
    assert!(
        log.iter()
            .filter(|l| l["outcome"] == "unauthenticated")
            .count()
            >= 4,
        "{log:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_agent_cannot_register_or_act_for_a_node() {
    let dir = tempfile::tempdir().unwrap();
    let security = Security {
        agent_key: Some(key()),
        ..Security::default()
    };
    let orch = Orchestrator::start_secure(options_on(dir.path(), "127.0.0.1"), security)
        .await
        .unwrap();
    let (_, _, mut agent) = clients(&orch).await;

    assert_eq!(
        code(agent.register(register_request("storage-1")).await),
        Code::Unauthenticated,
        "no proof"
    );
    let stranger = AgentKey::new(b"not-the-cluster-secret-at-all".to_vec()).unwrap();
    assert_eq!(
        code(
            agent
                .register(signed(
                    register_request("storage-1"),
                    &stranger,
                    "storage-1"
                ))
                .await
        ),
        Code::Unauthenticated,
        "another secret"
    );
    assert_eq!(
        code(
            agent
                .register(signed(register_request("storage-1"), &key(), "storage-2"))
                .await
        ),
        Code::PermissionDenied,
        "storage-2's proof cannot register storage-1"
    );

    let reg = agent
        .register(signed(register_request("storage-1"), &key(), "storage-1"))
        .await
        .unwrap()
        .into_inner();
    let hb = || HeartbeatRequest {
        session_id: reg.session_id.clone(),
    };
    assert_eq!(
        code(agent.heartbeat(hb()).await),
        Code::Unauthenticated,
        "a stolen session id is not enough"
    );
    agent
        .heartbeat(signed(hb(), &key(), "storage-1"))
        .await
        .unwrap();
    orch.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_non_loopback_bind_without_auth_refuses_to_start() {
    let dir = tempfile::tempdir().unwrap();
    let err = Orchestrator::start(options_on(dir.path(), "0.0.0.0"))
        .await
        .err()
        .expect("auth none on 0.0.0.0 must not start");
    assert!(matches!(err, OrchestratorError::Insecure(_)), "{err}");
    assert!(err.to_string().contains("auth: none"), "{err}");

    let munge_without_agent_secret = Security {
        auth: Arc::new(MungeAuth),
        ..Security::default()
    };
    let err = Orchestrator::start_secure(
        options_on(dir.path(), "0.0.0.0"),
        munge_without_agent_secret,
    )
    .await
    .err()
    .expect("no agent secret on 0.0.0.0 must not start");
    assert!(err.to_string().contains("agent_secret_file"), "{err}");
    assert!(
        !dir.path().join("endpoints.json").exists(),
        "a refused start advertises nothing"
    );
}
