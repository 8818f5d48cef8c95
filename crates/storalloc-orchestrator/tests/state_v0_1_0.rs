//! A state directory written by release 0.1.0 (schema 1, protobuf records;
//! see fixtures/state-v0.1.0/README.md) opens with this release, migrated,
//! with every allocation intact: the same JSON view as 0.1.0 printed.

mod support;

use serde_json::Value;
use std::path::Path;
use storalloc_core::StrategyKind;
use storalloc_orchestrator::service::convert;
use storalloc_orchestrator::store::SqliteStore;
use storalloc_orchestrator::{ManualClock, RecordingComm, StateStore};

const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/state-v0.1.0");

fn copy_fixture(to: &Path) {
    for f in ["state.sqlite3", "state.sqlite3-wal"] {
        std::fs::copy(Path::new(FIXTURE).join(f), to.join(f)).unwrap();
    }
}

#[test]
fn a_release_0_1_0_state_directory_opens_with_every_allocation_intact() {
    let expected: Vec<Value> = serde_json::from_str(
        &std::fs::read_to_string(Path::new(FIXTURE).join("expected.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(expected.len(), 21);
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    // Just after the last submission: nothing has ended since.
    let last = expected
        .iter()
        .map(|a| a["submitted_unix"].as_i64().unwrap())
        .max()
        .unwrap();
    let clock = ManualClock::new(last + 1);
    let comm = RecordingComm::new();
    let e = support::open_engine(dir.path(), &clock, &comm, StrategyKind::RoundRobin);
    let all = e.0.list(true);
    assert_eq!(all.len(), 21, "every allocation is there");
    for want in &expected {
        let id = want["id"].as_u64().unwrap();
        let got =
            storalloc_proto::json::allocation(&convert::allocation_to_proto(&e.0.get(id).unwrap()));
        for (k, v) in want.as_object().unwrap() {
            // Every node is DOWN until its agent registers again.
            if k == "degraded" {
                continue;
            }
            assert_eq!(&got[k], v, "allocation {id}: field {k}");
        }
    }
    e.check_invariants().unwrap();
    // The outbox and the drained node survived too.
    let nodes = e.0.world().node(1).unwrap().clone();
    assert!(nodes.drained, "storage2 was drained");
    assert_eq!(e.0.world().outbox().count(), 1);
    drop(e);
    // Opened again, it is already in the current schema.
    let loaded = SqliteStore::open(dir.path()).unwrap().load().unwrap();
    assert_eq!(loaded.allocations.len(), 21);
    assert_eq!(loaded.next_allocation_id, 22);
}

#[test]
fn a_corrupt_row_stops_the_start_with_its_name_and_changes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    copy_fixture(dir.path());
    {
        let c = rusqlite::Connection::open(dir.path().join("state.sqlite3")).unwrap();
        c.execute(
            "UPDATE allocations SET body = x'ffff0102' WHERE id = 20",
            [],
        )
        .unwrap();
    }
    let err = match SqliteStore::open(dir.path()) {
        Ok(_) => panic!("a corrupt row must stop the start"),
        Err(e) => e.to_string(),
    };
    assert!(err.contains("allocation 20"), "{err}");
    assert!(err.contains("nothing was changed"), "{err}");
    // The migration was rolled back: the same rows are there, still schema 1.
    let c = rusqlite::Connection::open(dir.path().join("state.sqlite3")).unwrap();
    let v: i64 = c
        .query_row(
            "SELECT value FROM meta WHERE key = 'schema_version'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(v, 1);
    let n: i64 = c
        .query_row("SELECT count(*) FROM allocations", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 21);
}
