//! The conformance suite every [`StorageBackend`] must pass.
//!
//! A backend's tests call [`backend_conformance!`](crate::backend_conformance)
//! with a factory that builds the backend over a given state directory. The
//! backend must expose at least two disks of at least 10 GB each, and a
//! backend built again over the same directory must see what the first held
//! (that is how an agent restart looks to it).

use crate::backend::{BlockSpec, StorageBackend};
use std::path::Path;

const GB: u64 = 1_000_000_000;

pub fn spec(allocation_id: u64, disk: u32, gb: u64) -> BlockSpec {
    BlockSpec {
        allocation_id,
        disk,
        capacity_bytes: gb * GB,
        start_unix: 1_700_000_000,
        end_unix: 1_700_003_600,
        owner_uid: 1000,
        owner_gid: 1000,
        host_nqns: Vec::new(),
    }
}

fn held_keys<B: StorageBackend>(b: &B) -> Vec<(u64, u32, u64)> {
    let mut v: Vec<_> = b
        .list_held()
        .expect("list_held")
        .into_iter()
        .map(|h| (h.allocation_id, h.disk, h.capacity_bytes))
        .collect();
    v.sort();
    v
}

pub fn starts_empty<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    assert!(make(dir.path()).list_held().unwrap().is_empty());
}

pub fn apply_is_listed_with_its_attachment<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    let b = make(dir.path());
    let a = b.apply(&spec(7, 1, 5)).unwrap();
    assert!(!a.kind.is_empty(), "attachment names its type");
    let held = b.list_held().unwrap();
    assert_eq!(held.len(), 1);
    assert_eq!(
        (held[0].allocation_id, held[0].disk, held[0].capacity_bytes),
        (7, 1, 5 * GB)
    );
    assert_eq!(held[0].attachment, a);
}

pub fn apply_is_idempotent<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    let b = make(dir.path());
    let first = b.apply(&spec(3, 0, 2)).unwrap();
    let again = b.apply(&spec(3, 0, 2)).unwrap();
    assert_eq!(first, again);
    assert_eq!(held_keys(&b), vec![(3, 0, 2 * GB)]);
}

pub fn distinct_blocks_get_distinct_attachments<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    let b = make(dir.path());
    let a = b.apply(&spec(1, 0, 1)).unwrap();
    let c = b.apply(&spec(2, 0, 1)).unwrap();
    let d = b.apply(&spec(1, 1, 1)).unwrap();
    assert_ne!(a, c);
    assert_ne!(a, d);
    assert_ne!(c, d);
    assert_eq!(held_keys(&b).len(), 3);
}

pub fn release_removes_and_is_idempotent<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    let b = make(dir.path());
    b.apply(&spec(1, 0, 1)).unwrap();
    b.apply(&spec(2, 1, 1)).unwrap();
    b.release(1, 0).unwrap();
    assert_eq!(held_keys(&b), vec![(2, 1, GB)]);
    b.release(1, 0).unwrap();
    b.release(999, 0).unwrap();
    assert_eq!(held_keys(&b), vec![(2, 1, GB)]);
}

pub fn holdings_survive_a_restart<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    let (a1, a2) = {
        let b = make(dir.path());
        let a1 = b.apply(&spec(11, 0, 3)).unwrap();
        let a2 = b.apply(&spec(12, 1, 4)).unwrap();
        b.apply(&spec(13, 1, 1)).unwrap();
        b.release(13, 1).unwrap();
        (a1, a2)
    };
    let b = make(dir.path());
    assert_eq!(held_keys(&b), vec![(11, 0, 3 * GB), (12, 1, 4 * GB)]);
    assert_eq!(b.apply(&spec(11, 0, 3)).unwrap(), a1);
    assert_eq!(b.apply(&spec(12, 1, 4)).unwrap(), a2);
    b.release(11, 0).unwrap();
    drop(b);
    assert_eq!(held_keys(&make(dir.path())), vec![(12, 1, 4 * GB)]);
}

pub fn unknown_disk_is_an_error<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    let b = make(dir.path());
    let err = b.apply(&spec(1, 9999, 1)).unwrap_err();
    assert!(
        err.to_string().contains("9999"),
        "error names the disk: {err}"
    );
    assert!(b.list_held().unwrap().is_empty());
}

pub fn oversized_block_is_an_error<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    let b = make(dir.path());
    let mut s = spec(1, 0, 1);
    s.capacity_bytes = u64::MAX;
    assert!(b.apply(&s).is_err());
    assert!(b.list_held().unwrap().is_empty());
}

pub fn concurrent_applies_are_all_held<B: StorageBackend>(make: &dyn Fn(&Path) -> B) {
    let dir = tempfile::tempdir().unwrap();
    let b = make(dir.path());
    std::thread::scope(|s| {
        for t in 0..4u64 {
            let b = &b;
            s.spawn(move || {
                for i in 0..10u64 {
                    b.apply(&spec(t * 100 + i, (i % 2) as u32, 1)).unwrap();
                }
            });
        }
    });
    assert_eq!(held_keys(&b).len(), 40);
    drop(b);
    assert_eq!(held_keys(&make(dir.path())).len(), 40);
}

/// Generates one `#[test]` per conformance case in a module named `$name`,
/// for the backend built by `$make: Fn(&Path) -> impl StorageBackend`.
#[macro_export]
macro_rules! backend_conformance {
    ($name:ident, $make:expr) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;
            $crate::backend_conformance!(@cases $make;
                starts_empty,
                apply_is_listed_with_its_attachment,
                apply_is_idempotent,
                distinct_blocks_get_distinct_attachments,
                release_removes_and_is_idempotent,
                holdings_survive_a_restart,
                unknown_disk_is_an_error,
                oversized_block_is_an_error,
                concurrent_applies_are_all_held
            );
        }
    };
    (@cases $make:expr; $($case:ident),*) => {
        $(
            #[test]
            fn $case() {
                $crate::conformance::$case(&$make);
            }
        )*
    };
}
