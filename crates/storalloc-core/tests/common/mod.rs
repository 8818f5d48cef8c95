//! Helpers shared by the scheduler tests.
#![allow(dead_code)]

use proptest::prelude::*;
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

/// A random request, relative to the stream's current minute.
#[derive(Debug, Clone)]
pub struct Ask {
    pub cap_gb: u64,
    pub dur_min: u64,
    pub offset_min: i64,
    pub max_delay_min: Option<u64>,
    pub block_gb: Option<u64>,
}

impl Ask {
    pub fn request(&self, now_min: i64) -> Request {
        let mut r = req(self.cap_gb, self.dur_min, now_min + self.offset_min);
        if let Some(d) = self.max_delay_min {
            r = r.with_max_delay(mins(d));
        }
        if let Some(b) = self.block_gb {
            r = r.with_block_size(gb(b));
        }
        r
    }
}

/// Requests of up to 900 GB and 5 hours around now, some allowed to start
/// later, some split.
pub fn ask() -> impl Strategy<Value = Ask> {
    (
        (1u64..900, 1u64..300, -30i64..300),
        prop::option::weighted(0.2, 0u64..120),
        prop::option::weighted(0.2, 50u64..400),
    )
        .prop_map(
            |((cap_gb, dur_min, offset_min), max_delay_min, block_gb)| Ask {
                cap_gb,
                dur_min,
                offset_min,
                max_delay_min,
                block_gb,
            },
        )
}
