//! `output.yml`: the original's metric names, written by hand so the bytes
//! depend only on the values (same inputs and seed, same file).

use crate::input::Workload;
use crate::metrics::Metrics;
use crate::series::{gb, gb128};
use std::fmt::Write as _;
use storalloc_core::{SchedulerConfig, Timestamp};

/// `"N days HH:MM:SS"`; days are kept (the original dropped them past 24 h).
pub fn span(secs: u64) -> String {
    format!(
        "{} days {:02}:{:02}:{:02}",
        secs / 86_400,
        (secs % 86_400) / 3600,
        (secs % 3600) / 60,
        secs % 60
    )
}

/// A float with at most 6 decimals and no trailing zeros.
pub fn num(v: f64) -> String {
    let s = format!("{v:.6}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".to_string()
    } else {
        s.to_string()
    }
}

fn ts(t: Option<Timestamp>) -> String {
    match t {
        Some(t) => format!("'{t}'"),
        None => "null".to_string(),
    }
}

/// `<which>_split_requests_{count,gb,duration,duration_s}`.
fn split_group(w: &mut String, which: &str, count: u64, bytes: u128, secs: u64) {
    let _ = writeln!(w, "{which}_split_requests_count: {count}");
    let _ = writeln!(w, "{which}_split_requests_gb: {}", gb128(bytes));
    let _ = writeln!(w, "{which}_split_requests_duration: '{}'", span(secs));
    let _ = writeln!(w, "{which}_split_requests_duration_s: {secs}");
}

pub fn render(m: &Metrics, config: &SchedulerConfig, workload: &Workload) -> String {
    let mut o = String::with_capacity(4096 + m.nodes.len() * 512);
    let w = &mut o;
    let _ = writeln!(
        w,
        "# storalloc simulation output; metrics documented in docs/simulation.md"
    );
    let _ = writeln!(w, "strategy: {}", config.strategy);
    let _ = writeln!(w, "seed: {}", config.seed);
    let _ = writeln!(w, "requests_count: {}", m.requests_count);
    let _ = writeln!(w, "granted_requests_count: {}", m.granted_requests_count);
    let _ = writeln!(w, "refused_requests_count: {}", m.refused_requests_count);
    let _ = writeln!(w, "failed_requests_count: {}", m.failed_requests_count);
    let _ = writeln!(
        w,
        "max_concurrent_allocations: {}",
        m.max_concurrent_allocations
    );
    let _ = writeln!(
        w,
        "mean_concurrent_allocations: {}",
        num(m.mean_concurrent_allocations)
    );
    let _ = writeln!(w, "registrations_count: {}", m.registrations_count);
    let _ = writeln!(
        w,
        "split_threshold_gb: {}",
        m.split_threshold_bytes.map_or("null".to_string(), gb)
    );
    let _ = writeln!(w, "retries_allowed: {}", m.retries_allowed);
    let _ = writeln!(w, "tt_allocated_gb: {}", gb128(m.allocated_bytes));
    let _ = writeln!(w, "tt_deallocated_gb: {}", gb128(m.deallocated_bytes));
    let _ = writeln!(w, "split_requests_count: {}", m.split_requests_count);
    split_group(
        w,
        "alloc",
        m.alloc_split_requests_count,
        m.alloc_split_requests_bytes,
        m.alloc_split_requests_duration_s,
    );
    let _ = writeln!(
        w,
        "failed_split_requests_count: {}",
        m.failed_split_requests_count
    );
    split_group(
        w,
        "refused",
        m.refused_split_requests_count,
        m.refused_split_requests_bytes,
        m.refused_split_requests_duration_s,
    );
    let _ = writeln!(w, "delayed_requests_count: {}", m.delayed_requests_count);
    let _ = writeln!(
        w,
        "tt_delay_time_minutes: {}",
        num(m.tt_delay_time_s as f64 / 60.0)
    );
    let _ = writeln!(
        w,
        "alloc_delayed_requests_count: {}",
        m.alloc_delayed_requests_count
    );
    let _ = writeln!(
        w,
        "refused_delayed_requests_count: {}",
        m.refused_delayed_requests_count
    );
    let _ = writeln!(w, "sim_first_ts: {}", ts(m.sim_first_ts));
    let _ = writeln!(w, "sim_last_ts: {}", ts(m.sim_last_ts));
    let _ = writeln!(w, "sim_duration: '{}'", span(m.sim_duration_s()));
    let _ = writeln!(w, "sim_duration_s: {}", m.sim_duration_s());
    let _ = writeln!(w, "total_capacity_gb: {}", gb(m.total_capacity_bytes));
    let _ = writeln!(
        w,
        "mean_capacity_utilisation: {}",
        num(m.mean_utilisation())
    );
    let _ = writeln!(w, "max_cap_utilisation: {}", num(m.max_utilisation()));
    let _ = writeln!(w, "jobs_read: {}", workload.read.jobs_read);
    let _ = writeln!(w, "jobs_skipped_invalid: {}", workload.read.jobs_skipped);
    if workload.skipped.is_empty() {
        let _ = writeln!(w, "jobs_without_request: {{}}");
    } else {
        let _ = writeln!(w, "jobs_without_request:");
        for (k, v) in &workload.skipped {
            let _ = writeln!(w, "  {k}: {v}");
        }
    }
    if m.nodes.is_empty() {
        let _ = writeln!(w, "nodes: []");
    } else {
        let _ = writeln!(w, "nodes:");
    }
    for n in &m.nodes {
        let _ = writeln!(w, "- id: {}", n.id);
        let _ = writeln!(w, "  hostname: '{}'", n.hostname.replace('\'', "''"));
        let _ = writeln!(w, "  mean_nb_alloc: {}", num(n.mean_nb_alloc));
        let _ = writeln!(w, "  max_nb_alloc: {}", n.max_nb_alloc);
        let _ = writeln!(w, "  last_alloc_ts: {}", ts(n.last_alloc_ts));
        if n.disks.is_empty() {
            let _ = writeln!(w, "  disks: []");
            continue;
        }
        let _ = writeln!(w, "  disks:");
        for d in &n.disks {
            let _ = writeln!(w, "  - id: {}", d.id);
            let _ = writeln!(w, "    capacity: {}", gb(d.capacity_bytes));
            let _ = writeln!(w, "    mean_nb_alloc: {}", num(d.mean_nb_alloc));
            let _ = writeln!(w, "    max_nb_alloc: {}", d.max_nb_alloc);
            let _ = writeln!(w, "    last_alloc_time: {}", ts(d.last_alloc_time));
            let _ = writeln!(
                w,
                "    mean_capacity_utilisation: {}",
                num(d.mean_capacity_utilisation)
            );
            let _ = writeln!(w, "    max_cap_utilisation: {}", num(d.max_cap_utilisation));
        }
    }
    o
}
