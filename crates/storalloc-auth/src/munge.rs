//! MUNGE: the user's credential, made by the local munged on the client
//! host and decoded by the munged on the orchestrator host (same key).
//! munged enforces the time-to-live and refuses a second decode of the
//! same credential, so storalloc gets replay and expiry checks for free.

use crate::munge_sys::{self as sys, Libmunge};
use crate::{AuthError, Authenticator, CallInfo, Identity};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

/// Copies a C string libmunge owns; `None` for NULL.
///
/// SAFETY: `p` is NULL or a NUL-terminated string alive for this call.
unsafe fn owned(p: *const c_char) -> Option<String> {
    (!p.is_null()).then(|| CStr::from_ptr(p).to_string_lossy().into_owned())
}

/// One libmunge context, destroyed on drop. A context (rather than NULL,
/// the defaults) lets an error name the socket and give libmunge's detail.
struct Ctx {
    lib: &'static Libmunge,
    ptr: sys::MungeCtx,
}

impl Ctx {
    /// A context talking to munged at `socket`, or the built-in default.
    fn new(lib: &'static Libmunge, socket: Option<&CStr>) -> Result<Ctx, AuthError> {
        // SAFETY: munge_ctx_create takes nothing and returns NULL on failure.
        let ptr = unsafe { (lib.ctx_create)() };
        if ptr.is_null() {
            return Err(AuthError::Unavailable(
                "libmunge could not create a context (out of memory?)".into(),
            ));
        }
        let ctx = Ctx { lib, ptr };
        if let Some(path) = socket {
            // SAFETY: MUNGE_OPT_SOCKET takes a C string, which the context copies.
            let rc = unsafe { (lib.ctx_set)(ptr, sys::MUNGE_OPT_SOCKET, path.as_ptr()) };
            if rc != sys::EMUNGE_SUCCESS {
                return Err(AuthError::Unavailable(format!(
                    "libmunge refused the socket {}: {}",
                    path.to_string_lossy(),
                    ctx.detail(rc)
                )));
            }
        }
        Ok(ctx)
    }

    /// The socket this context talks to, for error messages.
    fn socket(&self) -> String {
        let mut p: *const c_char = std::ptr::null();
        // SAFETY: MUNGE_OPT_SOCKET writes a string the context keeps owning.
        let rc = unsafe { (self.lib.ctx_get)(self.ptr, sys::MUNGE_OPT_SOCKET, &mut p) };
        let path = (rc == sys::EMUNGE_SUCCESS)
            .then(|| unsafe { owned(p) })
            .flatten();
        path.unwrap_or_else(|| "unknown".into())
    }

    /// libmunge's own sentence for the last error, or the code's.
    fn detail(&self, rc: sys::MungeErr) -> String {
        // SAFETY: both return NULL or a string owned by the context or static.
        unsafe { owned((self.lib.ctx_strerror)(self.ptr)) }
            .or_else(|| unsafe { owned((self.lib.strerror)(rc)) })
            .unwrap_or_else(|| format!("munge error {rc}"))
    }

    /// The error for a call that failed with `rc`; `side` says whose
    /// munged it was, for the socket error.
    fn failure(&self, rc: sys::MungeErr, side: &str) -> AuthError {
        let detail = self.detail(rc);
        match rc {
            sys::EMUNGE_SOCKET => {
                AuthError::Unavailable(munged_down_message(side, &self.socket(), &detail))
            }
            sys::EMUNGE_CRED_REPLAYED => AuthError::Replayed,
            sys::EMUNGE_CRED_EXPIRED => AuthError::Expired,
            sys::EMUNGE_CRED_REWOUND => AuthError::Invalid(
                "the MUNGE credential was made in the future (clock skew?)".into(),
            ),
            _ => AuthError::Invalid(format!("invalid MUNGE credential: {detail}")),
        }
    }
}

impl Drop for Ctx {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from munge_ctx_create and is destroyed once.
        unsafe { (self.lib.ctx_destroy)(self.ptr) }
    }
}

/// What to do when munged cannot be reached: `side` is empty for the
/// local host or names the host, e.g. " on the orchestrator host".
fn munged_down_message(side: &str, socket: &str, detail: &str) -> String {
    format!(
        "munged is not running{side} (socket {socket}): start it \
         (systemctl start munge, or /usr/sbin/munged as the munge user); libmunge said: {detail}"
    )
}

fn library() -> Result<&'static Libmunge, AuthError> {
    sys::libmunge().map_err(AuthError::Unavailable)
}

/// A fresh credential for the calling process's uid/gid, carrying `payload`.
pub fn encode(payload: &[u8]) -> Result<String, AuthError> {
    encode_via(library()?, None, payload)
}

fn encode_via(
    lib: &'static Libmunge,
    socket: Option<&CStr>,
    payload: &[u8],
) -> Result<String, AuthError> {
    let len = c_int::try_from(payload.len())
        .map_err(|_| AuthError::Invalid("munge payload too long".into()))?;
    let ctx = Ctx::new(lib, socket)?;
    let mut cred: *mut c_char = std::ptr::null_mut();
    // SAFETY: `cred` is an out-pointer libmunge fills with a malloc'd string
    // that we copy then free; `payload` outlives the call.
    let rc = unsafe { (lib.encode)(&mut cred, ctx.ptr, payload.as_ptr().cast::<c_void>(), len) };
    // SAFETY: on success `cred` is a NUL-terminated string.
    let out = unsafe { owned(cred) };
    if !cred.is_null() {
        unsafe { libc::free(cred.cast()) };
    }
    match out {
        Some(c) if rc == sys::EMUNGE_SUCCESS => Ok(c),
        _ if rc == sys::EMUNGE_SOCKET => Err(ctx.failure(rc, "")),
        _ => Err(AuthError::Unavailable(format!(
            "cannot make a MUNGE credential: {}",
            ctx.detail(rc)
        ))),
    }
}

/// What a successful decode proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub uid: u32,
    pub gid: u32,
    pub payload: Vec<u8>,
}

/// Decodes `cred` through the local munged.
pub fn decode(cred: &str) -> Result<Decoded, AuthError> {
    let c = CString::new(cred.trim())
        .map_err(|_| AuthError::Invalid("the MUNGE credential contains a NUL byte".into()))?;
    let lib = library()?;
    let ctx = Ctx::new(lib, None)?;
    let mut buf: *mut c_void = std::ptr::null_mut();
    let mut len: c_int = 0;
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: all out-pointers point at locals; `buf` is malloc'd by libmunge
    // (even on some errors) and freed below.
    let rc = unsafe { (lib.decode)(c.as_ptr(), ctx.ptr, &mut buf, &mut len, &mut uid, &mut gid) };
    let payload = if buf.is_null() {
        Vec::new()
    } else {
        let n = usize::try_from(len).unwrap_or(0);
        // SAFETY: libmunge says `buf` holds `len` bytes.
        let v = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), n) }.to_vec();
        unsafe { libc::free(buf) };
        v
    };
    if rc == sys::EMUNGE_SUCCESS {
        return Ok(Decoded { uid, gid, payload });
    }
    // This runs on the orchestrator: the caller should hear whose munged it is.
    Err(ctx.failure(rc, " on the orchestrator host"))
}

/// Every caller proves its uid/gid with a MUNGE credential; claimed ids
/// are ignored.
#[derive(Debug, Default, Clone)]
pub struct MungeAuth;

impl Authenticator for MungeAuth {
    fn name(&self) -> &'static str {
        "munge"
    }

    fn authenticate(&self, call: &CallInfo<'_>) -> Result<Identity, AuthError> {
        let cred = call.credential.ok_or(AuthError::Missing)?;
        let d = decode(cred)?;
        Ok(Identity {
            uid: d.uid,
            gid: d.gid,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unreachable_munged_says_to_start_it() {
        let lib = match sys::libmunge() {
            Ok(l) => l,
            Err(e) => {
                eprintln!("SKIPPED: {e}");
                return;
            }
        };
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("munge.socket.2");
        let c = CString::new(socket.to_str().unwrap()).unwrap();
        let err = encode_via(lib, Some(&c), b"").unwrap_err();
        let AuthError::Unavailable(m) = err else {
            panic!("expected Unavailable, got {err:?}");
        };
        let want = format!(
            "munged is not running (socket {}): start it",
            socket.display()
        );
        assert!(m.starts_with(&want), "{m}");
    }
}
