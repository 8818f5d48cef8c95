//! What every [`Authenticator`] guarantees, run against each one (see
//! `tests/conformance.rs`).

use crate::{Authenticator, CallInfo, Identity};
use std::net::SocketAddr;

/// How a test makes calls the authenticator under test must accept.
pub trait Harness {
    /// A fresh valid credential for this process (None: needs none).
    fn credential(&self) -> Option<String>;
    /// The identity a valid call from this process proves.
    fn expected(&self) -> Identity;
}

fn loopback4() -> SocketAddr {
    "127.0.0.1:40000".parse().expect("literal")
}

fn loopback6() -> SocketAddr {
    "[::1]:40000".parse().expect("literal")
}

fn remote() -> SocketAddr {
    "192.0.2.7:40000".parse().expect("literal")
}

fn call(peer: SocketAddr, cred: Option<&str>) -> CallInfo<'_> {
    CallInfo {
        peer: Some(peer),
        credential: cred,
        claimed_uid: None,
        claimed_gid: None,
    }
}

/// Flips one character in the middle of `cred`.
pub fn tamper(cred: &str) -> String {
    let mut b = cred.as_bytes().to_vec();
    let i = b.len() / 2;
    b[i] = if b[i] == b'A' { b'B' } else { b'A' };
    String::from_utf8(b).expect("ASCII credential")
}

pub fn run(auth: &dyn Authenticator, h: &dyn Harness) {
    let who = h.expected();
    for peer in [loopback4(), loopback6()] {
        let c = h.credential();
        assert_eq!(
            auth.authenticate(&call(peer, c.as_deref())),
            Ok(who),
            "{}: a valid call from {peer} proves the caller",
            auth.name()
        );
    }

    let err = auth.authenticate(&call(remote(), None));
    assert!(
        err.is_err(),
        "{}: a remote caller without a credential is refused, got {err:?}",
        auth.name()
    );

    let claim_root = CallInfo {
        claimed_uid: Some(0),
        claimed_gid: Some(0),
        ..call(remote(), None)
    };
    assert!(
        auth.authenticate(&claim_root).is_err(),
        "{}: claiming root from a remote peer proves nothing",
        auth.name()
    );

    if let Some(c) = h.credential() {
        let forged = tamper(&c);
        match auth.authenticate(&call(loopback4(), Some(&forged))) {
            Err(_) => {}
            Ok(id) => assert_eq!(
                id,
                who,
                "{}: a tampered credential never proves someone else",
                auth.name()
            ),
        }
        let first = auth.authenticate(&call(loopback4(), Some(&c)));
        assert_eq!(
            first,
            Ok(who),
            "{}: a fresh credential is accepted",
            auth.name()
        );
        match auth.authenticate(&call(loopback4(), Some(&c))) {
            Err(_) => {}
            Ok(id) => assert_eq!(
                id,
                who,
                "{}: a replay never proves someone else",
                auth.name()
            ),
        }
    }
}
