//! The `nvmet` backend against a plain directory laid out like
//! `/sys/kernel/config/nvmet`: the conformance suite, then the layout it
//! writes checked file by file, access control, release, the nvmetcli
//! restore file and preflight. (The real kernel target is exercised by the
//! QEMU guest test, `nvmet_guest.rs`.)

use std::path::{Path, PathBuf};
use storalloc_agent::conformance::spec;
use storalloc_agent::nvmet_json::NvmetcliConfig;
use storalloc_agent::{
    allocation_nqn, BackendError, BackendSettings, DiskBackends, NvmetBackend, NvmetConfig,
    NvmetDisk, NvmetPort, StorageBackend,
};
use storalloc_core::units::{Bandwidth, Bytes};
use storalloc_core::{Disk, Node};

const GB: u64 = 1_000_000_000;
const H1: &str = "nqn.2014-08.org.nvmexpress:uuid:host-one";
const H2: &str = "nqn.2014-08.org.nvmexpress:uuid:host-two";

/// The empty groups the kernel shows once nvmet is loaded.
fn empty_tree(root: &Path) {
    for g in ["subsystems", "ports", "hosts"] {
        std::fs::create_dir_all(root.join(g)).unwrap();
    }
}

fn config(dir: &Path) -> NvmetConfig {
    let root = dir.join("configfs/nvmet");
    empty_tree(&root);
    let backing = dir.join("backing");
    std::fs::create_dir_all(&backing).unwrap();
    let disks = (0..2u32)
        .map(|i| {
            Some(NvmetDisk {
                capacity_bytes: 10 * GB,
                backing_dir: backing.clone(),
                port: NvmetPort {
                    port_id: 4420 + i as u16,
                    transport: "tcp".into(),
                    adrfam: "ipv4".into(),
                    traddr: "10.0.0.7".into(),
                    trsvcid: 4420 + i,
                    connect_address: "10.0.0.7".into(),
                },
            })
        })
        .collect();
    NvmetConfig {
        hostname: "ault14".into(),
        configfs_root: root,
        restore_file: Some(dir.join("nvmet-ault14.json")),
        buffered_io: true,
        disks,
    }
}

fn backend(dir: &Path) -> NvmetBackend {
    let b = NvmetBackend::new(config(dir));
    b.preflight().expect("preflight on the test tree");
    b
}

storalloc_agent::backend_conformance!(nvmet_conformance, backend);

fn read(p: &Path) -> String {
    std::fs::read_to_string(p)
        .unwrap_or_else(|e| panic!("{}: {e}", p.display()))
        .trim_end()
        .to_string()
}

fn names(p: &Path) -> Vec<String> {
    let mut v: Vec<String> = match std::fs::read_dir(p) {
        Ok(rd) => rd
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn saved(dir: &Path) -> NvmetcliConfig {
    serde_json::from_slice(&std::fs::read(dir.join("nvmet-ault14.json")).unwrap()).unwrap()
}

#[test]
fn an_export_is_laid_out_in_configfs_file_by_file_and_release_removes_all_of_it() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let root = dir.path().join("configfs/nvmet");
    let mut s = spec(42, 1, 3);
    s.host_nqns = vec![H2.into(), H1.into()];
    let att = b.apply(&s).unwrap();

    let nqn = allocation_nqn("ault14", 42, 1);
    assert_eq!(att.nqn, nqn);
    assert!(nqn.starts_with("nqn.2014-08.org.nvmexpress:NVMf:uuid:"));
    assert_eq!(
        (
            att.kind.as_str(),
            att.transport.as_str(),
            att.address.as_str(),
            att.port
        ),
        ("nvme", "tcp", "10.0.0.7", 4421)
    );
    assert_eq!(
        att.connect_command,
        format!("nvme connect -t tcp -a 10.0.0.7 -s 4421 -n {nqn}")
    );

    let sub = root.join("subsystems").join(&nqn);
    assert_eq!(
        read(&sub.join("attr_allow_any_host")),
        "0",
        "never allow any host"
    );
    let ns = sub.join("namespaces/1");
    let backing = dir.path().join("backing/storalloc-42-disk1.img");
    assert_eq!(read(&ns.join("device_path")), backing.display().to_string());
    assert_eq!(read(&ns.join("enable")), "1");
    assert_eq!(read(&ns.join("buffered_io")), "1");
    let meta = std::fs::metadata(&backing).unwrap();
    assert_eq!(meta.len(), 3 * GB, "backing file is exactly the capacity");
    assert!(
        std::os::unix::fs::MetadataExt::blocks(&meta) < 1024,
        "and sparse"
    );

    assert_eq!(
        names(&sub.join("allowed_hosts")),
        vec![H1.to_string(), H2.to_string()]
    );
    for h in [H1, H2] {
        assert!(root.join("hosts").join(h).is_dir());
        assert_eq!(
            std::fs::read_link(sub.join("allowed_hosts").join(h)).unwrap(),
            root.join("hosts").join(h)
        );
    }
    let port = root.join("ports/4421");
    assert_eq!(read(&port.join("addr_trtype")), "tcp");
    assert_eq!(read(&port.join("addr_adrfam")), "ipv4");
    assert_eq!(read(&port.join("addr_traddr")), "10.0.0.7");
    assert_eq!(read(&port.join("addr_trsvcid")), "4421");
    assert_eq!(
        std::fs::read_link(port.join("subsystems").join(&nqn)).unwrap(),
        sub
    );
    assert!(
        names(&root.join("ports")) == vec!["4421".to_string()],
        "only disk 1's port"
    );

    // The nvmetcli file says the same.
    let json = saved(dir.path());
    assert_eq!(json.subsystems.len(), 1);
    let js = &json.subsystems[0];
    assert_eq!(js.nqn, nqn);
    assert_eq!(js.attr["allow_any_host"], "0");
    assert_eq!(js.allowed_hosts, vec![H1.to_string(), H2.to_string()]);
    assert_eq!(
        js.namespaces[0].device["path"],
        backing.display().to_string()
    );
    assert_eq!((js.namespaces[0].nsid, js.namespaces[0].enable), (1, 1));
    let jp = json.port_of(&nqn).unwrap();
    assert_eq!(jp.portid, 4421);
    assert_eq!(
        (
            jp.addr["trtype"].as_str(),
            jp.addr["traddr"].as_str(),
            jp.addr["trsvcid"].as_str()
        ),
        ("tcp", "10.0.0.7", "4421")
    );
    let mut hosts: Vec<_> = json.hosts.iter().map(|h| h.nqn.clone()).collect();
    hosts.sort();
    assert_eq!(hosts, vec![H1.to_string(), H2.to_string()]);

    b.release(42, 1).unwrap();
    for g in ["subsystems", "ports", "hosts"] {
        assert!(
            names(&root.join(g)).is_empty(),
            "{g} left: {:?}",
            names(&root.join(g))
        );
    }
    assert!(!backing.exists(), "backing file removed");
    assert_eq!(saved(dir.path()), NvmetcliConfig::default());
    b.release(42, 1).unwrap();
}

#[test]
fn without_host_nqns_nobody_may_attach_until_hosts_are_given() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let sub = dir
        .path()
        .join("configfs/nvmet/subsystems")
        .join(allocation_nqn("ault14", 1, 0));
    let s = spec(1, 0, 1);
    let first = b.apply(&s).unwrap();
    assert_eq!(read(&sub.join("attr_allow_any_host")), "0");
    assert!(names(&sub.join("allowed_hosts")).is_empty());

    let mut with = s.clone();
    with.host_nqns = vec![H1.into(), H2.into()];
    assert_eq!(
        b.apply(&with).unwrap(),
        first,
        "same export, same attachment"
    );
    assert_eq!(names(&sub.join("allowed_hosts")).len(), 2);
    with.host_nqns = vec![H2.into()];
    b.apply(&with).unwrap();
    assert_eq!(
        names(&sub.join("allowed_hosts")),
        vec![H2.to_string()],
        "a host no longer named loses access"
    );
    assert_eq!(read(&sub.join("attr_allow_any_host")), "0");
}

#[test]
fn a_host_still_allowed_elsewhere_and_foreign_subsystems_survive_a_release() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let root = dir.path().join("configfs/nvmet");
    let foreign = root.join("subsystems/nqn.2020-01.org.example:someone-else");
    std::fs::create_dir_all(foreign.join("namespaces/1")).unwrap();
    std::fs::write(foreign.join("namespaces/1/device_path"), "/dev/sdz").unwrap();
    let mut a = spec(1, 0, 1);
    a.host_nqns = vec![H1.into()];
    let mut c = spec(2, 0, 1);
    c.host_nqns = vec![H1.into(), H2.into()];
    b.apply(&a).unwrap();
    b.apply(&c).unwrap();
    assert_eq!(
        b.list_held().unwrap().len(),
        2,
        "the foreign subsystem is not ours"
    );
    b.release(2, 0).unwrap();
    assert_eq!(
        names(&root.join("hosts")),
        vec![H1.to_string()],
        "H1 is still used by allocation 1"
    );
    assert_eq!(
        names(&root.join("ports")),
        vec!["4420".to_string()],
        "the port still exports allocation 1"
    );
    b.release(1, 0).unwrap();
    assert!(names(&root.join("hosts")).is_empty());
    assert!(names(&root.join("ports")).is_empty());
    assert!(
        foreign.join("namespaces/1/device_path").exists(),
        "not ours, not touched"
    );
}

#[test]
fn exports_come_back_from_the_nvmetcli_file_after_a_reboot() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("configfs/nvmet");
    let (held, att) = {
        let b = backend(dir.path());
        let mut s = spec(7, 0, 2);
        s.host_nqns = vec![H1.into()];
        let att = b.apply(&s).unwrap();
        b.apply(&spec(8, 1, 1)).unwrap();
        (b.list_held().unwrap(), att)
    };
    // A reboot empties configfs; the backing files and the state dir stay.
    std::fs::remove_dir_all(&root).unwrap();
    let b = backend(dir.path());
    assert!(
        b.list_held().unwrap().is_empty(),
        "configfs forgot everything"
    );
    assert_eq!(b.restore().unwrap(), 2);
    assert_eq!(b.list_held().unwrap(), held);
    let sub = root.join("subsystems").join(&att.nqn);
    assert_eq!(read(&sub.join("attr_allow_any_host")), "0");
    assert_eq!(names(&sub.join("allowed_hosts")), vec![H1.to_string()]);
    assert_eq!(read(&root.join("ports/4420/addr_trsvcid")), "4420");
    assert_eq!(b.restore().unwrap(), 0, "nothing left to restore");
    assert_eq!(
        b.apply(&{
            let mut s = spec(7, 0, 2);
            s.host_nqns = vec![H1.into()];
            s
        })
        .unwrap(),
        att
    );
}

#[test]
fn a_restore_file_from_nvmetcli_with_extra_attributes_loads() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path());
    let backing = dir.path().join("backing/storalloc-5-disk0.img");
    std::fs::File::create(&backing)
        .unwrap()
        .set_len(GB)
        .unwrap();
    let nqn = allocation_nqn("ault14", 5, 0);
    let text = format!(
        r#"{{"hosts":[{{"nqn":"{H1}"}}],
            "ports":[{{"addr":{{"adrfam":"ipv4","traddr":"10.0.0.7","treq":"not specified","trsvcid":"4420","trtype":"tcp","tsas":"none"}},
                       "ana_groups":[{{"ana":{{"state":"optimized"}},"grpid":1}}],"param":{{"inline_data_size":"16384"}},
                       "portid":4420,"referrals":[],"subsystems":["{nqn}"]}}],
            "subsystems":[{{"allowed_hosts":["{H1}"],"attr":{{"allow_any_host":"1","model":"Linux"}},
                            "namespaces":[{{"ana_grpid":1,"device":{{"nguid":"00000000-0000-0000-0000-000000000000","path":"{}"}},"enable":1,"nsid":1}}],
                            "nqn":"{nqn}"}}]}}"#,
        backing.display()
    );
    std::fs::write(dir.path().join("nvmet-ault14.json"), text).unwrap();
    let b = NvmetBackend::new(cfg);
    assert_eq!(b.restore().unwrap(), 1);
    let sub = dir.path().join("configfs/nvmet/subsystems").join(&nqn);
    assert_eq!(
        read(&sub.join("attr_allow_any_host")),
        "0",
        "a saved allow_any_host=1 is not restored"
    );
    assert_eq!(b.list_held().unwrap()[0].capacity_bytes, GB);
}

#[test]
fn a_corrupt_restore_file_is_reported_with_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    std::fs::write(dir.path().join("nvmet-ault14.json"), "{nope").unwrap();
    let err = b.restore().unwrap_err().to_string();
    assert!(err.contains("nvmet-ault14.json"), "{err}");
}

#[test]
fn an_invalid_host_nqn_is_refused_before_anything_is_made() {
    let dir = tempfile::tempdir().unwrap();
    let b = backend(dir.path());
    let mut s = spec(1, 0, 1);
    s.host_nqns = vec!["../../etc".into()];
    let err = b.apply(&s).unwrap_err();
    assert!(matches!(err, BackendError::InvalidSpec { .. }), "{err:?}");
    assert!(b.list_held().unwrap().is_empty());
    assert!(names(&dir.path().join("backing")).is_empty());
}

#[test]
fn preflight_names_what_is_missing_or_wrong() {
    let dir = tempfile::tempdir().unwrap();
    // No nvmet module: the configfs groups are not there.
    let mut cfg = config(dir.path());
    cfg.configfs_root = dir.path().join("no-configfs/nvmet");
    let err = NvmetBackend::new(cfg).preflight().unwrap_err().to_string();
    assert!(
        err.contains("modprobe nvmet") && err.contains("no-configfs"),
        "{err}"
    );

    // A port of the same id configured by someone else.
    let cfg = config(dir.path());
    let port = cfg.configfs_root.join("ports/4421");
    std::fs::create_dir_all(&port).unwrap();
    for (a, v) in [
        ("addr_trtype", "tcp"),
        ("addr_adrfam", "ipv4"),
        ("addr_traddr", "192.168.9.9"),
        ("addr_trsvcid", "4421"),
    ] {
        std::fs::write(port.join(a), v).unwrap();
    }
    let err = NvmetBackend::new(cfg.clone())
        .preflight()
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("disk 1") && err.contains("192.168.9.9"),
        "{err}"
    );
    std::fs::remove_dir_all(&port).unwrap();

    // A disk larger than its filesystem's free space, and a missing mount.
    let mut big = cfg.clone();
    big.disks[0].as_mut().unwrap().capacity_bytes = u64::MAX / 2;
    let err = NvmetBackend::new(big).preflight().unwrap_err().to_string();
    assert!(
        err.contains("disk 0") && err.contains("larger than"),
        "{err}"
    );
    let mut gone = cfg;
    gone.disks[1].as_mut().unwrap().backing_dir = dir.path().join("not-there");
    let err = NvmetBackend::new(gone).preflight().unwrap_err().to_string();
    assert!(err.contains("not-there"), "{err}");
}

fn node(disks: Vec<(Option<&str>, Option<PathBuf>)>) -> Node {
    Node {
        hostname: "ault14".into(),
        ipv4: "10.0.0.7".into(),
        network_bw: Bandwidth(10.0),
        disks: disks
            .into_iter()
            .map(|(backend, mount)| Disk {
                capacity: Bytes(10 * GB),
                write_bandwidth: Bandwidth(1.0),
                read_bandwidth: Bandwidth(1.0),
                vendor: String::new(),
                model: String::new(),
                serial: String::new(),
                block_device: String::new(),
                medium: None,
                tier: None,
                labels: Vec::new(),
                backend: backend.map(str::to_string),
                mount: mount.map(|m| m.display().to_string()),
            })
            .collect(),
    }
}

#[tokio::test]
async fn the_system_file_picks_the_backend_per_disk_and_start_up_runs_preflight() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("configfs/nvmet");
    empty_tree(&root);
    let settings = BackendSettings {
        nvmet_root: root.clone(),
        ..BackendSettings::default()
    };
    let state = dir.path().join("state");
    let n = node(vec![
        (Some("simulate"), None),
        (Some("nvmet"), Some(dir.path().to_path_buf())),
    ]);
    let b = DiskBackends::for_node_with(&n, false, Some(&state), &settings).unwrap();
    b.preflight_and_restore().await.unwrap();
    let sim = b.apply(spec(1, 0, 1)).await.unwrap();
    let real = b.apply(spec(2, 1, 1)).await.unwrap();
    assert!(
        !root.join("subsystems").join(&sim.nqn).exists(),
        "disk 0 is simulated"
    );
    assert!(
        root.join("subsystems").join(&real.nqn).exists(),
        "disk 1 is exported"
    );
    assert!(
        state.join("nvmet-ault14.json").exists(),
        "restore file in the state dir"
    );
    assert_eq!(real.port, 4421);

    // --simulate touches nothing real, even with a broken nvmet set-up.
    let broken = BackendSettings {
        nvmet_root: dir.path().join("nowhere"),
        ..BackendSettings::default()
    };
    let sim = DiskBackends::for_node_with(&n, true, Some(&state), &broken).unwrap();
    sim.preflight_and_restore().await.unwrap();
    // Without it, the broken set-up fails at start, naming the disk.
    let real = DiskBackends::for_node_with(&n, false, Some(&state), &broken).unwrap();
    let err = real.preflight_and_restore().await.unwrap_err().to_string();
    assert!(
        err.contains("disk 1") && err.contains("modprobe nvmet"),
        "{err}"
    );
    // A real backend without a mount, and an unknown backend name.
    let no_mount = node(vec![(Some("fs"), None)]);
    let err = DiskBackends::for_node_with(&no_mount, false, None, &settings)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("disk 0") && err.contains("`mount`"), "{err}");
    let odd = node(vec![(Some("zfs"), None)]);
    let err = DiskBackends::for_node_with(&odd, false, None, &settings)
        .err()
        .unwrap()
        .to_string();
    assert!(err.contains("zfs") && err.contains("fs, nvmet"), "{err}");
}
