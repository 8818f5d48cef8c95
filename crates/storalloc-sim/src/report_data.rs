//! The data `report.html` hands to the shared chart builders
//! (`storalloc-charts`), as one JSON object per page. Everything here is
//! bounded whatever the trace size: the time series are the
//! [`Downsampled`] slices, and the Gantt keeps only the first
//! [`GANTT_MAX_ALLOCATIONS`] granted allocations.

use crate::engine::Record;
use crate::metrics::Metrics;
use crate::series::Downsampled;
use crate::summary::Summary;
use serde_json::{json, Value};

/// How many granted allocations the per-disk Gantt shows at most; a
/// browser draws that many in well under a second.
pub const GANTT_MAX_ALLOCATIONS: usize = 2000;

/// The per-disk Gantt of a run: one row per disk (flat, node-major index)
/// and one bar per placed block of the first granted allocations.
#[derive(Debug, Clone, Default)]
pub struct Gantt {
    /// (request index, flat disk index, start, end, bytes on that disk).
    pub items: Vec<(usize, u32, i64, i64, u64)>,
    /// Allocations shown and granted in all.
    pub shown: usize,
    pub granted: usize,
}

impl Gantt {
    pub fn of(rec: &Record, max_allocations: usize) -> Gantt {
        let mut g = Gantt::default();
        for (i, o) in rec.outcomes.iter().enumerate() {
            let Some((start, end)) = o.granted else {
                continue;
            };
            g.granted += 1;
            if g.shown == max_allocations {
                continue;
            }
            g.shown += 1;
            let blocks = &rec.placements[o.placements.0 as usize..o.placements.1 as usize];
            for b in blocks {
                g.items.push((i, b.disk, start.0, end.0, b.bytes));
            }
        }
        g
    }
}

/// A step series as chart points: each slice's peak from its start, and
/// the final state at `t1` so the last slice has a width.
fn points(c: &Downsampled, value: impl Fn(&(u64, u32)) -> u64) -> Value {
    let n = c.slices.len() as i128;
    let span = (c.t1 - c.t0) as i128;
    let mut pts: Vec<Value> = c
        .slices
        .iter()
        .enumerate()
        .map(|(k, s)| json!([c.t0 + (span * k as i128 / n) as i64, value(s)]))
        .collect();
    pts.push(json!([c.t1, value(&c.last())]));
    Value::Array(pts)
}

fn used_bytes(c: &Downsampled) -> Value {
    points(c, |s| s.0)
}

fn allocations(c: &Downsampled) -> Value {
    points(c, |s| s.1 as u64)
}

/// The data of one run's page.
pub fn run(m: &Metrics, chart: &Downsampled, gantt: &Gantt) -> Value {
    let mut disks = Vec::new();
    for n in &m.nodes {
        for d in &n.disks {
            disks.push(json!({
                "label": format!("n{}d{}", n.id, d.id),
                "capacity_bytes": d.capacity_bytes,
                "mean_utilisation": d.mean_capacity_utilisation,
                "max_utilisation": d.max_cap_utilisation,
                "mean_allocations": d.mean_nb_alloc,
                "max_allocations": d.max_nb_alloc,
            }));
        }
    }
    let nodes: Vec<Value> = m
        .nodes
        .iter()
        .map(|n| {
            json!({
                "label": format!("{} ({})", n.id, n.hostname),
                "mean_allocations": n.mean_nb_alloc,
                "max_allocations": n.max_nb_alloc,
            })
        })
        .collect();
    let items: Vec<Value> = gantt
        .items
        .iter()
        .map(|&(req, disk, start, end, bytes)| json!([req, disk, start, end, bytes]))
        .collect();
    json!({
        "t0": chart.t0,
        "t1": chart.t1,
        "total_capacity_bytes": m.total_capacity_bytes,
        "used_bytes": used_bytes(chart),
        "allocations": allocations(chart),
        "disks": disks,
        "nodes": nodes,
        "gantt": {
            "items": items,
            "shown_allocations": gantt.shown,
            "granted_allocations": gantt.granted,
        },
    })
}

/// The data of the `--strategy all` comparison page.
pub fn comparison(runs: &[(Summary, &Metrics, &Downsampled)]) -> Value {
    let runs: Vec<Value> = runs
        .iter()
        .map(|(s, _, c)| {
            json!({
                "strategy": s.strategy,
                "used_bytes": used_bytes(c),
                "allocations": allocations(c),
                "mean_utilisation": s.mean_utilisation,
                "max_utilisation": s.max_utilisation,
            })
        })
        .collect();
    json!({ "runs": runs })
}
