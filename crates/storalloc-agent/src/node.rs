//! The node description an agent announces, built from the system file.

use crate::disks::node_address;
use storalloc_core::Node;
use storalloc_proto::v1 as pb;

/// `Register.node` for `node`; with `simulate`, every disk says `simulate`.
pub fn describe(node: &Node, simulate: bool) -> pb::NodeDescription {
    pb::NodeDescription {
        hostname: node.hostname.clone(),
        address: node_address(node),
        network_bw_gbps: node.network_bw.get(),
        disks: node
            .disks
            .iter()
            .map(|d| pb::DiskDescription {
                capacity_bytes: d.capacity.get(),
                write_bw_gbps: d.write_bandwidth.get(),
                read_bw_gbps: d.read_bandwidth.get(),
                vendor: d.vendor.clone(),
                model: d.model.clone(),
                serial: d.serial.clone(),
                block_device: d.block_device.clone(),
                medium: d.medium.map(|m| m.as_str().to_string()),
                tier: d.tier.clone(),
                labels: d.labels.clone(),
                backend: if simulate {
                    "simulate".into()
                } else {
                    d.backend.clone().unwrap_or_else(|| "nvmet".into())
                },
                mount: d.mount.clone(),
            })
            .collect(),
    }
}
