//! One job's fields, as read by either reader path, validated into an
//! [`IOJob`]. Both paths share this code, so they cannot disagree on what a
//! field means.

use crate::error::{JobError, JobErrorKind};
use crate::job::{IOJob, JobId};
use crate::reader::TraceFormat;
use crate::timefmt::{parse_span, parse_time};
use storalloc_core::{TimeSpan, Timestamp};

/// A scalar field of a job as it appeared.
pub(crate) struct Field {
    pub key: String,
    pub value: Option<String>,
    /// Quoted scalars are strings even when they look like numbers.
    pub quoted: bool,
    /// The value was a list or mapping.
    pub nested: Option<&'static str>,
}

pub(crate) fn is_null(v: &str) -> bool {
    matches!(v, "" | "~" | "null" | "Null" | "NULL")
}

pub(crate) fn detect_format(fields: &[Field]) -> TraceFormat {
    const THETA_ONLY: [&str; 5] = [
        "runtimeSeconds",
        "walltimeSeconds",
        "waitingTimeSeconds",
        "runs",
        "runsCount",
    ];
    if fields.iter().any(|f| THETA_ONLY.contains(&f.key.as_str())) {
        TraceFormat::Theta
    } else {
        TraceFormat::IoJobs
    }
}

/// Validates one job's fields.
pub(crate) fn build_job(index: usize, line: usize, fields: &[Field]) -> Result<IOJob, JobError> {
    let find = |names: &[&str]| fields.iter().find(|f| names.contains(&f.key.as_str()));
    let err = |id: Option<String>, field: &str, kind: JobErrorKind| JobError {
        index,
        id,
        field: field.to_string(),
        line,
        kind,
    };

    // The id first, so every later error can name it.
    let id = match find(&["id"]) {
        None => return Err(err(None, "id", JobErrorKind::Missing)),
        Some(f) => match (&f.value, f.nested) {
            (_, Some(what)) => return Err(err(None, "id", JobErrorKind::NotAScalar(what))),
            (None, _) => return Err(err(None, "id", JobErrorKind::Missing)),
            (Some(v), _) if !f.quoted => match v.parse::<i64>() {
                Ok(i) => JobId::Int(i),
                Err(_) if v.trim().is_empty() => {
                    return Err(err(None, "id", JobErrorKind::BadId(v.clone())))
                }
                Err(_) => JobId::Str(v.clone()),
            },
            (Some(v), _) if v.trim().is_empty() => {
                return Err(err(None, "id", JobErrorKind::BadId(v.clone())))
            }
            (Some(v), _) => JobId::Str(v.clone()),
        },
    };
    let idstr = Some(id.to_string());
    let err = |field: &str, kind| err(idstr.clone(), field, kind);

    // The scalar text of a field, `None` when absent or null.
    let text = |names: &[&str]| -> Result<Option<(&str, &str)>, JobError> {
        match find(names) {
            None => Ok(None),
            Some(f) => match (f.nested, &f.value) {
                (Some(what), _) => Err(err(&f.key, JobErrorKind::NotAScalar(what))),
                (None, None) => Ok(None),
                (None, Some(v)) => Ok(Some((f.key.as_str(), v.as_str()))),
            },
        }
    };
    let time = |names: &[&str], required: bool| -> Result<Option<Timestamp>, JobError> {
        match text(names)? {
            None if required => Err(err(names[0], JobErrorKind::Missing)),
            None => Ok(None),
            Some((k, v)) => parse_time(v)
                .map(Some)
                .ok_or_else(|| err(k, JobErrorKind::BadTime(v.to_string()))),
        }
    };
    let count = |names: &[&str]| -> Result<Option<u64>, JobError> {
        match text(names)? {
            None => Ok(None),
            Some((k, v)) => parse_count(v).map(Some).map_err(|kind| match kind {
                JobErrorKind::NegativeBytes(v) if !k.ends_with("Bytes") => {
                    err(k, JobErrorKind::BadNumber(v))
                }
                kind => err(k, kind),
            }),
        }
    };
    let bytes = |name: &str| -> Result<u64, JobError> {
        count(&[name])?.ok_or_else(|| err(name, JobErrorKind::Missing))
    };
    let span = |names: &[&str]| -> Result<Option<TimeSpan>, JobError> {
        match text(names)? {
            None => Ok(None),
            Some((k, v)) => parse_span(v)
                .map(Some)
                .ok_or_else(|| err(k, JobErrorKind::BadSpan(v.to_string()))),
        }
    };

    let start_time = time(&["startTime"], true)?.expect("required");
    let end_time = time(&["endTime"], true)?.expect("required");
    if end_time < start_time {
        return Err(err(
            "endTime",
            JobErrorKind::EndBeforeStart {
                start: text(&["startTime"])?.map(|t| t.1).unwrap_or("").to_string(),
                end: text(&["endTime"])?.map(|t| t.1).unwrap_or("").to_string(),
            },
        ));
    }
    Ok(IOJob {
        read_bytes: bytes("readBytes")?,
        written_bytes: bytes("writtenBytes")?,
        submission_time: time(&["submissionTime"], false)?,
        mpi_procs: count(&["MPIprocs", "sum_nprocs"])?,
        nodes_used: count(&["nodesUsed"])?,
        cores_used: count(&["coresUsed"])?,
        waiting_time: span(&["waitingTime", "waitingTimeSeconds"])?,
        run_time: span(&["runTime", "runtimeSeconds"])?,
        walltime: span(&["walltimeSeconds"])?,
        id,
        start_time,
        end_time,
    })
}

/// A non-negative integer; integral floats (`1.0e10`) are accepted since
/// pandas writes counts that way.
fn parse_count(v: &str) -> Result<u64, JobErrorKind> {
    let t = v.trim();
    if let Ok(n) = t.parse::<u64>() {
        return Ok(n);
    }
    if let Ok(n) = t.parse::<i128>() {
        if n < 0 {
            return Err(JobErrorKind::NegativeBytes(v.to_string()));
        }
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() && f < 0.0 => Err(JobErrorKind::NegativeBytes(v.to_string())),
        Ok(f) if f.is_finite() && f.fract() == 0.0 && f < 1.8e19 => Ok(f as u64),
        _ => Err(JobErrorKind::BadNumber(v.to_string())),
    }
}
