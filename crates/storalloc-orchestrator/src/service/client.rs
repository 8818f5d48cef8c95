//! `ClientService`: what job users call.

use super::convert::{self, allocation_to_proto};
use super::handle::EngineHandle;
use crate::engine::{Event, Owner};
use crate::store::HistoryQuery;
use std::pin::Pin;
use storalloc_proto::v1::client_service_server::ClientService;
use storalloc_proto::v1::{
    Allocation, AllocationEvent, CancelRequest, GetRequest, HistoryRequest, HistoryResponse,
    ListRequest, ListResponse, StatusRequest, StatusResponse, SubmitRequest, SubmitResponse,
    WatchRequest,
};
use tokio::sync::{broadcast, mpsc};
use tokio_stream::wrappers::ReceiverStream;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

/// Metadata keys a client may use to say who it acts for (no
/// authentication in v1: recorded, and passed to agents for ownership).
pub const UID_HEADER: &str = "x-storalloc-uid";
pub const GID_HEADER: &str = "x-storalloc-gid";

pub struct ClientApi {
    pub(super) engine: EngineHandle,
}

fn owner<T>(req: &Request<T>) -> Result<Owner, Status> {
    let get = |key: &str| -> Result<u32, Status> {
        match req.metadata().get(key) {
            None => Ok(0),
            Some(v) => v
                .to_str()
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| {
                    Status::invalid_argument(format!(
                        "metadata {key} must be a numeric id (got {v:?})"
                    ))
                }),
        }
    };
    Ok(Owner {
        uid: get(UID_HEADER)?,
        gid: get(GID_HEADER)?,
    })
}

/// A watch event on the wire; clock alerts are not allocation events.
pub fn event_to_proto(ev: &Event) -> Option<AllocationEvent> {
    match ev {
        Event::Allocation {
            seq,
            time_unix,
            record,
        } => Some(AllocationEvent {
            seq: *seq,
            time_unix: *time_unix,
            allocation: Some(allocation_to_proto(record)),
        }),
        Event::Clock { .. } => None,
    }
}

type EventStream = Pin<Box<dyn Stream<Item = Result<AllocationEvent, Status>> + Send>>;

#[tonic::async_trait]
impl ClientService for ClientApi {
    async fn submit(
        &self,
        request: Request<SubmitRequest>,
    ) -> Result<Response<SubmitResponse>, Status> {
        let started = std::time::Instant::now();
        let owner = owner(&request)?;
        let (id, req) =
            convert::submission(request.into_inner()).map_err(Status::invalid_argument)?;
        let (a, duplicate) = self
            .engine
            .try_call(move |e| e.submit(id, req, owner))
            .await?;
        if !duplicate {
            let secs = started.elapsed().as_secs_f64();
            self.engine.submit_latency.observe(secs);
        }
        Ok(Response::new(SubmitResponse {
            allocation: Some(allocation_to_proto(&a)),
            duplicate,
        }))
    }

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Allocation>, Status> {
        let id = request.into_inner().allocation_id;
        let a = self.engine.try_call(move |e| e.get(id)).await?;
        Ok(Response::new(allocation_to_proto(&a)))
    }

    async fn list(&self, request: Request<ListRequest>) -> Result<Response<ListResponse>, Status> {
        let all = request.into_inner().include_finished;
        let allocations = self
            .engine
            .call(move |e| e.list(all).iter().map(allocation_to_proto).collect())
            .await?;
        Ok(Response::new(ListResponse { allocations }))
    }

    async fn cancel(
        &self,
        request: Request<CancelRequest>,
    ) -> Result<Response<Allocation>, Status> {
        let id = request.into_inner().allocation_id;
        let a = self.engine.try_call(move |e| e.cancel(id)).await?;
        Ok(Response::new(allocation_to_proto(&a)))
    }

    type WatchStream = EventStream;

    async fn watch(
        &self,
        request: Request<WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        let only = request.into_inner().allocation_id;
        let (replay, mut rx) = self.engine.try_call(move |e| e.watch(only)).await?;
        let (tx, out) = mpsc::channel(256);
        let engine = self.engine.clone();
        tokio::spawn(async move {
            let finished =
                |ev: &Event| only.is_some() && ev.allocation().is_some_and(|a| a.is_finished());
            for ev in replay {
                let done = finished(&ev);
                let Some(p) = event_to_proto(&ev) else {
                    continue;
                };
                if tx.send(Ok(p)).await.is_err() || done {
                    return;
                }
            }
            loop {
                let ev = tokio::select! {
                    _ = tx.closed() => return,
                    r = rx.recv() => r,
                };
                let ev = match ev {
                    Ok(ev) => ev,
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "a watcher fell behind");
                        // One allocation: its current state replaces what was missed.
                        let Some(id) = only else { continue };
                        match engine.try_call(move |e| e.get(id)).await {
                            Ok(a) => Event::Allocation {
                                seq: 0,
                                time_unix: 0,
                                record: std::sync::Arc::new(a),
                            },
                            Err(_) => return,
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if let Some(id) = only {
                    if ev.allocation().map(|a| a.id) != Some(id) {
                        continue;
                    }
                }
                let done = finished(&ev);
                let Some(p) = event_to_proto(&ev) else {
                    continue;
                };
                if tx.send(Ok(p)).await.is_err() || done {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(out))))
    }

    async fn status(
        &self,
        _request: Request<StatusRequest>,
    ) -> Result<Response<StatusResponse>, Status> {
        Ok(Response::new(
            self.engine.call(|e| status_to_proto(&e.status())).await?,
        ))
    }

    async fn history(
        &self,
        request: Request<HistoryRequest>,
    ) -> Result<Response<HistoryResponse>, Status> {
        let r = request.into_inner();
        let q = HistoryQuery {
            uid: r.uid,
            since_unix: r.since_unix,
            after_id: r.after_id,
            limit: if r.limit == 0 {
                500
            } else {
                r.limit.min(5000) as usize
            },
        };
        let page = self
            .engine
            .call(move |e| e.history(&q))
            .await?
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(HistoryResponse {
            allocations: page.allocations.iter().map(allocation_to_proto).collect(),
            next_after_id: page.next_after_id.unwrap_or(0),
        }))
    }
}

pub fn status_to_proto(s: &crate::engine::StatusView) -> StatusResponse {
    StatusResponse {
        nodes: s.nodes.iter().map(convert::node_info).collect(),
        allocations: s.allocations.iter().map(allocation_to_proto).collect(),
        strategy: s.strategy.clone(),
        now_unix: s.now_unix,
    }
}
