//! `ClientService`: what job users call.

use super::handle::EngineHandle;
use crate::engine::Owner;
use std::pin::Pin;
use storalloc_proto::v1::client_service_server::ClientService;
use storalloc_proto::v1::{
    Allocation, AllocationEvent, CancelRequest, GetRequest, ListRequest, ListResponse,
    StatusRequest, StatusResponse, SubmitRequest, SubmitResponse, WatchRequest,
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

type EventStream = Pin<Box<dyn Stream<Item = Result<AllocationEvent, Status>> + Send>>;

#[tonic::async_trait]
impl ClientService for ClientApi {
    async fn submit(
        &self,
        request: Request<SubmitRequest>,
    ) -> Result<Response<SubmitResponse>, Status> {
        let started = std::time::Instant::now();
        let owner = owner(&request)?;
        let req = request.into_inner();
        let out = self.engine.try_call(move |e| e.submit(req, owner)).await?;
        if !out.duplicate {
            let secs = started.elapsed().as_secs_f64();
            self.engine.submit_latency.observe(secs);
        }
        Ok(Response::new(out))
    }

    async fn get(&self, request: Request<GetRequest>) -> Result<Response<Allocation>, Status> {
        let id = request.into_inner().allocation_id;
        Ok(Response::new(
            self.engine.try_call(move |e| e.get(id)).await?,
        ))
    }

    async fn list(&self, request: Request<ListRequest>) -> Result<Response<ListResponse>, Status> {
        let all = request.into_inner().include_finished;
        let allocations = self.engine.call(move |e| e.list(all)).await?;
        Ok(Response::new(ListResponse { allocations }))
    }

    async fn cancel(
        &self,
        request: Request<CancelRequest>,
    ) -> Result<Response<Allocation>, Status> {
        let id = request.into_inner().allocation_id;
        Ok(Response::new(
            self.engine.try_call(move |e| e.cancel(id)).await?,
        ))
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
            let finished = |ev: &AllocationEvent| {
                only.is_some()
                    && ev
                        .allocation
                        .as_ref()
                        .is_some_and(crate::engine::is_finished)
            };
            for ev in replay {
                let done = finished(&ev);
                if tx.send(Ok(ev)).await.is_err() || done {
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
                            Ok(a) => AllocationEvent {
                                seq: 0,
                                time_unix: 0,
                                allocation: Some(a),
                            },
                            Err(_) => return,
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if let Some(id) = only {
                    if ev.allocation.as_ref().map(|a| a.id) != Some(id) {
                        continue;
                    }
                }
                let done = finished(&ev);
                if tx.send(Ok(ev)).await.is_err() || done {
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
        Ok(Response::new(self.engine.call(|e| e.status()).await?))
    }
}
