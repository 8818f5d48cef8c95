//! What the agent tests against fake orchestrators share.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use storalloc_agent::{AgentOptions, Backoff, DiskBackends, StorageBackend};
use storalloc_proto::v1 as pb;

/// An agent for node `ault14` (10.1.1.1, no disks announced) dialling
/// `addr`, one backend per disk.
pub fn ault14_options(
    addr: SocketAddr,
    per_disk: Vec<Arc<dyn StorageBackend>>,
    backoff: Backoff,
    orphan_grace: Duration,
) -> AgentOptions {
    AgentOptions {
        orchestrator: addr.to_string(),
        node: pb::NodeDescription {
            hostname: "ault14".into(),
            address: "10.1.1.1".into(),
            network_bw_gbps: 12.5,
            disks: vec![],
        },
        backends: DiskBackends::new("ault14", per_disk),
        backoff,
        reset: false,
        orphan_grace,
    }
}
