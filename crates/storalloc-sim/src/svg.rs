//! Inline SVG charts, drawn here so the report needs no JavaScript and no
//! network: a step-line chart over time and a grouped bar chart.

use std::fmt::Write as _;
use storalloc_core::Timestamp;

pub const PALETTE: [&str; 8] = [
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2", "#17becf",
];

const W: f64 = 880.0;
const H: f64 = 300.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 20.0;
const BOTTOM: f64 = 50.0;

pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A readable tick value.
fn fmt_tick(v: f64) -> String {
    if v.abs() >= 100.0 || v == v.trunc() {
        format!("{v:.0}")
    } else if v.abs() >= 1.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.3}")
    }
}

/// A "nice" upper bound for an axis.
fn nice_max(v: f64) -> f64 {
    if v <= 0.0 || !v.is_finite() {
        return 1.0;
    }
    let mag = 10f64.powf(v.log10().floor());
    for m in [1.0, 2.0, 2.5, 5.0, 10.0] {
        if m * mag >= v {
            return m * mag;
        }
    }
    10.0 * mag
}

fn legend(out: &mut String, names: &[&str]) {
    if names.len() < 2 {
        return;
    }
    let mut x = LEFT;
    for (i, n) in names.iter().enumerate() {
        let _ = write!(
            out,
            r#"<rect x="{x:.0}" y="4" width="10" height="10" fill="{}"/><text x="{:.0}" y="13" font-size="11">{}</text>"#,
            PALETTE[i % PALETTE.len()],
            x + 14.0,
            escape(n)
        );
        x += 24.0 + 7.0 * n.len() as f64;
    }
}

fn y_axis(out: &mut String, ymax: f64, label: &str) {
    let ph = H - TOP - BOTTOM;
    for k in 0..=4 {
        let v = ymax * k as f64 / 4.0;
        let y = TOP + ph - ph * k as f64 / 4.0;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{:.0}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{:.0}" y="{:.1}" font-size="11" text-anchor="end">{}</text>"##,
            W - RIGHT,
            LEFT - 6.0,
            y + 4.0,
            fmt_tick(v)
        );
    }
    let _ = write!(
        out,
        r#"<text x="14" y="{:.0}" font-size="12" transform="rotate(-90 14 {:.0})" text-anchor="middle">{}</text>"#,
        TOP + ph / 2.0,
        TOP + ph / 2.0,
        escape(label)
    );
}

fn series_max(series: &[(&str, Vec<f64>)]) -> f64 {
    nice_max(
        series
            .iter()
            .flat_map(|s| s.1.iter().copied())
            .fold(0.0, f64::max),
    )
}

/// The opening tag and the y axis.
fn open_svg(ymax: f64, y_label: &str) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {W} {H}" width="{W}" height="{H}" role="img">"#
    );
    y_axis(&mut out, ymax, y_label);
    out
}

/// Step lines over `[t0, t1]`: each series holds `values[i]` over the i-th
/// of its equal time slices.
pub fn step_chart(t0: i64, t1: i64, series: &[(&str, Vec<f64>)], y_label: &str) -> String {
    let ymax = series_max(series);
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let mut out = open_svg(ymax, y_label);
    let span = (t1 - t0).max(1);
    for k in 0..=4 {
        let x = LEFT + pw * k as f64 / 4.0;
        let t = Timestamp(t0 + span * k / 4);
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{:.0}" font-size="11" text-anchor="middle">{t}</text>"#,
            H - BOTTOM + 18.0
        );
    }
    for (i, (_, values)) in series.iter().enumerate() {
        if values.is_empty() {
            continue;
        }
        let n = values.len() as f64;
        let mut d = String::with_capacity(values.len() * 24);
        for (k, v) in values.iter().enumerate() {
            let x0 = LEFT + pw * k as f64 / n;
            let x1 = LEFT + pw * (k + 1) as f64 / n;
            let y = TOP + ph - ph * (v / ymax);
            let _ = write!(
                d,
                "{}{x0:.1},{y:.1}L{x1:.1},{y:.1}",
                if k == 0 { "M" } else { "L" }
            );
        }
        let _ = write!(
            out,
            r#"<path d="{d}" fill="none" stroke="{}" stroke-width="1.5"/>"#,
            PALETTE[i % PALETTE.len()]
        );
    }
    let names: Vec<&str> = series.iter().map(|s| s.0).collect();
    legend(&mut out, &names);
    out.push_str("</svg>");
    out
}

/// Grouped bars: one group per label, one bar per series.
pub fn bar_chart(
    labels: &[String],
    series: &[(&str, Vec<f64>)],
    y_label: &str,
    ymax: Option<f64>,
) -> String {
    let ymax = ymax.unwrap_or_else(|| series_max(series));
    let pw = W - LEFT - RIGHT;
    let ph = H - TOP - BOTTOM;
    let mut out = open_svg(ymax, y_label);
    let groups = labels.len().max(1) as f64;
    let gw = pw / groups;
    let bw = (gw * 0.8) / series.len().max(1) as f64;
    let label_every = (labels.len() / 40).max(1);
    for (g, label) in labels.iter().enumerate() {
        let gx = LEFT + gw * g as f64 + gw * 0.1;
        for (i, (name, values)) in series.iter().enumerate() {
            let v = values.get(g).copied().unwrap_or(0.0).min(ymax);
            let h = ph * v / ymax;
            let _ = write!(
                out,
                r#"<rect x="{:.2}" y="{:.1}" width="{:.2}" height="{h:.1}" fill="{}"><title>{} {}: {}</title></rect>"#,
                gx + bw * i as f64,
                TOP + ph - h,
                bw.max(0.5),
                PALETTE[i % PALETTE.len()],
                escape(label),
                escape(name),
                fmt_tick(values.get(g).copied().unwrap_or(0.0))
            );
        }
        if g % label_every == 0 {
            let _ = write!(
                out,
                r#"<text x="{:.1}" y="{:.0}" font-size="10" text-anchor="end" transform="rotate(-40 {:.1} {:.0})">{}</text>"#,
                gx + gw * 0.4,
                H - BOTTOM + 14.0,
                gx + gw * 0.4,
                H - BOTTOM + 14.0,
                escape(label)
            );
        }
    }
    let names: Vec<&str> = series.iter().map(|s| s.0).collect();
    legend(&mut out, &names);
    out.push_str("</svg>");
    out
}
