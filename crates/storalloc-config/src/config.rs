//! The orchestrator/client config file (`config_*.yml`), see docs/formats.md.
//!
//! To add a key: a field in [`Config`], its default in `Config::default`,
//! one arm in `apply` and a row in docs/formats.md.

use crate::error::{read_text, ConfigError, FieldError};
use crate::fields::{
    boolean, join, mapping, non_empty_document, non_empty_text, port, positive_gb, positive_int,
};
use crate::yaml::{self, Value};
use std::path::{Path, PathBuf};
use storalloc_core::{Bytes, SchedulerConfig, StrategyKind};

/// How the original's components talked to each other. storalloc always
/// uses gRPC over TCP; `ipc` is accepted so that old files load, with a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Tcp,
    Ipc,
}

impl Transport {
    pub fn as_str(self) -> &'static str {
        match self {
            Transport::Tcp => "tcp",
            Transport::Ipc => "ipc",
        }
    }
}

/// Every key of the original config plus storalloc's extensions. Sizes are
/// exact [`Bytes`]; the YAML keys keep their `_gb` names.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub orchestrator_hostname: String,
    /// Address the orchestrator listens on and clients/agents connect to.
    pub orchestrator_addr: String,
    /// Original only (ZeroMQ ipc endpoints); never used.
    pub orchestrator_fe_ipc: Option<String>,
    pub orchestrator_be_ipc: Option<String>,
    /// `inmemory` in every known file; the only catalog the original had.
    pub res_catalog: String,
    pub allow_retry: bool,
    /// `block_size_gb`: split requests larger than this. `None` never splits.
    pub block_size: Option<Bytes>,
    /// `min_block_size_gb`: kept for completeness; the scheduler ignores it.
    pub min_block_size: Option<Bytes>,
    /// Port for clients (requests).
    pub client_port: u16,
    /// Port for storage servers (agents).
    pub server_port: u16,
    /// Where `storalloc log-server` listens, and where components send
    /// their logs when `log_forward` is on.
    pub log_server_addr: String,
    pub log_server_port: u16,
    pub log_server_sync_port: u16,
    pub simulation_addr: String,
    pub simulation_port: u16,
    pub s_visualisation_port: u16,
    /// The dashboard's port when `http_port` is not given.
    pub o_visualisation_port: u16,
    pub transport: Transport,
    pub sched_strategy: StrategyKind,
    /// `visualisation.max_points`.
    pub visualisation_max_points: u64,
    /// Extension: where the orchestrator keeps its state. `None`: `./storalloc-state` (or `--state-dir`).
    pub state_dir: Option<PathBuf>,
    /// Extension: how often agents send heartbeats, in seconds.
    pub heartbeat_interval_s: u64,
    /// Extension: silence after which an agent's node is marked down, in seconds.
    pub heartbeat_timeout_s: u64,
    /// Extension: how long finished allocations stay in the orchestrator's
    /// memory (and `status`, `/api/state`) before they move to the history
    /// table, in seconds (`retention`: seconds or a Slurm duration).
    pub retention_s: u64,
    /// Extension: keep allocations that leave memory in the history table
    /// (`storalloc history`); `false` drops them.
    pub keep_history: bool,
    /// Extension: how long expiries caused by a forward jump of the wall
    /// clock are held, in seconds (docs/operations.md, "Clock rules").
    pub clock_jump_grace_s: u64,
    /// Extension: the host (IP or name) the orchestrator serves its
    /// dashboard and `/metrics` on. `None`: no HTTP server.
    pub http_addr: Option<String>,
    /// Extension: the dashboard's port; default `o_visualisation_port`.
    pub http_port: Option<u16>,
    /// Extension: send every component's logs to
    /// `log_server_addr:log_server_port`. Off by default: the original
    /// files name machines that may not run a log server.
    pub log_forward: bool,
    /// Extension: `auth`, `admin_uids`, `admin_groups`, `agent_secret_file`
    /// and the `tls_*` files (docs/security.md).
    pub security: crate::security::SecurityConfig,
}

impl Default for Config {
    /// The original's defaults, on loopback.
    fn default() -> Config {
        Config {
            orchestrator_hostname: "localhost".to_string(),
            orchestrator_addr: "127.0.0.1".to_string(),
            orchestrator_fe_ipc: None,
            orchestrator_be_ipc: None,
            res_catalog: "inmemory".to_string(),
            allow_retry: false,
            block_size: None,
            min_block_size: None,
            client_port: 35010,
            server_port: 35020,
            log_server_addr: "127.0.0.1".to_string(),
            log_server_port: 35030,
            log_server_sync_port: 35031,
            simulation_addr: "127.0.0.1".to_string(),
            simulation_port: 35040,
            s_visualisation_port: 35050,
            o_visualisation_port: 35055,
            transport: Transport::Tcp,
            sched_strategy: StrategyKind::RoundRobin,
            visualisation_max_points: 5000,
            state_dir: None,
            heartbeat_interval_s: 2,
            heartbeat_timeout_s: 10,
            retention_s: 24 * 3600,
            keep_history: true,
            clock_jump_grace_s: 15 * 60,
            http_addr: None,
            http_port: None,
            log_forward: false,
            security: Default::default(),
        }
    }
}

impl Config {
    /// The scheduler settings this config asks for.
    pub fn scheduler_config(&self, seed: u64) -> SchedulerConfig {
        SchedulerConfig {
            strategy: self.sched_strategy,
            block_size: self.block_size,
            allow_retry: self.allow_retry,
            seed,
        }
    }

    /// `orchestrator_addr:client_port`.
    pub fn client_endpoint(&self) -> String {
        format!("{}:{}", self.orchestrator_addr, self.client_port)
    }

    /// `http_addr:http_port` (or `o_visualisation_port`), if the dashboard
    /// is on.
    pub fn http_endpoint(&self) -> Option<String> {
        let host = self.http_addr.as_ref()?;
        let port = self.http_port.unwrap_or(self.o_visualisation_port);
        Some(if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        })
    }

    /// `log_server_addr:log_server_port`.
    pub fn log_server_endpoint(&self) -> String {
        format!("{}:{}", self.log_server_addr, self.log_server_port)
    }

    /// `orchestrator_addr:server_port`.
    pub fn server_endpoint(&self) -> String {
        format!("{}:{}", self.orchestrator_addr, self.server_port)
    }
}

/// A loaded config and what in it storalloc ignores or tolerates.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    pub config: Config,
    /// One line each, starting with the file name.
    pub warnings: Vec<String>,
}

/// Load a config file. Errors and warnings name the file as `path` spells it.
pub fn load_config(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let text = read_text(path)?;
    parse_config(&text, &path.display().to_string())
}

/// Keys of the original that storalloc reads and validates but has no use
/// for: its log server needs no sync port, the simulator runs in-process,
/// and the dashboard is served by the orchestrator itself. (`log_server_*`
/// and `o_visualisation_port` are used: see docs/observability.md.)
const INERT_KEYS: &[&str] = &[
    "log_server_sync_port",
    "simulation_addr",
    "simulation_port",
    "s_visualisation_port",
    "visualisation",
];

/// Parse a config held in memory; `name` stands for the file in messages.
pub fn parse_config(text: &str, name: &str) -> Result<LoadedConfig, ConfigError> {
    let doc = yaml::parse(text).map_err(|message| ConfigError::Yaml {
        file: name.to_string(),
        message,
    })?;
    let mut notes = doc.warnings;
    let mut config = Config::default();
    // An empty file is more likely a wrong or truncated file than a wish
    // for all the defaults, which `{}` still asks for.
    non_empty_document(
        text,
        &doc.root,
        "a YAML mapping with settings such as orchestrator_addr, client_port and server_port",
    )
    .map_err(|e| e.in_file(name))?;
    let root = mapping(&doc.root, "", "a mapping of settings at the top level")
        .map_err(|e| e.in_file(name))?;
    for (key, value) in root {
        apply(&mut config, key, value, &mut notes).map_err(|e| e.in_file(name))?;
    }
    check_consistency(&config).map_err(|e| e.in_file(name))?;
    let inert: Vec<&str> = INERT_KEYS
        .iter()
        .copied()
        .filter(|k| root.iter().any(|(key, _)| key == k))
        .collect();
    if !inert.is_empty() {
        notes.push(format!(
            "{}: not used (storalloc has no log sync port, simulation or visualisation servers); ignored",
            inert.join(", ")
        ));
    }
    Ok(LoadedConfig {
        config,
        warnings: notes.into_iter().map(|w| format!("{name}: {w}")).collect(),
    })
}

/// Rules between keys, checked once every key is read.
fn check_consistency(c: &Config) -> Result<(), FieldError> {
    if c.heartbeat_timeout_s <= c.heartbeat_interval_s {
        return Err(FieldError::new(
            "heartbeat_timeout_s",
            format!(
                "must be greater than heartbeat_interval_s ({}), got {}",
                c.heartbeat_interval_s, c.heartbeat_timeout_s
            ),
        ));
    }
    // Both services bind orchestrator_addr: one port cannot serve both
    // (the orchestrator would fail with "Address already in use"). 0 picks
    // a free port for each, so two zeros are fine.
    if c.client_port != 0 && c.client_port == c.server_port {
        return Err(FieldError::new(
            "",
            format!(
                "client_port and server_port are both {}; the orchestrator needs a different port for each (or 0 to pick free ones)",
                c.client_port
            ),
        ));
    }
    Ok(())
}

const NOT_GRPC: &str = "not used (storalloc uses gRPC over TCP); ignored";

/// Set one top-level key.
fn apply(c: &mut Config, key: &str, v: &Value, notes: &mut Vec<String>) -> Result<(), FieldError> {
    match key {
        "orchestrator_hostname" => c.orchestrator_hostname = non_empty_text(v, key)?,
        "orchestrator_addr" => c.orchestrator_addr = non_empty_text(v, key)?,
        "orchestrator_fe_ipc" => {
            c.orchestrator_fe_ipc = Some(non_empty_text(v, key)?);
            notes.push(format!("{key}: {NOT_GRPC}"));
        }
        "orchestrator_be_ipc" => {
            c.orchestrator_be_ipc = Some(non_empty_text(v, key)?);
            notes.push(format!("{key}: {NOT_GRPC}"));
        }
        "res_catalog" => {
            let catalog = non_empty_text(v, key)?;
            if catalog != "inmemory" {
                notes.push(format!(
                    "{key}: {catalog:?} is not known; storalloc keeps its catalog in memory (persisted under state_dir)"
                ));
            }
            c.res_catalog = catalog;
        }
        "allow_retry" => c.allow_retry = boolean(v, key)?,
        "block_size_gb" => c.block_size = Some(positive_gb(v, key)?),
        "min_block_size_gb" => {
            c.min_block_size = Some(positive_gb(v, key)?);
            notes.push(format!(
                "{key}: not used (requests split into block_size_gb blocks plus the remainder); ignored"
            ));
        }
        "client_port" => c.client_port = port(v, key)?,
        "server_port" => c.server_port = port(v, key)?,
        "log_server_addr" => c.log_server_addr = non_empty_text(v, key)?,
        "log_server_port" => c.log_server_port = port(v, key)?,
        "log_server_sync_port" => c.log_server_sync_port = port(v, key)?,
        "simulation_addr" => c.simulation_addr = non_empty_text(v, key)?,
        "simulation_port" => c.simulation_port = port(v, key)?,
        "s_visualisation_port" => c.s_visualisation_port = port(v, key)?,
        "o_visualisation_port" => c.o_visualisation_port = port(v, key)?,
        "transport" => {
            c.transport = match v {
                Value::Str(s) if s == "tcp" => Transport::Tcp,
                Value::Str(s) if s == "ipc" => {
                    notes.push(format!("{key}: ipc {NOT_GRPC}"));
                    Transport::Ipc
                }
                other => {
                    return Err(FieldError::new(
                        key,
                        format!("expected tcp or ipc, got {}", other.describe()),
                    ))
                }
            }
        }
        "sched_strategy" => {
            let name = non_empty_text(v, key)?;
            c.sched_strategy = name
                .parse::<StrategyKind>()
                .map_err(|e| FieldError::new(key, e.to_string()))?;
        }
        "visualisation" => {
            for (sub, value) in mapping(v, key, "a mapping (max_points)")? {
                let path = join(key, sub);
                match sub.as_str() {
                    "max_points" => c.visualisation_max_points = positive_int(value, &path)?,
                    _ => notes.push(format!("{path}: unknown key; ignored")),
                }
            }
        }
        "state_dir" => {
            c.state_dir = match v {
                Value::Null => None,
                other => Some(PathBuf::from(non_empty_text(other, key)?)),
            }
        }
        "heartbeat_interval_s" => c.heartbeat_interval_s = positive_int(v, key)?,
        "heartbeat_timeout_s" => c.heartbeat_timeout_s = positive_int(v, key)?,
        "retention" | "retention_s" => c.retention_s = duration_s(v, key)?,
        "keep_history" => c.keep_history = boolean(v, key)?,
        "clock_jump_grace" | "clock_jump_grace_s" => c.clock_jump_grace_s = duration_s(v, key)?,
        "http_addr" => {
            c.http_addr = match v {
                Value::Null => None,
                other => Some(non_empty_text(other, key)?),
            }
        }
        "http_port" => c.http_port = Some(port(v, key)?),
        "log_forward" => c.log_forward = boolean(v, key)?,
        k if crate::security::KEYS.contains(&k) => crate::security::apply(&mut c.security, k, v)?,
        _ => notes.push(format!("{key}: unknown key; ignored")),
    }
    Ok(())
}

/// A duration in seconds: a whole number, or a Slurm duration string
/// (`30`, `1:00:00`, `1-00:00:00`).
fn duration_s(v: &Value, key: &str) -> Result<u64, FieldError> {
    const EXPECTED: &str = "seconds or a Slurm duration such as 1-00:00:00";
    match v {
        Value::Int(i) if *i >= 0 => Ok(*i as u64),
        Value::Str(s) => s
            .trim()
            .parse::<storalloc_core::TimeSpan>()
            .map(|t| t.0)
            .map_err(|e| FieldError::new(key, format!("expected {EXPECTED}, got {s:?} ({e})"))),
        other => Err(FieldError::new(key, crate::fields::got(EXPECTED, other))),
    }
}
