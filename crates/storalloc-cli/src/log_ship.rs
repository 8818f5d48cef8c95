//! Sends this process's logs to a `storalloc log-server`: a `tracing` layer
//! that turns each event into one JSON line, tagged with the component
//! (orchestrator, server, client, …), host and pid, and hands it to a
//! background thread that writes it over TCP. Logging never waits for the
//! network: when the queue is full, lines are dropped (and counted); when
//! the server is away, the thread reconnects with backoff.

use serde_json::{json, Map, Value};
use std::collections::VecDeque;
use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::Layer;

/// Lines held while the server is slow or away.
const QUEUE: usize = 4096;
const MAX_BACKOFF: Duration = Duration::from_secs(5);

enum Msg {
    Line(String),
    /// Write what is queued, then answer.
    Flush(SyncSender<()>),
}

pub struct ShipLayer {
    tx: SyncSender<Msg>,
    component: String,
    host: String,
    pid: u32,
    dropped: Arc<AtomicU64>,
}

/// Flushes queued lines (briefly) when the process ends.
pub struct ShipGuard {
    tx: SyncSender<Msg>,
}

impl Drop for ShipGuard {
    fn drop(&mut self) {
        let (ack_tx, ack_rx) = sync_channel(1);
        if self.tx.try_send(Msg::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv_timeout(Duration::from_secs(1));
        }
    }
}

/// A layer shipping to `target` (HOST:PORT) and the guard to keep until exit.
pub fn layer(target: String, component: &str) -> (ShipLayer, ShipGuard) {
    let (tx, rx) = sync_channel(QUEUE);
    let dropped = Arc::new(AtomicU64::new(0));
    let layer = ShipLayer {
        tx: tx.clone(),
        component: component.to_string(),
        host: crate::server_host::machine_hostname().unwrap_or_else(|| "unknown".into()),
        pid: std::process::id(),
        dropped: dropped.clone(),
    };
    let tags = json!({"component": layer.component, "host": layer.host, "pid": layer.pid});
    let _ = std::thread::Builder::new()
        .name("storalloc-log-ship".into())
        .spawn(move || sender(target, rx, dropped, tags));
    (layer, ShipGuard { tx })
}

fn connect(target: &str) -> Option<TcpStream> {
    let addr = target.to_socket_addrs().ok()?.next()?;
    let s = TcpStream::connect_timeout(&addr, Duration::from_secs(1)).ok()?;
    let _ = s.set_nodelay(true);
    let _ = s.set_write_timeout(Some(Duration::from_secs(2)));
    Some(s)
}

/// Never logs through `tracing`: that would feed itself. Lines wait here
/// (at most `QUEUE`, oldest dropped first) while the server is away, and go
/// out once it is back.
fn sender(target: String, rx: Receiver<Msg>, dropped: Arc<AtomicU64>, tags: Value) {
    let mut stream: Option<TcpStream> = None;
    let mut backoff = Duration::from_millis(100);
    let mut next_try = Instant::now();
    let mut reported = 0;
    let mut pending: VecDeque<String> = VecDeque::new();
    loop {
        let first = match rx.recv_timeout(Duration::from_millis(500)) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return,
        };
        let mut acks = Vec::new();
        for m in first
            .into_iter()
            .chain(std::iter::from_fn(|| rx.try_recv().ok()))
        {
            match m {
                Msg::Line(l) => pending.push_back(l),
                Msg::Flush(a) => acks.push(a),
            }
        }
        while pending.len() > QUEUE {
            pending.pop_front();
            dropped.fetch_add(1, Ordering::Relaxed);
        }
        if stream.is_none() && !pending.is_empty() && Instant::now() >= next_try {
            stream = connect(&target);
            if stream.is_none() {
                next_try = Instant::now() + backoff;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            } else {
                backoff = Duration::from_millis(100);
            }
        }
        if let Some(s) = stream.as_mut() {
            let lost = dropped.load(Ordering::Relaxed);
            if lost > reported {
                let mut note = tags.clone();
                note["ts"] = chrono::Utc::now()
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
                    .into();
                note["level"] = "WARN".into();
                note["target"] = "storalloc::log_ship".into();
                note["message"] = format!(
                    "{} log line(s) dropped: the log server was slow or away",
                    lost - reported
                )
                .into();
                pending.push_back(note.to_string());
                reported = lost;
            }
            let mut buf = String::new();
            for l in &pending {
                buf.push_str(l);
                buf.push('\n');
            }
            if s.write_all(buf.as_bytes()).is_ok() {
                pending.clear();
            } else {
                // Resent after reconnecting (a line may then show twice).
                stream = None;
            }
        }
        for a in acks {
            let _ = a.try_send(());
        }
    }
}

struct Fields(Map<String, Value>);

impl Visit for Fields {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0.insert(
            field.name().to_string(),
            Value::String(format!("{value:?}")),
        );
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_string(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().to_string(), value.into());
    }
}

impl<S: Subscriber> Layer<S> for ShipLayer {
    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut f = Fields(Map::new());
        event.record(&mut f);
        let message =
            f.0.remove("message")
                .unwrap_or(Value::String(String::new()));
        let meta = event.metadata();
        let line = json!({
            "ts": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            "component": self.component,
            "host": self.host,
            "pid": self.pid,
            "level": meta.level().as_str(),
            "target": meta.target(),
            "message": message,
            "fields": f.0,
        })
        .to_string();
        match self.tx.try_send(Msg::Line(line)) {
            Ok(()) => {}
            Err(TrySendError::Full(_)) | Err(TrySendError::Disconnected(_)) => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }
}
