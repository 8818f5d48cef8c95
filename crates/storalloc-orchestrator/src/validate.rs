//! Checks what clients and agents send before anything changes, and turns it
//! into the core's types. Every message names the field and the value.

use storalloc_core::{Bandwidth, Bytes, Disk, Medium, Node, Request, TimeSpan, Timestamp};
use storalloc_proto::v1::{NodeDescription, StorageRequest, SubmitRequest};

/// About a century: keeps every `start + duration` far from overflow.
const MAX_SPAN_S: u64 = 100 * 365 * 24 * 3600;
const MAX_REQUEST_ID_LEN: usize = 256;

/// Checks a submission; `Err` is the message for `InvalidArgument`.
pub fn check_submit(req: &SubmitRequest) -> Result<&StorageRequest, String> {
    if req.request_id.trim().is_empty() {
        return Err(format!(
            "request_id is required (got {:?}); use a fresh UUID per submission",
            req.request_id
        ));
    }
    if req.request_id.len() > MAX_REQUEST_ID_LEN {
        return Err(format!(
            "request_id is {} bytes long; at most {MAX_REQUEST_ID_LEN} are accepted",
            req.request_id.len()
        ));
    }
    let r = req
        .request
        .as_ref()
        .ok_or_else(|| "request is required (got none)".to_string())?;
    check_storage_request(r)?;
    Ok(r)
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
        if !(0..=i64::MAX / 4).contains(&s) {
            return Err(format!(
                "request.start_unix must be a Unix time in seconds (got {s})"
            ));
        }
    }
    if let Some(d) = r.max_delay_s {
        if d > MAX_SPAN_S {
            return Err(format!(
                "request.max_delay_s is too large (got {d}; at most {MAX_SPAN_S})"
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

/// The core request for a checked [`StorageRequest`] decided at `now`: a
/// start in the past means now.
pub fn core_request(r: &StorageRequest, now: Timestamp) -> Request {
    let start = Timestamp(r.start_unix.unwrap_or(now.0).max(now.0));
    let mut req = Request::new(Bytes(r.capacity_bytes), TimeSpan(r.duration_s), start);
    if let Some(d) = r.max_delay_s {
        req = req.with_max_delay(TimeSpan(d));
    }
    if let Some(b) = r.bandwidth_gbps {
        req = req.with_bandwidth(Bandwidth(b));
    }
    if let Some(m) = r.medium.as_deref().and_then(|m| m.parse().ok()) {
        req = req.with_medium(m);
    }
    if let Some(t) = &r.tier {
        req = req.with_tier(t.clone());
    }
    if let Some(b) = r.block_size_bytes {
        req = req.with_block_size(Bytes(b));
    }
    req
}

/// Checks an agent's node description and turns it into the core's node.
pub fn core_node(d: &NodeDescription) -> Result<Node, String> {
    if d.hostname.trim().is_empty() {
        return Err(format!("node.hostname is required (got {:?})", d.hostname));
    }
    let bw = |field: String, v: f64| {
        Bandwidth::try_gb_per_s(v)
            .ok_or_else(|| format!("{field} must be a finite number >= 0 (got {v})"))
    };
    let network_bw = bw("node.network_bw_gbps".into(), d.network_bw_gbps)?;
    let mut disks = Vec::with_capacity(d.disks.len());
    for (i, disk) in d.disks.iter().enumerate() {
        let medium = match &disk.medium {
            Some(m) => Some(
                m.parse::<Medium>()
                    .map_err(|e| format!("node.disks[{i}].medium: {e}"))?,
            ),
            None => None,
        };
        disks.push(Disk {
            capacity: Bytes(disk.capacity_bytes),
            write_bandwidth: bw(format!("node.disks[{i}].write_bw_gbps"), disk.write_bw_gbps)?,
            read_bandwidth: bw(format!("node.disks[{i}].read_bw_gbps"), disk.read_bw_gbps)?,
            vendor: disk.vendor.clone(),
            model: disk.model.clone(),
            serial: disk.serial.clone(),
            block_device: disk.block_device.clone(),
            medium,
            tier: disk.tier.clone(),
            labels: disk.labels.clone(),
            backend: (!disk.backend.is_empty()).then(|| disk.backend.clone()),
            mount: disk.mount.clone(),
        });
    }
    Ok(Node {
        hostname: d.hostname.clone(),
        ipv4: d.address.clone(),
        network_bw,
        disks,
    })
}
