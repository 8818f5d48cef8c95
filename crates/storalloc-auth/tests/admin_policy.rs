//! Who is an admin: root, `admin_uids`, and members of `admin_groups`
//! (supplementary membership counts). Needs root to create the test users
//! and group; says so and skips otherwise (fails under STORALLOC_REQUIRE_ALL=1).

mod support;

use std::process::Command;
use storalloc_auth::{AccessPolicy, Identity};
use support::skip_or_fail;

fn ok(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn identity(user: &str) -> Option<Identity> {
    // useradd locks /etc/passwd, which a parallel test may hold: retry.
    for _ in 0..20 {
        if ok("id", &["-u", user]).is_some() {
            break;
        }
        let _ = ok("useradd", &["-M", "-s", "/usr/sbin/nologin", user]);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Some(Identity {
        uid: ok("id", &["-u", user])?.parse().ok()?,
        gid: ok("id", &["-g", user])?.parse().ok()?,
    })
}

#[test]
fn root_and_configured_uids_are_admins_others_are_not() {
    let mut p = AccessPolicy::default();
    let user = Identity {
        uid: 4242,
        gid: 4242,
    };
    assert!(p.is_admin(&Identity { uid: 0, gid: 0 }));
    assert!(!p.is_admin(&user));
    p.admin_uids.insert(4242);
    assert!(p.is_admin(&user));
}

#[test]
fn members_of_an_admin_group_are_admins() {
    let group = "storalloc-tadmins";
    if ok("getent", &["group", group]).is_none() {
        let _ = ok("groupadd", &[group]);
    }
    let (Some(member), Some(other)) = (identity("storalloc-tb"), identity("storalloc-ta")) else {
        skip_or_fail("cannot create the test users (not root?)");
        return;
    };
    if ok("usermod", &["-aG", group, "storalloc-tb"]).is_none() {
        skip_or_fail(&format!("cannot add storalloc-tb to {group} (not root?)"));
        return;
    }
    let gid = AccessPolicy::gid_of(group).expect("the group resolves by name");
    assert_eq!(AccessPolicy::gid_of(&gid.to_string()), Some(gid));
    assert_eq!(AccessPolicy::gid_of("storalloc-no-such-group"), None);
    let mut p = AccessPolicy::default();
    p.admin_gids.insert(gid);
    assert_ne!(member.gid, gid, "membership is supplementary, not primary");
    assert!(p.is_admin(&member));
    assert!(!p.is_admin(&other));
}
