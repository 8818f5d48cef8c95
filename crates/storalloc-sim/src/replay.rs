//! One simulation run from workload to files, and the comparison of several.

use crate::engine::{self, RunOptions, SimError};
use crate::input::Workload;
use crate::metrics::{self, Metrics};
use crate::output_yaml;
use crate::report;
use crate::report_data::{Gantt, GANTT_MAX_ALLOCATIONS};
use crate::series::{CsvSink, Downsampled, NullSink};
use crate::summary::Summary;
use std::path::Path;
use storalloc_core::{SchedulerConfig, System};

/// The result of one run.
#[derive(Debug, Clone)]
pub struct RunOutput {
    pub config: SchedulerConfig,
    pub metrics: Metrics,
    pub chart: Downsampled,
    /// The exact text of `output.yml`.
    pub output_yml: String,
    pub summary: Summary,
}

fn io_err(path: &Path, e: std::io::Error) -> SimError {
    SimError::Io {
        path: path.to_path_buf(),
        source: e,
    }
}

fn write(path: &Path, text: &str) -> Result<(), SimError> {
    std::fs::write(path, text).map_err(|e| io_err(path, e))
}

/// Replays `workload` once. With `out_dir`, writes `output.yml`,
/// `usage.csv`, `disks.csv`, `nodes.csv` and `report.html` there.
pub fn replay(
    system: &System,
    config: &SchedulerConfig,
    workload: &Workload,
    out_dir: Option<&Path>,
    opts: RunOptions<'_>,
) -> Result<RunOutput, SimError> {
    let rec = engine::run(system, config, workload, opts)?;
    let (metrics, chart) = match out_dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).map_err(|e| io_err(dir, e))?;
            let mut csv = CsvSink::create(dir, system).map_err(|e| io_err(dir, e))?;
            let r = metrics::compute(system, config, workload, &rec, &mut csv)
                .map_err(|e| io_err(dir, e))?;
            csv.finish().map_err(|e| io_err(dir, e))?;
            r
        }
        None => metrics::compute(system, config, workload, &rec, &mut NullSink)
            .expect("the null sink never fails"),
    };
    let output_yml = output_yaml::render(&metrics, config, workload);
    let summary = Summary::of(config.strategy.name(), &metrics);
    if let Some(dir) = out_dir {
        write(&dir.join("output.yml"), &output_yml)?;
        let title = format!("storalloc simulation: {}", config.strategy);
        write(
            &dir.join("report.html"),
            &report::run_page(
                &title,
                &metrics,
                &chart,
                &Gantt::of(&rec, GANTT_MAX_ALLOCATIONS),
            ),
        )?;
    }
    Ok(RunOutput {
        config: config.clone(),
        metrics,
        chart,
        output_yml,
        summary,
    })
}

/// Writes the comparison page and `comparison.csv` of several runs.
pub fn write_comparison(out_dir: &Path, runs: &[RunOutput]) -> Result<(), SimError> {
    std::fs::create_dir_all(out_dir).map_err(|e| io_err(out_dir, e))?;
    let rows: Vec<_> = runs
        .iter()
        .map(|r| (r.summary.clone(), &r.metrics, &r.chart))
        .collect();
    write(
        &out_dir.join("report.html"),
        &report::comparison_page("storalloc simulation: strategy comparison", &rows),
    )?;
    let mut csv = String::from(
        "strategy,requests,accepted,refused,delayed,allocated_gb,mean_utilisation,max_utilisation,max_concurrent_allocations\n",
    );
    for r in runs {
        let s = &r.summary;
        csv.push_str(&format!(
            "{},{},{},{},{},{},{},{},{}\n",
            s.strategy,
            s.requests,
            s.accepted,
            s.refused,
            s.delayed,
            s.allocated_gb,
            s.mean_utilisation,
            s.max_utilisation,
            s.max_concurrent_allocations
        ));
    }
    write(&out_dir.join("comparison.csv"), &csv)
}
