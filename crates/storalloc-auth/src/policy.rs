//! Who is an admin: root, the configured `admin_uids`, and members
//! (primary or supplementary) of the configured `admin_groups`.

use crate::Identity;
use std::collections::BTreeSet;
use std::ffi::CStr;

#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    pub admin_uids: BTreeSet<u32>,
    pub admin_gids: BTreeSet<u32>,
}

impl AccessPolicy {
    pub fn is_admin(&self, who: &Identity) -> bool {
        if who.uid == 0 || self.admin_uids.contains(&who.uid) {
            return true;
        }
        if self.admin_gids.is_empty() {
            return false;
        }
        if self.admin_gids.contains(&who.gid) {
            return true;
        }
        groups_of(who.uid, who.gid)
            .iter()
            .any(|g| self.admin_gids.contains(g))
    }

    /// Resolves group names (or numeric ids) to gids.
    pub fn gid_of(group: &str) -> Option<u32> {
        if let Ok(n) = group.parse() {
            return Some(n);
        }
        let name = std::ffi::CString::new(group).ok()?;
        let mut grp: libc::group = unsafe { std::mem::zeroed() };
        let mut buf = vec![0 as libc::c_char; 16384];
        let mut out: *mut libc::group = std::ptr::null_mut();
        // SAFETY: getgrnam_r writes into `grp`/`buf`, both live for the call.
        let rc = unsafe {
            libc::getgrnam_r(
                name.as_ptr(),
                &mut grp,
                buf.as_mut_ptr(),
                buf.len(),
                &mut out,
            )
        };
        (rc == 0 && !out.is_null()).then_some(grp.gr_gid)
    }
}

/// The supplementary groups of `uid` per the orchestrator host's user
/// database (the usual HPC set-up: one directory for the whole cluster).
fn groups_of(uid: u32, gid: u32) -> Vec<u32> {
    let mut pw: libc::passwd = unsafe { std::mem::zeroed() };
    let mut buf = vec![0 as libc::c_char; 16384];
    let mut out: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: getpwuid_r writes into `pw`/`buf`, both live for the call.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pw, buf.as_mut_ptr(), buf.len(), &mut out) };
    if rc != 0 || out.is_null() {
        return Vec::new();
    }
    let name = unsafe { CStr::from_ptr(pw.pw_name) }.to_owned();
    let mut n: libc::c_int = 256;
    let mut groups = vec![0 as libc::gid_t; n as usize];
    // SAFETY: `groups` has room for `n` entries; getgrouplist updates `n`.
    let rc = unsafe { libc::getgrouplist(name.as_ptr(), gid, groups.as_mut_ptr(), &mut n) };
    if rc < 0 {
        return Vec::new();
    }
    groups.truncate(usize::try_from(n).unwrap_or(0));
    groups
}
