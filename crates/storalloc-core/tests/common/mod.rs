//! Helpers shared by the scheduler tests.
#![allow(dead_code)]

use storalloc_core::{
    AllocId, Allocation, Bytes, Decision, Disk, DiskRef, Node, Placement, Request, Scheduler,
    SchedulerConfig, StrategyKind, System, TimeSpan, Timestamp,
};

/// 2024-01-01 10:00:00 UTC.
pub const T0: i64 = 1_704_103_200;

pub fn at_min(m: i64) -> Timestamp {
    Timestamp(T0 + m * 60)
}

pub fn gb(n: u64) -> Bytes {
    Bytes::from_gb(n)
}

pub fn mins(m: u64) -> TimeSpan {
    TimeSpan::from_mins(m)
}

pub fn disk(node: u32, disk: u32) -> DiskRef {
    DiskRef { node, disk }
}

/// A node with the given disk capacities in GB (write 2.0, read 3.0 GB/s).
pub fn node(caps_gb: &[u64]) -> Node {
    Node {
        hostname: "n".into(),
        ipv4: String::new(),
        network_bw: storalloc_core::Bandwidth(12.5),
        disks: caps_gb
            .iter()
            .map(|&c| Disk::simple(gb(c), 2.0, 3.0))
            .collect(),
    }
}

pub fn system(nodes: &[&[u64]]) -> System {
    System {
        nodes: nodes.iter().map(|caps| node(caps)).collect(),
    }
}

pub fn sched(system: System, kind: StrategyKind) -> Scheduler {
    Scheduler::new(system, SchedulerConfig::new(kind))
}

/// Allocation `id`: `cap_gb` on `d` during minutes `[from, to)`.
pub fn allocation_on(id: u64, d: DiskRef, cap_gb: u64, from: i64, to: i64) -> Allocation {
    Allocation {
        id: AllocId(id),
        start: at_min(from),
        end: at_min(to),
        placements: vec![Placement {
            disk: d,
            capacity: gb(cap_gb),
        }],
    }
}

/// Put `cap_gb` on `d` during minutes `[from, to)` with `restore`, which
/// places an allocation exactly where we say.
pub fn occupy(s: &mut Scheduler, id: u64, d: DiskRef, cap_gb: u64, from: i64, to: i64) {
    s.restore(allocation_on(id, d, cap_gb, from, to)).unwrap();
}

/// `cap_gb` for `dur_min` minutes starting at minute `start_min`.
pub fn req(cap_gb: u64, dur_min: u64, start_min: i64) -> Request {
    Request::new(gb(cap_gb), mins(dur_min), at_min(start_min))
}

/// Submit and insist on a grant; returns the placements' disks.
pub fn grant(s: &mut Scheduler, id: u64, r: &Request) -> Vec<DiskRef> {
    match s.submit(AllocId(id), r, r.earliest_start) {
        Decision::Granted(g) => {
            s.check_invariants().unwrap();
            g.allocation.placements.iter().map(|p| p.disk).collect()
        }
        Decision::Refused(x) => panic!("request {id} refused: {}", x.explanation),
    }
}

pub fn refused(s: &mut Scheduler, id: u64, r: &Request) -> storalloc_core::Refusal {
    match s.submit(AllocId(id), r, r.earliest_start) {
        Decision::Granted(g) => panic!("request {id} granted: {}", g.explanation),
        Decision::Refused(x) => {
            s.check_invariants().unwrap();
            x
        }
    }
}
