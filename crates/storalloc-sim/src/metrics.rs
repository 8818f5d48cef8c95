//! Metrics of one run, named as in the original's `output.yml`. Their exact
//! meaning is documented in docs/simulation.md; this file computes them.
//!
//! Usage over time comes from one sweep over the allocations' start and end
//! events. Per-disk and per-node integrals are updated lazily (only when
//! that disk or node changes), so the sweep costs O(events), not
//! O(events × disks).

use crate::engine::{disk_bases, Record};
use crate::input::Workload;
use crate::series::{Downsampled, SeriesSink, Tee};
use std::io;
use storalloc_core::{SchedulerConfig, System, Timestamp};

#[derive(Debug, Clone, PartialEq)]
pub struct DiskStats {
    pub id: u32,
    pub capacity_bytes: u64,
    pub mean_nb_alloc: f64,
    pub max_nb_alloc: u32,
    /// Start of the latest allocation with a block on this disk.
    pub last_alloc_time: Option<Timestamp>,
    /// Time-weighted mean of used / capacity over the simulated span (0–1).
    pub mean_capacity_utilisation: f64,
    pub max_cap_utilisation: f64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NodeStats {
    pub id: u32,
    pub hostname: String,
    pub mean_nb_alloc: f64,
    pub max_nb_alloc: u32,
    pub last_alloc_ts: Option<Timestamp>,
    pub disks: Vec<DiskStats>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Metrics {
    pub requests_count: u64,
    pub granted_requests_count: u64,
    pub refused_requests_count: u64,
    pub failed_requests_count: u64,
    pub max_concurrent_allocations: u32,
    pub mean_concurrent_allocations: f64,
    pub registrations_count: u64,
    pub split_threshold_bytes: Option<u64>,
    pub retries_allowed: bool,
    pub allocated_bytes: u128,
    pub deallocated_bytes: u128,

    pub split_requests_count: u64,
    pub alloc_split_requests_count: u64,
    pub alloc_split_requests_bytes: u128,
    pub alloc_split_requests_duration_s: u64,
    pub failed_split_requests_count: u64,
    pub refused_split_requests_count: u64,
    pub refused_split_requests_bytes: u128,
    pub refused_split_requests_duration_s: u64,

    pub delayed_requests_count: u64,
    pub tt_delay_time_s: u64,
    pub alloc_delayed_requests_count: u64,
    pub refused_delayed_requests_count: u64,

    pub sim_first_ts: Option<Timestamp>,
    pub sim_last_ts: Option<Timestamp>,

    pub total_capacity_bytes: u64,
    pub mean_used_bytes: f64,
    pub max_used_bytes: u64,

    pub nodes: Vec<NodeStats>,
}

impl Metrics {
    pub fn sim_duration_s(&self) -> u64 {
        match (self.sim_first_ts, self.sim_last_ts) {
            (Some(a), Some(b)) => b.since(a).0,
            _ => 0,
        }
    }
    pub fn mean_utilisation(&self) -> f64 {
        ratio(self.mean_used_bytes, self.total_capacity_bytes)
    }
    pub fn max_utilisation(&self) -> f64 {
        ratio(self.max_used_bytes as f64, self.total_capacity_bytes)
    }
}

fn ratio(v: f64, cap: u64) -> f64 {
    if cap == 0 {
        0.0
    } else {
        v / cap as f64
    }
}

/// How many time slices the report's charts keep.
pub const CHART_SLICES: usize = 1000;

/// Computes the metrics of a run, streams its time series to `sink` and
/// returns a downsampled copy of the global series for charts.
pub fn compute(
    system: &System,
    config: &SchedulerConfig,
    workload: &Workload,
    rec: &Record,
    sink: &mut dyn SeriesSink,
) -> io::Result<(Metrics, Downsampled)> {
    let mut m = totals(system, config, workload, rec);
    let mut chart = Downsampled::new(
        m.sim_first_ts.unwrap_or_default(),
        m.sim_last_ts.unwrap_or_default(),
        CHART_SLICES,
    );
    sweep(system, workload, rec, &mut m, &mut Tee(sink, &mut chart))?;
    chart.finish();
    Ok((m, chart))
}

fn totals(system: &System, config: &SchedulerConfig, workload: &Workload, rec: &Record) -> Metrics {
    let block = config.block_size.map(|b| b.0).filter(|b| *b > 0);
    let mut m = Metrics {
        requests_count: workload.jobs.len() as u64,
        granted_requests_count: 0,
        refused_requests_count: 0,
        failed_requests_count: 0,
        max_concurrent_allocations: 0,
        mean_concurrent_allocations: 0.0,
        registrations_count: system.nodes.len() as u64,
        split_threshold_bytes: block,
        retries_allowed: config.allow_retry,
        allocated_bytes: 0,
        deallocated_bytes: rec.deallocated_bytes,
        split_requests_count: 0,
        alloc_split_requests_count: 0,
        alloc_split_requests_bytes: 0,
        alloc_split_requests_duration_s: 0,
        failed_split_requests_count: 0,
        refused_split_requests_count: 0,
        refused_split_requests_bytes: 0,
        refused_split_requests_duration_s: 0,
        delayed_requests_count: 0,
        tt_delay_time_s: 0,
        alloc_delayed_requests_count: 0,
        refused_delayed_requests_count: 0,
        sim_first_ts: None,
        sim_last_ts: None,
        total_capacity_bytes: system.total_capacity().0,
        mean_used_bytes: 0.0,
        max_used_bytes: 0,
        nodes: Vec::new(),
    };
    for (job, o) in workload.jobs.iter().zip(&rec.outcomes) {
        let split = block.is_some_and(|b| job.capacity.0 > b);
        // Granted later than asked (retry or backfilling), or refused after
        // retrying.
        let delayed = match o.granted {
            Some((start, _)) => start > job.start,
            None => o.retries > 0,
        };
        m.split_requests_count += split as u64;
        m.delayed_requests_count += delayed as u64;
        let requested_end = job.start + job.duration;
        m.sim_first_ts = Some(m.sim_first_ts.map_or(job.start, |t| t.min(job.start)));
        let mut last = requested_end;
        match o.granted {
            Some((start, end)) => {
                m.granted_requests_count += 1;
                m.allocated_bytes += job.capacity.0 as u128;
                m.tt_delay_time_s += start.since(job.start).0;
                m.alloc_delayed_requests_count += delayed as u64;
                if split {
                    m.alloc_split_requests_count += 1;
                    m.alloc_split_requests_bytes += job.capacity.0 as u128;
                    m.alloc_split_requests_duration_s += job.duration.0;
                }
                last = last.max(end);
            }
            None => {
                m.refused_requests_count += 1;
                m.refused_delayed_requests_count += delayed as u64;
                if split {
                    m.refused_split_requests_count += 1;
                    m.refused_split_requests_bytes += job.capacity.0 as u128;
                    m.refused_split_requests_duration_s += job.duration.0;
                }
            }
        }
        m.sim_last_ts = Some(m.sim_last_ts.map_or(last, |t| t.max(last)));
    }
    m
}

/// Per-entity running state of the sweep.
#[derive(Clone, Default)]
struct Track {
    used: u64,
    count: u32,
    last_t: i64,
    used_integral: u128,
    count_integral: u128,
    max_used: u64,
    max_count: u32,
    /// The last event that touched this entity (to count an allocation
    /// with several blocks here once).
    mark: u32,
    dirty: bool,
}

impl Track {
    fn settle(&mut self, t: i64) {
        let dt = (t - self.last_t).max(0) as u128;
        self.used_integral += self.used as u128 * dt;
        self.count_integral += self.count as u128 * dt;
        self.last_t = t;
    }
    fn mean_used(&self, span: u64) -> f64 {
        if span == 0 {
            self.used as f64
        } else {
            self.used_integral as f64 / span as f64
        }
    }
    fn mean_count(&self, span: u64) -> f64 {
        if span == 0 {
            self.count as f64
        } else {
            self.count_integral as f64 / span as f64
        }
    }
}

fn sweep(
    system: &System,
    workload: &Workload,
    rec: &Record,
    m: &mut Metrics,
    sink: &mut dyn SeriesSink,
) -> io::Result<()> {
    let base = disk_bases(system);
    let disk_node: Vec<u32> = system
        .nodes
        .iter()
        .enumerate()
        .flat_map(|(n, node)| std::iter::repeat_n(n as u32, node.disks.len()))
        .collect();
    let first = m.sim_first_ts.map_or(0, |t| t.0);
    let last = m.sim_last_ts.map_or(0, |t| t.0);
    let span = (last - first).max(0) as u64;
    let fresh = Track {
        last_t: first,
        ..Track::default()
    };
    let mut disks = vec![fresh.clone(); disk_node.len()];
    let mut nodes = vec![fresh.clone(); system.nodes.len()];
    let mut global = fresh;
    let mut disk_last_alloc: Vec<Option<Timestamp>> = vec![None; disk_node.len()];
    let mut node_last_alloc: Vec<Option<Timestamp>> = vec![None; system.nodes.len()];

    // (time, 0 = end / 1 = start, request index): ends first at equal times,
    // since an allocation's window is [start, end).
    let mut events: Vec<(i64, u8, u32)> = Vec::with_capacity(2 * rec.outcomes.len());
    for (i, o) in rec.outcomes.iter().enumerate() {
        if let Some((s, e)) = o.granted {
            events.push((s.0, 1, i as u32));
            events.push((e.0, 0, i as u32));
        }
    }
    events.sort_unstable();

    let mut dirty = Dirty::default();
    let mut cur_t: Option<i64> = None;
    for (gen, &(t, kind, idx)) in events.iter().enumerate() {
        if cur_t != Some(t) {
            if let Some(ct) = cur_t {
                flush(ct, &mut global, &mut disks, &mut nodes, &mut dirty, sink)?;
            }
            cur_t = Some(t);
        }
        let gen = gen as u32 + 1;
        let o = &rec.outcomes[idx as usize];
        let start = kind == 1;
        let cap = workload.jobs[idx as usize].capacity.0;
        global.settle(t);
        if start {
            global.used += cap;
            global.count += 1;
            global.max_used = global.max_used.max(global.used);
            global.max_count = global.max_count.max(global.count);
        } else {
            global.used -= cap;
            global.count -= 1;
        }
        global.dirty = true;
        for p in &rec.placements[o.placements.0 as usize..o.placements.1 as usize] {
            let d = p.disk as usize;
            let n = disk_node[d] as usize;
            let dt = &mut disks[d];
            dt.settle(t);
            if start {
                dt.used += p.bytes;
                dt.max_used = dt.max_used.max(dt.used);
            } else {
                dt.used -= p.bytes;
            }
            if dt.mark != gen {
                dt.mark = gen;
                if start {
                    dt.count += 1;
                    dt.max_count = dt.max_count.max(dt.count);
                    disk_last_alloc[d] = Some(Timestamp(t));
                } else {
                    dt.count -= 1;
                }
            }
            if !dt.dirty {
                dt.dirty = true;
                dirty.disks.push(p.disk);
            }
            let nt = &mut nodes[n];
            if nt.mark != gen {
                nt.mark = gen;
                nt.settle(t);
                if start {
                    nt.count += 1;
                    nt.max_count = nt.max_count.max(nt.count);
                    node_last_alloc[n] = Some(Timestamp(t));
                } else {
                    nt.count -= 1;
                }
                if !nt.dirty {
                    nt.dirty = true;
                    dirty.nodes.push(n as u32);
                }
            }
        }
    }
    if let Some(ct) = cur_t {
        flush(ct, &mut global, &mut disks, &mut nodes, &mut dirty, sink)?;
    }

    global.settle(last);
    m.max_concurrent_allocations = global.max_count;
    m.mean_concurrent_allocations = global.mean_count(span);
    m.mean_used_bytes = global.mean_used(span);
    m.max_used_bytes = global.max_used;
    m.nodes = system
        .nodes
        .iter()
        .enumerate()
        .map(|(n, node)| {
            let nt = &mut nodes[n];
            nt.settle(last);
            NodeStats {
                id: n as u32,
                hostname: node.hostname.clone(),
                mean_nb_alloc: nt.mean_count(span),
                max_nb_alloc: nt.max_count,
                last_alloc_ts: node_last_alloc[n],
                disks: node
                    .disks
                    .iter()
                    .enumerate()
                    .map(|(k, disk)| {
                        let flat = (base[n] + k as u32) as usize;
                        let dt = &mut disks[flat];
                        dt.settle(last);
                        let cap = disk.capacity.0;
                        DiskStats {
                            id: k as u32,
                            capacity_bytes: cap,
                            mean_nb_alloc: dt.mean_count(span),
                            max_nb_alloc: dt.max_count,
                            last_alloc_time: disk_last_alloc[flat],
                            mean_capacity_utilisation: ratio(dt.mean_used(span), cap),
                            max_cap_utilisation: ratio(dt.max_used as f64, cap),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    Ok(())
}

/// The disks and nodes changed at the current instant.
#[derive(Default)]
struct Dirty {
    disks: Vec<u32>,
    nodes: Vec<u32>,
}

/// Emits the state after every change at time `t`.
fn flush(
    t: i64,
    global: &mut Track,
    disks: &mut [Track],
    nodes: &mut [Track],
    dirty: &mut Dirty,
    sink: &mut dyn SeriesSink,
) -> io::Result<()> {
    let ts = Timestamp(t);
    if global.dirty {
        global.dirty = false;
        sink.global(ts, global.used, global.count)?;
    }
    dirty.disks.sort_unstable();
    dirty.nodes.sort_unstable();
    for d in dirty.disks.drain(..) {
        let dt = &mut disks[d as usize];
        dt.dirty = false;
        sink.disk(ts, d, dt.used, dt.count)?;
    }
    for n in dirty.nodes.drain(..) {
        let nt = &mut nodes[n as usize];
        nt.dirty = false;
        sink.node(ts, n, nt.count)?;
    }
    Ok(())
}
