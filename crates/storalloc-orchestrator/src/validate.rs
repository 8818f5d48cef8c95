//! Checks what clients and agents send before anything changes, and turns
//! it into the core's types. Every message names the field and the value.

use crate::model::{DiskSpec, NodeRecord, StorageRequest};
use storalloc_core::{Bandwidth, Bytes, Disk, Medium};

/// The core's bounds, shared with the CLI so both sides agree.
const MAX_SPAN_S: u64 = storalloc_core::request::MAX_DURATION.0;
const MAX_DELAY_S: u64 = storalloc_core::request::MAX_DELAY.0;
/// 2200-01-01T00:00:00Z: a start later than this is a typo, not a plan.
pub const LATEST_START_UNIX: i64 = storalloc_core::request::LATEST_START.0;
const MAX_REQUEST_ID_LEN: usize = 256;

pub fn check_request_id(id: &str) -> Result<(), String> {
    if id.trim().is_empty() {
        return Err(format!(
            "request_id is required (got {id:?}); use a fresh UUID per submission"
        ));
    }
    if id.len() > MAX_REQUEST_ID_LEN {
        return Err(format!(
            "request_id is {} bytes long; at most {MAX_REQUEST_ID_LEN} are accepted",
            id.len()
        ));
    }
    Ok(())
}

pub fn check_storage_request(r: &StorageRequest) -> Result<(), String> {
    if r.capacity_bytes == 0 {
        return Err("request.capacity_bytes must be greater than 0 (got 0)".into());
    }
    if r.duration_s == 0 {
        return Err("request.duration_s must be greater than 0 (got 0)".into());
    }
    if r.duration_s > MAX_SPAN_S {
        return Err(format!(
            "request.duration_s is too large (got {}; at most {MAX_SPAN_S})",
            r.duration_s
        ));
    }
    if let Some(s) = r.start_unix {
        if !(0..=LATEST_START_UNIX).contains(&s) {
            return Err(format!(
                "request.start_unix must be a Unix time in seconds between 0 and \
                 {LATEST_START_UNIX} (2200-01-01) (got {s})"
            ));
        }
    }
    if let Some(d) = r.max_delay_s {
        if d > MAX_DELAY_S {
            return Err(format!(
                "request.max_delay_s is too large (got {d}; at most {MAX_DELAY_S})"
            ));
        }
    }
    if let Some(b) = r.bandwidth_gbps {
        if !(b.is_finite() && b > 0.0) {
            return Err(format!(
                "request.bandwidth_gbps must be a positive finite number of GB/s (got {b})"
            ));
        }
    }
    if let Some(m) = &r.medium {
        m.parse::<Medium>()
            .map_err(|e| format!("request.medium: {e}"))?;
    }
    if r.block_size_bytes == Some(0) {
        return Err("request.block_size_bytes must be greater than 0 (got 0)".into());
    }
    Ok(())
}

pub fn bandwidth(field: &str, v: f64) -> Result<Bandwidth, String> {
    Bandwidth::try_gb_per_s(v)
        .ok_or_else(|| format!("{field} must be a finite number >= 0 (got {v})"))
}

/// The core's disk for a disk spec; `field` names it in errors.
pub fn core_disk(d: &DiskSpec, field: &str) -> Result<Disk, String> {
    let medium = match &d.medium {
        Some(m) => Some(
            m.parse::<Medium>()
                .map_err(|e| format!("{field}.medium: {e}"))?,
        ),
        None => None,
    };
    Ok(Disk {
        capacity: Bytes(d.capacity_bytes),
        write_bandwidth: bandwidth(&format!("{field}.write_bw_gbps"), d.write_bw_gbps)?,
        read_bandwidth: bandwidth(&format!("{field}.read_bw_gbps"), d.read_bw_gbps)?,
        vendor: d.vendor.clone(),
        model: d.model.clone(),
        serial: d.serial.clone(),
        block_device: d.block_device.clone(),
        medium,
        tier: d.tier.clone(),
        labels: d.labels.clone(),
        backend: (!d.backend.is_empty()).then(|| d.backend.clone()),
        mount: d.mount.clone(),
    })
}

/// Checks a node an agent describes: a hostname and valid disks.
pub fn check_node(n: &NodeRecord) -> Result<(), String> {
    if n.hostname.trim().is_empty() {
        return Err(format!("node.hostname is required (got {:?})", n.hostname));
    }
    bandwidth("node.network_bw_gbps", n.network_bw_gbps)?;
    for (i, d) in n.disks.iter().enumerate() {
        core_disk(&d.spec, &format!("node.disks[{i}]"))?;
    }
    Ok(())
}
