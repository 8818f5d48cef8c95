//! The dashboard of a live orchestrator (real binaries on loopback) as a
//! user sees it: headless Chromium loads the page and shows the nodes and
//! allocations; a new allocation appears in the open page without a reload.
//! Skipped, with a message, when no Chromium is installed (CI installs it);
//! a failure under STORALLOC_REQUIRE_ALL=1.
//! `STORALLOC_UPDATE_SCREENSHOT=1` also refreshes docs/img/dashboard.png.

mod live_support;

use live_support::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .find_map(|name| {
        std::env::var_os("PATH").and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join(name))
                .find(|p| p.is_file())
        })
    })
}

fn browser(bin: &Path, profile: &Path) -> Command {
    let mut c = Command::new(bin);
    c.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .stdin(Stdio::null())
    .stderr(Stdio::null());
    c
}

/// One GET; the body.
fn http_get(url_host: &str, path: &str) -> String {
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(url_host).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn metric(host: &str, line_start: &str) -> Option<f64> {
    http_get(host, "/metrics")
        .lines()
        .find(|l| l.starts_with(line_start))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

fn submit(live: &Live, gb: &str, extra: &[&str]) -> u64 {
    let mut args = vec!["-s", gb, "-t", "2:00:00", "--no-wait"];
    args.extend_from_slice(extra);
    let (code, json, all) = live.client(&args);
    assert_eq!(code, 0, "{all}");
    json.unwrap()["id"].as_u64().unwrap()
}

#[test]
fn the_dashboard_shows_allocations_and_follows_new_ones_live() {
    let Some(chrome) = chromium() else {
        skip_or_fail(
            "no chromium found (apt-get install chromium, or set CHROMIUM=/path); \
             the dashboard was not tested in a browser",
        );
        return;
    };
    let mut live = Live::new(SMALL_SYSTEM, false);
    let port = free_port();
    let host = format!("127.0.0.1:{port}");
    let mut cfg = std::fs::read_to_string(&live.config).unwrap();
    cfg.push_str(&format!("http_addr: 127.0.0.1\nhttp_port: {port}\n"));
    std::fs::write(&live.config, cfg).unwrap();
    live.start_orchestrator();
    live.start_server();
    live.wait_nodes_up(1);

    let later = (chrono::Utc::now() + chrono::Duration::minutes(90))
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let now_id = submit(&live, "300", &[]);
    let later_id = submit(&live, "500", &["--start-time", &later]);
    let (code, _, all) = live.client(&["-s", "5000", "-t", "1:00:00", "--no-wait"]);
    assert_ne!(code, 0, "5000 GB cannot fit on 2 x 1000 GB: {all}");
    let url = format!("http://{host}/");

    // The page as loaded: nodes, per-disk timeline and the refusal.
    let profile = tempfile::tempdir().unwrap();
    let out = browser(&chrome, profile.path())
        .args(["--dump-dom", &url])
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(dom.contains("live1"), "hostname shown: {dom}");
    for id in [now_id, later_id] {
        assert!(
            dom.contains(&format!(
                "<g class=\"sc-item granted\" data-alloc-id=\"{id}\""
            )) || dom.contains(&format!(
                "<g class=\"sc-item allocated\" data-alloc-id=\"{id}\""
            )) || dom.contains(&format!(
                "<g class=\"sc-item reserved\" data-alloc-id=\"{id}\""
            )),
            "allocation {id} drawn in the timeline: {dom}"
        );
    }
    assert!(
        dom.contains(&format!(
            "<g class=\"sc-item reserved\" data-alloc-id=\"{later_id}\""
        )),
        "the later one is drawn as reserved: {dom}"
    );
    assert!(dom.contains("refused"), "the refusal is listed: {dom}");
    assert!(dom.contains("300 GB"), "capacity shown: {dom}");

    let shot_dir = tempfile::tempdir().unwrap();
    let shot = shot_dir.path().join("dashboard.png");
    let st = browser(&chrome, profile.path())
        .arg(format!("--screenshot={}", shot.display()))
        .args(["--window-size=1320,860", &url])
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(st.success());
    let png = std::fs::read(&shot).unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    if std::env::var_os("STORALLOC_UPDATE_SCREENSHOT").is_some() {
        let dest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/img/dashboard.png");
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        std::fs::write(&dest, &png).unwrap();
    }

    // Live: the page stays open on the event feed. Chromium's virtual time
    // waits while the feed is open, so the DOM is dumped once the
    // orchestrator stops and the feed ends.
    let mut open = browser(&chrome, profile.path())
        .args(["--dump-dom", "--virtual-time-budget=3000", &url])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while metric(&host, "storalloc_dashboard_clients ") != Some(1.0) {
        assert!(Instant::now() < deadline, "the page never opened /events");
        std::thread::sleep(Duration::from_millis(50));
    }
    // The engine publishes events before it answers, so the grant is
    // queued for the page when the client returns; a clean stop sends what
    // is queued before it closes the feed.
    let new_id = submit(&live, "42", &[]);
    live.orchestrator.as_mut().unwrap().terminate();
    let mut dom = String::new();
    open.stdout
        .take()
        .unwrap()
        .read_to_string(&mut dom)
        .unwrap();
    let _ = open.wait();
    assert!(
        dom.contains(&format!(
            "data-alloc-id=\"{new_id}\" data-state=\"granted\""
        )) || dom.contains(&format!(
            "data-alloc-id=\"{new_id}\" data-state=\"allocated\""
        )),
        "allocation {new_id} appeared in the live feed without a reload: {dom}"
    );
    assert!(dom.contains("42 GB"), "its size is shown: {dom}");
}
