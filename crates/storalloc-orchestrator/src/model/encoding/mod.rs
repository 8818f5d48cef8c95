//! How records are written to a store: schema 2 is protobuf
//! (`storalloc.store.v2`, crates/storalloc-proto/proto/storalloc/store),
//! compact and cheap to write on the engine's hot path, with protobuf's
//! additive rules for later fields. A change that cannot be additive bumps
//! the schema, with a migration. Schema 1 was the `storalloc.v1` wire
//! messages themselves (release 0.1.0); it is read only to migrate it.

mod v2;

use super::{AllocationRecord, Command, NodeRecord};
use prost::Message;
use storalloc_proto::store::v2 as pb;

/// The schema this release writes.
pub const SCHEMA: i64 = 2;

fn decode<M: Message + Default>(bytes: &[u8]) -> Result<M, String> {
    M::decode(bytes).map_err(|e| format!("not a schema-{SCHEMA} record: {e}"))
}

pub fn encode_allocation(a: &AllocationRecord) -> Vec<u8> {
    v2::allocation(a).encode_to_vec()
}

pub fn decode_allocation(bytes: &[u8]) -> Result<AllocationRecord, String> {
    v2::allocation_back(decode::<pb::Allocation>(bytes)?)
}

pub fn encode_node(n: &NodeRecord) -> Vec<u8> {
    v2::node(n).encode_to_vec()
}

pub fn decode_node(bytes: &[u8]) -> Result<NodeRecord, String> {
    v2::node_back(decode::<pb::Node>(bytes)?)
}

pub fn encode_command(c: &Command) -> Vec<u8> {
    v2::command(c).encode_to_vec()
}

pub fn decode_command(bytes: &[u8]) -> Result<Command, String> {
    v2::command_back(decode::<pb::Command>(bytes)?)
}

/// Schema 1 (release 0.1.0): the `storalloc.v1` wire messages.
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
    use crate::model::StateName;
    use crate::store::conformance;

    #[test]
    fn every_state_round_trips() {
        for s in [
            StateName::Pending,
            StateName::Granted,
            StateName::Allocated,
            StateName::Lost,
            StateName::Refused,
            StateName::Failed,
            StateName::Ended,
            StateName::Cancelled,
        ] {
            let mut a = conformance::allocation(7, "r-7", s);
            a.request.start_unix = Some(5);
            a.request.bandwidth_gbps = Some(1.5);
            a.request.host_nqns = vec!["nqn.x".into()];
            if let Some(g) = a.state.live_grant_mut() {
                g.placements[0].attachment = Some(crate::model::Attachment {
                    kind: "nvme".into(),
                    nqn: "nqn.y".into(),
                    port: 4420,
                    ..Default::default()
                });
            }
            assert_eq!(
                decode_allocation(&encode_allocation(&a)).unwrap(),
                a,
                "{s:?}"
            );
        }
    }

    #[test]
    fn nodes_and_commands_round_trip() {
        let mut n = conformance::node(3, "n3");
        n.disks[0].position = None;
        assert_eq!(decode_node(&encode_node(&n)).unwrap(), n);
        for c in [
            conformance::allocate_cmd(1, 3, 9),
            conformance::release_cmd(2, 3, 9),
        ] {
            assert_eq!(decode_command(&encode_command(&c)).unwrap(), c);
        }
    }

    #[test]
    fn a_granted_record_without_its_grant_is_an_error_naming_it() {
        let mut bad = v2::allocation(&conformance::allocation(4, "r", StateName::Granted));
        bad.grant = None;
        let e = decode_allocation(&bad.encode_to_vec()).unwrap_err();
        assert!(e.contains("allocation 4") && e.contains("GRANTED"), "{e}");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(decode_allocation(b"\xff\xff\x01garbage").is_err());
        assert!(
            decode_allocation(b"").is_err(),
            "an empty record has no state"
        );
        assert!(decode_node(b"\x0a").is_err());
    }
}
