//! `report.html`: one self-contained page per run, and a comparison page
//! for `--strategy all`. The charts are drawn in the browser by the same
//! builders as the orchestrator's live dashboard (`storalloc-charts`,
//! inlined), from the run's data in an inline JSON block
//! ([`crate::report_data`]); the page loads nothing.

use crate::metrics::Metrics;
use crate::report_data::{self, Gantt};
use crate::series::{gb, gb128, Downsampled};
use crate::summary::Summary;
use serde_json::Value;
use std::fmt::Write as _;
use storalloc_charts::{script_json, CHARTS_JS};

const STYLE: &str = "body{font-family:sans-serif;margin:2em;max-width:960px}\
table{border-collapse:collapse;margin:1em 0}td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
th{background:#f4f4f4}td:first-child,th:first-child{text-align:left}h2{margin-top:1.6em}\
.chart{overflow-x:auto}";

const NOSCRIPT: &str = "<noscript><p><strong>The charts need JavaScript</strong> \
(inlined in this file; nothing is loaded). The figures are in the tables, \
and the full time series in <code>usage.csv</code>, <code>disks.csv</code> and \
<code>nodes.csv</code>.</p></noscript>";

/// Shared by both pages: parses the data block and offers `put`.
const RENDER_PRELUDE: &str = r#"var C = window.StorallocCharts;
document.getElementById("charts-css").textContent = C.css;
var D = JSON.parse(document.getElementById("report-data").textContent);
function put(id, svg) { var e = document.getElementById(id); if (e) e.innerHTML = svg; }
// Month-day and time: short enough for the axes; the year is in the table.
function utc(t) { return new Date(t * 1000).toISOString().slice(5, 16).replace("T", " "); }
function pct(v) { return Math.round(v) + "%"; }
"#;

const RENDER_RUN: &str = r##"var W = 900;
put("chart-used", C.lineChart([{name: "used", points: D.used_bytes}],
  {width: W, step: true, fmtX: utc, fmtY: C.fmtBytes}));
put("chart-allocations", C.lineChart([{name: "allocations", points: D.allocations}],
  {width: W, step: true, fmtX: utc}));
var disks = D.disks.map(function (d) { return d.label; });
put("chart-disk-utilisation", C.barChart(disks, [
  {name: "mean %", values: D.disks.map(function (d) { return d.mean_utilisation * 100; })},
  {name: "max %", values: D.disks.map(function (d) { return d.max_utilisation * 100; })}],
  {width: W, yMax: 100, fmtY: pct}));
put("chart-disk-allocations", C.barChart(disks, [
  {name: "mean", values: D.disks.map(function (d) { return d.mean_allocations; })},
  {name: "max", values: D.disks.map(function (d) { return d.max_allocations; })}], {width: W}));
put("chart-node-allocations", C.barChart(D.nodes.map(function (n) { return n.label; }), [
  {name: "mean", values: D.nodes.map(function (n) { return n.mean_allocations; })},
  {name: "max", values: D.nodes.map(function (n) { return n.max_allocations; })}], {width: W}));
var g = D.gantt, t0 = Infinity, t1 = -Infinity;
var items = g.items.map(function (it) {
  t0 = Math.min(t0, it[2]); t1 = Math.max(t1, it[3]);
  return {row: it[1], start: it[2], end: it[3], id: it[0], label: "#" + it[0],
    title: "request " + it[0] + ": " + C.fmtBytes(it[4]) + ", " + utc(it[2]) + " to " + utc(it[3])};
});
if (items.length) {
  put("chart-gantt", C.gantt(D.disks.map(function (d, i) { return {key: i, label: d.label}; }), items,
    {t0: t0, t1: t1, width: W, fmtTime: utc}));
}
"##;

const RENDER_COMPARISON: &str = r#"var W = 900;
function each(key) { return D.runs.map(function (r) { return {name: r.strategy, points: r[key]}; }); }
put("chart-used", C.lineChart(each("used_bytes"), {width: W, step: true, legend: true, fmtX: utc, fmtY: C.fmtBytes}));
put("chart-allocations", C.lineChart(each("allocations"), {width: W, step: true, legend: true, fmtX: utc}));
put("chart-utilisation", C.barChart(D.runs.map(function (r) { return r.strategy; }), [
  {name: "mean %", values: D.runs.map(function (r) { return r.mean_utilisation * 100; })},
  {name: "max %", values: D.runs.map(function (r) { return r.max_utilisation * 100; })}],
  {width: W, yMax: 100, fmtY: pct}));
"#;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(title: &str, body: &str, data: &Value, render: &str) -> String {
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t}</title>\
<style>{STYLE}</style><style id=\"charts-css\"></style></head>\n<body>\n<h1>{t}</h1>\n{NOSCRIPT}\n{body}\n\
<script type=\"application/json\" id=\"report-data\">{data}</script>\n\
<script>\n{CHARTS_JS}</script>\n<script>\n(function () {{\n\"use strict\";\n{RENDER_PRELUDE}{render}}})();\n</script>\n\
</body></html>\n",
        t = escape(title),
        data = script_json(&data.to_string()),
    )
}

fn chart(b: &mut String, id: &str, heading: &str, note: &str) {
    let _ = write!(
        b,
        "<h2>{heading}</h2>{note}<div class=\"chart\" id=\"{id}\"></div>"
    );
}

fn pct(v: f64) -> String {
    format!("{:.1}%", v * 100.0)
}

/// The report of one run.
pub fn run_page(title: &str, m: &Metrics, series: &Downsampled, gantt: &Gantt) -> String {
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
    let slices = format!(
        "<p>Peak of each of {} time slices; full resolution in <code>usage.csv</code>.</p>",
        series.slices.len()
    );
    usage_charts(&mut b, &slices);
    chart(
        &mut b,
        "chart-disk-utilisation",
        "Per-disk capacity utilisation",
        "",
    );
    chart(
        &mut b,
        "chart-disk-allocations",
        "Per-disk concurrent allocations",
        "",
    );
    chart(
        &mut b,
        "chart-node-allocations",
        "Per-node concurrent allocations",
        "",
    );
    let shown = if gantt.shown < gantt.granted {
        format!(
            "<p>The first {} of {} granted allocations, one bar per block on each disk.</p>",
            gantt.shown, gantt.granted
        )
    } else {
        format!(
            "<p>All {} granted allocations, one bar per block on each disk.</p>",
            gantt.granted
        )
    };
    chart(&mut b, "chart-gantt", "Allocations per disk", &shown);
    page(title, &b, &report_data::run(m, series, gantt), RENDER_RUN)
}

/// The two charts both pages open with; `used_note` goes under the first.
fn usage_charts(b: &mut String, used_note: &str) {
    chart(b, "chart-used", "Used capacity over time", used_note);
    chart(
        b,
        "chart-allocations",
        "Concurrent allocations over time",
        "",
    );
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
            "<tr><td><a href=\"{0}/report.html\">{0}</a></td><td>{1}</td><td>{2}</td><td>{3}</td><td>{4}</td><td>{5:.1}</td><td>{6}</td><td>{7}</td><td>{8}</td></tr>",
            escape(&s.strategy),
            s.requests,
            s.accepted,
            s.refused,
            s.delayed,
            // One decimal: exact bytes are in output.yml and comparison.csv.
            s.allocated_gb,
            pct(s.mean_utilisation),
            pct(s.max_utilisation),
            s.max_concurrent_allocations
        );
    }
    b.push_str("</table>");
    usage_charts(&mut b, "");
    chart(
        &mut b,
        "chart-utilisation",
        "Capacity utilisation by strategy",
        "",
    );
    page(title, &b, &report_data::comparison(runs), RENDER_COMPARISON)
}
