//! How the engine reaches agents. The orchestrator never dials an agent: each
//! agent opens a command stream, and the engine pushes commands into it. The
//! durable outbox, not the comm, is the record of what still has to happen:
//! a command sent while a node has no stream is simply re-sent when the agent
//! reconnects.

use crate::model::Dispatch;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use storalloc_proto::v1::AgentCommand;
use tokio::sync::mpsc;

pub trait AgentComm: Send {
    /// What the agent's side of a command stream is.
    type Stream;
    /// A node's agent opened its command stream; an older stream of that
    /// node is closed.
    fn open_stream(&mut self, node: u32) -> Self::Stream;
    /// The node went DOWN or re-registered: close its stream, if any.
    fn close_stream(&mut self, node: u32);
    /// Deliver a command to its node if it has a stream; otherwise drop it
    /// (the outbox keeps it).
    fn send(&mut self, d: &Dispatch);
}

/// The real comm: one unbounded queue per connected node, drained by the
/// node's `Commands` gRPC stream.
#[derive(Debug, Default)]
pub struct ChannelComm {
    streams: HashMap<u32, mpsc::UnboundedSender<AgentCommand>>,
}

impl AgentComm for ChannelComm {
    type Stream = mpsc::UnboundedReceiver<AgentCommand>;

    fn open_stream(&mut self, node: u32) -> Self::Stream {
        let (tx, rx) = mpsc::unbounded_channel();
        // Replacing the sender drops the old one, which ends the old stream.
        self.streams.insert(node, tx);
        rx
    }

    fn close_stream(&mut self, node: u32) {
        self.streams.remove(&node);
    }

    fn send(&mut self, d: &Dispatch) {
        if let Some(tx) = self.streams.get(&d.node) {
            if tx
                .send(crate::service::convert::dispatch_to_proto(d))
                .is_err()
            {
                // The agent hung up; it re-registers and gets the outbox.
                self.streams.remove(&d.node);
            }
        }
    }
}

/// What a [`RecordingComm`] saw.
#[derive(Debug, Clone, PartialEq)]
pub enum CommEvent {
    Opened(u32),
    Closed(u32),
    Sent(Dispatch),
}

/// A fake comm for tests: records every call; clones share the record.
#[derive(Debug, Clone, Default)]
pub struct RecordingComm {
    log: Arc<Mutex<Vec<CommEvent>>>,
}

impl RecordingComm {
    pub fn new() -> RecordingComm {
        RecordingComm::default()
    }
    /// Everything recorded since the last call, oldest first.
    pub fn take(&self) -> Vec<CommEvent> {
        std::mem::take(&mut *self.log.lock().expect("comm log poisoned"))
    }
    /// Only the commands sent since the last `take`.
    pub fn take_sent(&self) -> Vec<Dispatch> {
        self.take()
            .into_iter()
            .filter_map(|e| match e {
                CommEvent::Sent(d) => Some(d),
                _ => None,
            })
            .collect()
    }
    fn push(&self, e: CommEvent) {
        self.log.lock().expect("comm log poisoned").push(e);
    }
}

impl AgentComm for RecordingComm {
    type Stream = ();
    fn open_stream(&mut self, node: u32) {
        self.push(CommEvent::Opened(node));
    }
    fn close_stream(&mut self, node: u32) {
        self.push(CommEvent::Closed(node));
    }
    fn send(&mut self, d: &Dispatch) {
        self.push(CommEvent::Sent(d.clone()));
    }
}
