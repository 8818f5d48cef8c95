//! The JSON that `nvmetcli save` writes and `nvmetcli restore` reads, for
//! the part of the nvmet configuration the `nvmet` backend owns. Keeping the
//! exports in this format means an operator can restore them after a reboot
//! with the agent (`restore` at start) or by hand with `nvmetcli restore`.
//!
//! Attribute groups (`attr`, `addr`, `device`) are kept as string maps, as
//! nvmetcli does, so a file it wrote with more attributes still loads.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NvmetcliConfig {
    #[serde(default)]
    pub hosts: Vec<HostJson>,
    #[serde(default)]
    pub ports: Vec<PortJson>,
    #[serde(default)]
    pub subsystems: Vec<SubsystemJson>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HostJson {
    pub nqn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortJson {
    /// `adrfam`, `traddr`, `treq`, `trsvcid`, `trtype`.
    pub addr: BTreeMap<String, String>,
    pub portid: u16,
    #[serde(default)]
    pub referrals: Vec<serde_json::Value>,
    #[serde(default)]
    pub subsystems: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsystemJson {
    #[serde(default)]
    pub allowed_hosts: Vec<String>,
    /// `allow_any_host` and friends, as strings.
    #[serde(default)]
    pub attr: BTreeMap<String, String>,
    #[serde(default)]
    pub namespaces: Vec<NamespaceJson>,
    pub nqn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamespaceJson {
    /// `path` (and, from nvmetcli, `nguid`, `uuid`).
    pub device: BTreeMap<String, String>,
    #[serde(default)]
    pub enable: u8,
    pub nsid: u32,
}

impl NvmetcliConfig {
    /// The port that exports `nqn`, if any.
    pub fn port_of(&self, nqn: &str) -> Option<&PortJson> {
        self.ports
            .iter()
            .find(|p| p.subsystems.iter().any(|s| s == nqn))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `nvmetcli save` printed for a one-subsystem TCP export (trimmed
    /// of the ANA groups and params it also writes).
    const SAVED: &str = r#"{
  "hosts": [ { "nqn": "nqn.2014-08.org.nvmexpress:uuid:host-a" } ],
  "ports": [
    {
      "addr": { "adrfam": "ipv4", "traddr": "10.0.0.7", "treq": "not specified",
                "trsvcid": "4420", "trtype": "tcp", "tsas": "none" },
      "ana_groups": [ { "ana": { "state": "optimized" }, "grpid": 1 } ],
      "param": { "inline_data_size": "16384", "pi_enable": "0" },
      "portid": 4420,
      "referrals": [],
      "subsystems": [ "nqn.2014-08.org.nvmexpress:NVMf:uuid:x" ]
    }
  ],
  "subsystems": [
    {
      "allowed_hosts": [ "nqn.2014-08.org.nvmexpress:uuid:host-a" ],
      "attr": { "allow_any_host": "0", "model": "Linux", "version": "1.3" },
      "namespaces": [
        { "ana": { "grpid": "1" }, "ana_grpid": 1,
          "device": { "nguid": "00000000-0000-0000-0000-000000000000",
                      "path": "/srv/a.img", "uuid": "91fdba0d-f87b-4c25-b80f-db7be1418b9e" },
          "enable": 1, "nsid": 1 }
      ],
      "nqn": "nqn.2014-08.org.nvmexpress:NVMf:uuid:x"
    }
  ]
}"#;

    #[test]
    fn reads_what_nvmetcli_saves() {
        let c: NvmetcliConfig = serde_json::from_str(SAVED).unwrap();
        assert_eq!(c.hosts[0].nqn, "nqn.2014-08.org.nvmexpress:uuid:host-a");
        let port = c.port_of("nqn.2014-08.org.nvmexpress:NVMf:uuid:x").unwrap();
        assert_eq!(port.portid, 4420);
        assert_eq!(port.addr["trtype"], "tcp");
        assert_eq!(port.addr["trsvcid"], "4420");
        let s = &c.subsystems[0];
        assert_eq!(s.attr["allow_any_host"], "0");
        assert_eq!(s.namespaces[0].device["path"], "/srv/a.img");
        assert_eq!((s.namespaces[0].nsid, s.namespaces[0].enable), (1, 1));
        assert!(c.port_of("nqn.other").is_none());
    }

    #[test]
    fn writes_the_keys_nvmetcli_restore_reads() {
        let c: NvmetcliConfig = serde_json::from_str(SAVED).unwrap();
        let v: serde_json::Value = serde_json::to_value(&c).unwrap();
        for key in ["hosts", "ports", "subsystems"] {
            assert!(v[key].is_array(), "{key}");
        }
        assert_eq!(v["ports"][0]["portid"], 4420);
        assert_eq!(v["ports"][0]["addr"]["traddr"], "10.0.0.7");
        assert_eq!(v["subsystems"][0]["namespaces"][0]["nsid"], 1);
        assert_eq!(v["subsystems"][0]["namespaces"][0]["enable"], 1);
        let again: NvmetcliConfig = serde_json::from_value(v).unwrap();
        assert_eq!(again, c);
    }
}
