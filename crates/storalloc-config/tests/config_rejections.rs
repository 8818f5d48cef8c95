//! Each way a config file can be wrong or odd, with the exact message.

use storalloc_config::{parse_config, Config, Transport};
use storalloc_core::{Bytes, StrategyKind};

fn error(text: &str) -> String {
    match parse_config(text, "cfg.yml") {
        Ok(c) => panic!("accepted: {c:?}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn an_empty_file_is_refused_and_an_empty_mapping_means_the_defaults() {
    for empty in ["", "\n\n", "# nothing here yet\n", "---\n...\n"] {
        assert_eq!(
            error(empty),
            "cfg.yml: the file is empty (expected a YAML mapping with settings such as \
             orchestrator_addr, client_port and server_port)",
            "{empty:?}"
        );
    }
    assert_eq!(
        error("~\n"),
        "cfg.yml: expected a mapping of settings at the top level, got nothing (null)"
    );
    let loaded = parse_config("{}\n", "cfg.yml").unwrap();
    assert_eq!(loaded.config, Config::default());
    assert!(loaded.warnings.is_empty());
    let c = loaded.config;
    assert_eq!(
        (c.client_port, c.server_port, c.log_server_port),
        (35010, 35020, 35030)
    );
    assert_eq!((c.heartbeat_interval_s, c.heartbeat_timeout_s), (2, 10));
    assert_eq!(c.state_dir, None);
    assert_eq!(c.block_size, None);
    assert_eq!(c.client_endpoint(), "127.0.0.1:35010");
}

#[test]
fn client_and_server_ports_must_differ() {
    for text in [
        "client_port: 36000\nserver_port: 36000\n",
        // The other one's default.
        "client_port: 35020\n",
    ] {
        let port = if text.contains("36000") { 36000 } else { 35020 };
        assert_eq!(
            error(text),
            format!(
                "cfg.yml: client_port and server_port are both {port}; the orchestrator \
                 needs a different port for each (or 0 to pick free ones)"
            ),
            "{text:?}"
        );
    }
    // 0 picks a free port for each service.
    let c = parse_config("client_port: 0\nserver_port: 0\n", "cfg.yml").unwrap();
    assert_eq!((c.config.client_port, c.config.server_port), (0, 0));
}

#[test]
fn unknown_strategy_lists_the_valid_ones() {
    assert_eq!(
        error("sched_strategy: best_bandwidth\n"),
        "cfg.yml: sched_strategy: unknown strategy \"best_bandwidth\": valid strategies are random_alloc, round_robin, worst_fit, worst_case, best_fit, earliest_start"
    );
}

#[test]
fn bad_values() {
    for (text, want) in [
        (
            "block_size_gb: 0\n",
            "cfg.yml: block_size_gb: expected a positive number of GB, got 0",
        ),
        (
            "block_size_gb: -200\n",
            "cfg.yml: block_size_gb: expected a positive number of GB, got -200",
        ),
        (
            "allow_retry: maybe\n",
            "cfg.yml: allow_retry: expected true or false, got \"maybe\"",
        ),
        (
            "client_port: 70000\n",
            "cfg.yml: client_port: expected a port number (0-65535), got 70000",
        ),
        (
            "server_port: \"35020\"\n",
            "cfg.yml: server_port: expected a port number (0-65535), got \"35020\"",
        ),
        (
            "transport: udp\n",
            "cfg.yml: transport: expected tcp or ipc, got \"udp\"",
        ),
        (
            "visualisation: 5000\n",
            "cfg.yml: visualisation: expected a mapping (max_points), got 5000",
        ),
        (
            "visualisation:\n  max_points: 0\n",
            "cfg.yml: visualisation.max_points: expected a whole number greater than 0, got 0",
        ),
        (
            "heartbeat_interval_s: 0\n",
            "cfg.yml: heartbeat_interval_s: expected a whole number greater than 0, got 0",
        ),
        (
            "heartbeat_interval_s: 10\nheartbeat_timeout_s: 5\n",
            "cfg.yml: heartbeat_timeout_s: must be greater than heartbeat_interval_s (10), got 5",
        ),
        (
            "orchestrator_addr: [a]\n",
            "cfg.yml: orchestrator_addr: expected a string, got a list",
        ),
        (
            "state_dir: \"\"\n",
            "cfg.yml: state_dir: expected a non-empty string, got \"\"",
        ),
        (
            "- a\n",
            "cfg.yml: expected a mapping of settings at the top level, got a list",
        ),
    ] {
        assert_eq!(error(text), want, "{text}");
    }
}

#[test]
fn original_keys_that_do_not_apply_are_warnings() {
    let text = "\
orchestrator_fe_ipc: client_ipc
orchestrator_be_ipc: server_ipc
transport: ipc
min_block_size_gb: 100
log_server_port: 35030
visualisation:
  max_points: 10
  colour: red
res_catalog: sqlite
res_catalog: inmemory
frobnicate: 3
";
    let loaded = parse_config(text, "cfg.yml").unwrap();
    assert_eq!(loaded.config.transport, Transport::Ipc);
    assert_eq!(loaded.config.min_block_size, Some(Bytes::from_gb(100)));
    assert_eq!(loaded.config.visualisation_max_points, 10);
    assert_eq!(loaded.config.res_catalog, "inmemory");
    assert_eq!(
        loaded.warnings,
        vec![
            "cfg.yml: res_catalog: duplicate key (again on line 10); the last value wins",
            "cfg.yml: orchestrator_fe_ipc: not used (storalloc uses gRPC over TCP); ignored",
            "cfg.yml: orchestrator_be_ipc: not used (storalloc uses gRPC over TCP); ignored",
            "cfg.yml: transport: ipc not used (storalloc uses gRPC over TCP); ignored",
            "cfg.yml: min_block_size_gb: not used (requests split into block_size_gb blocks plus the remainder); ignored",
            "cfg.yml: visualisation.colour: unknown key; ignored",
            "cfg.yml: frobnicate: unknown key; ignored",
            "cfg.yml: visualisation: not used (storalloc has no log sync port, simulation or visualisation servers); ignored",
        ]
    );
}

#[test]
fn extensions_and_scheduler_config() {
    let text = "\
sched_strategy: worst_fit
allow_retry: yes
block_size_gb: 1.5
state_dir: /var/lib/storalloc
heartbeat_interval_s: 5
heartbeat_timeout_s: 30
client_port: 0
";
    let c = parse_config(text, "cfg.yml").unwrap().config;
    assert_eq!(
        c.state_dir.as_deref(),
        Some(std::path::Path::new("/var/lib/storalloc"))
    );
    assert_eq!((c.heartbeat_interval_s, c.heartbeat_timeout_s), (5, 30));
    assert_eq!(c.client_port, 0);
    let s = c.scheduler_config(42);
    assert_eq!(s.strategy, StrategyKind::WorstFit);
    assert_eq!(s.block_size, Some(Bytes(1_500_000_000)));
    assert!(s.allow_retry);
    assert_eq!(s.seed, 42);
}

#[test]
fn yaml_1_1_true_is_a_boolean() {
    let c = parse_config("allow_retry: True\n", "cfg.yml")
        .unwrap()
        .config;
    assert!(c.allow_retry);
    let c = parse_config("allow_retry: False\n", "cfg.yml")
        .unwrap()
        .config;
    assert!(!c.allow_retry);
}
