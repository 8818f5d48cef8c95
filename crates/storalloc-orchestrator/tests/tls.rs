//! Optional TLS (docs/security.md, "TLS"): a throwaway CA, server and agent
//! certificates made with rcgen, the orchestrator serving both ports over
//! TLS on loopback, and the client library and agent channels connecting
//! with (or without) the right CA and certificates.

mod support;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use std::path::{Path, PathBuf};
use std::time::Duration;
use storalloc_auth::{ClientTls, ServerTls};
use storalloc_client::{Client, RetryPolicy};
use storalloc_orchestrator::service::Security;
use storalloc_orchestrator::{Orchestrator, OrchestratorError};
use storalloc_proto::v1::agent_service_client::AgentServiceClient;
use storalloc_proto::v1::*;
use support::{options, register_request, GB};
use tonic::transport::Endpoint;

/// A CA and what it signed, as PEM files in a temporary directory.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap()
}

/// Writes `<stem>.pem` and `<stem>.key`, signed by `issuer`.
fn leaf(
    dir: &Path,
    stem: &str,
    names: &[&str],
    usage: ExtendedKeyUsagePurpose,
    issuer: &CertifiedIssuer<'static, KeyPair>,
) {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, stem);
    p.extended_key_usages = vec![usage];
    let key = KeyPair::generate().unwrap();
    let cert = p.signed_by(&key, issuer).unwrap();
    std::fs::write(dir.join(format!("{stem}.pem")), cert.pem()).unwrap();
    std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
}

/// `ca.pem` signs `server` (for 127.0.0.1 and localhost) and `agent`;
/// `other-ca.pem` signs `stranger`, an agent certificate from elsewhere.
fn pki() -> Pki {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ca1 = ca("storalloc test CA");
    std::fs::write(d.join("ca.pem"), ca1.pem()).unwrap();
    let server = ExtendedKeyUsagePurpose::ServerAuth;
    let client = ExtendedKeyUsagePurpose::ClientAuth;
    leaf(d, "server", &["127.0.0.1", "localhost"], server, &ca1);
    leaf(d, "agent", &["storage-1"], client.clone(), &ca1);
    let ca2 = ca("some other CA");
    std::fs::write(d.join("other-ca.pem"), ca2.pem()).unwrap();
    leaf(d, "stranger", &["storage-1"], client, &ca2);
    Pki { dir }
}

async fn start(pki: &Pki, state: &Path, require_agent_certs: bool) -> Orchestrator {
    let client_ca = pki.path("ca.pem");
    let tls = ServerTls::from_files(
        &pki.path("server.pem"),
        &pki.path("server.key"),
        require_agent_certs.then_some(client_ca.as_path()),
    )
    .unwrap();
    Orchestrator::start_tls(options(state), Security::default(), Some(tls))
        .await
        .unwrap()
}

fn client_tls(pki: &Pki, ca: &str, identity: Option<&str>) -> ClientTls {
    let cert = identity.map(|s| pki.path(&format!("{s}.pem")));
    let key = identity.map(|s| pki.path(&format!("{s}.key")));
    ClientTls::from_files(&pki.path(ca), cert.as_deref(), key.as_deref()).unwrap()
}

/// Registers `host` the way the agent connects: `https://` and its
/// `ClientTls` (CA, and its certificate when it has one).
async fn register_agent(
    addr: std::net::SocketAddr,
    tls: &ClientTls,
    host: &str,
) -> Result<RegisterResponse, String> {
    let uri = storalloc_auth::tls::uri_for(&addr.to_string(), true);
    let channel = Endpoint::from_shared(uri)
        .unwrap()
        .tls_config(tls.config())
        .unwrap()
        .connect_timeout(Duration::from_secs(2))
        .connect()
        .await
        .map_err(|e| format!("{e}: {:?}", std::error::Error::source(&e)))?;
    AgentServiceClient::new(channel)
        .register(register_request(host))
        .await
        .map(|r| r.into_inner())
        .map_err(|s| format!("{s}"))
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        give_up_after: Duration::from_millis(500),
        ..RetryPolicy::default()
    }
}

fn request() -> StorageRequest {
    StorageRequest {
        capacity_bytes: 10 * GB,
        duration_s: 3600,
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_with_the_ca_gets_a_grant_over_tls() {
    let pki = pki();
    let state = tempfile::tempdir().unwrap();
    let orch = start(&pki, state.path(), false).await;
    assert!(orch.tls());
    let ep = storalloc_client::read_endpoints(state.path()).unwrap();
    assert!(ep.tls, "endpoints.json must say the ports speak TLS");

    let tls = client_tls(&pki, "ca.pem", None);
    register_agent(orch.endpoints().server, &tls, "storage-1")
        .await
        .expect("an agent with the CA registers over TLS");
    let client = Client::with_tls(&ep.client, quick(), Some(&tls)).unwrap();
    let r = client
        .submit(&storalloc_client::new_request_id(), request())
        .await
        .expect("submit over TLS");
    let a = r.allocation.unwrap();
    assert_eq!(a.state(), AllocationState::Granted, "{a:?}");
    assert_eq!(client.get(a.id).await.unwrap().id, a.id);
    orch.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clients_without_tls_or_with_another_ca_are_refused() {
    let pki = pki();
    let state = tempfile::tempdir().unwrap();
    let orch = start(&pki, state.path(), false).await;
    let addr = orch.endpoints().client.to_string();

    let plain = Client::new(&addr, quick()).unwrap();
    let e = plain.status().await.unwrap_err().to_string();
    assert!(e.contains("TLS") && e.contains("tls_ca_file"), "{e}");

    let wrong = client_tls(&pki, "other-ca.pem", None);
    let c = Client::with_tls(&addr, quick(), Some(&wrong)).unwrap();
    let e = c.status().await.unwrap_err().to_string();
    assert!(
        e.contains("certificate") || e.contains("UnknownIssuer"),
        "the error must say the certificate was refused: {e}"
    );

    let right = client_tls(&pki, "ca.pem", None);
    let c = Client::with_tls(&addr, quick(), Some(&right)).unwrap();
    c.status()
        .await
        .expect("the right CA works on the same port");
    orch.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_client_ca_file_requires_agents_to_show_a_certificate() {
    let pki = pki();
    let state = tempfile::tempdir().unwrap();
    let orch = start(&pki, state.path(), true).await;
    let server = orch.endpoints().server;

    let no_cert = client_tls(&pki, "ca.pem", None);
    let e = register_agent(server, &no_cert, "storage-1")
        .await
        .expect_err("no client certificate");
    eprintln!("without a certificate: {e}");
    let stranger = client_tls(&pki, "ca.pem", Some("stranger"));
    register_agent(server, &stranger, "storage-1")
        .await
        .expect_err("a certificate from another CA");

    let agent = client_tls(&pki, "ca.pem", Some("agent"));
    let reg = register_agent(server, &agent, "storage-1")
        .await
        .expect("an agent with a certificate from tls_client_ca_file registers");
    assert!(!reg.session_id.is_empty());

    // Users keep using MUNGE, not certificates, on the client port.
    let c = Client::with_tls(
        &orch.endpoints().client.to_string(),
        quick(),
        Some(&no_cert),
    )
    .unwrap();
    assert_eq!(c.list_nodes().await.unwrap().len(), 1);
    orch.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tls_files_are_named_at_start() {
    let pki = pki();
    let missing = pki.path("missing.pem");
    let e = ServerTls::from_files(&missing, &pki.path("server.key"), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("tls_cert_file: ") && e.contains("missing.pem"),
        "{e}"
    );
    // A certificate where the key should be.
    let e = ServerTls::from_files(&pki.path("server.pem"), &pki.path("server.pem"), None)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("tls_key_file: ") && e.contains("server.pem"),
        "{e}"
    );
    let e = ClientTls::from_files(
        &pki.path("ca.pem"),
        Some(&pki.path("agent.pem")),
        Some(&pki.path("agent.pem")),
    )
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("tls_client_key_file: "), "{e}");

    // A key that does not belong to the certificate: refused before binding.
    let mismatched =
        ServerTls::from_files(&pki.path("server.pem"), &pki.path("agent.key"), None).unwrap();
    let state = tempfile::tempdir().unwrap();
    match Orchestrator::start_tls(options(state.path()), Security::default(), Some(mismatched))
        .await
    {
        Err(e @ OrchestratorError::Tls(_)) => {
            assert!(e.to_string().contains("tls_key_file"), "{e}")
        }
        Err(e) => panic!("expected a TLS error, got {e}"),
        Ok(_) => panic!("a key that does not match the certificate was accepted"),
    }
}
