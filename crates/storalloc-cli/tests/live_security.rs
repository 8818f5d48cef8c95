//! The real binaries with `auth: munge` and an agent secret: users are who
//! MUNGE says they are (clients run as two local users through `runuser`),
//! agents without the secret cannot register, and an orchestrator without
//! auth refuses a non-loopback address. Skips, saying why, without munged
//! (fails under STORALLOC_REQUIRE_ALL=1).

mod live_support;

use live_support::{output_text, skip_or_fail, Live, BIN, SMALL_SYSTEM};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn ok(cmd: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(cmd).args(args).output().ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn ready() -> bool {
    if ok("munge", &["-n"]).is_none() {
        skip_or_fail("munged is not running (or the munge CLI is missing); CI starts it");
        return false;
    }
    for u in ["storalloc-ta", "storalloc-tb"] {
        // useradd locks /etc/passwd, which other tests may hold: retry.
        for _ in 0..20 {
            if ok("id", &["-u", u]).is_some() {
                break;
            }
            let _ = ok("useradd", &["-M", "-s", "/usr/sbin/nologin", u]);
            std::thread::sleep(Duration::from_millis(100));
        }
        if ok("id", &["-u", u]).is_none() {
            skip_or_fail(&format!("cannot create the test user {u} (not root?)"));
            return false;
        }
    }
    true
}

/// The binary, somewhere every user may run it (the target dir may sit in
/// root's 0700 home).
fn shared_bin(dir: &Path) -> PathBuf {
    let d = dir.join("bin");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755)).unwrap();
    let b = d.join("storalloc");
    std::fs::copy(BIN, &b).unwrap();
    std::fs::set_permissions(&b, std::fs::Permissions::from_mode(0o755)).unwrap();
    b
}

fn as_user(user: &str, bin: &Path, args: &[&str]) -> Output {
    Command::new("runuser")
        .args(["-u", user, "--"])
        .arg(bin)
        .args(args)
        .current_dir("/")
        .output()
        .unwrap()
}

#[test]
fn users_own_their_allocations_and_agents_need_the_secret() {
    if !ready() {
        return;
    }
    let mut live = Live::new(SMALL_SYSTEM, false);
    let secret = live.dir.path().join("agent.secret");
    std::fs::write(&secret, "live-test-cluster-secret-0123456789\n").unwrap();
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let mut cfg = std::fs::read_to_string(&live.config).unwrap();
    cfg.push_str(&format!(
        "auth: munge\nagent_secret_file: {}\n",
        secret.display()
    ));
    std::fs::write(&live.config, cfg).unwrap();
    live.start_orchestrator();
    let ep = storalloc_client::read_endpoints(&live.state_dir()).unwrap();

    // An agent without the secret (no -c) is turned away...
    live.start_server();
    std::thread::sleep(Duration::from_secs(2));
    let s = live.status();
    assert_eq!(s["nodes"].as_array().unwrap().len(), 0, "{s:#}");
    // ...one with it registers.
    let agent = Command::new(BIN)
        .args(["server", "-c", live.config.to_str().unwrap()])
        .args([
            "--orchestrator",
            &ep.server,
            "-s",
            live.system.to_str().unwrap(),
        ])
        .args(["--simulate", "--state-dir"])
        .arg(live.dir.path().join("agent2"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    live.servers.push(live_support::Proc {
        child: agent,
        name: "signed server".into(),
        log: live.dir.path().join("none.log"),
    });
    live.wait_nodes_up(1);

    let bin_dir = tempfile::tempdir().unwrap();
    let bin = shared_bin(bin_dir.path());
    let at = ["--orchestrator", ep.client.as_str()];
    let mut args = vec!["client", "-s", "100", "-t", "1:00:00", "--json"];
    args.extend(at);
    let out = as_user("storalloc-ta", &bin, &args);
    assert!(out.status.success(), "{}", output_text(&out));
    let a: serde_json::Value = String::from_utf8_lossy(&out.stdout)
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .expect("allocation JSON");
    let uid_a: u64 = ok("id", &["-u", "storalloc-ta"]).unwrap().parse().unwrap();
    assert_eq!(a["owner_uid"].as_u64(), Some(uid_a), "{a:#}");
    let id = a["id"].as_u64().unwrap().to_string();

    let mut cancel = vec!["cancel", id.as_str()];
    cancel.extend(at);
    let out = as_user("storalloc-tb", &bin, &cancel);
    assert!(!out.status.success(), "B cancelled A's allocation");
    assert!(
        output_text(&out).contains("belongs to another user"),
        "{}",
        output_text(&out)
    );
    let mut status = vec!["status", "--json"];
    status.extend(at);
    let out = as_user("storalloc-tb", &bin, &status);
    assert!(out.status.success(), "{}", output_text(&out));
    let s: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        s["allocations"].as_array().unwrap().is_empty(),
        "B sees no one else's allocation: {s:#}"
    );

    let out = as_user("storalloc-ta", &bin, &cancel);
    assert!(out.status.success(), "{}", output_text(&out));
}

#[test]
fn an_orchestrator_without_auth_refuses_a_non_loopback_address() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = dir.path().join("config.yml");
    std::fs::write(
        &cfg,
        "orchestrator_addr: 0.0.0.0\nclient_port: 0\nserver_port: 0\n",
    )
    .unwrap();
    let mut child = Command::new(BIN)
        .args(["orchestrator", "-c", cfg.to_str().unwrap(), "--state-dir"])
        .arg(dir.path().join("state"))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("the orchestrator started on 0.0.0.0 without auth");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    let msg = output_text(&out);
    assert!(
        msg.contains("refusing to listen") && msg.contains("auth: none"),
        "{msg}"
    );
}
