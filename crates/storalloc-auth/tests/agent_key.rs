//! The agents' shared-secret proofs.

use std::os::unix::fs::PermissionsExt;
use storalloc_auth::{AgentKey, AuthError};

const SECRET: &[u8] = b"0123456789abcdef-cluster-secret";

#[test]
fn a_signed_proof_verifies_and_names_the_host() {
    let k = AgentKey::new(SECRET.to_vec()).unwrap();
    let p = k.sign("storage-1", 1_000_000);
    assert_eq!(k.verify(&p, 1_000_010).unwrap(), "storage-1");
}

#[test]
fn another_secret_another_host_or_a_stale_time_is_refused() {
    let k = AgentKey::new(SECRET.to_vec()).unwrap();
    let other = AgentKey::new(b"a-completely-different-secret".to_vec()).unwrap();
    let p = other.sign("storage-1", 1_000_000);
    assert!(matches!(
        k.verify(&p, 1_000_000),
        Err(AuthError::Invalid(_))
    ));

    let mut p = k.sign("storage-1", 1_000_000);
    p.host = "storage-2".into();
    assert!(matches!(
        k.verify(&p, 1_000_000),
        Err(AuthError::Invalid(_))
    ));

    let p = k.sign("storage-1", 1_000_000);
    assert_eq!(k.verify(&p, 1_000_000 + 3600), Err(AuthError::Expired));
}

#[test]
fn the_secret_file_must_be_private_and_long_enough() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("agent.secret");
    std::fs::write(&f, SECRET).unwrap();
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = AgentKey::from_file(&f).unwrap_err().to_string();
    assert!(e.contains("0644") && e.contains("agent.secret"), "{e}");
    std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o600)).unwrap();
    AgentKey::from_file(&f).unwrap();
    std::fs::write(&f, b"short\n").unwrap();
    let e = AgentKey::from_file(&f).unwrap_err().to_string();
    assert!(e.contains("at least 16 bytes"), "{e}");
}

#[test]
fn the_audit_log_appends_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let log = storalloc_auth::AuditLog::open(dir.path()).unwrap();
    for (uid, outcome) in [(1000, "ok"), (1001, "denied")] {
        log.record(&storalloc_auth::AuditEvent {
            uid: Some(uid),
            gid: Some(100),
            peer: None,
            action: "cancel",
            allocation: Some(7),
            outcome,
            detail: "",
        });
    }
    let text = std::fs::read_to_string(dir.path().join("audit.log")).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2);
    assert_eq!(lines[1]["uid"], 1001);
    assert_eq!(lines[1]["outcome"], "denied");
    assert_eq!(lines[1]["allocation"], 7);
}
