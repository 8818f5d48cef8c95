use super::*;
use proptest::prelude::*;

fn span(s: &str) -> Result<TimeSpan, UnitError> {
    s.parse()
}

fn ts(s: &str) -> Result<Timestamp, UnitError> {
    s.parse()
}

#[test]
fn every_slurm_form() {
    assert_eq!(span("90"), Ok(TimeSpan(90 * 60)));
    assert_eq!(span("5:30"), Ok(TimeSpan(5 * 60 + 30)));
    assert_eq!(span("01:02:03"), Ok(TimeSpan(3723)));
    assert_eq!(span("100:00:00"), Ok(TimeSpan(360_000)));
    assert_eq!(span("2-3"), Ok(TimeSpan(2 * 86400 + 3 * 3600)));
    assert_eq!(span("2-3:04"), Ok(TimeSpan(2 * 86400 + 3 * 3600 + 240)));
    assert_eq!(span("2-03:04:05"), Ok(TimeSpan(2 * 86400 + 3 * 3600 + 245)));
    assert_eq!(span("0"), Ok(TimeSpan(0)));
}

#[test]
fn suffixed_forms() {
    assert_eq!(span("30s"), Ok(TimeSpan(30)));
    assert_eq!(span("90m"), Ok(TimeSpan(5400)));
    assert_eq!(span("2h"), Ok(TimeSpan(7200)));
    assert_eq!(span("1d"), Ok(TimeSpan(86400)));
    assert_eq!(span(" 2 h "), Ok(TimeSpan(7200)));
}

#[test]
fn bad_durations_name_the_value() {
    for s in [
        "",
        "abc",
        "-5",
        "1.5h",
        "1:60",
        "1:2:3:4",
        "1-24",
        "1-2:60",
        "1-2:3:60",
        "x-1",
        "1-",
        ":",
        "1::2",
        "5w",
        "h",
        "+5",
        "18446744073709551615d",
        "1-1-1",
    ] {
        let err = span(s).unwrap_err();
        assert_eq!(err, UnitError::Duration(s.to_string()));
        assert!(err.to_string().contains(&format!("{s:?}")));
    }
}

#[test]
fn duration_display_is_slurm() {
    assert_eq!(TimeSpan(3723).to_string(), "01:02:03");
    assert_eq!(TimeSpan(0).to_string(), "00:00:00");
    assert_eq!(TimeSpan(86400 + 59).to_string(), "1-00:00:59");
    assert_eq!(TimeSpan(3 * 86400 + 23 * 3600).to_string(), "3-23:00:00");
}

#[test]
fn timestamp_forms() {
    let want = Timestamp(1_706_695_200); // 2024-01-31 10:00:00 UTC
    assert_eq!(ts("2024-01-31 10:00:00"), Ok(want));
    assert_eq!(ts("2024-01-31T10:00:00"), Ok(want));
    assert_eq!(ts("2024-01-31T10:00:00Z"), Ok(want));
    assert_eq!(ts("2024-01-31T12:00:00+02:00"), Ok(want));
    assert_eq!(ts("2024-01-31T10:00:00.75Z"), Ok(want));
    assert_eq!(ts("1706695200"), Ok(want));
    assert_eq!(ts("-60"), Ok(Timestamp(-60)));
    assert_eq!(want.to_string(), "2024-01-31 10:00:00");
}

#[test]
fn bad_timestamps_name_the_value() {
    for s in [
        "",
        "yesterday",
        "2024-13-01 00:00:00",
        "2024-01-31",
        "2024-01-31 25:00:00",
        "1.5",
        "99999999999999999999",
        "-",
        "2024-01-31T10:00:00+25:00",
    ] {
        let err = ts(s).unwrap_err();
        assert_eq!(err, UnitError::Timestamp(s.to_string()));
    }
}

#[test]
fn far_instants_display_as_epoch_seconds() {
    assert_eq!(Timestamp(i64::MAX).to_string(), i64::MAX.to_string());
    assert_eq!(
        ts(&Timestamp(i64::MIN).to_string()),
        Ok(Timestamp(i64::MIN))
    );
}

proptest! {
    #[test]
    fn span_round_trips(v in any::<u64>()) {
        prop_assert_eq!(span(&TimeSpan(v).to_string()), Ok(TimeSpan(v)));
    }

    #[test]
    fn timestamp_round_trips(v in any::<i64>()) {
        prop_assert_eq!(ts(&Timestamp(v).to_string()), Ok(Timestamp(v)));
    }

    #[test]
    fn timestamp_round_trips_in_common_years(v in -62_167_219_200i64..253_402_300_799) {
        let shown = Timestamp(v).to_string();
        prop_assert!(shown.contains('-') && shown.contains(':'), "{}", shown);
        prop_assert_eq!(ts(&shown), Ok(Timestamp(v)));
    }

    #[test]
    fn arbitrary_strings_never_panic(s in any::<String>()) {
        let _ = span(&s);
        let _ = ts(&s);
    }

    #[test]
    fn clock_like_strings_never_panic(s in "[-0-9:Tsmhd +Z.]{0,30}") {
        let _ = span(&s);
        let _ = ts(&s);
    }
}
