//! Sparse ext4 images for the `fs` backend where the filesystem is not
//! btrfs: making one that a crash cannot leave half-made, and freeing the
//! loop devices bound to one.

use crate::backend::{BackendError, BlockSpec};
use crate::host_os::{io_err, path_str, run};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

/// The name an image has while it is being made.
pub fn partial(image: &Path) -> PathBuf {
    image.with_extension("img.partial")
}

/// A sparse file of exactly the capacity with an ext4 filesystem on it,
/// made under a temporary name so a crash never leaves a half-made image
/// that would be taken for a held block.
pub fn make_image(image: &Path, spec: &BlockSpec) -> Result<(), BackendError> {
    let dir = image.parent().expect("images live in a directory");
    std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
        .map_err(|e| io_err(dir, e))?;
    let tmp = partial(image);
    let f = std::fs::File::create(&tmp).map_err(|e| io_err(&tmp, e))?;
    f.set_len(spec.capacity_bytes)
        .map_err(|e| io_err(&tmp, e))?;
    drop(f);
    let opts = format!(
        "root_owner={}:{},lazy_itable_init=1,lazy_journal_init=1,nodiscard",
        spec.owner_uid, spec.owner_gid
    );
    let made = run(
        "mkfs.ext4",
        &["-q", "-F", "-m", "0", "-E", &opts, path_str(&tmp)],
        &tmp,
    )
    .and_then(|_| std::fs::rename(&tmp, image).map_err(|e| io_err(image, e)));
    if made.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    made
}

/// Detaches loop devices still bound to `image` (a mount without autoclear,
/// or one that an earlier crash left behind).
pub fn detach_loops(image: &Path) -> Result<(), BackendError> {
    if !image.exists() {
        return Ok(());
    }
    let out = run("losetup", &["-j", path_str(image)], image)?;
    for line in out.lines() {
        if let Some((dev, _)) = line.split_once(':') {
            run("losetup", &["-d", dev], image)?;
        }
    }
    Ok(())
}
