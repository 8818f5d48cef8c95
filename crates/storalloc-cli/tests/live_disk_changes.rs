//! A node's system file changes between two agent starts — a disk removed,
//! one grown, one added, the rest reordered — through the real binaries:
//! every allocation on a remaining disk survives, the removed disk's are
//! LOST (not released), and the grown disk offers its new capacity.

mod live_support;

use live_support::{allocation, assert_invariants, Live};
use serde_json::Value;

fn disk(serial: &str, gb: u64) -> String {
    format!(
        "      - vendor: TEST\n        model: T1\n        serial: {serial}\n        capacity: {gb}\n        \
         write_bandwidth: 2.93\n        read_bandwidth: 3.13\n"
    )
}

fn system(disks: &[(&str, u64)]) -> String {
    let mut s = String::from(
        "hosts:\n  - hostname: live1\n    ipv4: 127.0.0.1\n    network_bw: 12.5\n    disks:\n",
    );
    for (serial, gb) in disks {
        s.push_str(&disk(serial, *gb));
    }
    s
}

fn state_of(s: &Value, id: u64) -> String {
    allocation(s, id)
        .map(|a| a["state"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default()
}

#[test]
fn a_changed_system_file_keeps_allocations_and_marks_the_removed_disks_lost() {
    let mut live = Live::running(&system(&[("S1", 1000), ("S2", 1000), ("S3", 1000)]), false);
    // worst_fit puts each 900 GB allocation on its own disk.
    let ids: Vec<u64> = (0..3)
        .map(|_| live.granted(&["-s", "900", "-t", "10:00:00"]).0)
        .collect();
    let s = live.status();
    let disk_of = |id: u64| {
        allocation(&s, id).unwrap()["placements"][0]["disk"]
            .as_u64()
            .unwrap()
    };
    let on = |d: u64| *ids.iter().find(|&&id| disk_of(id) == d).unwrap();
    let (a1, a2, a3) = (on(0), on(1), on(2));

    // The agent stops; the admin edits the file: S3 removed, S2 grown and
    // listed first, a new S4, S1 last.
    for p in &mut live.servers {
        p.terminate();
    }
    live.servers.clear();
    std::fs::write(
        &live.system,
        system(&[("S2", 2000), ("S4", 500), ("S1", 1000)]),
    )
    .unwrap();
    live.start_server();
    let s = live.wait_status("the node back with its new disks", 30, |s| {
        s["nodes"][0]["state"] == "up"
            && state_of(s, a3) == "lost"
            && s["nodes"][0]["disks"].as_array().map(|d| d.len()) == Some(4)
    });
    assert_eq!(
        state_of(&s, a1),
        "allocated",
        "S1's allocation survives the reorder"
    );
    assert_eq!(
        state_of(&s, a2),
        "allocated",
        "S2's allocation survives the resize"
    );
    let lost = allocation(&s, a3).unwrap();
    assert!(
        lost["explanation"].as_str().unwrap().contains("serial S3"),
        "{lost:#}"
    );
    let disks = s["nodes"][0]["disks"].as_array().unwrap();
    let view: Vec<(u64, Value, &str)> = disks
        .iter()
        .map(|d| {
            (
                d["disk"].as_u64().unwrap(),
                d["position"].clone(),
                d["identity"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        view,
        vec![
            (0, Value::from(2), "serial S1"),
            (1, Value::from(0), "serial S2"),
            (2, Value::Null, "serial S3"),
            (3, Value::from(1), "serial S4"),
        ]
    );
    assert_eq!(
        disks[2]["used_bytes"], 900_000_000_000u64,
        "S3's capacity stays booked"
    );
    assert_invariants(&s);
    // The agent still holds S1's and S2's storage: no Release reached it.
    let held = std::fs::read_to_string(live.agent_dir().join("simulate-live1.json")).unwrap();
    for id in [a1, a2, a3] {
        assert!(
            held.contains(&format!("\"allocation_id\": {id}")),
            "{id} released: {held}"
        );
    }
    // S2 grew: 1000 GB more fit beside its 900 GB.
    let (big, _) = live.granted(&["-s", "1000", "-t", "1:00:00"]);
    let s = live.status();
    assert_eq!(
        allocation(&s, big).unwrap()["placements"][0]["disk"],
        1,
        "on S2's slot"
    );

    // S3 comes back: its allocation is live again, with its storage.
    for p in &mut live.servers {
        p.terminate();
    }
    live.servers.clear();
    std::fs::write(
        &live.system,
        system(&[("S2", 2000), ("S4", 500), ("S1", 1000), ("S3", 1000)]),
    )
    .unwrap();
    live.start_server();
    live.wait_status("S3's allocation live again", 30, |s| {
        state_of(s, a3) == "allocated"
    });
}
