//! The system description file (`hosts:` … `disks:`), see docs/formats.md.

use crate::error::{read_text, ConfigError, FieldError};
use crate::fields::{
    join, mapping, non_empty_document, non_empty_list, non_empty_text, positive_gb, positive_gbps,
    required, required_as, text, text_list, GB, GBPS,
};
use crate::yaml::{self, Value};
use std::collections::HashMap;
use std::path::Path;
use storalloc_core::{Disk, Medium, Node, System};

/// A loaded system and what was tolerated in it (unknown or repeated keys).
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedSystem {
    pub system: System,
    pub warnings: Vec<String>,
}

const HOST_KEYS: &[&str] = &["hostname", "ipv4", "network_bw", "disks"];
const DISK_KEYS: &[&str] = &[
    "vendor",
    "model",
    "serial",
    "capacity",
    "write_bandwidth",
    "read_bandwidth",
    "block_device",
    "medium",
    "tier",
    "labels",
    "backend",
    "mount",
];

/// Load a system description file. Errors and warnings name the file as
/// `path` spells it.
pub fn load_system(path: &Path) -> Result<LoadedSystem, ConfigError> {
    let text = read_text(path)?;
    parse_system(&text, &path.display().to_string())
}

/// Parse a system description held in memory; `name` stands for the file
/// in messages.
pub fn parse_system(text: &str, name: &str) -> Result<LoadedSystem, ConfigError> {
    let doc = yaml::parse(text).map_err(|message| ConfigError::Yaml {
        file: name.to_string(),
        message,
    })?;
    let mut warnings: Vec<String> = doc
        .warnings
        .into_iter()
        .map(|w| format!("{name}: {w}"))
        .collect();
    non_empty_document(text, &doc.root, "a YAML mapping with a `hosts` list")
        .map_err(|e| e.in_file(name))?;
    let mut unknown = Vec::new();
    let system = read_system(&doc.root, &mut unknown).map_err(|e| e.in_file(name))?;
    warnings.extend(
        unknown
            .into_iter()
            .map(|p| format!("{name}: {p}: unknown key; ignored")),
    );
    Ok(LoadedSystem { system, warnings })
}

fn note_unknown(map: &[(String, Value)], known: &[&str], path: &str, unknown: &mut Vec<String>) {
    for (k, _) in map {
        if !known.contains(&k.as_str()) {
            unknown.push(join(path, k));
        }
    }
}

fn read_system(root: &Value, unknown: &mut Vec<String>) -> Result<System, FieldError> {
    let top = mapping(root, "", "a mapping with a `hosts` list at the top level")?;
    note_unknown(top, &["hosts"], "", unknown);
    let hosts = required(root, "", "hosts", "a non-empty list of hosts")?;
    let hosts = non_empty_list(hosts, "hosts", "a non-empty list of hosts")?;
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut nodes = Vec::with_capacity(hosts.len());
    for (i, host) in hosts.iter().enumerate() {
        let path = format!("hosts[{i}]");
        let node = read_node(host, &path, unknown)?;
        if let Some(first) = seen.insert(node.hostname.clone(), i) {
            return Err(FieldError::new(
                &join(&path, "hostname"),
                format!(
                    "duplicate hostname {:?} (also hosts[{first}].hostname)",
                    node.hostname
                ),
            ));
        }
        nodes.push(node);
    }
    Ok(System { nodes })
}

fn optional_text(map: &Value, path: &str, key: &str) -> Result<Option<String>, FieldError> {
    match map.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => text(v, &join(path, key)).map(Some),
    }
}

fn read_node(host: &Value, path: &str, unknown: &mut Vec<String>) -> Result<Node, FieldError> {
    let entries = mapping(
        host,
        path,
        "a host (a mapping with hostname, network_bw, disks)",
    )?;
    note_unknown(entries, HOST_KEYS, path, unknown);
    let hostname = required_as(host, path, "hostname", "a host name", non_empty_text)?;
    let ipv4 = optional_text(host, path, "ipv4")?.unwrap_or_default();
    let network_bw = required_as(host, path, "network_bw", GBPS, positive_gbps)?;
    let disks_path = join(path, "disks");
    let disks = non_empty_list(
        required(host, path, "disks", "a non-empty list of disks")?,
        &disks_path,
        "a non-empty list of disks",
    )?;
    let disks = disks
        .iter()
        .enumerate()
        .map(|(d, disk)| read_disk(disk, &format!("{disks_path}[{d}]"), unknown))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Node {
        hostname,
        ipv4,
        network_bw,
        disks,
    })
}

fn read_disk(disk: &Value, path: &str, unknown: &mut Vec<String>) -> Result<Disk, FieldError> {
    let entries = mapping(
        disk,
        path,
        "a disk (a mapping with capacity, write_bandwidth, read_bandwidth)",
    )?;
    note_unknown(entries, DISK_KEYS, path, unknown);
    let capacity = required_as(disk, path, "capacity", GB, positive_gb)?;
    let write_bandwidth = required_as(disk, path, "write_bandwidth", GBPS, positive_gbps)?;
    let read_bandwidth = required_as(disk, path, "read_bandwidth", GBPS, positive_gbps)?;
    let medium = match optional_text(disk, path, "medium")? {
        None => None,
        Some(m) => Some(
            m.parse::<Medium>()
                .map_err(|msg| FieldError::new(&join(path, "medium"), msg))?,
        ),
    };
    let labels = match disk.get("labels") {
        None => Vec::new(),
        Some(v) => text_list(v, &join(path, "labels"))?,
    };
    Ok(Disk {
        capacity,
        write_bandwidth,
        read_bandwidth,
        vendor: optional_text(disk, path, "vendor")?.unwrap_or_default(),
        model: optional_text(disk, path, "model")?.unwrap_or_default(),
        serial: optional_text(disk, path, "serial")?.unwrap_or_default(),
        block_device: optional_text(disk, path, "block_device")?.unwrap_or_default(),
        medium,
        tier: optional_text(disk, path, "tier")?,
        labels,
        backend: optional_text(disk, path, "backend")?,
        mount: optional_text(disk, path, "mount")?,
    })
}
