//! The one-line-per-strategy summary: the comparison table on stdout, the
//! `--json` output and the comparison page share it.

use crate::metrics::Metrics;
use crate::output_yaml::num;
use crate::series::gb128;
use serde::Serialize;
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub strategy: String,
    pub requests: u64,
    pub accepted: u64,
    pub refused: u64,
    /// Requests that needed at least one retry (granted or not).
    pub delayed: u64,
    /// Exact decimal GB, as a string so no precision is lost.
    pub allocated_gb: String,
    pub mean_utilisation: f64,
    pub max_utilisation: f64,
    pub max_concurrent_allocations: u32,
}

impl Summary {
    pub fn of(strategy: &str, m: &Metrics) -> Summary {
        Summary {
            strategy: strategy.to_string(),
            requests: m.requests_count,
            accepted: m.granted_requests_count,
            refused: m.refused_requests_count,
            delayed: m.delayed_requests_count,
            allocated_gb: gb128(m.allocated_bytes),
            mean_utilisation: num(m.mean_utilisation()).parse().unwrap_or(0.0),
            max_utilisation: num(m.max_utilisation()).parse().unwrap_or(0.0),
            max_concurrent_allocations: m.max_concurrent_allocations,
        }
    }
}

/// A plain-text table, one row per strategy.
pub fn table(rows: &[Summary]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<15} {:>9} {:>9} {:>9} {:>9} {:>16} {:>9} {:>9}",
        "strategy",
        "requests",
        "accepted",
        "refused",
        "delayed",
        "GB allocated",
        "mean use",
        "max use"
    );
    for r in rows {
        let gb = r.allocated_gb.split('.').next().unwrap_or("0");
        let _ = writeln!(
            out,
            "{:<15} {:>9} {:>9} {:>9} {:>9} {:>16} {:>8.1}% {:>8.1}%",
            r.strategy,
            r.requests,
            r.accepted,
            r.refused,
            r.delayed,
            gb,
            r.mean_utilisation * 100.0,
            r.max_utilisation * 100.0
        );
    }
    out
}
