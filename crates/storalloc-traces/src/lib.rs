//! Job traces: what HPC jobs did, replayed as storage requests.
//!
//! - [`IOJob`]: one job of a trace, the common model of both trace formats.
//! - [`reader`]: a streaming reader for the original `IOJobs.yml` and the
//!   richer Theta per-job YAML (auto-detected), with errors naming the job
//!   and the field.
//! - [`writer`]: writes the original `IOJobs.yml` format.
//! - [`mapping`]: turns a job into a [`storalloc_core::Request`].
//! - [`extract`]: jobs from Darshan logs or the Theta CSV pair.
//! - [`synth`]: a larger trace resampled from a real one.

pub mod error;
mod event_stream;
pub mod extract;
mod fast_path;
mod fields;
pub mod job;
pub mod mapping;
pub mod reader;
pub mod synth;
pub mod timefmt;
pub mod writer;

pub use error::{JobError, JobErrorKind, TraceError};
pub use job::{IOJob, JobId};
pub use mapping::{CapacityFrom, DurationFrom, MappingOptions, SkipReason};
pub use reader::{read_trace, JobStream, ReadOptions, ReadSummary, TraceFormat};
pub use writer::{write_iojobs, IoJobsWriter};
