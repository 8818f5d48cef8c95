//! Observability of a running orchestrator, all outside the engine: an HTTP
//! server with the dashboard (`/`), its data (`/api/state`), a live event
//! feed (`/events`, server-sent events) and Prometheus metrics
//! (`/metrics`); and a terminal view of allocations per disk. Everything is
//! read through the [`EngineHandle`] like any gRPC call, so the engine needs
//! no knowledge of it. See docs/observability.md.

mod http;
pub mod json;
mod metrics;
pub mod terminal;

pub use http::{serve_http, HttpServer};
pub use metrics::{latency_histogram, ServiceMetrics, OUTCOMES};

/// The chart builders (`window.StorallocCharts`), from `storalloc-charts`,
/// which the simulator's report inlines too.
pub use storalloc_charts::CHARTS_JS;

/// The dashboard page's template (see `http.rs` for the placeholders).
pub(crate) const DASHBOARD_HTML: &str = include_str!("assets/dashboard.html");

/// The dashboard's default address, the original's `o_visualisation_port`.
pub const DEFAULT_HTTP_ADDR: &str = "127.0.0.1:35055";
