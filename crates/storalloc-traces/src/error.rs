//! Errors of reading a trace. A job-level error names the job (its index in
//! the trace and its id when known), the field and the offending value.

use std::path::PathBuf;

/// What is wrong with one job.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JobErrorKind {
    #[error("missing field")]
    Missing,
    #[error("negative byte count {0}")]
    NegativeBytes(String),
    #[error("end {end:?} is before start {start:?}")]
    EndBeforeStart { start: String, end: String },
    #[error("unparsable time {0:?}: expected \"YYYY-MM-DD HH:MM:SS\", ISO 8601 (2022-01-26T04:02:30) or epoch seconds")]
    BadTime(String),
    #[error("invalid number {0:?}: expected a non-negative integer")]
    BadNumber(String),
    #[error("invalid length of time {0:?}: expected seconds, HH:MM:SS or \"N days HH:MM:SS\"")]
    BadSpan(String),
    #[error("invalid id {0:?}: expected an integer or a string")]
    BadId(String),
    #[error("expected a single value, found a {0}")]
    NotAScalar(&'static str),
    #[error("a job must be a mapping of fields, found a {0}")]
    NotAMapping(&'static str),
}

/// One malformed job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobError {
    /// 0-based position of the job in the trace's `jobs` list.
    pub index: usize,
    /// The job's id, when it could be read.
    pub id: Option<String>,
    /// The field at fault (`""` when the job as a whole is at fault).
    pub field: String,
    /// 1-based line of the job's start in the file.
    pub line: usize,
    pub kind: JobErrorKind,
}

impl std::fmt::Display for JobError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "job #{} ", self.index)?;
        match &self.id {
            Some(id) => write!(f, "(id {id}, line {})", self.line)?,
            None => write!(f, "(no id, line {})", self.line)?,
        }
        if !self.field.is_empty() {
            write!(f, ", field `{}`", self.field)?;
        }
        write!(f, ": {}", self.kind)
    }
}

impl std::error::Error for JobError {}

#[derive(Debug, thiserror::Error)]
pub enum TraceError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}:{col}: invalid YAML: {message}")]
    Yaml {
        path: PathBuf,
        line: usize,
        col: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Structure { path: PathBuf, message: String },
    #[error("{path}: {error}")]
    Job { path: PathBuf, error: Box<JobError> },
}

impl TraceError {
    /// The job-level error, if this is one (these can be skipped).
    pub fn job_error(&self) -> Option<&JobError> {
        match self {
            TraceError::Job { error, .. } => Some(error),
            _ => None,
        }
    }
}
