//! MUNGE: the user's credential, made by the local munged on the client
//! host and decoded by the munged on the orchestrator host (same key).
//! munged enforces the time-to-live and refuses a second decode of the
//! same credential, so storalloc gets replay and expiry checks for free.

use crate::munge_sys as sys;
use crate::{AuthError, Authenticator, CallInfo, Identity};
use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_int, c_void};

fn strerror(e: sys::MungeErr) -> String {
    // SAFETY: munge_strerror returns a static string for every code.
    unsafe {
        let p = sys::munge_strerror(e);
        if p.is_null() {
            format!("munge error {e}")
        } else {
            CStr::from_ptr(p).to_string_lossy().into_owned()
        }
    }
}

/// A fresh credential for the calling process's uid/gid, carrying `payload`.
pub fn encode(payload: &[u8]) -> Result<String, AuthError> {
    let len = c_int::try_from(payload.len())
        .map_err(|_| AuthError::Invalid("munge payload too long".into()))?;
    let mut cred: *mut c_char = std::ptr::null_mut();
    // SAFETY: `cred` is an out-pointer libmunge fills with a malloc'd string
    // that we copy then free; `payload` outlives the call.
    let rc = unsafe {
        sys::munge_encode(
            &mut cred,
            std::ptr::null_mut(),
            payload.as_ptr().cast::<c_void>(),
            len,
        )
    };
    if rc != sys::EMUNGE_SUCCESS {
        if !cred.is_null() {
            unsafe { libc::free(cred.cast()) };
        }
        return Err(AuthError::Unavailable(format!(
            "cannot make a MUNGE credential (is munged running?): {}",
            strerror(rc)
        )));
    }
    // SAFETY: success means `cred` is a NUL-terminated string.
    let out = unsafe { CStr::from_ptr(cred) }
        .to_string_lossy()
        .into_owned();
    unsafe { libc::free(cred.cast()) };
    Ok(out)
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
    let mut buf: *mut c_void = std::ptr::null_mut();
    let mut len: c_int = 0;
    let mut uid: libc::uid_t = 0;
    let mut gid: libc::gid_t = 0;
    // SAFETY: all out-pointers point at locals; `buf` is malloc'd by libmunge
    // (even on some errors) and freed below.
    let rc = unsafe {
        sys::munge_decode(
            c.as_ptr(),
            std::ptr::null_mut(),
            &mut buf,
            &mut len,
            &mut uid,
            &mut gid,
        )
    };
    let payload = if buf.is_null() {
        Vec::new()
    } else {
        let n = usize::try_from(len).unwrap_or(0);
        // SAFETY: libmunge says `buf` holds `len` bytes.
        let v = unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), n) }.to_vec();
        unsafe { libc::free(buf) };
        v
    };
    match rc {
        sys::EMUNGE_SUCCESS => Ok(Decoded { uid, gid, payload }),
        sys::EMUNGE_CRED_REPLAYED => Err(AuthError::Replayed),
        sys::EMUNGE_CRED_EXPIRED => Err(AuthError::Expired),
        sys::EMUNGE_CRED_REWOUND => Err(AuthError::Invalid(
            "the MUNGE credential was made in the future (clock skew?)".into(),
        )),
        sys::EMUNGE_SOCKET => Err(AuthError::Unavailable(format!(
            "cannot reach munged on the orchestrator host: {}",
            strerror(rc)
        ))),
        e => Err(AuthError::Invalid(format!(
            "invalid MUNGE credential: {}",
            strerror(e)
        ))),
    }
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
