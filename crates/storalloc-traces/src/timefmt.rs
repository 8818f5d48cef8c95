//! The time forms traces use, parsed and written in one place.
//!
//! Trace times carry no zone; like the original we read them as UTC, so a
//! replay never depends on the machine's time zone. Instants use the core's
//! [`Timestamp`] forms; lengths of time add the pandas form the original's
//! `waitingTime` used.

use storalloc_core::{TimeSpan, Timestamp};

/// A trace time: `YYYY-MM-DD HH:MM:SS`, ISO 8601 with `T` (with `Z` or an
/// offset), or epoch seconds; the core's [`Timestamp`] parser.
pub fn parse_time(s: &str) -> Option<Timestamp> {
    s.trim().parse().ok()
}

/// `YYYY-MM-DD HH:MM:SS` in UTC, the original's format.
pub fn format_time(t: Timestamp) -> String {
    t.to_string()
}

/// Parses a length of time: whole seconds (integer or float, fraction
/// dropped), `HH:MM:SS`, or the pandas/Python forms `"0 days 01:23:49"` and
/// `"2 days, 01:23:49"` the original trace extractor wrote.
pub fn parse_span(s: &str) -> Option<TimeSpan> {
    let s = s.trim();
    if let Ok(v) = s.parse::<u64>() {
        return Some(TimeSpan(v));
    }
    if let Ok(v) = s.parse::<f64>() {
        return (0.0..1e15).contains(&v).then_some(TimeSpan(v as u64));
    }
    let (days, clock) = match s.split_once("day") {
        Some((d, rest)) => {
            let d: u64 = d.trim().parse().ok()?;
            let rest = rest.trim_start_matches('s').trim_start_matches(',').trim();
            (d, rest)
        }
        None => (0, s),
    };
    let parts: Vec<&str> = clock.split(':').collect();
    if parts.len() != 3 {
        return None;
    }
    let h: u64 = parts[0].trim().parse().ok()?;
    let m: u64 = parts[1].parse().ok()?;
    let sec: f64 = parts[2].parse().ok()?;
    if m >= 60 || !(0.0..60.0).contains(&sec) {
        return None;
    }
    Some(TimeSpan(
        days.checked_mul(86_400)?
            .checked_add(h.checked_mul(3600)?)?
            .checked_add(m * 60 + sec as u64)?,
    ))
}

/// `"N days HH:MM:SS"`, the form the original's IOJobs.yml uses for
/// `waitingTime`; days are always kept.
pub fn format_span_days(d: TimeSpan) -> String {
    let s = d.0;
    format!(
        "{} days {:02}:{:02}:{:02}",
        s / 86_400,
        (s % 86_400) / 3600,
        (s % 3600) / 60,
        s % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_time_form_gives_the_same_instant() {
        let want = Some(Timestamp(1_643_169_750));
        assert_eq!(parse_time("2022-01-26 04:02:30"), want);
        assert_eq!(parse_time("2022-01-26T04:02:30"), want);
        assert_eq!(parse_time("2022-01-26T04:02:30Z"), want);
        assert_eq!(parse_time("2022-01-26T05:02:30+01:00"), want);
        assert_eq!(parse_time("1643169750"), want);
        assert_eq!(format_time(Timestamp(1_643_169_750)), "2022-01-26 04:02:30");
    }

    #[test]
    fn bad_times_are_rejected() {
        for bad in [
            "",
            "yesterday",
            "2022-13-01 00:00:00",
            "2022-01-26",
            "12:00:00",
            "1e9",
        ] {
            assert_eq!(parse_time(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn spans_in_every_form() {
        assert_eq!(parse_span("0 days 01:23:49"), Some(TimeSpan(5029)));
        assert_eq!(
            parse_span("2 days, 01:00:00"),
            Some(TimeSpan(2 * 86_400 + 3600))
        );
        assert_eq!(parse_span("1 day, 00:00:01"), Some(TimeSpan(86_401)));
        assert_eq!(parse_span("01:00:00"), Some(TimeSpan(3600)));
        assert_eq!(parse_span("166"), Some(TimeSpan(166)));
        assert_eq!(parse_span("12.9"), Some(TimeSpan(12)));
        assert_eq!(parse_span("-1"), None);
        assert_eq!(parse_span("01:60:00"), None);
        assert_eq!(
            format_span_days(TimeSpan(2 * 86_400 + 5029)),
            "2 days 01:23:49"
        );
    }
}
