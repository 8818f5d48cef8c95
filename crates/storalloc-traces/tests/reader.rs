//! The trace reader on the shared real traces and on hand-written ones.

use std::path::{Path, PathBuf};
use storalloc_core::{TimeSpan, Timestamp};
use storalloc_traces::reader::parse_str;
use storalloc_traces::{
    read_trace, write_iojobs, IOJob, JobErrorKind, JobId, ReadOptions, TraceError, TraceFormat,
};

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/traces")
        .join(name)
}

fn read_all(path: &Path) -> (Vec<IOJob>, storalloc_traces::ReadSummary) {
    let mut jobs = Vec::new();
    let s = read_trace(path, ReadOptions::default(), |j| jobs.push(j)).unwrap();
    (jobs, s)
}

#[test]
fn week4_reads_every_job_with_its_values() {
    let (jobs, s) = read_all(&shared("theta2022_week4.yaml"));
    assert_eq!(jobs.len(), 211);
    assert_eq!(s.jobs_read, 211);
    assert_eq!(s.format, Some(TraceFormat::Theta));
    let j = &jobs[0];
    assert_eq!(j.id, JobId::Int(571521));
    assert_eq!(
        j.start_time,
        "2022-01-26 04:02:30".parse::<Timestamp>().unwrap()
    );
    assert_eq!(
        j.end_time,
        "2022-01-26 09:56:18".parse::<Timestamp>().unwrap()
    );
    assert_eq!(j.read_bytes, 20_070_176_013);
    assert_eq!(j.written_bytes, 40_619_980);
    assert_eq!(j.walltime, Some(TimeSpan(21_600)));
    assert_eq!(j.run_time, Some(TimeSpan(21_227)));
    assert_eq!(j.mpi_procs, Some(1024));
    assert_eq!(j.nodes_used, Some(1024));
}

#[test]
fn week6_reads_every_job() {
    let (jobs, s) = read_all(&shared("theta2022_week6.yaml"));
    assert_eq!(jobs.len(), 349);
    assert_eq!(s.format, Some(TraceFormat::Theta));
    assert_eq!(jobs[0].id, JobId::Int(577696));
    assert_eq!(jobs[0].written_bytes, 108_812_712_524);
    assert!(jobs.iter().all(|j| j.end_time >= j.start_time));
}

const IOJOBS: &str = "\
jobs:
- MPIprocs: 2048
  coresUsed: 8192
  endTime: '2020-10-30 18:16:05'
  id: 476279
  nodesUsed: 128
  readBytes: 549755813888
  runTime: 166
  startTime: '2020-10-30 17:49:59'
  submissionTime: '2020-10-30 16:26:10'
  waitingTime: 0 days 01:23:49
  writtenBytes: 0
";

#[test]
fn the_originals_iojobs_format_is_detected_and_read() {
    let mut jobs = Vec::new();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("IOJobs.yml");
    std::fs::write(&p, IOJOBS).unwrap();
    let s = read_trace(&p, ReadOptions::default(), |j| jobs.push(j)).unwrap();
    assert_eq!(s.format, Some(TraceFormat::IoJobs));
    let j = &jobs[0];
    assert_eq!(j.id, JobId::Int(476279));
    assert_eq!(j.mpi_procs, Some(2048));
    assert_eq!(j.waiting_time, Some(TimeSpan(5029)));
    assert_eq!(j.run_time, Some(TimeSpan(166)));
    assert_eq!(j.read_bytes, 549_755_813_888);
    assert_eq!(
        j.submission_time,
        Some("2020-10-30 16:26:10".parse().unwrap())
    );
}

fn one(fields: &str) -> Result<Vec<IOJob>, TraceError> {
    parse_str(&format!("jobs:\n- {}\n", fields.replace('\n', "\n  ")))
}

#[test]
fn every_time_variant_gives_the_same_instant() {
    let want = Timestamp(1_643_169_750);
    for t in [
        "'2022-01-26 04:02:30'",
        "2022-01-26 04:02:30",
        "'2022-01-26T04:02:30'",
        "2022-01-26T04:02:30Z",
        "'1643169750'",
        "1643169750",
    ] {
        let jobs = one(&format!(
            "id: 1\nstartTime: {t}\nendTime: '2022-01-26 05:00:00'\nreadBytes: 1\nwrittenBytes: 2"
        ))
        .unwrap_or_else(|e| panic!("{t}: {e}"));
        assert_eq!(jobs[0].start_time, want, "{t}");
    }
}

#[test]
fn ids_can_be_integers_or_strings() {
    let base = "startTime: '1000'\nendTime: '2000'\nreadBytes: 1\nwrittenBytes: 0";
    assert_eq!(
        one(&format!("id: 42\n{base}")).unwrap()[0].id,
        JobId::Int(42)
    );
    assert_eq!(
        one(&format!("id: job1\n{base}")).unwrap()[0].id,
        JobId::Str("job1".into())
    );
    assert_eq!(
        one(&format!("id: '42'\n{base}")).unwrap()[0].id,
        JobId::Str("42".into())
    );
}

fn job_error(text: &str) -> storalloc_traces::JobError {
    match parse_str(text) {
        Err(TraceError::Job { error, .. }) => *error,
        other => panic!("expected a job error, got {other:?}"),
    }
}

const GOOD: &str = "- id: 1\n  startTime: '2022-01-01 00:00:00'\n  endTime: '2022-01-01 01:00:00'\n  readBytes: 10\n  writtenBytes: 20\n";

#[test]
fn a_missing_field_names_the_job_and_the_field() {
    let e = job_error(&format!(
        "jobs:\n{GOOD}- id: 77\n  startTime: '2022-01-01 00:00:00'\n  endTime: '2022-01-01 01:00:00'\n  writtenBytes: 20\n"
    ));
    assert_eq!(
        (e.index, e.id.as_deref(), e.field.as_str()),
        (1, Some("77"), "readBytes")
    );
    assert_eq!(e.kind, JobErrorKind::Missing);
    let msg = e.to_string();
    assert!(
        msg.contains("job #1") && msg.contains("id 77") && msg.contains("readBytes"),
        "{msg}"
    );
}

#[test]
fn negative_bytes_end_before_start_and_bad_times_are_errors() {
    let e = job_error(&GOOD.replace("readBytes: 10", "readBytes: -10").replacen(
        "- ",
        "jobs:\n- ",
        1,
    ));
    assert_eq!(e.field, "readBytes");
    assert_eq!(e.kind, JobErrorKind::NegativeBytes("-10".into()));

    let e = job_error(&format!(
        "jobs:\n{}",
        GOOD.replace("01:00:00", "2021-12-31 23:00:00")
            .replace("'2022-01-01 2021", "'2021")
    ));
    assert_eq!(e.field, "endTime");
    assert!(
        matches!(e.kind, JobErrorKind::EndBeforeStart { .. }),
        "{:?}",
        e.kind
    );

    let e = job_error(&format!(
        "jobs:\n{}",
        GOOD.replace("'2022-01-01 00:00:00'", "'26/01/2022'")
    ));
    assert_eq!(
        (e.field.as_str(), e.id.as_deref()),
        ("startTime", Some("1"))
    );
    assert_eq!(e.kind, JobErrorKind::BadTime("26/01/2022".into()));
    assert!(e.to_string().contains("26/01/2022"));
}

#[test]
fn a_missing_id_and_a_non_mapping_job_are_errors() {
    let e =
        job_error("jobs:\n- startTime: '1'\n  endTime: '2'\n  readBytes: 1\n  writtenBytes: 1\n");
    assert_eq!(
        (e.field.as_str(), e.id.clone(), e.kind.clone()),
        ("id", None, JobErrorKind::Missing)
    );
    let e = job_error(&format!("jobs:\n{GOOD}- just a string\n"));
    assert_eq!(e.index, 1);
    assert_eq!(e.kind, JobErrorKind::NotAMapping("scalar"));
}

#[test]
fn skip_invalid_counts_skipped_jobs_and_why() {
    let text = format!(
        "jobs:\n{GOOD}{}{}{GOOD}",
        GOOD.replace("readBytes: 10", "readBytes: -1"),
        GOOD.replace("  writtenBytes: 20\n", "")
    );
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("t.yaml");
    std::fs::write(&p, &text).unwrap();
    let err = read_trace(&p, ReadOptions::default(), |_| {}).unwrap_err();
    assert!(err.to_string().contains("t.yaml"), "{err}");
    assert!(err.to_string().contains("job #1"), "{err}");
    let mut n = 0;
    let s = read_trace(&p, ReadOptions { skip_invalid: true }, |_| n += 1).unwrap();
    assert_eq!((n, s.jobs_read, s.jobs_skipped), (2, 2, 2));
    assert_eq!(
        s.skip_reasons.get("readBytes: negative byte count"),
        Some(&1)
    );
    assert_eq!(s.skip_reasons.get("writtenBytes: missing"), Some(&1));
    assert_eq!(s.first_errors.len(), 2);
}

#[test]
fn broken_yaml_and_wrong_shapes_are_reported_with_the_place() {
    match parse_str("jobs:\n- id: 1\n  startTime: '2022\n") {
        Err(TraceError::Yaml { line, .. }) => assert!(line >= 3, "line {line}"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        parse_str("preload: {a: 1}\n"),
        Err(TraceError::Structure { .. })
    ));
    assert!(matches!(
        parse_str("jobs: 3\n"),
        Err(TraceError::Structure { .. })
    ));
    assert!(matches!(parse_str(""), Err(TraceError::Structure { .. })));
    assert_eq!(parse_str("jobs: []\n").unwrap(), vec![]);
    assert_eq!(parse_str("jobs:\n").unwrap(), vec![]);
    assert!(matches!(
        read_trace(
            Path::new("/nonexistent/trace.yaml"),
            ReadOptions::default(),
            |_| {}
        ),
        Err(TraceError::Io { .. })
    ));
}

#[test]
fn written_iojobs_read_back_identically() {
    let (jobs, _) = read_all(&shared("theta2022_week4.yaml"));
    let mut more = jobs.clone();
    let mut odd = IOJob::new(
        JobId::Str("it's 7".into()),
        Timestamp(1_000),
        Timestamp(200_000),
        0,
        5,
    );
    odd.waiting_time = Some(TimeSpan(3 * 86_400 + 61));
    more.push(odd);
    let text = String::from_utf8(write_iojobs(Vec::new(), &more).unwrap()).unwrap();
    let back = parse_str(&text).unwrap();
    assert_eq!(back, more);
    assert_eq!(
        parse_str(&String::from_utf8(write_iojobs(Vec::new(), &[]).unwrap()).unwrap()).unwrap(),
        vec![]
    );
}
