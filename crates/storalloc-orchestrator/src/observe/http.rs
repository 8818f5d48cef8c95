//! The HTTP side: binds, routes, and the task that counts outcomes from the
//! engine's events for `/metrics`.

use super::{json, ServiceMetrics, CHARTS_JS, DASHBOARD_HTML};
use crate::engine::Event as EngineEvent;
use crate::service::client::{event_to_proto, status_to_proto};
use crate::service::EngineHandle;
use crate::OrchestratorError;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use storalloc_proto::v1::AllocationEvent;
use tokio::sync::{broadcast, mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;

#[derive(Clone)]
struct Ctx {
    engine: EngineHandle,
    metrics: ServiceMetrics,
    /// Ends the event feeds, so a graceful shutdown is not held open.
    stop: watch::Receiver<bool>,
}

/// A running dashboard/metrics server; stops when [`HttpServer::stop`] is
/// called or the engine stops.
pub struct HttpServer {
    addr: SocketAddr,
    stop_tx: watch::Sender<bool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl HttpServer {
    /// The bound address (the port is real even when 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/`, with loopback for an unspecified IP.
    pub fn url(&self) -> String {
        let mut a = self.addr;
        if a.ip().is_unspecified() {
            a.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
        }
        format!("http://{a}/")
    }

    pub async fn stop(mut self) {
        let _ = self.stop_tx.send(true);
        for t in self.tasks.drain(..) {
            if tokio::time::timeout(std::time::Duration::from_secs(2), t)
                .await
                .is_err()
            {
                tracing::warn!("the dashboard server did not stop within 2 s");
            }
        }
    }
}

/// Serves the dashboard and `/metrics` on `addr` (HOST:PORT; port 0 picks
/// one) for the orchestrator behind `engine`.
pub async fn serve_http(addr: &str, engine: EngineHandle) -> Result<HttpServer, OrchestratorError> {
    let target = tokio::net::lookup_host(addr)
        .await
        .ok()
        .and_then(|mut a| a.next())
        .ok_or_else(|| OrchestratorError::Resolve {
            host: addr.to_string(),
            error: std::io::Error::new(std::io::ErrorKind::NotFound, "expected HOST:PORT"),
        })?;
    let listener = tokio::net::TcpListener::bind(target)
        .await
        .map_err(|error| OrchestratorError::Bind {
            addr: target.to_string(),
            what: "dashboard (http_addr)",
            error,
        })?;
    let bound = listener
        .local_addr()
        .map_err(|error| OrchestratorError::Io {
            path: "dashboard listener".into(),
            error,
        })?;
    let metrics = ServiceMetrics::new(engine.submit_latency.clone());
    let (replay, rx) = engine
        .try_call(|e| e.watch(None))
        .await
        .map_err(|_| OrchestratorError::EngineStopped)?;
    let replay: Vec<AllocationEvent> = replay.iter().filter_map(event_to_proto).collect();
    metrics.prime(&replay);
    let (stop_tx, stop_rx) = watch::channel(false);
    let counter = tokio::spawn(count_outcomes(metrics.clone(), rx, stop_rx.clone()));
    let ctx = Ctx {
        engine,
        metrics,
        stop: stop_rx.clone(),
    };
    let app = Router::new()
        .route("/", get(index))
        .route("/charts.js", get(charts))
        .route("/api/state", get(api_state))
        .route("/events", get(events))
        .route("/metrics", get(metrics_text))
        .with_state(ctx);
    let mut stop = stop_rx;
    let server = tokio::spawn(async move {
        let shutdown = async move {
            let _ = stop.wait_for(|s| *s).await;
        };
        if let Err(e) = axum::serve(listener, app)
            .with_graceful_shutdown(shutdown)
            .await
        {
            tracing::warn!(error = %e, "dashboard server");
        }
    });
    tracing::info!(url = %format!("http://{bound}/"), "dashboard and /metrics listening");
    Ok(HttpServer {
        addr: bound,
        stop_tx,
        tasks: vec![server, counter],
    })
}

async fn count_outcomes(
    metrics: ServiceMetrics,
    mut rx: broadcast::Receiver<EngineEvent>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let ev = tokio::select! {
            _ = stop.wait_for(|s| *s) => return,
            ev = rx.recv() => ev,
        };
        match ev {
            Ok(EngineEvent::Clock { .. }) => metrics.clock_jump(),
            Ok(ev) => {
                if let Some(ev) = event_to_proto(&ev) {
                    metrics.record(&ev)
                }
            }
            Err(broadcast::error::RecvError::Lagged(n)) => {
                tracing::warn!(
                    missed = n,
                    "metrics fell behind the event stream; some outcomes are not counted"
                );
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

fn unavailable(e: tonic::Status) -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, e.message().to_string()).into_response()
}

async fn state_json(engine: &EngineHandle) -> Result<String, tonic::Status> {
    engine.call(json::engine_state).await
}

async fn index(State(ctx): State<Ctx>) -> Response {
    match state_json(&ctx.engine).await {
        // `</` would end the script element the state sits in.
        Ok(s) => Html(
            DASHBOARD_HTML
                .replacen("/*CHARTS_JS*/", CHARTS_JS, 1)
                .replacen("/*INITIAL_STATE*/", &s.replace("</", "<\\/"), 1),
        )
        .into_response(),
        Err(e) => unavailable(e),
    }
}

async fn charts() -> Response {
    ([(header::CONTENT_TYPE, "text/javascript")], CHARTS_JS).into_response()
}

async fn api_state(State(ctx): State<Ctx>) -> Response {
    match state_json(&ctx.engine).await {
        Ok(s) => ([(header::CONTENT_TYPE, "application/json")], s).into_response(),
        Err(e) => unavailable(e),
    }
}

async fn metrics_text(State(ctx): State<Ctx>) -> Response {
    match ctx.engine.call(|e| status_to_proto(&e.status())).await {
        Ok(status) => (
            [(
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            )],
            ctx.metrics.render(&status),
        )
            .into_response(),
        Err(e) => unavailable(e),
    }
}

/// Decrements the count of followers of `/events` when the stream drops.
struct Follower(Arc<std::sync::atomic::AtomicI64>);

impl Drop for Follower {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

fn to_sse(r: Result<EngineEvent, broadcast::error::RecvError>) -> Event {
    match r {
        Ok(EngineEvent::Clock {
            alert, time_unix, ..
        }) => Event::default().event("clock").data(
            serde_json::json!({"time_unix": time_unix, "alert": format!("{alert:?}")}).to_string(),
        ),
        Ok(ev) => {
            let ev = event_to_proto(&ev).expect("an allocation event");
            Event::default().event("allocation").data(
                serde_json::json!({
                    "seq": ev.seq,
                    "time_unix": ev.time_unix,
                    "allocation": ev.allocation.as_ref().map(json::allocation),
                })
                .to_string(),
            )
        }
        // The page reloads the state instead of the missed events.
        Err(_) => Event::default().event("lagged").data("{}"),
    }
}

/// The live feed: every allocation event, until the page goes away, the
/// engine stops or the server stops.
async fn events(
    State(ctx): State<Ctx>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, Response> {
    let mut rx = ctx
        .engine
        .call(|e| e.subscribe())
        .await
        .map_err(unavailable)?;
    ctx.metrics.sse_clients.fetch_add(1, Ordering::Relaxed);
    let follower = Follower(ctx.metrics.sse_clients.clone());
    let (tx, out) = mpsc::channel::<Result<Event, Infallible>>(64);
    let mut stop = ctx.stop.clone();
    tokio::spawn(async move {
        let _alive = follower;
        loop {
            let r = tokio::select! {
                _ = stop.wait_for(|s| *s) => return,
                _ = tx.closed() => return,
                r = rx.recv() => r,
            };
            if matches!(r, Err(broadcast::error::RecvError::Closed)) {
                return;
            }
            if tx.send(Ok(to_sse(r))).await.is_err() {
                return;
            }
        }
    });
    Ok(Sse::new(ReceiverStream::new(out)).keep_alive(KeepAlive::default()))
}
