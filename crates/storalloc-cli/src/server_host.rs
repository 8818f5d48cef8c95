//! Which hosts of a system file `storalloc server` serves: `--host NAME`,
//! `--all-hosts`, the only host of a one-host file, or the host named like
//! this machine. Anything else is refused: silently serving the first host
//! of a shared file would register this machine under another's name.

use std::path::Path;
use storalloc_core::{Node, System};

/// This machine's host name (gethostname), if it has one.
pub fn machine_hostname() -> Option<String> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    let name = String::from_utf8_lossy(&buf[..end]).trim().to_string();
    (!name.is_empty()).then_some(name)
}

/// `ault14-1` for `ault14-1.cscs.ch`.
fn short(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

/// The hosts this invocation serves; `machine` is this machine's host name.
/// `Err` is the message for a bad command line (exit status 2).
pub fn pick_hosts(
    system: &System,
    host: Option<&str>,
    all: bool,
    file: &Path,
    machine: Option<&str>,
) -> Result<Vec<Node>, String> {
    let names: Vec<&str> = system.nodes.iter().map(|n| n.hostname.as_str()).collect();
    if all {
        return Ok(system.nodes.clone());
    }
    if let Some(h) = host {
        return match system.nodes.iter().find(|n| n.hostname == h) {
            Some(n) => Ok(vec![n.clone()]),
            None => Err(format!(
                "{}: no host {h:?} (hosts: {})",
                file.display(),
                names.join(", ")
            )),
        };
    }
    if let [only] = system.nodes.as_slice() {
        return Ok(vec![only.clone()]);
    }
    if let Some(m) = machine {
        // The exact name first, then the short names (a file may say
        // `ault14-1` where the machine calls itself `ault14-1.cscs.ch`, or
        // the other way round); more than one match decides nothing.
        let exact: Vec<&Node> = system.nodes.iter().filter(|n| n.hostname == m).collect();
        let by_short: Vec<&Node> = system
            .nodes
            .iter()
            .filter(|n| short(&n.hostname) == short(m))
            .collect();
        for found in [exact, by_short] {
            if let [n] = found.as_slice() {
                return Ok(vec![(*n).clone()]);
            }
        }
    }
    Err(format!(
        "{}: {} hosts ({}) and none is this machine ({}); pass --host NAME to say which \
         one this server is, or --all-hosts to serve them all from here",
        file.display(),
        names.len(),
        names.join(", "),
        machine.unwrap_or("its host name is unknown")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn system(names: &[&str]) -> System {
        let text: String = std::iter::once("hosts:\n".to_string())
            .chain(names.iter().map(|n| {
                format!(
                    "  - hostname: {n}\n    network_bw: 1\n    disks:\n      - capacity: 1\n        \
                     write_bandwidth: 1\n        read_bandwidth: 1\n"
                )
            }))
            .collect();
        storalloc_config::parse_system(&text, "sys.yml")
            .unwrap()
            .system
    }

    fn picked(s: &System, host: Option<&str>, machine: Option<&str>) -> Result<String, String> {
        pick_hosts(s, host, false, Path::new("sys.yml"), machine).map(|nodes| {
            assert_eq!(nodes.len(), 1);
            nodes[0].hostname.clone()
        })
    }

    #[test]
    fn the_machine_name_picks_its_host_exactly_or_by_short_name() {
        let s = system(&["a1", "a2.site.org", "a3"]);
        assert_eq!(picked(&s, None, Some("a3")).unwrap(), "a3");
        assert_eq!(picked(&s, None, Some("a1.site.org")).unwrap(), "a1");
        assert_eq!(picked(&s, None, Some("a2")).unwrap(), "a2.site.org");
        // --host wins over the machine's name.
        assert_eq!(picked(&s, Some("a1"), Some("a3")).unwrap(), "a1");
    }

    #[test]
    fn several_hosts_and_no_match_is_refused_listing_them() {
        let s = system(&["a1", "a2", "a3"]);
        for machine in [Some("login7"), None] {
            let e = picked(&s, None, machine).unwrap_err();
            assert!(
                e.starts_with("sys.yml: 3 hosts (a1, a2, a3) and none is"),
                "{e}"
            );
            assert!(e.contains("pass --host NAME"), "{e}");
        }
        // Two hosts with the machine's short name decide nothing either.
        let s = system(&["a1.x.org", "a1.y.org"]);
        assert!(picked(&s, None, Some("a1")).is_err());
        assert_eq!(picked(&s, None, Some("a1.y.org")).unwrap(), "a1.y.org");
    }

    #[test]
    fn a_single_host_needs_no_name_and_an_unknown_name_is_refused() {
        let s = system(&["only"]);
        assert_eq!(picked(&s, None, Some("elsewhere")).unwrap(), "only");
        let e = picked(&s, Some("nope"), None).unwrap_err();
        assert_eq!(e, "sys.yml: no host \"nope\" (hosts: only)");
        let all = pick_hosts(&system(&["a", "b"]), None, true, Path::new("s"), None).unwrap();
        assert_eq!(all.len(), 2);
    }
}
