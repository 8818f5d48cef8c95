//! What makes a disk the same disk when its node's list changes: the agent
//! and the orchestrator must agree on it, so it is defined once, here.

use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// A disk's identity within its node: its serial when no other disk of the
/// node has the same, else its block device likewise, else its position
/// (some system files copy one serial onto every disk, or name neither).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiskIdentity {
    Serial(String),
    Device(String),
    Position(u32),
}

impl DiskIdentity {
    /// The identities of a node's disks, given as `(serial, block_device)`
    /// in list order.
    pub fn assign<'a>(
        disks: impl IntoIterator<Item = (&'a str, &'a str)> + Clone,
    ) -> Vec<DiskIdentity> {
        let mut serials: HashMap<&str, usize> = HashMap::new();
        let mut devices: HashMap<&str, usize> = HashMap::new();
        for (s, d) in disks.clone() {
            *serials.entry(s.trim()).or_default() += 1;
            *devices.entry(d.trim()).or_default() += 1;
        }
        disks
            .into_iter()
            .enumerate()
            .map(|(i, (s, d))| {
                let (serial, device) = (s.trim(), d.trim());
                if !serial.is_empty() && serials[serial] == 1 {
                    DiskIdentity::Serial(serial.to_string())
                } else if !device.is_empty() && devices[device] == 1 {
                    DiskIdentity::Device(device.to_string())
                } else {
                    DiskIdentity::Position(i as u32)
                }
            })
            .collect()
    }
}

impl std::fmt::Display for DiskIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            DiskIdentity::Serial(s) => write!(f, "serial {s}"),
            DiskIdentity::Device(d) => write!(f, "device {d}"),
            DiskIdentity::Position(p) => write!(f, "position {p}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serials_then_devices_then_positions() {
        let ids =
            DiskIdentity::assign([("A", "/dev/a"), ("B", "/dev/b"), ("", "/dev/c"), ("", "")]);
        assert_eq!(
            ids,
            vec![
                DiskIdentity::Serial("A".into()),
                DiskIdentity::Serial("B".into()),
                DiskIdentity::Device("/dev/c".into()),
                DiskIdentity::Position(3),
            ]
        );
    }

    #[test]
    fn a_repeated_serial_identifies_nothing() {
        let ids = DiskIdentity::assign([("X", "/dev/a"), ("X", "/dev/b"), ("X", "")]);
        assert_eq!(
            ids,
            vec![
                DiskIdentity::Device("/dev/a".into()),
                DiskIdentity::Device("/dev/b".into()),
                DiskIdentity::Position(2),
            ]
        );
    }
}
