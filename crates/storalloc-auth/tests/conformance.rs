//! The authenticator conformance suite against `none` and `munge`. The
//! munge half needs a running munged (CI starts one); without it, it says
//! so and skips (fails under STORALLOC_REQUIRE_ALL=1).

mod support;

use storalloc_auth::conformance::{run, Harness};
use storalloc_auth::{munge, AuthError, Authenticator, CallInfo, Identity, MungeAuth, NoneAuth};
use support::skip_or_fail;

struct NoCredential;

impl Harness for NoCredential {
    fn credential(&self) -> Option<String> {
        None
    }
    fn expected(&self) -> Identity {
        Identity { uid: 0, gid: 0 }
    }
}

struct Munge;

impl Harness for Munge {
    fn credential(&self) -> Option<String> {
        Some(munge::encode(b"").expect("munge encode"))
    }
    fn expected(&self) -> Identity {
        Identity {
            uid: unsafe { libc_getuid() },
            gid: unsafe { libc_getgid() },
        }
    }
}

extern "C" {
    #[link_name = "getuid"]
    fn libc_getuid() -> u32;
    #[link_name = "getgid"]
    fn libc_getgid() -> u32;
}

fn munged_running() -> bool {
    match munge::encode(b"probe") {
        Ok(_) => true,
        Err(e) => {
            skip_or_fail(&format!("munged is not running here ({e}); CI starts it"));
            false
        }
    }
}

#[test]
fn none_passes_the_conformance_suite() {
    run(&NoneAuth, &NoCredential);
}

#[test]
fn none_takes_claims_only_from_loopback() {
    let claim = |peer: &str| CallInfo {
        peer: Some(peer.parse().unwrap()),
        credential: None,
        claimed_uid: Some(1234),
        claimed_gid: Some(55),
    };
    assert_eq!(
        NoneAuth.authenticate(&claim("127.0.0.1:1")),
        Ok(Identity { uid: 1234, gid: 55 })
    );
    assert!(matches!(
        NoneAuth.authenticate(&claim("10.1.2.3:1")),
        Err(AuthError::NotLoopback(_))
    ));
}

#[test]
fn munge_passes_the_conformance_suite() {
    if !munged_running() {
        return;
    }
    run(&MungeAuth, &Munge);
}

#[test]
fn munge_tells_replay_forgery_and_absence_apart() {
    if !munged_running() {
        return;
    }
    let c = munge::encode(b"payload").unwrap();
    fn call(cred: Option<&str>) -> CallInfo<'_> {
        CallInfo {
            peer: Some("127.0.0.1:1".parse().unwrap()),
            credential: cred,
            claimed_uid: Some(0),
            claimed_gid: Some(0),
        }
    }
    let d = munge::decode(&c).unwrap();
    assert_eq!(d.payload, b"payload");
    assert_eq!(
        MungeAuth.authenticate(&call(Some(&c))),
        Err(AuthError::Replayed)
    );
    let fresh = munge::encode(b"").unwrap();
    let forged = storalloc_auth::conformance::tamper(&fresh);
    assert!(matches!(
        MungeAuth.authenticate(&call(Some(&forged))),
        Err(AuthError::Invalid(_))
    ));
    assert_eq!(MungeAuth.authenticate(&call(None)), Err(AuthError::Missing));
}
