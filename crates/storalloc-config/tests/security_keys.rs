//! The security extension keys (docs/security.md).

use std::path::PathBuf;
use storalloc_config::{parse_config, AuthKind};

#[test]
fn the_security_keys_load() {
    let c = parse_config(
        "auth: munge\nadmin_uids: [0, 1500]\nadmin_groups: [hpcadmin, 2000]\nagent_secret_file: /etc/storalloc/agent.secret\n",
        "c.yml",
    )
    .unwrap()
    .config
    .security;
    assert_eq!(c.auth, AuthKind::Munge);
    assert_eq!(c.admin_uids, vec![0, 1500]);
    assert_eq!(c.admin_groups, vec!["hpcadmin", "2000"]);
    assert_eq!(
        c.agent_secret_file,
        Some(PathBuf::from("/etc/storalloc/agent.secret"))
    );
}

#[test]
fn without_them_auth_is_none() {
    let c = parse_config("client_port: 1234\n", "c.yml").unwrap().config;
    assert_eq!(c.security.auth, AuthKind::None);
    assert!(c.security.admin_uids.is_empty());
    assert_eq!(c.security.agent_secret_file, None);
}

#[test]
fn bad_values_name_the_file_field_and_value() {
    for (text, field, value) in [
        ("auth: kerberos\n", "auth", "kerberos"),
        ("admin_uids: [1, alice]\n", "admin_uids[1]", "alice"),
        ("admin_uids: [-3]\n", "admin_uids[0]", "-3"),
    ] {
        let e = parse_config(text, "site.yml").unwrap_err().to_string();
        assert!(
            e.contains("site.yml") && e.contains(field) && e.contains(value),
            "{text:?}: {e}"
        );
    }
}

#[test]
fn the_tls_keys_load_and_default_to_off() {
    let c = parse_config(
        "tls_cert_file: /t/server.pem\ntls_key_file: /t/server.key\ntls_client_ca_file: /t/ca.pem\n\
         tls_ca_file: /t/ca.pem\ntls_client_cert_file: /t/agent.pem\ntls_client_key_file: /t/agent.key\n",
        "c.yml",
    )
    .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let t = c.config.security.tls;
    let p = |s: &str| Some(PathBuf::from(s));
    assert_eq!(t.cert_file, p("/t/server.pem"));
    assert_eq!(t.key_file, p("/t/server.key"));
    assert_eq!(t.client_ca_file, p("/t/ca.pem"));
    assert_eq!(t.ca_file, p("/t/ca.pem"));
    assert_eq!(t.client_cert_file, p("/t/agent.pem"));
    assert_eq!(t.client_key_file, p("/t/agent.key"));

    let off = parse_config("client_port: 1234\n", "c.yml").unwrap().config;
    assert_eq!(off.security.tls, storalloc_config::TlsConfig::default());
    let e = parse_config("tls_ca_file: ''\n", "site.yml")
        .unwrap_err()
        .to_string();
    assert!(e.contains("site.yml") && e.contains("tls_ca_file"), "{e}");
}
