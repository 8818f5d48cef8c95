//! The `storalloc server` options about its storage: the orphan grace
//! period and the nvmet port settings, checked when the command line is
//! parsed so a bad value stops the server before it touches anything.

use clap::Args;
use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;
use storalloc_agent::BackendSettings;
use storalloc_core::TimeSpan;

#[derive(Args, Debug, Clone)]
pub struct StorageOptions {
    /// How long the orchestrator must keep naming held storage as an orphan
    /// (unknown to it) before the server deletes it. Slurm forms or
    /// 30s/5m/2h; a bare number is minutes; 0 deletes orphans right after
    /// registering.
    #[arg(long, value_name = "DURATION", default_value = "5m", value_parser = parse_grace)]
    pub orphan_grace: Duration,
    /// The nvmet configfs directory [default: /sys/kernel/config/nvmet].
    #[arg(long = "nvmet-configfs", value_name = "PATH")]
    pub nvmet_configfs: Option<PathBuf>,
    /// The NVMe-oF transport of the nvmet ports.
    #[arg(long, value_name = "TRANSPORT", value_parser = ["tcp", "rdma"])]
    pub nvmet_transport: Option<String>,
    /// The IPv4 or IPv6 address the nvmet ports listen on (default: the
    /// host's `ipv4` from the system file; clients are always told that one).
    #[arg(long, value_name = "ADDR", value_parser = parse_listen)]
    pub nvmet_listen: Option<String>,
    /// Disk N is exported on port (and configfs port id) N + this [default: 4420].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65535))]
    pub nvmet_port_base: Option<u32>,
    /// Open backing files through the page cache (`--nvmet-buffered-io=false`
    /// for direct I/O; tmpfs needs buffered) [default: true].
    #[arg(
        long,
        value_name = "BOOL",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = "true"
    )]
    pub nvmet_buffered_io: Option<bool>,
}

impl StorageOptions {
    /// The settings of the real backends: the defaults, overridden by the
    /// flags given.
    pub fn backend_settings(&self) -> BackendSettings {
        let mut s = BackendSettings::default();
        if let Some(root) = &self.nvmet_configfs {
            s.nvmet_root = root.clone();
        }
        if let Some(t) = &self.nvmet_transport {
            s.nvmet_transport = t.clone();
        }
        if let Some(addr) = &self.nvmet_listen {
            s.nvmet_listen = Some(addr.clone());
        }
        if let Some(base) = self.nvmet_port_base {
            s.nvmet_port_base = base;
        }
        if let Some(b) = self.nvmet_buffered_io {
            s.nvmet_buffered_io = b;
        }
        s
    }

    /// The `--nvmet-*` flags given on the command line.
    pub fn nvmet_flags_given(&self) -> Vec<&'static str> {
        [
            (self.nvmet_configfs.is_some(), "--nvmet-configfs"),
            (self.nvmet_transport.is_some(), "--nvmet-transport"),
            (self.nvmet_listen.is_some(), "--nvmet-listen"),
            (self.nvmet_port_base.is_some(), "--nvmet-port-base"),
            (self.nvmet_buffered_io.is_some(), "--nvmet-buffered-io"),
        ]
        .into_iter()
        .filter(|(given, _)| *given)
        .map(|(_, flag)| flag)
        .collect()
    }
}

fn parse_grace(s: &str) -> Result<Duration, String> {
    s.parse::<TimeSpan>()
        .map(|t| Duration::from_secs(t.secs()))
        .map_err(|e| e.to_string())
}

/// configfs `addr_traddr` takes a numeric address, not a host name.
fn parse_listen(s: &str) -> Result<String, String> {
    s.trim()
        .parse::<IpAddr>()
        .map(|ip| ip.to_string())
        .map_err(|_| {
            format!("{s:?} is not an IPv4 or IPv6 address (nvmet listens on a numeric address)")
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        o: StorageOptions,
    }

    fn parse(args: &[&str]) -> Result<StorageOptions, String> {
        let mut all = vec!["server"];
        all.extend_from_slice(args);
        Cli::try_parse_from(all)
            .map(|c| c.o)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn defaults_are_the_backend_defaults_and_five_minutes() {
        let o = parse(&[]).unwrap();
        assert_eq!(o.backend_settings(), BackendSettings::default());
        assert_eq!(o.orphan_grace, Duration::from_secs(300));
        assert!(o.nvmet_flags_given().is_empty());
    }

    #[test]
    fn every_flag_reaches_the_settings() {
        let o = parse(&[
            "--orphan-grace",
            "0",
            "--nvmet-configfs",
            "/tmp/cfs",
            "--nvmet-transport",
            "rdma",
            "--nvmet-listen",
            "fd00::1",
            "--nvmet-port-base",
            "5000",
            "--nvmet-buffered-io=false",
        ])
        .unwrap();
        assert_eq!(o.orphan_grace, Duration::ZERO);
        let s = o.backend_settings();
        assert_eq!(s.nvmet_root, PathBuf::from("/tmp/cfs"));
        assert_eq!(s.nvmet_transport, "rdma");
        assert_eq!(s.nvmet_listen.as_deref(), Some("fd00::1"));
        assert_eq!(s.nvmet_port_base, 5000);
        assert!(!s.nvmet_buffered_io);
        assert_eq!(o.nvmet_flags_given().len(), 5);
        let bare = parse(&["--nvmet-buffered-io", "--orphan-grace", "90s"]).unwrap();
        assert_eq!(bare.nvmet_buffered_io, Some(true));
        assert_eq!(bare.orphan_grace, Duration::from_secs(90));
    }

    #[test]
    fn bad_values_are_refused_naming_flag_and_value() {
        for (args, names) in [
            (&["--orphan-grace", "soon"][..], ["--orphan-grace", "soon"]),
            (
                &["--nvmet-listen", "storage1"][..],
                ["--nvmet-listen", "storage1"],
            ),
            (&["--nvmet-port-base", "0"][..], ["--nvmet-port-base", "0"]),
            (
                &["--nvmet-port-base", "70000"][..],
                ["--nvmet-port-base", "70000"],
            ),
            (
                &["--nvmet-transport", "fc"][..],
                ["--nvmet-transport", "fc"],
            ),
            (
                &["--nvmet-buffered-io=maybe"][..],
                ["--nvmet-buffered-io", "maybe"],
            ),
        ] {
            let err = parse(args).expect_err(&format!("{args:?} accepted"));
            for n in names {
                assert!(err.contains(n), "{args:?}: {err}");
            }
        }
    }
}
