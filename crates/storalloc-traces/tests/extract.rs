//! `extract`: real Darshan logs and small Theta CSV pairs become IOJobs
//! traces that the IOJobs reader reads back.

use std::path::{Path, PathBuf};
use storalloc_core::{TimeSpan, Timestamp};
use storalloc_darshan::DarshanLog;
use storalloc_traces::extract::theta_csv::{self, ByteSource};
use storalloc_traces::extract::{darshan_logs, keep_min_bytes, ExtractError};
use storalloc_traces::{reader, write_iojobs, IOJob, JobId};

fn darshan_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/darshan")
}

fn round_trip(jobs: &[IOJob]) -> Vec<IOJob> {
    let text = String::from_utf8(write_iojobs(Vec::new(), jobs).expect("write")).expect("utf8");
    reader::parse_str(&text).unwrap_or_else(|e| panic!("reading back: {e}\n{text}"))
}

#[test]
fn real_logs_become_one_job_per_job_id_and_read_back() {
    let logs = darshan_logs::find_logs(&[darshan_dir()]).expect("find logs");
    assert_eq!(logs.len(), 15);
    let runs: Vec<_> = logs
        .iter()
        .map(|p| darshan_logs::log_io(&DarshanLog::open(p).expect("log"), p))
        .collect();
    let jobs = darshan_logs::merge(runs);
    // Every shared log has its own scheduler job id.
    assert_eq!(jobs.len(), 15);
    assert_eq!(round_trip(&jobs), jobs);

    // example.darshan: 2 TiB through MPI-IO, also seen by POSIX; plus 3309
    // bytes of STDIO. Counted once: POSIX + STDIO.
    let vpic = jobs
        .iter()
        .find(|j| j.id == JobId::Int(4_478_544))
        .expect("vpic job");
    assert_eq!(vpic.written_bytes, 2_199_023_259_968 + 3309);
    assert_eq!(vpic.read_bytes, 0);
    assert_eq!(vpic.mpi_procs, Some(2048));
    assert_eq!(vpic.start_time, Timestamp(1_490_000_867));
    assert_eq!(vpic.end_time, Timestamp(1_490_000_983));

    // noposix.darshan has no POSIX module: STDIO alone.
    let noposix = jobs
        .iter()
        .find(|j| j.id == JobId::Int(83_017_637))
        .expect("noposix job");
    assert_eq!(
        (noposix.read_bytes, noposix.written_bytes),
        (1_812_408_359, 29_562_779)
    );

    let big = keep_min_bytes(jobs.clone(), 10_000_000_000);
    assert_eq!(big.len(), 3, "{big:?}");
}

#[test]
fn two_logs_of_one_job_merge() {
    let path = darshan_dir().join("release_logs/mpi-io-test-x86_64-3.4.7.darshan");
    let log = DarshanLog::open(&path).expect("log");
    let run = darshan_logs::log_io(&log, &path);
    let mut later = run.clone();
    later.start = Timestamp(run.start.0 + 100);
    later.end = Timestamp(run.end.0 + 200);
    let jobs = darshan_logs::merge([run.clone(), later]);
    assert_eq!(jobs.len(), 1);
    assert_eq!(jobs[0].written_bytes, 2 * run.written_bytes);
    assert_eq!(jobs[0].end_time, Timestamp(run.end.0 + 200));
}

const DARSHAN_HEADER: &str = "COBALT_JOBID,RUN_DATE_ID,USER_ID,EXE_NAME_GENID,NPROCS,RUN_TIME,\
TOTAL_POSIX_BYTES_READ,TOTAL_POSIX_BYTES_WRITTEN,TOTAL_POSIX_F_WRITE_TIME,\
TOTAL_MPIIO_BYTES_READ,TOTAL_MPIIO_BYTES_WRITTEN,TOTAL_MPIIO_F_WRITE_TIME,\
TOTAL_STDIO_BYTES_READ,TOTAL_STDIO_BYTES_WRITTEN,TOTAL_STDIO_F_WRITE_TIME";

const COBALT: &str = "\
JOB_NAME,COBALT_JOBID,QUEUED_TIMESTAMP,START_TIMESTAMP,END_TIMESTAMP,NODES_USED,CORES_USED
a,100,2020-03-01 10:00:00,2020-03-01 10:30:00,2020-03-01 11:30:00,128,8192
b,200,2020-03-01 09:00:00,2020-03-01 09:05:00,2020-03-01 10:05:00,4,256
c,300,2020-03-02 00:00:00,2020-03-02 01:00:00,2020-03-02 02:00:00,1,64
d,400,2020-03-03 00:00:00,2020-03-03 00:00:10,2020-03-03 00:10:00,2,128
";

fn write_pair(dir: &Path, darshan_rows: &str, cobalt: &str) -> (PathBuf, PathBuf) {
    let d = dir.join("ANL-ALCF-DARSHAN-THETA.csv");
    let c = dir.join("ANL-ALCF-DJC-THETA.csv");
    std::fs::write(&d, format!("{DARSHAN_HEADER}\n{darshan_rows}")).expect("write csv");
    std::fs::write(&c, cobalt).expect("write csv");
    (d, c)
}

/// Job 100: 12 GB written through POSIX (two runs) -> intensive by bytes.
/// Job 200: small I/O but 30% of its run time writing -> intensive by ratio.
/// Job 300: small and quick -> filtered out.
/// Job 999: no Cobalt row -> left out.
/// Job 400: 20 GB via MPI-IO in the MPI-IO columns, which POSIX also saw.
const ROWS: &str = "\
100,20200301,1,7,64,3000,0,6000000000,10,0,6000000000,5,0,0,0
100,20200301,1,7,128,2000,1000,6000000000.0,10,0,0,0,0,0,0
200,20200301,2,8,4,3600,0,1000,4320,0,0,0,0,50,0
300,20200302,3,9,64,3600,10,10,1,0,0,0,0,0,0
999,20200302,3,9,64,3600,0,20000000000,1,0,0,0,0,0,0
400,20200303,4,9,8,590,0,20000000000,1,0,20000000000,1,0,0,0
";

#[test]
fn theta_csv_pair_keeps_io_intensive_jobs_with_cobalt_times() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (d, c) = write_pair(dir.path(), ROWS, COBALT);
    let out = theta_csv::extract(&d, &c, ByteSource::PosixStdio).expect("extract");
    assert_eq!(out.darshan_rows, 6);
    assert_eq!(out.unmatched_jobs, 1);
    assert_eq!(out.not_intensive_jobs, 1);
    let ids: Vec<_> = out.jobs.iter().map(|j| j.id.clone()).collect();
    // Sorted by start time.
    assert_eq!(ids, [JobId::Int(200), JobId::Int(100), JobId::Int(400)]);

    let j100 = &out.jobs[1];
    assert_eq!(j100.written_bytes, 12_000_000_000);
    assert_eq!(j100.read_bytes, 1000);
    assert_eq!(j100.mpi_procs, Some(128));
    assert_eq!(j100.nodes_used, Some(128));
    assert_eq!(j100.cores_used, Some(8192));
    assert_eq!(
        j100.submission_time,
        Some("2020-03-01 10:00:00".parse().unwrap())
    );
    assert_eq!(j100.start_time, "2020-03-01 10:30:00".parse().unwrap());
    assert_eq!(j100.waiting_time, Some(TimeSpan(1800)));
    assert_eq!(j100.run_time, Some(TimeSpan(3000)));

    // STDIO bytes are added to POSIX bytes.
    assert_eq!(out.jobs[0].written_bytes, 1050);
    assert_eq!(round_trip(&out.jobs), out.jobs);
}

#[test]
fn theta_csv_mpiio_source_reproduces_the_original_selection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (d, c) = write_pair(dir.path(), ROWS, COBALT);
    let out = theta_csv::extract(&d, &c, ByteSource::MpiIo).expect("extract");
    let ids: Vec<_> = out.jobs.iter().map(|j| j.id.clone()).collect();
    // 200 does no MPI-IO and only half of 100's 12 GB went through MPI-IO:
    // the original's MPI-IO rule misses both.
    assert_eq!(ids, [JobId::Int(400)]);
    assert_eq!(out.jobs[0].written_bytes, 20_000_000_000);
    assert_eq!(out.not_intensive_jobs, 3);
}

#[test]
fn theta_csv_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (d, c) = write_pair(
        dir.path(),
        "100,20200301,1,7,lots,3000,0,0,0,0,0,0,0,0,0\n",
        COBALT,
    );
    let err = theta_csv::extract(&d, &c, ByteSource::PosixStdio).unwrap_err();
    let text = err.to_string();
    assert!(
        matches!(
            err,
            ExtractError::BadValue {
                line: 2,
                column: "NPROCS",
                ..
            }
        ),
        "{text}"
    );
    assert!(
        text.contains("ANL-ALCF-DARSHAN-THETA.csv") && text.contains("\"lots\""),
        "{text}"
    );

    std::fs::write(&c, "COBALT_JOBID,START_TIMESTAMP\n1,2020-01-01 00:00:00\n").expect("write");
    let err = theta_csv::extract(&d, &c, ByteSource::PosixStdio).unwrap_err();
    assert!(
        err.to_string()
            .contains("missing column \"QUEUED_TIMESTAMP\""),
        "{err}"
    );

    let bad_time = COBALT.replace("2020-03-01 11:30:00", "yesterday");
    std::fs::write(&c, bad_time).expect("write");
    let err = theta_csv::extract(&d, &c, ByteSource::PosixStdio).unwrap_err();
    assert!(
        matches!(
            err,
            ExtractError::BadValue {
                line: 2,
                column: "END_TIMESTAMP",
                ..
            }
        ),
        "{err}"
    );
}
