//! A scheduler that grows in place (`add_node`, `add_disk`) decides exactly
//! like one that knew the final system from the start: with every node
//! there from the beginning, and with the newcomers present but unavailable
//! until they join. The RNG stream and the round-robin cursor carry on
//! across the change, for every strategy.

mod common;

use common::*;
use proptest::prelude::*;
use storalloc_core::{
    AllocId, Bandwidth, Decision, Disk, DiskRef, Medium, Node, Request, Scheduler, SchedulerConfig,
    StrategyKind, System,
};

/// One disk: capacity in GB, medium, tier, write bandwidth.
type DiskSpec = (u64, Option<Medium>, Option<&'static str>, f64);

fn disk_spec() -> impl Strategy<Value = DiskSpec> {
    (
        100u64..1000,
        prop::sample::select(vec![None, Some(Medium::Nvme), Some(Medium::Hdd)]),
        prop::sample::select(vec![None, Some("fast"), Some("slow")]),
        prop::sample::select(vec![1.0, 2.0, 3.0]),
    )
}

fn make_disk(&(cap, medium, tier, bw): &DiskSpec) -> Disk {
    let mut d = Disk::simple(gb(cap), bw, 3.0);
    d.medium = medium;
    d.tier = tier.map(str::to_string);
    d
}

fn make_node(disks: &[DiskSpec], network: f64) -> Node {
    Node {
        hostname: "n".into(),
        ipv4: String::new(),
        network_bw: Bandwidth(network),
        disks: disks.iter().map(make_disk).collect(),
    }
}

/// 2 to 4 nodes of 1 to 3 disks each, with per-node network links.
fn nodes() -> impl Strategy<Value = Vec<Node>> {
    prop::collection::vec(
        (
            prop::collection::vec(disk_spec(), 1..4),
            prop::sample::select(vec![4.0, 12.5]),
        ),
        2..5,
    )
    .prop_map(|ns| ns.iter().map(|(d, net)| make_node(d, *net)).collect())
}

#[derive(Debug, Clone)]
enum Op {
    Submit {
        ask: Ask,
        /// Wishes copied from one of node 0's disks (index modulo its
        /// count), as a bit mask over medium, tier and bandwidth. Node 0 is
        /// always there, so some disk always matches: the "no matching disk"
        /// text names unavailable nodes, which differ between the two
        /// schedulers by design.
        wish: Option<(usize, u8)>,
    },
    Release {
        which: usize,
        offset_min: i64,
    },
    Advance {
        by_min: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (ask(), prop::option::weighted(0.3, (any::<usize>(), 1u8..8)))
            .prop_map(|(ask, wish)| Op::Submit { ask, wish }),
        2 => (any::<usize>(), -60i64..200).prop_map(|(which, offset_min)| Op::Release { which, offset_min }),
        2 => (0i64..90).prop_map(|by_min| Op::Advance { by_min }),
    ]
}

/// The request of a `Submit` at minute `now`, its wishes read from node 0
/// of `sys`.
fn request(o: &Op, now: i64, sys: &System) -> Option<Request> {
    let Op::Submit { ask, wish } = o else {
        return None;
    };
    let mut r = ask.request(now);
    if let Some((i, mask)) = wish {
        let disks = &sys.nodes[0].disks;
        let d = &disks[i % disks.len()];
        if let (true, Some(m)) = (mask & 1 != 0, d.medium) {
            r = r.with_medium(m);
        }
        if let (true, Some(t)) = (mask & 2 != 0, &d.tier) {
            r = r.with_tier(t.clone());
        }
        if mask & 4 != 0 {
            r = r.with_bandwidth(d.write_bandwidth);
        }
    }
    Some(r)
}

fn config(kind: StrategyKind, seed: u64) -> SchedulerConfig {
    let mut cfg = SchedulerConfig::new(kind);
    cfg.seed = seed;
    cfg.block_size = Some(gb(300));
    cfg
}

/// Two schedulers fed the same stream; `change(a, b)` runs before op `j`
/// (after the last one if `j` is past the end). Every decision and every
/// release must be the same, and the invariants hold on both after every
/// step.
fn lockstep(
    mut a: Scheduler,
    mut b: Scheduler,
    ops: &[Op],
    j: usize,
    change: impl Fn(&mut Scheduler, &mut Scheduler),
) -> Result<(), TestCaseError> {
    let kind = a.config().strategy;
    let mut now = 0i64;
    let mut ids: Vec<u64> = Vec::new();
    let j = j.min(ops.len());
    for (i, o) in ops.iter().enumerate() {
        if i == j {
            change(&mut a, &mut b);
        }
        // Wishes come from node 0, which is the same in both.
        if let Some(r) = request(o, now, a.system()) {
            let id = AllocId(i as u64);
            let da = a.submit(id, &r, at_min(now));
            let db = b.submit(id, &r, at_min(now));
            prop_assert_eq!(&da, &db, "{}: request {} ({:?})", kind, i, r);
            if let Decision::Granted(_) = da {
                ids.push(id.0);
            }
        }
        match o {
            Op::Release { which, offset_min } if !ids.is_empty() => {
                let id = AllocId(ids.remove(which % ids.len()));
                let at = at_min(now + offset_min);
                prop_assert_eq!(
                    a.release(id, at),
                    b.release(id, at),
                    "{}: release {}",
                    kind,
                    id
                );
            }
            Op::Advance { by_min } => {
                now += by_min;
                let ended = a.advance(at_min(now));
                prop_assert_eq!(&ended, &b.advance(at_min(now)), "{}", kind);
                ids.retain(|x| !ended.contains(&AllocId(*x)));
            }
            _ => {}
        }
        for s in [&a, &b] {
            if let Err(e) = s.check_invariants() {
                return Err(TestCaseError::fail(format!("{kind} after op {i}: {e}")));
            }
        }
    }
    if j == ops.len() {
        change(&mut a, &mut b);
    }
    prop_assert_eq!(a.system(), b.system());
    Ok(())
}

fn system_of(nodes: &[Node]) -> System {
    System {
        nodes: nodes.to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// Built from the first `k` nodes plus `add_node` for the rest, before
    /// any request: the same scheduler as one built whole.
    #[test]
    fn nodes_added_before_any_request(nodes in nodes(), k in 0usize..5,
                                      ops in prop::collection::vec(op(), 1..50),
                                      seed in any::<u64>()) {
        let k = k.min(nodes.len());
        for kind in StrategyKind::ALL {
            let whole = Scheduler::new(system_of(&nodes), config(kind, seed));
            let mut grown = Scheduler::new(system_of(&nodes[..k]), config(kind, seed));
            for (n, node) in nodes.iter().enumerate().skip(k) {
                prop_assert_eq!(grown.add_node(node.clone()), n as u32);
                grown.check_invariants().unwrap();
            }
            lockstep(whole, grown, &ops, 0, |_, _| {})?;
        }
    }

    /// Nodes `k..` join before request `j`: in A they were there but
    /// unavailable, in B they are added then. Node 0 is always in.
    #[test]
    fn nodes_added_mid_stream(nodes in nodes(), k in 1usize..5, j in 0usize..50,
                              ops in prop::collection::vec(op(), 1..50),
                              seed in any::<u64>()) {
        let k = k.min(nodes.len());
        let n = nodes.len() as u32;
        let late = nodes[k..].to_vec();
        for kind in StrategyKind::ALL {
            let mut a = Scheduler::new(system_of(&nodes), config(kind, seed));
            for node in k as u32..n {
                a.set_node_available(node, false).unwrap();
            }
            let b = Scheduler::new(system_of(&nodes[..k]), config(kind, seed));
            lockstep(a, b, &ops, j, |a, b| {
                for node in k as u32..n {
                    a.set_node_available(node, true).unwrap();
                }
                for node in &late {
                    b.add_node(node.clone());
                }
            })?;
        }
    }

    /// A disk joins the last node before request `j`: in A it was there but
    /// unavailable, in B it is added then.
    #[test]
    fn disk_added_mid_stream(nodes in nodes(), extra in disk_spec(), j in 0usize..50,
                             ops in prop::collection::vec(op(), 1..50),
                             seed in any::<u64>()) {
        let last = nodes.len() - 1;
        let mut full = nodes.clone();
        full[last].disks.push(make_disk(&extra));
        let d = DiskRef { node: last as u32, disk: nodes[last].disks.len() as u32 };
        for kind in StrategyKind::ALL {
            let mut a = Scheduler::new(system_of(&full), config(kind, seed));
            a.set_disk_available(d, false).unwrap();
            let b = Scheduler::new(system_of(&nodes), config(kind, seed));
            lockstep(a, b, &ops, j, |a, b| {
                a.set_disk_available(d, true).unwrap();
                assert_eq!(b.add_disk(d.node, make_disk(&extra)), Ok(d));
            })?;
        }
    }
}
