//! `storalloc system validate`: load system description files and summarise them.

use clap::Subcommand;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use storalloc_core::{Bandwidth, Bytes, System};

#[derive(Subcommand)]
pub enum SystemCmd {
    /// Check files and print a summary.
    Validate {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

pub fn run(cmd: SystemCmd) -> anyhow::Result<ExitCode> {
    match cmd {
        SystemCmd::Validate { files } => Ok(validate_all(&files, |file| {
            let loaded = storalloc_config::load_system(file)?;
            let mut out = summary(&loaded.system);
            out.extend(warning_lines(file, &loaded.warnings));
            Ok(out)
        })),
    }
}

/// Validate every file (a bad one does not stop the others), print each
/// summary on stdout and each error on stderr; fail if any file failed.
pub fn validate_all(
    files: &[PathBuf],
    check: impl Fn(&Path) -> Result<Vec<String>, storalloc_config::ConfigError>,
) -> ExitCode {
    // Write errors (a closed pipe, as with `| head`) are ignored rather than
    // panicking as println! would: the exit status still reports validity.
    let mut out = std::io::stdout().lock();
    let mut err = std::io::stderr().lock();
    let mut failed = 0;
    for file in files {
        match check(file) {
            Ok(lines) => {
                let _ = writeln!(out, "{}: OK", file.display());
                for line in lines {
                    let _ = writeln!(out, "  {line}");
                }
            }
            Err(e) => {
                failed += 1;
                let _ = writeln!(err, "error: {e}");
            }
        }
    }
    let _ = out.flush();
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        let _ = writeln!(err, "{failed} of {} file(s) invalid", files.len());
        ExitCode::FAILURE
    }
}

/// Warnings as printed under their file's heading, without repeating the file.
pub fn warning_lines(file: &Path, warnings: &[String]) -> Vec<String> {
    let prefix = format!("{}: ", file.display());
    warnings
        .iter()
        .map(|w| format!("warning: {}", w.strip_prefix(&prefix).unwrap_or(w)))
        .collect()
}

fn summary(sys: &System) -> Vec<String> {
    let mut lines = vec![
        format!("hosts: {}, disks: {}", sys.nodes.len(), sys.disk_count()),
        format!("total capacity: {}", sys.total_capacity()),
        format!(
            "aggregate write bandwidth: {} (each node capped by its network link)",
            Bandwidth(round3(sys.aggregate_write_bandwidth().get()))
        ),
    ];
    for node in &sys.nodes {
        let capacity: Bytes = node.disks.iter().map(|d| d.capacity).sum();
        let write: f64 = node.disks.iter().map(|d| d.write_bandwidth.get()).sum();
        lines.push(format!(
            "{}: {} disk(s), {}, disks write {}, network {}",
            node.hostname,
            node.disks.len(),
            capacity,
            Bandwidth(round3(write)),
            node.network_bw
        ));
    }
    lines
}

/// Sums of decimal bandwidths pick up float noise (2.93 × 8 = 23.439999…).
fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
