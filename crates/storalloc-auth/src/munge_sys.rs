//! The three libmunge calls storalloc needs, declared by hand (munge.h is
//! small and stable; a bindgen build step is not worth it).

use std::os::raw::{c_char, c_int, c_void};

/// `munge_err_t`. Only the codes storalloc tells apart are named.
pub type MungeErr = c_int;
pub const EMUNGE_SUCCESS: MungeErr = 0;
pub const EMUNGE_SOCKET: MungeErr = 6;
pub const EMUNGE_CRED_EXPIRED: MungeErr = 15;
pub const EMUNGE_CRED_REWOUND: MungeErr = 16;
pub const EMUNGE_CRED_REPLAYED: MungeErr = 17;

/// `munge_ctx_t`; storalloc always passes NULL (the defaults).
pub type MungeCtx = *mut c_void;

#[link(name = "munge")]
extern "C" {
    pub fn munge_encode(
        cred: *mut *mut c_char,
        ctx: MungeCtx,
        buf: *const c_void,
        len: c_int,
    ) -> MungeErr;
    pub fn munge_decode(
        cred: *const c_char,
        ctx: MungeCtx,
        buf: *mut *mut c_void,
        len: *mut c_int,
        uid: *mut libc::uid_t,
        gid: *mut libc::gid_t,
    ) -> MungeErr;
    pub fn munge_strerror(e: MungeErr) -> *const c_char;
}
