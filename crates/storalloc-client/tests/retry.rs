//! The client against a scripted ClientService on loopback: retries while
//! the orchestrator is unreachable, always with the same request id, and
//! gives up or reports the orchestrator's own errors at once.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use storalloc_client::v1 as pb;
use storalloc_client::v1::client_service_server::{ClientService, ClientServiceServer};
use storalloc_client::{Client, ClientError, RetryPolicy};
use tokio_stream::wrappers::{ReceiverStream, TcpListenerStream};
use tonic::{Request, Response, Status};

#[derive(Default, Clone)]
struct Fake {
    submits: Arc<Mutex<Vec<String>>>,
    fail_first: Arc<Mutex<u32>>,
    gets: Arc<Mutex<u32>>,
}

#[tonic::async_trait]
impl ClientService for Fake {
    async fn submit(
        &self,
        r: Request<pb::SubmitRequest>,
    ) -> Result<Response<pb::SubmitResponse>, Status> {
        let r = r.into_inner();
        self.submits.lock().unwrap().push(r.request_id.clone());
        let mut f = self.fail_first.lock().unwrap();
        if *f > 0 {
            *f -= 1;
            return Err(Status::unavailable("connection reset"));
        }
        Ok(Response::new(pb::SubmitResponse {
            allocation: Some(pb::Allocation {
                id: 1,
                request_id: r.request_id,
                state: pb::AllocationState::Granted as i32,
                ..Default::default()
            }),
            duplicate: false,
        }))
    }
    async fn get(&self, _: Request<pb::GetRequest>) -> Result<Response<pb::Allocation>, Status> {
        *self.gets.lock().unwrap() += 1;
        Err(Status::not_found("allocation 9 does not exist"))
    }
    async fn list(
        &self,
        _: Request<pb::ListRequest>,
    ) -> Result<Response<pb::ListResponse>, Status> {
        Ok(Response::new(pb::ListResponse::default()))
    }
    async fn cancel(
        &self,
        _: Request<pb::CancelRequest>,
    ) -> Result<Response<pb::Allocation>, Status> {
        Err(Status::unimplemented("not scripted"))
    }
    type WatchStream = ReceiverStream<Result<pb::AllocationEvent, Status>>;
    async fn watch(
        &self,
        _: Request<pb::WatchRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("not scripted"))
    }
    async fn status(
        &self,
        _: Request<pb::StatusRequest>,
    ) -> Result<Response<pb::StatusResponse>, Status> {
        Ok(Response::new(pb::StatusResponse::default()))
    }
    async fn history(
        &self,
        _: Request<pb::HistoryRequest>,
    ) -> Result<Response<pb::HistoryResponse>, Status> {
        Ok(Response::new(pb::HistoryResponse::default()))
    }
}

async fn serve_on(fake: Fake, listener: tokio::net::TcpListener) {
    tokio::spawn(async move {
        tonic::transport::Server::builder()
            .add_service(ClientServiceServer::new(fake))
            .serve_with_incoming(TcpListenerStream::new(listener))
            .await
            .unwrap();
    });
}

fn quick() -> RetryPolicy {
    RetryPolicy {
        initial_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(100),
        give_up_after: Duration::from_secs(10),
    }
}

#[tokio::test]
async fn a_failed_submit_is_resent_with_the_same_request_id() {
    let fake = Fake::default();
    *fake.fail_first.lock().unwrap() = 2;
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    serve_on(fake.clone(), l).await;
    let c = Client::new(&addr.to_string(), quick()).unwrap();
    let id = storalloc_client::new_request_id();
    let r = c.submit(&id, pb::StorageRequest::default()).await.unwrap();
    assert_eq!(r.allocation.unwrap().request_id, id);
    let sent = fake.submits.lock().unwrap().clone();
    assert_eq!(sent, vec![id.clone(), id.clone(), id]);
}

#[tokio::test]
async fn waits_for_an_orchestrator_that_starts_late() {
    // Reserve a port, then start serving on it only after a while.
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr: SocketAddr = l.local_addr().unwrap();
    drop(l);
    let fake = Fake::default();
    let f2 = fake.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        let l = tokio::net::TcpListener::bind(addr).await.unwrap();
        serve_on(f2, l).await;
    });
    let c = Client::new(&addr.to_string(), quick()).unwrap();
    let r = c
        .submit("req-1", pb::StorageRequest::default())
        .await
        .unwrap();
    assert_eq!(r.allocation.unwrap().state(), pb::AllocationState::Granted);
    assert_eq!(fake.submits.lock().unwrap().as_slice(), ["req-1"]);
}

#[tokio::test]
async fn gives_up_on_an_unreachable_orchestrator_naming_it() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap().to_string();
    drop(l);
    let policy = RetryPolicy {
        give_up_after: Duration::from_millis(300),
        ..quick()
    };
    let c = Client::new(&addr, policy).unwrap();
    let err = c.status().await.unwrap_err();
    assert!(matches!(err, ClientError::Unreachable { .. }), "{err}");
    assert!(err.to_string().contains(&addr), "{err}");
}

#[tokio::test]
async fn the_orchestrators_own_errors_are_not_retried() {
    let fake = Fake::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = l.local_addr().unwrap();
    serve_on(fake.clone(), l).await;
    let c = Client::new(&addr.to_string(), quick()).unwrap();
    let err = c.get(9).await.unwrap_err();
    assert_eq!(err.code(), Some(tonic::Code::NotFound));
    assert!(
        err.to_string().contains("allocation 9 does not exist"),
        "{err}"
    );
    assert_eq!(*fake.gets.lock().unwrap(), 1);
}

#[test]
fn request_ids_are_fresh_uuid_v4s() {
    let a = storalloc_client::new_request_id();
    let b = storalloc_client::new_request_id();
    assert_ne!(a, b);
    let parsed = uuid::Uuid::parse_str(&a).unwrap();
    assert_eq!(parsed.get_version_num(), 4);
}
