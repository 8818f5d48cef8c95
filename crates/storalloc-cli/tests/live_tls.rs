//! The real binaries over TLS (docs/security.md, "TLS"): an orchestrator
//! with `tls_cert_file`/`tls_key_file`/`tls_client_ca_file`, a server with
//! its own certificate, and `storalloc client`/`status` with `tls_ca_file`,
//! all from one config; without the CA the client is told why it cannot
//! talk to the orchestrator. Certificates come from a throwaway CA made
//! with rcgen.

mod live_support;

use live_support::{output_text, Live, Proc, BIN, SMALL_SYSTEM};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair,
};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn write_pki(dir: &Path) {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name
        .push(DnType::CommonName, "live test CA");
    let ca = CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    for (stem, names, usage) in [
        (
            "server",
            vec!["127.0.0.1".to_string()],
            ExtendedKeyUsagePurpose::ServerAuth,
        ),
        (
            "agent",
            vec!["live1".to_string()],
            ExtendedKeyUsagePurpose::ClientAuth,
        ),
    ] {
        let mut p = CertificateParams::new(names).unwrap();
        p.extended_key_usages = vec![usage];
        let key = KeyPair::generate().unwrap();
        let cert = p.signed_by(&key, &ca).unwrap();
        std::fs::write(dir.join(format!("{stem}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
    }
}

#[test]
fn client_and_server_talk_to_the_orchestrator_over_tls() {
    let mut live = Live::new(SMALL_SYSTEM, false);
    let d = live.dir.path().to_path_buf();
    write_pki(&d);
    let f = |n: &str| d.join(n).display().to_string();
    let mut cfg = std::fs::read_to_string(&live.config).unwrap();
    cfg.push_str(&format!(
        "tls_cert_file: {}\ntls_key_file: {}\ntls_client_ca_file: {}\n\
         tls_ca_file: {}\ntls_client_cert_file: {}\ntls_client_key_file: {}\n",
        f("server.pem"),
        f("server.key"),
        f("ca.pem"),
        f("ca.pem"),
        f("agent.pem"),
        f("agent.key"),
    ));
    std::fs::write(&live.config, cfg).unwrap();
    live.start_orchestrator();
    let ep = storalloc_client::read_endpoints(&live.state_dir()).unwrap();
    assert!(ep.tls, "endpoints.json says TLS");

    let config = live.config.to_str().unwrap().to_string();
    let state = live.endpoints_arg();
    let log = d.join("tls-server.log");
    let out = std::fs::File::create(&log).unwrap();
    let agent = Command::new(BIN)
        .args(["server", "-c", &config, "--endpoints", &state, "-s"])
        .arg(&live.system)
        .args(["--simulate", "--state-dir"])
        .arg(live.agent_dir())
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    live.servers.push(Proc {
        child: agent,
        name: "tls server".into(),
        log,
    });

    let run = |args: &[&str]| {
        Command::new(BIN)
            .args(args)
            .args(["-c", &config, "--endpoints", &state])
            .output()
            .unwrap()
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let o = run(&["status", "--json"]);
        assert!(o.status.success(), "{}", output_text(&o));
        let s: Value = serde_json::from_slice(&o.stdout).unwrap();
        if s["nodes"]
            .as_array()
            .is_some_and(|n| n.iter().any(|n| n["state"] == "up"))
        {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the server did not register over TLS: {s:#}\n{}",
            live.servers[0].log_text()
        );
        std::thread::sleep(Duration::from_millis(100));
    }

    let o = run(&["client", "-s", "100", "-t", "1:00:00", "--json"]);
    assert!(o.status.success(), "{}", output_text(&o));
    let a: Value = String::from_utf8_lossy(&o.stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("allocation JSON");
    assert_eq!(a["state"], "allocated", "{a:#}");

    // Without the config's CA, nothing is sent in clear.
    let o = Command::new(BIN)
        .args(["status", "--endpoints", &state])
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert!(
        output_text(&o).contains("speaks TLS") && output_text(&o).contains("tls_ca_file"),
        "{}",
        output_text(&o)
    );
}
