//! What the `fs` and `nvmet` backends share about their disk tables: a
//! table indexed by disk number with `None` for disks another backend
//! serves, the capacity check every `apply` makes first, and how `apply`
//! treats a backing file that is already there.

use crate::backend::{BackendError, BlockSpec};
use crate::host_os::io_err;
use std::path::Path;

/// The disk `disk` of `host` if this backend serves it.
pub(crate) fn served_disk<'a, D>(
    disks: &'a [Option<D>],
    host: &str,
    disk: u32,
) -> Result<&'a D, BackendError> {
    disks
        .get(disk as usize)
        .and_then(Option::as_ref)
        .ok_or_else(|| BackendError::NoSuchDisk {
            host: host.to_string(),
            disk,
            count: disks.len(),
        })
}

/// The disks this backend serves, with their numbers.
pub(crate) fn served<D>(disks: &[Option<D>]) -> impl Iterator<Item = (u32, &D)> {
    disks
        .iter()
        .enumerate()
        .filter_map(|(i, d)| d.as_ref().map(|d| (i as u32, d)))
}

/// Refuses a block larger than its whole disk.
pub(crate) fn check_fits(spec: &BlockSpec, disk_capacity: u64) -> Result<(), BackendError> {
    if spec.capacity_bytes > disk_capacity {
        return Err(BackendError::TooLarge {
            allocation_id: spec.allocation_id,
            disk: spec.disk,
            requested: spec.capacity_bytes,
            capacity: disk_capacity,
        });
    }
    Ok(())
}

/// Whether `apply` must make the block's backing file at `path`: not when
/// it is already there at the requested size (a repeated command), a
/// conflict when it is there at another size.
pub(crate) fn backing_missing(path: &Path, spec: &BlockSpec) -> Result<bool, BackendError> {
    match std::fs::metadata(path) {
        Ok(m) if m.len() == spec.capacity_bytes => Ok(false),
        Ok(m) => Err(BackendError::Conflict {
            allocation_id: spec.allocation_id,
            disk: spec.disk,
            held: m.len(),
            requested: spec.capacity_bytes,
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(e) => Err(io_err(path, e)),
    }
}
