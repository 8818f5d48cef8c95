//! The dashboard server of an in-process orchestrator on 127.0.0.1 with
//! random ports: `/metrics` as a Prometheus scraper parses it, `/api/state`
//! and `/` as the page loads them, `/events` as the page follows it, and
//! the terminal view.

mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};
use storalloc_orchestrator::observe::{serve_http, terminal};
use storalloc_orchestrator::Orchestrator;
use storalloc_proto::v1::*;
use support::{agent_at, client_at, options, register_request, submit_at, GB};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// One GET over HTTP/1.1; returns (status line, body).
async fn get(addr: std::net::SocketAddr, path: &str) -> (String, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(
        format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n").as_bytes(),
    )
    .await
    .unwrap();
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await.unwrap();
    let text = String::from_utf8(buf).unwrap();
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let status = head.lines().next().unwrap().to_string();
    let body = if head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked")
    {
        dechunk(body)
    } else {
        body.to_string()
    };
    (status, body)
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, rest) = s.split_once("\r\n").unwrap();
        let n = usize::from_str_radix(size.trim(), 16).unwrap();
        if n == 0 {
            return out;
        }
        out.push_str(&rest[..n]);
        s = &rest[n + 2..];
    }
}

type Samples = HashMap<String, f64>;

/// `/metrics` parsed; keys are `name{label=value,...}` with labels sorted,
/// histograms as `name_count`.
async fn scrape(addr: std::net::SocketAddr) -> (prometheus_parse::Scrape, Samples) {
    let (status, body) = get(addr, "/metrics").await;
    assert!(status.contains("200"), "{status}");
    let scrape = prometheus_parse::Scrape::parse(body.lines().map(|l| Ok(l.to_string()))).unwrap();
    let mut out = Samples::new();
    for s in &scrape.samples {
        let mut labels: Vec<String> = s.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
        labels.sort();
        let name = s.metric.trim_end_matches("_total");
        let key = format!("{name}{{{}}}", labels.join(","));
        let v = match &s.value {
            prometheus_parse::Value::Counter(v)
            | prometheus_parse::Value::Gauge(v)
            | prometheus_parse::Value::Untyped(v) => *v,
            prometheus_parse::Value::Histogram(b) => {
                out.insert(
                    format!("{name}_count"),
                    b.iter().map(|c| c.count).fold(0.0, f64::max),
                );
                continue;
            }
            _ => continue,
        };
        out.insert(key, v);
    }
    (scrape, out)
}

async fn wait_metric(
    addr: std::net::SocketAddr,
    key: &str,
    want: f64,
) -> (prometheus_parse::Scrape, Samples) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (scrape, m) = scrape(addr).await;
        if m.get(key) == Some(&want) {
            return (scrape, m);
        }
        assert!(
            Instant::now() < deadline,
            "{key} never became {want}; last scrape: {m:#?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_state_page_and_events_of_a_live_orchestrator() {
    let dir = tempfile::tempdir().unwrap();
    let orch = Orchestrator::start(options(dir.path())).await.unwrap();
    let http = serve_http("127.0.0.1:0", orch.engine()).await.unwrap();
    let web = http.addr();
    let ep = orch.endpoints();
    let mut agent = agent_at(ep.server).await;
    let mut client = client_at(ep.client).await;
    // Two simulated 1000 GB disks.
    let mut reg = register_request("dash-1");
    let node = reg.node.as_mut().unwrap();
    node.disks.push(node.disks[0].clone());
    agent.register(reg).await.unwrap();

    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let mut ids = HashMap::new();
    for (name, gb, start) in [
        ("active", 100, None),
        ("reserved", 200, Some(now + 7200)),
        ("too-big", 5000, None),
        ("cancel-me", 50, None),
    ] {
        let a = client
            .submit(submit_at(name, gb, start))
            .await
            .unwrap()
            .into_inner()
            .allocation
            .unwrap();
        ids.insert(name, a.id);
    }
    client
        .cancel(CancelRequest {
            allocation_id: ids["cancel-me"],
        })
        .await
        .unwrap();

    let (scrape, m) = wait_metric(web, "storalloc_requests{outcome=cancelled}", 1.0).await;
    assert_eq!(m["storalloc_requests{outcome=granted}"], 3.0, "{m:#?}");
    assert_eq!(m["storalloc_requests{outcome=refused}"], 1.0);
    assert_eq!(m["storalloc_requests{outcome=failed}"], 0.0);
    assert_eq!(m["storalloc_requests{outcome=ended}"], 0.0);
    assert_eq!(m["storalloc_decision_latency_seconds_count"], 4.0);
    assert_eq!(m["storalloc_nodes{state=up}"], 1.0);
    assert_eq!(m["storalloc_nodes{state=down}"], 0.0);
    assert_eq!(m["storalloc_allocations{state=active}"], 1.0);
    assert_eq!(m["storalloc_allocations{state=reserved}"], 1.0);
    let per_disk = |metric: &str| -> f64 {
        (0..2)
            .map(|d| m[&format!("{metric}{{disk={d},hostname=dash-1,node=0}}")])
            .sum()
    };
    assert_eq!(per_disk("storalloc_disk_used_bytes"), (100 * GB) as f64);
    assert_eq!(per_disk("storalloc_disk_free_bytes"), (1900 * GB) as f64);
    assert_eq!(
        per_disk("storalloc_disk_capacity_bytes"),
        (2000 * GB) as f64
    );
    let types: HashMap<&str, &str> = scrape
        .docs
        .keys()
        .map(|k| (k.as_str(), "documented"))
        .collect();
    for name in [
        "storalloc_requests",
        "storalloc_decision_latency_seconds",
        "storalloc_disk_used_bytes",
        "storalloc_nodes",
        "storalloc_allocations",
    ] {
        assert!(types.contains_key(name), "{name} has no HELP: {types:?}");
    }

    let (status, body) = get(web, "/api/state").await;
    assert!(status.contains("200"), "{status}");
    let state: serde_json::Value = serde_json::from_str(&body).unwrap();
    let state_of = |id: u64| {
        state["allocations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["id"] == id)
            .map(|a| a["state"].as_str().unwrap().to_string())
    };
    assert_eq!(state_of(ids["active"]).as_deref(), Some("granted"));
    assert_eq!(state_of(ids["reserved"]).as_deref(), Some("granted"));
    assert_eq!(state_of(ids["too-big"]).as_deref(), Some("refused"));
    assert_eq!(state_of(ids["cancel-me"]).as_deref(), Some("cancelled"));
    assert_eq!(state["nodes"][0]["hostname"], "dash-1");
    assert_eq!(state["nodes"][0]["disks"].as_array().unwrap().len(), 2);

    let (status, page) = get(web, "/").await;
    assert!(status.contains("200"), "{status}");
    assert!(page.contains("window.StorallocCharts") || page.contains("root.StorallocCharts"));
    assert!(
        page.contains("\"hostname\":\"dash-1\""),
        "initial state embedded"
    );
    assert!(!page.contains("/*INITIAL_STATE*/"));

    // Follow /events as the page does, then make a new allocation.
    let mut sse = TcpStream::connect(web).await.unwrap();
    sse.write_all(b"GET /events HTTP/1.1\r\nHost: test\r\nAccept: text/event-stream\r\n\r\n")
        .await
        .unwrap();
    wait_metric(web, "storalloc_dashboard_clients{}", 1.0).await;
    let new = client
        .submit(submit_at("live", 10, None))
        .await
        .unwrap()
        .into_inner()
        .allocation
        .unwrap();
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let needle = format!("\"id\":{}", new.id);
    while !(seen.contains("event: allocation") && seen.contains(&needle)) {
        let mut buf = [0u8; 4096];
        let n = tokio::time::timeout_at(deadline.into(), sse.read(&mut buf))
            .await
            .unwrap_or_else(|_| panic!("no event for allocation {} in: {seen}", new.id))
            .unwrap();
        assert!(n > 0, "the event stream ended: {seen}");
        seen.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(seen.contains("text/event-stream"));
    drop(sse);
    wait_metric(web, "storalloc_dashboard_clients{}", 0.0).await;
    wait_metric(web, "storalloc_requests{outcome=granted}", 4.0).await;

    let status = orch
        .engine()
        .call(|e| storalloc_orchestrator::service::status_to_proto(&e.status()))
        .await
        .unwrap();
    let view = terminal::render(&status);
    assert!(view.contains("node 0 dash-1 (up)"), "{view}");
    assert!(
        view.contains(&format!("#{} 100GB granted", ids["active"])),
        "{view}"
    );
    assert!(
        view.contains(&format!("#{} 200GB reserved", ids["reserved"])),
        "{view}"
    );
    assert!(!view.contains(&format!("#{} ", ids["cancel-me"])), "{view}");

    http.stop().await;
    orch.stop().await.unwrap();
}
