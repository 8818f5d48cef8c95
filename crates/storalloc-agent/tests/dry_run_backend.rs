//! The simulate backend against the backend conformance suite, plus what is
//! particular to it: deterministic NQNs and the original's attach command.

use std::path::Path;
use storalloc_agent::conformance::spec;
use storalloc_agent::{DryRunBackend, DryRunNode, StorageBackend};

fn node(name: &str) -> DryRunNode {
    DryRunNode {
        hostname: name.into(),
        address: "10.0.0.7".into(),
        disk_capacities: vec![1_000_000_000_000, 2_000_000_000_000],
        disk_ids: vec![],
    }
}

fn persisted(dir: &Path) -> DryRunBackend {
    DryRunBackend::open(dir, node("ault14")).unwrap()
}

storalloc_agent::backend_conformance!(simulate, persisted);

#[test]
fn nqn_is_deterministic_per_node_allocation_and_disk() {
    let (d1, d2) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = persisted(d1.path()).apply(&spec(42, 1, 10)).unwrap();
    let b = persisted(d2.path()).apply(&spec(42, 1, 10)).unwrap();
    assert_eq!(a.nqn, b.nqn, "same node, allocation and disk: same NQN");
    let other = DryRunBackend::in_memory(node("ault15"))
        .apply(&spec(42, 1, 10))
        .unwrap();
    assert_ne!(a.nqn, other.nqn, "another node gets another NQN");
    let uuid = a
        .nqn
        .strip_prefix("nqn.2014-08.org.nvmexpress:NVMf:uuid:")
        .expect("the original's NQN form");
    assert_eq!(uuid.len(), 36);
}

#[test]
fn attachment_is_nvme_tcp_on_the_node_address_and_port_4420_plus_disk() {
    let b = DryRunBackend::in_memory(node("n"));
    let a = b.apply(&spec(5, 1, 1)).unwrap();
    assert_eq!(a.kind, "nvme");
    assert_eq!(a.transport, "tcp");
    assert_eq!(a.address, "10.0.0.7");
    assert_eq!(a.port, 4421);
    assert_eq!(
        a.connect_command,
        format!("nvme connect -t tcp -a 10.0.0.7 -s 4421 -n {}", a.nqn)
    );
}

#[test]
fn a_changed_capacity_for_a_held_block_is_refused() {
    let b = DryRunBackend::in_memory(node("n"));
    b.apply(&spec(5, 0, 1)).unwrap();
    let err = b.apply(&spec(5, 0, 2)).unwrap_err();
    assert!(err.to_string().contains("already held"), "{err}");
}

#[test]
fn a_corrupt_state_file_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("simulate-ault14.json"), "{not json").unwrap();
    let err = DryRunBackend::open(dir.path(), node("ault14"))
        .err()
        .expect("corrupt file must not load");
    assert!(err.to_string().contains("simulate-ault14.json"), "{err}");
}

mod persistence {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Apply(u64, u32, u64),
        Release(u64, u32),
        Restart,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            4 => (0u64..6, 0u32..2, 1u64..4).prop_map(|(a, d, g)| Op::Apply(a, d, g)),
            2 => (0u64..6, 0u32..2).prop_map(|(a, d)| Op::Release(a, d)),
            1 => Just(Op::Restart),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: 48,
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        /// Whatever the order of applies, releases and restarts, the backend
        /// holds exactly what a plain map says, and a block keeps its NQN.
        #[test]
        fn holdings_follow_a_model_across_restarts(ops in proptest::collection::vec(op(), 1..40)) {
            let dir = tempfile::tempdir().unwrap();
            let mut b = persisted(dir.path());
            let mut model: BTreeMap<(u64, u32), (u64, String)> = BTreeMap::new();
            for o in ops {
                match o {
                    Op::Apply(a, d, g) => {
                        let r = b.apply(&spec(a, d, g));
                        match model.get(&(a, d)) {
                            Some((held, nqn)) if *held == g * 1_000_000_000 => {
                                prop_assert_eq!(&r.unwrap().nqn, nqn);
                            }
                            Some(_) => prop_assert!(r.is_err(), "a different size for a held block"),
                            None => {
                                let att = r.unwrap();
                                model.insert((a, d), (g * 1_000_000_000, att.nqn));
                            }
                        }
                    }
                    Op::Release(a, d) => {
                        b.release(a, d).unwrap();
                        model.remove(&(a, d));
                    }
                    Op::Restart => b = persisted(dir.path()),
                }
                let held: BTreeMap<_, _> = b
                    .list_held()
                    .unwrap()
                    .into_iter()
                    .map(|h| ((h.allocation_id, h.disk), (h.capacity_bytes, h.attachment.nqn)))
                    .collect();
                prop_assert_eq!(&held, &model);
            }
        }
    }
}

#[test]
fn held_storage_follows_its_disk_when_the_system_file_changes() {
    use storalloc_core::DiskIdentity;
    let dir = tempfile::tempdir().unwrap();
    let with = |serials: &[&str]| DryRunNode {
        hostname: "n".into(),
        address: "10.0.0.7".into(),
        disk_capacities: vec![1_000_000_000_000; serials.len()],
        disk_ids: serials
            .iter()
            .map(|s| DiskIdentity::Serial(s.to_string()))
            .collect(),
    };
    let b = DryRunBackend::open(dir.path(), with(&["A", "B", "C"])).unwrap();
    b.apply(&spec(1, 0, 10)).unwrap(); // on A
    b.apply(&spec(2, 2, 10)).unwrap(); // on C
    drop(b);
    // C is listed first now, A last, B is gone, D is new.
    let b = DryRunBackend::open(dir.path(), with(&["C", "D", "A"])).unwrap();
    let mut held: Vec<(u64, u32)> = b
        .list_held()
        .unwrap()
        .iter()
        .map(|h| (h.allocation_id, h.disk))
        .collect();
    held.sort();
    assert_eq!(
        held,
        vec![(1, 2), (2, 0)],
        "reported at the disks' new positions"
    );
    b.release(2, 0).unwrap();
    drop(b);
    // B comes back: nothing was on it; allocation 2 was released from C.
    let b = DryRunBackend::open(dir.path(), with(&["A", "B", "C"])).unwrap();
    let held: Vec<(u64, u32)> = b
        .list_held()
        .unwrap()
        .iter()
        .map(|h| (h.allocation_id, h.disk))
        .collect();
    assert_eq!(held, vec![(1, 0)]);
}
