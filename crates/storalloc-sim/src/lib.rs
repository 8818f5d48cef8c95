//! Discrete-event simulation of storalloc.
//!
//! A trace's jobs become requests ([`input`]); the [`engine`] submits each
//! at its start time to the same [`storalloc_core::Scheduler`] the live
//! orchestrator runs, and lets `advance` reclaim allocations as they end.
//! [`metrics`] turns the run into the original's `output.yml` figures,
//! [`series`] into CSV time series and [`report`] into a self-contained
//! `report.html` drawn with the dashboard's charts (`storalloc-charts`).
//! Same inputs and seed give byte-identical outputs.

pub mod engine;
pub mod input;
pub mod metrics;
pub mod output_yaml;
pub mod replay;
pub mod report;
pub mod report_data;
pub mod series;
pub mod summary;

pub use engine::{run, Outcome, Record, RunOptions, SimError};
pub use input::{SimJob, Workload};
pub use metrics::{DiskStats, Metrics, NodeStats};
pub use replay::{replay, write_comparison, RunOutput};
pub use summary::{table, Summary};
