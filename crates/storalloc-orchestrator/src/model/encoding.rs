//! How records are written to a store: JSON with a format version, so a
//! newer storalloc can migrate what an older one wrote and an older one
//! refuses what it cannot read. Format 1 was the `storalloc.v1` protobuf
//! encoding of the wire messages (release 0.1.0); it is read only to
//! migrate it.

use super::{AllocationRecord, Command, NodeRecord};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The format this release writes.
pub const FORMAT: u32 = 2;

#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    v: u32,
    #[serde(flatten)]
    body: &'a T,
}

#[derive(Deserialize)]
struct Version {
    v: u32,
}

#[derive(Deserialize)]
struct EnvelopeIn<T> {
    #[serde(flatten)]
    body: T,
}

fn encode<T: Serialize>(body: &T) -> Vec<u8> {
    serde_json::to_vec(&EnvelopeOut { v: FORMAT, body }).expect("records serialize")
}

fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, String> {
    let v: Version =
        serde_json::from_slice(bytes).map_err(|e| format!("not a format-{FORMAT} record: {e}"))?;
    if v.v > FORMAT {
        return Err(format!(
            "written in format {} by a newer storalloc (this one reads up to {FORMAT})",
            v.v
        ));
    }
    let e: EnvelopeIn<T> = serde_json::from_slice(bytes).map_err(|e| e.to_string())?;
    Ok(e.body)
}

pub fn encode_allocation(a: &AllocationRecord) -> Vec<u8> {
    encode(a)
}

pub fn decode_allocation(bytes: &[u8]) -> Result<AllocationRecord, String> {
    decode(bytes)
}

pub fn encode_node(n: &NodeRecord) -> Vec<u8> {
    encode(n)
}

pub fn decode_node(bytes: &[u8]) -> Result<NodeRecord, String> {
    decode(bytes)
}

pub fn encode_command(c: &Command) -> Vec<u8> {
    encode(c)
}

pub fn decode_command(bytes: &[u8]) -> Result<Command, String> {
    decode(bytes)
}

/// Format 1 (release 0.1.0): protobuf wire messages.
pub mod v1 {
    use crate::model::{AllocationRecord, Command, NodeRecord};
    use crate::service::convert;
    use prost::Message;
    use storalloc_proto::v1 as pb;

    pub fn decode_allocation(bytes: &[u8]) -> Result<AllocationRecord, String> {
        let a = pb::Allocation::decode(bytes).map_err(|e| e.to_string())?;
        convert::allocation_from_stored_v1(a)
    }

    pub fn decode_node(id: u32, drained: bool, bytes: &[u8]) -> Result<NodeRecord, String> {
        let d = pb::NodeDescription::decode(bytes).map_err(|e| e.to_string())?;
        Ok(convert::node_from_stored_v1(id, drained, d))
    }

    pub fn decode_command(node: u32, bytes: &[u8]) -> Result<Command, String> {
        let c = pb::AgentCommand::decode(bytes).map_err(|e| e.to_string())?;
        convert::command_from_stored_v1(node, c)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AllocState, Owner, StorageRequest};

    fn record() -> AllocationRecord {
        AllocationRecord {
            id: 7,
            request_id: "r-7".into(),
            owner: Owner {
                uid: 1000,
                gid: 100,
            },
            request: StorageRequest {
                capacity_bytes: 5,
                duration_s: 60,
                ..Default::default()
            },
            submitted_unix: 10,
            state: AllocState::Refused { retries: 2 },
            explanation: "no".into(),
            degraded: false,
            history: vec![],
        }
    }

    #[test]
    fn records_round_trip_and_carry_their_format() {
        let bytes = encode_allocation(&record());
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(text.starts_with("{\"v\":2,"), "{text}");
        assert_eq!(decode_allocation(&bytes).unwrap(), record());
    }

    #[test]
    fn a_newer_format_is_refused_with_its_number() {
        let text = String::from_utf8(encode_allocation(&record())).unwrap();
        let newer = text.replacen("\"v\":2", "\"v\":3", 1);
        let e = decode_allocation(newer.as_bytes()).unwrap_err();
        assert!(e.contains("format 3") && e.contains("newer"), "{e}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_allocation(b"\x00\x01garbage").is_err());
        assert!(decode_allocation(b"{\"v\":2,\"id\":1}").is_err());
    }
}
