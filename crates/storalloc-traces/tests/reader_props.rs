//! Property tests: the reader never panics, whatever it is fed, and what
//! it accepts is valid.

use proptest::prelude::*;
use storalloc_traces::reader::parse_str;
use storalloc_traces::TraceError;

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
