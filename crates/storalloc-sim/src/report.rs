//! `report.html`: one self-contained page (inline CSS and SVG, no scripts,
//! no external resources) per run, and a comparison page for `--strategy all`.

use crate::metrics::Metrics;
use crate::series::{gb, gb128, Downsampled};
use crate::summary::Summary;
use crate::svg::{bar_chart, escape, step_chart};
use std::fmt::Write as _;
use storalloc_core::Bytes;

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:960px}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}h2{margin-top:1.6em}";

fn page(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title><style>{STYLE}</style></head>\n<body>\n<h1>{}</h1>\n{body}\n</body></html>\n",
        escape(title),
        escape(title)
    )
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

fn used_gb(c: &Downsampled) -> Vec<f64> {
    c.slices
        .iter()
        .map(|s| s.0 as f64 / Bytes::GB as f64)
        .collect()
}

fn allocs(c: &Downsampled) -> Vec<f64> {
    c.slices.iter().map(|s| s.1 as f64).collect()
}

/// The report of one run.
pub fn run_page(title: &str, m: &Metrics, chart: &Downsampled) -> String {
    let mut b = String::new();
    let _ = write!(
        b,
        "<table><tr><th>metric</th><th>value</th></tr>\
<tr><td>requests</td><td>{}</td></tr><tr><td>granted</td><td>{}</td></tr>\
<tr><td>refused</td><td>{}</td></tr><tr><td>delayed (retried)</td><td>{}</td></tr>\
<tr><td>GB allocated</td><td>{}</td></tr><tr><td>total capacity (GB)</td><td>{}</td></tr>\
<tr><td>mean / max capacity utilisation</td><td>{} / {}</td></tr>\
<tr><td>mean / max concurrent allocations</td><td>{:.2} / {}</td></tr>\
<tr><td>simulated span</td><td>{} → {}</td></tr></table>",
        m.requests_count,
        m.granted_requests_count,
        m.refused_requests_count,
        m.delayed_requests_count,
        gb128(m.allocated_bytes),
        gb(m.total_capacity_bytes),
        pct(m.mean_utilisation()),
        pct(m.max_utilisation()),
        m.mean_concurrent_allocations,
        m.max_concurrent_allocations,
        m.sim_first_ts.map(|t| t.to_string()).unwrap_or_default(),
        m.sim_last_ts.map(|t| t.to_string()).unwrap_or_default(),
    );
    let _ = write!(
        b,
        "<h2>Used capacity over time</h2><p>Peak of each of {} time slices; full resolution in <code>usage.csv</code>.</p>{}",
        chart.slices.len(),
        step_chart(chart.t0, chart.t1, &[("used GB", used_gb(chart))], "used GB")
    );
    let _ = write!(
        b,
        "<h2>Concurrent allocations over time</h2>{}",
        step_chart(
            chart.t0,
            chart.t1,
            &[("allocations", allocs(chart))],
            "allocations"
        )
    );
    let mut labels = Vec::new();
    let (mut mean_u, mut max_u, mut mean_a, mut max_a) = (vec![], vec![], vec![], vec![]);
    for n in &m.nodes {
        for d in &n.disks {
            labels.push(format!("n{}d{}", n.id, d.id));
            mean_u.push(d.mean_capacity_utilisation * 100.0);
            max_u.push(d.max_cap_utilisation * 100.0);
            mean_a.push(d.mean_nb_alloc);
            max_a.push(d.max_nb_alloc as f64);
        }
    }
    let _ = write!(
        b,
        "<h2>Per-disk capacity utilisation</h2>{}",
        bar_chart(
            &labels,
            &[("mean %", mean_u), ("max %", max_u)],
            "% of capacity",
            Some(100.0)
        )
    );
    let _ = write!(
        b,
        "<h2>Per-disk concurrent allocations</h2>{}",
        bar_chart(
            &labels,
            &[("mean", mean_a), ("max", max_a)],
            "allocations",
            None
        )
    );
    let node_labels: Vec<String> = m
        .nodes
        .iter()
        .map(|n| format!("{} ({})", n.id, n.hostname))
        .collect();
    let _ = write!(
        b,
        "<h2>Per-node concurrent allocations</h2>{}",
        bar_chart(
            &node_labels,
            &[
                ("mean", m.nodes.iter().map(|n| n.mean_nb_alloc).collect()),
                (
                    "max",
                    m.nodes.iter().map(|n| n.max_nb_alloc as f64).collect()
                ),
            ],
            "allocations",
            None
        )
    );
    page(title, &b)
}

/// The comparison page of `--strategy all`.
pub fn comparison_page(title: &str, runs: &[(Summary, &Metrics, &Downsampled)]) -> String {
    let mut b = String::new();
    b.push_str(
        "<table><tr><th>strategy</th><th>requests</th><th>accepted</th><th>refused</th><th>delayed</th>\
<th>GB allocated</th><th>mean utilisation</th><th>max utilisation</th><th>max concurrent</th></tr>",
    );
    for (s, _, _) in runs {
        let _ = write!(
            b,
            "<tr><td><a href=\"{0}/report.html\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5}</td><td>{6}</td><td>{7}</td><td>{8}</td></tr>",
            escape(&s.strategy),
            s.requests,
            s.accepted,
            s.refused,
            s.delayed,
            s.allocated_gb,
            pct(s.mean_utilisation),
            pct(s.max_utilisation),
            s.max_concurrent_allocations
        );
    }
    b.push_str("</table>");
    if let Some((_, _, c0)) = runs.first() {
        let used: Vec<(&str, Vec<f64>)> = runs
            .iter()
            .map(|(s, _, c)| (s.strategy.as_str(), used_gb(c)))
            .collect();
        let _ = write!(
            b,
            "<h2>Used capacity over time</h2>{}",
            step_chart(c0.t0, c0.t1, &used, "used GB")
        );
        let al: Vec<(&str, Vec<f64>)> = runs
            .iter()
            .map(|(s, _, c)| (s.strategy.as_str(), allocs(c)))
            .collect();
        let _ = write!(
            b,
            "<h2>Concurrent allocations over time</h2>{}",
            step_chart(c0.t0, c0.t1, &al, "allocations")
        );
        let labels: Vec<String> = runs.iter().map(|(s, _, _)| s.strategy.clone()).collect();
        let _ = write!(
            b,
            "<h2>Capacity utilisation by strategy</h2>{}",
            bar_chart(
                &labels,
                &[
                    (
                        "mean %",
                        runs.iter().map(|r| r.0.mean_utilisation * 100.0).collect()
                    ),
                    (
                        "max %",
                        runs.iter().map(|r| r.0.max_utilisation * 100.0).collect()
                    ),
                ],
                "% of capacity",
                Some(100.0)
            )
        );
    }
    page(title, &b)
}
