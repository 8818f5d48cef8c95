//! `storalloc traces inspect LOG [--json]`: summarise one Darshan log.

use anyhow::Context;
use clap::Args;
use serde_json::{json, Map, Value};
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use storalloc_darshan::{CounterTable, DarshanLog, ModuleData, Summary};

#[derive(Args)]
pub struct InspectArgs {
    /// The Darshan log (`*.darshan`).
    pub log: PathBuf,
    /// Print the summary pydarshan would report, as JSON.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: InspectArgs) -> anyhow::Result<ExitCode> {
    let log = DarshanLog::open(&args.log).context("reading the Darshan log")?;
    let text = if args.json {
        let mut s = serde_json::to_string_pretty(&summary_json(&log.summary()))?;
        s.push('\n');
        s
    } else {
        human(&log)
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

/// The JSON shape of `expected-pydarshan-3.5.0.json`'s per-log objects.
pub fn summary_json(s: &Summary) -> Value {
    let io: Map<String, Value> =
        s.io.iter()
            .map(|(module, t)| {
                let totals = json!({
                    "records": t.records,
                    "bytes_read": t.bytes_read,
                    "bytes_written": t.bytes_written,
                });
                (module.to_string(), totals)
            })
            .collect();
    json!({
        "log_version": s.log_version,
        "jobid": s.jobid,
        "uid": s.uid,
        "nprocs": s.nprocs,
        "start_time_sec": s.start_time_sec,
        "end_time_sec": s.end_time_sec,
        "exe": s.exe,
        "modules": s.modules,
        "name_records": s.name_records,
        "partial": s.partial,
        "io": io,
    })
}

/// Counters darshan-parser does not simply add up across records (modes,
/// offsets, ranks, common access sizes and strides); left out of the totals.
fn summed(name: &str) -> bool {
    const NOT_SUMMED: &[&str] = &[
        "_MODE",
        "_MAX_BYTE_",
        "_RANK",
        "_STRIDE",
        "_ACCESS",
        "_ALIGNMENT",
        "_MAX_READ_TIME_SIZE",
        "_MAX_WRITE_TIME_SIZE",
        "_RENAMED_FROM",
        "_USE_",
        "_DATASPACE_",
        "_DATATYPE_",
        "_CHUNK_SIZE_",
        "_NDIMS",
        "_NPOINTS",
        "_IS_RECORD_VAR",
    ];
    !NOT_SUMMED.iter().any(|p| name.contains(p))
}

fn module_totals(out: &mut String, table: &CounterTable) {
    for name in table.counter_names().iter().filter(|n| summed(n)) {
        if let Some(total) = table.sum(name) {
            let _ = writeln!(out, "total_{name}: {total}");
        }
    }
    for (i, name) in table.fcounter_names().iter().enumerate() {
        let values = table
            .records()
            .map(|r| r.fcounters[i])
            .filter(|v| *v >= 0.0);
        let value = if name.ends_with("_START_TIMESTAMP") {
            values.fold(f64::INFINITY, f64::min)
        } else if name.ends_with("_END_TIMESTAMP") || name.contains("_MAX_") {
            values.fold(f64::NEG_INFINITY, f64::max)
        } else if name.ends_with("_TIME") && !name.contains("RANK") {
            values.sum()
        } else {
            continue;
        };
        if value.is_finite() {
            let _ = writeln!(out, "total_{name}: {value:.6}");
        }
    }
}

fn human(log: &DarshanLog) -> String {
    let h = &log.header;
    let j = &log.job;
    let mut out = String::new();
    let _ = writeln!(out, "# darshan log version: {}", log.version());
    let _ = writeln!(out, "# byte order: {:?}", h.byte_order);
    let _ = writeln!(out, "# compression method: {}", h.compression.name());
    let _ = writeln!(out, "# exe: {}", j.exe);
    let _ = writeln!(out, "# uid: {}", j.uid);
    let _ = writeln!(out, "# jobid: {}", j.jobid);
    let _ = writeln!(out, "# start_time: {}", j.start_time_sec);
    let _ = writeln!(out, "# end_time: {}", j.end_time_sec);
    let _ = writeln!(out, "# nprocs: {}", j.nprocs);
    let _ = writeln!(out, "# run time: {:.4}", log.run_time());
    for (k, v) in &j.metadata {
        let _ = writeln!(out, "# metadata: {k} = {v}");
    }
    let _ = writeln!(
        out,
        "# partial log: {}",
        if log.is_partial() { "yes" } else { "no" }
    );
    let _ = writeln!(
        out,
        "\n# log file regions\n# -------------------------------------------------------"
    );
    let _ = writeln!(out, "# header: {} bytes (uncompressed)", h.size());
    let _ = writeln!(out, "# job data: {} bytes (compressed)", h.job_map.len);
    let _ = writeln!(
        out,
        "# record table: {} bytes (compressed), {} names",
        h.name_map.len,
        log.name_record_count()
    );
    for m in &log.modules {
        let name = m.slot.module.map_or_else(
            || format!("slot {}", m.slot.slot),
            |id| id.name().to_string(),
        );
        let what = match &m.data {
            ModuleData::Counters(t) => format!("{} records", t.len()),
            ModuleData::Lustre(r) => format!("{} records", r.len()),
            ModuleData::Skipped => "not decoded".to_string(),
        };
        let partial = if m.slot.partial { ", PARTIAL" } else { "" };
        let _ = writeln!(
            out,
            "# {name} module: {} bytes (compressed), ver={}, {what}{partial}",
            m.slot.map.len, m.slot.version
        );
    }
    let _ = writeln!(out, "\n# mounted file systems (mount point and fs type)\n# -------------------------------------------------------");
    for mount in &j.mounts {
        let _ = writeln!(out, "# mount entry:\t{}\t{}", mount.path, mount.fs_type);
    }
    for m in &log.modules {
        if let ModuleData::Counters(t) = &m.data {
            let _ = writeln!(
                out,
                "\n# *** {} totals over {} records ***",
                t.module(),
                t.len()
            );
            module_totals(&mut out, t);
        }
    }
    out
}
