//! What a user asked for, as the engine keeps it: never optional, checked
//! once at the edge (`crate::validate`).

use std::collections::BTreeMap;
use storalloc_core::{Bandwidth, Bytes, Request, TimeSpan, Timestamp};

#[derive(Debug, Clone, PartialEq, Default)]
pub struct StorageRequest {
    pub capacity_bytes: u64,
    pub duration_s: u64,
    /// The earliest start; `None` is "as soon as possible".
    pub start_unix: Option<i64>,
    pub max_delay_s: Option<u64>,
    pub bandwidth_gbps: Option<f64>,
    pub medium: Option<String>,
    pub tier: Option<String>,
    pub block_size_bytes: Option<u64>,
    pub host_nqns: Vec<String>,
    pub labels: BTreeMap<String, String>,
}

impl StorageRequest {
    /// The core's request, decided at `now`: a start in the past means now.
    pub fn core_request(&self, now: Timestamp) -> Request {
        let start = Timestamp(self.start_unix.unwrap_or(now.0).max(now.0));
        let mut req = Request::new(Bytes(self.capacity_bytes), TimeSpan(self.duration_s), start);
        if let Some(d) = self.max_delay_s {
            req = req.with_max_delay(TimeSpan(d));
        }
        if let Some(b) = self.bandwidth_gbps {
            req = req.with_bandwidth(Bandwidth(b));
        }
        if let Some(m) = self.medium.as_deref().and_then(|m| m.parse().ok()) {
            req = req.with_medium(m);
        }
        if let Some(t) = &self.tier {
            req = req.with_tier(t.clone());
        }
        if let Some(b) = self.block_size_bytes {
            req = req.with_block_size(Bytes(b));
        }
        req
    }
}
