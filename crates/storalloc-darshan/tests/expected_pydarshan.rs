//! Every shared real log decodes to exactly what pydarshan 3.5.0 reports.

mod common;

use serde_json::Value;
use storalloc_darshan::DarshanLog;

fn expected() -> serde_json::Map<String, Value> {
    let text = std::fs::read_to_string(common::data_dir().join("expected-pydarshan-3.5.0.json"))
        .expect("expected json");
    match serde_json::from_str(&text).expect("valid json") {
        Value::Object(map) => map,
        other => panic!("expected an object, got {other}"),
    }
}

#[test]
fn every_real_log_matches_pydarshan_field_for_field() {
    let expected = expected();
    let logs = common::real_logs();
    let found: Vec<&str> = logs.iter().map(|(rel, _)| rel.as_str()).collect();
    let listed: Vec<&str> = expected.keys().map(String::as_str).collect();
    assert_eq!(
        found, listed,
        "the logs on disk and in the expected file differ"
    );

    for (rel, path) in &logs {
        let want = &expected[rel];
        let log = DarshanLog::open(path).unwrap_or_else(|e| panic!("{rel}: {e}"));
        let got = log.summary();
        let io: serde_json::Map<String, Value> = got
            .io
            .iter()
            .map(|(m, t)| {
                (
                    m.to_string(),
                    serde_json::json!({
                        "records": t.records,
                        "bytes_read": t.bytes_read,
                        "bytes_written": t.bytes_written,
                    }),
                )
            })
            .collect();
        let got = serde_json::json!({
            "log_version": got.log_version,
            "jobid": got.jobid,
            "uid": got.uid,
            "nprocs": got.nprocs,
            "start_time_sec": got.start_time_sec,
            "end_time_sec": got.end_time_sec,
            "exe": got.exe,
            "modules": got.modules,
            "name_records": got.name_records,
            "partial": got.partial,
            "io": io,
        });
        let want_obj = want.as_object().expect("object per log");
        for (field, want_value) in want_obj {
            assert_eq!(&got[field], want_value, "{rel}: field {field}");
        }
        assert_eq!(
            got.as_object().map(|o| o.len()),
            Some(want_obj.len()),
            "{rel}: field set differs"
        );
    }
}
