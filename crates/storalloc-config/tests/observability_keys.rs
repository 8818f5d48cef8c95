//! The keys behind the dashboard and the log server: the original's
//! `log_server_*` and `o_visualisation_port`, and the `http_*` and
//! `log_forward` extensions.

use storalloc_config::parse_config;

#[test]
fn dashboard_is_off_unless_http_addr_is_set() {
    let c = parse_config("o_visualisation_port: 36055\n", "cfg.yml").unwrap();
    assert_eq!(c.config.http_endpoint(), None);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    let c = parse_config(
        "http_addr: 127.0.0.1\no_visualisation_port: 36055\n",
        "cfg.yml",
    )
    .unwrap()
    .config;
    assert_eq!(c.http_endpoint().as_deref(), Some("127.0.0.1:36055"));
    let c = parse_config("http_addr: '::1'\nhttp_port: 0\n", "cfg.yml")
        .unwrap()
        .config;
    assert_eq!(c.http_endpoint().as_deref(), Some("[::1]:0"));
    let c = parse_config("http_addr: 0.0.0.0\n", "cfg.yml")
        .unwrap()
        .config;
    assert_eq!(c.http_endpoint().as_deref(), Some("0.0.0.0:35055"));
}

#[test]
fn log_server_keys_are_used_and_forwarding_is_opt_in() {
    let c = parse_config(
        "log_server_addr: 10.0.0.9\nlog_server_port: 36030\n",
        "cfg.yml",
    )
    .unwrap();
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.config.log_server_endpoint(), "10.0.0.9:36030");
    assert!(!c.config.log_forward);
    let c = parse_config("log_forward: true\n", "cfg.yml")
        .unwrap()
        .config;
    assert!(c.log_forward);
    assert_eq!(c.log_server_endpoint(), "127.0.0.1:35030");
}

#[test]
fn bad_values_name_the_key() {
    for (text, key) in [
        ("http_port: 70000\n", "http_port"),
        ("http_addr: ''\n", "http_addr"),
        ("log_forward: maybe\n", "log_forward"),
    ] {
        let e = parse_config(text, "cfg.yml").unwrap_err().to_string();
        assert!(e.contains("cfg.yml") && e.contains(key), "{text}: {e}");
    }
}
