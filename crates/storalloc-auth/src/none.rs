//! `auth: none`: no proof at all, so it is only accepted from loopback
//! peers (a developer's machine, the tests). The caller's claimed uid/gid
//! are taken at their word; none claimed means root, as before auth existed.

use crate::{AuthError, Authenticator, CallInfo, Identity};

#[derive(Debug, Default, Clone)]
pub struct NoneAuth;

impl Authenticator for NoneAuth {
    fn name(&self) -> &'static str {
        "none"
    }

    fn authenticate(&self, call: &CallInfo<'_>) -> Result<Identity, AuthError> {
        match call.peer {
            Some(p) if p.ip().is_loopback() => {}
            Some(p) => return Err(AuthError::NotLoopback(p.to_string())),
            None => return Err(AuthError::NotLoopback("an unknown peer".into())),
        }
        Ok(Identity {
            uid: call.claimed_uid.unwrap_or(0),
            gid: call.claimed_gid.unwrap_or(0),
        })
    }
}
