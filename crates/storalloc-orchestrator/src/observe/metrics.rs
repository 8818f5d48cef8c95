//! Prometheus metrics. Counters of request outcomes follow the engine's
//! event stream; the decision-latency histogram is fed by the Submit handler
//! (see `EngineHandle::submit_latency`); gauges (capacity, nodes,
//! allocations) are read from a status snapshot at scrape time, so they can
//! never drift from what `storalloc status` shows.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use storalloc_proto::v1::{AllocationEvent, AllocationState, NodeState, StatusResponse};

type Labels = Vec<(&'static str, String)>;

/// The outcomes `storalloc_requests_total` counts.
pub const OUTCOMES: &[&str] = &["granted", "refused", "failed", "cancelled", "ended"];

/// A new decision-latency histogram: 100 µs to ~3 s.
pub fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.0001, 2.0, 16))
}

/// What persists between scrapes. Cheap to clone (shared state).
#[derive(Clone)]
pub struct ServiceMetrics {
    requests: Family<Labels, Counter>,
    latency: Histogram,
    /// Last seen state of every unfinished allocation, so a state is
    /// counted once however many events repeat it.
    seen: Arc<Mutex<HashMap<u64, AllocationState>>>,
    pub(crate) sse_clients: Arc<AtomicI64>,
    clock_jumps: Counter,
}

/// REFUSED, FAILED, ENDED or CANCELLED: nothing will change any more.
pub fn finished(s: AllocationState) -> bool {
    matches!(
        s,
        AllocationState::Refused
            | AllocationState::Failed
            | AllocationState::Ended
            | AllocationState::Cancelled
    )
}

fn is_grant(s: AllocationState) -> bool {
    matches!(s, AllocationState::Granted | AllocationState::Allocated)
}

impl ServiceMetrics {
    pub fn new(latency: Histogram) -> ServiceMetrics {
        let requests = Family::<Labels, Counter>::default();
        for o in OUTCOMES {
            // Present from the start at 0, so rates work from the first scrape.
            let _ = requests.get_or_create(&vec![("outcome", o.to_string())]);
        }
        ServiceMetrics {
            requests,
            latency,
            seen: Arc::default(),
            sse_clients: Arc::default(),
            clock_jumps: Counter::default(),
        }
    }

    /// Allocations that exist when watching starts: their later changes are
    /// not new requests.
    pub fn prime(&self, events: &[AllocationEvent]) {
        let mut seen = self.seen.lock().expect("metrics poisoned");
        for a in events.iter().filter_map(|e| e.allocation.as_ref()) {
            seen.insert(a.id, a.state());
        }
    }

    /// Counts the outcome an event reports, once per allocation and state.
    pub fn record(&self, ev: &AllocationEvent) {
        let Some(a) = ev.allocation.as_ref() else {
            return;
        };
        let s = a.state();
        let mut seen = self.seen.lock().expect("metrics poisoned");
        let prev = seen.get(&a.id).copied();
        if prev == Some(s) {
            return;
        }
        let count = |o: &str| {
            self.requests
                .get_or_create(&vec![("outcome", o.to_string())])
                .inc();
        };
        if is_grant(s) && !prev.is_some_and(is_grant) {
            count("granted");
        }
        match s {
            AllocationState::Refused => count("refused"),
            AllocationState::Failed => count("failed"),
            AllocationState::Cancelled => count("cancelled"),
            AllocationState::Ended => count("ended"),
            _ => {}
        }
        if finished(a.state()) {
            seen.remove(&a.id);
        } else {
            seen.insert(a.id, s);
        }
    }

    /// The text exposition of every metric, gauges from `status`.
    /// The wall clock jumped (see docs/operations.md, "Clock rules").
    pub fn clock_jump(&self) {
        self.clock_jumps.inc();
    }

    pub fn render(&self, status: &StatusResponse) -> String {
        let mut reg = Registry::default();
        reg.register(
            "storalloc_requests",
            "Requests by outcome: granted (placed), refused, failed (a server could not create the storage), cancelled, ended (time ran out)",
            self.requests.clone(),
        );
        reg.register(
            "storalloc_decision_latency_seconds",
            "Time from receiving a Submit call to answering it: the decision and its durable commit",
            self.latency.clone(),
        );
        let used = Family::<Labels, Gauge>::default();
        let free = Family::<Labels, Gauge>::default();
        let capacity = Family::<Labels, Gauge>::default();
        let nodes = Family::<Labels, Gauge>::default();
        for st in ["up", "down", "drained"] {
            let _ = nodes.get_or_create(&vec![("state", st.to_string())]);
        }
        for n in &status.nodes {
            let host = n
                .description
                .as_ref()
                .map(|d| d.hostname.clone())
                .unwrap_or_default();
            let st = match n.state() {
                NodeState::Down => "down",
                NodeState::Drained => "drained",
                _ => "up",
            };
            nodes.get_or_create(&vec![("state", st.to_string())]).inc();
            for d in &n.disks {
                let l = vec![
                    ("node", n.id.to_string()),
                    ("disk", d.disk.to_string()),
                    ("hostname", host.clone()),
                ];
                let g = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
                used.get_or_create(&l).set(g(d.used_bytes));
                free.get_or_create(&l)
                    .set(g(d.capacity_bytes.saturating_sub(d.used_bytes)));
                capacity.get_or_create(&l).set(g(d.capacity_bytes));
            }
        }
        reg.register(
            "storalloc_disk_used_bytes",
            "Capacity in use now, per disk",
            used,
        );
        reg.register(
            "storalloc_disk_free_bytes",
            "Capacity free now, per disk",
            free,
        );
        reg.register(
            "storalloc_disk_capacity_bytes",
            "Total capacity, per disk",
            capacity,
        );
        reg.register("storalloc_nodes", "Storage nodes by state", nodes);
        let allocs = Family::<Labels, Gauge>::default();
        for st in ["active", "reserved", "pending"] {
            let _ = allocs.get_or_create(&vec![("state", st.to_string())]);
        }
        for a in &status.allocations {
            let st = match a.state() {
                AllocationState::Pending => "pending",
                s if is_grant(s) && a.start_unix > status.now_unix => "reserved",
                s if is_grant(s) => "active",
                _ => continue,
            };
            allocs.get_or_create(&vec![("state", st.to_string())]).inc();
        }
        reg.register(
            "storalloc_allocations",
            "Unfinished allocations: active (started), reserved (granted, starting later), pending (waiting for a node)",
            allocs,
        );
        let lost = status
            .allocations
            .iter()
            .filter(|a| a.state() == AllocationState::Lost)
            .count();
        let g_lost = Gauge::<i64, AtomicI64>::default();
        g_lost.set(lost as i64);
        reg.register(
            "storalloc_allocations_lost",
            "Allocations whose disk vanished from its node (capacity still booked)",
            g_lost,
        );
        reg.register(
            "storalloc_clock_jumps",
            "Jumps of the wall clock seen (forward jumps hold expiries for a grace period)",
            self.clock_jumps.clone(),
        );
        let sse = Gauge::<i64, AtomicI64>::default();
        sse.set(self.sse_clients.load(Ordering::Relaxed));
        reg.register(
            "storalloc_dashboard_clients",
            "Dashboard pages following the live event feed",
            sse,
        );
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut out, &reg);
        out
    }
}
