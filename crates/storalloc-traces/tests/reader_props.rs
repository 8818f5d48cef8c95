//! Property tests: the reader never panics, whatever it is fed, and what
//! it accepts is valid.

use proptest::prelude::*;
use storalloc_traces::reader::parse_str;
use storalloc_traces::{ReadOptions, TraceError};

const SAMPLE: &str = "---\njobs:\n- id: 571521\n  startTime: '2022-01-26 04:02:30'\n  endTime: '2022-01-26 09:56:18'\n  readBytes: 20070176013\n  writtenBytes: 40619980\n  waitingTimeSeconds: 0\n  runs:\n  - id: 0\n    nprocs: 1024\n- MPIprocs: 2048\n  id: job2\n  startTime: 2022-01-26T04:02:30\n  endTime: '1643190000'\n  readBytes: 0\n  writtenBytes: 5\n  waitingTime: 0 days 01:23:49\npreload:\n  job_count: 2\n";

fn check(text: &str) {
    let mut it =
        storalloc_traces::JobStream::from_reader(text.as_bytes(), std::path::Path::new("x"));
    let mut n = 0;
    while let Some(r) = it.next() {
        n += 1;
        assert!(n < 10_000, "the stream does not end");
        match r {
            Ok(job) => assert!(job.end_time >= job.start_time),
            Err(TraceError::Job { error, .. }) => assert!(!error.to_string().is_empty()),
            Err(_) => {
                assert!(it.next().is_none(), "a fatal error must end the stream");
                break;
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn byte_mutations_never_panic(edits in prop::collection::vec((0usize..SAMPLE.len(), any::<u8>(), 0u8..3), 1..8)) {
        let mut bytes = SAMPLE.as_bytes().to_vec();
        for (pos, b, op) in edits {
            let pos = pos.min(bytes.len().saturating_sub(1));
            match op {
                0 if !bytes.is_empty() => bytes[pos] = b,
                1 => bytes.insert(pos, b),
                _ if !bytes.is_empty() => { bytes.remove(pos); }
                _ => {}
            }
        }
        // Invalid UTF-8 must be an error, not a panic.
        let _ = storalloc_traces::JobStream::from_reader(&bytes[..], std::path::Path::new("x")).count();
        if let Ok(text) = String::from_utf8(bytes) {
            check(&text);
        }
    }

    #[test]
    fn yaml_special_characters_never_panic(
        pos in 0usize..SAMPLE.len(),
        junk in "[-:'\"\\[\\]{}#&*!|>%@` \n0-9a-z]{0,24}",
        cut in 0usize..SAMPLE.len(),
    ) {
        let mut text = SAMPLE.to_string();
        let pos = (0..=pos).rev().find(|p| text.is_char_boundary(*p)).unwrap_or(0);
        text.insert_str(pos, &junk);
        check(&text);
        let cut = (0..=cut.min(text.len())).rev().find(|p| text.is_char_boundary(*p)).unwrap_or(0);
        check(&text[..cut]);
    }

    #[test]
    fn any_field_values_never_panic(start in ".{0,20}", end in ".{0,20}", rb in ".{0,12}", id in ".{0,8}") {
        let text = format!("jobs:\n- id: {id}\n  startTime: {start}\n  endTime: {end}\n  readBytes: {rb}\n  writtenBytes: 1\n");
        check(&text);
        let _ = parse_str(&text);
    }
}

/// Every job and job error of the general (event) path, or `Err` on a
/// fatal error.
fn event_items(
    text: &str,
) -> Result<Vec<Result<storalloc_traces::IOJob, storalloc_traces::JobError>>, String> {
    let mut out = Vec::new();
    for r in storalloc_traces::JobStream::from_reader(text.as_bytes(), std::path::Path::new("x")) {
        match r {
            Ok(j) => out.push(Ok(j)),
            Err(TraceError::Job { error, .. }) => out.push(Err(*error)),
            Err(e) => return Err(e.to_string()),
        }
    }
    Ok(out)
}

/// Whenever the fast path accepts a text, it must read exactly what the
/// general YAML parser reads; and the reader as a whole (fast path, then
/// the general parser from where the fast path gave up) must too.
fn same_as_event_path(text: &str) -> Result<(), TestCaseError> {
    let events = event_items(text);
    if let Some(fast) = storalloc_traces::reader::parse_str_fast(text) {
        prop_assert_eq!(Ok(fast), events.clone(), "input:\n{}", text);
    }
    let mut jobs = Vec::new();
    let whole = storalloc_traces::reader::read_str(text, ReadOptions { skip_invalid: true }, |j| {
        jobs.push(j)
    });
    match events {
        Ok(items) => {
            let summary = whole.map_err(|e| TestCaseError::fail(format!("{e} on\n{text}")))?;
            let want: Vec<_> = items
                .iter()
                .filter_map(|r| r.as_ref().ok().cloned())
                .collect();
            prop_assert_eq!(&jobs, &want, "input:\n{}", text);
            prop_assert_eq!(summary.jobs_skipped, items.len() - want.len());
        }
        Err(_) => prop_assert!(whole.is_err(), "the general parser fails on\n{}", text),
    }
    Ok(())
}

const JUNK: &str = "[-:'\"\\[\\]{}#&*!|>%@` 0-9a-z~]{0,10}";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1500))]

    #[test]
    fn the_fast_path_agrees_with_the_yaml_parser(
        ops in prop::collection::vec((0usize..64, 0u8..6, JUNK), 0..6),
    ) {
        let mut lines: Vec<String> = SAMPLE.lines().map(str::to_string).collect();
        for (i, op, junk) in ops {
            if lines.is_empty() {
                break;
            }
            let i = i % lines.len();
            match op {
                0 => { lines.remove(i); }
                1 => { let l = lines[i].clone(); lines.insert(i, l); }
                2 => lines[i] = format!("  {}", lines[i]),
                3 => lines[i] = lines[i].strip_prefix("  ").unwrap_or(&lines[i]).to_string(),
                4 => {
                    // Replace the value after the key.
                    if let Some((k, _)) = lines[i].split_once(": ") {
                        lines[i] = format!("{k}: {junk}");
                    } else {
                        lines[i] = format!("{}{junk}", lines[i]);
                    }
                }
                _ => lines.insert(i, junk),
            }
        }
        let text = lines.join("\n") + "\n";
        same_as_event_path(&text)?;
    }
}

#[test]
fn the_fast_path_reads_the_shared_traces_like_the_yaml_parser() {
    for name in ["theta2022_week4.yaml", "theta2022_week6.yaml"] {
        let p = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/data/traces")
            .join(name);
        let text = std::fs::read_to_string(p).unwrap();
        let fast = storalloc_traces::reader::parse_str_fast(&text)
            .expect("the shared traces are in the fast subset");
        assert!(fast.len() > 200);
        assert_eq!(Ok(fast), event_items(&text));
    }
    let written =
        storalloc_traces::write_iojobs(Vec::new(), &parse_str(SAMPLE).unwrap_or_default()).unwrap();
    let written = String::from_utf8(written).unwrap();
    assert!(storalloc_traces::reader::parse_str_fast(&written).is_some());
}

/// Found by `any_field_values_never_panic`: with job errors skipped, this
/// trace drove the reader back to the top level at the end of the stream,
/// where it asked the parser for events forever. Run on a thread with a
/// deadline, so a regression fails instead of hanging the suite.
#[test]
fn a_trace_ending_inside_a_broken_job_ends_the_stream() {
    let text = "jobs:\n- id: \u{a031c}\r?\n  startTime: \u{8}u\t\"\u{fbb44}}bJ\n  endTime: \u{6}\u{b9aa6}\u{468}z\u{f61aa}0{\n  readBytes: ?*\u{fffd}\t\u{202e}\n  writtenBytes: 1\n";
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        check(text);
        let skipped =
            storalloc_traces::reader::read_str(text, ReadOptions { skip_invalid: true }, |_| {});
        tx.send(skipped.is_err()).unwrap();
    });
    let ended_in_error = rx
        .recv_timeout(std::time::Duration::from_secs(30))
        .expect("the reader did not finish within 30 s");
    assert!(
        ended_in_error,
        "a trace cut inside a quoted value is an error"
    );
}
