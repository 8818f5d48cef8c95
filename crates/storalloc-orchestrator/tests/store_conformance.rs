//! The state-store conformance suite, run against every implementation.

use storalloc_orchestrator::store::{MemoryStore, SqliteStore, StateStore, StoreError};

mod memory {
    use super::*;
    storalloc_orchestrator::state_store_conformance!({
        let store = MemoryStore::new();
        move || Box::new(store.clone()) as Box<dyn StateStore>
    });
}

mod sqlite {
    use super::*;
    storalloc_orchestrator::state_store_conformance!({
        let dir = tempfile::tempdir().unwrap();
        move || Box::new(SqliteStore::open(dir.path()).unwrap()) as Box<dyn StateStore>
    });
}

#[test]
fn a_second_orchestrator_cannot_open_a_state_dir_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let first = SqliteStore::open(dir.path()).unwrap();
    match SqliteStore::open(dir.path()) {
        Err(StoreError::Locked { path }) => assert!(path.contains(&*dir.path().to_string_lossy())),
        Err(e) => panic!("expected Locked, got {e}"),
        Ok(_) => panic!("expected Locked, got a second store"),
    }
    drop(first);
    SqliteStore::open(dir.path()).expect("free again once the first is closed");
}

#[test]
fn the_database_uses_wal_and_full_sync() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    assert!(store.path().ends_with("state.sqlite3"));
    assert_eq!(store.journal_mode().unwrap(), "wal");
    assert_eq!(store.synchronous().unwrap(), 2, "FULL");
}

#[test]
fn history_len_counts_the_archived_rows() {
    use storalloc_orchestrator::model::StateName;
    use storalloc_orchestrator::store::conformance::allocation;
    use storalloc_orchestrator::store::Batch;
    let dir = tempfile::tempdir().unwrap();
    let mut store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.history_len().unwrap(), 0);
    let ended = |i: u64| allocation(i, &format!("r{i}"), StateName::Ended);
    store
        .commit(&Batch {
            allocations: (1..=5).map(ended).collect(),
            ..Batch::default()
        })
        .unwrap();
    store
        .commit(&Batch {
            archived: (1..=3).map(ended).collect(),
            keep_history: true,
            ..Batch::default()
        })
        .unwrap();
    assert_eq!(store.history_len().unwrap(), 3);
}
