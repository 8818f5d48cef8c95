//! Synthesis resamples a real trace, deterministically by seed.

use std::collections::HashSet;
use std::path::Path;
use storalloc_traces::reader::parse_str;
use storalloc_traces::synth::{Model, SynthError, SynthIoError, SynthOptions};
use storalloc_traces::{read_trace, IOJob, JobId, ReadOptions};

fn week4() -> Vec<IOJob> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/traces/theta2022_week4.yaml");
    let mut v = Vec::new();
    read_trace(&p, ReadOptions::default(), |j| v.push(j)).unwrap();
    v
}

fn synth(model: &Model, jobs: u64, seed: u64, gap_scale: f64) -> String {
    let out = model
        .write(
            SynthOptions {
                jobs,
                seed,
                gap_scale,
            },
            Vec::new(),
        )
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn same_seed_same_trace_and_every_value_comes_from_the_source() {
    let src = week4();
    let model = Model::learn(src.clone()).unwrap();
    let a = synth(&model, 2000, 9, 1.0);
    assert_eq!(a, synth(&model, 2000, 9, 1.0));
    assert_ne!(a, synth(&model, 2000, 10, 1.0));

    let jobs = parse_str(&a).unwrap();
    assert_eq!(jobs.len(), 2000);
    assert_eq!(jobs[0].id, JobId::Int(1));
    let shapes: HashSet<(u64, u64, u64)> = src
        .iter()
        .map(|j| (j.read_bytes, j.written_bytes, j.duration().0))
        .collect();
    let mut starts: Vec<i64> = src.iter().map(|j| j.start_time.0).collect();
    starts.sort();
    let gaps: HashSet<i64> = starts.windows(2).map(|w| w[1] - w[0]).collect();
    assert_eq!(jobs[0].start_time.0, starts[0]);
    for w in jobs.windows(2) {
        assert!(gaps.contains(&(w[1].start_time.0 - w[0].start_time.0)));
    }
    for j in &jobs {
        assert!(shapes.contains(&(j.read_bytes, j.written_bytes, j.duration().0)));
    }
}

#[test]
fn gap_scale_packs_arrivals_denser() {
    let model = Model::learn(week4()).unwrap();
    let span = |text: &str| {
        let jobs = parse_str(text).unwrap();
        jobs.last().unwrap().start_time.0 - jobs[0].start_time.0
    };
    let full = span(&synth(&model, 1000, 1, 1.0));
    let tenth = span(&synth(&model, 1000, 1, 0.1));
    assert!(tenth * 9 < full && tenth * 11 > full, "{tenth} vs {full}");
}

#[test]
fn too_small_a_source_or_a_bad_scale_is_an_error() {
    assert!(matches!(
        Model::learn(week4()[..1].to_vec()),
        Err(SynthError::TooFewJobs(1))
    ));
    let model = Model::learn(week4()).unwrap();
    let r = model.write(
        SynthOptions {
            jobs: 3,
            seed: 0,
            gap_scale: f64::NAN,
        },
        Vec::new(),
    );
    assert!(matches!(
        r,
        Err(SynthIoError::Synth(SynthError::BadGapScale(_)))
    ));
}
