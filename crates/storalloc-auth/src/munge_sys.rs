//! The libmunge calls storalloc needs, declared by hand (munge.h is small
//! and stable; a bindgen build step is not worth it) and resolved at run
//! time: the build then needs nothing but cargo, and only `auth: munge`
//! (or a client that finds MUNGE) ever opens the library.

use libloading::Library;
use std::os::raw::{c_char, c_int, c_void};
use std::sync::OnceLock;

/// `munge_err_t`. Only the codes storalloc tells apart are named.
pub type MungeErr = c_int;
pub const EMUNGE_SUCCESS: MungeErr = 0;
pub const EMUNGE_SOCKET: MungeErr = 6;
pub const EMUNGE_CRED_EXPIRED: MungeErr = 15;
pub const EMUNGE_CRED_REWOUND: MungeErr = 16;
pub const EMUNGE_CRED_REPLAYED: MungeErr = 17;

/// `MUNGE_OPT_SOCKET`: the munged socket a context talks to (a string).
pub const MUNGE_OPT_SOCKET: c_int = 8;

/// `munge_ctx_t`, an opaque pointer.
pub type MungeCtx = *mut c_void;

/// The library's names, most specific first: the soname the runtime
/// package (Debian's libmunge2) ships, then the development symlink.
pub const LIBRARY_NAMES: &[&str] = &["libmunge.so.2", "libmunge.so"];

type EncodeFn = unsafe extern "C" fn(*mut *mut c_char, MungeCtx, *const c_void, c_int) -> MungeErr;
type DecodeFn = unsafe extern "C" fn(
    *const c_char,
    MungeCtx,
    *mut *mut c_void,
    *mut c_int,
    *mut libc::uid_t,
    *mut libc::gid_t,
) -> MungeErr;
type StrerrorFn = unsafe extern "C" fn(MungeErr) -> *const c_char;
type CtxCreateFn = unsafe extern "C" fn() -> MungeCtx;
type CtxDestroyFn = unsafe extern "C" fn(MungeCtx);
type CtxStrerrorFn = unsafe extern "C" fn(MungeCtx) -> *const c_char;
type CtxOptFn = unsafe extern "C" fn(MungeCtx, c_int, ...) -> MungeErr;

/// The resolved entry points. The function pointers stay valid because
/// the library they point into is owned here and never closed.
pub struct Libmunge {
    pub encode: EncodeFn,
    pub decode: DecodeFn,
    pub strerror: StrerrorFn,
    pub ctx_create: CtxCreateFn,
    pub ctx_destroy: CtxDestroyFn,
    pub ctx_strerror: CtxStrerrorFn,
    /// `munge_ctx_get`: for `MUNGE_OPT_SOCKET` the last argument is a
    /// `*mut *const c_char` the context keeps owning.
    pub ctx_get: CtxOptFn,
    /// `munge_ctx_set`: for `MUNGE_OPT_SOCKET` the last argument is a
    /// `*const c_char` the context copies.
    pub ctx_set: CtxOptFn,
    _lib: Library,
}

/// The sentence shown when no name in `names` opens.
pub fn not_found_message(names: &[&str]) -> String {
    format!(
        "{} not found: install the munge package (Debian: apt-get install munge libmunge2); tried {}",
        names.first().copied().unwrap_or("libmunge"),
        names.join(", ")
    )
}

/// Opens the first of `names` that loads and resolves every entry point.
/// The error is a sentence for the operator.
pub fn load(names: &[&str]) -> Result<Libmunge, String> {
    // SAFETY: libmunge's initialisers only set up its own state.
    let (name, lib) = names
        .iter()
        .find_map(|n| unsafe { Library::new(n) }.ok().map(|l| (*n, l)))
        .ok_or_else(|| not_found_message(names))?;
    let missing = |symbol: &str, e: libloading::Error| {
        format!("{name} was loaded but has no {symbol} ({e}): it is not MUNGE's libmunge; install the munge package (Debian: apt-get install munge libmunge2)")
    };
    macro_rules! sym {
        ($name:literal) => {
            // SAFETY: the type matches munge.h's prototype for this symbol.
            *unsafe { lib.get(concat!($name, "\0").as_bytes()) }.map_err(|e| missing($name, e))?
        };
    }
    Ok(Libmunge {
        encode: sym!("munge_encode"),
        decode: sym!("munge_decode"),
        strerror: sym!("munge_strerror"),
        ctx_create: sym!("munge_ctx_create"),
        ctx_destroy: sym!("munge_ctx_destroy"),
        ctx_strerror: sym!("munge_ctx_strerror"),
        ctx_get: sym!("munge_ctx_get"),
        ctx_set: sym!("munge_ctx_set"),
        _lib: lib,
    })
}

/// libmunge, opened on first use from [`LIBRARY_NAMES`]; a failure is
/// remembered too, so a host without MUNGE pays for one failed dlopen.
pub fn libmunge() -> Result<&'static Libmunge, String> {
    static LIB: OnceLock<Result<Libmunge, String>> = OnceLock::new();
    LIB.get_or_init(|| load(LIBRARY_NAMES))
        .as_ref()
        .map_err(Clone::clone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_library_says_what_to_install() {
        let names = [
            "libstoralloc-no-such-munge.so.2",
            "libstoralloc-no-such-munge.so",
        ];
        let err = load(&names).err().expect("no such library exists");
        assert_eq!(
            err,
            "libstoralloc-no-such-munge.so.2 not found: install the munge package \
             (Debian: apt-get install munge libmunge2); tried \
             libstoralloc-no-such-munge.so.2, libstoralloc-no-such-munge.so"
        );
    }

    #[test]
    fn a_library_without_the_symbols_is_named() {
        // libc loads everywhere and has no munge_encode.
        let err = load(&["libc.so.6"]).err().expect("libc is not libmunge");
        assert!(
            err.starts_with("libc.so.6 was loaded but has no munge_encode"),
            "{err}"
        );
        assert!(err.contains("apt-get install munge libmunge2"), "{err}");
    }
}
