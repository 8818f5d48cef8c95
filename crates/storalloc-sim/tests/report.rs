//! `report.html` draws its charts with the dashboard's builders
//! (`storalloc-charts`, inlined) from an inline JSON data block: the data
//! agrees with the run's metrics, stays bounded, and a real browser turns
//! it into SVG charts. The browser test is skipped, with a message, when no
//! Chromium is installed (a failure under STORALLOC_REQUIRE_ALL=1).

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use storalloc_core::{Bytes, StrategyKind, System};
use storalloc_sim::report_data::GANTT_MAX_ALLOCATIONS;
use storalloc_sim::{write_comparison, RunOutput};

const DATA_OPEN: &str = "<script type=\"application/json\" id=\"report-data\">";

/// The parsed data block of a page.
fn data(html: &str) -> Value {
    let start = html.find(DATA_OPEN).expect("the page has a data block") + DATA_OPEN.len();
    let len = html[start..].find("</script>").unwrap();
    serde_json::from_str(&html[start..start + len]).expect("the data block is JSON")
}

fn max_of(points: &Value) -> u64 {
    points
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[1].as_u64().unwrap())
        .max()
        .unwrap()
}

/// Six 30 GB jobs, four overlapping, on 2 nodes x 2 disks of 100 GB.
fn small_run(dir: &Path, kind: StrategyKind) -> RunOutput {
    let w = workload(&[
        J(0, 3600, 30, 0),
        J(600, 3600, 0, 30),
        J(1200, 3600, 30, 0),
        J(1800, 3600, 30, 30),
        J(9000, 600, 30, 0),
        J(9100, 600, 30, 0),
    ]);
    let s = System::uniform(2, 2, Bytes::from_gb(100));
    run_checked(&s, &config(kind, None, false), &w, Some(dir))
}

#[test]
fn the_run_page_inlines_the_shared_charts_and_its_data() {
    let dir = tempfile::tempdir().unwrap();
    let r = small_run(dir.path(), StrategyKind::WorstFit);
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(
        html.contains(storalloc_charts::CHARTS_JS),
        "charts.js inlined"
    );
    assert!(html.contains("window.StorallocCharts"));
    assert!(html.contains("<noscript>"));
    assert!(!html.contains(" src="), "the page loads nothing");
    let d = data(&html);
    let m = &r.metrics;
    assert_eq!(m.granted_requests_count, 6);
    // One point per time slice plus the closing one; peaks survive.
    let used = d["used_bytes"].as_array().unwrap();
    assert_eq!(used.len(), r.chart.slices.len() + 1);
    assert_eq!(max_of(&d["used_bytes"]), m.max_used_bytes);
    assert_eq!(max_of(&d["used_bytes"]), 120 * Bytes::GB);
    assert_eq!(
        max_of(&d["allocations"]),
        m.max_concurrent_allocations as u64
    );
    assert_eq!(m.max_concurrent_allocations, 4);
    assert_eq!(used.last().unwrap()[1], 0, "everything ends");
    assert_eq!(d["total_capacity_bytes"], 400 * Bytes::GB);
    let labels: Vec<&str> = d["disks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["n0d0", "n0d1", "n1d0", "n1d1"]);
    let disk_max: Vec<f64> = m
        .nodes
        .iter()
        .flat_map(|n| &n.disks)
        .map(|x| x.max_cap_utilisation)
        .collect();
    let data_max: Vec<f64> = d["disks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["max_utilisation"].as_f64().unwrap())
        .collect();
    assert_eq!(data_max, disk_max);
    assert_eq!(d["nodes"].as_array().unwrap().len(), 2);
    // Worst fit spreads the four overlapping jobs over the four disks.
    let items = d["gantt"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 6);
    let mut disks: Vec<u64> = items[..4].iter().map(|i| i[1].as_u64().unwrap()).collect();
    disks.sort();
    assert_eq!(disks, [0, 1, 2, 3]);
    assert_eq!(items[0][4], 30 * Bytes::GB);
    assert_eq!(d["gantt"]["shown_allocations"], 6);
}

#[test]
fn the_gantt_is_capped_to_the_first_allocations() {
    let n = GANTT_MAX_ALLOCATIONS + 150;
    let jobs: Vec<J> = (0..n as i64).map(|i| J(i * 10, 5, 1, 0)).collect();
    let w = workload(&jobs);
    let dir = tempfile::tempdir().unwrap();
    let s = System::uniform(1, 2, Bytes::from_gb(10));
    let cfg = config(StrategyKind::WorstCase, None, false);
    storalloc_sim::replay(&s, &cfg, &w, Some(dir.path()), Default::default()).unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    let d = data(&html);
    let g = &d["gantt"];
    assert_eq!(g["granted_allocations"], n);
    assert_eq!(g["shown_allocations"], GANTT_MAX_ALLOCATIONS);
    let items = g["items"].as_array().unwrap();
    assert_eq!(items.len(), GANTT_MAX_ALLOCATIONS);
    assert_eq!(
        items.last().unwrap()[0],
        GANTT_MAX_ALLOCATIONS - 1,
        "the first ones, in order"
    );
    assert!(html.contains(&format!(
        "The first {GANTT_MAX_ALLOCATIONS} of {n} granted allocations"
    )));
    assert!(d["used_bytes"].as_array().unwrap().len() <= 1001);
}

#[test]
fn the_comparison_page_keeps_its_table_and_overlays_every_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![
        small_run(&dir.path().join("worst_fit"), StrategyKind::WorstFit),
        small_run(&dir.path().join("worst_case"), StrategyKind::WorstCase),
    ];
    write_comparison(dir.path(), &runs).unwrap();
    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    assert!(html.contains("<th>strategy</th>"));
    assert!(html.contains("<a href=\"worst_case/report.html\">worst_case</a>"));
    assert!(html.contains(storalloc_charts::CHARTS_JS));
    let d = data(&html);
    let names: Vec<&str> = d["runs"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["strategy"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["worst_fit", "worst_case"]);
    for (run, r) in d["runs"].as_array().unwrap().iter().zip(&runs) {
        assert_eq!(max_of(&run["used_bytes"]), r.metrics.max_used_bytes);
        assert_eq!(
            max_of(&run["allocations"]),
            r.metrics.max_concurrent_allocations as u64
        );
    }
}

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let paths = std::env::var_os("PATH")?;
    ["chromium", "chromium-browser", "google-chrome"]
        .iter()
        .find_map(|name| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
}

/// The DOM of `page` after its scripts ran, as headless Chromium dumps it.
fn rendered(bin: &Path, page: &Path) -> String {
    let profile = tempfile::tempdir().unwrap();
    let out_file = profile.path().join("dom.html");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!(
            "--user-data-dir={}",
            profile.path().join("p").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_file).unwrap())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("chromium did not finish rendering {}", page.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    std::fs::read_to_string(&out_file).unwrap()
}

/// The chart element `id` holds an `<svg>` of `class` in the dumped DOM.
fn drawn(dom: &str, id: &str, class: &str) -> bool {
    dom.contains(&format!(
        "<div class=\"chart\" id=\"{id}\"><svg class=\"{class}\""
    ))
}

#[test]
fn a_browser_renders_the_reports_charts_as_svg() {
    let Some(bin) = chromium() else {
        skip_or_fail("no chromium found (apt-get install chromium, or set CHROMIUM=/path)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let runs = vec![
        small_run(&dir.path().join("worst_fit"), StrategyKind::WorstFit),
        small_run(&dir.path().join("random_alloc"), StrategyKind::RandomAlloc),
    ];
    write_comparison(dir.path(), &runs).unwrap();

    let dom = rendered(&bin, &dir.path().join("worst_fit/report.html"));
    for (id, class) in [
        ("chart-used", "sc-line"),
        ("chart-allocations", "sc-line"),
        ("chart-disk-utilisation", "sc-barchart"),
        ("chart-disk-allocations", "sc-barchart"),
        ("chart-node-allocations", "sc-barchart"),
        ("chart-gantt", "sc-gantt"),
    ] {
        assert!(drawn(&dom, id, class), "{id} drawn as {class}: {dom}");
    }
    for req in 0..6 {
        assert!(
            dom.contains(&format!("data-alloc-id=\"{req}\"")),
            "request {req} in the Gantt"
        );
    }
    assert!(dom.contains(">n1d1</text>"), "disk labels drawn");

    let dom = rendered(&bin, &dir.path().join("report.html"));
    for (id, class) in [
        ("chart-used", "sc-line"),
        ("chart-allocations", "sc-line"),
        ("chart-utilisation", "sc-barchart"),
    ] {
        assert!(drawn(&dom, id, class), "{id} drawn as {class}: {dom}");
    }
    assert!(
        dom.contains(">random_alloc</text>"),
        "legend names the runs"
    );
}
