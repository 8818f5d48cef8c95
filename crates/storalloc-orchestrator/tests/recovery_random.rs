//! Crash at any commit: random runs of submits, cancels, agent results and
//! time passing, with the state files copied after every commit (what a
//! `kill -9` at that moment leaves). Each copy must reopen to exactly the
//! state the engine had, with the same disk use and no disk over-committed.

mod support;

use std::path::Path;
use storalloc_core::StrategyKind;
use storalloc_orchestrator::engine::Owner;
use storalloc_orchestrator::{ManualClock, RecordingComm};
use storalloc_proto::v1::agent_command::Kind;
use storalloc_proto::v1::{
    AgentCommand, Allocation, AllocationState, Attachment, CommandResult, DiskDescription,
    NodeDescription, RegisterRequest, ResultCode, StorageRequest, SubmitRequest,
};
use support::{E, GB};

const T0: i64 = 1_700_000_000;

/// A small deterministic generator (SplitMix64), so a failure replays.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn open(dir: &Path, clock: &ManualClock, comm: &RecordingComm) -> E {
    support::open_engine(dir, clock, comm, StrategyKind::WorstFit)
}

fn node(host: &str) -> NodeDescription {
    NodeDescription {
        hostname: host.into(),
        address: "127.0.0.1".into(),
        network_bw_gbps: 10.0,
        disks: vec![
            DiskDescription {
                capacity_bytes: 500 * GB,
                write_bw_gbps: 1.0,
                read_bw_gbps: 1.0,
                ..Default::default()
            };
            2
        ],
    }
}

/// What a recovered engine should hold: the same records, with live ones
/// degraded (every node is DOWN until its agent returns).
fn expected_after_crash(live: Vec<Allocation>) -> Vec<Allocation> {
    live.into_iter()
        .map(|mut a| {
            if matches!(
                a.state(),
                AllocationState::Granted | AllocationState::Allocated
            ) {
                a.degraded = true;
            }
            a
        })
        .collect()
}

fn disk_use(e: &mut E) -> Vec<(u32, u32, u64)> {
    e.node_infos()
        .into_iter()
        .flat_map(|n| {
            n.disks
                .into_iter()
                .map(move |d| (n.id, d.disk, d.used_bytes))
        })
        .collect()
}

fn run(seed: u64) {
    let mut rng = Rng(seed);
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(T0);
    let comm = RecordingComm::new();
    let mut e = open(dir.path(), &clock, &comm);
    let mut sessions = vec![];
    for h in ["a", "b", "c"] {
        let r = e
            .register(RegisterRequest {
                node: Some(node(h)),
                held: vec![],
                agent_version: "t".into(),
            })
            .unwrap();
        sessions.push(r.session_id);
    }
    e.commit().unwrap();
    let mut sent: Vec<(u32, AgentCommand)> = vec![];
    let mut next_req = 0;
    for step in 0..60 {
        match rng.below(10) {
            0..=4 => {
                next_req += 1;
                let start = if rng.below(3) == 0 {
                    Some(T0 + rng.below(2000) as i64)
                } else {
                    None
                };
                let r = SubmitRequest {
                    request_id: format!("s{seed}-{next_req}"),
                    request: Some(StorageRequest {
                        capacity_bytes: (10 + rng.below(390)) * GB,
                        duration_s: 10 + rng.below(600),
                        start_unix: start,
                        ..Default::default()
                    }),
                };
                e.submit(r, Owner::default()).unwrap();
            }
            5 => {
                let id = 1 + rng.below(next_req.max(1));
                let _ = e.cancel(id);
            }
            6 | 7 if !sent.is_empty() => {
                let (node, cmd) = sent.remove(rng.below(sent.len() as u64) as usize);
                let ok = rng.below(5) != 0;
                let alloc = match &cmd.kind {
                    Some(Kind::Allocate(a)) => a.allocation_id,
                    Some(Kind::Release(r)) => r.allocation_id,
                    None => 0,
                };
                e.report_result(CommandResult {
                    session_id: sessions[node as usize].clone(),
                    command_id: cmd.command_id,
                    allocation_id: alloc,
                    code: if ok {
                        ResultCode::Ok
                    } else {
                        ResultCode::Failed
                    } as i32,
                    error: if ok { String::new() } else { "no space".into() },
                    attachment: ok.then(|| Attachment {
                        r#type: "directory".into(),
                        path: format!("/s/{alloc}"),
                        ..Default::default()
                    }),
                })
                .unwrap();
            }
            _ => {
                clock.advance(rng.below(120) as i64);
                e.tick();
            }
        }
        e.commit().unwrap();
        sent.extend(support::sent(&comm));

        // Crash here: copy what is on disk, reopen it beside the live engine.
        let crash = tempfile::tempdir().unwrap();
        for f in std::fs::read_dir(dir.path()).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), crash.path().join(f.file_name())).unwrap();
        }
        let mut r = open(crash.path(), &clock, &RecordingComm::new());
        assert_eq!(
            r.list(true),
            expected_after_crash(e.list(true)),
            "seed {seed} step {step}: records differ after the crash"
        );
        r.check_invariants()
            .unwrap_or_else(|v| panic!("seed {seed} step {step}: {v}"));
        assert_eq!(
            disk_use(&mut r),
            disk_use(&mut e),
            "seed {seed} step {step}: disk use differs after the crash"
        );
    }
    e.check_invariants().unwrap();
}

#[test]
fn every_commit_is_a_safe_place_to_crash() {
    for seed in 1..=4 {
        run(seed);
    }
}
